"""The kind of each input column (logical, number, text, date), learned at fit and checked on
new data, and factor levels matched kind for kind.

Python's ``True == 1`` would let a 0/1 column match the levels ``[False, True]`` of a logical
factor, and pandas would then turn every value into NA without a word.  R refuses a column
whose class changed since the fit (``.checkMFClasses``); so does dlstat: nothing is guessed
(is 1 ``TRUE``? is ``"6"`` the number 6?), and the message names the column, the kind at fit,
the kind now and the conversion that fixes it.  A column with no values (all missing) has no
kind and is accepted as any.
"""

from __future__ import annotations

import datetime
import numbers
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError

KINDS = ("logical", "number", "text", "date")
_SHOWN = {"logical": "true/false values", "number": "numbers", "text": "text",
          "date": "dates"}
_FIXES = {
    "logical": "true/false values (pandas: .astype(bool) once you have checked the "
               "values; R: as.logical())",
    "number": "numbers (pandas: pandas.to_numeric(); R: as.numeric())",
    "text": "text (pandas: .astype(str); R: as.character() or factor())",
    "date": "dates (pandas: pandas.to_datetime(); R: as.Date())",
}


def column_kind(s: pd.Series) -> str | None:
    """``s``'s kind, one of :data:`KINDS`, or ``None`` (no values, or values of mixed or
    other kinds)."""
    kind = dtype_kind(s.dtype)
    return values_kind(s.dropna().unique()) if kind is _BY_VALUES else kind


_BY_VALUES = object()  # a dtype whose kind its values tell (object and string columns)


def dtype_kind(dtype: Any) -> Any:
    """The kind every column of ``dtype`` has (or ``None``), or ``_BY_VALUES``: read from
    the dtype alone, so 50,000 numeric columns are typed without looking at one value."""
    if isinstance(dtype, pd.CategoricalDtype):
        return values_kind(dtype.categories)
    if pd.api.types.is_bool_dtype(dtype):
        return "logical"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "date"
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        return "number"
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        return _BY_VALUES
    return None


def _kinds_by_dtype(data: pd.DataFrame, columns: list[str]) -> dict[str, Any]:
    """``dtype_kind`` of each of ``columns`` that ``data`` has (asked once per distinct NumPy
    dtype; each categorical's own, since comparing categoricals' dtypes compares their
    categories)."""
    every = dict(zip(data.columns.tolist(), data.dtypes.tolist()))
    dtypes = {c: every[c] for c in columns if c in every}
    found = {d: dtype_kind(d) for d in {d for d in dtypes.values()
                                        if not isinstance(d, pd.CategoricalDtype)}}
    return {c: dtype_kind(d) if isinstance(d, pd.CategoricalDtype) else found[d]
            for c, d in dtypes.items()}


def values_kind(values: Any) -> str | None:
    """The one kind of all ``values`` (``None`` when they are of several kinds, or none)."""
    kinds = {value_kind(v) for v in values}
    return kinds.pop() if len(kinds) == 1 else None


def value_kind(v: Any) -> str | None:
    """The kind of one value (``None`` for anything else)."""
    if isinstance(v, (bool, np.bool_)):
        return "logical"
    if isinstance(v, numbers.Real):
        return "number"
    if isinstance(v, str):
        return "text"
    if isinstance(v, (datetime.date, np.datetime64)):
        return "date"
    return None


def kinds_of(data: pd.DataFrame, variables: list[str]) -> dict[str, str]:
    """The kind of each of ``variables`` in ``data`` that has one."""
    by_dtype = _kinds_by_dtype(data, variables)
    found = {v: column_kind(data[v]) if k is _BY_VALUES else k for v, k in by_dtype.items()}
    return {v: k for v, k in found.items() if k is not None}


def kinds_of_levels(levels: dict[str, list[Any]]) -> dict[str, str]:
    """The kinds of factor columns told by their stored levels (model files written before
    kinds were stored)."""
    found = {v: values_kind(lv) for v, lv in levels.items()}
    return {v: k for v, k in found.items() if k is not None}


def check_kinds(data: pd.DataFrame, kinds: dict[str, str], what: str) -> None:
    """Refuse a column of ``data`` whose kind differs from its kind at fit."""
    for col, now_by_dtype in _kinds_by_dtype(data, list(kinds)).items():
        fitted = kinds[col]
        if now_by_dtype == fitted:
            continue  # told by the dtype: no Series built (wide data)
        now = column_kind(data[col])
        if now is None or now == fitted or not data[col].notna().any():
            continue  # an all-missing column (NaN is a float) has no kind
        raise DataError(
            f"column {col!r} of {what} holds {_SHOWN[now]} ({data[col].dtype}), but the model "
            f"was fitted with {_SHOWN[fitted]} in it. dlstat does not guess a conversion (is 1 "
            f"TRUE? is '6' the number 6?): convert {col!r} back to {_FIXES[fitted]}, as it "
            "was when the model was fitted.")


def level_key(v: Any) -> tuple[str | None, Any]:
    """A level's identity: its kind and value, so that ``True`` is not the level ``1`` while
    the number ``6.0`` is the level ``6``."""
    return value_kind(v), plain_value(v)


def plain_value(v: Any) -> Any:
    """A NumPy scalar as the Python value it holds (other values as they are)."""
    if isinstance(v, np.generic):
        return v.item()
    return v
