"""The fronts over the Python API: scikit-learn estimators, the CLI and the R bridges."""
