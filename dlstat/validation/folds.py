"""Fold assignments (k-fold, stratified, grouped, repeated, user-given) and partitions.

A fold assignment is an integer array ``[repeats, n]`` of 0-based fold ids.  :class:`Folds`
also works as a scikit-learn splitter (``split``/``get_n_splits``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, OptionError, OptionTypeError
from ..options import CV, check_arguments


@dataclass
class Folds:
    """How rows are dealt into folds.

    Parameters
    ----------
    n_folds : int
        Number of folds (k >= 2).
    repeats : int
        Repeated k-fold: independent assignments, each with its own shuffle.
    stratify, groups : array-like or None
        Class labels to keep proportions in every fold; group labels never split across folds.
    foldid : array-like or None
        User-given fold ids (glmnet's ``foldid``), any labels; overrides the rest.
    seed : int or None
    """

    n_folds: int = 10
    repeats: int = 1
    stratify: Any = None
    groups: Any = None
    foldid: Any = None
    seed: int | None = None

    def assign(self, n: int) -> np.ndarray:
        """Fold ids ``[repeats, n]`` for ``n`` rows."""
        if self.foldid is not None:
            return _given(self.foldid, n)[None, :]
        if self.stratify is not None and self.groups is not None:
            raise OptionError("give stratify or groups, not both: folds cannot both keep "
                              "groups whole and balance classes exactly.")
        k = _check_k(self.n_folds, n)
        check_arguments(CV, repeats=self.repeats, seed=self.seed)
        rng = np.random.default_rng([0 if self.seed is None else int(self.seed), 11])
        repeats = int(self.repeats)
        out = np.empty((repeats, n), np.int64)
        for r in range(repeats):
            if self.groups is not None:
                out[r] = _grouped(label_codes(self.groups, n, "groups"), k, rng)
            elif self.stratify is not None:
                names = pd.factorize(pd.Series(np.asarray(self.stratify, dtype=object)),
                                     sort=True)[1]
                out[r] = _stratified(label_codes(self.stratify, n, "stratify"), k, rng,
                                     list(names))
            else:
                out[r] = rng.permutation(np.arange(n) % k)
        return out

    # scikit-learn splitter protocol
    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        if self.foldid is not None:
            return len(np.unique(np.asarray(self.foldid)))
        return self.n_folds * self.repeats

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[tuple[np.ndarray,
                                                                                 np.ndarray]]:
        ids = Folds(self.n_folds, self.repeats, self.stratify,
                    groups if groups is not None else self.groups, self.foldid,
                    self.seed).assign(len(X))
        for row in ids:
            for k in np.unique(row):
                yield np.flatnonzero(row != k), np.flatnonzero(row == k)


def kfold(n_folds: int = 10, seed: int | None = None) -> Folds:
    """Plain k-fold: rows shuffled and dealt into ``n_folds`` folds of near-equal size.

    Parameters
    ----------
    n_folds : int, default 10
        Number of folds (k >= 2).
    seed : int, optional
        The shuffle's seed (``None`` is seed 0): the same seed gives the same folds.

    Returns
    -------
    Folds
        The assignment, for ``foldid=`` of the fitting functions (``folds.assign(n)``) or as a
        scikit-learn splitter (``split``, ``get_n_splits``).

    Examples
    --------
    >>> import dlstat as dl
    >>> import numpy as np
    >>> np.bincount(dl.kfold(4, seed=1).assign(10)[0]).tolist()
    [3, 3, 2, 2]
    """
    return Folds(n_folds, seed=seed)


def stratified_kfold(n_folds: int, stratify: Any, seed: int | None = None) -> Folds:
    """k-fold keeping each class's share in every fold.

    Parameters
    ----------
    n_folds : int
        Number of folds (k >= 2).
    stratify : array-like
        One class label per row.
    seed : int, optional
        The shuffle's seed (``None`` is seed 0): the same seed gives the same folds.

    Returns
    -------
    Folds
        The assignment, for ``foldid=`` of the fitting functions (``folds.assign(n)``) or as a
        scikit-learn splitter (``split``, ``get_n_splits``).

    Examples
    --------
    >>> import dlstat as dl
    >>> folds = dl.stratified_kfold(2, stratify=["a"] * 4 + ["b"] * 4, seed=1)
    >>> folds.get_n_splits()
    2
    """
    return Folds(n_folds, stratify=stratify, seed=seed)


def group_kfold(n_folds: int, groups: Any, seed: int | None = None) -> Folds:
    """k-fold that never splits a group across folds.

    Parameters
    ----------
    n_folds : int
        Number of folds (k >= 2).
    groups : array-like
        One group label per row (e.g. a patient id).
    seed : int, optional
        The shuffle's seed (``None`` is seed 0): the same seed gives the same folds.

    Returns
    -------
    Folds
        The assignment, for ``foldid=`` of the fitting functions (``folds.assign(n)``) or as a
        scikit-learn splitter (``split``, ``get_n_splits``).

    Examples
    --------
    >>> import dlstat as dl
    >>> ids = dl.group_kfold(2, groups=[1, 1, 2, 2, 3, 3], seed=1).assign(6)[0]
    >>> bool(ids[0] == ids[1] and ids[2] == ids[3] and ids[4] == ids[5])
    True
    """
    return Folds(n_folds, groups=groups, seed=seed)


def repeated_kfold(n_folds: int, repeats: int, seed: int | None = None) -> Folds:
    """k-fold repeated with independent shuffles (``cv_dnn(..., repeats=)`` uses the same).

    Parameters
    ----------
    n_folds : int
        Number of folds (k >= 2).
    repeats : int
        Number of independent assignments.
    seed : int, optional
        The shuffle's seed (``None`` is seed 0): the same seed gives the same folds.

    Returns
    -------
    Folds
        The assignment, for ``foldid=`` of the fitting functions (``folds.assign(n)``) or as a
        scikit-learn splitter (``split``, ``get_n_splits``).

    Examples
    --------
    >>> import dlstat as dl
    >>> dl.repeated_kfold(3, repeats=2, seed=1).assign(9).shape
    (2, 9)
    """
    return Folds(n_folds, repeats=repeats, seed=seed)


def foldid_folds(foldid: Any) -> Folds:
    """User-given fold ids (glmnet's ``foldid``): any labels, one per row.

    Parameters
    ----------
    foldid : array-like
        The fold of every row; each distinct label is one fold.

    Returns
    -------
    Folds
        The assignment (labels recoded to 0-based fold ids in sorted order).

    Examples
    --------
    >>> import dlstat as dl
    >>> dl.foldid_folds([1, 2, 1, 2]).assign(4)[0].tolist()
    [0, 1, 0, 1]
    """
    return Folds(foldid=foldid)


def _check_k(k: Any, n: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise OptionTypeError(f"folds must be a whole number; got {k!r}.")
    if k < 2:
        raise OptionError(f"folds must be at least 2; got {k}. Use validation= for a single "
                          "held-out part.")
    if k > n:
        raise OptionError(f"folds={k} is more than the {n} rows available; use at most {n} "
                          "folds (leave-one-out).")
    return int(k)


def label_codes(values: Any, n: int, what: str) -> np.ndarray:
    """Integer codes ``0..k-1`` of ``n`` labels in sorted order, refusing a wrong length or
    missing labels (``what`` names them in the message)."""
    arr = np.asarray(values, dtype=object)
    if arr.shape != (n,):
        raise DataError(f"{what} must have one label per row ({n}); got shape {arr.shape}.")
    if pd.isna(pd.Series(arr)).any():
        raise DataError(f"{what} has missing labels; fill them in or drop those rows.")
    return pd.factorize(pd.Series(arr), sort=True)[0]


def _stratified(labels: np.ndarray, k: int, rng: np.random.Generator,
                names: list) -> np.ndarray:
    counts = np.bincount(labels)
    small = np.flatnonzero(counts < k)
    if len(small):
        raise OptionError(
            f"stratified {k}-fold needs at least {k} rows of every class; class(es) "
            f"{[names[i] for i in small]} have {counts[small].tolist()} rows. Use fewer folds "
            "or no stratification."
        )
    out = np.empty(len(labels), np.int64)
    offset = 0
    for c in range(len(counts)):
        rows = rng.permutation(np.flatnonzero(labels == c))
        # Continue the fold cycle where the previous class stopped, so fold sizes stay even.
        out[rows] = (np.arange(len(rows)) + offset) % k
        offset += len(rows)
    return out


def _grouped(labels: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    n_groups = labels.max() + 1
    if n_groups < k:
        raise OptionError(f"grouped {k}-fold needs at least {k} groups; the data has "
                          f"{n_groups}. Use fewer folds.")
    sizes = np.bincount(labels)
    order = rng.permutation(n_groups)
    # Largest groups first (ties in random order), each into the currently smallest fold.
    order = order[np.argsort(-sizes[order], kind="stable")]
    load = np.zeros(k, np.int64)
    fold_of_group = np.empty(n_groups, np.int64)
    for g in order:
        f = int(np.argmin(load))
        fold_of_group[g] = f
        load[f] += sizes[g]
    return fold_of_group[labels]


def _given(foldid: Any, n: int) -> np.ndarray:
    arr = np.asarray(foldid)
    if arr.shape != (n,):
        raise DataError(f"foldid must give one fold per row ({n}); got shape {arr.shape}.")
    codes = pd.factorize(pd.Series(arr), sort=True)[0]
    if (codes < 0).any():
        raise DataError("foldid has missing values; give every row a fold.")
    if codes.max() < 1:
        raise OptionError("foldid must name at least 2 different folds.")
    return codes.astype(np.int64)
