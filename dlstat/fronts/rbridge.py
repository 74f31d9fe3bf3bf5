"""The one door from R into dlstat: a table of endpoints, called by both R bridges.

The R package (``R/`` at the root of this repository) reaches it through reticulate
(``R/python.R``), R code run from Python through rpy2 (:mod:`dlstat.fronts.rpy2_bridge`).
Both encode their arguments with the same R codec (``R/convert.R``), call :func:`rcall` with an
endpoint's name, and decode what comes back; :mod:`dlstat.fronts.rcodec` is the Python half of
that codec.  Each row of :data:`ENDPOINTS` says which Python function serves a name, how each
argument arriving from R is converted, and how the result is encoded for R: data frames as frame
specs, results as Python objects R keeps a reference to, the rest as plain values.

:func:`rcall` returns ``{"ok": True, "value": ..., "warnings": [...]}`` or ``{"ok": False,
"type": ..., "message": ..., "dlstat": bool}``: errors are data, worded in R notation
(:mod:`dlstat.fronts.rnotation`), so the R side raises them as R conditions with dlstat's message
and no Python traceback.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DlstatError, DlstatWarning, OptionTypeError
from ..options import integer_option_names
from ..sequences import kmer_codes, onehot
from . import rgenerics
from .rcodec import (
    array_to_r,
    column_to_r,
    data_from_r,
    frame_from_r,
    frame_to_r,
    r_label,
    shift_folds,
    vector_from_r,
)
from .rlayers import architecture_from_r, layer_from_call, layer_to_r
from .rnotation import r_notation

INTEGER_OPTIONS = integer_option_names()
_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)


# --------------------------------------------------------------------------- argument conversion


def options_from_r(options: dict[str, Any] | list | None) -> dict[str, Any]:
    """R's option values → the Python values dlstat expects.

    ``hidden``: a list of widths → a tuple of ints (``NULL``/``c()`` → ``()``, a GLM);
    whole-number doubles for integer options → ``int``; frame specs → DataFrames; ``foldid`` →
    an array of 0-based folds; ``weights``/``offset`` vectors → float arrays; ``penalties`` → a
    list of floats; ``models`` → a dict of option dicts.  An empty R list arrives as a Python
    list and means no options.  Values that do not fit are passed unchanged, so dlstat's own
    checks word the error.
    """
    out: dict[str, Any] = {}
    for key, value in dict(options or {}).items():
        if isinstance(value, dict) and value.get("__dlstat__") == "frame":
            value = frame_from_r(value)
        elif key == "hidden":
            value = _hidden(value)
        elif key in INTEGER_OPTIONS or key in ("upto", "freeze"):  # R's numbers are doubles
            value = _whole(value)
        elif key == "foldid" and isinstance(value, dict):
            value = shift_folds(vector_from_r(value), to_r=False)
        elif key in ("weights", "offset") and isinstance(value, dict):
            value = vector_from_r(value)
        elif key == "penalties" and value is not None:
            value = [float(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
        elif key == "grid" and isinstance(value, dict):
            value = {str(k): _grid_entry(str(k), v) for k, v in value.items()}
        elif key == "models" and isinstance(value, dict):
            value = {str(k): options_from_r(v) for k, v in value.items()}
        elif key == "architecture":
            value = architecture_from_r(value)
        out[key] = value
    return out


def _grid_entry(name: str, values: Any) -> Any:
    """One entry of tune_dnn()'s grid from R: a range (``tune_range()``) → a tuple, a vector
    or list → a list of values, each converted as that option's value is."""
    if isinstance(values, dict) and values.get("__dlstat__") == "range":
        return (float(values["low"]), float(values["high"]),
                *(["log"] if values.get("log") else []))
    items = values if isinstance(values, list) else [values]
    return [options_from_r({name: v})[name] for v in items]


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


def _frame(what: str) -> Callable[[Any], pd.DataFrame]:
    """A converter: a frame spec from R (argument ``what``) → a DataFrame."""

    def convert(data: Any) -> pd.DataFrame:
        if isinstance(data, dict) and data.get("__dlstat__") == "frame":
            return frame_from_r(data)
        raise OptionTypeError(f"{what} must be a data frame; got {type(data).__name__}.")

    return convert


def _data(what: str) -> Callable[[Any], Any]:
    """A converter: a frame spec → a DataFrame, a mapping spec (arrays) → a dict."""

    def convert(data: Any) -> Any:
        if isinstance(data, dict) and data.get("__dlstat__") in ("frame", "mapping"):
            return data_from_r(data)
        raise OptionTypeError(f"{what} must be a data frame or a named list; got "
                              f"{type(data).__name__}.")

    return convert


def _roundtrip_data(data: Any) -> dict[str, Any]:
    """Data as Python read it, sent back (arrays as array specs): the transport's own test."""
    if isinstance(data, pd.DataFrame):
        return frame_to_r(data)
    return {"__dlstat__": "mapping", "names": list(data),
            "values": [frame_to_r(v) if isinstance(v, pd.DataFrame) else array_to_r(v)
                       if isinstance(v, np.ndarray) and v.ndim > 1 else column_to_r(v)
                       for v in data.values()]}


def _optional(required: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda data: None if data is None else required(data)


def _same(value: Any) -> Any:
    return value


# --------------------------------------------------------------------------- result encoding


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
        "levels": None if fam.levels is None else [r_label(v) for v in fam.levels],
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
        "columns": [str(c) for c in model.spec.names],
    }


def summary(result: Any, call: str | None = None) -> dict[str, Any]:
    """Any result's ``summary()``: its tables as frame specs, its notes, and its text printed
    with ``call`` (R's own call, in R notation) in place of the Python one."""
    s = result.summary()
    return {"title": str(s.title), "call": str(s.call), "notes": [str(n) for n in s.notes],
            "tables": {str(k): frame_to_r(v) for k, v in s.tables.items()},
            "text": s.text(call=call)}


def _coef(model: Any) -> pd.DataFrame:
    return model.coef_table()  # dlstat's error for networks with hidden layers


def _augment(result: Any, data: pd.DataFrame) -> pd.DataFrame:
    """Only the columns ``augment(data)`` adds; the R side binds them to its own data frame."""
    out = result.augment(data)
    added = [c for c in out.columns if c not in set(data.columns)]
    return out[added]


def _save(model: Any, path: str, drop_bootstrap: bool = False) -> str:
    model.save(path, drop_bootstrap=drop_bootstrap)
    return str(path)


def _dl():
    import dlstat

    return dlstat


def _cv(formula: str, data: pd.DataFrame, options: dict[str, Any]) -> dict[str, Any]:
    """``cv_dnn()``; fold ids go back 1-based (``NA`` for rows left out)."""
    res = _dl().cv_dnn(formula, data, **options)
    return {"object": res, "call": res.call, "family": res.family.name,
            "metrics": frame_to_r(res.metrics), "summary": frame_to_r(res.summary_table),
            "predictions": frame_to_r(res.predictions),
            "fold_ids": frame_to_r(shift_folds(res.fold_ids.astype("Int64"), to_r=True)),
            "notes": [str(n) for n in res.notes], "fits": list(res.fits)}


def _path(formula: str, data: pd.DataFrame, options: dict[str, Any]) -> dict[str, Any]:
    """``dnn_path()``: the table, the chosen penalties, entry order and per-term norms."""
    res = _dl().dnn_path(formula, data, **options)
    entry = None if res.entry is None else frame_to_r(res.entry)
    return {"object": res, "call": res.call, "family": res.family.name,
            "table": frame_to_r(res.table), "penalty_min": float(res.penalty_min),
            "penalty_1se": float(res.penalty_1se), "entry": entry,
            "term_norms": frame_to_r(res.term_norms.reset_index()),
            "notes": [str(n) for n in res.notes]}


def _tune(formula: str, data: Any, options: dict[str, Any]) -> dict[str, Any]:
    """``tune_dnn()``: the table, the 1-based rows of the best and 1-SE choices, and their
    options."""
    res = _dl().tune_dnn(formula, data, **options)
    return {"object": res, "call": res.call, "family": res.family.name,
            "table": frame_to_r(res.table), "best": res.best + 1, "one_se": res.one_se + 1,
            "best_params": _r_values(res.best_params),
            "params_1se": _r_values(res.params_1se), "n_stacks": res.n_stacks,
            "notes": [str(n) for n in res.notes]}


def _r_values(config: dict[str, Any]) -> dict[str, Any]:
    """Tuned options as R reads them (a width tuple as a list)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()}


def _tune_refit(result: Any, which: Any = "best") -> Any:
    """A configuration refitted: ``"best"``, ``"1se"`` or a 1-based row from R."""
    if isinstance(which, (int, float)) and not isinstance(which, bool) and \
            float(which).is_integer():
        which = int(which) - 1
    return result.refit(which)


def _compare(formula: str, data: pd.DataFrame, options: dict[str, Any]) -> dict[str, Any]:
    """``compare()``: per-fold metrics, mean ± SE per model (long), paired differences."""
    res = _dl().compare(formula, data, **options)
    return {"object": res, "call": res.call, "family": res.family.name,
            "folds": frame_to_r(res.folds), "table": frame_to_r(res.tidy()),
            "differences": frame_to_r(res.differences), "winner": res.winner(),
            "notes": [str(n) for n in res.notes]}


def _partition(data: pd.DataFrame, options: dict[str, Any]) -> dict[str, Any]:
    """``partition()``: 0-based row positions of the three parts (R subsets its own frame)."""
    parts = _dl().partition(data.reset_index(drop=True), **options)
    return {name: frame_to_r(pd.Series(part.index.to_numpy(np.int64), name=name))
            for name, part in zip(("train", "validation", "test"), parts)}


def _fashion_mnist(kind: str = "train", n: Any = None, path: str | None = None) -> dict[str, Any]:
    """Fashion-MNIST as raw bytes: images (row-major, n × 784 uint8) and label codes."""
    from ..datasets import fashion_mnist as read

    images, labels = read(kind, path=path, n=_whole(n), flatten=True)
    return {"n": int(len(images)), "images": bytearray(images.tobytes()),
            "codes": bytearray(np.asarray(labels.codes, dtype=np.uint8).tobytes()),
            "levels": [str(c) for c in labels.categories]}


def _series_windows(values: Any, times: Any, steps: Any, test: float = 0.2) -> dict[str, Any]:
    """``series_windows()``: windows as array specs, targets and their times as columns."""
    from ..datasets import series_windows

    series = pd.Series(vector_from_r(values), index=vector_from_r(times))
    w = series_windows(series, _whole(steps), float(test))
    return {"X_train": array_to_r(w.X_train), "y_train": column_to_r(w.y_train),
            "X_test": array_to_r(w.X_test), "y_test": column_to_r(w.y_test),
            "t_train": column_to_r(w.t_train), "t_test": column_to_r(w.t_test)}


def _dtypes(frame: pd.DataFrame) -> dict[str, Any]:
    """Column dtypes (as strings), category levels and NA counts of a frame sent from R."""
    out = {}
    for name in frame.columns:
        s = frame[name]
        categorical = isinstance(s.dtype, pd.CategoricalDtype)
        out[str(name)] = {
            "dtype": str(s.dtype), "n_na": int(s.isna().sum()),
            "levels": [str(v) for v in s.cat.categories] if categorical else None,
            "ordered": bool(s.cat.ordered) if categorical else None,
        }
    return {"columns": out, "index": [str(i) for i in frame.index[:5]],
            "index_type": type(frame.index).__name__, "nrow": int(len(frame))}


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Endpoint:
    """One function R can call: what serves it, how its arguments arrive, how it answers.

    ``arguments`` holds one converter per positional argument R may pass (trailing ones may be
    left out, then the function's defaults apply); ``result`` encodes the return value.
    """

    function: Callable[..., Any]
    arguments: tuple[Callable[[Any], Any], ...]
    result: Callable[[Any], Any] = _same


def _fit(formula: str, data: pd.DataFrame, options: dict[str, Any]) -> Any:
    return _dl().dnn(formula, data, **options)


def _load(path: str) -> Any:
    return _dl().load(path)


def _predict(model: Any, newdata: Any, type: str = "response",
             unseen: str | None = None, times: Any = None) -> Any:
    return model.predict(newdata, type=type, unseen=unseen, times=times)


def _effects(model: Any, level: float = 0.95, per: str = "variable", variables: Any = None,
             by: Any = None, newdata: pd.DataFrame | None = None, hypothesis: Any = None,
             equivalence: Any = None) -> Any:
    return model.effects(level, per, variables, by, newdata, hypothesis, equivalence)


def _importance(model: Any, newdata: pd.DataFrame | None = None, level: float = 0.95) -> Any:
    return model.importance(newdata, level)


def _dependence(model: Any, term: str, kind: str = "pdp", grid: Any = 20,
                level: float = 0.95) -> Any:
    return model.partial_dependence(term, kind, grid, level)


_FORMULA_CALL = (str, _frame("data"), options_from_r)

ENDPOINTS: dict[str, Endpoint] = {
    "fit": Endpoint(_fit, (str, _data("data"), options_from_r)),
    "cv": Endpoint(_cv, (str, _data("data"), options_from_r)),
    "path": Endpoint(_path, _FORMULA_CALL),
    "tune": Endpoint(_tune, (str, _data("data"), options_from_r)),
    "tune_refit": Endpoint(_tune_refit, (_same, _same)),
    "compare": Endpoint(_compare, _FORMULA_CALL),
    "partition": Endpoint(_partition, (_frame("data"), options_from_r)),
    "describe": Endpoint(describe, (_same,)),
    "predict": Endpoint(_predict, (_same, _optional(_data("newdata")), str, _same, _same),
                        frame_to_r),
    "summary": Endpoint(summary, (_same, _same)),
    "tidy": Endpoint(lambda result: result.tidy(), (_same,), frame_to_r),
    "glance": Endpoint(lambda result: result.glance(), (_same,), frame_to_r),
    "coef": Endpoint(_coef, (_same,), frame_to_r),
    "augment": Endpoint(_augment, (_same, _frame("data")), frame_to_r),
    "path_refit": Endpoint(lambda path, which="1se": path.refit(which), (_same, _same)),
    "save": Endpoint(_save, (_same, str, _same)),
    "load": Endpoint(_load, (str,)),
    "fashion_mnist": Endpoint(_fashion_mnist, (str, _same, _same)),
    "series_windows": Endpoint(_series_windows, (_same, _same, _same, _same)),
    "onehot": Endpoint(onehot, (vector_from_r, str, _whole, str, str), array_to_r),
    "kmer_codes": Endpoint(kmer_codes, (vector_from_r, _whole, str, _whole, str, str),
                           array_to_r),
    "roundtrip": Endpoint(_same, (_frame("data"),), frame_to_r),
    "dtypes": Endpoint(_dtypes, (_frame("data"),)),
    "vcov": Endpoint(rgenerics.vcov, (_same,)),
    "confint": Endpoint(rgenerics.confint, (_same, _same)),
    "residuals": Endpoint(lambda model, type: model.residuals(type), (_same, str), frame_to_r),
    "loglik": Endpoint(rgenerics.loglik, (_same,)),
    "aic": Endpoint(lambda model: model.aic(), (_same,)),
    "bic": Endpoint(lambda model: model.bic(), (_same,)),
    "anova": Endpoint(rgenerics.anova_table, (list, str)),
    "model_matrix": Endpoint(rgenerics.model_matrix, (_same, _optional(_frame("data")))),
    "predict_se": Endpoint(rgenerics.predict_with_se,
                           (_same, _optional(_frame("newdata")), str, _same, str, _same)),
    "predict_interval": Endpoint(rgenerics.predict_interval,
                                 (_same, _optional(_data("newdata")), str, _same, _same, _same,
                                  _same)),
    "calibration": Endpoint(lambda model, newdata=None, bins=10, strategy="uniform":
                            model.calibration(newdata, bins, strategy),
                            (_same, _optional(_frame("newdata")), _whole, str)),
    "calibration_curve": Endpoint(lambda result: result.curve, (_same,), frame_to_r),
    "effects": Endpoint(_effects, (_same, _same, _same, _same, _same,
                                   _optional(_frame("newdata")), _same, _same)),
    "importance": Endpoint(_importance, (_same, _optional(_frame("newdata")), _same)),
    "dependence": Endpoint(_dependence, (_same, _same, _same, _whole, _same)),
    "dependence_curve": Endpoint(lambda result: result.curve, (_same,), frame_to_r),
    "attributions": Endpoint(lambda model, newdata, method, target, scale, baseline, steps:
                             model.attributions(newdata, method, target, scale, baseline, steps),
                             (_same, _data("newdata"), str, _same, str, _same, _whole)),
    "attributions_values": Endpoint(lambda result: result.values, (_same,), array_to_r),
    "filters": Endpoint(lambda model: model.filters(), (_same,)),
    "filters_pwm": Endpoint(lambda result: result.pwm, (_same,), array_to_r),
    "layer": Endpoint(layer_from_call, (str, _same, _same), layer_to_r),
    "roundtrip_data": Endpoint(_same, (_data("data"),), _roundtrip_data),
}


# --------------------------------------------------------------------------- calls


class RConsole(io.TextIOBase):
    """Python's stderr as the R session sees it, for the length of a call.

    Progress bars (``verbose=1``) draw only on a terminal; R's console is one when R is
    interactive, so they show there and stay out of scripts, knitr and ``R CMD check`` logs.
    ``verbose=0`` draws nothing either way.
    """

    interactive = False  # set by the R side once (R's interactive())

    def __init__(self, stream: Any) -> None:
        super().__init__()
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return bool(type(self).interactive)

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", None) or "utf-8"


def r_session(interactive: bool) -> None:
    """Called by the R side when it starts: whether R is interactive (see :class:`RConsole`)."""
    RConsole.interactive = bool(interactive)


def rcall(name: str, *args: Any) -> dict[str, Any]:
    """Run endpoint ``name``; errors and warnings come back as data (see the module doc)."""
    quiet_tensorflow()
    endpoint = ENDPOINTS.get(name)
    if endpoint is None or len(args) > len(endpoint.arguments):
        return {"ok": False, "type": "AttributeError", "dlstat": False,
                "message": f"the dlstat Python package has no R bridge function {name!r} taking "
                           f"{len(args)} arguments; the R and Python packages differ in "
                           "version: reinstall both."}
    with warnings.catch_warnings(record=True) as caught, \
            contextlib.redirect_stderr(RConsole(sys.stderr)):
        warnings.simplefilter("always")
        try:
            values = [convert(a) for convert, a in zip(endpoint.arguments, args)]
            value = endpoint.result(endpoint.function(*values))
        except Exception as exc:  # every error becomes an R condition
            return {"ok": False, "type": type(exc).__name__, "message": error_message(exc),
                    "dlstat": isinstance(exc, DlstatError)}
    return {"ok": True, "value": value, "warnings": _our_warnings(caught)}


def _our_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    """dlstat's warnings (not TensorFlow's or pandas'), once each, in R notation."""
    messages: list[str] = []
    for w in caught:
        ours = issubclass(w.category, DlstatWarning) or (
            issubclass(w.category, UserWarning) and str(w.filename).startswith(_PACKAGE_DIR))
        text = r_notation(str(w.message))
        if ours and text not in messages:
            messages.append(text)
    return messages


def quiet_tensorflow() -> None:
    """Keep TensorFlow's Python logger (retracing notices and the like) out of the R console."""
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


def error_message(exc: BaseException) -> str:
    """dlstat's own message for its errors, ``Type: message`` for anything else; in R notation."""
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    return r_notation(text if isinstance(exc, DlstatError) else f"{type(exc).__name__}: {text}")


__all__ = ["ENDPOINTS", "INTEGER_OPTIONS", "Endpoint", "RConsole", "describe", "error_message",
           "options_from_r", "quiet_tensorflow", "r_session", "rcall", "summary"]
