"""The R package's door into dlstat: plain values in, plain values out.

The R package (``R/`` at the root of this repository) reaches Python through reticulate and
calls only :func:`rcall`.  Nothing that crosses the boundary is a NumPy array, because the
reticulate build a user has may predate the installed NumPy's binary interface:

* a data frame travels as a *frame spec*: ``{"names": [...], "nrow": n, "columns": [...],
  "rownames": ...}`` where every column is a *column spec* ``{"type": ..., "data": bytes, ...}``
  holding raw bytes (R ``writeBin`` of doubles or 32-bit integers, in the machine's byte order)
  and, for strings and factors, integer codes plus a list of levels;
* results travel back the same way (:func:`frame_to_r`), or as dicts of plain floats, strings
  and lists, or as the Python object itself (a fitted model the R side keeps a reference to).

Column types: ``double`` (NA = NaN), ``integer`` (NA = R's ``NA_integer_``, -2**31; becomes
``int64`` or pandas ``Int64`` when NA is present), ``logical`` (``bool`` or ``boolean``),
``character`` (codes into ``levels``, -1 = NA; pandas' string dtype), ``factor`` (0-based codes,
-1 = NA, ``levels`` in R's order, ``ordered``; ``pandas.Categorical``), ``Date`` (days since
1970-01-01; ``datetime64``) and ``POSIXct`` (seconds since the epoch and a time zone).

:func:`rcall` runs one bridge function and returns ``{"ok": True, "value": ..., "warnings":
[...]}`` or ``{"ok": False, "type": ..., "message": ..., "dlstat": bool}``: errors are data, so
the R side raises them as R conditions with dlstat's message and no Python traceback.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, DlstatError, DlstatWarning, OptionTypeError
from ..options import integer_option_names

NA_INTEGER = -(2**31)
INT32_MAX = 2**31 - 1
INTEGER_OPTIONS = integer_option_names()
_PACKAGE_DIR = str(Path(__file__).resolve().parent)


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
    on the column does not warn."""
    values = np.frombuffer(data, dtype=np.float64).copy()
    values[np.isnan(values)] = np.nan
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


# --------------------------------------------------------------------------- pandas → R


def column_to_r(values: Any) -> dict[str, Any]:
    """A pandas Series / array / Index → a column spec the R side decodes."""
    s = pd.Series(values, copy=False) if not isinstance(values, pd.Series) else values
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        codes = np.asarray(s.cat.codes, dtype=np.int32)
        return {"type": "factor", "data": _bytes(codes),
                "levels": [_label(v) for v in dtype.categories], "ordered": bool(dtype.ordered)}
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
            "levels": [_label(v) for v in uniques]}


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
    return {"__dlstat__": "frame", "names": [_label(c) for c in frame.columns],
            "nrow": int(len(frame)), "columns": [column_to_r(frame.iloc[:, j])
                                                 for j in range(frame.shape[1])],
            "rownames": rownames, "rownames_kind": kind,
            "index_name": None if frame.index.name is None else str(frame.index.name),
            "series": series}


def _bytes(values: np.ndarray) -> bytearray:
    # bytearray converts to an R raw vector (bytes does not, in older reticulate).
    return bytearray(np.ascontiguousarray(values).tobytes())


def _epoch_seconds(s: pd.Series) -> np.ndarray:
    values = s.to_numpy(dtype="datetime64[us]")  # microseconds: ±290,000 years
    out = values.astype(np.int64).astype(np.float64) / 1e6
    out[np.isnat(values)] = np.nan
    return out


def _label(value: Any) -> str:
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


# --------------------------------------------------------------------------- options


def options_from_r(options: dict[str, Any] | None) -> dict[str, Any]:
    """R's option values → the Python values dlstat expects.

    ``hidden``: a list of widths → a tuple of ints (``NULL``/``c()`` → ``()``, a GLM);
    whole-number doubles for integer options → ``int``; frame specs → DataFrames; ``foldid`` →
    an array; ``penalties`` → a list of floats; ``models`` → a dict of option dicts.
    Values that do not fit are passed unchanged, so dlstat's own checks word the error.
    """
    out: dict[str, Any] = {}
    for key, value in dict(options or {}).items():
        if isinstance(value, dict) and value.get("__dlstat__") == "frame":
            value = frame_from_r(value)
        elif key == "hidden":
            value = _hidden(value)
        elif key in INTEGER_OPTIONS:
            value = _whole(value)
        elif key == "foldid" and isinstance(value, dict):
            value = vector_from_r(value)
        elif key == "penalties" and value is not None:
            value = [float(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
        elif key == "models" and isinstance(value, dict):
            value = {str(k): options_from_r(v) for k, v in value.items()}
        out[key] = value
    return out


def _whole(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _hidden(value: Any) -> Any:
    if value is None:
        return ()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value]
    if isinstance(value, (list, tuple)):
        return tuple(_whole(v) for v in value)
    return value


# --------------------------------------------------------------------------- calls


def rcall(name: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Run bridge function ``name``; errors and warnings come back as data (see module doc)."""
    quiet_tensorflow()
    fn = _FUNCTIONS.get(name)
    if fn is None:
        return {"ok": False, "type": "AttributeError", "dlstat": False,
                "message": f"the dlstat Python package has no R bridge function {name!r}; "
                           "the R and Python packages differ in version: reinstall both."}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = fn(*args, **kwargs)
        except Exception as exc:  # every error becomes an R condition
            return {"ok": False, "type": type(exc).__name__, "message": error_message(exc),
                    "dlstat": isinstance(exc, DlstatError)}
    messages: list[str] = []
    for w in caught:
        text = str(w.message)
        ours = issubclass(w.category, DlstatWarning) or (
            issubclass(w.category, UserWarning) and str(w.filename).startswith(_PACKAGE_DIR))
        if ours and text not in messages:
            messages.append(text)
    return {"ok": True, "value": value, "warnings": messages}


def quiet_tensorflow() -> None:
    """Keep TensorFlow's Python logger (retracing notices and the like) out of the R console."""
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


def error_message(exc: BaseException) -> str:
    """dlstat's own message for its errors; ``Type: message`` for anything else."""
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    return text if isinstance(exc, DlstatError) else f"{type(exc).__name__}: {text}"


def _dl():
    import dlstat

    return dlstat


def _check_frame(data: Any, what: str = "data") -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, dict) and data.get("__dlstat__") == "frame":
        return frame_from_r(data)
    raise OptionTypeError(f"{what} must be a data frame; got {type(data).__name__}.")


def fit(formula: str, data: Any, options: dict[str, Any] | None = None):
    """``dnn()``: the fitted model (a Python object the R side keeps)."""
    return _dl().dnn(formula, _check_frame(data), **options_from_r(options))


def describe(model: Any) -> dict[str, Any]:
    """Everything the R object of a fit shows without another call."""
    from ..architecture import Dense
    from ..architecture import describe as describe_layer

    fam, rec, opts = model.family, model.record, model.options
    layers = list(model.topology.layers)
    return {
        "formula": model.spec.formula,
        "python_call": model.call,
        "family": fam.name,
        "link": fam.link,
        "levels": None if fam.levels is None else [_label(v) for v in fam.levels],
        "outputs": [str(o) for o in fam.outputs],
        "response": [str(c) for c in model.spec.response_columns],
        "n_obs": int(rec.n_obs),
        "n_dropped": int(rec.n_dropped),
        "n_validation": int(rec.n_validation),
        "n_inputs": int(model.topology.n_inputs),
        "n_outputs": int(model.topology.n_outputs),
        "n_parameters": int(model.topology.n_parameters()),
        "hidden": [int(layer.units) for layer in layers if isinstance(layer, Dense)],
        "layers": [describe_layer(layer) for layer in layers],
        "glm": not layers,
        "deviance": float(rec.deviance),
        "null_deviance": float(rec.null_deviance),
        "dev_explained": float(model.dev_explained),
        "epochs": int(rec.epochs_run),
        "best_epoch": int(rec.best_epoch or 0),
        "optimizer": str(opts.optimizer),
        "penalty": float(opts.penalty),
        "mixture": float(opts.mixture),
        "notes": [str(n) for n in rec.notes],
        "history": frame_to_r(model.history),
        "columns": [str(c) for c in model.spec.display_columns],
    }


def predict(model: Any, newdata: Any = None, type: str = "response",
            unseen: str | None = None) -> dict[str, Any]:
    data = None if newdata is None else _check_frame(newdata, "newdata")
    return frame_to_r(model.predict(data, type=type, unseen=unseen))


def summary(model: Any) -> dict[str, Any]:
    s = model.summary()
    return {"call": s.call, "notes": [str(n) for n in s.notes], "text": str(s),
            "tables": {k: frame_to_r(v) for k, v in s.tables.items()}}


def tidy(model: Any) -> dict[str, Any]:
    return frame_to_r(model.tidy())


def glance(model: Any) -> dict[str, Any]:
    return frame_to_r(model.glance())


def coef(model: Any) -> dict[str, Any]:
    return frame_to_r(model.coef_table())  # dlstat's error for networks with hidden layers


def augment(model: Any, data: Any) -> dict[str, Any]:
    """Only the columns ``fit.augment(data)`` adds (``.fitted``, ``.resid``, ``.pred_class``,
    ``.prob_*``); the R side binds them to its own data frame."""
    frame = _check_frame(data)
    out = model.augment(frame)
    added = [c for c in out.columns if c not in set(frame.columns)]
    return frame_to_r(out[added])


def save(model: Any, path: str) -> str:
    model.save(path)
    return str(path)


def load(path: str):
    return _dl().load(path)


def cv(formula: str, data: Any, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """``cv_dnn()``; fold ids come back 1-based (``NA`` for rows left out)."""
    res = _dl().cv_dnn(formula, _check_frame(data), **options_from_r(options))
    fold_ids = res.fold_ids.astype("Int64") + 1
    return {"object": res, "call": res.call, "family": res.family.name,
            "metrics": frame_to_r(res.metrics), "summary": frame_to_r(res.summary_table),
            "predictions": frame_to_r(res.predictions), "fold_ids": frame_to_r(fold_ids),
            "notes": [str(n) for n in res.notes], "fits": list(res.fits)}


def path(formula: str, data: Any, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """``dnn_path()``: the table, the chosen penalties, entry order and per-term norms."""
    dl = _dl()
    try:
        dnn_path = dl.dnn_path
    except AttributeError:  # before the package exports it
        from ..fitting.path import dnn_path
    return path_parts(dnn_path(formula, _check_frame(data), **options_from_r(options)))


def path_parts(res: Any) -> dict[str, Any]:
    def frame(name: str) -> dict[str, Any] | None:
        value = getattr(res, name, None)
        if isinstance(value, pd.DataFrame) and not isinstance(value.index, pd.RangeIndex):
            value = value.reset_index()  # term_norms: the penalty index becomes a column
        return frame_to_r(value) if isinstance(value, (pd.DataFrame, pd.Series)) else None

    def number(name: str) -> float | None:
        value = getattr(res, name, None)
        return None if value is None else float(value)

    family = getattr(res, "family", None)
    return {"object": res, "call": str(getattr(res, "call", "") or ""),
            "family": getattr(family, "name", family if isinstance(family, str) else None),
            "table": frame("table"), "penalty_min": number("penalty_min"),
            "penalty_1se": number("penalty_1se"), "entry": frame("entry"),
            "term_norms": frame("term_norms"),
            "notes": [str(n) for n in (getattr(res, "notes", None) or [])]}


def path_refit(res: Any, which: Any = "1se"):
    """``refit()`` of a path: ``"min"``, ``"1se"`` or a penalty value → the fitted model."""
    return res.refit(which)


def compare(formula: str, data: Any, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """``compare()``: per-fold metrics, mean ± SE per model (long), paired differences."""
    res = _dl().compare(formula, _check_frame(data), **options_from_r(options))
    table = res.table
    rows = []
    for model, row in table.iterrows():
        for metric in dict.fromkeys(m for m, _ in table.columns):
            rows.append({"model": str(model), "metric": str(metric),
                         "mean": float(row[(metric, "mean")]), "se": float(row[(metric, "se")])})
    return {"object": res, "call": res.call, "family": res.family.name,
            "folds": frame_to_r(res.folds), "table": frame_to_r(pd.DataFrame(rows)),
            "differences": frame_to_r(res.differences), "winner": res.winner(),
            "notes": [str(n) for n in res.notes]}


def partition(data: Any, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """``partition()``: 0-based row positions of the three parts (R subsets its own frame)."""
    frame = _check_frame(data).reset_index(drop=True)
    parts = _dl().partition(frame, **options_from_r(options))
    return {name: frame_to_r(pd.Series(part.index.to_numpy(np.int64), name=name))
            for name, part in zip(("train", "validation", "test"), parts)}


def fashion_mnist(kind: str = "train", n: Any = None, path: str | None = None) -> dict[str, Any]:
    """Fashion-MNIST as raw bytes: images (row-major, n × 784 uint8) and label codes."""
    from ..datasets import fashion_mnist as read

    images, labels = read(kind, path=path, n=_whole(n), flatten=True)
    return {"n": int(len(images)), "images": bytearray(images.tobytes()),
            "codes": bytearray(np.asarray(labels.codes, dtype=np.uint8).tobytes()),
            "levels": [str(c) for c in labels.categories]}


def roundtrip(data: Any) -> dict[str, Any]:
    """R → pandas → R, for the R package's tests of the boundary."""
    return frame_to_r(_check_frame(data))


def dtypes(data: Any) -> dict[str, Any]:
    """Column dtypes (as strings), category levels and NA counts of a frame sent from R."""
    frame = _check_frame(data)
    out = {}
    for name in frame.columns:
        s = frame[name]
        out[str(name)] = {
            "dtype": str(s.dtype), "n_na": int(s.isna().sum()),
            "levels": ([str(v) for v in s.cat.categories]
                       if isinstance(s.dtype, pd.CategoricalDtype) else None),
            "ordered": bool(s.cat.ordered) if isinstance(s.dtype, pd.CategoricalDtype) else None,
        }
    return {"columns": out, "index": [str(i) for i in frame.index[:5]],
            "index_type": type(frame.index).__name__, "nrow": int(len(frame))}


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    f.__name__: f for f in (fit, describe, predict, summary, tidy, glance, coef, augment, save,
                            load, cv, path, path_parts, path_refit, compare, partition,
                            fashion_mnist,
                            roundtrip, dtypes)
}

__all__ = ["column_from_r", "column_to_r", "error_message", "frame_from_r", "frame_to_r",
           "options_from_r", "rcall", "vector_from_r"]
