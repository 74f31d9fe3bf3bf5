"""The negative binomial's θ by maximum likelihood given the means, as ``MASS::theta.ml``
(its Newton iterations, starting value, stopping rule and standard error), and the
log-likelihood ``MASS::glm.nb`` reports."""

from __future__ import annotations

import numpy as np

# theta.ml's defaults: limit = control$maxit (glm.control's 25) and eps = .Machine$double.eps^0.25
THETA_ML_LIMIT = 25
THETA_ML_EPS = float(np.finfo(np.float64).eps) ** 0.25


def theta_ml(y: np.ndarray, mu: np.ndarray, w: np.ndarray,
             limit: int = THETA_ML_LIMIT) -> tuple[float, float, str]:
    """θ maximising the negative binomial likelihood of ``y`` at means ``mu`` (prior weights
    ``w``), its standard error √(1/information) and a warning ("" when none), exactly as
    ``MASS::theta.ml(y, mu, sum(w), w, limit)`` computes them."""
    from scipy.special import digamma, polygamma

    y, mu, w = (np.asarray(a, dtype=np.float64).ravel() for a in (y, mu, w))
    used = w > 0
    y, mu, w = y[used], mu[used], w[used]
    n = w.sum()

    def score(th):
        return float(w @ (digamma(th + y) - digamma(th) + np.log(th) + 1 - np.log(th + mu)
                          - (y + th) / (mu + th)))

    def info(th):
        return float(w @ (-polygamma(1, th + y) + polygamma(1, th) - 1 / th + 2 / (mu + th)
                          - (y + th) / (mu + th) ** 2))

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t0 = n / float(w @ (y / mu - 1) ** 2)
        it, delta, information = 0, 1.0, np.nan
        while True:
            it += 1
            if it >= limit or not abs(delta) > THETA_ML_EPS:
                break
            t0 = abs(t0)
            information = info(t0)
            delta = score(t0) / information
            t0 += delta
    warning = ""
    if t0 < 0:
        t0, warning = 0.0, "estimate truncated at zero"
    if it == limit:
        warning = "iteration limit reached"
    return float(t0), float(np.sqrt(1 / information)), warning


def negbin_loglik(y: np.ndarray, mu: np.ndarray, w: np.ndarray, theta: float) -> float:
    """Σ w log f(y; μ, θ), ``glm.nb``'s ``loglik`` (``twologlik`` / 2)."""
    from scipy.special import gammaln

    y, mu, w = (np.asarray(a, dtype=np.float64).ravel() for a in (y, mu, w))
    th = float(theta)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = (gammaln(th + y) - gammaln(th) - gammaln(y + 1) + th * np.log(th)
                 + y * np.log(mu + (y == 0)) - (th + y) * np.log(th + mu))
    used = w > 0
    return float(w[used] @ terms[used])
