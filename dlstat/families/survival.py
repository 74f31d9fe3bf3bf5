"""Cox proportional hazards: the ``Surv(time, status)`` response and the partial likelihood.

The negative log partial likelihood (Breslow or Efron ties, prior weights) is written once
against ``ops``, batched over any leading axes, so the engine's TensorFlow loss (risk sets
within each batch) and the NumPy deviance of a fit share it.  It is a loss over a set of rows,
not a sum over rows: the family table's ``set_loss``.  The rest (observed information, the
baseline cumulative hazard, martingale and deviance residuals, Harrell's concordance) is NumPy
and follows ``survival::coxph``, ``survfit.coxph``, ``residuals.coxph`` and
``survival::concordance``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError, ResponseError
from .ops import numpy_ops

TIES = ("efron", "breslow")
_PAIR_CHUNK = 4_000_000  # pairs compared at once by the concordance


# -- the response -----------------------------------------------------------------------------

def surv_frame(response: pd.DataFrame, strict: bool = True) -> pd.DataFrame:
    """``Surv(time, status)``: the time and the status as 0 (censored) / 1 (event), read as
    ``survival::Surv`` reads it (logical, 0/1, or 1/2 when the largest status is 2), marked as
    a survival response (``attrs["survival"]``).  Missing values stay missing; ``strict``
    (fitting) refuses non-numeric or infinite times and other status values."""
    time_col, status_col = response.columns
    time, status = response[time_col], response[status_col]
    if not pd.api.types.is_numeric_dtype(time.dtype) or pd.api.types.is_bool_dtype(time.dtype):
        raise ResponseError(f"Surv({time_col}, {status_col}) needs a numeric time; "
                            f"{time_col!r} is {time.dtype}. Convert it to numbers.")
    t = time.to_numpy(dtype=np.float64)
    if strict and np.isinf(t).any():
        raise ResponseError(f"Surv({time_col}, {status_col}): {int(np.isinf(t).sum())} "
                            "infinite time(s); drop or fix those rows.")
    s = _status(status, f"Surv({time_col}, {status_col})")
    out = pd.DataFrame({time_col: t, status_col: s}, index=response.index)
    out.attrs["survival"] = True
    return out


def _status(status: pd.Series, what: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(status.dtype):
        return status.to_numpy(dtype=np.float64)
    if status.dtype == object:  # a logical column with missing values
        values = status.dropna()
        if len(values) and all(isinstance(v, (bool, np.bool_)) for v in values):
            return status.map(lambda v: float(v) if isinstance(v, (bool, np.bool_))
                              else np.nan).to_numpy(dtype=np.float64)
    if not pd.api.types.is_numeric_dtype(status.dtype):
        raise ResponseError(f"{what} needs a status that is logical, 0/1 or 1/2 (as survival's "
                            f"Surv); {status.name!r} is {status.dtype}. Recode it.")
    s = status.to_numpy(dtype=np.float64)
    known = s[~np.isnan(s)]
    if len(known) and known.max() == 2:  # survival's 1/2 coding: 1 censored, 2 event
        s = s - 1
        known = known - 1
    bad = sorted(set(known[(known != 0) & (known != 1)].tolist()))
    if bad:
        raise ResponseError(f"{what}: status {status.name!r} has value(s) {bad[:5]}; it must be "
                            "logical, 0/1 (censored/event) or 1/2 (as survival's Surv).")
    return s


# -- the partial likelihood (ops: NumPy or TensorFlow; any leading axes) ----------------------

def negative_log_partial_likelihood(ops, y, eta, w, efron: bool):
    """−log partial likelihood of each set of rows (the last axis), ``y[..., 0]`` the times,
    ``y[..., 1]`` the status, ``eta[..., 0]`` the linear predictor, ``w`` the prior weights
    (rows of weight 0, such as a batch's padding, are in no risk set).  Ties as
    ``survival::coxph``: Breslow, or Efron's with the tied events' mean weight."""
    eta = eta[..., 0]
    zero = 0.0 * eta
    time, w = y[..., 0] + zero, w + zero
    event = ops.where(w > 0, y[..., 1] + zero, zero)
    order = ops.argsort(time)
    time, event, w, eta = (ops.take(v, order) for v in (time, event, w, eta))
    used = w > 0
    # The likelihood does not change when η shifts: exp() of η − max(η) cannot overflow.
    shift = ops.stop_gradient(ops.max(ops.where(used, eta, zero - 1e30)))
    centred = ops.where(used, eta - shift, zero)
    risk = w * ops.exp(centred)
    start = ops.searchsorted(time, time, "left")
    last = ops.searchsorted(time, time, "right") - 1
    at_risk = ops.take(ops.cumsum(risk, reverse=True), start)

    def tied(v):  # the sum of v over the rows tied with each row
        return ops.take(ops.cumsum(v), last) - ops.take(ops.cumsum(v, exclusive=True), start)

    deaths = tied(event)
    several = ops.maximum(deaths, ops.ones_like(deaths))
    mean_weight = tied(event * w) / several
    denominator = at_risk
    if efron:
        rank = ops.cumsum(event, exclusive=True) - ops.take(ops.cumsum(event, exclusive=True),
                                                           start)
        denominator = at_risk - rank / several * tied(event * risk)
    log_denominator = ops.log(ops.where(event > 0, denominator, ops.ones_like(denominator)))
    return ops.sum(event * mean_weight * log_denominator) - ops.sum(event * w * centred)


def set_loss(ops, y, eta, w, ties: str):
    """The family table's set-level loss: −log partial likelihood (``ties``: efron/breslow)."""
    return negative_log_partial_likelihood(ops, y, eta, w, ties != "breslow")


def deviance(y: np.ndarray, eta: np.ndarray, w: np.ndarray | None, ties: str) -> float:
    """−2 log partial likelihood of the rows (NumPy, float64)."""
    w = np.ones(len(y)) if w is None else np.asarray(w, dtype=np.float64)
    ops = numpy_ops()
    with ops.errstate():
        value = set_loss(ops, np.asarray(y, np.float64), np.asarray(eta, np.float64).reshape(
            -1, 1), w, ties)
    return float(2 * value)


# -- NumPy: risk sets at the distinct event times ---------------------------------------------

@dataclass
class RiskSets:
    """The sorted rows and, per row, what the partial likelihood needs (float64)."""

    order: np.ndarray
    time: np.ndarray
    event: np.ndarray
    w: np.ndarray
    risk: np.ndarray  # w·exp(η)
    start: np.ndarray  # the first row tied with each row (sorted positions)
    last: np.ndarray
    at_risk: np.ndarray  # Σ risk over the risk set of each row's time
    deaths: np.ndarray  # events tied with each row
    mean_weight: np.ndarray
    death_risk: np.ndarray  # Σ risk of the events tied with each row
    rank: np.ndarray  # each event's rank among its tied events (0 … d − 1)

    @classmethod
    def of(cls, y: np.ndarray, eta: np.ndarray, w: np.ndarray | None) -> RiskSets:
        y = np.asarray(y, dtype=np.float64)
        w = np.ones(len(y)) if w is None else np.asarray(w, dtype=np.float64)
        order = np.argsort(y[:, 0], kind="stable")
        time, w_s = y[order, 0], w[order]
        event = np.where(w_s > 0, y[order, 1], 0.0)
        risk = w_s * np.exp(np.asarray(eta, dtype=np.float64).reshape(-1)[order])
        start = np.searchsorted(time, time, "left")
        last = np.searchsorted(time, time, "right") - 1
        inclusive, exclusive = np.cumsum, lambda v: np.cumsum(v) - v

        def tied(v):
            return inclusive(v)[last] - exclusive(v)[start]

        deaths = tied(event)
        several = np.maximum(deaths, 1.0)
        return cls(order, time, event, w_s, risk, start, last,
                   np.cumsum(risk[::-1])[::-1][start], deaths, tied(event * w_s) / several,
                   tied(event * risk), exclusive(event) - exclusive(event)[start])

    def denominators(self, efron: bool) -> np.ndarray:
        """Each event's risk-set sum (Efron: less its share of the tied events' risk)."""
        if not efron:
            return self.at_risk
        return self.at_risk - self.rank / np.maximum(self.deaths, 1.0) * self.death_risk


def information(Z: np.ndarray, y: np.ndarray, eta: np.ndarray, w: np.ndarray | None,
                ties: str) -> np.ndarray:
    """The observed information of the partial likelihood at η for the design ``Z`` (as
    ``coxph``'s ``imat``): Σ over events of c·(Σ r z z' / D − (Σ r z)(Σ r z)' / D²)."""
    sets = RiskSets.of(y, eta, w)
    efron = ties != "breslow"
    Zs = np.asarray(Z, dtype=np.float64)[sets.order]
    D = sets.denominators(efron)
    c = np.where(sets.event > 0, sets.mean_weight / np.where(sets.event > 0, D, 1.0), 0.0)
    # Σ_i c_i Σ_{j ∈ R_i} r_j z_j z_j' / D_i = Σ_j r_j z_j z_j' · (Σ_{i: t_i ≤ t_j} c_i/D_i)
    a = np.cumsum(c)[sets.last]
    share = np.where((sets.event > 0) & efron, sets.rank / np.maximum(sets.deaths, 1.0), 0.0)
    tied_share = np.cumsum(c * share)
    b = tied_share[sets.last] - (tied_share - c * share)[sets.start]
    weight = sets.risk * (a - np.where(sets.event > 0, b, 0.0))
    rz = sets.risk[:, None] * Zs
    first = np.cumsum(rz[::-1], axis=0)[::-1][sets.start]
    death_first = (np.cumsum(sets.event[:, None] * rz, axis=0)[sets.last]
                   - (np.cumsum(sets.event[:, None] * rz, axis=0)
                      - sets.event[:, None] * rz)[sets.start])
    A = first - share[:, None] * death_first
    events = sets.event > 0
    second = (A[events] * (c[events] / D[events])[:, None]).T @ A[events]
    return (Zs * weight[:, None]).T @ Zs - second


def baseline_hazard(y: np.ndarray, eta: np.ndarray, w: np.ndarray | None,
                    ties: str) -> tuple[np.ndarray, np.ndarray]:
    """The distinct event times and the baseline cumulative hazard there (at η = 0), as
    ``survfit.coxph``: Breslow's estimator, or Efron's (Fleming–Harrington) with Efron ties."""
    sets = RiskSets.of(y, eta, w)
    events = sets.event > 0
    steps = np.where(events, sets.mean_weight / np.where(events, sets.denominators(
        ties != "breslow"), 1.0), 0.0)
    times, first = np.unique(sets.time[events], return_index=True)
    per_time = np.bincount(np.searchsorted(times, sets.time[events]), weights=steps[events],
                           minlength=len(times))
    return times, np.cumsum(per_time)


def cumulative_hazard_at(times: np.ndarray, cumhaz: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The step function H₀ at ``at`` (0 before the first event time)."""
    position = np.searchsorted(times, np.asarray(at, dtype=np.float64), side="right")
    return np.concatenate([[0.0], cumhaz])[position]


def martingale_residuals(y: np.ndarray, eta: np.ndarray, w: np.ndarray | None,
                         ties: str) -> np.ndarray:
    """δ − exp(η)·Ĥ₀(t) per row, as ``residuals.coxph(type = "martingale")`` (with Efron ties
    a row's own tied events count (1 − k/d) of their hazard, as coxph's)."""
    sets = RiskSets.of(y, eta, w)
    efron = ties != "breslow"
    events = sets.event > 0
    D = np.where(events, sets.denominators(efron), 1.0)
    step = np.where(events, sets.mean_weight / D, 0.0)
    before = np.cumsum(step)  # Σ over events up to and including each row's tied set
    through = before[sets.last]
    cumhaz = through.copy()
    if efron:
        share = np.where(events, 1 - sets.rank / np.maximum(sets.deaths, 1.0), 0.0)
        own = np.cumsum(step * share)
        tied_own = own[sets.last] - (own - step * share)[sets.start]
        prior = (before - step)[sets.start]
        cumhaz = np.where(events, prior + tied_own, through)
    resid = np.empty(len(y))
    score = np.exp(np.asarray(eta, dtype=np.float64).reshape(-1)[sets.order])
    resid[sets.order] = np.where(sets.w > 0, sets.event, y[sets.order, 1]) - score * cumhaz
    return resid


RESIDUAL_TYPES = ("martingale", "deviance")


def residuals(type: str, y: np.ndarray, eta: np.ndarray, w: np.ndarray | None,
              ties: str) -> np.ndarray:
    """``residuals.coxph`` of ``type`` (one of :data:`RESIDUAL_TYPES`) per row."""
    martingale = martingale_residuals(y, eta, w, ties)
    if type == "martingale":
        return martingale
    return deviance_residuals(martingale, np.asarray(y, dtype=np.float64)[:, 1])


def deviance_residuals(martingale: np.ndarray, status: np.ndarray) -> np.ndarray:
    """sign(M)·√(−2(M + δ log(δ − M))), as ``residuals.coxph(type = "deviance")``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_term = np.where(status > 0, status * np.log(np.where(status > 0, status - martingale,
                                                                 1.0)), 0.0)
    return np.sign(martingale) * np.sqrt(np.maximum(-2 * (martingale + log_term), 0.0))


def concordance(y: np.ndarray, eta: np.ndarray, w: np.ndarray | None = None) -> float:
    """Harrell's C as ``survival::concordance`` of a Cox model: over comparable pairs (an
    event at t and a row still at risk after it: a later time, or censored at t), the share
    where the event has the higher η, ties in η counting one half (pairs weighted w_i·w_j)."""
    y = np.asarray(y, dtype=np.float64)
    w = np.ones(len(y)) if w is None else np.asarray(w, dtype=np.float64)
    eta = np.asarray(eta, dtype=np.float64).reshape(-1)
    keep = w > 0
    time, status, eta, w = y[keep, 0], y[keep, 1], eta[keep], w[keep]
    cases = np.flatnonzero(status > 0)
    agree = tie = total = 0.0
    step = max(1, _PAIR_CHUNK // max(len(time), 1))
    for begin in range(0, len(cases), step):
        i = cases[begin:begin + step]
        later = (time[None, :] > time[i, None]) | ((time[None, :] == time[i, None])
                                                   & (status[None, :] == 0))
        pair_w = w[i, None] * w[None, :] * later
        agree += float((pair_w * (eta[i, None] > eta[None, :])).sum())
        tie += float((pair_w * (eta[i, None] == eta[None, :])).sum())
        total += float(pair_w.sum())
    return (agree + tie / 2) / total if total > 0 else float("nan")


def survival_metrics(y: np.ndarray, eta: np.ndarray, w: np.ndarray | None,
                     ties: str) -> dict[str, float]:
    """The deviance (−2 log partial likelihood), its mean per row and the concordance."""
    w_arr = np.ones(len(y)) if w is None else np.asarray(w, dtype=np.float64)
    dev = deviance(y, eta, w_arr, ties) if len(y) else float("nan")
    return {"deviance": dev, "mean_deviance": dev / max(float(w_arr.sum()), 1e-300),
            "concordance": concordance(y, eta, w_arr)}



def check_times(times: Any) -> np.ndarray:
    """``times=`` of ``predict(type="survival")``: one or more finite numbers."""
    values = np.atleast_1d(np.asarray(times, dtype=object))
    ok = (values.ndim == 1 and 0 < len(values) <= 100_000
          and all(isinstance(v, (int, float, np.integer, np.floating))
                  and not isinstance(v, (bool, np.bool_)) and np.isfinite(v) for v in values))
    if not ok:
        raise OptionError(f"times must be one or more finite numbers (e.g. times=[100, 365]); "
                          f"got {str(times)[:100]}.")
    return values.astype(np.float64)


def n_events(y: np.ndarray, w: np.ndarray) -> int:
    """The events among the rows of positive weight (``logLik.coxph``'s nobs)."""
    return int(((np.asarray(y)[:, 1] > 0) & (np.asarray(w) > 0)).sum())


def score_rows(y: np.ndarray, eta: np.ndarray, w: np.ndarray | None, ties: str) -> np.ndarray:
    """∂ log partial likelihood / ∂η per row: the prior weight times the martingale
    residual (the score of a Cox model is Z' of these)."""
    w = np.ones(len(y)) if w is None else np.asarray(w, dtype=np.float64)
    return w * martingale_residuals(y, eta, w, ties)


def fit_linear(Z: np.ndarray, y: np.ndarray, w: np.ndarray | None, offset: np.ndarray | None,
               ties: str, max_steps: int = 50) -> np.ndarray:
    """The coefficients of a linear Cox model (no intercept) by Newton–Raphson with step
    halving, as ``coxph.fit``: the GLM baseline of ``compare()``."""
    base = np.zeros(len(y)) if offset is None else np.asarray(offset, np.float64).reshape(-1)
    beta = np.zeros(Z.shape[1])
    current = -deviance(y, base, w, ties) / 2
    for _ in range(max_steps):
        eta = base + Z @ beta
        step = np.linalg.lstsq(information(Z, y, eta, w, ties), Z.T @ score_rows(y, eta, w, ties),
                               rcond=None)[0]
        for _ in range(30):  # halve a step that lowers the likelihood
            value = -deviance(y, base + Z @ (beta + step), w, ties) / 2
            if value >= current - 1e-12 * abs(current):
                break
            step /= 2
        beta, previous, current = beta + step, current, value
        if abs(current - previous) <= 1e-10 * (abs(current) + 1e-10):
            break
    return beta


def linear_means(train: tuple, new: tuple, ties: str) -> np.ndarray:
    """``compare()``'s GLM baseline for new rows: exp(η) of the linear Cox model fitted on
    ``train`` = (Z, y, weights, offset); ``new`` = (Z, offset)."""
    Z, y, weights, offset = train
    Zn, new_offset = new
    beta = fit_linear(Z, y, weights, offset, ties)
    eta = Zn @ beta + (0 if new_offset is None else np.asarray(new_offset).reshape(-1))
    return np.exp(eta)[:, None]


def finite_from_json(value: Any, what: str) -> float:
    """A stored number, checked to be finite."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not np.isfinite(value):
        raise ValueError(f"the family's {what} is not a finite number")
    return float(value)


def baseline_from_json(stored: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """A stored baseline hazard, checked: increasing times, a non-decreasing finite hazard."""
    if stored is None:
        return None
    try:
        times, cumhaz = (np.asarray(v, dtype=np.float64).reshape(-1) for v in stored)
    except (TypeError, ValueError):
        raise ValueError("the family's baseline hazard is not two lists of numbers") from None
    if not (len(times) == len(cumhaz) and np.isfinite(times).all() and np.isfinite(cumhaz).all()
            and (np.diff(times) > 0).all() and (np.diff(cumhaz) >= 0).all()
            and (cumhaz >= 0).all()):
        raise ValueError("the family's baseline hazard is not increasing times with a "
                         "non-decreasing cumulative hazard")
    return times, cumhaz
