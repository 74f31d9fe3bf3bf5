"""Image and sequence arrays for the estimators: ``[n, h, w(, c)]`` and ``[n, T, p]``.

The engine trains on rows of values, so an array input is read as its rows in C order and the
network starts with :func:`~dlstat.architecture.reshape` back to the per-row shape: the shape
becomes part of the topology (saved with the model, exported to Keras) and the engine keeps
gathering rows on the leading axis.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..architecture import Bidirectional, Conv, Layer, Pool, Recurrent, reshape
from ..errors import DataError, OptionError

# The layers an array input can start with; integer codes [n, T] for an embedding are a matrix.
_SPATIAL_FIRST = (Conv, Pool, Recurrent, Bidirectional)


def array_of(X: Any) -> np.ndarray | None:
    """``X`` as an array when it has more than two dimensions (an image or sequence input)."""
    if hasattr(X, "columns") or hasattr(X, "tocsr"):  # data frames and sparse matrices
        return None
    array = X if isinstance(X, np.ndarray) else np.asarray(X) if isinstance(X, list) else None
    return array if array is not None and array.ndim > 2 else None


def row_shape(array: np.ndarray, architecture: list[Layer] | None, owner: str) -> tuple[int, ...]:
    """The per-row shape the network reads: ``[n, h, w]`` before a conv2d gains one channel."""
    first = architecture[0] if architecture else None
    if not isinstance(first, _SPATIAL_FIRST):
        raise OptionError(
            f"{owner}.fit() received an array of shape {list(array.shape)} (images or "
            "sequences); such input needs an architecture that starts with a convolution, "
            "pooling or recurrent layer, e.g. architecture=[dl.conv2d(16, 3), dl.maxpool(2), "
            "dl.flatten(), dl.dense(32)] or [dl.lstm(16), dl.dense(8)]. For tabular data pass "
            "a 2-D array [n, p]."
        )
    shape = tuple(int(s) for s in array.shape[1:])
    if first.kind == "conv2d" and len(shape) == 2:
        shape += (1,)
    if min(shape) < 1:
        raise DataError(f"{owner}.fit() received an array of shape {list(array.shape)}; every "
                        "dimension needs at least one entry.")
    return shape


def base_row_shape(array: np.ndarray, base: Any, upto: Any, owner: str) -> tuple[int, ...]:
    """The per-row shape a base network reads, checked against ``array``'s rows."""
    from ..transfer import read_base

    kept = read_base(base, upto, freeze=False)
    shape = kept.row_shape
    given = tuple(int(s) for s in array.shape[1:])
    if shape is None or given not in (shape, shape[:-1] if shape[-1] == 1 else shape):
        wanted = f"rows of {kept.n_inputs} values" if shape is None else \
            f"arrays [n, {', '.join(map(str, shape))}]"
        raise DataError(
            f"{owner}.fit() received an array of shape {list(array.shape)}, but its base "
            f"({kept.source}) reads {wanted}. Pass data shaped as the base's inputs."
        )
    return shape


def as_rows(array: np.ndarray, shape: tuple[int, ...], owner: str) -> np.ndarray:
    """The array's rows as vectors of values (C order), checked against the fitted shape."""
    given = tuple(array.shape[1:])
    if given not in (shape, shape[:-1] if shape[-1] == 1 else shape):
        raise DataError(
            f"{owner} was fitted on rows of shape {list(shape)}; it received an array of shape "
            f"{list(array.shape)}. Pass arrays [n, {', '.join(map(str, shape))}] as in fit()."
        )
    return array.reshape(len(array), -1)


def with_reshape(architecture: list[Layer], shape: tuple[int, ...]) -> list[Layer]:
    """The architecture the fit uses: first the rows read back as arrays of ``shape``."""
    return [reshape(shape), *architecture]
