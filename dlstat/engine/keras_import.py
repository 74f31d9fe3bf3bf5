"""Read a Keras model's layers and weights as dlstat layer specs (for transfer learning).

Only what the layer table can run is read: Dense, Conv1D/Conv2D, BatchNormalization, max and
average pooling, global average pooling, Flatten, Dropout, Activation and Reshape, in a single
chain, channels last.  Any other layer is refused by its class name.  Layers are read through
``get_config()`` and ``get_weights()``, so this module imports neither Keras nor TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import architecture as arch
from ..errors import OptionError
from .activations import ACTIVATION_TABLE
from .layers import plan_hidden

_ACTIVATIONS = {kind.keras: name for name, kind in ACTIVATION_TABLE.items()} | {"silu": "swish"}


def read_keras(model: Any, cut: Callable[[list[Any]], int]
               ) -> tuple[tuple[Any, ...], dict[str, np.ndarray], int, tuple[int, ...]]:
    """The layers of ``model`` that ``cut`` keeps (every layer but the last by default), their
    weights by parameter key, the number of input values per row and the input's row shape."""
    row_shape = _input_shape(model)
    chain = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    specs = [_spec(layer) for layer in chain]
    n_kept = cut(specs[:-1]) if len(specs) > 1 else 0
    lead = [arch.reshape(row_shape)] if len(row_shape) > 1 else []
    layers = (*lead, *specs[:n_kept])
    n_inputs = int(np.prod(row_shape))
    placed = plan_hidden(n_inputs, layers)[len(lead):]
    weights: dict[str, np.ndarray] = {}
    for p, layer in zip(placed, chain):
        weights.update(_weights(p, layer))
    return layers, weights, n_inputs, row_shape


def _input_shape(model: Any) -> tuple[int, ...]:
    try:
        shape = tuple(model.input_shape)[1:]
    except (AttributeError, ValueError, TypeError):
        shape = ()
    if not shape or not all(isinstance(s, int) and s > 0 for s in shape):
        raise OptionError(
            f"the Keras model {getattr(model, 'name', '')!r} has no fixed input shape "
            f"(got {shape or 'none'}); build it with keras.Input(shape=(28, 28, 1)) (every "
            "size known) before using it as a base."
        )
    return shape


def _spec(layer: Any) -> Any:
    """The dlstat spec of one Keras layer, or a clear refusal."""
    name = type(layer).__name__
    config = layer.get_config()
    if config.get("data_format", "channels_last") != "channels_last":
        raise OptionError(f"Keras layer {layer.name!r} ({name}) is channels_first; dlstat reads "
                          "channels_last models only.")
    if name == "Dense":
        return arch.dense(config["units"], _activation(layer, config))
    if name in ("Conv1D", "Conv2D") and config.get("groups", 1) == 1:
        make = arch.conv1d if name == "Conv1D" else arch.conv2d
        return make(config["filters"], config["kernel_size"], config["strides"],
                    config["padding"], config["dilation_rate"], _activation(layer, config))
    if name == "BatchNormalization" and config.get("center", True) and \
            config.get("scale", True) and config.get("axis") in (-1, [-1]):
        return arch.batchnorm(config["momentum"], config["epsilon"])
    pools = {"MaxPooling1D": arch.maxpool, "MaxPooling2D": arch.maxpool,
             "AveragePooling1D": arch.avgpool, "AveragePooling2D": arch.avgpool}
    if name in pools:
        return pools[name](config["pool_size"], config["strides"], config["padding"])
    if name in ("GlobalAveragePooling1D", "GlobalAveragePooling2D") and \
            not config.get("keepdims", False):
        return arch.global_avgpool()
    simple = {"Flatten": lambda: arch.flatten(), "Dropout": lambda: arch.dropout(config["rate"]),
              "Activation": lambda: arch.activation(_activation(layer, config)),
              "Reshape": lambda: arch.reshape(config["target_shape"])}
    if name in simple:
        return simple[name]()
    raise OptionError(
        f"Keras layer {layer.name!r} is a {name} (or uses options dlstat does not run); a base "
        "can hold Dense, Conv1D, Conv2D, BatchNormalization (axis=-1, center and scale), "
        "MaxPooling, AveragePooling, GlobalAveragePooling, Flatten, Dropout, Activation and "
        "Reshape layers. Cut the model before it with upto=, or rebuild it from these layers."
    )


def _activation(layer: Any, config: dict[str, Any]) -> str:
    given = config.get("activation", "linear")
    if given not in _ACTIVATIONS:
        raise OptionError(f"Keras layer {layer.name!r} uses activation {given!r}; a base's "
                          f"layers take one of {sorted(_ACTIVATIONS)}.")
    return _ACTIVATIONS[given]


def _weights(p: Any, layer: Any) -> dict[str, np.ndarray]:
    """The Keras layer's weights under the placed layer's keys, in its parameter shapes; a
    layer without a bias (``use_bias=False``) gets a zero bias."""
    parts = p.kind.keras_parts
    values = [np.asarray(w, dtype=np.float64) for w in layer.get_weights()]
    if len(values) == len(parts) - 1 and parts[-1] == "bias":
        values.append(np.zeros(p.out_shape[-1]))
    defs = {d.name: d for d in p.params}
    out = {}
    for part, value in zip(parts, values):
        d = defs[p.key(part)]
        if value.size != int(np.prod(d.shape)):
            raise OptionError(f"Keras layer {layer.name!r} has {part} of shape "
                              f"{list(value.shape)}; dlstat expects {list(d.shape)}.")
        out[d.name] = value.reshape(d.shape)
    return out
