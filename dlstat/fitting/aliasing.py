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
# A design whose every column keeps this share of its norm after the columns before it are
# projected out is of full rank under R's rule whatever the rounding: the Gram matrix (formed
# without a copy of the design) certifies it, with its rounding (about 1e-7 here) far below.
_CERTAIN_SHARE = 1e-5
_RECOMPUTE_BELOW = 1e-6  # R's rule: recompute a downdated squared norm ratio below this
_CHUNK_VALUES = 2**22  # rows of the design are read in blocks of about 32 MB


def raw_design(spec, X: np.ndarray) -> np.ndarray:
    """Standardised design rows ``X`` back on the user's scale, with the intercept column
    first when the formula has one (the columns of R's ``model.matrix``)."""
    raw = X * spec.scale + spec.center
    return np.column_stack([np.ones(len(raw)), raw]) if spec.intercept else raw


def _unit_design(spec, X: np.ndarray) -> np.ndarray:
    """The raw design with each column divided by its scale: R's rank rule compares a
    column's remaining norm with its own norm, so it decides alike on any positive column
    scaling, and this one cannot overflow or underflow (a column on a 1e-200 scale)."""
    unit = X + spec.center / spec.scale
    return np.column_stack([np.ones(len(unit)), unit]) if spec.intercept else unit


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
    if _certainly_full_rank(spec, X, weights):
        return ()
    rank, pivot = _limited_pivoting(_weighted_triangle(spec, X, weights), tol,
                                    int((weights > 0).sum()))
    first = int(spec.intercept)
    return tuple(sorted(int(j) - first for j in pivot[rank:]))


def pivoted_rank(Z: np.ndarray, tol: float = ALIAS_TOLERANCE) -> tuple[int, np.ndarray]:
    """The rank of ``Z`` and its column order under R's limited pivoting (``qr(Z, tol)``'s
    ``rank`` and ``pivot``, 0-based): the first ``rank`` entries of the order are the columns
    kept, the rest the aliased ones, moved to the end in the order they were found.

    The rule runs on the triangular factor of a plain (blocked LAPACK) QR of ``Z``: norms of
    projections do not change under the orthogonal factor, so its decisions are those on
    ``Z`` itself, at the cost of a p-column problem instead of an n-row one."""
    Z = np.asarray(Z, dtype=np.float64)
    return _limited_pivoting(_triangle(Z), tol, len(Z))


def _triangle(Z: np.ndarray) -> np.ndarray:
    """R of Z = QR (a copy of ``Z`` when it has no more rows than columns)."""
    return np.linalg.qr(Z, mode="r") if len(Z) > Z.shape[1] else Z.copy()


def _weighted_triangle(spec, X: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The triangular factor of the raw design's rows of positive weight, each times the
    square root of its weight, from blocks of rows (R of the stacked block factors): no
    copy of the whole design is made."""
    triangle = np.zeros((0, X.shape[1] + int(spec.intercept)))
    step = max(1, _CHUNK_VALUES // max(X.shape[1], 1))
    for start in range(0, len(X), step):
        w = weights[start:start + step]
        used = w > 0
        rows = _unit_design(spec, X[start:start + step][used]) * np.sqrt(w[used])[:, None]
        triangle = _triangle(np.vstack([triangle, rows]))
    return triangle


def _certainly_full_rank(spec, X: np.ndarray, weights: np.ndarray) -> bool:
    """Whether no column can be aliased: without pivoting, the norm left of column l after
    the columns before it are projected out is L[l, l] of the Cholesky factor of the weighted
    Gram matrix of the raw design, built here from the standardised rows in blocks."""
    n, p = X.shape
    if p == 0:
        return True
    if n <= p:
        return False
    gram, sums = np.zeros((p, p)), np.zeros(p)
    step = max(1, _CHUNK_VALUES // p)
    for start in range(0, n, step):
        rows, w = X[start:start + step], weights[start:start + step]
        gram += (rows * w[:, None]).T @ rows
        sums += w @ rows
    total = float(weights.sum())
    center = spec.center / spec.scale  # the columns of _unit_design
    raw_sums = sums + center * total  # Σ w x for each column
    raw = (gram + np.outer(sums, center) + np.outer(center, sums)
           + total * np.outer(center, center))
    if spec.intercept:
        raw = np.block([[np.array([[total]]), raw_sums[None, :]], [raw_sums[:, None], raw]])
    norms = np.sqrt(np.diag(raw))
    if not np.isfinite(raw).all() or not (norms > 0).all():
        return False
    try:
        remaining = np.diag(np.linalg.cholesky(raw))
    except np.linalg.LinAlgError:
        return False
    return bool((remaining >= _CERTAIN_SHARE * norms).all())


def _limited_pivoting(x: np.ndarray, tol: float, n: int) -> tuple[int, np.ndarray]:
    """Householder QR of ``x`` (overwritten; the rows of a design of ``n`` rows, or its
    triangular factor) with R's rule: at step l, while column l's remaining norm is below
    ``tol`` times its original norm, rotate it to the last place."""
    p = x.shape[1]
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
        if step < len(x) - 1:
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
