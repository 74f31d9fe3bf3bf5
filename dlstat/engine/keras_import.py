"""Read a Keras model's layers and weights as dlstat layer specs (for transfer learning).

A base is read only where the reading is exact, and refused otherwise, naming the layer:

* the model is a ``keras.Sequential`` or a functional ``keras.Model(inputs, outputs)``; a
  subclassed model's ``call()`` cannot be followed;
* its layers are followed along the model's own graph, from its one input to its one output:
  one chain in which every layer is called once, on the previous layer's output alone (no
  branch, merge, shared layer or call argument such as ``training=True``);
* every layer is an instance of Keras's own class (``type(layer) is keras.layers.Dense``, not a
  subclass or another class of the same name, which may compute something else): Dense,
  Conv1D/Conv2D, BatchNormalization, max and average pooling, global average pooling,
  Flatten, Dropout, Activation and Reshape, channels last, without LoRA or quantisation;
* every activation is one of Keras's own named functions that dlstat runs (identity-checked);
* every weight is finite.

This module is imported only for a Keras base, when the model's Keras is already loaded.
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
_READ = ("Dense, Conv1D, Conv2D, BatchNormalization (axis=-1, center and scale), MaxPooling, "
         "AveragePooling, GlobalAveragePooling, Flatten, Dropout, Activation and Reshape")
_MAX_LAYERS = 10_000
# Call arguments Keras records on a graph's nodes, and the values that leave a layer's
# inference as dlstat runs it (any other, e.g. Dropout(...)(x, training=True), is refused).
_PLAIN_CALL = {"training": (None, False), "mask": (None,)}


def read_keras(model: Any, cut: Callable[[list[Any]], int]
               ) -> tuple[tuple[Any, ...], dict[str, np.ndarray], int, tuple[int, ...]]:
    """The layers of ``model`` that ``cut`` keeps (every layer but the last by default), their
    weights by parameter key, the number of input values per row and the input's row shape."""
    import keras  # loaded already: the model was built with it

    chain = _chain(model, keras)
    row_shape = _input_shape(model)
    readers = _readers(keras)
    specs = [_spec(layer, readers, keras) for layer in chain]
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


def _chain(model: Any, keras: Any) -> list[Any]:
    """The model's layers in the order its graph applies them, refused unless one chain of
    distinct layers covers the whole model."""
    kind = type(model)
    if kind is keras.Sequential:
        chain = list(model.layers)
    elif kind is _functional(keras):
        chain = _walk(model, keras)
    else:
        raise OptionError(
            f"the Keras model {model.name!r} is a {kind.__module__}.{kind.__name__}; a base "
            "must be a keras.Sequential or a functional keras.Model(inputs, outputs), whose "
            "graph dlstat can follow (a subclassed model's call() cannot be read)."
        )
    seen: set[int] = set()
    for layer in chain:
        if id(layer) in seen:
            raise OptionError(
                f"Keras layer {layer.name!r} is applied more than once in the model "
                f"{model.name!r} (a shared layer); a base must be one chain of distinct layers. "
                "Give each use its own layer."
            )
        seen.add(id(layer))
    off = [layer.name for layer in model.layers
           if id(layer) not in seen and type(layer) is not keras.layers.InputLayer]
    if off:
        raise OptionError(f"Keras layers {off[:6]} of the model {model.name!r} are not on its "
                          "one path from input to output; a base must be one chain of layers.")
    return chain


def _functional(keras: Any) -> type | None:
    try:
        from keras.src.models.functional import Functional
    except ImportError:  # pragma: no cover - another Keras layout: no functional model is read
        return None
    return Functional if isinstance(Functional, type) else None


def _walk(model: Any, keras: Any) -> list[Any]:
    """A functional model's layers from its output back through the graph to its input."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise OptionError(f"the Keras model {model.name!r} has {len(model.inputs)} inputs and "
                          f"{len(model.outputs)} outputs; a base has one of each.")
    tensor, path = model.outputs[0], []
    while len(path) <= _MAX_LAYERS:
        layer, index, _ = tensor._keras_history
        if type(layer) is keras.layers.InputLayer:
            break
        arguments = layer._inbound_nodes[index].arguments
        tensors = list(arguments.keras_tensors)
        odd = sorted(k for k, v in arguments.kwargs.items()
                     if not any(v is plain for plain in _PLAIN_CALL.get(k, ("no value",))))
        if len(tensors) != 1 or odd or len(arguments.args) != 1 or \
                arguments.args[0] is not tensors[0]:
            extra = f" with {odd}" if odd else ""
            raise OptionError(
                f"Keras layer {layer.name!r} of the model {model.name!r} is called on "
                f"{len(tensors)} tensor(s){extra}; a base must be one chain of layers, each "
                "called on the previous layer's output alone (no branch, merge or call "
                "argument such as training=True)."
            )
        path.append(layer)
        tensor = tensors[0]
    if tensor is not model.inputs[0]:
        raise OptionError(f"the Keras model {model.name!r} does not lead from its input to its "
                          "output through one chain of layers.")
    return path[::-1]


def _readers(keras: Any) -> dict[type, Callable[[Any, dict[str, Any]], Any]]:
    """Keras's own layer classes → the dlstat spec of one layer with config ``c`` (None: it
    uses options dlstat does not run)."""
    L = keras.layers

    def conv(make):
        return lambda layer, c: make(c["filters"], c["kernel_size"], c["strides"],
                                     c["padding"], c["dilation_rate"], _activation(layer)
                                     ) if c.get("groups", 1) == 1 else None

    def pool(make):
        return lambda layer, c: make(c["pool_size"], c["strides"], c["padding"])

    def global_avg(layer, c):
        return None if c.get("keepdims", False) else arch.global_avgpool()

    def batchnorm(layer, c):
        plain = c.get("center", True) and c.get("scale", True) and \
            c.get("axis") in (-1, [-1]) and not c.get("renorm", False)
        return arch.batchnorm(c["momentum"], c["epsilon"]) if plain else None

    return {
        L.Dense: lambda layer, c: arch.dense(c["units"], _activation(layer)),
        L.Conv1D: conv(arch.conv1d), L.Conv2D: conv(arch.conv2d),
        L.BatchNormalization: batchnorm,
        L.MaxPooling1D: pool(arch.maxpool), L.MaxPooling2D: pool(arch.maxpool),
        L.AveragePooling1D: pool(arch.avgpool), L.AveragePooling2D: pool(arch.avgpool),
        L.GlobalAveragePooling1D: global_avg, L.GlobalAveragePooling2D: global_avg,
        L.Flatten: lambda layer, c: arch.flatten(),
        L.Dropout: lambda layer, c: arch.dropout(c["rate"]),
        L.Activation: lambda layer, c: arch.activation(_activation(layer)),
        L.Reshape: lambda layer, c: arch.reshape(c["target_shape"]),
    }


def _spec(layer: Any, readers: dict[type, Callable[[Any, dict[str, Any]], Any]],
          keras: Any) -> Any:
    """The dlstat spec of one Keras layer, or a clear refusal."""
    kind = type(layer)
    name = getattr(layer, "name", "?")
    read = readers.get(kind)
    if read is None:
        own = next((c for c in readers if issubclass(kind, c)), None)
        why = (f"a subclass of Keras's {own.__name__} ({kind.__module__}.{kind.__name__}), "
               "whose call() may compute something else" if own is not None else
               f"a {kind.__name__} ({kind.__module__}), which dlstat does not run")
        raise OptionError(
            f"Keras layer {name!r} is {why}; a base can hold Keras's own {_READ} layers. "
            "Cut the model before it with upto=, or rebuild it from these layers."
        )
    if getattr(layer, "lora_enabled", False) or getattr(layer, "quantization_mode", None):
        raise OptionError(f"Keras layer {name!r} ({kind.__name__}) is LoRA-adapted or "
                          "quantised; dlstat reads plain float weights only.")
    if hasattr(layer, "activation"):
        _activation(layer)  # before get_config(), which fails on some custom activations
    config = layer.get_config()
    if config.get("data_format", "channels_last") != "channels_last":
        raise OptionError(f"Keras layer {name!r} ({kind.__name__}) is channels_first; dlstat "
                          "reads channels_last models only.")
    spec = read(layer, config)
    if spec is None:
        raise OptionError(
            f"Keras layer {name!r} is a {kind.__name__} with options dlstat does not run; a "
            f"base can hold Keras's own {_READ} layers. Cut the model before it with upto=, "
            "or rebuild it from these layers."
        )
    return spec


def _activation(layer: Any) -> str:
    """The dlstat name of the layer's activation: Keras's own function of that name only."""
    import keras

    given = getattr(layer, "activation", None)
    for keras_name, name in _ACTIVATIONS.items():
        if given is keras.activations.get(keras_name):
            return name
    shown = getattr(given, "__name__", type(given).__name__)
    raise OptionError(f"Keras layer {layer.name!r} uses activation {shown!r}; a base's layers "
                      f"take Keras's own {sorted(_ACTIVATIONS)}.")


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
        bad = int((~np.isfinite(value)).sum())
        if bad:
            raise OptionError(f"Keras layer {layer.name!r} has {bad} NaN or infinite value(s) "
                              f"in its {part}; a base must have finite weights (was it "
                              "trained until it diverged?). Use a base with finite weights.")
        out[d.name] = value.reshape(d.shape)
    return out
