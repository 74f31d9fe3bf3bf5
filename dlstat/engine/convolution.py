"""The layer table's convolution and pooling kinds: a window sliding over a 1-D or 2-D input
(``conv1d``, ``conv2d``, ``maxpool``, ``avgpool``) and global average pooling.  The window
arithmetic (shapes, padding, strides, dilation) is :mod:`dlstat.engine.windows`', shared by the
NumPy and TensorFlow forwards.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..architecture import Conv, GlobalAvgPool, Pool
from ..errors import OptionError
from .activations import ACTIVATION_TABLE, activate_numpy, activate_tf
from .layer_kind import LayerKind, ParamDef, Placed, Shape
from .windows import Window, out_shape_2d, patches, spatial, window_counts


class WindowKind(LayerKind):
    """What convolution and pooling share: a window sliding over a 1-D or 2-D input."""

    def window(self, layer: Any, rank: int) -> Window:
        raise NotImplementedError

    def channels(self, layer: Any, in_shape: Shape) -> int:
        return in_shape[-1]

    def geometry(self, layer: Any, in_shape: Shape) -> tuple[int, Shape, Window]:
        """The input's rank (1 or 2), its 2-D shape and the layer's 2-D window."""
        rank, in2d = spatial(in_shape, layer.kind)
        return rank, in2d, self.window(layer, rank)

    def out_shape(self, layer: Any, in_shape: Shape) -> Shape:
        rank, in2d, window = self.geometry(layer, in_shape)
        out = out_shape_2d(window, in2d, self.channels(layer, in_shape), layer.kind)
        return out[1:] if rank == 1 else out

    def windows(self, xp: Any, p: Placed, x: Any, fill: float) -> tuple[Any, Shape]:
        """The windows ``[N, oh, ow, kh * kw, c]`` of ``x`` with its rows flattened."""
        _, in2d, window = self.geometry(p.layer, p.in_shape)
        return patches(xp, xp.reshape(x, (-1, *in2d)), window, in2d, fill), in2d

    def numpy_row_values(self, p: Placed) -> int:
        """The windows of a row (``windows()``) outnumber its outputs."""
        _, _, window = self.geometry(p.layer, p.in_shape)
        return int(np.prod(p.out_shape[:-1])) * window.size[0] * window.size[1] * p.in_shape[-1]

    def tf_images(self, tf: Any, p: Placed, h: Any) -> Any:
        """``h`` ``[M (or 1), rows, *in_shape]`` as images ``[M * rows, h, w, c]`` (1-D: h = 1)."""
        _, in2d, _ = self.geometry(p.layer, p.in_shape)
        return tf.reshape(h, tf.concat([[-1], in2d], 0))


class ConvKind(WindowKind):
    """Convolution with the kernel ``[k(h), (kw,) c_in, filters]`` (Keras's layout): in the
    graph a native convolution per network; in NumPy the windows times the kernel (im2col).
    The kernel is penalised."""

    name = "conv"
    keras_parts = ("kernel", "bias")
    solo = True

    def window(self, layer: Conv, rank: int) -> Window:
        if len(layer.kernel_size) != rank:
            raise OptionError(
                f"{layer.kind} needs an input of {len(layer.kernel_size)} spatial "
                f"dimension(s) plus channels; it receives one of {rank}. Use "
                f"conv{rank}d(...) for this input."
            )
        return Window.of(rank, layer.kernel_size, layer.strides, layer.dilation, layer.padding)

    def channels(self, layer: Conv, in_shape: Shape) -> int:
        return layer.filters

    def params(self, key, layer, in_shape, out_shape):
        return (ParamDef(key("bias"), (*(1,) * len(out_shape), layer.filters), "zeros"),
                ParamDef(key("kernel"), (*layer.kernel_size, in_shape[-1], layer.filters),
                         "glorot", penalised=True))

    def tf_forward(self, tf, p, P, h, ctx):
        kernel = P[p.key("kernel")]
        if ctx.lead == 0:  # the trainer's single-network path: no stack axis at all
            z = self._native(tf, p, kernel, h)
            z = tf.reshape(z, tf.concat([tf.shape(h)[:1], p.out_shape], 0))
        else:
            # A stack of one (a forward outside the trainer's single-network path) convolves
            # natively too: a training step of the 32- and 64-filter CNN of
            # benchmarks/bench_cnn.py (batch 128) took 260 ms instead of 340 ms through
            # vectorized_map (best of 5, 2 loaded cores).
            z = tf.cond(tf.equal(tf.shape(kernel)[0], 1),
                        lambda: self._native(tf, p, kernel[0], h)[None],
                        lambda: self._tf_stacked(tf, p, kernel, h))
            z = tf.reshape(z, tf.concat([tf.shape(z)[:1], tf.shape(h)[1:2], p.out_shape], 0))
        return activate_tf(tf, z + P[p.key("bias")], p.layer.activation)

    def _native(self, tf: Any, p: Placed, kernel: Any, h: Any) -> Any:
        """The convolution of one network (``kernel`` without a stack axis) over the images
        of ``h``: ``[images, oh, ow, filters]``."""
        _, _, window = self.geometry(p.layer, p.in_shape)
        kernel2d = tf.reshape(kernel, [*window.size, p.in_shape[-1], p.layer.filters])
        return tf.nn.convolution(self.tf_images(tf, p, h), kernel2d, strides=window.strides,
                                 padding=window.padding.upper(), dilations=window.dilation)

    def _tf_stacked(self, tf: Any, p: Placed, kernel: Any, h: Any) -> Any:
        """One native convolution per network of the stack, vectorised: ``[M, rows, ...]``."""
        _, in2d, window = self.geometry(p.layer, p.in_shape)
        kernel = tf.reshape(kernel, [-1, *window.size, p.in_shape[-1], p.layer.filters])
        x = tf.reshape(h, tf.concat([tf.shape(h)[:2], in2d], 0))
        x = tf.broadcast_to(x, tf.concat([tf.shape(kernel)[:1], tf.shape(x)[1:]], 0))

        def one_network(args):
            return tf.nn.convolution(args[0], args[1], strides=window.strides,
                                     padding=window.padding.upper(), dilations=window.dilation)

        # On CPU 2.3 times faster than im2col as a batched matmul (M=6, 28x28x8 -> 16 filters,
        # with gradient; benchmarks/bench_conv_stack.py).
        return tf.vectorized_map(one_network, (x, kernel))

    def numpy_forward(self, p, P, h):
        cols, _ = self.windows(np, p, h, 0.0)
        kernel = P[p.key("kernel")]
        z = cols.reshape(-1, kernel[..., 0].size) @ kernel.reshape(-1, p.layer.filters)
        z = z.reshape(len(h), *p.out_shape) + P[p.key("bias")]
        return activate_numpy(z, p.layer.activation)

    def keras(self, keras, p, P):
        layer_type = keras.layers.Conv1D if p.layer.kind == "conv1d" else keras.layers.Conv2D
        layer = layer_type(p.layer.filters, p.layer.kernel_size, strides=p.layer.strides,
                           padding=p.layer.padding, dilation_rate=p.layer.dilation,
                           activation=ACTIVATION_TABLE[p.layer.activation].keras,
                           name=p.keras_name())
        return layer, [P[p.key("kernel")], P[p.key("bias")].reshape(-1)]


class PoolKind(WindowKind):
    """Max or average pooling over windows; an average counts only positions inside the
    input (Keras's "same" padding)."""

    solo = True

    def __init__(self, name: str) -> None:
        self.name = name

    def window(self, layer: Pool, rank: int) -> Window:
        if max(len(layer.pool_size), len(layer.strides)) > rank:
            raise OptionError(
                f"{layer.kind} with pool_size {list(layer.pool_size)} and strides "
                f"{list(layer.strides)} has more sizes than its input has spatial "
                f"dimensions ({rank}); give one size per dimension."
            )
        return Window.of(rank, layer.pool_size, layer.strides, padding=layer.padding)

    def tf_forward(self, tf, p, P, h, ctx):
        # Pooling has no parameters, so the stack folds into the rows: TensorFlow's pooling
        # ops (as Keras's, padding never counts in a mean) for any stack size.
        _, _, window = self.geometry(p.layer, p.in_shape)
        pool = tf.nn.max_pool2d if self.name == "maxpool" else tf.nn.avg_pool2d
        z = pool(self.tf_images(tf, p, h), window.size, window.strides, window.padding.upper())
        return tf.reshape(z, tf.concat([tf.shape(h)[:ctx.lead + 1], p.out_shape], 0))

    def numpy_forward(self, p, P, h):
        if self.name == "maxpool":
            windows, _ = self.windows(np, p, h, -np.inf)
            pooled = windows.max(3)
        else:
            windows, in2d = self.windows(np, p, h, 0.0)
            _, _, window = self.geometry(p.layer, p.in_shape)
            pooled = windows.sum(3) / window_counts(window, in2d)
        return pooled.reshape(len(h), *p.out_shape)

    def keras(self, keras, p, P):
        rank, _, window = self.geometry(p.layer, p.in_shape)
        size, strides = window.size[2 - rank:], window.strides[2 - rank:]
        layer_type = {("maxpool", 1): keras.layers.MaxPooling1D,
                      ("maxpool", 2): keras.layers.MaxPooling2D,
                      ("avgpool", 1): keras.layers.AveragePooling1D,
                      ("avgpool", 2): keras.layers.AveragePooling2D}[self.name, rank]
        return layer_type(size, strides=strides, padding=window.padding,
                          name=p.keras_name()), None


class GlobalAvgPoolKind(LayerKind):
    """The mean of each channel over every position of a sequence or an image."""

    name = "gap"
    solo = True

    def out_shape(self, layer: GlobalAvgPool, in_shape: Shape) -> Shape:
        spatial(in_shape, layer.kind)
        return (in_shape[-1],)

    def tf_forward(self, tf, p, P, h, ctx):
        return tf.reduce_mean(h, list(range(ctx.lead + 1, ctx.lead + len(p.in_shape))))

    def numpy_forward(self, p, P, h):
        return h.mean(axis=tuple(range(1, len(p.in_shape))))

    def keras(self, keras, p, P):
        layer_type = keras.layers.GlobalAveragePooling1D if len(p.in_shape) == 2 else \
            keras.layers.GlobalAveragePooling2D
        return layer_type(name=p.keras_name()), None


SPATIAL_KINDS: dict[str, LayerKind] = {
    "conv1d": ConvKind(), "conv2d": ConvKind(), "maxpool": PoolKind("maxpool"),
    "avgpool": PoolKind("avgpool"), GlobalAvgPool.kind: GlobalAvgPoolKind(),
}
