"""Aliased design columns, found as R's ``glm.fit`` finds them.

R fits a GLM through a QR decomposition with *limited* column pivoting (LINPACK's ``dqrdc2``
as modified for R): the columns are taken in order, and a column whose norm, after the columns
before it are projected out, has fallen below ``tol`` times its original norm is moved to the
end.  The columns moved past the rank are *aliased*: R reports their coefficients as NA ("not
defined because of singularities") and counts no degree of freedom for them.  Taking columns
in order keeps the first of two collinear columns, so the other coefficients are the ones R
gives.  This module implements that rule in NumPy; a fit leaves the aliased columns out.
"""

from __future__ import annotations

import numpy as np

# glm.fit's tolerance, min(1e-7, epsilon / 1000) at the default epsilon = 1e-8.
ALIAS_TOLERANCE = 1e-11
# A column whose remaining norm (unpivoted QR) is this far above the tolerance is never moved,
# whatever the rounding of R's downdated norms: the faster LAPACK path suffices.
_CLEAR_MARGIN = 100.0
_RECOMPUTE_BELOW = 1e-6  # R's rule: recompute a downdated squared norm ratio below this


def raw_design(spec, X: np.ndarray) -> np.ndarray:
    """Standardised design rows ``X`` back on the user's scale, with the intercept column
    first when the formula has one (the columns of R's ``model.matrix``)."""
    raw = X * spec.scale + spec.center
    return np.column_stack([np.ones(len(raw)), raw]) if spec.intercept else raw


def aliased_columns(spec, X: np.ndarray, weights: np.ndarray,
                    tol: float = ALIAS_TOLERANCE) -> tuple[int, ...]:
    """The design columns (positions in ``spec.display_columns``, the intercept not counted)
    that R's ``glm`` would leave undefined: the pivoted-QR rank rule on the training rows of
    positive weight, each scaled by the square root of its prior weight.

    Parameters
    ----------
    spec : DesignSpec
        The design's learned state (centre, scale, intercept).
    X : numpy.ndarray
        The standardised training rows.
    weights : numpy.ndarray
        Their prior weights (times binomial trials).
    tol : float
        The relative norm below which a column counts as a combination of earlier ones.

    Returns
    -------
    tuple of int
        Sorted positions of the aliased design columns; empty for a design of full rank.
    """
    used = weights > 0
    Z = raw_design(spec, X[used]) * np.sqrt(weights[used])[:, None]
    rank, pivot = pivoted_rank(Z, tol)
    first = int(spec.intercept)
    return tuple(sorted(int(j) - first for j in pivot[rank:]))


def pivoted_rank(Z: np.ndarray, tol: float = ALIAS_TOLERANCE) -> tuple[int, np.ndarray]:
    """The rank of ``Z`` and its column order under R's limited pivoting (``qr(Z, tol)``'s
    ``rank`` and ``pivot``, 0-based): the first ``rank`` entries of the order are the columns
    kept, the rest the aliased ones, moved to the end in the order they were found."""
    n, p = Z.shape
    if p <= n and _clearly_full_rank(Z, tol):
        return p, np.arange(p)
    return _limited_pivoting(np.array(Z, dtype=np.float64), tol)


def _clearly_full_rank(Z: np.ndarray, tol: float) -> bool:
    """Whether no column would be moved: without pivoting, the norm left of column l after
    projecting out the columns before it is |R[l, l]| of a plain QR (blocked LAPACK)."""
    norms = np.linalg.norm(Z, axis=0)
    if not np.isfinite(Z).all() or (norms == 0).any():
        return False
    remaining = np.abs(np.diag(np.linalg.qr(Z, mode="r")))
    return bool((remaining >= _CLEAR_MARGIN * tol * norms).all())


def _limited_pivoting(x: np.ndarray, tol: float) -> tuple[int, np.ndarray]:
    """Householder QR of ``x`` (overwritten) with R's rule: at step l, while column l's
    remaining norm is below ``tol`` times its original norm, rotate it to the last place."""
    n, p = x.shape
    order = np.arange(p)
    remaining = np.linalg.norm(x, axis=0)  # downdated norms of the rows below the step
    original = np.where(remaining == 0, 1.0, remaining)
    kept = p  # columns at positions >= kept have been moved to the end
    for step in range(min(n, p)):
        while step < kept and remaining[step] < original[step] * tol:
            rotation = np.r_[np.arange(step), np.arange(step + 1, p), step]
            x, order = x[:, rotation], order[rotation]
            remaining, original = remaining[rotation], original[rotation]
            kept -= 1
        if step < n - 1:
            _reflect(x, step, remaining)
    return min(kept, n), order


def _reflect(x: np.ndarray, step: int, remaining: np.ndarray) -> None:
    """Apply the Householder reflection of column ``step`` to the columns after it and
    downdate their remaining norms (recomputed when most of a norm was removed, as R does)."""
    head = x[step:, step]
    norm = np.linalg.norm(head)
    if norm == 0:
        return
    if head[0] != 0:
        norm = np.copysign(norm, head[0])
    head /= norm
    head[0] += 1.0
    rest = x[step:, step + 1:]
    rest -= np.outer(head, (head @ rest) / head[0])
    later = remaining[step + 1:]
    nonzero = later != 0
    ratio = np.zeros_like(later)
    ratio[nonzero] = np.maximum(1 - (np.abs(rest[0, nonzero]) / later[nonzero]) ** 2, 0)
    recompute = nonzero & (ratio < _RECOMPUTE_BELOW)
    later[nonzero & ~recompute] *= np.sqrt(ratio[nonzero & ~recompute])
    later[recompute] = np.linalg.norm(rest[1:, recompute], axis=0)
    x[step, step] = -norm
