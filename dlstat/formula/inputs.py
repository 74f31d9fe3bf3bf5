"""Type a data frame's columns for a formula: factors as categoricals with the model's levels,
numbers as numbers, without copying what needs no copy.

Wide data sets the pace here: 50,000 gene columns are read from ``data.dtypes`` and handed
over as the frame's own arrays (no Series each, no copy), and a factor column is coded by
looking at each distinct value once (not each row), so 1,000 two-level factors of 2,000 rows
take a fraction of a second.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, UnseenLevelError, warn
from .kinds import level_key, plain_value
from .parse import ParsedFormula
from .plain import PlainLayout, column_arrays, is_plain_number, seen_levels
from .tokens import tokenize


def check_frame(data: Any, what: str) -> None:
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"{what} must be a pandas DataFrame; got {type(data).__name__}. Wrap arrays with "
            "pandas.DataFrame(...) and name the columns used in the formula."
        )
    if len(data) == 0:
        raise DataError(f"{what} has no rows; pass a data frame with at least one row.")


def check_column_names(data: pd.DataFrame, what: str) -> None:
    """Formulas name columns by text: refuse names a formula cannot address unambiguously.

    A bare number in a formula is a constant (``y ~ 0`` drops the intercept, as in R), so
    numeric column names such as those of ``pandas.DataFrame(array)`` cannot be referenced."""
    odd = [c for c in data.columns if not isinstance(c, str)]
    if odd:
        shown = ", ".join(repr(c) for c in odd[:8]) + (" …" if len(odd) > 8 else "")
        raise DataError(
            f"{what} has column names that are not text ({shown}); a formula names columns by "
            "text, and a number in a formula is a constant. Name the columns first, e.g. "
            "data.add_prefix('V') or pandas.DataFrame(array, columns=['y', 'x1', ...])."
        )
    repeated = sorted(set(data.columns[data.columns.duplicated()]))
    if repeated:
        raise DataError(
            f"{what} has repeated column names {repeated[:8]}; a formula could not tell them "
            "apart. Rename or drop the duplicates."
        )


def is_categorical(s: pd.Series) -> bool:
    return _is_factor_dtype(s.dtype)


def _is_factor_dtype(dtype: Any) -> bool:
    return bool(
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
    )


def learn_levels(data: pd.DataFrame, parsed: ParsedFormula) -> dict[str, list[Any]]:
    """Levels of every factor variable, in R's order (categories' order, else sorted).
    Column types are read from ``data.dtypes``, so 50,000 numeric columns cost nothing."""
    dtypes = dict(zip(data.columns.tolist(), data.dtypes.tolist()))
    is_factor = {d: _is_factor_dtype(d) for d in  # asked once per dtype
                 {d for d in dtypes.values() if not isinstance(d, pd.CategoricalDtype)}}
    called = set(parsed.factor_columns)
    levels: dict[str, list[Any]] = {}
    for col in parsed.variables:
        dtype = dtypes[col]
        if not (isinstance(dtype, pd.CategoricalDtype) or col in called or is_factor[dtype]):
            continue
        s = data[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            observed = seen_levels(s, len(s.cat.categories))
            levels[col] = [plain_value(v) for v, seen in zip(s.cat.categories, observed) if seen]
        else:
            values = [_integral(v) for v in s.unique().tolist() if not pd.isna(v)]
            try:
                levels[col] = sorted(plain_value(v) for v in values)
            except TypeError:
                levels[col] = sorted((plain_value(v) for v in values), key=str)
    return levels


def typed_inputs(
    data: pd.DataFrame, columns: list[str], levels: dict[str, list[Any]],
    layout: PlainLayout | None, carried: set[str], unseen: str, what: str,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The typed frame of ``columns`` (see ``typed_frame``), except the numeric inputs of a
    plain ``layout`` stored as NumPy numbers: those are handed over as the arrays of ``data``
    (no Series per column, no copy), unless ``carried`` by the frame."""
    direct: list[str] = []
    if layout is not None:
        dtypes = dict(zip(data.columns.tolist(), data.dtypes.tolist()))
        direct = [c for c in layout.numeric if c not in carried and is_plain_number(dtypes[c])]
    skip = set(direct)
    frame = typed_frame(data, [c for c in columns if c not in skip], levels, unseen, what)
    return frame, dict(zip(direct, column_arrays(data, direct)))


def typed_frame(
    data: pd.DataFrame, columns: list[str], levels: dict[str, list[Any]], unseen: str, what: str,
) -> pd.DataFrame:
    """A new frame of the used columns: factors as categoricals with the model's levels,
    everything else as float64; the caller's frame is never touched (the frame's columns may
    share its memory: pandas copies on write)."""
    out = {}
    coding: dict = {}  # factors sharing levels (A, C, G, T) share their coding
    for col in columns:
        s = data[col]
        if col in levels:
            out[col] = _as_factor(s, col, levels[col], unseen, what, coding)
        elif is_categorical(s) and col not in levels:
            out[col] = s  # a response factor: the family encodes it
        else:
            out[col] = _as_numeric(s, col, what)
    # copy=False: one column per block, not a consolidated copy of the whole frame
    frame = pd.DataFrame(out, index=data.index, copy=False)
    frame.index = pd.RangeIndex(len(frame))  # rows by position from here on
    return frame


def _as_factor(s: pd.Series, col: str, levels: list[Any], unseen: str, what: str,
               coding: dict | None = None) -> pd.Series:
    """``s`` as a categorical of ``levels``, values matched kind for kind (``level_key``:
    ``True`` is not the level ``1``, the number ``6.0`` is the level ``6``); a value outside
    them is refused (``unseen="error"``) or becomes NA with a warning.  Each distinct value (a
    categorical's category) is looked at once, not each row; ``coding`` remembers the dtype
    and the value-to-level codes of columns seen before, keyed by their values and types."""
    coding = {} if coding is None else coding
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes, values = s.array.codes, list(s.cat.categories)
        keys = [level_key(v) for v in values]
    else:
        codes, keys = _factorize_by_kind(s)
        values = [v for _, v in keys]
    known = {level_key(level): level for level in levels}
    if isinstance(s.dtype, pd.CategoricalDtype) and not s.cat.ordered and \
            keys == list(known):  # R's factors; the frame learned on
        return pd.Series(s.array, index=s.index, name=col)
    seen = np.bincount(codes[codes >= 0], minlength=len(values)) > 0
    new = sorted({str(v) for v, k, present in zip(values, keys, seen)
                  if present and k not in known})
    if new:
        if unseen != "na":
            raise UnseenLevelError(
                f"column {col!r} of {what} has level(s) {new} not seen when the model was "
                f"fitted (known levels: {levels}). Recode them to known levels, or pass "
                "unseen='na' to predict NA for those rows."
            )
        warn(
            f"column {col!r} has unseen level(s) {new}; those rows predict NA (unseen='na').")
    key = tuple((type(v), v) for v in levels)
    if key not in coding:
        coding[key] = pd.CategoricalDtype(levels)
    dtype = coding[key]
    kept = [known.get(k) for k in keys]
    lookup = (key, tuple((type(v), v) for v in kept))
    if lookup not in coding:
        coding[lookup] = np.append(pd.Categorical(kept, dtype=dtype).codes, -1)  # -1: missing
    return pd.Series(pd.Categorical.from_codes(coding[lookup][codes], dtype=dtype),
                     index=s.index, name=col)


# What pandas infers for values of one kind, or of numbers only (ints and floats): pandas can
# factorize these as they are, since no two of their distinct values are equal.
_ONE_KIND = frozenset({"string", "bytes", "floating", "integer", "mixed-integer-float",
                       "decimal", "boolean", "datetime64", "datetime", "date", "empty"})


def _factorize_by_kind(s: pd.Series) -> tuple[np.ndarray, list[tuple[str | None, Any]]]:
    """The codes of ``s``'s distinct values (``-1``: missing) and each one's ``level_key``.
    pandas factorizes ``True`` and ``1`` as one value (they are equal in Python), so a column
    that may mix kinds is factorized on its values' keys, one row at a time."""
    if pd.api.types.infer_dtype(s, skipna=True) in _ONE_KIND:
        codes, uniques = pd.factorize(s)
        return codes, [level_key(v) for v in uniques]
    values = s.astype(object).where(s.notna(), None)
    keys = [None if v is None else level_key(v) for v in values]
    codes, uniques = pd.factorize(pd.Series(keys, dtype=object))
    return codes, list(uniques)


def carried_columns(parsed: ParsedFormula) -> set[str]:
    """Columns the typed frame carries even when numeric: the response and the offsets'."""
    return set(parsed.response_columns) | offset_columns(parsed.offsets)


def offset_columns(offsets: list[str]) -> set[str]:
    """The names an offset expression reads (it is evaluated on the typed frame)."""
    return {t.text for e in offsets for t in tokenize(e) if t.kind == "NAME"}


def _as_numeric(s: pd.Series, col: str, what: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        # As R does for Dates in a model formula: days since 1970-01-01.
        days = (s - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
        return days.astype(np.float64)
    try:
        return s.astype(np.float64)
    except (TypeError, ValueError):
        raise DataError(
            f"column {col!r} of {what} has type {s.dtype}, which dlstat cannot use as a "
            "number or a factor. Convert it to numbers, strings or a categorical."
        ) from None


def _integral(v: Any) -> Any:
    """6.0 → 6, so factor(cyl) on a float column has levels 4, 6, 8 as in R."""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return int(v)
    return v
