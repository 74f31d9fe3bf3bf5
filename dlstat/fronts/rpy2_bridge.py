"""dlstat for Python users holding R objects, through rpy2 (the optional extra ``dlstat[r]``).

* :func:`r_to_pandas` / :func:`pandas_to_r`: R data frames ↔ pandas, keeping what the R package
  keeps (factors ↔ categoricals with R's level order, ordered factors, ``NA`` ↔ missing,
  integers, logicals, Dates, row names);
* :func:`r_formula` turns an R formula object into the string dlstat parses;
* :func:`expose` defines ``dnn()``, ``cv_dnn()``, ``dnn_path()``, ``tune_dnn()``, ``compare()`` and
  ``partition()`` inside the embedded R session, so R code run from Python
  (``rpy2.robjects.r("fit <- dnn(mpg ~ wt, data = mtcars)")``) calls dlstat and gets R objects
  back: data frames, vectors, and fits with ``print``, ``summary``, ``predict``, ``coef`` and
  ``fitted`` methods.

This module is only a transport.  The R side encodes and decodes with the R package's own codec
(``R/convert.R``, sourced from :func:`dlstat.fronts.rcodec.r_codec_file`), and every call goes to
the same endpoint table as the R package's (:data:`dlstat.fronts.rbridge.ENDPOINTS`).  R values
become the plain Python values reticulate would give (:func:`_py`), and answers go back the same
way (:func:`_r`); Python objects (fits, paths) stay in Python behind a handle R holds.
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, OptionTypeError
from . import rbridge
from .rcodec import frame_from_r, frame_to_r, r_codec_file

# The R functions expose() defines; they encode, call an endpoint through `py` and decode.
_R_API = r"""
function(py) {
  released <- character()
  call_py <- function(op, ..., call = sys.call(-1L)) {
    keys <- released
    released <<- character()
    .endpoint_value(py(op, keys, ...), call = call)
  }
  api <- new.env()
  api$new_handle <- function(key) {
    h <- new.env(parent = emptyenv())
    h$key <- key
    reg.finalizer(h, function(e) released <<- c(released, e$key))
    h
  }
  new_fit <- function(handle, call) {
    info <- call_py("describe", handle)
    structure(list(handle = handle, call = call, formula = info$formula, family = info$family,
                   n_obs = info$n_obs, deviance = info$deviance, null_deviance = info$null_deviance,
                   dev_explained = info$dev_explained, levels = unlist(info$levels),
                   history = .decode_frame(info$history)),
              class = "dlstat_rpy2_fit")
  }
  # An R function calling formula endpoint `endpoint` (through the R package's prelude,
  # .formula_endpoint() in R/convert.R); `decode` turns its answer into a list.
  formula_function <- function(endpoint, class, decode) {
    function(formula, data, ...) {
      sent <- .formula_endpoint(endpoint, call_py)
      structure(c(decode(sent$value, data), call = sent$call), class = class)
    }
  }
  is_frame <- function(x) is.list(x) && identical(x[["__dlstat__"]], "frame")
  decode_all <- function(res, data) lapply(res, function(x) if (is_frame(x)) .decode_frame(x) else x)
  api$dnn <- function(formula, data, ...) {
    sent <- .formula_endpoint("fit", call_py)
    new_fit(sent$value, sent$call)
  }
  api$cv_dnn <- formula_function("cv", "dlstat_rpy2_cv", function(res, data) {
    labels <- .row_labels(data)
    out <- decode_all(res[setdiff(names(res), c("predictions", "fold_ids", "fits"))], data)
    out$predictions <- .decode_result(res$predictions, labels)
    out$fold_ids <- .decode_result(res$fold_ids, labels)
    out
  })
  api$dnn_path <- formula_function("path", "dlstat_rpy2_path", decode_all)
  api$tune_dnn <- formula_function("tune", "dlstat_rpy2_tune", decode_all)
  api$compare <- formula_function("compare", "dlstat_rpy2_comparison", decode_all)
  api$partition <- function(data, ...) {
    rows <- call_py("partition", .encode_frame(data), .options_dict(list(...)))
    parts <- lapply(rows, function(i) data[.decode_frame(i)[[1L]] + 1L, , drop = FALSE])
    parts[c("train", "validation", "test")]
  }
  api$refit <- function(object, which = NULL, ...) {
    tuning <- inherits(object, "dlstat_rpy2_tune")
    which <- which %||% if (tuning) "best" else "1se"
    new_fit(call_py(if (tuning) "tune_refit" else "path_refit", object$object, which),
            match.call())
  }
  api$call_py <- call_py
  api
}
"""

# The S3 methods of the results expose() makes, registered in the R session.
_R_METHODS = r"""
function(call_py) {
  show_summary <- function(x, ...) { cat(x$text, "\n", sep = ""); invisible(x) }
  summarise <- function(object, ...) {
    s <- call_py("summary", object$handle %||% object$object,
                 paste(deparse(object$call), collapse = " "))
    s$tables <- lapply(s$tables, .decode_frame)
    structure(s, class = "summary.dlstat_rpy2")
  }
  printed <- function(x, ...) { print(summarise(x)); invisible(x) }
  methods <- list(
    print.dlstat_rpy2_fit = printed, print.dlstat_rpy2_cv = printed,
    print.dlstat_rpy2_path = printed, print.dlstat_rpy2_comparison = printed,
    print.dlstat_rpy2_tune = printed, summary.dlstat_rpy2_tune = summarise,
    summary.dlstat_rpy2_fit = summarise, summary.dlstat_rpy2_cv = summarise,
    summary.dlstat_rpy2_path = summarise, summary.dlstat_rpy2_comparison = summarise,
    print.summary.dlstat_rpy2 = show_summary,
    predict.dlstat_rpy2_fit = function(object, newdata = NULL,
                                       type = c("response", "link", "class", "prob"), ...) {
      type <- match.arg(type)
      frame <- if (is.null(newdata)) NULL else .encode_frame(newdata, "newdata")
      .decode_result(call_py("predict", object$handle, frame, type),
                     if (is.null(newdata)) NULL else .row_labels(newdata))
    },
    fitted.dlstat_rpy2_fit = function(object, ...) stats::predict(object),
    coef.dlstat_rpy2_fit = function(object, ...) {
      t <- .decode_frame(call_py("coef", object$handle))
      if (!"response" %in% names(t)) return(stats::setNames(t$estimate, t$term))
      stats::xtabs(estimate ~ term + response, data = t)
    }
  )
  for (name in names(methods)) {
    parts <- regmatches(name, regexec("^(print|summary|predict|fitted|coef)\\.(.*)$", name))[[1]]
    where <- if (parts[2] %in% c("print", "summary")) baseenv() else asNamespace("stats")
    registerS3method(parts[2], parts[3], methods[[name]], envir = where)
  }
  invisible(names(methods))
}
"""

_OBJECTS: dict[str, Any] = {}
_STATE: dict[str, Any] = {}


def _ro():
    import os

    library_path = os.environ.get("LD_LIBRARY_PATH")
    try:
        import rpy2.rinterface as ri
        import rpy2.robjects as ro
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("dlstat's R bridge needs rpy2: pip install 'dlstat[r]' "
                          f"(rpy2>=3.5.17,<3.6) and R itself ({exc}).") from None
    restore_library_path(library_path)
    return ro, ri


def restore_library_path(value: str | None) -> None:
    """Put back the ``LD_LIBRARY_PATH`` this process had before rpy2 started R.

    rpy2 prepends R's and the system's library directories when it starts R.  R is loaded by
    then, but a Python started afterwards (a Dask worker, a subprocess) would load the
    system's libpython instead of its own and fail to import the standard library."""
    import os

    if value is None:
        os.environ.pop("LD_LIBRARY_PATH", None)
    else:
        os.environ["LD_LIBRARY_PATH"] = value


def _codec() -> Any:
    """An R environment holding the R package's codec (``R/convert.R``), sourced once."""
    if "codec" not in _STATE:
        ro, _ = _ro()
        env = ro.r("new.env()")
        ro.r["sys.source"](str(r_codec_file()), envir=env)
        _STATE["codec"] = env
    return _STATE["codec"]


# --------------------------------------------------------------------------- R values → Python


def _is_null(x: Any) -> bool:
    _, ri = _ro()
    return x is None or x is ri.NULL or isinstance(x, ri.NULLType)


def _py(x: Any) -> Any:
    """An R value → the plain Python value reticulate gives for it: ``None``, scalars for
    length-one vectors, lists, dicts for named lists, bytes for raw vectors, and the Python
    object behind a handle."""
    _, ri = _ro()
    if _is_null(x):
        return None
    if isinstance(x, ri.SexpEnvironment):
        key = str(x.find("key")[0])
        if key not in _OBJECTS:
            raise DataError("this dlstat object no longer exists in Python (the Python session "
                            "restarted); fit it again.")
        return _OBJECTS[key]
    if isinstance(x, ri.ListSexpVector):
        values = [_py(v) for v in x]
        return values if _is_null(x.names) else {str(k): v for k, v in zip(x.names, values)}
    if isinstance(x, ri.ByteSexpVector):
        return np.asarray(x, dtype=np.uint8).tobytes()
    values = _atomic(x)
    return values[0] if len(values) == 1 else values


def _atomic(x: Any) -> list[Any]:
    _, ri = _ro()
    if isinstance(x, ri.StrSexpVector):
        return [None if v is ri.NA_Character else str(v) for v in x]
    if isinstance(x, ri.BoolSexpVector):
        return [None if v is ri.NA_Logical else bool(v) for v in x]
    if isinstance(x, ri.IntSexpVector):
        return [None if v is ri.NA_Integer else int(v) for v in x]
    if isinstance(x, ri.FloatSexpVector):
        return [float(v) for v in x]
    raise OptionTypeError(f"dlstat cannot use an R value of type {type(x).__name__}.")


def r_to_pandas(data: Any) -> pd.DataFrame:
    """An R data frame (rpy2 object) → pandas, with R's types, levels, NA and row names.

    Numeric → ``float64``; integer → ``int64`` (``Int64`` with NA); logical → ``bool``
    (``boolean`` with NA); character → pandas' string dtype; factor / ordered factor →
    ``Categorical`` with R's levels; Date → ``datetime64``; POSIXct → tz-aware ``datetime64``.
    Character row names become the index (R's automatic ``1..n`` give a ``RangeIndex``).
    """
    _, ri = _ro()
    if not (isinstance(data, ri.ListSexpVector) and "data.frame" in list(data.rclass)):
        raise OptionTypeError(f"r_to_pandas() needs an R data frame; got "
                              f"{type(data).__name__}.")
    try:
        spec = _py(_codec()[".encode_frame"](data))
    except Exception as exc:  # an R error while encoding (an unsupported column)
        raise DataError(str(exc).strip()) from None
    return frame_from_r(spec)


# --------------------------------------------------------------------------- Python → R values


def _r(x: Any) -> Any:
    """A plain Python value (None, bool, int, float, str, bytes, lists, dicts) → an R value; any
    other object stays in Python and R gets a handle to it."""
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
        return ri.ListSexpVector([_r(v) for v in x])
    key = uuid.uuid4().hex
    _OBJECTS[key] = x
    return _STATE["new_handle"](ri.StrSexpVector([key]))


def pandas_to_r(frame: pd.DataFrame) -> Any:
    """A pandas DataFrame → an R data frame (rpy2 ``DataFrame``), the inverse of
    :func:`r_to_pandas`: categoricals → factors (ordered kept), nullable integers and booleans
    with NA → integer / logical with NA, ``datetime64`` at midnight → Date, other datetimes →
    POSIXct, strings → character; a non-default index → row names."""
    ro, _ = _ro()
    if not isinstance(frame, pd.DataFrame):
        raise OptionTypeError(f"pandas_to_r() needs a pandas DataFrame; got "
                              f"{type(frame).__name__}.")
    return ro.vectors.DataFrame(_codec()[".decode_frame"](_r(frame_to_r(frame))))


def r_formula(formula: Any) -> str:
    """An R formula (or a string) → the formula text dlstat parses, e.g. ``"mpg ~ wt + hp"``."""
    if isinstance(formula, str):
        return formula
    return str(_py(_codec()[".formula_text"](formula)))


# --------------------------------------------------------------------------- expose()


def _entry(op: Any, released: Any = None, *args: Any) -> Any:
    """The one Python function R calls: endpoint ``op`` of :func:`dlstat.fronts.rbridge.rcall`
    (errors come back as data: rpy2 would only log them)."""
    for key in np.atleast_1d(_py(released) or []):
        _OBJECTS.pop(str(key), None)
    try:
        values = [_py(a) for a in args]
    except Exception as exc:  # a handle whose object is gone, an R type dlstat cannot use
        return _r({"ok": False, "message": rbridge.error_message(exc),
                   "type": type(exc).__name__})
    return _r(rbridge.rcall(str(_py(op)), *values))


def expose(envir: Any = None) -> Any:
    """Define ``dnn()``, ``cv_dnn()``, ``dnn_path()``, ``tune_dnn()``, ``compare()``,
    ``partition()`` (and ``refit()`` for paths and tuning) in the embedded R session.

    Parameters
    ----------
    envir : rpy2 environment, optional
        Where to define them; by default R's global environment.  S3 methods for the results
        (``print``, ``summary``; for fits also ``predict``, ``fitted``, ``coef``) are registered
        too.

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
    if "api" not in _STATE:
        entry = ri.rternalize(_entry)
        def in_codec(code: str) -> Any:
            return ro.r["eval"](ro.r["parse"](text=code), envir=_codec())

        _STATE["entry"], _STATE["api"] = entry, in_codec(_R_API)(entry)
        in_codec(_R_METHODS)(_STATE["api"]["call_py"])
        _STATE["new_handle"] = _STATE["api"]["new_handle"]
        rbridge.r_session(bool(ro.r("interactive()")[0]))
    target = ro.globalenv if envir is None else envir
    for name in ("dnn", "cv_dnn", "dnn_path", "tune_dnn", "compare", "partition", "refit"):
        target[name] = _STATE["api"][name]
    return target


__all__ = ["expose", "pandas_to_r", "r_formula", "r_to_pandas"]
