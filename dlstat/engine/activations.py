"""The activation table: each activation's NumPy function, TensorFlow function and Keras name.

The NumPy functions run in float64 at prediction time (no TensorFlow import); the TensorFlow
functions run in the training graph; the Keras name is what ``to_keras()`` hands out.  The
NumPy forms are chosen to stay finite for large inputs (``tanh`` form of the logistic,
``expm1`` on the negative part only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

_SELU_SCALE = 1.0507009873554805
_SELU_ALPHA = 1.6732632423543772


@dataclass(frozen=True)
class ActivationKind:
    """One activation: ``numpy(z)``, ``tensorflow(tf, z)`` and its Keras name."""

    name: str
    numpy: Callable[[np.ndarray], np.ndarray]
    tensorflow: Callable[[Any, Any], Any]
    keras: str


def _logistic(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _elu(z: np.ndarray) -> np.ndarray:
    return np.where(z > 0, z, np.expm1(np.minimum(z, 0.0)))


def _gelu(z: np.ndarray) -> np.ndarray:
    from scipy.special import erf  # imported when used: keeps option checks and the CLI light

    return 0.5 * z * (1.0 + erf(z / np.sqrt(2.0)))


ACTIVATION_TABLE: dict[str, ActivationKind] = {a.name: a for a in (
    ActivationKind("relu", lambda z: np.maximum(z, 0.0), lambda tf, z: tf.nn.relu(z), "relu"),
    ActivationKind("sigmoid", _logistic, lambda tf, z: tf.sigmoid(z), "sigmoid"),
    ActivationKind("tanh", np.tanh, lambda tf, z: tf.tanh(z), "tanh"),
    ActivationKind("elu", _elu, lambda tf, z: tf.nn.elu(z), "elu"),
    ActivationKind("selu", lambda z: _SELU_SCALE * np.where(z > 0, z, _SELU_ALPHA *
                                                            np.expm1(np.minimum(z, 0.0))),
                   lambda tf, z: tf.nn.selu(z), "selu"),
    ActivationKind("gelu", _gelu,
                   lambda tf, z: tf.nn.gelu(z, approximate=False), "gelu"),
    ActivationKind("swish", lambda z: z * _logistic(z), lambda tf, z: tf.nn.silu(z), "swish"),
    ActivationKind("softplus", lambda z: np.logaddexp(0.0, z),
                   lambda tf, z: tf.nn.softplus(z), "softplus"),
    ActivationKind("linear", lambda z: z, lambda tf, z: tf.identity(z), "linear"),
)}


def activate_numpy(z: np.ndarray, name: str) -> np.ndarray:
    """The activation ``name`` applied to a NumPy array."""
    return ACTIVATION_TABLE[name].numpy(z)


def activate_tf(tf: Any, z: Any, name: str) -> Any:
    """The activation ``name`` applied to a TensorFlow tensor."""
    return ACTIVATION_TABLE[name].tensorflow(tf, z)
