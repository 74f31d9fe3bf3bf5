"""``dnn(formula, data)`` when ``data`` maps names to arrays (see :mod:`dlstat.formula.arrays`).

The tabular part of the formula goes through :func:`make_block` as any data frame does; the
array's rows are then put in front of each design row.  A network that reads arrays (its first
layer is not dense) starts with ``reshape(row shape, joined=tabular width)``: the array part is
read back as images or sequences, the tabular columns bypass it and join after flattening.  A
dense-first network reads the array's values as plain columns (a matrix term, as in R).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..architecture import Dense, Layer, Reshape, code_input, reshape
from ..engine.recurrent import check_codes
from ..errors import DataError, OptionError, warn
from ..formula.arrays import ArrayData, ArraySpec, split_formula
from ..options import FitOptions
from .blocks import Block, make_block
from .priors import attach_priors

# Per-row rank the first layer reads: conv2d [h, w, c]; conv1d and recurrent layers [T, p].
_RANK = {"conv2d": 3, "conv1d": 2, "rnn": 2, "lstm": 2, "gru": 2, "bidirectional": 2}


def dnn_on_arrays(formula: str, data: Mapping, options: dict[str, Any], call: Any) -> Any:
    """Fit ``formula`` on a mapping of columns and (at most one) array input."""
    parts = ArrayData.of(data, "data")
    tabular_formula, name = split_formula(formula, parts.arrays)
    validation = options.get("validation")
    if isinstance(options.get("test"), Mapping) and not isinstance(options["test"],
                                                                      pd.DataFrame):
        raise OptionError("test= with array inputs is not supported; predict() the test "
                          "arrays with the fitted model and score them.")
    held = ArrayData.of(validation, "validation") if _is_mapping(validation) else None
    if name is None:  # no array in the model: the columns are an ordinary data frame
        from .dnn import dnn

        return dnn(formula, parts.frame, **{**options, **(
            {"validation": held.frame} if held else {})})
    opts = FitOptions.from_kwargs(**{**options, **({"validation": None} if held else {})})
    from .dnn import fit_block

    tabular_formula, parts.frame, opts = attach_priors(tabular_formula, parts.frame, opts)
    frame = _complete_arrays(parts, name, opts.na_action, "data")
    if held is not None:
        opts.validation = _complete_arrays(held, name, opts.na_action, "validation")
    block = make_block(tabular_formula, frame, opts, validation_seed=opts.seed_value)
    codes = code_input(opts.layers)
    spec = ArraySpec.learn(formula, name, parts.arrays[name], _positions(block.index),
                           block.design.spec, standardise=codes is None)
    _attach(block, spec, parts.arrays[name], held.arrays.get(name) if held else None)
    if codes is not None:
        check_codes(block.X[:, :spec.width], codes.input_dim, "the training data")
    opts.layers = _with_reshape(opts.layers, spec, block.design.spec.tabular.n_columns)
    return fit_block(block, opts, call(opts), formula)


def _is_mapping(value: Any) -> bool:
    return isinstance(value, Mapping) and not isinstance(value, pd.DataFrame)


def _complete_arrays(parts: ArrayData, name: str, na_action: str, what: str) -> pd.DataFrame:
    """The frame without the observations whose array has a missing value (index kept)."""
    if name not in parts.arrays:
        raise DataError(f"{what} lacks the array {name!r} the formula uses; add it.")
    array = parts.arrays[name]
    finite = np.isfinite(array.reshape(len(array), -1)).all(axis=1)
    n_missing = int((~finite).sum())
    if n_missing and na_action == "fail":
        raise DataError(f"{n_missing} observation(s) of {what}[{name!r}] have missing values "
                        "and na_action='fail'. Use na_action='omit' to drop them.")
    if n_missing:
        warn(f"{n_missing} observation(s) of the {what} with missing values in {name!r} were "
             "dropped (na_action='omit').")
    return parts.frame.iloc[np.flatnonzero(finite)]


def _attach(block: Block, spec: ArraySpec, array: np.ndarray, val_array: np.ndarray | None) -> None:
    """Put the array rows in front of the block's tabular design rows."""
    block.X = np.hstack([spec.array_rows(array[_positions(block.index)], "data"), block.X])
    if block.val_X is not None:
        source = array if val_array is None else val_array
        rows = spec.array_rows(source[_positions(block.val_index)], "validation")
        block.val_X = np.hstack([rows, block.val_X])
        if block.all_X is not None:
            block.all_X = np.vstack([block.X, block.val_X])
    block.design.spec = spec
    block.design.X = block.X


def _positions(index: pd.Index) -> np.ndarray:
    """Row labels of the frames ``ArrayData`` makes are positions in its arrays."""
    return np.asarray(index, dtype=np.int64)


def _with_reshape(layers: tuple[Layer, ...], spec: ArraySpec, n_tabular: int) -> tuple:
    """The network's layers: a reshape first unless the first layer reads plain columns."""
    first = layers[0] if layers else None
    if first is None or isinstance(first, (Dense, Reshape)):
        return layers
    shape = spec.shape
    if len(shape) + 1 == _RANK.get(first.kind, 0):
        shape = (*shape, 1)  # one channel: [h, w] images, [T] sequences
    return (reshape(shape, joined=n_tabular), *layers)


__all__ = ["dnn_on_arrays"]


def refuse_array_data(data: Any, function: str) -> None:
    """Array inputs (a mapping of names to arrays) reach ``dnn()`` and the estimators so far;
    elsewhere say so, rather than that data must be a data frame."""
    if _is_mapping(data):
        raise DataError(
            f"{function}() takes a data frame; data maps names to arrays, which dnn() and the "
            "estimators take so far. Cross-validate an array model with scikit-learn, e.g. "
            "cross_val_score(dl.DNNClassifier(architecture=[...]), X, y), or pass a data frame "
            "with one column per value."
        )
