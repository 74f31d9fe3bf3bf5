"""Which stacked convolution is fastest on CPU: forward + gradient of one conv layer for a stack
of M networks, [M, 64, 28, 28, 8] -> 16 filters 3x3 (``python benchmarks/bench_conv_stack.py 6``).

Measured on the shared 2 cores (ms per step): M=1 im2col 31.5, vectorized_map 23.2, loop 23.0;
M=3 153.5 / 76.7 / 68.4; M=6 306.5 / 133.6 / 217.8.  Folding the stack into channel groups
fails on CPU (grouped Conv2DBackpropFilter).  The engine uses vectorized_map: it needs no static
stack size (the traced signature leaves M open) and scales best.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from dlstat.engine.graph import tf_module
from dlstat.engine.windows import Window, patches

B, H, W, C, F, K = 64, 28, 28, 8, 16, 3


def im2col(tf, x, k, M):
    window = Window.of(2, (K, K), (1, 1), (1, 1), "valid")
    cols = patches(tf, tf.reshape(x, [-1, H, W, C]), window, (H, W, C), 0.0)
    z = tf.matmul(tf.reshape(cols, [M, -1, K * K * C]), tf.reshape(k, [M, K * K * C, F]))
    return tf.reshape(z, [M, B, H - K + 1, W - K + 1, F])


def vectorized(tf, x, k, M):
    return tf.vectorized_map(lambda a: tf.nn.conv2d(a[0], a[1], 1, "VALID"), (x, k))


def loop(tf, x, k, M):
    return tf.stack([tf.nn.conv2d(x[m], k[m], 1, "VALID") for m in range(M)])


def main(M: int) -> None:
    tf = tf_module()
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(M, B, H, W, C)), tf.float32)
    k = tf.Variable(rng.normal(size=(M, K, K, C, F)), dtype=tf.float32)
    reference = loop(tf, x, k, M).numpy()
    for name, conv in (("im2col", im2col), ("vectorized_map", vectorized), ("loop", loop)):
        def step(x, conv=conv):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(tf.square(conv(tf, x, k, M)))
            return tape.gradient(loss, k)

        traced = tf.function(step)
        traced(x)
        start = time.perf_counter()
        for _ in range(20):
            traced(x)
        ms = 1000 * (time.perf_counter() - start) / 20
        diff = np.abs(conv(tf, x, k, M).numpy() - reference).max()
        print(f"{name:16s} {ms:7.1f} ms/step (forward + gradient), max diff {diff:.1e}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
