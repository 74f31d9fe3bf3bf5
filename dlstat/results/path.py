"""``PathResult``: a regularisation path of a network, with the result protocol."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import OptionError
from ..families import Family
from .fit import DNNFit
from .protocol import Result, Summary, new_figure

PLOT_TYPES = ("both", "cv", "terms")
CHOICES = pd.Index(["penalty_min", "penalty_1se"], name="choice")


@dataclass(repr=False)
class PathResult(Result):
    """The path: a table per penalty, the chosen penalties, the fits on all data.

    Built by :func:`dlstat.dnn_path`; printing it shows glmnet's columns (Df, %Dev, lambda)
    with the cross-validated score.

    Attributes
    ----------
    call : str
        The call as it would be typed.
    family : Family
        The response family.
    table : pandas.DataFrame
        One row per penalty, descending.
    penalty_min, penalty_1se : float
        The penalty with the best score, and the largest within one SE of it (cv.glmnet).
    term_norms : pandas.DataFrame
        The weight norm of each formula term at each penalty (the coefficient path).
    fits : list of DNNFit
        The networks trained on all the data, one per penalty.
    entry : pandas.DataFrame or None
        With ``sparsity="inputs"``: the order in which inputs enter.
    notes : list of str
        Numbered notes of the summary.

    Examples
    --------
    >>> import dlstat as dl
    >>> path = dl.dnn_path("mpg ~ wt + hp", dl.datasets.load("mtcars"), hidden=(),
    ...                    optimizer="lbfgs", mixture=1, n_penalties=4, folds=4, verbose=0)
    >>> bool(path.refit("min").options.penalty == path.penalty_min)
    True
    """

    call: str
    family: Family
    table: pd.DataFrame
    penalty_min: float
    penalty_1se: float
    term_norms: pd.DataFrame  # rows: penalties (descending); columns: formula terms
    fits: list[DNNFit]  # trained on all the data, one per penalty
    entry: pd.DataFrame | None
    notes: list[str]

    def refit(self, which: str | float = "1se") -> DNNFit:
        """The network trained on all the data at ``"1se"``, ``"min"`` or a penalty value."""
        if which in ("1se", "min"):
            value = self.penalty_1se if which == "1se" else self.penalty_min
        elif isinstance(which, (int, float)) and not isinstance(which, bool):
            value = float(which)
        else:
            raise OptionError(f"refit() takes '1se', 'min' or a penalty value; got {which!r}.")
        penalties = self.table["penalty"].to_numpy()
        hit = np.flatnonzero(np.isclose(penalties, value, rtol=1e-9, atol=0))
        if hit.size:
            return self.fits[int(hit[0])]
        raise OptionError(
            f"penalty {value:g} is not on the path (from {penalties.min():.4g} to "
            f"{penalties.max():.4g}); pass one of path.table['penalty'], or fit it with "
            f"dnn(..., penalty={value:g})."
        )

    @property
    def test_table(self) -> pd.DataFrame | None:
        """Per penalty, the metrics on the ``test=`` frame of the network trained on all the
        data (columns ``test_<metric>``), or None without a test set."""
        rows = [fit.record.metrics.get("test") for fit in self.fits]
        if not rows or any(r is None for r in rows):
            return None
        return pd.DataFrame(rows).add_prefix("test_")

    @property
    def chosen_rows(self) -> list[int]:
        """Positions in ``table`` of ``penalty_min`` and ``penalty_1se``."""
        penalties = self.table["penalty"].to_numpy()
        return [int(np.flatnonzero(penalties == p)[0])
                for p in (self.penalty_min, self.penalty_1se)]

    @property
    def chosen(self) -> pd.DataFrame:
        """The rows of the path table at ``penalty_min`` and ``penalty_1se``."""
        chosen = self.table.iloc[self.chosen_rows].copy()
        chosen.index = CHOICES
        return chosen

    def summary(self) -> Summary:
        """The path as glmnet prints it (Df, %Dev, Lambda, CV mean and SE), the rows of the
        chosen penalties, the inputs' entry order (``sparsity="inputs"``) and the test set."""
        t = self.table
        path = pd.DataFrame({"Df": t["df"], "%Dev": 100 * t["dev_explained"],
                             "Lambda": t["penalty"], "CV mean": t["cv_mean"],
                             "CV SE": t["cv_se"]})
        tables = {"path": path, "chosen": self.chosen}
        captions = {"path": "Path", "chosen": "Chosen penalties (as cv.glmnet)"}
        if self.entry is not None:
            tables["entry"] = self.entry
            captions["entry"] = "Entry order of the inputs (largest penalty with weights)"
        test = self.test_table
        if test is not None:
            tables["test"] = pd.concat([t[["penalty"]], test], axis=1)
            captions["test"] = "Test set, scored by the network trained on all the data"
        title = (f"Regularisation path: {len(t)} penalties from {t['penalty'].max():.4g} to "
                 f"{t['penalty'].min():.4g}")
        return Summary(title, self.call, tables, list(self.notes), captions)

    def tidy(self) -> pd.DataFrame:
        """The path table, one row per penalty (with ``test_<metric>`` columns given
        ``test=``)."""
        test = self.test_table
        return self.table.copy() if test is None else pd.concat([self.table, test], axis=1)

    def glance(self) -> pd.DataFrame:
        """One row: family, n_penalties, both chosen penalties and the CV mean and SE at
        ``penalty_min`` (with ``test=``, the test mean deviance and main metric at both
        choices: ``test_<metric>_min``, ``test_<metric>_1se``)."""
        chosen = self.chosen
        row = {"family": self.family.name, "n_penalties": len(self.table),
               "penalty_min": self.penalty_min, "penalty_1se": self.penalty_1se,
               "cv_mean_min": chosen.loc["penalty_min", "cv_mean"],
               "cv_se_min": chosen.loc["penalty_min", "cv_se"]}
        test = self.test_table
        if test is not None:
            at = test.iloc[self.chosen_rows].set_axis(CHOICES)
            for metric in dict.fromkeys(("mean_deviance", self.family.main_metric)):
                row[f"test_{metric}_min"] = at.loc["penalty_min", f"test_{metric}"]
                row[f"test_{metric}_1se"] = at.loc["penalty_1se", f"test_{metric}"]
        return pd.DataFrame([row])

    def plot(self, type: str = "both"):
        """The CV curve with SE bars and both chosen penalties (``"cv"``), each term's input
        weight norm against log λ (``"terms"``), or both side by side; returns the Figure."""
        if type not in PLOT_TYPES:
            raise OptionError(f"type must be one of {list(PLOT_TYPES)}; got {type!r}.")
        if type == "both":
            fig, (cv_ax, terms_ax) = new_figure(figsize=(11, 4), ncols=2)
        else:
            fig, ax = new_figure()
            cv_ax, terms_ax = (ax, None) if type == "cv" else (None, ax)
        if cv_ax is not None:
            self._plot_cv(cv_ax)
        if terms_ax is not None:
            self._plot_terms(terms_ax)
        return fig

    def _plot_cv(self, ax) -> None:
        t = self.table
        ax.errorbar(np.log(t["penalty"]), t["cv_mean"], yerr=t["cv_se"], fmt="o", ms=3,
                    capsize=2)
        for value, style, label in ((self.penalty_min, "--", "penalty_min"),
                                    (self.penalty_1se, ":", "penalty_1se")):
            ax.axvline(np.log(value), ls=style, color="grey", label=label)
        ax.set_xlabel("log(penalty)")
        ax.set_ylabel("CV mean deviance")
        ax.legend()

    def _plot_terms(self, ax) -> None:
        for term in self.term_norms.columns:
            ax.plot(np.log(self.term_norms.index), self.term_norms[term], label=term)
        ax.set_xlabel("log(penalty)")
        ax.set_ylabel("input weight norm")
        if len(self.term_norms.columns) <= 12:
            ax.legend(fontsize="small")
