"""The null model with an offset: the intercept-only GLM whose linear predictor carries the
offset, as R's ``glm`` fits it for the null deviance (an iterative fit for binomial)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.special import expit, logit

from .errors import OptionError

if TYPE_CHECKING:
    from .families import Family

_NEWTON_STEPS = 100


def null_means_with_offset(family: Family, y: np.ndarray, weights: np.ndarray | None,
                           offset: np.ndarray, intercept: bool = True) -> np.ndarray:
    """Means [n, outputs] of the intercept-only fit with ``offset`` (user's link scale, [n]);
    without an intercept, the offset alone."""
    o = np.asarray(offset, dtype=np.float64).reshape(-1, 1)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
    name = family.name
    if name == "multinomial":
        raise OptionError("an offset is not defined for the multinomial family (one linear "
                          "predictor per class); drop the offset or use family='binomial'.")
    if not intercept:
        eta = np.repeat(o, y.shape[1], axis=1)
    elif name == "gaussian":
        eta = o + np.average(y - o, axis=0, weights=w)
    elif name == "poisson":
        eta = o + np.log(np.maximum((w @ y), 1e-300) / (w @ np.exp(o)))
    else:
        eta = o + _binomial_intercept(y[:, 0], w, o[:, 0])
    return {"gaussian": eta, "poisson": np.exp(eta)}.get(name, expit(eta))


def _binomial_intercept(y: np.ndarray, w: np.ndarray, o: np.ndarray) -> float:
    """The intercept b maximising the binomial likelihood of expit(b + o): Newton steps."""
    b = float(logit(np.clip(np.average(y, weights=w), 1e-6, 1 - 1e-6)) - np.average(o, weights=w))
    for _ in range(_NEWTON_STEPS):
        p = expit(b + o)
        step = float(w @ (y - p)) / max(float(w @ (p * (1 - p))), 1e-300)
        b += step
        if abs(step) < 1e-12:
            break
    return b
