"""``TuneResult``: the configurations ``tune_dnn()`` cross-validated, with the result protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError
from ..families import Family
from .cv import CVResult
from .fit import DNNFit
from .protocol import Result, Summary, check_metric, items_table, new_figure

CRITERION = "mean_deviance"  # what the best minimises, as cv.glmnet's default deviance
CHOICES = ("best", "1se")


@dataclass(repr=False)
class TuneResult(Result):
    """Cross-validated configurations and the choice among them.

    Built by :func:`dlstat.tune_dnn`; printing it shows the table.

    Attributes
    ----------
    call : str
        The call as it would be typed.
    family : Family
        The response family.
    table : pandas.DataFrame
        One row per configuration: its tuned options, the engine call (``stack``) it trained
        in, and each held-out metric's mean and SE over the folds (``<metric>_mean``,
        ``<metric>_se``, as ``cv_dnn``'s ``tidy()``).
    best, one_se : int
        Rows of ``table``: the smallest mean deviance, and the simplest configuration within
        one SE of it (``dlstat.fitting.tune_grid.simplicity``).
    configurations : list of dict
        The tuned options of each row.
    cvs : list of CVResult
        Each configuration's cross-validation (its folds, predictions and networks).
    notes : list of str
        Numbered notes of the summary.
    """

    call: str
    family: Family
    table: pd.DataFrame
    best: int
    one_se: int
    configurations: list[dict[str, Any]]
    cvs: list[CVResult]
    notes: list[str]
    formula: str
    data: Any
    fixed: dict[str, Any]

    @classmethod
    def of(cls, call: str, family: Family, configs: list[dict[str, Any]],
           cvs: list[CVResult], stacks: list[int], formula: str, data: Any,
           fixed: dict[str, Any]) -> TuneResult:
        """The result of cross-validations ``cvs`` of ``configs`` (trained in ``stacks``)."""
        from ..fitting.tune_grid import simplicity

        rows = []
        for config, cv, stack in zip(configs, cvs, stacks):
            row = {name: _cell(value) for name, value in config.items()}
            row["stack"] = stack
            for metric, stats in cv.summary_table.iterrows():
                row[f"{metric}_mean"], row[f"{metric}_se"] = stats["mean"], stats["se"]
            rows.append(row)
        table = pd.DataFrame(rows)
        best, one_se = choose(table, [simplicity(c) for c in configs])
        notes = sorted({n for cv in cvs for n in cv.notes})
        notes.append("best: the smallest mean held-out deviance; 1se: the simplest "
                     "configuration within one SE of it (fewest hidden units, then most "
                     "dropout, most penalty, smallest max_norm, fewest epochs).")
        return cls(call, family, table, best, one_se, configs, cvs, notes, formula, data,
                   dict(fixed))

    @property
    def n_stacks(self) -> int:
        """How many engine calls trained every configuration × fold."""
        return int(self.table["stack"].nunique())

    @property
    def best_params(self) -> dict[str, Any]:
        """The tuned options of the best configuration."""
        return dict(self.configurations[self.best])

    @property
    def params_1se(self) -> dict[str, Any]:
        """The tuned options of the one-standard-error choice."""
        return dict(self.configurations[self.one_se])

    def _row(self, which: str | int) -> int:
        if isinstance(which, (int, np.integer)) and not isinstance(which, bool) \
                and 0 <= which < len(self.table):
            return int(which)
        if which in CHOICES:
            return self.best if which == "best" else self.one_se
        raise OptionError(f"which must be 'best', '1se' or a row of the table (0 to "
                          f"{len(self.table) - 1}); got {which!r}.")

    def cv(self, which: str | int = "best") -> CVResult:
        """The cross-validation of configuration ``which`` (``"best"``, ``"1se"`` or a row)."""
        return self.cvs[self._row(which)]

    def refit(self, which: str | int = "best") -> DNNFit:
        """Configuration ``which`` trained on all the data (``dnn()`` with its options)."""
        from ..fitting.dnn import dnn

        options = {**self.fixed, **self.configurations[self._row(which)]}
        return dnn(self.formula, self.data, **options)

    def summary(self) -> Summary:
        """The configurations with their CV means and SEs, and the two choices."""
        design = items_table([("Family", self.family.name),
                              ("Configurations", len(self.table)),
                              ("Folds", self.cvs[0].n_folds),
                              ("Engine calls", self.n_stacks),
                              ("Best", _describe(self.best_params)),
                              ("Within 1 SE, simplest", _describe(self.params_1se))])
        return Summary(f"Tuning over {len(self.table)} configurations", self.call,
                       {"design": design, "configurations": self.table}, list(self.notes),
                       {"design": "Tuning",
                        "configurations": "Held-out metrics per configuration (mean, se)"},
                       layouts={"design": "items"})

    def tidy(self) -> pd.DataFrame:
        """One row per configuration and metric: the tuned options, ``metric``, ``mean``,
        ``se``."""
        tuned = [c for c in self.table.columns if c in self.configurations[0]]
        parts = []
        for metric in self.cvs[0].metric_names:
            part = self.table[tuned].copy()
            part["config"] = np.arange(len(self.table))
            part["metric"] = metric
            part["mean"] = self.table[f"{metric}_mean"]
            part["se"] = self.table[f"{metric}_se"]
            parts.append(part)
        return pd.concat(parts, ignore_index=True)

    def glance(self) -> pd.DataFrame:
        """One row: family, configurations, folds, engine calls, the best's and the 1-SE
        choice's row and mean deviance."""
        t = self.table
        return pd.DataFrame([{
            "family": self.family.name, "configurations": len(t),
            "folds": self.cvs[0].n_folds, "stacks": self.n_stacks,
            "best": self.best, "best_mean_deviance": t[f"{CRITERION}_mean"].iloc[self.best],
            "one_se": self.one_se,
            "one_se_mean_deviance": t[f"{CRITERION}_mean"].iloc[self.one_se]}])

    def plot(self, metric: str | None = None, ax=None):
        """Each configuration's mean ± SE of ``metric`` (default: mean deviance), the best
        and the 1-SE choice marked; returns the Figure."""
        metric = check_metric(metric or CRITERION, self.cvs[0].metric_names)
        fig, ax = new_figure(ax, figsize=(max(6, 0.35 * len(self.table)), 4))
        x = np.arange(len(self.table))
        mean, se = self.table[f"{metric}_mean"], self.table[f"{metric}_se"]
        ax.errorbar(x, mean, yerr=se, fmt="o", color="C0", capsize=2)
        ax.plot([self.best], [mean.iloc[self.best]], "o", color="C3", label="best")
        ax.plot([self.one_se], [mean.iloc[self.one_se]], "s", mfc="none", color="C2",
                markersize=10, label="1 SE")
        ax.set_xticks(x, [_describe(c, short=True) for c in self.configurations],
                      rotation=90, fontsize=7)
        ax.set_ylabel(f"{metric} (held out)")
        ax.legend()
        fig.subplots_adjust(bottom=0.4)  # room for the configurations' labels
        return fig


def choose(table: pd.DataFrame, simplicity: list[tuple[float, ...]]) -> tuple[int, int]:
    """The row with the smallest mean deviance, and the simplest row (smallest
    ``simplicity``; ties to the smaller mean) whose mean is within one SE of it."""
    mean = table[f"{CRITERION}_mean"].to_numpy()
    se = table[f"{CRITERION}_se"].to_numpy()
    best = int(np.nanargmin(mean))
    bound = mean[best] + (se[best] if np.isfinite(se[best]) else 0.0)
    within = np.flatnonzero(mean <= bound)
    one_se = min(within, key=lambda i: (simplicity[i], mean[i], i))
    return best, int(one_se)


def _cell(value: Any) -> Any:
    """A tuned value as a table cell (a width tuple as its text, so the column is uniform)."""
    return str(value) if isinstance(value, (tuple, list)) else value


def _describe(config: dict[str, Any], short: bool = False) -> str:
    sep = "," if short else ", "
    return sep.join(f"{k}={v!r}" if not short else f"{k}={v}" for k, v in config.items())
