"""A family's own parameter estimated with the networks (the negative binomial's θ, by maximum
likelihood as ``MASS::glm.nb``).

``glm.nb`` alternates: the coefficients at a fixed θ, then θ by ``theta.ml`` given the fitted
means, until θ settles.  Here every network of a stack does the same: the stack trains at
each network's θ (a per-network tensor of the engine, so no round retraces a graph), each
network's θ is re-estimated from its fitted means on its own training rows (with its weights,
a bootstrap replicate's counts included), and the rounds repeat until no θ moves.  A given
parameter (``theta=``) is used as it is: one training run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ..engine import StackJob, forward_auto, select

MAX_ROUNDS = 25  # glm.nb's control$maxit
# How far θ may still move in the last round, relative: L-BFGS reaches each fit's optimum in
# float64; a first-order optimizer stops after its epochs in float32, whose fitted means (and
# so θ) are not defined more finely than this.
EXACT_TOLERANCE, FIRST_ORDER_TOLERANCE = 1e-9, 1e-4


@dataclass
class Estimated:
    """Each network's parameter, its standard error and any note on how it was found."""

    values: np.ndarray  # [M]
    ses: np.ndarray  # [M]
    notes: list[str]


def start_values(blocks, networks) -> np.ndarray | None:
    """Each network's parameter for the first training run: the one given, else the maximum-
    likelihood value at its block's intercept-only means; None for a family without one."""
    fam = blocks[0].family
    if fam.kind.parameter is None:
        return None
    if not fam.estimates_parameter:
        return np.full(len(networks), fam.parameter)
    starts = []
    for block in blocks:
        y = block.family.natural(block.Y)
        null = block.family.provisional().null_means(y, block.weights, block.offset,
                                                     block.design.spec.intercept)
        starts.append(_estimate(block.family, y, null, block.weights)[0])
    return np.array([starts[net.block] for net in networks])


def train_estimating(job: StackJob, blocks, networks,
                     train: Callable[[StackJob], object]) -> tuple[object, Estimated | None]:
    """Train ``job`` (with ``train``), alternating with the family parameter's estimation when
    the fit estimates it; the last result and each network's estimate (None when given)."""
    result = train(job)
    if not blocks[0].family.estimates_parameter:
        return result, None
    tolerance = EXACT_TOLERANCE if job.optimizer == "lbfgs" else FIRST_ORDER_TOLERANCE
    current = np.asarray(job.family_parameter, dtype=np.float64)
    notes: list[str] = []
    for _ in range(MAX_ROUNDS):
        values, ses, warnings = _estimates(job, result, blocks, networks)
        moved = np.abs(values - current) > tolerance * np.maximum(values, 1e-8)
        if not moved.any() or not np.isfinite(values).all() or result.diverged.any():
            break
        current = values
        job = replace(job, family_parameter=values)
        result = train(job)
    else:
        name = blocks[0].family.kind.parameter.name
        notes.append(f"{name} still moved after {MAX_ROUNDS} alternations of the fit and its "
                     f"estimate (as glm.nb's 'alternation limit reached').")
    return result, Estimated(values, ses, notes + sorted(set(warnings)))


def _estimates(job: StackJob, result, blocks, networks) -> tuple[np.ndarray, np.ndarray,
                                                                  list[str]]:
    """Each network's parameter by maximum likelihood at its fitted means (training rows)."""
    weights = job.repeated_weights()
    offsets = job.offsets()
    values, ses, warnings = [], [], []
    for m, net in enumerate(networks):
        fam = blocks[net.block].family
        rows = np.flatnonzero(weights[m] > 0)
        eta = forward_auto(select(result.params, m), job.topology, job.X[rows]) + offsets[rows]
        value, se, warning = _estimate(fam, fam.natural(job.Y[rows]), fam.mean(eta),
                                       weights[m, rows])
        values.append(value)
        ses.append(se)
        if warning:
            warnings.append(f"{fam.kind.parameter.name}: {warning} (network {m + 1}).")
    return np.array(values), np.array(ses), warnings


def _estimate(fam, y: np.ndarray, mu: np.ndarray, w: np.ndarray) -> tuple[float, float, str]:
    mu = np.broadcast_to(mu, y.shape)
    return fam.kind.parameter.estimate(y[:, 0], mu[:, 0], w)
