"""Sliding windows for convolution and pooling, one code path for NumPy and TensorFlow.

A 1-D input ``[rows, T, c]`` is handled as a 2-D one ``[rows, 1, T, c]``.  Padding is computed
here as TensorFlow and Keras compute "same" (the extra row or column goes after), and the
windows are strided slices of the padded input stacked on a new axis.  The NumPy forward
(prediction) convolves as windows times kernel (im2col) and pools over these windows; the
training graph uses TensorFlow's convolution and pooling ops.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import OptionError

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Window:
    """A 2-D window: size, strides and dilation per spatial axis, and the padding mode."""

    size: Shape
    strides: Shape
    dilation: Shape
    padding: str

    @classmethod
    def of(cls, rank: int, size: Shape, strides: Shape, dilation: Shape = (1,),
           padding: str = "valid") -> Window:
        """The 2-D window of a 1-D (``rank`` 1) or 2-D layer; one size applies to every axis."""

        def two(values: Shape) -> Shape:
            values = values * rank if len(values) == 1 else values
            return (1, *values) if rank == 1 else values

        return cls(two(size), two(strides), two(dilation), padding)

    def extent(self, axis: int) -> int:
        """The span of the window on ``axis`` once dilated."""
        return (self.size[axis] - 1) * self.dilation[axis] + 1

    def out_size(self, axis: int, n: int) -> int:
        if self.padding == "same":
            return -(-n // self.strides[axis])
        return (n - self.extent(axis)) // self.strides[axis] + 1

    def pads(self, axis: int, n: int) -> tuple[int, int]:
        """Padding before and after on ``axis`` of length ``n``."""
        if self.padding == "valid":
            return 0, 0
        total = max((self.out_size(axis, n) - 1) * self.strides[axis] + self.extent(axis) - n, 0)
        return total // 2, total - total // 2


def spatial(in_shape: Shape, kind: str) -> tuple[int, Shape]:
    """The rank (1 or 2) of a layer's input ``[T, c]`` or ``[h, w, c]`` and its 2-D form."""
    if len(in_shape) == 2:
        return 1, (1, *in_shape)
    if len(in_shape) == 3:
        return 2, in_shape
    raise OptionError(
        f"{kind} needs each row as a sequence [T, channels] or an image [h, w, channels]; it "
        f"receives shape {list(in_shape)}. Pass the estimator an array [n, h, w(, c)] or "
        f"[n, T, p], or put reshape(...) before it (and flatten() before dense layers)."
    )


def out_shape_2d(window: Window, shape2d: Shape, channels: int, kind: str) -> Shape:
    """The 2-D output shape ``(oh, ow, channels)``; refused if a size is not positive."""
    out = tuple(window.out_size(axis, shape2d[axis]) for axis in (0, 1))
    if min(out) < 1:
        raise OptionError(
            f"{kind} with window {list(window.size)}, strides {list(window.strides)}, "
            f"dilation {list(window.dilation)} and padding {window.padding!r} does not fit its "
            f"input of shape {list(shape2d[-3:])}: the output would be {list(out)}. Use a "
            "smaller kernel or pool, padding='same', or fewer layers before it."
        )
    return (*out, channels)


def patches(xp: Any, x: Any, window: Window, in2d: Shape, fill: float) -> Any:
    """Windows of ``x`` ``[N, h, w, c]`` as ``[N, oh, ow, kh * kw, c]`` (``xp``: numpy or tf)."""
    (top, bottom), (left, right) = window.pads(0, in2d[0]), window.pads(1, in2d[1])
    if top or bottom or left or right:
        widths = [[0, 0], [top, bottom], [left, right], [0, 0]]
        x = xp.pad(x, widths, constant_values=fill)
    oh, ow = window.out_size(0, in2d[0]), window.out_size(1, in2d[1])
    (sh, sw), (dh, dw) = window.strides, window.dilation
    pieces = [x[:, i * dh: i * dh + (oh - 1) * sh + 1: sh, j * dw: j * dw + (ow - 1) * sw + 1: sw]
              for i in range(window.size[0]) for j in range(window.size[1])]
    return xp.stack(pieces, axis=3)


def window_counts(window: Window, in2d: Shape) -> np.ndarray:
    """How many input positions (not padding) each window covers, ``[oh, ow, 1]``."""
    ones = np.ones((1, in2d[0], in2d[1], 1))
    return patches(np, ones, window, in2d, 0.0).sum(axis=3)[0]
