"""The recurrent and embedding kinds of the layer table (``rnn``, ``lstm``, ``gru``,
``bidirectional``, ``embedding``); the cells' arithmetic is in ``cells.py``.

A recurrent layer has Keras's parameters and initialisers: ``kernel [p, G]`` (Glorot-uniform),
``recurrent_kernel [units, G]`` (orthogonal) and ``bias [1, G]`` (``[2, G]`` for the GRU; the
LSTM's forget-gate block starts at one), ``G`` = gates x units.  The kernel and the recurrent
kernel are penalised (L1/L2/elastic net, max-norm), biases are not.  An embedding's vectors are
not penalised (Keras sets no regulariser on them by default): they are a lookup table whose
rows a code may never visit in a mini-batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..architecture import Bidirectional, Embedding, Recurrent
from ..errors import DataError, OptionError
from .activations import ACTIVATION_TABLE
from .cells import CELLS, numpy_sequence, tf_sequence
from .layer_kind import LayerKind, ParamDef, Placed, Shape

MAX_SEQUENCE_LENGTH = 10_000  # time steps run one after another: beyond this a fit never ends


def _sequence_shape(kind: str, in_shape: Shape) -> Shape:
    if len(in_shape) != 2:
        raise OptionError(
            f"the {kind} layer needs a sequence [T, p] per row; it receives shape "
            f"{list(in_shape)}. Pass sequences as an array [n, T, p] ([n, T, 1] for one "
            "series), or put embedding() first for integer codes [n, T]."
        )
    if in_shape[0] > MAX_SEQUENCE_LENGTH:
        raise OptionError(
            f"the {kind} layer reads at most {MAX_SEQUENCE_LENGTH:,} time steps; it receives "
            f"{in_shape[0]:,}. Cut the sequences into windows, or pool them with conv1d() and "
            "maxpool() first."
        )
    return in_shape


class RecurrentKind(LayerKind):
    """A simple RNN, LSTM or GRU over ``[T, p]``: the last state, or all with
    ``return_sequences``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.cell = CELLS[name]

    def out_shape(self, layer: Recurrent, in_shape: Shape) -> Shape:
        steps, _ = _sequence_shape(layer.kind, in_shape)
        return (steps, layer.units) if layer.return_sequences else (layer.units,)

    def params(self, key, layer, in_shape, out_shape):
        width = self.cell.gates * layer.units
        return (ParamDef(key("kernel"), (in_shape[-1], width), "glorot", penalised=True),
                ParamDef(key("recurrent_kernel"), (layer.units, width), "orthogonal",
                         penalised=True),
                ParamDef(key("bias"), (self.cell.bias_rows, width),
                         "forget_bias" if self.name == "lstm" else "zeros"))

    @staticmethod
    def weights(P: Any, key: Any) -> tuple[Any, Any, Any]:
        """The kernel, recurrent kernel and bias under ``key(part)``."""
        return P[key("kernel")], P[key("recurrent_kernel")], P[key("bias")]

    def tf_run(self, tf: Any, layer: Recurrent, in_shape: Shape, weights: tuple, h: Any,
               reverse: bool = False) -> Any:
        """Outputs ``[M, rows, (T,) units]``; a reversed run's states are put back in time
        order (as Keras's backward layer in a bidirectional one)."""
        states = tf_sequence(tf, layer, in_shape, *weights, h, reverse)
        if not layer.return_sequences:
            return states[-1]
        return tf.transpose(tf.reverse(states, [0]) if reverse else states, [1, 2, 0, 3])

    def numpy_run(self, layer: Recurrent, weights: tuple, h: np.ndarray,
                  reverse: bool = False) -> np.ndarray:
        states = numpy_sequence(layer, *weights, h, reverse)
        if not layer.return_sequences:
            return states[:, -1]
        return states[:, ::-1] if reverse else states

    def tf_forward(self, tf, p, P, h, ctx):
        return self.tf_run(tf, p.layer, p.in_shape, self.weights(P, p.key), h)

    def numpy_forward(self, p, P, h):
        return self.numpy_run(p.layer, self.weights(P, p.key), h)

    def keras_layer(self, keras: Any, layer: Recurrent, name: str) -> Any:
        """The Keras layer with this spec (weights set by the caller)."""
        options = dict(activation=ACTIVATION_TABLE[layer.activation].keras,
                       return_sequences=layer.return_sequences, name=name)
        if self.name == "rnn":
            return keras.layers.SimpleRNN(layer.units, **options)
        gate = ACTIVATION_TABLE[layer.recurrent_activation].keras
        layer_type = keras.layers.LSTM if self.name == "lstm" else keras.layers.GRU
        return layer_type(layer.units, recurrent_activation=gate, **options)

    def keras_weights(self, weights: tuple) -> list[np.ndarray]:
        kernel, recurrent, bias = weights
        return [kernel, recurrent, bias if self.cell.bias_rows == 2 else bias.reshape(-1)]

    def keras(self, keras, p, P):
        weights = self.weights(P, p.key)
        return self.keras_layer(keras, p.layer, p.keras_name()), self.keras_weights(weights)


class BidirectionalKind(LayerKind):
    """A recurrent layer read forwards and backwards (parameters ``forward_kernel`` …,
    ``backward_kernel`` …), outputs merged as Keras's ``merge_mode``."""

    name = "bidir"

    def inner(self, layer: Bidirectional) -> RecurrentKind:
        return RECURRENT_KINDS[layer.layer.kind]

    def out_shape(self, layer: Bidirectional, in_shape: Shape) -> Shape:
        shape = self.inner(layer).out_shape(layer.layer, in_shape)
        return (*shape[:-1], 2 * shape[-1]) if layer.merge == "concat" else shape

    def params(self, key, layer, in_shape, out_shape):
        inner, inner_out = self.inner(layer), self.inner(layer).out_shape(layer.layer, in_shape)
        return tuple(d for side in ("forward", "backward") for d in inner.params(
            lambda part, side=side: key(f"{side}_{part}"), layer.layer, in_shape, inner_out))

    def _sides(self, P: Any, p: Placed) -> tuple[tuple, tuple]:
        inner = self.inner(p.layer)
        return tuple(inner.weights(P, lambda part, side=side: p.key(f"{side}_{part}"))
                     for side in ("forward", "backward"))

    @staticmethod
    def _merge(xp: Any, merge: str, forward: Any, backward: Any) -> Any:
        if merge == "concat":
            return xp.concat([forward, backward], -1) if xp is not np else \
                np.concatenate([forward, backward], -1)
        if merge == "sum":
            return forward + backward
        if merge == "mul":
            return forward * backward
        return (forward + backward) / 2.0

    def tf_forward(self, tf, p, P, h, ctx):
        inner, (fw, bw) = self.inner(p.layer), self._sides(P, p)
        return self._merge(tf, p.layer.merge, inner.tf_run(tf, p.layer.layer, p.in_shape, fw, h),
                           inner.tf_run(tf, p.layer.layer, p.in_shape, bw, h, reverse=True))

    def numpy_forward(self, p, P, h):
        inner, (fw, bw) = self.inner(p.layer), self._sides(P, p)
        return self._merge(np, p.layer.merge, inner.numpy_run(p.layer.layer, fw, h),
                           inner.numpy_run(p.layer.layer, bw, h, reverse=True))

    def keras(self, keras, p, P):
        inner, (fw, bw) = self.inner(p.layer), self._sides(P, p)
        layer = keras.layers.Bidirectional(
            inner.keras_layer(keras, p.layer.layer, f"{p.keras_name()}_{p.layer.layer.kind}"),
            merge_mode=p.layer.merge, name=p.keras_name())
        return layer, inner.keras_weights(fw) + inner.keras_weights(bw)


class EmbeddingKind(LayerKind):
    """Integer codes ``[T]`` to vectors ``[T, output_dim]`` (``embeddings [input_dim,
    output_dim]``, Keras's uniform(-0.05, 0.05) start, not penalised)."""

    name = "embedding"

    def out_shape(self, layer: Embedding, in_shape: Shape) -> Shape:
        if len(in_shape) == 1:
            return (in_shape[0], layer.output_dim)
        raise OptionError(f"the embedding layer reads a sequence of integer codes [T] per row; "
                          f"it receives shape {list(in_shape)}. Pass codes as an array [n, T].")

    def params(self, key, layer, in_shape, out_shape):
        return (ParamDef(key("embeddings"), (layer.input_dim, layer.output_dim),
                         "embedding_uniform"),)

    def tf_forward(self, tf, p, P, h, ctx):
        table = P[p.key("embeddings")]
        codes = tf.cast(tf.round(h), tf.int32)
        codes = tf.broadcast_to(codes, tf.concat([tf.shape(table)[:1], tf.shape(codes)[1:]], 0))
        return lookup(tf, table, codes)

    def numpy_forward(self, p, P, h):
        codes = check_codes(h, p.layer.input_dim, "the data")
        return P[p.key("embeddings")][codes]

    def keras(self, keras, p, P):
        layer = keras.layers.Embedding(p.layer.input_dim, p.layer.output_dim,
                                       name=p.keras_name())
        return layer, [P[p.key("embeddings")]]


def lookup(tf: Any, table: Any, codes: Any) -> Any:
    """``table[m][codes[m]]`` per network, with a dense gradient (the optimizers update whole
    tensors; a gather's gradient would be sparse)."""

    @tf.custom_gradient
    def gather(values):
        def gradient(upstream):
            M, V = tf.shape(values)[0], tf.shape(values)[1]
            flat = codes + tf.range(M)[:, None, None] * V
            rows = tf.reshape(upstream, [-1, tf.shape(values)[2]])
            return tf.reshape(tf.math.unsorted_segment_sum(rows, tf.reshape(flat, [-1]), M * V),
                              tf.shape(values))

        return tf.gather(values, codes, batch_dims=1), gradient

    return gather(table)


def check_codes(X: np.ndarray, input_dim: int, what: str) -> np.ndarray:
    """``X`` as integer codes, refusing anything but whole numbers in ``0 .. input_dim - 1``."""
    X = np.asarray(X, dtype=np.float64)
    bad = ~np.isfinite(X) | (X != np.round(X)) | (X < 0) | (X >= input_dim)
    if bad.any():
        value = X[bad].flat[0]
        raise DataError(
            f"{what} hold {int(bad.sum())} value(s) that are not codes of the embedding "
            f"(whole numbers 0 .. {input_dim - 1}), e.g. {float(value):g}. Recode the sequences "
            f"(e.g. A C G T as 0 1 2 3), or give embedding(input_dim=...) room for every code."
        )
    return X.astype(np.int64)


RECURRENT_KINDS: dict[str, RecurrentKind] = {name: RecurrentKind(name) for name in CELLS}
SEQUENCE_KINDS: dict[str, LayerKind] = {**RECURRENT_KINDS, Bidirectional.kind:
                                        BidirectionalKind(), Embedding.kind: EmbeddingKind()}
