"""dlstat for Python users holding R objects, through rpy2 (the optional extra ``dlstat[r]``).

* :func:`r_to_pandas` / :func:`pandas_to_r`: R data frames ↔ pandas, keeping what the R package
  keeps (factors ↔ categoricals with R's level order, ordered factors, ``NA`` ↔ missing,
  integers, logicals, Dates, row names);
* :func:`r_formula` turns an R formula object into the string dlstat parses;
* :func:`expose` defines ``dnn()``, ``cv_dnn()``, ``dnn_path()``, ``compare()`` and
  ``partition()`` inside the embedded R session, so R code run from Python
  (``rpy2.robjects.r("fit <- dnn(mpg ~ wt, data = mtcars)")``) calls dlstat and gets R objects
  back: data frames, vectors, and fits with ``print``, ``summary``, ``predict``, ``coef`` and
  ``fitted`` methods.

Data cross in the same format as for the R package (:mod:`dlstat.fronts.rbridge`): raw bytes for
numbers, integer codes plus levels for strings and factors.
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pandas as pd

from . import rbridge
from ..errors import DataError, OptionTypeError

_R_CODE = r"""
local({
  `%||%` <- function(a, b) if (is.null(a)) b else a
  encode_column <- function(x, name) {
    if (is.matrix(x) || is.data.frame(x) || (is.list(x) && !is.object(x)))
      stop(sprintf("column '%s' is not a plain vector; dlstat needs numeric, integer, logical, character, factor or Date columns.", name), call. = FALSE)
    if (is.factor(x)) {
      codes <- as.integer(x) - 1L; codes[is.na(codes)] <- -1L
      return(list(type = "factor", data = writeBin(codes, raw()), levels = enc2utf8(levels(x)),
                  ordered = is.ordered(x)))
    }
    if (inherits(x, "Date")) return(list(type = "Date", data = writeBin(as.double(unclass(x)), raw())))
    if (inherits(x, "POSIXt")) {
      x <- as.POSIXct(x); tz <- attr(x, "tzone")
      tz <- if (is.null(tz) || !nzchar(tz[[1]])) Sys.timezone() else tz[[1]]
      if (is.na(tz) || !nzchar(tz)) tz <- "UTC"
      return(list(type = "POSIXct", data = writeBin(as.double(unclass(x)), raw()), tz = tz))
    }
    if (is.logical(x)) return(list(type = "logical", data = writeBin(as.integer(x), raw())))
    if (is.integer(x)) return(list(type = "integer", data = writeBin(as.vector(unclass(x)), raw())))
    if (is.double(x)) return(list(type = "double", data = writeBin(as.vector(as.double(x)), raw())))
    if (is.character(x)) {
      x <- enc2utf8(as.vector(x)); levels <- unique(x[!is.na(x)])
      codes <- match(x, levels) - 1L; codes[is.na(codes)] <- -1L
      return(list(type = "character", data = writeBin(codes, raw()), levels = levels))
    }
    stop(sprintf("column '%s' has type %s, which dlstat cannot use.", name,
                 paste(class(x), collapse = "/")), call. = FALSE)
  }
  encode_frame <- function(data) {
    if (!is.data.frame(data)) stop("data must be a data frame.", call. = FALSE)
    list(names = enc2utf8(as.character(names(data))), nrow = nrow(data),
         columns = lapply(seq_along(data), function(j) encode_column(data[[j]], names(data)[j])),
         rownames = if (.row_names_info(data, type = 1L) > 0L)
           encode_column(attr(data, "row.names"), "row names"))
  }
  nan_to_na <- function(x) { x[is.nan(x)] <- NA_real_; x }
  decode_column <- function(spec) {
    d <- spec$data %||% raw(); levels <- as.character(spec$levels)
    ints <- function() readBin(d, "integer", n = length(d) %/% 4L, size = 4L)
    dbls <- function() nan_to_na(readBin(d, "double", n = length(d) %/% 8L, size = 8L))
    switch(spec$type,
      double = dbls(), integer = ints(), logical = as.logical(ints()),
      factor = { codes <- ints() + 1L; codes[codes < 1L] <- NA_integer_
                 structure(codes, levels = levels,
                           class = if (isTRUE(spec$ordered)) c("ordered", "factor") else "factor") },
      character = { codes <- ints() + 1L; codes[codes < 1L] <- NA_integer_; levels[codes] },
      Date = structure(dbls(), class = "Date"),
      POSIXct = .POSIXct(dbls(), tz = spec$tz %||% "UTC"),
      stop("unknown column type ", spec$type, call. = FALSE))
  }
  decode_rownames <- function(spec) {
    if (is.null(spec$rownames)) return(NULL)
    v <- decode_column(spec$rownames)
    if (identical(spec$rownames_kind, "position")) as.character(v + 1L) else as.character(v)
  }
  decode_frame <- function(spec) {
    cols <- lapply(spec$columns, decode_column)
    names(cols) <- as.character(spec$names)
    frame <- structure(cols, class = "data.frame", row.names = .set_row_names(as.integer(spec$nrow)))
    rn <- decode_rownames(spec)
    if (!is.null(rn) && !anyDuplicated(rn) && !anyNA(rn)) attr(frame, "row.names") <- rn
    frame
  }
  decode <- function(x, names = NULL) {
    if (is.list(x) && identical(x[["__dlstat__"]], "frame")) {
      frame <- decode_frame(x)
      if (isTRUE(x$series)) {
        out <- frame[[1L]]
        names(out) <- names %||% decode_rownames(x) %||% as.character(seq_along(out))
        return(out)
      }
      if (!is.null(names) && length(names) == nrow(frame)) attr(frame, "row.names") <- names
      return(frame)
    }
    if (is.list(x) && !is.data.frame(x)) x[] <- lapply(x, decode)
    x
  }
  formula_text <- function(f) {
    if (is.character(f)) return(f)
    gsub("[[:space:]]+", " ", paste(deparse(f, width.cutoff = 500L), collapse = " "))
  }
  row_labels <- function(data) {
    if (.row_names_info(data, type = 1L) > 0L) as.character(attr(data, "row.names"))
    else as.character(seq_len(nrow(data)))
  }
  environment()
})
"""

_R_API = r"""
function(helpers, py) {
  released <- character()
  call_py <- function(op, ...) {
    keys <- released
    released <<- character()
    res <- py(op, keys, ...)
    if (!isTRUE(res$ok)) {
      stop(structure(class = c("dlstat_error", "error", "condition"),
                     list(message = res$message, call = sys.call(-1L), python_type = res$type)))
    }
    for (w in res$warnings) warning(w, call. = FALSE)
    res$value
  }
  handle <- function(key) {
    h <- new.env(parent = emptyenv())
    h$key <- key
    reg.finalizer(h, function(e) released <<- c(released, e$key))
    h
  }
  wrap <- function(value, class) {
    if (!is.null(value$key)) value$handle <- handle(value$key)
    value$key <- NULL
    structure(helpers$decode(value), class = class)
  }
  api <- new.env()
  api$dnn <- function(formula, data, ...)
    wrap(call_py("dnn", helpers$formula_text(formula), helpers$encode_frame(data), list(...)),
         "dlstat_rpy2_fit")
  api$cv_dnn <- function(formula, data, ...) {
    res <- call_py("cv_dnn", helpers$formula_text(formula), helpers$encode_frame(data), list(...))
    labels <- helpers$row_labels(data)
    res$predictions <- helpers$decode(res$predictions, labels)
    res$fold_ids <- helpers$decode(res$fold_ids, labels)
    wrap(res, "dlstat_rpy2_cv")
  }
  api$dnn_path <- function(formula, data, ...)
    wrap(call_py("dnn_path", helpers$formula_text(formula), helpers$encode_frame(data), list(...)),
         "dlstat_rpy2_path")
  api$compare <- function(formula, data, ...)
    wrap(call_py("compare", helpers$formula_text(formula), helpers$encode_frame(data), list(...)),
         "dlstat_rpy2_comparison")
  api$partition <- function(data, ...) {
    rows <- call_py("partition", NULL, helpers$encode_frame(data), list(...))
    parts <- lapply(rows, function(i) data[helpers$decode(i) + 1L, , drop = FALSE])
    parts[c("train", "validation", "test")]
  }
  api$refit <- function(object, which = "1se", ...)
    wrap(call_py("refit", object$handle$key, which), "dlstat_rpy2_fit")
  methods <- list(
    print.dlstat_rpy2_fit = function(x, ...) { cat(x$text, "\n", sep = ""); invisible(x) },
    summary.dlstat_rpy2_fit = function(object, ...)
      structure(call_py("summary", object$handle$key), class = "summary.dlstat_rpy2_fit"),
    print.summary.dlstat_rpy2_fit = function(x, ...) { cat(x$text, "\n", sep = ""); invisible(x) },
    predict.dlstat_rpy2_fit = function(object, newdata = NULL,
                                       type = c("response", "link", "class", "prob"), ...) {
      type <- match.arg(type)
      frame <- if (is.null(newdata)) NULL else helpers$encode_frame(newdata)
      spec <- call_py("predict", object$handle$key, frame, type)
      helpers$decode(spec, if (is.null(newdata)) NULL else helpers$row_labels(newdata))
    },
    fitted.dlstat_rpy2_fit = function(object, ...) stats::predict(object),
    coef.dlstat_rpy2_fit = function(object, ...) {
      t <- helpers$decode(call_py("coef", object$handle$key))
      if (!"response" %in% names(t)) return(stats::setNames(t$estimate, t$term))
      stats::xtabs(estimate ~ term + response, data = t)
    },
    print.dlstat_rpy2_cv = function(x, ...) { cat(x$text, "\n", sep = ""); invisible(x) },
    print.dlstat_rpy2_path = function(x, ...) { cat(x$text, "\n", sep = ""); invisible(x) },
    print.dlstat_rpy2_comparison = function(x, ...) { cat(x$text, "\n", sep = ""); invisible(x) }
  )
  for (name in names(methods)) {
    parts <- regmatches(name, regexec("^(print|summary|predict|fitted|coef)\\.(.*)$", name))[[1]]
    generic <- parts[2]
    where <- if (generic %in% c("print", "summary")) baseenv() else asNamespace("stats")
    registerS3method(generic, parts[3], methods[[name]], envir = where)
    assign(name, methods[[name]], envir = api)
  }
  api
}
"""

_OBJECTS: dict[str, Any] = {}
_STATE: dict[str, Any] = {}


def _ro():
    try:
        import rpy2.rinterface as ri
        import rpy2.robjects as ro
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("dlstat's R bridge needs rpy2: pip install 'dlstat[r]' "
                          f"(rpy2>=3.5.17,<3.6) and R itself ({exc}).") from None
    return ro, ri


def _helpers():
    if "helpers" not in _STATE:
        ro, _ = _ro()
        _STATE["helpers"] = ro.r(_R_CODE)
    return _STATE["helpers"]


# --------------------------------------------------------------------------- R values → Python


def _py(x: Any) -> Any:
    """An R value (rinterface or robjects) → plain Python: None, lists, dicts, bytes."""
    _, ri = _ro()
    if x is None or x is ri.NULL or isinstance(x, ri.NULLType):
        return None
    if isinstance(x, ri.ListSexpVector):
        values = [_py(v) for v in x]
        names = x.names
        if names is ri.NULL or isinstance(names, ri.NULLType):
            return values
        return {str(k): v for k, v in zip(names, values)}
    if isinstance(x, ri.ByteSexpVector):
        return np.array(x, dtype=np.uint8).tobytes()
    if isinstance(x, ri.StrSexpVector):
        return [None if v is ri.NA_Character else str(v) for v in x]
    if isinstance(x, ri.BoolSexpVector):
        return [None if v is ri.NA_Logical else bool(v) for v in x]
    if isinstance(x, ri.IntSexpVector):
        return [None if v is ri.NA_Integer else int(v) for v in x]
    if isinstance(x, ri.FloatSexpVector):
        return [float(v) for v in x]
    return x


def _scalar(values: Any) -> Any:
    if isinstance(values, list):
        return values[0] if values else None
    return values


def _column_spec(spec: dict[str, Any]) -> dict[str, Any]:
    return {"type": _scalar(spec.get("type")), "data": spec.get("data") or b"",
            "levels": spec.get("levels") or [], "ordered": bool(_scalar(spec.get("ordered"))),
            "tz": _scalar(spec.get("tz"))}


def _frame_spec(spec: dict[str, Any]) -> dict[str, Any]:
    rownames = spec.get("rownames")
    return {"names": spec.get("names") or [], "nrow": int(_scalar(spec.get("nrow")) or 0),
            "columns": [_column_spec(c) for c in (spec.get("columns") or [])],
            "rownames": None if rownames is None else _column_spec(rownames)}


def _is_data_frame(x: Any) -> bool:
    _, ri = _ro()
    return isinstance(x, ri.ListSexpVector) and "data.frame" in list(x.rclass)


def r_to_pandas(data: Any) -> pd.DataFrame:
    """An R data frame (rpy2 object) → pandas, with R's types, levels, NA and row names.

    Numeric → ``float64``; integer → ``int64`` (``Int64`` with NA); logical → ``bool``
    (``boolean`` with NA); character → pandas' string dtype; factor / ordered factor →
    ``Categorical`` with R's levels; Date → ``datetime64``; POSIXct → tz-aware ``datetime64``.
    Character row names become the index (R's automatic ``1..n`` give a ``RangeIndex``).
    """
    if not _is_data_frame(data):
        raise OptionTypeError(f"r_to_pandas() needs an R data frame; got "
                              f"{type(data).__name__}.")
    try:
        spec = _py(_helpers()["encode_frame"](data))
    except Exception as exc:  # an R error while encoding (an unsupported column)
        raise DataError(str(exc).strip()) from None
    return rbridge.frame_from_r(_frame_spec(spec))


# --------------------------------------------------------------------------- Python → R values


def _r(x: Any) -> Any:
    """Plain Python (None, bool, int, float, str, bytes, lists, dicts, arrays) → an R value."""
    _, ri = _ro()
    if x is None:
        return ri.NULL
    if isinstance(x, ri.Sexp):
        return x
    if isinstance(x, (bytes, bytearray)):
        return ri.ByteSexpVector.from_memoryview(memoryview(bytes(x)))
    if isinstance(x, (bool, np.bool_)):
        return ri.BoolSexpVector([bool(x)])
    if isinstance(x, (int, np.integer)):
        return ri.IntSexpVector([int(x)]) if abs(int(x)) < 2**31 - 1 else \
            ri.FloatSexpVector([float(x)])
    if isinstance(x, (float, np.floating)):
        return ri.FloatSexpVector([float(x)])
    if isinstance(x, str):
        return ri.StrSexpVector([x])
    if isinstance(x, dict):
        out = ri.ListSexpVector([_r(v) for v in x.values()])
        out.names = ri.StrSexpVector([str(k) for k in x])
        return out
    if isinstance(x, (list, tuple)):
        if x and all(isinstance(v, str) for v in x):
            return ri.StrSexpVector(list(x))
        if x and all(isinstance(v, float) for v in x):
            return ri.FloatSexpVector(list(x))
        return ri.ListSexpVector([_r(v) for v in x])
    raise OptionTypeError(f"cannot pass a {type(x).__name__} to R.")


def pandas_to_r(frame: pd.DataFrame) -> Any:
    """A pandas DataFrame → an R data frame (rpy2 ``DataFrame``), the inverse of
    :func:`r_to_pandas`: categoricals → factors (ordered kept), nullable integers and booleans
    with NA → integer / logical with NA, ``datetime64`` at midnight → Date, other datetimes →
    POSIXct, strings → character; a non-default index → row names."""
    ro, _ = _ro()
    if not isinstance(frame, pd.DataFrame):
        raise OptionTypeError(f"pandas_to_r() needs a pandas DataFrame; got "
                              f"{type(frame).__name__}.")
    out = _helpers()["decode_frame"](_r(rbridge.frame_to_r(frame)))
    return ro.vectors.DataFrame(out)


def r_formula(formula: Any) -> str:
    """An R formula (or a string) → the formula text dlstat parses, e.g. ``"mpg ~ wt + hp"``."""
    if isinstance(formula, str):
        return formula
    value = _py(_helpers()["formula_text"](formula))
    return str(_scalar(value))


# --------------------------------------------------------------------------- expose()


def _options(options: Any) -> dict[str, Any]:
    """The R list of options of an exposed call → Python option values."""
    _, ri = _ro()
    out: dict[str, Any] = {}
    if options is None or options is ri.NULL or not isinstance(options, ri.ListSexpVector):
        return out
    names = options.names
    if (names is ri.NULL or isinstance(names, ri.NULLType)) and len(options):
        raise OptionTypeError("every option must be named, e.g. hidden = c(32, 16).")
    for name, value in zip(names if len(options) else [], options):
        name = str(name)
        if not name:
            raise OptionTypeError("every option must be named, e.g. hidden = c(32, 16).")
        if _is_data_frame(value):
            out[name] = r_to_pandas(value)
        elif name == "models" and isinstance(value, ri.ListSexpVector):
            out[name] = {str(k): _options(v) for k, v in zip(value.names, value)}
        elif isinstance(value, ri.ListSexpVector):
            out[name] = _py(value)
        else:
            values = _py(value)
            if name == "foldid" and values is not None:
                array = np.asarray([np.nan if v is None else v for v in values], dtype=object)
                if all(isinstance(v, (int, float)) for v in values if v is not None):
                    array = np.asarray([np.nan if v is None else v - 1 for v in values],
                                       dtype=float)  # R's folds are 1-based
                out[name] = array
            elif name in ("hidden", "penalties") and isinstance(values, list):
                out[name] = values
            elif isinstance(values, list) and len(values) == 1:
                out[name] = values[0]
            elif isinstance(values, list) and not values:
                out[name] = None if name != "hidden" else []
            else:
                out[name] = values
    return rbridge.options_from_r(out)


def _keep(obj: Any) -> str:
    key = uuid.uuid4().hex
    _OBJECTS[key] = obj
    return key


def _fit_value(fit: Any) -> dict[str, Any]:
    return {"key": _keep(fit), "text": repr(fit), "call": fit.call, "formula": fit.spec.formula,
            "family": fit.family.name, "n_obs": int(fit.record.n_obs),
            "deviance": float(fit.record.deviance),
            "null_deviance": float(fit.record.null_deviance),
            "dev_explained": float(fit.dev_explained),
            "levels": None if fit.family.levels is None else
            [rbridge._label(v) for v in fit.family.levels]}


def _frame(encoded: Any) -> pd.DataFrame:
    """A data frame the R side encoded (``helpers$encode_frame``) → pandas."""
    return rbridge.frame_from_r(_frame_spec(_py(encoded)))


def _fit_function(op: str, formula: Any, data: Any, options: Any) -> Any:
    import dlstat as dl

    frame = _frame(data)
    opts = _options(options)
    if op == "partition":
        parts = dl.partition(frame.reset_index(drop=True), **opts)
        return {name: rbridge.frame_to_r(pd.Series(part.index.to_numpy(np.int64)))
                for name, part in zip(("train", "validation", "test"), parts)}
    text = r_formula(formula)
    if op == "dnn":
        return _fit_value(dl.dnn(text, frame, **opts))
    if op == "cv_dnn":
        res = dl.cv_dnn(text, frame, **opts)
        return {"text": repr(res), "call": res.call, "family": res.family.name,
                "metrics": rbridge.frame_to_r(res.metrics),
                "summary": rbridge.frame_to_r(res.summary_table),
                "predictions": rbridge.frame_to_r(res.predictions),
                "fold_ids": rbridge.frame_to_r(res.fold_ids.astype("Int64") + 1),
                "notes": list(res.notes)}
    if op == "compare":
        res = dl.compare(text, frame, **opts)
        return {"text": repr(res), "call": res.call, "family": res.family.name,
                "folds": rbridge.frame_to_r(res.folds),
                "differences": rbridge.frame_to_r(res.differences),
                "winner": res.winner(), "notes": list(res.notes)}
    try:
        dnn_path = dl.dnn_path
    except AttributeError:  # before the package exports it
        from ..fitting.path import dnn_path
    res = dnn_path(text, frame, **opts)
    parts = rbridge.path_parts(res)
    parts.pop("object")
    return {"key": _keep(res), "text": repr(res), **parts}


def _call(op: str, released: Any, *args: Any) -> Any:
    for key in _py(released) or []:
        _OBJECTS.pop(key, None)
    if op in ("dnn", "cv_dnn", "dnn_path", "compare", "partition"):
        return _fit_function(op, *args)
    key = str(_scalar(_py(args[0])))
    if key not in _OBJECTS:
        raise DataError("this dlstat object no longer exists in Python (the Python session "
                        "restarted); fit it again.")
    obj = _OBJECTS[key]
    if op == "predict":
        newdata = None if _py(args[1]) is None else _frame(args[1])
        return rbridge.frame_to_r(obj.predict(newdata, type=str(_scalar(_py(args[2])))))
    if op == "summary":
        s = obj.summary()
        return {"text": str(s), "tables": {k: rbridge.frame_to_r(v) for k, v in s.tables.items()},
                "notes": list(s.notes)}
    if op == "coef":
        return rbridge.frame_to_r(obj.coef_table())
    if op == "refit":
        return _fit_value(obj.refit(_scalar(_py(args[1]))))
    raise AttributeError(f"unknown operation {op!r}")


def _entry(op: Any, released: Any = None, *args: Any) -> Any:
    """The one Python function R calls; errors come back as data (rpy2 would only log them)."""
    import warnings

    op = str(_scalar(_py(op)))
    rbridge.quiet_tensorflow()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = _call(op, released, *args)
        except Exception as exc:
            return _r({"ok": False, "message": rbridge.error_message(exc),
                       "type": type(exc).__name__})
    messages = list(dict.fromkeys(str(w.message) for w in caught
                                  if issubclass(w.category, UserWarning)
                                  and str(w.filename).startswith(rbridge._PACKAGE_DIR)))
    return _r({"ok": True, "value": value, "warnings": messages or None})


def expose(envir: Any = None) -> Any:
    """Define ``dnn()``, ``cv_dnn()``, ``dnn_path()``, ``compare()``, ``partition()`` (and
    ``refit()`` for paths) in the embedded R session.

    Parameters
    ----------
    envir : rpy2 environment, optional
        Where to define them; by default R's global environment.  S3 methods for the fitted
        models (``print``, ``summary``, ``predict``, ``fitted``, ``coef``) are registered too.

    Returns
    -------
    The rpy2 environment holding the functions.

    Examples
    --------
    >>> import rpy2.robjects as ro                                   # doctest: +SKIP
    >>> from dlstat.fronts.rpy2_bridge import expose
    >>> expose()
    >>> ro.r("fit <- dnn(mpg ~ wt, data = mtcars, hidden = c(), optimizer = 'lbfgs')")
    >>> ro.r("predict(fit, head(mtcars))")
    """
    ro, ri = _ro()
    if "entry" not in _STATE:
        _STATE["entry"] = ri.rternalize(_entry)
    api = ro.r(_R_API)(_helpers(), _STATE["entry"])
    target = ro.globalenv if envir is None else envir
    for name in ("dnn", "cv_dnn", "dnn_path", "compare", "partition", "refit"):
        target[name] = api[name]
    return target


__all__ = ["expose", "pandas_to_r", "r_formula", "r_to_pandas"]
