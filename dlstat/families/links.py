"""The link table: each link function is defined once — the link, its inverse (written against
``ops``, so NumPy and TensorFlow share it), dμ/dη, the valid range of η and μ, and the Keras
activation that applies its inverse.  Values are clamped as R's ``make.link`` clamps them, so a
GLM's numbers equal R's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .ops import numpy_ops

_EPS = float(np.finfo(np.float64).eps)
_PROBIT_CAP = 8.125890664701906  # -qnorm(.Machine$double.eps), R's probit clamp


@dataclass(frozen=True)
class Link:
    """One link function g: η = g(μ)."""

    name: str
    fun: Callable[[np.ndarray], np.ndarray]  # g(μ), NumPy
    inverse_ops: Callable[[Any, Any], Any]  # (ops, η) -> μ, NumPy or TensorFlow
    mu_eta: Callable[[np.ndarray], np.ndarray]  # dμ/dη at η, NumPy
    keras: str | Callable[[Any], Any]  # the Keras activation of the output layer
    valid_eta: Callable[[np.ndarray], np.ndarray] = lambda eta: np.isfinite(eta)

    def inverse(self, eta: np.ndarray) -> np.ndarray:
        """μ = g⁻¹(η) in NumPy."""
        ops = numpy_ops()
        with ops.errstate():
            return self.inverse_ops(ops, np.asarray(eta, dtype=np.float64))


def _log_inverse(ops, eta):
    return ops.maximum(ops.exp(eta), _EPS)


def _probit_inverse(ops, eta):
    capped = ops.minimum(ops.maximum(eta, -_PROBIT_CAP), _PROBIT_CAP)
    return 0.5 * ops.erfc(-capped / np.sqrt(2.0))


def _cloglog_inverse(ops, eta):
    return ops.maximum(ops.minimum(-ops.expm1(-ops.exp(eta)), 1 - _EPS), _EPS)


def _dnorm(eta):
    return np.exp(-0.5 * eta**2) / np.sqrt(2 * np.pi)


def _probit_fun(mu):
    from scipy.special import ndtri

    return ndtri(mu)


def _keras_fn(kind: str):
    """A Keras activation for an inverse link Keras does not name (applied to a tensor)."""
    def activation(x):
        import keras

        ops = keras.ops
        if kind == "inverse":
            return 1.0 / x
        if kind == "1/mu^2":
            return 1.0 / ops.sqrt(x)
        if kind == "sqrt":
            return ops.square(x)
        if kind == "probit":
            return 0.5 * ops.erfc(-x / np.sqrt(2.0)) if hasattr(ops, "erfc") else \
                0.5 * (1 + ops.erf(x / np.sqrt(2.0)))
        return -ops.expm1(-ops.exp(x))  # cloglog
    activation.__name__ = f"inverse_{kind.replace('/', '_').replace('^', '')}"
    return activation


LINKS: dict[str, Link] = {link.name: link for link in [
    Link("identity", lambda mu: mu, lambda ops, eta: eta, np.ones_like, "linear"),
    Link("log", lambda mu: np.log(mu), _log_inverse,
         lambda eta: np.maximum(np.exp(eta), _EPS), "exponential"),
    Link("logit", lambda mu: np.log(mu / (1 - mu)), lambda ops, eta: ops.sigmoid(eta),
         lambda eta: np.maximum(np.exp(-np.abs(eta)) / (1 + np.exp(-np.abs(eta))) ** 2, _EPS),
         "sigmoid"),
    Link("probit", _probit_fun, _probit_inverse, lambda eta: np.maximum(_dnorm(eta), _EPS),
         _keras_fn("probit")),
    Link("cloglog", lambda mu: np.log(-np.log1p(-mu)), _cloglog_inverse,
         lambda eta: np.maximum(np.exp(np.minimum(eta, 700)) * np.exp(-np.exp(
             np.minimum(eta, 700))), _EPS), _keras_fn("cloglog")),
    Link("inverse", lambda mu: 1 / mu, lambda ops, eta: 1.0 / eta, lambda eta: -1 / eta**2,
         _keras_fn("inverse"), lambda eta: np.isfinite(eta) & (eta != 0)),
    Link("1/mu^2", lambda mu: 1 / mu**2, lambda ops, eta: 1.0 / ops.sqrt(ops.maximum(eta, 1e-300)),
         lambda eta: -1 / (2 * eta**1.5), _keras_fn("1/mu^2"),
         lambda eta: np.isfinite(eta) & (eta > 0)),
    Link("sqrt", lambda mu: np.sqrt(mu), lambda ops, eta: ops.square(eta),
         lambda eta: 2 * eta, _keras_fn("sqrt"), lambda eta: np.isfinite(eta) & (eta > 0)),
    # The multinomial's: K linear predictors, probabilities by softmax (mu_eta is unused).
    Link("softmax", lambda mu: np.log(mu) - np.log(mu).mean(axis=-1, keepdims=True),
         lambda ops, eta: ops.softmax(eta), np.ones_like, "softmax"),
]}
