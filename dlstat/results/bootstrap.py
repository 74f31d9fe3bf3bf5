"""Case-resampling bootstrap of a network: the resamples, the replicate fits and the tables
built from their spread.

Replicate ``b`` (1..B) trains on the full fit's training rows with the counts of a resample
drawn from ``(seed, b)`` alone, and starts from a seed drawn from ``(seed, b)`` alone, so its
numbers do not depend on B or on the other replicates.  All replicates share the full fit's
validation rows (a fraction split off before resampling, or the user's frame), so early
stopping watches the same rows as the full fit; each replicate's out-of-bag rows (count 0)
are its held-out rows for :func:`dlstat.results.effects.importance`.

A row drawn k times appears k times in each epoch of its replicate (the engine's row
repeats, not a weight k), so a replicate takes as many mini-batch steps per epoch as the full
fit and the two are the same estimator at any number of epochs.

Intervals are percentile intervals of the B replicate estimates, as R's ``boot.ci(type =
"perc")`` takes them (:func:`percentile_interval`); ``std.error`` is their standard deviation,
``statistic`` = estimate / std.error with a normal p-value (as cito).  They are calibrated for
networks trained to convergence with a little weight decay (``optimizer="lbfgs",
penalty=1e-3``; coverage in ``benchmarks/bench_coverage.py``); effects, predictions and
importance of a fit still improving at its epoch limit get none
(:mod:`dlstat.results.convergence`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import OptionError, warn
from .convergence import unconverged_reason

if TYPE_CHECKING:
    from .fit import DNNFit

_RESAMPLE_TAG, _SEED_TAG = 0xB007, 0x5EED
INFERENCE_COLUMNS = ["std.error", "statistic", "p.value", "conf.low", "conf.high"]


def resample_counts(seed: int, b: int, n: int) -> np.ndarray:
    """How often each of ``n`` training rows is drawn in resample ``b`` (a function of
    ``(seed, b, n)`` only)."""
    draws = np.random.default_rng([seed, _RESAMPLE_TAG, b]).integers(0, n, n)
    return np.bincount(draws, minlength=n).astype(np.float64)


def replicate_seed(seed: int, b: int) -> int:
    """The initialisation seed of replicate ``b`` (a function of ``(seed, b)`` only)."""
    return int(np.random.default_rng([seed, _SEED_TAG, b]).integers(0, 2**31 - 1))


@dataclass
class Replicates:
    """The B bootstrap networks of a fit: replicate ``fits[b]`` trained with ``counts[b]``."""

    fits: list[DNNFit]
    counts: np.ndarray  # [B, n_train]

    @property
    def size(self) -> int:
        return len(self.fits)

    def out_of_bag(self, b: int) -> np.ndarray:
        """Positions of the training rows replicate ``b`` never saw."""
        return np.flatnonzero(self.counts[b] == 0)


def percentile_interval(draws: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """The percentile interval at ``level`` of each column of ``draws`` [B, ...], as R's
    ``boot.ci(type = "perc")`` computes it (``boot:::norm.inter``): the (B + 1)·α-th order
    statistic, interpolated on the normal scale between neighbours.  NumPy's default quantile
    (R's type 7) sits at 1 + (B − 1)·α: inside that, so with B = 30 a nominal 90% interval
    between those order statistics holds a new draw with probability about 0.84, and the
    intervals under-covered by that much (``benchmarks/bench_coverage.py``)."""
    from scipy import stats

    t = np.sort(np.asarray(draws, np.float64), axis=0)
    B = t.shape[0]
    ends = []
    for a in ((1 - level) / 2, (1 + level) / 2):
        rk = (B + 1) * a
        k = int(np.floor(rk + 1e-9))
        if k <= 0 or k >= B:  # beyond the extreme order statistics: the extreme itself
            ends.append(t[0] if k <= 0 else t[B - 1])
        elif abs(k - rk) < 1e-9:
            ends.append(t[k - 1])
        else:
            z, z0, z1 = stats.norm.ppf([a, k / (B + 1), (k + 1) / (B + 1)])
            ends.append(t[k - 1] + (z - z0) / (z1 - z0) * (t[k] - t[k - 1]))
    broken = ~np.isfinite(t).all(axis=0)  # a non-finite draw: no interval (as np.quantile)
    return tuple(np.where(broken, np.nan, e) for e in ends)


def inference_columns(estimate: np.ndarray, draws: np.ndarray | None,
                      level: float) -> pd.DataFrame:
    """broom's inference columns for ``estimate`` [k] from bootstrap ``draws`` [B, k]
    (NaN without draws): sd of the draws, z = estimate / sd, its normal two-sided p-value and
    the percentile interval at ``level``."""
    from scipy import stats

    from .inference import check_level

    k = len(estimate)
    if draws is None:
        return pd.DataFrame(np.nan, index=range(k), columns=INFERENCE_COLUMNS)
    check_level(level)
    se = draws.std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, estimate / se, np.nan)
    low, high = percentile_interval(draws, level)
    return pd.DataFrame({"std.error": se, "statistic": z,
                         "p.value": 2 * stats.norm.sf(np.abs(z)),
                         "conf.low": low, "conf.high": high})


def interval_note(replicates: Replicates | None, level: float) -> str:
    """What the inference columns are (or why they are NaN)."""
    if replicates is None:
        return ("Estimates only: std.error, statistic, p.value and the interval need the "
                "bootstrap; refit with bootstrap=100 (or more) for them.")
    note = (f"std.error: sd of {replicates.size} case-resampling bootstrap replicates; "
            f"statistic = estimate / std.error with a normal p-value; conf.low/conf.high: "
            f"{100 * level:g}% percentile intervals of the replicates (as boot.ci's 'perc').")
    least = int(np.floor(2 / (1 - level) + 1e-9))  # (B + 1)·α > 1: inside the extremes
    if replicates.size < least:
        note += (f" With {replicates.size} replicates a {100 * level:g}% interval is the range "
                 f"of the replicates (boot.ci warns of the same); use bootstrap={least} or "
                 "more, 100 for tables you publish.")
    return note


def require_replicates(fit: DNNFit, what: str) -> Replicates:
    """The fit's replicates, or an error saying how to get them."""
    if fit.bootstrap is None:
        raise OptionError(f"{what} needs bootstrap replicates; refit with dnn(..., "
                          "bootstrap=100) (GLMs without hidden layers also offer Wald "
                          "intervals).")
    return fit.bootstrap


def response_rows(fit: DNNFit, X: np.ndarray, offset: np.ndarray | None = None) -> np.ndarray:
    """Response-scale predictions [n, k] of standardised design rows ``X`` with their
    ``offset`` (user's link scale; ``None``: none)."""
    return fit.family.mean(fit.link_of(X, offset))


def response_rows_of(fit: DNNFit, designs: list[np.ndarray],
                     offset: np.ndarray | None = None) -> list[np.ndarray]:
    """:func:`response_rows` of each design, in one forward pass (many small passes cost
    more than one large one); every design holds the same rows, whose ``offset`` it is."""
    if not designs:
        return []
    tiled = None if offset is None else np.tile(np.asarray(offset, np.float64), len(designs))
    mu = response_rows(fit, np.vstack(designs), tiled)
    return np.split(mu, np.cumsum([len(X) for X in designs])[:-1])


def prediction_interval_frame(fit: DNNFit, X: tuple[np.ndarray, np.ndarray | None],
                              ok: np.ndarray, index: pd.Index, type: str,
                              level: float) -> pd.DataFrame:
    """``fit``, ``lwr``, ``upr``: the full fit's prediction and the percentile interval of the
    replicates' predictions, on the response or link scale (one response only); ``X`` is the
    design rows and their offset."""
    from .inference import check_level

    replicates = require_replicates(fit, "predict(interval='confidence') of a network")
    if type not in ("response", "link") or fit.topology.n_outputs != 1:
        raise OptionError(f"bootstrap intervals are given for type='response' or type='link' "
                          f"of a single-output model; got type={type!r} with "
                          f"{fit.topology.n_outputs} output(s). Use predict(type='prob') for "
                          "class probabilities without intervals.")
    check_level(level)
    X, offset = X

    def scaled(f):  # each fit on its own family's scale (a Cox network's centred η)
        scale = f.family.mean if type == "response" else f.family.link_scale
        return scale(f.link_of(X, offset))[:, 0]

    out = pd.DataFrame(np.nan, index=index, columns=["fit", "lwr", "upr"])
    out.loc[ok, "fit"] = scaled(fit)
    refused = unconverged_reason(fit)
    if refused is not None:  # narrow intervals around an under-fitted prediction: none at all
        warn(refused)
        return out
    draws = np.stack([scaled(r) for r in replicates.fits])
    out.loc[ok, "lwr"], out.loc[ok, "upr"] = percentile_interval(draws, level)
    return out
