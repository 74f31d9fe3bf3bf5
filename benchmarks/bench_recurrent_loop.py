"""Which loop over time is fastest for a stacked LSTM on CPU: forward + gradient of one layer
for M networks, [M, 32, T, 1] -> 16 units (``python benchmarks/bench_recurrent_loop.py 3``).

Compared: ``tf.scan``, a ``tf.while_loop`` writing a ``TensorArray``, and a Python loop unrolled
at trace time (T is static).  Alone, on the loaded 2 cores (ms per step): T=24 scan 21.7,
while_loop 41.4, unrolled 32.2; T=96 83.6 / 124.4 / 232.2.  Inside the whole-epoch training
function the order differs (see :func:`dlstat.engine.cells.over_time`, which picks the loop).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from dlstat import architecture as A
from dlstat.engine import cells
from dlstat.engine.graph import tf_module

B, P, UNITS = 32, 1, 16


def scan(tf, advance, x, state, steps):
    return tf.scan(advance, x, initializer=state)


def while_loop(tf, advance, x, state, steps):
    arrays = tuple(tf.TensorArray(x.dtype, size=steps) for _ in state)

    def body(t, state, arrays):
        state = advance(state, x[t])
        return t + 1, state, tuple(a.write(t, s) for a, s in zip(arrays, state))

    _, _, arrays = tf.while_loop(lambda t, *_: t < steps, body, (0, state, arrays))
    return tuple(a.stack() for a in arrays)


def unrolled(tf, advance, x, state, steps):
    states = []
    for t in range(steps):
        state = advance(state, x[t])
        states.append(state)
    return tuple(tf.stack(parts) for parts in zip(*states))


def main(M: int) -> None:
    tf = tf_module()
    rng = np.random.default_rng(0)
    layer = A.lstm(UNITS, return_sequences=True)
    for steps in (24, 96):
        h = tf.constant(rng.normal(size=(M, B, steps, P)), tf.float32)
        W = tf.Variable(rng.normal(size=(M, P, 4 * UNITS)) * 0.3, dtype=tf.float32)
        U = tf.Variable(rng.normal(size=(M, UNITS, 4 * UNITS)) * 0.1, dtype=tf.float32)
        b = tf.Variable(np.zeros((M, 1, 4 * UNITS)), dtype=tf.float32)
        for name, loop in (("scan", scan), ("while_loop", while_loop), ("unrolled", unrolled)):
            cells.over_time = loop

            def step(h, W=W, U=U, b=b, steps=steps):
                with tf.GradientTape() as tape:
                    out = cells.tf_sequence(tf, layer, (steps, P), W, U, b, h)
                    loss = tf.reduce_sum(tf.square(out))
                return tape.gradient(loss, [W, U, b])

            traced = tf.function(step)
            start = time.perf_counter()
            traced(h)
            trace_s = time.perf_counter() - start
            start = time.perf_counter()
            for _ in range(20):
                traced(h)
            ms = 1000 * (time.perf_counter() - start) / 20
            print(f"T={steps:3d} {name:11s} {ms:7.2f} ms/step (forward + gradient), "
                  f"first call {trace_s:.1f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
