"""The data codec between R and dlstat: plain values in, plain values out.

Its R half is ``R/convert.R`` (shipped with this package as ``convert.R``, see
:func:`r_codec_file`); both bridges, reticulate and rpy2, use these two halves.  Nothing that
crosses the boundary is a NumPy array, because the reticulate build a user has may predate the
installed NumPy's binary interface:

* a data frame travels as a *frame spec*: ``{"names": [...], "nrow": n, "columns": [...],
  "rownames": ...}`` where every column is a *column spec* ``{"type": ..., "data": bytes, ...}``
  holding raw bytes (R ``writeBin`` of doubles or 32-bit integers, in the machine's byte order)
  and, for strings and factors, integer codes plus a list of levels;
* results travel back the same way (:func:`frame_to_r`).

Column types: ``double`` (NA = NaN), ``integer`` (NA = R's ``NA_integer_``, -2**31; becomes
``int64`` or pandas ``Int64`` when NA is present), ``logical`` (``bool`` or ``boolean``),
``character`` (codes into ``levels``, -1 = NA; pandas' string dtype), ``factor`` (0-based codes,
-1 = NA, ``levels`` in R's order, ``ordered``; ``pandas.Categorical``), ``Date`` (days since
1970-01-01; ``datetime64``) and ``POSIXct`` (seconds since the epoch and a time zone).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, DatasetError

NA_INTEGER = -(2**31)
INT32_MAX = 2**31 - 1
R_FOLD_BASE = 1  # R numbers folds 1, 2, ...; Python 0, 1, ...


def r_codec_file() -> Path:
    """The R half of the codec: ``convert.R`` next to this module (a link to the R package's
    ``R/convert.R`` in a source checkout, a copy in an installed wheel)."""
    path = Path(__file__).resolve().parent / "convert.R"
    if not path.is_file():
        raise DatasetError(f"the R codec {str(path)!r} is missing from the dlstat Python "
                           "package; reinstall it (pip install --force-reinstall dlstat).")
    return path


def shift_folds(fold_ids: Any, to_r: bool) -> Any:
    """Fold numbers between R (1-based) and Python (0-based); NA stays NA.

    ``fold_ids`` is anything pandas can subtract from: an array, a ``Series`` (``Int64`` for
    rows without a fold).  Non-numeric ids (labels) are returned unchanged.
    """
    values = pd.Series(fold_ids, copy=False) if not isinstance(fold_ids, pd.Series) else fold_ids
    if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values):
        return fold_ids
    shifted = values + R_FOLD_BASE if to_r else values - R_FOLD_BASE
    return shifted if isinstance(fold_ids, pd.Series) else shifted.to_numpy()


# --------------------------------------------------------------------------- R → pandas


def column_from_r(col: dict[str, Any]) -> Any:
    """One column spec (see the module docstring) → a NumPy array or pandas array."""
    kind = col.get("type")
    data = col.get("data", b"")
    if kind == "double":
        return _doubles(data)
    if kind in ("integer", "logical", "character", "factor"):
        codes = np.frombuffer(data, dtype=np.int32)
        if kind == "integer":
            missing = codes == NA_INTEGER
            values = codes.astype(np.int64)
            return pd.arrays.IntegerArray(values, missing) if missing.any() else values
        if kind == "logical":
            missing = codes == NA_INTEGER
            values = codes == 1
            return pd.arrays.BooleanArray(values, missing) if missing.any() else values
        levels = _strings(col.get("levels"))
        if kind == "factor":
            return pd.Categorical.from_codes(codes.astype(np.int64), categories=levels,
                                             ordered=bool(col.get("ordered", False)))
        values = np.asarray(levels + [None], dtype=object)[codes]
        # pandas' default string dtype (inferred), as read_csv would give; NA → missing.
        return pd.Series(values, copy=False).array if levels else values
    if kind == "Date":
        days = _doubles(data)
        return pd.to_datetime(days * 86400.0, unit="s").array
    if kind == "POSIXct":
        seconds = _doubles(data)
        stamps = pd.to_datetime(seconds, unit="s", utc=True)
        tz = col.get("tz") or "UTC"
        return stamps.tz_convert(tz).array
    raise DataError(f"column type {kind!r} cannot be passed to dlstat; use numeric, integer, "
                    "logical, character, factor, Date or POSIXct columns.")


def _doubles(data: Any) -> np.ndarray:
    """Doubles from R; R's NA is a signalling NaN, replaced by a quiet one so that arithmetic
    on the column does not warn.  A column without NA is a read-only view of the bytes (no
    copy: a wide frame from R would otherwise be held twice)."""
    values = np.frombuffer(data, dtype=np.float64)
    missing = np.isnan(values)
    if missing.any():
        values = values.copy()
        values[missing] = np.nan
    return values


def frame_from_r(spec: dict[str, Any]) -> pd.DataFrame:
    """A frame spec from R → a pandas DataFrame (column order, names and row names kept).

    Row names: ``None`` for R's automatic ``1..n`` (a ``RangeIndex``), else a column spec whose
    values (integer or character row names) become a string index.
    """
    names = _strings(spec.get("names"))
    columns = list(spec.get("columns") or [])
    nrow = int(spec.get("nrow", 0))
    arrays = [column_from_r(c) for c in columns]
    for name, values in zip(names, arrays):
        if len(values) != nrow:
            raise DataError(f"column {name!r} has {len(values)} values for {nrow} rows.")
    frame = pd.DataFrame(dict(enumerate(arrays)), index=pd.RangeIndex(nrow), copy=False)
    frame.columns = pd.Index(names, dtype=object)
    rownames = spec.get("rownames")
    if rownames is not None:
        labels = column_from_r(rownames)
        frame.index = pd.Index(np.asarray(labels).astype(str), dtype=object)
    return frame


def vector_from_r(col: dict[str, Any] | None) -> np.ndarray | None:
    """A column spec holding a plain vector (e.g. ``foldid``) → a NumPy array (``None`` kept)."""
    if col is None:
        return None
    return np.asarray(column_from_r(col), dtype=object if col.get("type") in (
        "character", "factor") else None)


def array_from_r(spec: dict[str, Any]) -> np.ndarray:
    """An array spec from R (raw bytes in R's column-major order plus ``dim``) → a NumPy
    array indexed as in R, observations first; integer NA → NaN (the array becomes float)."""
    dim = tuple(int(d) for d in (spec.get("dim") or []))
    dtype = np.float64 if spec.get("storage") == "double" else np.int32
    data = spec.get("data", b"")
    flat = np.frombuffer(data, dtype=dtype)
    if not dim or int(np.prod(dim)) != flat.size:
        raise DataError(f"an array from R holds {flat.size} values for dim {list(dim)}; send "
                        "arrays with the dlstat R package.")
    if dtype is np.int32 and (flat == NA_INTEGER).any():
        flat = np.where(flat == NA_INTEGER, np.nan, flat)
    elif dtype is np.float64:
        flat = _doubles(data)
    return flat.reshape(dim, order="F")  # R's indexing; rows are gathered (copied) later


def data_from_r(spec: dict[str, Any]) -> pd.DataFrame | dict[str, Any]:
    """``data`` from R: a frame spec → a DataFrame; a mapping spec (a named list, or a data
    frame with matrix columns) → a dict of columns, arrays and DataFrames."""
    if spec.get("__dlstat__") != "mapping":
        return frame_from_r(spec)
    names, values = _strings(spec.get("names")), list(spec.get("values") or [])
    if len(names) != len(values):
        raise DataError(f"data from R has {len(names)} names for {len(values)} values.")
    out: dict[str, Any] = {}
    for name, value in zip(names, values):
        if value.get("__dlstat__") == "frame":
            out[name] = frame_from_r(value)
        elif value.get("type") == "array":
            out[name] = array_from_r(value)
        else:
            out[name] = column_from_r(value)
    return out


# --------------------------------------------------------------------------- pandas → R


def column_to_r(values: Any) -> dict[str, Any]:
    """A pandas Series / array / Index → a column spec the R side decodes."""
    s = pd.Series(values, copy=False) if not isinstance(values, pd.Series) else values
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        codes = np.asarray(s.cat.codes, dtype=np.int32)
        return {"type": "factor", "data": _bytes(codes),
                "levels": [r_label(v) for v in dtype.categories], "ordered": bool(dtype.ordered)}
    if pd.api.types.is_bool_dtype(dtype):
        na = s.isna().to_numpy()
        ints = np.where(na, NA_INTEGER, s.fillna(False).to_numpy(dtype=bool)).astype(np.int32)
        return {"type": "logical", "data": _bytes(ints)}
    if pd.api.types.is_integer_dtype(dtype):
        na = s.isna().to_numpy()
        raw = s.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = raw[~na]
        if finite.size == 0 or (finite.min() > NA_INTEGER and finite.max() <= INT32_MAX):
            ints = np.where(na, NA_INTEGER, np.nan_to_num(raw)).astype(np.int32)
            return {"type": "integer", "data": _bytes(ints)}
        return {"type": "double", "data": _bytes(raw)}
    if pd.api.types.is_float_dtype(dtype):
        return {"type": "double", "data": _bytes(s.to_numpy(dtype=np.float64, na_value=np.nan))}
    if isinstance(dtype, pd.DatetimeTZDtype):
        seconds = _epoch_seconds(s.dt.tz_convert("UTC").dt.tz_localize(None))
        return {"type": "POSIXct", "data": _bytes(seconds), "tz": str(dtype.tz)}
    if pd.api.types.is_datetime64_dtype(dtype):
        seconds = _epoch_seconds(s)
        finite = seconds[~np.isnan(seconds)]
        if np.all(finite % 86400 == 0):
            return {"type": "Date", "data": _bytes(seconds / 86400.0)}
        return {"type": "POSIXct", "data": _bytes(seconds), "tz": "UTC"}
    if pd.api.types.is_timedelta64_dtype(dtype):
        return {"type": "double", "data": _bytes(s.dt.total_seconds().to_numpy(np.float64))}
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return {"type": "character", "data": _bytes(np.asarray(codes, dtype=np.int32)),
            "levels": [r_label(v) for v in uniques]}


def frame_to_r(frame: pd.DataFrame | pd.Series) -> dict[str, Any]:
    """A DataFrame (or Series) → a frame spec.

    The index travels as ``rownames``: ``None`` for a default ``RangeIndex``; otherwise a column
    spec plus ``rownames_kind``: ``"position"`` for integer indexes (0-based; R adds 1) and
    ``"label"`` for anything else.
    """
    series = isinstance(frame, pd.Series)
    if series:
        frame = frame.to_frame(name=frame.name if frame.name is not None else "value")
    index = frame.index
    rownames: dict[str, Any] | None = None
    kind = "label"
    default = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
    if not default:
        if isinstance(index, pd.MultiIndex):
            index = pd.Index([" ".join(map(str, t)) for t in index], dtype=object)
        if pd.api.types.is_integer_dtype(index.dtype):
            kind = "position"
        rownames = column_to_r(pd.Series(index, copy=False))
    return {"__dlstat__": "frame", "names": [r_label(c) for c in frame.columns],
            "nrow": int(len(frame)), "columns": [column_to_r(frame.iloc[:, j])
                                                 for j in range(frame.shape[1])],
            "rownames": rownames, "rownames_kind": kind,
            "index_name": None if frame.index.name is None else str(frame.index.name),
            "series": series}


def array_to_r(array: np.ndarray) -> dict[str, Any]:
    """A NumPy array → an array spec R decodes (``.decode_array``): NaN → NA."""
    values = np.asarray(array)
    storage = "integer" if values.dtype.kind in "biu" and (
        values.size == 0 or (values.min() > NA_INTEGER and values.max() <= INT32_MAX)) \
        else "double"
    typed = values.astype(np.int32 if storage == "integer" else np.float64)
    return {"type": "array", "storage": storage, "dim": [int(d) for d in values.shape],
            "data": bytearray(typed.tobytes(order="F"))}


def _bytes(values: np.ndarray) -> bytearray:
    # bytearray converts to an R raw vector (bytes does not, in older reticulate).
    return bytearray(np.ascontiguousarray(values).tobytes())


def _epoch_seconds(s: pd.Series) -> np.ndarray:
    values = s.to_numpy(dtype="datetime64[us]")  # microseconds: ±290,000 years
    out = values.astype(np.int64).astype(np.float64) / 1e6
    out[np.isnat(values)] = np.nan
    return out


def r_label(value: Any) -> str:
    """How R would print a level: TRUE/FALSE, whole numbers without '.0'."""
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _strings(values: Any) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        return [values]
    return [str(v) for v in values]


__all__ = ["NA_INTEGER", "R_FOLD_BASE", "array_from_r", "array_to_r", "column_from_r",
           "column_to_r", "data_from_r", "frame_from_r", "frame_to_r", "r_codec_file", "r_label",
           "shift_folds", "vector_from_r"]
