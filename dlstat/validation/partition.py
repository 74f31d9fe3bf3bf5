"""``partition()``: train / validation / test frames, as the courses teach them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError, OptionError
from .folds import _labels


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
    """
    if not isinstance(data, pd.DataFrame) or len(data) == 0:
        raise DataError("partition() needs a non-empty pandas DataFrame.")
    for name, frac in (("validation", validation), ("test", test)):
        if isinstance(frac, bool) or not isinstance(frac, (int, float)) or not 0 <= frac < 1:
            raise OptionError(f"{name} must be a fraction in [0, 1); got {frac!r}.")
    if validation + test >= 1:
        raise OptionError(
            f"validation + test = {validation + test:g} leaves no training rows; make the "
            "fractions sum to less than 1 (e.g. validation=0.2, test=0.2)."
        )
    for name, col in (("stratify", stratify), ("groups", groups)):
        if col is not None and col not in data.columns:
            raise DataError(f"{name}={col!r} is not a column of the data; columns are "
                            f"{list(map(str, data.columns))[:12]}.")
    n = len(data)
    rng = np.random.default_rng([0 if seed is None else int(seed), 5])
    part = np.zeros(n, np.int64)  # 0 train, 1 validation, 2 test
    if groups is not None:
        labels = _labels(data[groups].to_numpy(), n, "groups")
        sizes = np.bincount(labels)
        order = rng.permutation(len(sizes))
        cum = np.cumsum(sizes[order]) / n
        group_part = np.where(cum <= test + 1e-12, 2, np.where(cum <= test + validation + 1e-12,
                                                                1, 0))
        mapping = np.empty(len(sizes), np.int64)
        mapping[order] = group_part
        part = mapping[labels]
    else:
        strata = (_labels(data[stratify].to_numpy(), n, "stratify") if stratify is not None
                  else np.zeros(n, np.int64))
        for c in np.unique(strata):
            rows = rng.permutation(np.flatnonzero(strata == c))
            n_test = int(round(test * len(rows)))
            n_val = int(round(validation * len(rows)))
            part[rows[:n_test]] = 2
            part[rows[n_test:n_test + n_val]] = 1
    if not (part == 0).any():
        raise DataError("the partition left no training rows; use smaller fractions or more data.")
    return Partition(data.iloc[np.flatnonzero(part == 0)], data.iloc[np.flatnonzero(part == 1)],
                     data.iloc[np.flatnonzero(part == 2)])
