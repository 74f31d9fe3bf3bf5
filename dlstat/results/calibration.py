"""Calibration of a classifier: the reliability curve and the expected calibration error.

Rows are grouped by their predicted probability into bins (``"uniform"``: equal-width bins
of [0, 1]; ``"quantile"``: bins holding equal numbers of rows); in each bin the mean
predicted probability is set beside the observed frequency.  The expected calibration error
(ECE; Naeini, Cooper & Hauskrecht 2015, Guo et al. 2017) is the mean over bins of
|observed − predicted|, each bin weighted by its share of the rows; the maximum calibration
error (MCE) is the largest of those gaps.

What is predicted: a binomial fit's probability of the second level, P(y = level 2) (the
classic reliability diagram; a proportion response counts as its observed frequency); a
multinomial fit's top-label confidence, the largest class probability, against whether that
class is the observed one.  Rows carry their weights (prior × binomial trials) in every mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import DataError, OptionError
from .protocol import Result, Summary, items_table, new_figure

if TYPE_CHECKING:
    from .fit import DNNFit

STRATEGIES = ("uniform", "quantile")
CURVE_COLUMNS = ["bin", "lower", "upper", "n", "weight", "predicted", "observed", "gap"]


def reliability(p: np.ndarray, observed: np.ndarray, weights: np.ndarray, bins: int = 10,
                strategy: str = "uniform") -> pd.DataFrame:
    """The reliability curve of predictions ``p`` against ``observed`` outcomes (0/1 or
    frequencies), one row per non-empty bin: its edges, rows, weight, mean prediction,
    observed frequency and their gap."""
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, bins + 1)
    else:
        edges = np.unique(np.quantile(p, np.linspace(0.0, 1.0, bins + 1)))
        edges[0], edges[-1] = 0.0, 1.0
    where = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)
    rows = []
    for b in np.unique(where):
        inside = where == b
        w = weights[inside]
        predicted = float(np.average(p[inside], weights=w)) if w.sum() > 0 else np.nan
        freq = float(np.average(observed[inside], weights=w)) if w.sum() > 0 else np.nan
        rows.append((int(b) + 1, edges[b], edges[b + 1], int(inside.sum()), float(w.sum()),
                     predicted, freq, freq - predicted))
    return pd.DataFrame(rows, columns=CURVE_COLUMNS)


def expected_calibration_error(curve: pd.DataFrame) -> float:
    """Σ_bins (weight share) |observed − predicted|."""
    share = curve["weight"] / curve["weight"].sum()
    return float((share * curve["gap"].abs()).sum())


@dataclass(repr=False)
class CalibrationCurve(Result):
    """A classifier's reliability curve and expected calibration error (``fit.calibration()``).

    Attributes
    ----------
    curve : pandas.DataFrame
        One row per non-empty bin: ``bin, lower, upper, n, weight, predicted, observed, gap``.
    ece, mce : float
        Expected and maximum calibration error.
    rows : str
        Which rows were scored (``"test"``, ``"validation"``, ``"training"``, ``"newdata"``).
    predicted : str
        What the probability is (``"P(am = 1)"``, ``"top-label confidence"``).
    """

    curve: pd.DataFrame
    ece: float
    mce: float
    rows: str
    predicted: str
    bins: int
    strategy: str
    call: str = ""

    def tidy(self) -> pd.DataFrame:
        """The curve, one row per non-empty bin."""
        return self.curve.copy()

    def glance(self) -> pd.DataFrame:
        """One row: ``ece``, ``mce``, ``nobs``, ``bins``, ``strategy``, ``rows``."""
        return pd.DataFrame([{"ece": self.ece, "mce": self.mce,
                              "nobs": int(self.curve["n"].sum()), "bins": self.bins,
                              "strategy": self.strategy, "rows": self.rows}])

    def summary(self) -> Summary:
        head = items_table(self.items())
        return Summary("Calibration of a classifier", self.call,
                       {"calibration": head, "curve": self.curve}, [self.note()],
                       {"curve": "Reliability curve"}, {"calibration": "items"})

    def items(self) -> list[tuple[str, object]]:
        """The summary lines: ECE, MCE, rows, bins."""
        return [("Expected calibration error", self.ece), ("Maximum calibration error",
                                                           self.mce),
                ("Rows", f"{int(self.curve['n'].sum())} ({self.rows})"),
                ("Bins", f"{self.bins} ({self.strategy})"), ("Predicted", self.predicted)]

    def note(self) -> str:
        width = "equal-width" if self.strategy == "uniform" else "equal-count (quantile)"
        return (f"Calibration: {self.predicted} in {self.bins} {width} bins on the "
                f"{self.rows} rows; ECE = Σ (bin share) |observed − predicted|, MCE the "
                "largest gap." + (" Training rows flatter a network: pass test= or "
                                  "validation= for an honest curve." if self.rows == "training"
                                  else ""))

    def plot(self, ax=None):
        """The reliability diagram: observed frequency against mean prediction per bin, with
        the diagonal of perfect calibration; returns the Figure."""
        fig, ax = new_figure(ax, figsize=(5, 5))
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
        ax.plot(self.curve["predicted"], self.curve["observed"], "o-",
                label=f"{self.rows} rows (ECE {self.ece:.3f})")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel(f"mean predicted ({self.predicted})")
        ax.set_ylabel("observed frequency")
        ax.legend()
        return fig


def calibration(fit: DNNFit, newdata: pd.DataFrame | None = None, bins: int = 10,
                strategy: str = "uniform") -> CalibrationCurve:
    """``fit.calibration()``: on ``newdata``, else the test rows, else the validation rows,
    else the training rows."""
    if not fit.family.is_classification:
        raise OptionError(f"calibration is defined for a classifier (binomial or multinomial); "
                          f"this fit's family is {fit.family.name!r}.")
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise OptionError(f"bins must be a whole number of at least 1; got {bins!r}.")
    if strategy not in STRATEGIES:
        raise OptionError(f"strategy must be one of {list(STRATEGIES)}; got {strategy!r}.")
    X, y, weights, offset, rows = _scored_rows(fit, newdata)
    used = weights > 0
    if not used.any():
        raise DataError(f"no {rows} rows with positive weight to measure calibration on.")
    mu = fit.family.mean(fit.link_of(X, offset))[used]
    y, weights = y[used], weights[used]
    if fit.family.kind.several_classes:
        p, observed = mu.max(axis=1), (mu.argmax(axis=1) == y.argmax(axis=1)).astype(float)
        predicted = "top-label confidence"
    else:
        p, observed = mu[:, 0], y[:, 0]
        predicted = f"P({fit.family.outputs[0]} = {fit.family.levels[1]})"
    curve = reliability(p, observed, weights, int(bins), strategy)
    return CalibrationCurve(curve, expected_calibration_error(curve),
                            float(curve["gap"].abs().max()), rows, predicted, int(bins),
                            strategy, fit.call)


def _scored_rows(fit: DNNFit, newdata: pd.DataFrame | None):
    """Design, natural-scale response, weights and offset of the rows to score, and their
    name."""
    if newdata is not None:
        from .effects import held_out_rows

        X, y, offset = held_out_rows(fit, newdata)
        return X, y, np.ones(len(X)), offset, "newdata"
    for name in ("test", "validation"):
        if name in fit.held_rows:
            r = fit.held_rows[name]
            return r.X, r.y, r.weights, r.offset, name
    X, y, _ = fit.training_data()
    return X, y, fit.priors.weights, fit.priors.offset, "training"


def calibration_tables(fit: DNNFit) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """summary()'s calibration lines for a classifier (nothing for other fits or a loaded
    fit without rows)."""
    if not fit.family.is_classification or not (fit.has_training_data or fit.held_rows):
        return {}, []
    result = calibration(fit)
    return {"calibration": items_table(result.items()[:3])}, [result.note()]
