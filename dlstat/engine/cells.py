"""The recurrent cells (simple RNN, LSTM, GRU), one code path for NumPy and TensorFlow.

A cell maps its state and one time step's input projection ``x_t W + b`` to the next state, as
Keras's cells do (gate order i, f, c, o for the LSTM; z, r, h and ``reset_after=True`` for the
GRU).  The input projection of every time step is one matrix product before the loop, so the
loop over time holds only the recurrent product.  The same step runs on NumPy arrays
``[rows, units]`` (prediction, float64) and on stacked tensors ``[M, rows, units]`` (training).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from .activations import activate_numpy, activate_tf

State = tuple[Any, ...]


@dataclass(frozen=True)
class Ops:
    """The array operations a cell needs, from NumPy or from TensorFlow."""

    matmul: Callable[[Any, Any], Any]
    split: Callable[[Any, int], list[Any]]
    act: Callable[[Any, str], Any]

    @classmethod
    def numpy(cls) -> Ops:
        return cls(np.matmul, lambda z, n: np.split(z, n, axis=-1), activate_numpy)

    @classmethod
    def tensorflow(cls, tf: Any) -> Ops:
        return cls(tf.matmul, lambda z, n: tf.split(z, n, axis=-1), partial(activate_tf, tf))


@dataclass(frozen=True)
class Cell:
    """One recurrent cell kind: how many gate blocks its kernels hold, how many state arrays it
    carries, how many bias rows it has (GRU: input and recurrent) and its step."""

    gates: int
    n_states: int
    bias_rows: int
    step: Callable[..., State]

    def input_bias(self, bias: Any) -> Any:
        """The bias added to the input projection (``[..., 1, gates * units]``)."""
        return bias[..., 0:1, :]

    def recurrent_bias(self, bias: Any) -> Any | None:
        """The bias added to the recurrent product (the GRU's second row), or None."""
        return bias[..., 1:2, :] if self.bias_rows == 2 else None


def simple_step(ops: Ops, layer: Any, U: Any, rec_bias: Any, state: State, x: Any) -> State:
    """``h_t = activation(x_t W + b + h_{t-1} U)``."""
    return (ops.act(x + ops.matmul(state[0], U), layer.activation),)


def lstm_step(ops: Ops, layer: Any, U: Any, rec_bias: Any, state: State, x: Any) -> State:
    """Input, forget and output gates over the cell state ``c``; ``h = o * activation(c)``."""
    h, c = state
    i, f, g, o = ops.split(x + ops.matmul(h, U), 4)
    gate = layer.recurrent_activation
    c = ops.act(f, gate) * c + ops.act(i, gate) * ops.act(g, layer.activation)
    return ops.act(o, gate) * ops.act(c, layer.activation), c


def gru_step(ops: Ops, layer: Any, U: Any, rec_bias: Any, state: State, x: Any) -> State:
    """Update gate ``z`` and reset gate ``r``, the reset applied after the recurrent product."""
    h = state[0]
    x_z, x_r, x_h = ops.split(x, 3)
    r_z, r_r, r_h = ops.split(ops.matmul(h, U) + rec_bias, 3)
    gate = layer.recurrent_activation
    z = ops.act(x_z + r_z, gate)
    candidate = ops.act(x_h + ops.act(x_r + r_r, gate) * r_h, layer.activation)
    return (z * h + (1.0 - z) * candidate,)


CELLS: dict[str, Cell] = {
    "rnn": Cell(1, 1, 1, simple_step),
    "lstm": Cell(4, 2, 1, lstm_step),
    "gru": Cell(3, 1, 2, gru_step),
}


def numpy_sequence(layer: Any, W: np.ndarray, U: np.ndarray, bias: np.ndarray, h: np.ndarray,
                   reverse: bool = False) -> np.ndarray:
    """The states ``[rows, T, units]`` of one network over ``h`` ``[rows, T, p]`` (float64)."""
    cell, ops = CELLS[layer.kind], Ops.numpy()
    x = h @ W + cell.input_bias(bias)
    if reverse:
        x = x[:, ::-1]
    state = tuple(np.zeros((len(h), layer.units)) for _ in range(cell.n_states))
    outputs = []
    for t in range(x.shape[1]):
        state = cell.step(ops, layer, U, cell.recurrent_bias(bias), state, x[:, t])
        outputs.append(state[0])
    return np.stack(outputs, axis=1)


def tf_sequence(tf: Any, layer: Any, in_shape: tuple[int, int], W: Any, U: Any, bias: Any,
                h: Any, reverse: bool = False) -> Any:
    """The states ``[T, M, rows, units]`` (time first) of a stack over ``h``
    ``[M or 1, rows, T, p]``: one batched input projection, then a loop over time."""
    cell, ops = CELLS[layer.kind], Ops.tensorflow(tf)
    (steps, features), width = in_shape, cell.gates * layer.units
    # static sizes (the traced signature leaves every axis open): the loop's state keeps them
    W, U = tf.reshape(W, [-1, features, width]), tf.reshape(U, [-1, layer.units, width])
    bias = tf.reshape(bias, [-1, cell.bias_rows, width])
    lead = tf.shape(h)[:2]
    flat = tf.reshape(h, tf.stack([lead[0], lead[1] * steps, -1]))
    x = tf.matmul(flat, W) + cell.input_bias(bias)  # [M, rows * T, G]; M = 1 broadcasts
    x = tf.reshape(x, tf.stack([tf.shape(x)[0], lead[1], steps, -1]))
    x = tf.transpose(x, [2, 0, 1, 3])
    if reverse:
        x = tf.reverse(x, [0])
    zeros = tf.zeros(tf.stack([tf.shape(x)[1], lead[1], layer.units]), x.dtype)
    rec_bias = cell.recurrent_bias(bias)

    def advance(state: State, x_t: Any) -> State:
        return cell.step(ops, layer, U, rec_bias, state, x_t)

    return over_time(tf, advance, x, (zeros,) * cell.n_states, steps)[0]


UNROLL_STEPS = 32  # sequences up to this long are unrolled at trace time, longer ones scanned


def over_time(tf: Any, advance: Callable[[State, Any], State], x: Any, state: State,
              steps: int) -> State:
    """Every state over time, stacked on a leading axis.

    Measured inside the training function (2-layer LSTM 16-8, batch 32, Adam, loaded 2 cores;
    ``benchmarks/bench_recurrent_loop.py`` and ``bench_recurrent_keras.py``): at T=24 a loop
    unrolled at trace time took 3.9 s per epoch of 2000 rows, ``tf.scan`` 6.6 s and a
    ``tf.while_loop`` over a TensorArray 5.8 s; at T=96 (500 rows) unrolled and scan ran
    equally fast (5.5 and 5.6 s per epoch) but unrolling took 4 minutes to trace against one
    for the scan.  So short sequences are unrolled and long ones scanned."""
    if steps > UNROLL_STEPS:
        return tf.scan(advance, x, initializer=state)
    states = []
    for t in range(steps):
        state = advance(state, x[t])
        states.append(state)
    return tuple(tf.stack(parts) for parts in zip(*states))
