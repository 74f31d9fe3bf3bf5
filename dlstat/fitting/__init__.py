"""Fitting functions: dnn(), cv_dnn(), compare(), dnn_path(), over blocks trained as one stack."""
