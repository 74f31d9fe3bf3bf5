"""``dnn(formula, data)`` when ``data`` maps names to arrays (see :mod:`dlstat.formula.arrays`).

The tabular part of the formula goes through :func:`make_block` as any data frame does; the
array's rows are then put in front of each design row.  A network that reads arrays (its first
layer is not dense) starts with ``reshape(row shape, joined=tabular width)``: the array part is
read back as images or sequences, the tabular columns bypass it and join after flattening.  A
dense-first network reads the array's values as plain columns (a matrix term, as in R).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import pandas as pd

from ..architecture import SPEC_TABLE, Dense, Layer, Reshape, code_input, reshape
from ..engine.recurrent import check_codes
from ..errors import DataError, OptionError, warn
from ..formula.arrays import ArrayData, ArraySpec, split_formula
from ..options import FitOptions
from .blocks import Block, Scored, make_block
from .priors import attach_priors
from .resolve import fit_options


def dnn_on_arrays(formula: str, data: Mapping, options: dict[str, Any], call: Any) -> Any:
    """Fit ``formula`` on a mapping of columns and (at most one) array input."""
    validation = options.get("validation")
    if isinstance(options.get("test"), Mapping) and not isinstance(options["test"],
                                                                      pd.DataFrame):
        raise OptionError("test= with array inputs is not supported; predict() the test "
                          "arrays with the fitted model and score them.")
    held = ArrayData.of(validation, "validation") if _is_mapping(validation) else None
    opts = fit_options(**{**options, **({"validation": None} if held else {})})
    tabular_formula, frame, opts, source = array_inputs(formula, data, opts)
    if source is None:  # no array in the model: the columns are an ordinary data frame
        from .dnn import dnn

        return dnn(formula, frame, **{**options, **(
            {"validation": held.frame} if held else {})})
    from .dnn import fit_block

    if held is not None:
        opts.validation = _complete_arrays(held, source.name, opts.na_action, "validation")
    block = make_block(tabular_formula, frame, opts, validation_seed=opts.seed_value)
    block = source.attach(block, held.arrays.get(source.name) if held else None)
    opts.layers = source.layers(opts.layers, [block])
    return fit_block(block, opts, call(opts), formula)


def array_inputs(formula: str, data: Any, opts: FitOptions
                 ) -> tuple[str, pd.DataFrame, FitOptions, ArrayInput | None]:
    """The tabular formula, the complete rows' frame (labelled by position in the arrays),
    the options with prior weights/offset as columns, and the array input (``None`` when
    ``data`` is a data frame or the formula uses no array)."""
    if not _is_mapping(data):
        return (*attach_priors(formula, data, opts), None)
    parts = ArrayData.of(data, "data")
    tabular_formula, name = split_formula(formula, parts.arrays)
    if name is None:
        return formula, parts.frame, opts, None
    tabular_formula, parts.frame, opts = attach_priors(tabular_formula, parts.frame, opts)
    frame = _complete_arrays(parts, name, opts.na_action, "data")
    return tabular_formula, frame, opts, ArrayInput(formula, name, parts.arrays[name],
                                                    frame.index, code_input(opts.layers))


@dataclass
class ArrayInput:
    """The array input of a mapping: what puts its rows in front of each block's design."""

    formula: str  # the whole formula (with the array term)
    name: str
    array: np.ndarray
    rows: pd.Index  # positions of the complete observations (the frame's labels)
    codes: Any  # the embedding reading integer codes, or None

    def attach(self, block: Block, val_array: np.ndarray | None = None) -> ArrayBlock:
        """``block`` with the array's rows in front of its design, standardised with the mean
        and sd of the block's own training rows."""
        spec = ArraySpec.learn(self.formula, self.name, self.array, _positions(block.index),
                               block.design.spec, standardise=self.codes is None)
        _attach(block, spec, self.array, val_array)
        if self.codes is not None:
            check_codes(block.X[:, :spec.width], self.codes.input_dim, "the training data")
        return ArrayBlock(**{f.name: getattr(block, f.name) for f in fields(Block)},
                          array=self.array)

    def layers(self, layers: tuple[Layer, ...], blocks: list[Block]) -> tuple[Layer, ...]:
        """The network's layers for ``blocks``, which must share one tabular width (the
        join after the convolutional part has one size in a stack)."""
        widths = sorted({b.design.spec.tabular.n_columns for b in blocks})
        if len(widths) > 1:
            raise DataError(
                f"the folds' tabular designs have different widths {widths} (a factor level "
                "is absent from some training folds), so their networks cannot share the join "
                "after the convolutional part. Merge rare levels, or stratify the folds on "
                "that factor (stratify=).")
        return _with_reshape(layers, blocks[0].design.spec, widths[0])

    def observations(self, foldid: Any) -> Any:
        """A fold id per complete observation from one per observation of the mapping."""
        if foldid is None:
            return None
        given = np.asarray(foldid)
        n = len(self.array)
        if given.shape != (n,):
            raise DataError(f"foldid must give one fold per observation of data ({n}); got "
                            f"shape {given.shape}.")
        return given[_positions(self.rows)]

    def align(self, values: pd.Series | pd.DataFrame) -> pd.Series | pd.DataFrame:
        """Per-observation ``values`` of the complete rows, on all observations (NA for the
        rest)."""
        return values.reindex(pd.RangeIndex(len(self.array)))


@dataclass
class ArrayBlock(Block):
    """A block whose design rows start with an array input's values (held-out rows are
    scored from the frame of their tabular columns, labelled by position in the array)."""

    array: np.ndarray | None = None

    def scored(self, data: pd.DataFrame, unseen: str = "na",
               what: str = "held-out fold") -> Scored:
        spec = self.design.spec
        tabular = Block(**{f.name: getattr(self, f.name) for f in fields(Block)})
        tabular.design = replace(self.design, spec=spec.tabular)
        rows = tabular.scored(data, unseen, what)
        values = spec.array_rows(self.array[_positions(data.index[rows.ok])], what)
        rows.X = np.hstack([values, rows.X])
        return rows


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
    if len(shape) + 1 == SPEC_TABLE[first.kind].rank:
        shape = (*shape, 1)  # one channel: [h, w] images, [T] sequences
    return (reshape(shape, joined=n_tabular), *layers)


__all__ = ["ArrayBlock", "ArrayInput", "array_inputs", "dnn_on_arrays"]


def refuse_array_data(data: Any, function: str) -> None:
    """Array inputs (a mapping of names to arrays) reach ``dnn()``, ``cv_dnn()`` and the
    estimators so far; elsewhere say so, rather than that data must be a data frame."""
    if _is_mapping(data):
        raise DataError(
            f"{function}() takes a data frame; data maps names to arrays, which dnn(), "
            "cv_dnn() and the estimators take so far. Cross-validate an array model with "
            "cv_dnn(formula, data, architecture=[...]) or scikit-learn's "
            "cross_val_score(dl.DNNClassifier(architecture=[...]), X, y), or pass a data "
            "frame with one column per value."
        )
