"""Partial dependence (PDP), individual conditional expectation (ICE) and accumulated local
effects (ALE) of one design column or factor, with bootstrap percentile bands.

The curves are computed on the training rows, on the response scale, by setting the column
(holding the others fixed, as :mod:`dlstat.results.effects` does) to each grid value: the
quantiles of its training values for a numeric column, every level for a factor.  ALE
(Apley and Zhu 2020) accumulates the average change across quantile bins of the column among
the rows in each bin, centred to mean zero over the rows; it needs a numeric column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import OptionError
from .bootstrap import percentile_interval, response_rows, response_rows_of
from .effects import effect_groups, factor_variable, raw_to_standard
from .protocol import Result, Summary, new_figure

if TYPE_CHECKING:
    from .fit import DNNFit

KINDS = ("pdp", "ice", "ale")
MAX_GRID = 1000


@dataclass(repr=False)  # printed through its summary, as every Result
class PartialDependence(Result):
    """A dependence curve: ``curve`` (``value``, ``estimate``, ``conf.low``, ``conf.high``;
    ``response`` first for several outputs) and, for ``kind="ice"``, ``ice`` (one curve per
    training row: ``row``, ``value``, ``estimate``)."""

    term: str
    kind: str
    call: str
    curve: pd.DataFrame
    ice: pd.DataFrame | None
    level: float
    notes: list[str]

    def tidy(self) -> pd.DataFrame:
        """The per-row curves for ``kind="ice"``, else the curve with its band."""
        return (self.ice if self.ice is not None else self.curve).copy()

    def glance(self) -> pd.DataFrame:
        """The term, the kind and the grid size."""
        return pd.DataFrame([{"term": self.term, "kind": self.kind,
                              "grid": self.curve["value"].nunique(), "conf.level": self.level}])

    def summary(self) -> Summary:
        """The curve (and its band) as a table, with notes."""
        return Summary(f"{_TITLES[self.kind]} of {self.term}", self.call,
                       {"curve": self.curve}, notes=list(self.notes))

    def plot(self, ax=None):
        """The curve with its band (ICE: the rows' curves in grey); returns the Figure."""
        fig, ax = new_figure(ax)
        outputs = self.curve["response"].unique() if "response" in self.curve else [None]
        for out in outputs:
            part = self.curve if out is None else self.curve[self.curve["response"] == out]
            _draw(ax, part, self.ice, out)
        ax.set_xlabel(self.term)
        ax.set_ylabel("ALE" if self.kind == "ale" else "prediction (response scale)")
        ax.set_title(f"{_TITLES[self.kind]} of {self.term}")
        if outputs[0] is not None:
            ax.legend()
        return fig


_TITLES = {"pdp": "Partial dependence", "ice": "Individual conditional expectation",
           "ale": "Accumulated local effects"}


def _draw(ax, curve: pd.DataFrame, ice: pd.DataFrame | None, output) -> None:
    x = curve["value"].to_numpy()
    numeric = np.issubdtype(np.asarray(x).dtype, np.number)
    positions = x if numeric else np.arange(len(x))
    if ice is not None and output is None:
        for _, row in ice.groupby("row"):
            ax.plot(positions, row["estimate"].to_numpy(), color="grey", lw=0.5, alpha=0.4)
    label = None if output is None else str(output)
    if numeric:
        ax.plot(positions, curve["estimate"], lw=2, label=label)
        ax.fill_between(positions, curve["conf.low"], curve["conf.high"], alpha=0.25)
    else:
        est = curve["estimate"].to_numpy()
        err = np.vstack([est - curve["conf.low"], curve["conf.high"] - est])
        ax.errorbar(positions, est, yerr=None if np.isnan(err).all() else err, fmt="o",
                    capsize=3, label=label)
        ax.set_xticks(positions, [str(v) for v in x])


@dataclass
class Grid:
    """Where a curve is evaluated: the design ``columns`` set, one row of (standardised)
    ``settings`` per grid point, its ``labels`` on the user's scale, and whether a factor."""

    columns: list[int]
    settings: np.ndarray
    labels: list
    factor: bool


def partial_dependence(fit: DNNFit, term: str, kind: str = "pdp", grid: int = 20,
                       level: float = 0.95) -> PartialDependence:
    """:meth:`DNNFit.partial_dependence`."""
    if kind not in KINDS:
        raise OptionError(f"kind must be one of {list(KINDS)}; got {kind!r}.")
    if isinstance(grid, bool) or not isinstance(grid, (int, np.integer)) \
            or not 2 <= grid <= MAX_GRID:
        raise OptionError(f"grid must be a whole number from 2 to {MAX_GRID}; got {grid!r}.")
    from .inference import check_level

    check_level(level)
    X, _, _ = fit.training_data()
    where = grid_of(fit, term, X, int(grid))
    if kind == "ale" and where.factor:
        raise OptionError(f"kind='ale' needs a numeric column; {term!r} is a factor. Use "
                          "kind='pdp' for a factor's levels.")
    curve_of = _ale if kind == "ale" else _pdp
    estimate = curve_of(fit, X, where)
    draws = None
    if fit.bootstrap is not None:
        draws = np.stack([curve_of(r, X, where).ravel() for r in fit.bootstrap.fits])
    curve = _curve_frame(fit, where, estimate, draws, level)
    ice = _ice_frame(fit, X, where) if kind == "ice" else None
    notes = [_band_note(fit, level),
             "Computed on the training rows with the other design columns held fixed."]
    return PartialDependence(term, kind, fit.call, curve, ice, level, notes)


def _band_note(fit: DNNFit, level: float) -> str:
    if fit.bootstrap is None:
        return "No bands: refit with bootstrap=100 (or more) for bootstrap percentile bands."
    return (f"Bands: {100 * level:g}% percentile intervals of {fit.bootstrap.size} "
            "case-resampling bootstrap replicates' curves.")


def grid_of(fit: DNNFit, term: str, X: np.ndarray, size: int) -> Grid:
    """The grid of ``term``: a numeric design column's training quantiles, or a factor's
    levels as one-hot rows over its non-reference columns (the first row: the reference)."""
    for g in effect_groups(fit):
        variable = factor_variable(fit, g.term) if g.factor else None
        if term not in (g.term, variable):
            continue
        if g.factor:
            raw = np.vstack([np.zeros(len(g.columns)), np.eye(len(g.columns))])
            settings = np.column_stack([raw_to_standard(fit, j, raw[:, i])
                                        for i, j in enumerate(g.columns)])
            labels = [str(fit.spec.levels[variable][0])] + [
                _level_of(fit.spec.display_columns[j]) for j in g.columns]
            return Grid(g.columns, settings, labels, True)
        j = g.columns[0]
        settings = np.unique(np.quantile(X[:, j], np.linspace(0, 1, size)))[:, None]
        labels = list(settings[:, 0] * fit.spec.scale[j] + fit.spec.center[j])
        return Grid([j], settings, labels, False)
    choices = [g.term for g in effect_groups(fit)]
    raise OptionError(f"no design column or factor {term!r} in this model; choose one of "
                      f"{choices}.")


def _level_of(column: str) -> str:
    """``C(cyl)[T.6]`` → ``6``."""
    return column.rsplit("[", 1)[1].rstrip("]").removeprefix("T.")


def _pdp(fit: DNNFit, X: np.ndarray, where: Grid) -> np.ndarray:
    """The mean prediction at each grid point, [G, k]."""
    return np.stack([mu.mean(axis=0) for mu in _at_grid(fit, X, where)])


def _at_grid(fit: DNNFit, X: np.ndarray, where: Grid) -> list[np.ndarray]:
    """Predictions [n, k] of the rows ``X`` at each grid point, in one forward pass."""
    designs = []
    for setting in where.settings:
        moved = X.copy()
        moved[:, where.columns] = setting
        designs.append(moved)
    return response_rows_of(fit, designs, fit.priors.offset)  # each row keeps its offset


def _ale(fit: DNNFit, X: np.ndarray, where: Grid) -> np.ndarray:
    """Accumulated local effects at the grid's edges, centred over the rows, [G, k]."""
    edge = where.settings[:, 0]
    bins = np.clip(np.searchsorted(edge, X[:, where.columns[0]], side="left") - 1, 0,
                   len(edge) - 2)
    counts = np.bincount(bins, minlength=len(edge) - 1)
    occupied = np.flatnonzero(counts)
    designs, offsets = [], []
    offset = fit.priors.offset
    for i in occupied:  # each bin's rows moved to its lower and its upper edge
        for value in (edge[i], edge[i + 1]):
            moved = X[bins == i].copy()
            moved[:, where.columns[0]] = value
            designs.append(moved)
            offsets.append(None if offset is None else offset[bins == i])
    mu = np.split(response_rows(fit, np.vstack(designs),
                                None if offset is None else np.concatenate(offsets)),
                  np.cumsum([len(d) for d in designs])[:-1])
    steps = np.zeros((len(edge) - 1, fit.topology.n_outputs))
    for n, i in enumerate(occupied):
        steps[i] = (mu[2 * n + 1] - mu[2 * n]).mean(axis=0)
    accumulated = np.vstack([np.zeros((1, steps.shape[1])), np.cumsum(steps, axis=0)])
    midpoints = (accumulated[:-1] + accumulated[1:]) / 2
    return accumulated - (counts[:, None] * midpoints).sum(axis=0) / counts.sum()


def _outputs(fit: DNNFit) -> list[str]:
    outs = fit.family.output_names
    return [str(o) for o in outs]


def _curve_frame(fit: DNNFit, where: Grid, estimate: np.ndarray, draws: np.ndarray | None,
                 level: float) -> pd.DataFrame:
    """Long table of the curve: one row per (output, grid point)."""
    outputs = _outputs(fit)
    G, k = estimate.shape
    low = high = np.full(G * k, np.nan)
    if draws is not None:
        low, high = percentile_interval(draws, level)
    frame = pd.DataFrame({"response": np.tile(outputs, G), "value": np.repeat(where.labels, k),
                          "estimate": estimate.ravel(), "conf.low": low, "conf.high": high})
    return _by_output(frame, k)


def _by_output(frame: pd.DataFrame, k: int) -> pd.DataFrame:
    """Output-major order, without the ``response`` column for a single output."""
    if k == 1:
        return frame.drop(columns="response")
    order = np.argsort(np.tile(np.arange(k), len(frame) // k), kind="stable")
    return frame.iloc[order].reset_index(drop=True)


def _ice_frame(fit: DNNFit, X: np.ndarray, where: Grid) -> pd.DataFrame:
    """One curve per training row: ``row`` (its label), ``value``, ``estimate``."""
    _, _, index = fit.training_data()
    curves = np.stack(_at_grid(fit, X, where), axis=1)
    n, G, k = curves.shape
    frame = pd.DataFrame({"response": np.tile(_outputs(fit), n * G),
                          "row": np.repeat(np.asarray(index), G * k),
                          "value": np.tile(np.repeat(where.labels, k), n),
                          "estimate": curves.ravel()})
    return _by_output(frame, k)
