"""Prior weights and offsets given as options (``weights=``, ``offset=``): checked against the
data, then carried as columns of a copy of it, so that every subset of rows (validation split,
CV folds, bootstrap) keeps each row's weight and offset.

A column name is used as it is; a vector (one value per row of ``data``, by position) becomes
the column ``"(weights)"`` or ``"(offset)"``, as R's model frame names them.  An offset becomes
an ``offset(...)`` term of the formula, so prediction evaluates it from new data.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, OptionTypeError
from ..formula.parse import OFFSET_COLUMN, WEIGHTS_COLUMN
from ..formula.tokens import MAX_FORMULA_CHARS, tokenize
from ..options import FitOptions


def attach_priors(formula: str, data: pd.DataFrame,
                  opts: FitOptions) -> tuple[str, pd.DataFrame, FitOptions]:
    """The formula, data and options with ``weights``/``offset`` resolved to columns.

    The returned options name the weights column and hold no offset (it is a formula term
    now); ``data`` is never modified (a copy gains the vector columns)."""
    if opts.weights is None and opts.offset is None or not isinstance(data, pd.DataFrame):
        return formula, data, opts
    added: dict[str, np.ndarray] = {}
    weights = opts.weights
    if weights is not None:
        values = _values("weights", weights, data)
        _check_weights(values)
        if not isinstance(weights, str):
            added[WEIGHTS_COLUMN], weights = values, WEIGHTS_COLUMN
    if opts.offset is not None:
        values = _values("offset", opts.offset, data)
        if not isinstance(opts.offset, str) and not np.isfinite(values).all():
            raise DataError(f"offset must be finite; {int((~np.isfinite(values)).sum())} "
                            "value(s) are NaN or infinite. Fix or drop those rows.")
        name = opts.offset if isinstance(opts.offset, str) else OFFSET_COLUMN
        if name == OFFSET_COLUMN:
            added[OFFSET_COLUMN] = values
        formula = f"{formula} + {offset_term(name, formula)}"
    if added:
        data = data.assign(**added)
    return formula, data, replace(opts, weights=weights, offset=None)


def prior_weights(frame: pd.DataFrame, column: str | None) -> np.ndarray:
    """Each row's prior weight in ``frame``, read from ``column`` (ones without weights, or
    when ``frame`` — a test frame, new data — lacks the weights column)."""
    if column is None or column not in frame.columns:
        return np.ones(len(frame))
    return frame[column].to_numpy(dtype=np.float64)


def _values(name: str, value: Any, data: pd.DataFrame) -> np.ndarray:
    """The option's numbers, one per row of ``data``."""
    if isinstance(value, str):
        if value not in data.columns:
            raise DataError(f"{name}={value!r} is not a column of the data; columns are "
                            f"{list(map(str, data.columns))[:12]}. Name a numeric column or "
                            f"pass one number per row.")
        column = data[value]
        if not pd.api.types.is_numeric_dtype(column.dtype) or \
                pd.api.types.is_bool_dtype(column.dtype):
            raise DataError(f"{name}={value!r} names a column of type {column.dtype}; {name} "
                            "must be numbers. Convert the column, or pass a numeric vector.")
        return column.to_numpy(dtype=np.float64)
    try:
        values = np.asarray(value.to_numpy() if isinstance(value, pd.Series) else value,
                            dtype=np.float64)
    except (TypeError, ValueError):
        raise OptionTypeError(f"{name} must be a column name or one number per row; got "
                              f"{str(value)[:80]!r}, which is not numbers.") from None
    if values.shape != (len(data),):
        raise DataError(f"{name} must give one number per row of the data ({len(data)}); got "
                        f"shape {list(values.shape)}. Pass a vector as long as the data, or "
                        "a column name.")
    return values.copy()


def _check_weights(values: np.ndarray) -> None:
    """Prior weights: finite, non-negative and not all zero (as R's glm requires)."""
    if not np.isfinite(values).all():
        raise DataError(f"weights must be finite numbers; {int((~np.isfinite(values)).sum())} "
                        "are NaN or infinite. Fill them in, or drop those rows.")
    if (values < 0).any():
        raise DataError(f"weights must be non-negative; got minimum {values.min():g}. Prior "
                        "weights count how much each row weighs (0 leaves a row out).")
    if not (values > 0).any():
        raise DataError("weights are all zero, which leaves no row to fit; give at least one "
                        "row a positive weight.")


def offset_term(name: str, formula: str) -> str:
    """The formula term ``offset(`name`)`` for the column ``name``, quoted so that nothing in
    the name is read as formula text (``x` + log(hp) + `y`` would otherwise add ``log(hp)``);
    a name that no backquotes can hold, or that would make the formula too long, is refused."""
    if "`" in name or "\\" in name:
        raise DataError(
            f"offset={name[:80]!r} names a column whose name holds a backquote or backslash, "
            "which a formula cannot quote (the name would end early and the rest be read as "
            "formula terms). Rename the column, or pass the offset as one number per row.")
    term = f"offset(`{name}`)"
    if len(str(formula)) + len(term) + 3 > MAX_FORMULA_CHARS:
        raise DataError(
            f"offset= names a column of {len(name)} characters, too long for a formula "
            f"(at most {MAX_FORMULA_CHARS} characters in all). Rename the column, or pass the "
            "offset as one number per row.")
    tokens = tokenize(term)
    if [t.text for t in tokens] != ["offset", "(", name, ")"] or not tokens[2].quoted:
        raise DataError(f"offset={name[:80]!r} cannot be named in a formula; rename the "
                        "column, or pass the offset as one number per row.")
    return term
