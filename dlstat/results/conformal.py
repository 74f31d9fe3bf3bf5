"""Conformal prediction: intervals for a new response and sets of classes, from conformity
scores of rows the predicting network(s) did not train on.

One construction covers the three methods (Barber, Candès, Ramdas & Tibshirani 2021, "the
jackknife+"; Kim, Xu & Barber 2020, "jackknife+-after-bootstrap"):

* each calibration row ``i`` has a score ``R_i`` computed from a prediction that did not see
  it, and a *centre* for a new row ``x``: ``μ_{-i}(x)``, a weighted mean of member networks'
  predictions (``members[i]``, rows summing to one);
* split conformal: one member (the fitted network), the validation rows as calibration rows;
* CV+: the k fold networks, row ``i``'s centre its own fold's network;
* jackknife+-after-bootstrap: the B replicates, row ``i``'s centre the mean of the replicates
  that left it out of their resample (MAPIE's ``agg_function="mean"``).

The interval is ``[q⁻{μ_{-i}(x) − R_i s_i(x)}, q⁺{μ_{-i}(x) + R_i s_i(x)}]``, ``q⁺`` the
``⌈(1−α)(n+1)⌉``-th smallest of the n values and ``q⁻`` the ``⌊α(n+1)⌋``-th smallest (infinite
when that rank is outside 1..n: too few calibration rows for the level).  With one member
it is split conformal's ``μ(x) ± R_(⌈(1−α)(n+1)⌉) s(x)`` (coverage ≥ 1 − α); with several the
jackknife+ guarantee is ≥ 1 − 2α (≈ 1 − α in practice).

Scores.  Regression: the absolute Pearson residual ``|y − μ| √(w / V(μ))`` (``s = √(V(μ)/w)``),
which is the plain absolute residual for an unweighted gaussian fit and, for a variance that
grows with the mean (poisson, Gamma, ...), makes the rows' scores comparable so that the
interval widens where the family says the response spreads more.  Classification: LAC's
``1 − p̂_y(x)`` (Sadinle, Lei & Wasserman 2019); class ``k`` is in the set of ``x`` when fewer
than ``(1−α)(n+1)`` calibration rows have ``R_i < 1 − p̂_{-i,k}(x)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# new rows × calibration rows (× classes) held at once by the "plus" methods
_CHUNK_CELLS = 4_000_000


def upper_rank(n: int, alpha: float) -> int:
    """``⌈(1−α)(n+1)⌉``: the rank (1-based) of the upper order statistic (> n: infinite)."""
    return math.ceil((1 - alpha) * (n + 1) - 1e-9)


def lower_rank(n: int, alpha: float) -> int:
    """``⌊α(n+1)⌋``: the rank (1-based) of the lower order statistic (< 1: infinite)."""
    return math.floor(alpha * (n + 1) + 1e-9)


def order_statistic(values: np.ndarray, rank: int, axis: int = -1) -> np.ndarray:
    """The ``rank``-th smallest (1-based) along ``axis``; ±inf when ``rank`` is outside 1..n."""
    n = values.shape[axis]
    shape = np.delete(values.shape, axis % values.ndim)
    if rank > n:
        return np.full(shape, np.inf)
    if rank < 1:
        return np.full(shape, -np.inf)
    return np.take(np.partition(values, rank - 1, axis=axis), rank - 1, axis=axis)


def pearson_scores(variance: Callable[[np.ndarray], np.ndarray], y: np.ndarray,
                   mu: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``|y − μ| √(w / V(μ))``, one response (vectors)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(y - mu) * np.sqrt(weights / variance(mu))


def label_scores(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """LAC's ``1 − p̂_y``: ``probs`` [n, K], ``labels`` [n] class positions."""
    return 1.0 - probs[np.arange(len(labels)), labels]


@dataclass
class Calibration:
    """Calibration rows' scores and how each row's centre is formed from the members'
    predictions (``members`` [n, M], rows summing to one; ``None``: one member, shared)."""

    method: str
    scores: np.ndarray
    members: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.scores)

    def interval(self, P: np.ndarray, spread: Callable[[np.ndarray], np.ndarray],
                 alpha: float) -> tuple[np.ndarray, np.ndarray]:
        """Bounds for new rows from the members' predictions ``P`` [M, m]; ``spread(centre)``
        is the score's scale ``s`` at a centre (same shape)."""
        up, low = upper_rank(self.n, alpha), lower_rank(self.n, alpha)
        if self.members is None:
            q = float(order_statistic(self.scores, up))
            s = spread(P[0])
            with np.errstate(invalid="ignore"):  # inf × 0: an infinite interval
                return P[0] - q * s, P[0] + q * s
        lower, upper = np.empty(P.shape[1]), np.empty(P.shape[1])
        for rows in _chunks(P.shape[1], self.n):
            centre = P[:, rows].T @ self.members.T  # [m, n]
            half = self.scores[None, :] * spread(centre)
            lower[rows] = order_statistic(centre - half, low, axis=1)
            upper[rows] = order_statistic(centre + half, up, axis=1)
        return lower, upper

    def sets(self, P: np.ndarray, alpha: float) -> np.ndarray:
        """Membership [m, K] of each class in each new row's set, from the members' class
        probabilities ``P`` [M, m, K]."""
        bound = (1 - alpha) * (self.n + 1)
        if self.members is None:
            ordered = np.sort(self.scores)
            beaten = np.searchsorted(ordered, 1.0 - P[0], side="left")  # #{R_i < score}
            return beaten < bound - 1e-9
        out = np.empty(P.shape[1:], bool)
        for rows in _chunks(P.shape[1], self.n * P.shape[2]):
            centre = np.einsum("mrk,im->rik", P[:, rows], self.members)  # [m, n, K]
            beaten = ((1.0 - centre) > self.scores[None, :, None]).sum(axis=1)
            out[rows] = beaten < bound - 1e-9
        return out


def _chunks(m: int, width: int) -> list[slice]:
    """Slices of ``m`` new rows, each small enough that rows × ``width`` cells fit."""
    step = max(1, _CHUNK_CELLS // max(width, 1))
    return [slice(start, min(start + step, m)) for start in range(0, m, step)]


def out_of_bag_members(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each training row's weights over the B replicates that left it out (``counts`` [B, n]),
    normalised, and which rows some replicate left out (the others have no centre)."""
    oob = (counts == 0).T.astype(np.float64)  # [n, B]
    found = oob.sum(axis=1)
    kept = found > 0
    return oob[kept] / found[kept, None], kept
