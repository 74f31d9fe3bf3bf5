"""Layer specifications: small, TensorFlow-free objects describing a network's hidden part.

``hidden=(32, 16)`` with ``activation``, ``dropout`` and ``batchnorm`` is shorthand for a list
such as ``[dense(32), batchnorm(), activation("relu"), dropout(0.2), dense(16), ...]``.  The
output layer is not part of the list: the family decides it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Union

from .errors import OptionError, OptionTypeError

ACTIVATIONS = ("relu", "sigmoid", "tanh", "elu", "selu", "gelu", "swish", "softplus", "linear")


@dataclass(frozen=True)
class Dense:
    """A fully connected layer of ``units`` units followed by ``activation``."""

    units: int
    activation: str = "relu"
    kind: str = "dense"


@dataclass(frozen=True)
class Dropout:
    """Randomly zero a fraction ``rate`` of the previous layer's units at each training step."""

    rate: float
    kind: str = "dropout"


@dataclass(frozen=True)
class BatchNorm:
    """Normalise the previous layer's units over each mini-batch (moving averages at predict)."""

    momentum: float = 0.9
    epsilon: float = 1e-3
    kind: str = "batchnorm"


@dataclass(frozen=True)
class Activation:
    """An activation on its own (after a batch-normalised linear layer)."""

    name: str
    kind: str = "activation"


Layer = Union[Dense, Dropout, BatchNorm, Activation]  # noqa: UP007 (a runtime alias)


def dense(units: int, activation: str = "relu") -> Dense:
    """A dense layer spec; see :class:`Dense`."""
    return Dense(_units(units), _activation(activation))


def dropout(rate: float) -> Dropout:
    """A dropout layer spec; ``rate`` in [0, 1)."""
    return Dropout(_rate(rate))


def batchnorm(momentum: float = 0.9, epsilon: float = 1e-3) -> BatchNorm:
    """A batch-normalisation layer spec."""
    if not 0 <= momentum < 1 or epsilon <= 0:
        raise OptionError(
            f"batchnorm needs 0 <= momentum < 1 and epsilon > 0; got momentum={momentum!r}, "
            f"epsilon={epsilon!r}."
        )
    return BatchNorm(float(momentum), float(epsilon))


def activation(name: str) -> Activation:
    """An activation layer spec."""
    return Activation(_activation(name))


def resolve(
    hidden: Any = (32, 16),
    activation_name: str = "relu",
    dropout_rate: float = 0.0,
    use_batchnorm: bool = False,
    architecture: list[Layer] | None = None,
) -> tuple[Layer, ...]:
    """The layer list a fit uses: ``architecture`` as given, or the ``hidden`` shorthand."""
    if architecture is not None:
        layers = tuple(architecture)
        for layer in layers:
            if not isinstance(layer, (Dense, Dropout, BatchNorm, Activation)):
                raise OptionTypeError(
                    f"architecture must be a list of dlstat layer specs (dense(), dropout(), "
                    f"batchnorm(), activation()); got {layer!r}."
                )
        return layers
    if hidden is None:
        hidden = ()
    if isinstance(hidden, (int, float)) and not isinstance(hidden, bool):
        hidden = (hidden,)
    if not isinstance(hidden, (tuple, list)):
        raise OptionTypeError(
            f"hidden must be a tuple of layer widths such as (32, 16), or () for none; "
            f"got {hidden!r}."
        )
    act = _activation(activation_name)
    rate = _rate(dropout_rate)
    if not isinstance(use_batchnorm, bool):
        raise OptionTypeError(f"batchnorm must be True or False; got {use_batchnorm!r}.")
    layers: list[Layer] = []
    for width in hidden:
        if use_batchnorm:
            layers += [Dense(_units(width), "linear"), BatchNorm(), Activation(act)]
        else:
            layers.append(Dense(_units(width), act))
        if rate > 0:
            layers.append(Dropout(rate))
    return tuple(layers)


def to_json(layers: tuple[Layer, ...]) -> list[dict[str, Any]]:
    return [asdict(layer) for layer in layers]


def from_json(items: list[dict[str, Any]]) -> tuple[Layer, ...]:
    kinds = {"dense": Dense, "dropout": Dropout, "batchnorm": BatchNorm, "activation": Activation}
    return tuple(kinds[d["kind"]](**{k: v for k, v in d.items() if k != "kind"}) for d in items)


def describe(layer: Layer) -> str:
    if isinstance(layer, Dense):
        return f"dense({layer.units}, {layer.activation})"
    if isinstance(layer, Dropout):
        return f"dropout({layer.rate:g})"
    if isinstance(layer, BatchNorm):
        return "batchnorm()"
    return f"activation({layer.name})"


def _units(units: Any) -> int:
    if isinstance(units, bool) or not isinstance(units, (int, float)) or units != int(units) \
            or int(units) < 1:
        raise OptionError(
            f"layer widths must be positive whole numbers; got {units!r}. Example: hidden=(32, 16)."
        )
    return int(units)


def _rate(rate: Any) -> float:
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
        raise OptionError(f"dropout rate must be a number in [0, 1); got {rate!r}.")
    return float(rate)


def _activation(name: Any) -> str:
    if name not in ACTIVATIONS:
        raise OptionError(f"activation must be one of {list(ACTIVATIONS)}; got {name!r}.")
    return str(name)
