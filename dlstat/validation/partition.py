"""``partition()``: train / validation / test frames, as the courses teach them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError, OptionError
from ..options import PARTITION, check_arguments
from .folds import label_codes


@dataclass
class Partition:
    """Three data frames with the original index kept."""

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame

    def __iter__(self):
        return iter((self.train, self.validation, self.test))

    def __repr__(self) -> str:
        return (f"<Partition: train {len(self.train)} rows, validation {len(self.validation)}, "
                f"test {len(self.test)}>")


def partition(data: pd.DataFrame, validation: float = 0.2, test: float = 0.2,
              stratify: str | None = None, groups: str | None = None,
              seed: int | None = None) -> Partition:
    """Split ``data`` into training, validation and test parts.

    ``stratify`` (a column) keeps class proportions in each part; ``groups`` (a column) keeps
    every group within one part.  The same seed gives the same parts.

    Parameters
    ----------
    data : pandas.DataFrame
        The rows to split; the parts keep its index.

    Returns
    -------
    Partition
        ``train``, ``validation`` and ``test`` data frames (it also unpacks as a tuple).

    Raises
    ------
    DataError
        Empty ``data``, or a ``stratify``/``groups`` name that is not a column.
    OptionError
        Fractions summing to 1 or more, or both ``stratify`` and ``groups``.

    Examples
    --------
    >>> import dlstat as dl
    >>> train, valid, test = dl.partition(dl.datasets.load("iris"), stratify="Species", seed=1)
    >>> len(train), len(valid), len(test)
    (90, 30, 30)
    >>> test["Species"].value_counts().tolist()
    [10, 10, 10]
    """
    if not isinstance(data, pd.DataFrame) or len(data) == 0:
        raise DataError("partition() needs a non-empty pandas DataFrame.")
    check_arguments(PARTITION, validation=validation, test=test, stratify=stratify,
                    groups=groups, seed=seed)
    if validation + test >= 1:
        raise OptionError(
            f"validation + test = {validation + test:g} leaves no training rows; make the "
            "fractions sum to less than 1 (e.g. validation=0.2, test=0.2)."
        )
    for name, col in (("stratify", stratify), ("groups", groups)):
        if col is not None and col not in data.columns:
            raise DataError(f"{name}={col!r} is not a column of the data; columns are "
                            f"{list(map(str, data.columns))[:12]}.")
    if stratify is not None and groups is not None:
        raise OptionError("give stratify= or groups=, not both: a partition cannot both keep "
                          "groups whole and balance classes exactly.")
    n = len(data)
    rng = np.random.default_rng([0 if seed is None else int(seed), 5])
    targets = np.array([n - round(validation * n) - round(test * n), round(validation * n),
                        round(test * n)], dtype=float)
    if groups is not None:
        part = _group_parts(label_codes(data[groups].to_numpy(), n, "groups"), targets, rng)
    else:
        strata = (label_codes(data[stratify].to_numpy(), n, "stratify") if stratify is not None
                  else np.zeros(n, np.int64))
        part = _stratified_parts(strata, targets, rng)
    if not (part == 0).any():
        raise DataError("the partition left no training rows; use smaller fractions or more data.")
    return Partition(data.iloc[np.flatnonzero(part == 0)], data.iloc[np.flatnonzero(part == 1)],
                     data.iloc[np.flatnonzero(part == 2)])


def _stratified_parts(strata: np.ndarray, targets: np.ndarray,
                      rng: np.random.Generator) -> np.ndarray:
    """Parts per row: overall sizes as ``targets``, each class shared out in proportion
    (largest remainder, ties at random), so small classes do not round parts away."""
    counts = np.bincount(strata)
    share = counts[:, None] * targets[None, :] / targets.sum()  # [classes, 3]
    alloc = np.floor(share).astype(np.int64)
    for j in (1, 2, 0):
        missing = int(targets[j]) - alloc[:, j].sum()
        room = counts - alloc.sum(axis=1)
        order = np.lexsort((rng.random(len(counts)), -(share[:, j] - alloc[:, j])))
        for c in order:
            if missing <= 0:
                break
            if room[c] > 0:
                alloc[c, j] += 1
                room[c] -= 1
                missing -= 1
    alloc[:, 0] = counts - alloc[:, 1] - alloc[:, 2]
    part = np.zeros(len(strata), np.int64)
    for c in range(len(counts)):
        rows = rng.permutation(np.flatnonzero(strata == c))
        part[rows[: alloc[c, 2]]] = 2
        part[rows[alloc[c, 2]: alloc[c, 2] + alloc[c, 1]]] = 1
    return part


def _group_parts(labels: np.ndarray, targets: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
    """Whole groups into parts: largest groups first (ties at random), each into the part
    furthest below its target size."""
    sizes = np.bincount(labels)
    order = rng.permutation(len(sizes))
    order = order[np.argsort(-sizes[order], kind="stable")]
    filled = np.zeros(3)
    part_of = np.zeros(len(sizes), np.int64)
    for g in order:
        j = int(np.argmax(targets - filled))
        part_of[g] = j
        filled[j] += sizes[g]
    return part_of[labels]
