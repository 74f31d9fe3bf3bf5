"""dlstat: neural networks with the habits of ``lm()`` and ``glm()``.

``import dlstat`` is light: TensorFlow, formulaic and matplotlib load only when they are needed.
"""

from __future__ import annotations

import importlib
from typing import Any

from .architecture import (
    activation,
    avgpool,
    batchnorm,
    bidirectional,
    conv1d,
    conv2d,
    dense,
    dropout,
    embedding,
    flatten,
    global_avgpool,
    gru,
    lstm,
    maxpool,
    reshape,
    rnn,
)
from .errors import (
    ClusterError,
    DataError,
    DivergenceError,
    DlstatError,
    DlstatWarning,
    FormulaError,
    ModelFileError,
    OptionError,
    ResponseError,
    UnseenLevelError,
)

__version__ = "0.1.0"

_LAZY = {
    "dnn": ("fitting.dnn", "dnn"),
    "DNNFit": ("results.fit", "DNNFit"),
    "load": ("results.fit", "load"),
    "anova": ("results.anova", "anova"),
    "AnovaResult": ("results.anova", "AnovaResult"),
    "DNNRegressor": ("fronts.estimators", "DNNRegressor"),
    "DNNClassifier": ("fronts.estimators", "DNNClassifier"),
    "DNNRegressorCV": ("fronts.estimators", "DNNRegressorCV"),
    "DNNClassifierCV": ("fronts.estimators", "DNNClassifierCV"),
    "datasets": ("datasets", None),
    "cv_dnn": ("fitting.cv", "cv_dnn"),
    "CVResult": ("results.cv", "CVResult"),
    "compare": ("fitting.compare", "compare"),
    "Comparison": ("results.comparison", "Comparison"),
    "partition": ("validation.partition", "partition"),
    "dnn_path": ("fitting.path", "dnn_path"),
    "PathResult": ("results.path", "PathResult"),
    "tune_dnn": ("fitting.tune", "tune_dnn"),
    "TuneResult": ("results.tune", "TuneResult"),
    "Folds": ("validation.folds", "Folds"),
    "kfold": ("validation.folds", "kfold"),
    "stratified_kfold": ("validation.folds", "stratified_kfold"),
    "group_kfold": ("validation.folds", "group_kfold"),
    "repeated_kfold": ("validation.folds", "repeated_kfold"),
    "foldid_folds": ("validation.folds", "foldid_folds"),
    "base_features": ("transfer", "base_features"),
    "dask_client": ("scale", "dask_client"),
    "onehot": ("sequences", "onehot"),
    "kmer_codes": ("sequences", "kmer_codes"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'dlstat' has no attribute {name!r}")
    module, attr = _LAZY[name]
    mod = importlib.import_module(f".{module}", __name__)
    value = mod if attr is None else getattr(mod, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_LAZY))


__all__ = [
    "DNNClassifier", "DNNClassifierCV", "DNNFit", "DNNRegressorCV", "DNNRegressor", "DataError", "DivergenceError", "DlstatError",
    "DlstatWarning", "ClusterError",
    "FormulaError", "ModelFileError", "OptionError", "ResponseError", "UnseenLevelError",
    "AnovaResult", "CVResult", "Comparison", "anova", "Folds", "PathResult", "dnn_path", "TuneResult", "tune_dnn", "activation", "batchnorm", "compare", "cv_dnn",
    "datasets", "dense", "dnn", "dropout", "foldid_folds", "group_kfold", "kfold", "load", "partition",
    "repeated_kfold", "stratified_kfold",
    "avgpool", "conv1d", "conv2d", "flatten", "global_avgpool", "maxpool", "reshape",
    "bidirectional", "embedding", "gru", "lstm", "rnn",
    "base_features", "dask_client", "kmer_codes", "onehot",
]
