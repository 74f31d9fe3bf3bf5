"""The centre and scale that standardise design columns, computed without overflow.

A column on a 1e200 scale has a variance of 1e400, which is infinite in float64: its scale
became ``inf``, the column was divided down to zeros and its coefficient read as a silent 0.
Each column whose largest absolute value is far from 1 (beyond 2**±256) is first divided by a
power of two near that value, which is exact in binary floating point, so its squares and
sums stay finite; an ordinary column is left as it is and its numbers are unchanged to the
last bit.  Constancy is judged against the column's own magnitude, so a column on a 1e-20
scale is a column, not a constant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DataError

FAR = 2.0 ** 256  # columns whose largest |value| lies beyond 2**±256 are rescaled first
CONSTANT = 1e-12  # a column whose sd is below this fraction of its largest |value|
# Beyond this magnitude (or below its inverse) a column's squares in the information matrix
# and its coefficient's variance (about 1/scale**2) leave float64's range.
INFERENCE_RANGE = 1e120


@dataclass
class Standardisation:
    """Per column: the centre, the scale (the sd, 1 for a constant column) and whether the
    column is constant."""

    center: np.ndarray
    scale: np.ndarray
    constant: np.ndarray


def standardise_columns(X: np.ndarray, weights: np.ndarray | None = None,
                        center: bool = True) -> Standardisation:
    """Standardise the finite matrix ``X`` in place (``(X - center) / scale``) and return the
    centre and scale on ``X``'s original scale; with ``weights`` (one per row) both are
    weighted.  ``center=False`` keeps the origin (a design through the origin)."""
    unit, peak = _units(X)
    rescaled = bool((unit != 1).any())
    if rescaled:
        X /= unit
    mean = _mean(X, weights) if center else np.zeros(X.shape[1])
    X -= mean
    sd = np.sqrt(_mean_square(X, weights)) if X.shape[0] else np.ones(X.shape[1])
    constant = sd <= CONSTANT * peak / unit
    sd = np.where(constant, 1.0, sd)
    X /= sd
    return Standardisation(mean * unit if rescaled else mean,
                           sd * unit if rescaled else sd, constant)


def _units(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column, the power of two that brings its largest |value| into [0.5, 1) when that
    lies beyond 2**±256 (else 1), and that largest |value|; two passes, no copy of ``X``."""
    if not X.size:
        return np.ones(X.shape[1]), np.zeros(X.shape[1])
    peak = np.maximum(np.abs(X.max(axis=0)), np.abs(X.min(axis=0)))
    _, exponent = np.frexp(peak)
    far = (peak > FAR) | ((peak > 0) & (peak < 1 / FAR))
    return np.ldexp(1.0, np.where(far, np.clip(exponent, -1021, 1023), 0)), peak


def _mean(X: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Column means of ``X``, weighted when ``weights`` are given (any number of columns)."""
    if weights is None or not X.shape[1]:
        return X.mean(axis=0)
    return weights @ X / weights.sum()


def _mean_square(X: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Column means of ``X ** 2`` (weighted when ``weights`` are given), without forming it."""
    if weights is None:
        return np.einsum("ij,ij->j", X, X) / max(len(X), 1)
    return np.einsum("i,ij,ij->j", weights, X, X) / weights.sum()


def check_inference_range(spec: Any) -> None:
    """Refuse the covariance of a design with a column on a scale whose squares (or whose
    coefficient's variance) float64 cannot hold: R reports a standard error of 0 and a
    t value of -Inf there; dlstat says why and how to rescale."""
    center, scale = np.abs(np.asarray(spec.center)), np.asarray(spec.scale)
    far = (np.maximum(center, scale) > INFERENCE_RANGE) | (scale < 1 / INFERENCE_RANGE)
    if far.any():
        j = int(np.flatnonzero(far)[0])
        size = max(center[j], scale[j]) if scale[j] >= 1 else scale[j]
        raise DataError(
            f"the standard errors cannot be computed in double precision: design column "
            f"{spec.names[j]!r} is on a {size:.0e} scale, so its squares or its coefficient's "
            f"variance (about 1/{size:.0e}**2) fall outside the range of float64 (the "
            f"coefficients themselves are right). Rescale the column (e.g. divide it by "
            f"{size:.0e}) and refit for standard errors, intervals and tests.")
