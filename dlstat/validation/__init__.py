"""Splitting data: partitions and fold makers (also scikit-learn splitters)."""

from .folds import Folds, foldid_folds, group_kfold, kfold, repeated_kfold, stratified_kfold
from .partition import Partition, partition

__all__ = ["Folds", "Partition", "foldid_folds", "group_kfold", "kfold", "partition",
           "repeated_kfold", "stratified_kfold"]
