"""``CVResult``: cross-validation of a network, with the result protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from ..families import Family
from .fit import DNNFit
from .protocol import Result, Summary, check_metric, items_table, mean_sd_se

FOLD_COLUMNS = ("repeat", "fold", "n_train", "n_test", "n_unpredicted")


@dataclass
class OutOfFold:
    """The held-out rows of the folds: which fold network (``split``, an index into
    ``CVResult.fits``, which also fixes the repeat) predicted each, its natural-scale
    response, that network's mean and the row's weight (prior × trials)."""

    split: np.ndarray
    y: np.ndarray
    mu: np.ndarray
    weights: np.ndarray

    @classmethod
    def join(cls, parts: list[OutOfFold]) -> OutOfFold:
        """One table of every fold's rows."""
        return cls(np.concatenate([p.split for p in parts]),
                   np.vstack([p.y for p in parts]), np.vstack([p.mu for p in parts]),
                   np.concatenate([p.weights for p in parts]))


@dataclass(repr=False)
class CVResult(Result):
    """Cross-validation of a network: per-fold metrics, mean ± SE, out-of-fold predictions.

    Built by :func:`dlstat.cv_dnn`; printing it shows :meth:`summary`.

    Attributes
    ----------
    call : str
        The call as it would be typed.
    family : Family
        The response family.
    metrics : pandas.DataFrame
        One row per (repeat, fold): sizes and the family's held-out metrics.
    predictions : pandas.Series or pandas.DataFrame
        Out-of-fold predictions aligned to the data (NA where a row was not predicted).
    fold_ids : pandas.Series
        The 0-based fold of each row in the first repeat.
    fits : list of DNNFit
        The folds' networks.
    notes : list of str
        Numbered notes of the summary.

    Examples
    --------
    >>> import dlstat as dl
    >>> cv = dl.cv_dnn("mpg ~ wt", dl.datasets.load("mtcars"), folds=4, hidden=(),
    ...                optimizer="lbfgs", verbose=0)
    >>> list(cv.tidy().columns[:4])
    ['metric', 'mean', 'sd', 'se']
    """

    call: str
    family: Family
    metrics: pd.DataFrame  # one row per (repeat, fold)
    predictions: pd.Series | pd.DataFrame  # out-of-fold, aligned to data (NA where unseen)
    fold_ids: pd.Series  # 0-based fold per row of data (NA for dropped rows), first repeat
    fits: list[DNNFit]
    notes: list[str]
    out_of_fold: OutOfFold | None = None  # the held-out rows' responses and means (CV+)

    @property
    def metric_names(self) -> list[str]:
        """The held-out metrics (columns of ``metrics`` that are not fold bookkeeping)."""
        return [c for c in self.metrics.columns if c not in FOLD_COLUMNS]

    @property
    def summary_table(self) -> pd.DataFrame:
        """mean, sd and standard error of every metric over the fold rows: SE = sd/√(number
        of fold fits) — cv.glmnet's sd/√k for one repeat."""
        return _named(mean_sd_se(self.metrics[self.metric_names]))

    @property
    def test_metrics(self) -> pd.DataFrame | None:
        """Each fold network's metrics on the ``test=`` frame (one row per fold), or None."""
        rows = [fit.record.metrics["test"] for fit in self.fits if "test" in fit.record.metrics]
        return pd.DataFrame(rows) if rows and len(rows) == len(self.fits) else None

    @property
    def test_table(self) -> pd.DataFrame | None:
        """mean, sd and SE over the fold networks of their metrics on the test set."""
        test = self.test_metrics
        return None if test is None else _named(mean_sd_se(test))

    @property
    def n_folds(self) -> int:
        return int(self.metrics["fold"].nunique())

    @property
    def n_repeats(self) -> int:
        return int(self.metrics["repeat"].nunique())

    def predict(self, newdata: Any, type: str = "response", interval: str = "none",
                level: float = 0.95, unseen: str | None = None,
                weights: Any = None) -> pd.Series | pd.DataFrame:
        """The fold networks' mean prediction for ``newdata`` (``type="response"``); with
        ``interval="prediction"`` also ``lwr`` and ``upr``, the CV+ interval at ``level``
        (Barber et al. 2021) from the out-of-fold residuals, and for a classifier
        ``type="set"`` the CV+ set of classes (one logical column per class).  ``weights``:
        the new rows' prior weights, as :meth:`DNNFit.predict`.  One repeat only."""
        from .prediction import cv_plus_frame

        return cv_plus_frame(self, newdata, type, interval, level, unseen, weights)

    def summary(self) -> Summary:
        """Held-out metrics (mean, sd, se), the per-fold table and, with ``test=``, the test
        set's metrics over the fold networks."""
        design = items_table([("Family", self.family.name),
                              ("Observations", int(self.fold_ids.notna().sum())),
                              ("Folds", self.n_folds), ("Repeats", self.n_repeats)])
        tables = {"design": design, "metrics": self.summary_table, "folds": self.metrics}
        layouts = {"design": "items"}
        captions = {"design": "Cross-validation",
                    "metrics": "Held-out metrics (mean, sd, se = sd / sqrt(folds))",
                    "folds": "Per fold"}
        if self.test_table is not None:
            tables["test"] = self.test_table
            captions["test"] = "Test set, scored by every fold's network (mean, sd, se)"
        from .prediction import cv_coverage

        coverage, coverage_notes = cv_coverage(self)
        if coverage:
            tables.update(coverage)
            captions["prediction"] = "CV+ prediction intervals or sets, on the test rows"
            layouts["prediction"] = "items"
        title = f"{self.n_folds}-fold cross-validation" + (
            f", {self.n_repeats} repeats" if self.n_repeats > 1 else "")
        return Summary(title, self.call, tables, list(self.notes) + coverage_notes, captions,
                       layouts=layouts)

    def tidy(self) -> pd.DataFrame:
        """One row per metric: ``metric``, ``mean``, ``sd``, ``se`` (and ``test_mean``,
        ``test_sd``, ``test_se`` with ``test=``)."""
        table = self.summary_table
        if self.test_table is not None:
            table = table.join(self.test_table.add_prefix("test_"))
        return table.reset_index()

    def glance(self) -> pd.DataFrame:
        """One row: family, folds, repeats, nobs, each metric's mean and ``<metric>_se``
        (and ``test_<metric>``, the test set's mean over the fold networks)."""
        row = {"family": self.family.name, "folds": self.n_folds, "repeats": self.n_repeats,
               "nobs": int(self.fold_ids.notna().sum())}
        for metric, stats in self.summary_table.iterrows():
            row[metric] = stats["mean"]
            row[f"{metric}_se"] = stats["se"]
        if self.test_table is not None:
            row.update({f"test_{m}": v for m, v in self.test_table["mean"].items()})
        return pd.DataFrame([row])

    def augment(self, data: pd.DataFrame | None = None) -> pd.DataFrame:
        """``data`` (the frame given to ``cv_dnn``) with the out-of-fold predictions beside it:
        ``.fitted`` (or ``.prob_<level>`` for a multinomial model) and ``.fold`` (1-based, as
        the ``fold`` column of ``metrics``; NA for rows left out).  Without ``data``, only
        those columns, on the data's index."""
        index = self.predictions.index
        if data is None:
            out = pd.DataFrame(index=index)
        elif isinstance(data, pd.DataFrame) and data.index.equals(index):
            out = data.copy()
        else:
            got = (f"a frame of {len(data)} rows" + (" with another index" if len(data) ==
                                                      len(index) else "")
                   if isinstance(data, pd.DataFrame) else f"a {type(data).__name__}")
            raise DataError(f"augment() needs the data cv_dnn() was run on ({len(index)} rows, "
                            f"the same index); got {got}. Pass that frame, or no data.")
        if isinstance(self.predictions, pd.DataFrame):
            for level in self.predictions.columns:
                out[f".prob_{level}"] = self.predictions[level].to_numpy()
        else:
            out[".fitted"] = self.predictions.to_numpy()
        out[".fold"] = (self.fold_ids + 1).array
        return out

    def plot(self, metric: str | None = None, ax=None):
        """Per-fold values of a metric with their mean ± SE; returns the Figure."""
        from .plots import plot_folds

        metric = check_metric(metric or "mean_deviance", self.metric_names)
        return plot_folds(self.metrics, metric, self.summary_table.loc[metric], ax=ax)


def _named(table: pd.DataFrame) -> pd.DataFrame:
    table.index.name = "metric"
    return table

