"""``FitRecord``: the numbers measured when a model was fitted (kept in model files)."""

from __future__ import annotations

from dataclasses import dataclass, field


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
