"""The layer table: every layer kind defined once.

A kind (keyed by its spec's ``kind``) says which parameters a layer has (names, per-network
shapes, initialisation, whether trained and whether penalised), how its output shape follows
from its input shape, and its three forward passes: stacked TensorFlow (``[M, batch, ...]``,
training or inference), NumPy (float64, one network, for prediction without TensorFlow) and the
Keras export (a Keras layer and its weights).  The trainer, L-BFGS, prediction and the Keras
export all walk the same :func:`plan`, so a new kind is one entry in ``LAYER_TABLE`` plus its
spec (class, constructor and ``SPEC_TABLE`` row: what TensorFlow-free code needs of it, such as
model files and array inputs) in ``architecture.py``.  The kinds' base classes are in
``layer_kind.py``.

Shapes exclude the stack axis ``M`` and the row axis: a dense layer maps ``(width,)`` to
``(units,)``; a kind whose parameters depend on its input shape reads ``in_shape``.
Parameter keys (``dense0/kernel``, ``bn2/moving_mean``, ``output/bias`` …) are what model files
store, so they never change; :meth:`Placed.key` is the only place they are spelled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np

from ..architecture import (
    Activation,
    BatchNorm,
    Dense,
    Dropout,
    Flatten,
    Layer,
    Reshape,
)
from ..errors import OptionError
from .activations import ACTIVATION_TABLE, activate_numpy, activate_tf
from .convolution import SPATIAL_KINDS
from .layer_kind import LayerKind, ParamDef, Placed, Shape, StackContext, param_key
from .recurrent import SEQUENCE_KINDS


@dataclass(frozen=True)
class Topology:
    """Static shape of a network: input width, hidden layers, outputs, output bias."""

    n_inputs: int
    layers: tuple[Layer, ...]
    n_outputs: int
    output_bias: bool = True
    frozen: tuple[int, ...] = ()  # hidden layers kept as they start (transfer learning)

    def placed(self) -> list[Placed]:
        """Every layer placed with its shapes and parameters, output last (see :func:`plan`)."""
        return plan(self)

    def n_parameters(self) -> int:
        """Number of trained parameters of one network."""
        return sum(p.n_parameters() for p in plan(self))

    def input_kernel(self) -> str:
        """The key of the kernel fed by the inputs (the output's for a GLM)."""
        return self.penalised_keys()[0]

    def penalised_keys(self) -> list[str]:
        """The keys of the penalised parameters (the kernels), input side first."""
        return [d.name for p in plan(self) for d in p.params if d.penalised]

    def output_key(self, part: str) -> str:
        """The key of the output layer's ``part`` (``kernel`` or ``bias``)."""
        return plan(self)[-1].key(part)


@dataclass(frozen=True)
class Output:
    """The family's output layer: ``units`` linear outputs; ``activation`` is used only by the
    Keras export (the inverse link), the engine works on the link scale."""

    units: int
    bias: bool = True
    activation: str = "linear"
    kind: str = "output"


@dataclass(frozen=True)
class Join:
    """Where the tabular inputs a ``reshape(..., joined=width)`` split off rejoin: right after
    the layer that makes the array flat; placed by :func:`plan`, never listed by users."""

    width: int
    kind: str = "join"


class DenseKind(LayerKind):
    """Fully connected: ``activation(h @ kernel + bias)``; the kernel is penalised."""

    name = "dense"
    solo = True
    keras_parts = ("kernel", "bias")

    def out_shape(self, layer: Dense, in_shape: Shape) -> Shape:
        if len(in_shape) != 1:
            raise OptionError(
                f"the {self.name} layer needs a vector per row; it receives shape "
                f"{list(in_shape)}. Put flatten() or global_avgpool() before it."
            )
        return (layer.units,)

    def params(self, key, layer, in_shape, out_shape):
        return (ParamDef(key("bias"), (1, out_shape[0]), "zeros"),
                ParamDef(key("kernel"), (in_shape[0], out_shape[0]), "glorot", penalised=True))

    def tf_forward(self, tf, p, P, h, ctx):
        return activate_tf(tf, tf.matmul(h, P[p.key("kernel")]) + P[p.key("bias")],
                           p.layer.activation)

    def numpy_forward(self, p, P, h):
        return activate_numpy(h @ P[p.key("kernel")] + P[p.key("bias")], p.layer.activation)

    def keras(self, keras, p, P):
        layer = keras.layers.Dense(p.out_shape[0], name=p.keras_name(),
                                   activation=ACTIVATION_TABLE[p.layer.activation].keras)
        return layer, [P[p.key("kernel")], P[p.key("bias")][0]]


class OutputKind(DenseKind):
    """The family's output layer: linear on the link scale; a GLM's kernel starts at zero."""

    name = "output"

    def prefix(self, index: int | None) -> str:
        return "output"

    def params(self, key, layer, in_shape, out_shape):
        bias, kernel = super().params(key, layer, in_shape, out_shape)
        return (ParamDef(bias.name, bias.shape, "output_bias", trainable=layer.bias), kernel)

    def tf_forward(self, tf, p, P, h, ctx):
        return tf.matmul(h, P[p.key("kernel")]) + P[p.key("bias")]

    def numpy_forward(self, p, P, h):
        return h @ P[p.key("kernel")] + P[p.key("bias")]

    def keras(self, keras, p, P):
        layer = keras.layers.Dense(p.out_shape[0], activation=p.layer.activation,
                                   name=p.keras_name())
        return layer, [P[p.key("kernel")], P[p.key("bias")][0]]


class DropoutKind(LayerKind):
    """Inverted dropout: zero a fraction ``rate`` while training, identity at inference."""

    name = "dropout"
    solo = True
    per_network_rate = True

    def tf_forward(self, tf, p, P, h, ctx):
        rate = p.layer.rate
        if not ctx.training or rate <= 0:
            return h
        bits = ctx.random_bits(ctx.counter * 64 + p.index, tf.shape(h, tf.int64)[ctx.lead:],
                               ctx.positions.get(p.index))
        # A unit is kept when its 24 random bits, read as a fraction of 2**24, reach the rate
        # (in float32): the same test on the integers, without casting them.
        if ctx.rates is None:
            threshold, scale = math.ceil(float(np.float32(rate)) * 16777216.0), 1.0 - rate
        else:  # each network's own rate: the same float32 values, as tensors (exact products)
            rank = len(h.shape)
            threshold = ctx.per_network(
                tf.cast(tf.math.ceil(ctx.rates[0] * 16777216.0), tf.int64), rank)
            scale = ctx.per_network(ctx.rates[1], rank)
        kept = tf.bitwise.bitwise_and(bits, 0xFFFFFF) >= threshold
        return tf.where(kept, h / scale, tf.zeros_like(h))

    def keras(self, keras, p, P):
        return keras.layers.Dropout(p.layer.rate, name=p.keras_name()), None


class BatchNormKind(LayerKind):
    """Batch normalisation over the (weighted) rows of each mini-batch; moving statistics at
    inference, updated by the trainer and never penalised."""

    name = "bn"
    solo = True
    keras_parts = ("gamma", "beta", "moving_mean", "moving_var")

    def params(self, key, layer, in_shape, out_shape):
        shape = (*(1,) * len(in_shape), in_shape[-1])  # per channel, as Keras (axis=-1)
        return (ParamDef(key("gamma"), shape, "ones"), ParamDef(key("beta"), shape, "zeros"),
                ParamDef(key("moving_mean"), shape, "zeros", trainable=False),
                ParamDef(key("moving_var"), shape, "ones", trainable=False))

    def tf_forward(self, tf, p, P, h, ctx):
        momentum = p.layer.momentum
        mm, mv = P[p.key("moving_mean")], P[p.key("moving_var")]
        if ctx.training and not p.frozen:
            wgt = ctx.row_weights[(..., *(None,) * len(p.in_shape))]
            # rows, and for images or sequences every position too
            lead = ctx.lead
            axes = list(range(lead, len(p.in_shape) + lead)) if len(p.in_shape) > 1 else lead
            sw = tf.reduce_sum(wgt, lead, keepdims=True)
            positions = int(np.prod(p.in_shape[:-1]))
            sw = tf.maximum(sw * positions if positions > 1 else sw, 1e-12)
            mean = tf.reduce_sum(wgt * h, axes, keepdims=True) / sw
            var = tf.reduce_sum(wgt * tf.square(h - mean), axes, keepdims=True) / sw
            ctx.moving[p.key("moving_mean")] = momentum * mm + (1 - momentum) * \
                tf.stop_gradient(mean)
            ctx.moving[p.key("moving_var")] = momentum * mv + (1 - momentum) * \
                tf.stop_gradient(var)
        else:
            mean, var = mm, mv
        return (h - mean) * tf.math.rsqrt(var + p.layer.epsilon) * P[p.key("gamma")] + \
            P[p.key("beta")]

    def numpy_forward(self, p, P, h):
        mean, var = P[p.key("moving_mean")], P[p.key("moving_var")]
        return (h - mean) / np.sqrt(var + p.layer.epsilon) * P[p.key("gamma")] + \
            P[p.key("beta")]

    def keras(self, keras, p, P):
        layer = keras.layers.BatchNormalization(epsilon=p.layer.epsilon,
                                                momentum=p.layer.momentum, name=p.keras_name())
        return layer, [P[p.key(part)].reshape(-1) for part in self.keras_parts]


class ActivationLayerKind(LayerKind):
    """An activation on its own (after a batch-normalised linear layer)."""

    name = "act"
    solo = True

    def tf_forward(self, tf, p, P, h, ctx):
        return activate_tf(tf, h, p.layer.name)

    def numpy_forward(self, p, P, h):
        return activate_numpy(h, p.layer.name)

    def keras(self, keras, p, P):
        return keras.layers.Activation(ACTIVATION_TABLE[p.layer.name].keras,
                                       name=p.keras_name()), None


class ReshapeKind(LayerKind):
    """Each row's values read as an array (C order): pixel columns as an image."""

    name = "reshape"
    solo = True

    def out_shape(self, layer: Reshape, in_shape: Shape) -> Shape:
        needed = int(np.prod(layer.shape)) + layer.joined
        if needed != int(np.prod(in_shape)) or (layer.joined and len(in_shape) != 1):
            joined = f" plus {layer.joined} joined" if layer.joined else ""
            raise OptionError(
                f"reshape({list(layer.shape)}) needs {int(np.prod(layer.shape))}{joined} "
                f"values per row; it receives shape {list(in_shape)} "
                f"({int(np.prod(in_shape))} values). Give a shape whose sizes multiply to the "
                "number of input columns."
            )
        return layer.shape

    def carry(self, xp, p, h, side):
        if not p.layer.joined:
            return h, side
        split = p.in_shape[0] - p.layer.joined
        return h[..., :split], h[..., split:]

    def tf_forward(self, tf, p, P, h, ctx):
        return tf.reshape(h, tf.concat([tf.shape(h)[:ctx.lead + 1], p.out_shape], 0))

    def numpy_forward(self, p, P, h):
        return h.reshape(len(h), *p.out_shape)

    def keras(self, keras, p, P):
        return keras.layers.Reshape(p.out_shape, name=p.keras_name()), None


class FlattenKind(LayerKind):
    """Each row's array as one vector (C order, as Keras's Flatten)."""

    name = "flatten"
    solo = True

    def out_shape(self, layer: Flatten, in_shape: Shape) -> Shape:
        return (int(np.prod(in_shape)),)

    def tf_forward(self, tf, p, P, h, ctx):
        return tf.reshape(h, tf.concat([tf.shape(h)[:ctx.lead + 1], p.out_shape], 0))

    def numpy_forward(self, p, P, h):
        return h.reshape(len(h), *p.out_shape)

    def keras(self, keras, p, P):
        return keras.layers.Flatten(name=p.keras_name()), None


class JoinKind(LayerKind):
    """The tabular inputs joined after the array part: ``[flat array values, tabular]``."""

    name = "join"
    solo = True

    def out_shape(self, layer: Join, in_shape: Shape) -> Shape:
        return (in_shape[0] + layer.width,)

    def carry(self, xp, p, h, side):
        if xp is np:
            return np.concatenate([h, side], -1), None
        side = xp.broadcast_to(side, xp.concat([xp.shape(h)[:-1], xp.shape(side)[-1:]], 0))
        return xp.concat([h, side], -1), None

    def keras(self, keras, p, P):
        return keras.layers.Concatenate(name=p.keras_name()), None

_NUMPY_CHUNK_VALUES = 1 << 22  # values per layer the NumPy forward holds at once (32 MB)

LAYER_TABLE: dict[str, LayerKind] = {
    Dense.kind: DenseKind(), Dropout.kind: DropoutKind(), BatchNorm.kind: BatchNormKind(),
    Activation.kind: ActivationLayerKind(), Output.kind: OutputKind(),
    Reshape.kind: ReshapeKind(), Flatten.kind: FlattenKind(), Join.kind: JoinKind(),
    **SPATIAL_KINDS, **SEQUENCE_KINDS,  # convolution, pooling, recurrent and embedding kinds
}


def plan(topology: Topology, output_activation: str = "linear") -> list[Placed]:
    """Every layer of ``topology`` placed with its shapes and parameters, output last."""
    placed, shape, pending = [], (topology.n_inputs,), 0
    output = Output(topology.n_outputs, topology.output_bias, output_activation)
    for index, layer in [*enumerate(topology.layers), (None, output)]:
        kind = LAYER_TABLE[layer.kind]
        out = kind.out_shape(layer, shape)
        params = kind.params(partial(param_key, kind.prefix(index)), layer, shape, out)
        frozen = index in topology.frozen
        if frozen:
            params = tuple(replace(d, trainable=False) for d in params)
        placed.append(Placed(index, layer, kind, shape, out, params, frozen))
        shape = out
        pending += getattr(layer, "joined", 0)
        if pending and len(shape) == 1:  # the array part is flat: the tabular inputs rejoin
            join = Join(pending)
            placed.append(Placed(index, join, LAYER_TABLE[join.kind], shape,
                                 LAYER_TABLE[join.kind].out_shape(join, shape), ()))
            shape, pending = placed[-1].out_shape, 0
    return placed


def joined_inputs(topology: Topology) -> int:
    """How many trailing inputs bypass the array part (0: every input enters the first layer)."""
    return sum(p.layer.width for p in plan(topology) if isinstance(p.layer, Join))
def plan_hidden(n_inputs: int, layers: tuple[Layer, ...]) -> list[Placed]:
    """The hidden ``layers`` placed from ``n_inputs`` values per row, without an output layer,
    so they may end in an image (a network cut after its last pooling layer)."""
    return plan(Topology(n_inputs, (*layers, Flatten()), 1))[: len(layers)]


def param_defs(topology: Topology) -> dict[str, ParamDef]:
    """Every parameter of ``topology`` by key."""
    return {d.name: d for p in plan(topology) for d in p.params}


def tf_forward(tf: Any, placed: list[Placed], P: Mapping[str, Any], h: Any,
               ctx: StackContext) -> Any:
    """Link-scale outputs ``[M, B, k]`` of a stack for inputs ``h`` ``[M or 1, B, ...]``."""
    side = None
    for p in placed:
        h, side = p.kind.carry(tf, p, h, side)
        h = p.kind.tf_forward(tf, p, P, h, ctx)
    return h


def numpy_forward(placed: list[Placed], P: Mapping[str, np.ndarray], h: np.ndarray) -> np.ndarray:
    """Link-scale outputs ``[n, k]`` of one network (``P`` without the stack axis).

    Rows are independent at inference, so they go through in chunks: the float64 activations
    of a CNN over a whole data set would not fit in memory (60,000 Fashion-MNIST images after a
    32-filter convolution: 10 GB, and the windows of the next one more).
    """
    rows = max(1, _NUMPY_CHUNK_VALUES // max(p.kind.numpy_row_values(p) for p in placed))
    if len(h) <= rows:
        return _numpy_rows(placed, P, h)
    return np.concatenate([_numpy_rows(placed, P, h[start:start + rows])
                           for start in range(0, len(h), rows)])


def _numpy_rows(placed: list[Placed], P: Mapping[str, np.ndarray], h: np.ndarray) -> np.ndarray:
    side = None
    for p in placed:
        h, side = p.kind.carry(np, p, h, side)
        h = p.kind.numpy_forward(p, P, h)
    return h

