"""``Comparison``: the null model, the GLM and networks on the same folds, with the protocol."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import OptionError
from ..families import Family
from .protocol import Result, Summary, check_metric, items_table, new_figure

FOLD_COLUMNS = ("model", "repeat", "fold", "n_test")
HIGHER_IS_BETTER = ("accuracy", "auc", "r_squared")


@dataclass(repr=False)
class Comparison(Result):
    """Held-out metrics of every model on every fold, summarised with paired differences.

    Built by :func:`dlstat.compare`; printing it shows :meth:`summary`.

    Attributes
    ----------
    call : str
        The call as it would be typed.
    family : Family
        The response family.
    folds : pandas.DataFrame
        One row per (model, repeat, fold) with the held-out metrics.
    notes : list of str
        Numbered notes of the summary.
    test : pandas.DataFrame or None
        The same metrics on a ``test=`` frame, when one was given.

    Examples
    --------
    >>> import dlstat as dl
    >>> cmp = dl.compare("mpg ~ wt", dl.datasets.load("mtcars"), folds=4, hidden=(),
    ...                  optimizer="lbfgs", verbose=0)
    >>> cmp.winner() in ("null", "glm", "dnn")
    True
    """

    call: str
    family: Family
    folds: pd.DataFrame  # one row per (model, repeat, fold)
    notes: list[str]
    test: pd.DataFrame | None = None  # the same, scored on the test= frame

    @property
    def metric_names(self) -> list[str]:
        """The compared metrics (the summed ``deviance`` is left out: folds differ in size)."""
        return [c for c in self.folds.columns if c not in FOLD_COLUMNS and c != "deviance"]

    @property
    def table(self) -> pd.DataFrame:
        """mean and SE (sd/√folds) of each metric per model; columns (metric, statistic)."""
        return _mean_se(self.folds, self.metric_names)

    @property
    def differences(self) -> pd.DataFrame:
        """Each model minus the GLM, paired by fold: mean difference, its SE, and t = mean/SE."""
        metrics = self.metric_names
        wide = self.folds.set_index(["model", "repeat", "fold"])[metrics]
        glm = wide.xs("glm", level="model")
        rows = []
        for model in self.folds["model"].unique():
            if model == "glm":
                continue
            diff = wide.xs(model, level="model") - glm
            for metric in metrics:
                d = diff[metric].dropna()
                se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else np.nan
                rows.append({"model": model, "metric": metric, "difference": d.mean(),
                             "se": se, "t": d.mean() / se if se and se > 0 else np.nan})
        return pd.DataFrame(rows)

    def winner(self, metric: str = "mean_deviance", test: bool = False) -> str:
        """The model with the best mean of ``metric`` (lowest, or highest for scores), held
        out (default) or on the test set (``test=True``)."""
        if test and self.test is None:
            raise OptionError("winner(test=True) needs a test set; this comparison was run "
                              "without one. Pass test=<data frame> to compare().")
        frame = self.test if test else self.folds
        means = frame.groupby("model", sort=False)[metric].mean()
        return str(means.idxmax() if metric in HIGHER_IS_BETTER else means.idxmin())

    @property
    def n_folds(self) -> int:
        return int(self.folds["fold"].nunique())

    def summary(self) -> Summary:
        """Mean and SE per model, paired differences from the GLM, the best model and, with
        ``test=``, every model's metrics on the test set."""
        design = items_table([("Family", self.family.name), ("Folds", self.n_folds),
                              ("Models", ", ".join(self.folds["model"].unique()))])
        choice = [("Best mean held-out deviance", self.winner())]
        tables = {"design": design, "metrics": _flat(self.table), "differences":
                  self.differences}
        captions = {"design": "Comparison", "metrics": "Held-out metrics (mean, se = sd / "
                    "sqrt(folds))", "differences": "Paired differences from the GLM "
                    "(negative deviance = better than the GLM)", "choice": "Choice"}
        if self.test is not None:
            tables["test"] = _flat(_mean_se(self.test, self.metric_names))
            captions["test"] = "Test set, scored by every fold's models (mean, se)"
            choice.append(("Best mean test deviance", self.winner(test=True)))
        tables["choice"] = items_table(choice)
        return Summary(f"Comparison on the same {self.n_folds} folds", self.call, tables,
                       list(self.notes), captions, layouts={"design": "items",
                                                             "choice": "items"})

    def tidy(self) -> pd.DataFrame:
        """One row per (model, metric): ``mean`` and ``se`` held out (and ``test_mean``,
        ``test_se`` on the test set)."""
        long = _long(self.table)
        if self.test is not None:
            test = _long(_mean_se(self.test, self.metric_names))  # same models, same order
            long["test_mean"] = test["mean"].to_numpy()
            long["test_se"] = test["se"].to_numpy()
        return long

    def glance(self) -> pd.DataFrame:
        """One row: family, folds, models, winner (and ``test_winner`` with ``test=``)."""
        row = {"family": self.family.name, "folds": self.n_folds,
               "models": int(self.folds["model"].nunique()), "winner": self.winner()}
        if self.test is not None:
            row["test_winner"] = self.winner(test=True)
        return pd.DataFrame([row])

    def plot(self, metric: str = "mean_deviance", ax=None):
        """Mean ± SE of ``metric`` per model; returns the Figure."""
        check_metric(metric, self.metric_names)
        fig, ax = new_figure(ax)
        t = self.table[metric]
        ax.errorbar(range(len(t)), t["mean"], yerr=t["se"], fmt="o", capsize=4)
        ax.set_xticks(range(len(t)), t.index)
        ax.set_xlabel("model")
        ax.set_ylabel(f"held-out {metric} (mean ± SE)")
        return fig


def _mean_se(folds: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Per model, mean and SE = sd/√(fold rows) of every metric; columns (metric, stat)."""
    g = folds.groupby("model", sort=False)[metrics]
    n = g.size().to_numpy()[:, None]
    mean, se = g.mean(), g.std(ddof=1) / np.sqrt(n)
    return pd.concat({"mean": mean, "se": se}, axis=1).swaplevel(axis=1).sort_index(
        axis=1, level=0, sort_remaining=False)[metrics]


def _flat(table: pd.DataFrame) -> pd.DataFrame:
    """(metric, stat) columns as ``<metric>_mean``, ``<metric>_se`` (one header row)."""
    flat = table.copy()
    flat.columns = [f"{metric}_{stat}" for metric, stat in table.columns]
    return flat


def _long(table: pd.DataFrame) -> pd.DataFrame:
    """(metric, stat) columns as rows: model, metric, mean, se (R's ``tidy()``)."""
    metrics = list(dict.fromkeys(metric for metric, _ in table.columns))
    rows = [{"model": str(model), "metric": metric, "mean": table.loc[model, (metric, "mean")],
             "se": table.loc[model, (metric, "se")]} for model in table.index for metric in metrics]
    return pd.DataFrame(rows, columns=["model", "metric", "mean", "se"])
