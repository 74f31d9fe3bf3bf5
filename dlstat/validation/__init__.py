"""The validation layer: partitions, folds, cross-validation and comparisons."""

from .folds import Folds, foldid_folds, group_kfold, kfold, repeated_kfold, stratified_kfold
from .partition import Partition, partition

__all__ = ["Folds", "Partition", "foldid_folds", "group_kfold", "kfold", "partition",
           "repeated_kfold", "stratified_kfold"]
