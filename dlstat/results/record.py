"""``FitRecord``: the numbers measured when a model was fitted (kept in model files)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class FitRecord:
    """Numbers measured when the model was fitted (kept in model files)."""

    n_obs: int
    n_dropped: int
    n_validation: int
    epochs_run: int
    best_epoch: int
    deviance: float
    null_deviance: float
    metrics: dict[str, dict[str, float]]
    notes: list[str] = field(default_factory=list)
    # Design columns (positions in the spec's display columns) left out of an unpenalised GLM
    # as linear combinations of the columns before them: R's NA coefficients.
    aliased: list[int] = field(default_factory=list)
    n_zero_weight: int = 0  # training rows of prior weight 0 (not in n_obs; R's BIC counts them)


@dataclass
class RowPriors:
    """What each training row brings besides its design and response (not kept in model
    files): the prior weight (times the trials of a binomial counts response), the offset on
    the user's link scale, and the trials of a counts response (for R's binomial AIC)."""

    weights: np.ndarray
    offset: np.ndarray | None = None
    trials: np.ndarray | None = None


@dataclass
class HeldRows:
    """Rows a fit did not train on (its validation or test rows; not kept in model files):
    the standardised design, the natural-scale response, the weights (prior × trials) and
    the offset on the user's link scale."""

    X: np.ndarray
    y: np.ndarray
    weights: np.ndarray
    offset: np.ndarray | None = None
