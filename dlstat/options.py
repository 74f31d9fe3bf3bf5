"""The one table of options: every option of every fitting function, checked from one place.

Each :class:`Option` row gives an option's name, kind, default, allowed values, a one-line doc
and the functions whose own signature takes it.  ``FitOptions`` validates from the table (and
:func:`dlstat.fitting.resolve.fit_options` turns checked options into the layers a fit
trains, reading a ``base`` network, so this module stays a table that imports neither the
engine nor fitting), the CLI builds its flags from it, and tests hold the estimators' parameters and R's formals and
roxygen docs against it, so a front that drifts fails a test.  ``cv_dnn``, ``compare`` and
``dnn_path`` also pass every option of ``dnn`` on through ``**options``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from .architecture import ACTIVATIONS, LAYER_TYPES, Layer, describe
from .errors import DlstatError, OptionError, OptionTypeError, warn
from .families import FAMILIES, FAMILY_KINDS, LINK_NAMES, TIES_NAMES
from .optimizer_table import DEFAULT_LEARNING_RATE, OPTIMIZERS

DEFAULT_SEED = 0
INT32_MAX = 2**31 - 1  # R's integer range, and what TensorFlow takes as a count or a seed
MAX_WIDTH = 1_000_000  # a hidden layer wider than this cannot be stored
MAX_BOOTSTRAP = 1000  # resamples in one stack: percentile intervals need no more
NA_ACTIONS = ("omit", "fail")
UNSEEN_ACTIONS = ("error", "na")
SPARSITY = ("inputs",)

# The functions an option can belong to (``"cli"`` is ``dlstat fit``).
DNN, CV, COMPARE, PATH, PARTITION = "dnn", "cv_dnn", "compare", "dnn_path", "partition"
TUNE = "tune_dnn"
REGRESSOR, CLASSIFIER, CLI = "DNNRegressor", "DNNClassifier", "cli"
FUNCTIONS = (DNN, CV, COMPARE, PATH, PARTITION, TUNE, REGRESSOR, CLASSIFIER, CLI)

# How tune_dnn() trains configurations that differ in an option (``Option.tune``): in one stack
# (a per-network value of the engine, a tensor of its graph) or in a stack per value (it
# changes the graph's shapes or structure).  Empty: the option cannot be tuned.
IN_STACK, APART = "in one stack", "a stack per value"
# Which way an option's value makes a network simpler (``Option.simpler``), for the
# one-standard-error choice; a width tuple counts its units, None counts as no limit (inf).
LARGER, SMALLER = "larger", "smaller"

# Kinds of value.
NUMBER, WHOLE, CHOICE, FLAG = "number", "whole number", "choice", "True or False"
WIDTHS, LAYERS = "tuple of layer widths", "list of layer specs"
FRAME_OR_FRACTION, FRAME = "data frame or fraction", "data frame"
COLUMN, FOLD_IDS, GRID, MODELS = "column name", "fold ids", "list of numbers", "option dicts"
TUNING_GRID = "mapping of option names to lists of values"
COLUMN_OR_VECTOR = "column name or numeric vector"
BASE, UPTO = "fitted network, model file or Keras model", "layer kind or count"
CLIENT = "Dask client or scheduler address"
FREEZE = "True, False or a layer count"


@dataclass(frozen=True)
class Option:
    """One option: what it holds, its default, what it accepts and who takes it.

    Attributes
    ----------
    name, kind, default, doc
        The option's name, its kind of value (``NUMBER``, ``WHOLE``, ``CHOICE``, ...), its
        default and a one-line description.
    functions
        The functions whose own signature takes it (``DNN``, ``CV``, ..., ``CLI``).
    allowed
        The values of a ``CHOICE``, taken from the module that owns them.
    low, high, open_low, open_high
        The range of a number (an open end excludes the bound itself).
    none_means
        What ``None`` stands for; empty when ``None`` is refused.
    metavar
        The placeholder shown by ``dlstat fit --help``.
    tune
        Whether ``tune_dnn`` can vary the option, and how: ``IN_STACK`` (configurations that
        differ only in such options train as one stack), ``APART`` (a stack per value) or
        ``""`` (not tunable).
    simpler
        ``LARGER`` or ``SMALLER``: which values make a network simpler, for the
        one-standard-error choice of ``tune_dnn`` (empty: no direction).
    """

    name: str
    kind: str
    default: Any
    doc: str
    functions: frozenset[str]
    allowed: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    open_low: bool = False  # ``low`` itself is refused
    open_high: bool = False
    none_means: str = ""  # what None stands for; empty: None is refused
    metavar: str = ""
    tune: str = ""  # IN_STACK, APART or "" (not tunable): see tune_dnn()
    simpler: str = ""  # LARGER or SMALLER: the direction that makes a network simpler

    def expects(self) -> str:
        """What the option accepts, in words (for messages and help)."""
        if self.kind == CHOICE:
            text = _choices_text(self.allowed)
        elif self.kind in (NUMBER, WHOLE):
            text = f"a {self.kind}{_range_text(self)}"
        elif self.kind == FLAG:
            text = FLAG
        else:
            text = f"a {self.kind}"
        return text + (f", or None ({self.none_means})" if self.none_means else "")

    def check(self, value: Any) -> None:
        """Raise an :class:`~dlstat.OptionError` (``OptionTypeError`` for a wrong type) naming the fix if ``value``
        is not acceptable; never mutate it."""
        if value is None:
            if self.none_means:
                return
            raise OptionTypeError(f"{self.name} must be {self.expects()}; got None.")
        _CHECKERS[self.kind](self, value)


def _choices_text(allowed: tuple[Any, ...]) -> str:
    shown = [repr(a) for a in allowed]
    return " or ".join(shown) if len(shown) <= 2 else "one of " + ", ".join(shown)


def _range_text(opt: Option) -> str:
    low = "" if opt.low is None else f"{'>' if opt.open_low else '>='} {_bound(opt.low)}"
    high = "" if opt.high is None else f"{'<' if opt.open_high else '<='} {_bound(opt.high)}"
    return f" {low}{' and ' if low and high else ''}{high}" if low or high else ""


def _bound(x: float) -> str:
    return f"{int(x)}" if x == int(x) and abs(x) >= 1 else f"{x:g}"


def _fit(*extra: str, without: tuple[str, ...] = ()) -> frozenset[str]:
    """dnn(), both estimators and the CLI, plus ``extra``, minus ``without``."""
    return frozenset({DNN, REGRESSOR, CLASSIFIER, CLI, *extra}) - set(without)


OPTIONS: tuple[Option, ...] = (
    Option("family", CHOICE, None, "the response family", frozenset({DNN, CLI}),
           allowed=FAMILIES, none_means="chosen from the response"),
    Option("family", CHOICE, "gaussian", "the response family of a regressor",
           frozenset({REGRESSOR}),
           allowed=tuple(k.name for k in FAMILY_KINDS.values()
                         if not k.classes and not k.survival)),
    Option("link", CHOICE, None, "the link function (one of the family's links)",
           _fit(without=(CLASSIFIER,)), allowed=LINK_NAMES,
           none_means="the family's default link, as R's"),
    Option("ties", CHOICE, None, "how a survival family (cox) handles tied event times, as "
           "survival::coxph", frozenset({DNN, CLI}), allowed=TIES_NAMES,
           none_means="'efron', coxph's default"),
    Option("theta", NUMBER, None, "the negative binomial's theta (variance mu + mu^2/theta) "
           "fixed at this value, as glm(family = MASS::negative.binomial(theta))",
           _fit(without=(CLASSIFIER,)), low=0.0, open_low=True,
           none_means="estimated by maximum likelihood, as MASS::glm.nb", metavar="THETA"),
    Option("var_power", NUMBER, None, "the Tweedie family's variance power p (variance "
           "mu^p), between 1 and 2", _fit(without=(CLASSIFIER,)), low=1.0, high=2.0,
           open_low=True, open_high=True, none_means="needed with family 'tweedie'",
           metavar="P"),
    Option("hidden", WIDTHS, (32, 16), "widths of the hidden layers; () for none (a GLM)",
           _fit(), low=1, high=MAX_WIDTH, none_means="no hidden layer", metavar="WIDTHS",
           tune=APART, simpler=SMALLER),
    Option("activation", CHOICE, "relu", "activation of the hidden layers", _fit(),
           allowed=ACTIVATIONS, tune=APART),
    Option("architecture", LAYERS, None, "a list of layer specs (dense(), dropout(), ...) "
           "instead of hidden, activation, dropout and batchnorm", _fit(without=(CLI,)),
           none_means="built from hidden"),
    Option("dropout", NUMBER, 0.0, "dropout rate after each hidden layer (0 = none)", _fit(),
           low=0.0, high=1.0, open_high=True, metavar="RATE", tune=IN_STACK, simpler=LARGER),
    Option("batchnorm", FLAG, False, "batch normalisation after each hidden layer", _fit(),
           tune=APART),
    Option("penalty", NUMBER, 0.0, "elastic-net penalty on the weights (glmnet's lambda); "
           "with optimizer 'adamw' its L2 part is decoupled weight decay instead", _fit(),
           low=0.0, metavar="LAMBDA", tune=IN_STACK, simpler=LARGER),
    Option("mixture", NUMBER, 0.0, "elastic-net mixture: 0 = ridge (L2) ... 1 = lasso (L1), "
           "as glmnet's alpha", _fit(PATH), low=0.0, high=1.0, metavar="ALPHA", tune=IN_STACK),
    Option("max_norm", NUMBER, None, "max-norm constraint on each unit's incoming weights",
           _fit(), low=0.0, open_low=True, none_means="no constraint", metavar="C",
           tune=IN_STACK, simpler=SMALLER),
    Option("optimizer", CHOICE, "adam", "the optimiser ('lbfgs' is full-batch)", _fit(),
           allowed=OPTIMIZERS, tune=APART),
    Option("learning_rate", NUMBER, None, "learning rate (not used by 'lbfgs')", _fit(),
           low=0.0, open_low=True, none_means="the optimizer's default", metavar="RATE",
           tune=IN_STACK),
    Option("learning_rate_decay", NUMBER, 1.0, "factor multiplying the learning rate after "
           "each epoch (epoch e steps at learning_rate * decay^e; 1 = constant; not used by "
           "'lbfgs')", _fit(), low=0.0, high=1.0, open_low=True, metavar="FACTOR",
           tune=IN_STACK),
    Option("batch_size", WHOLE, 32, "rows per mini-batch (not used by 'lbfgs')", _fit(),
           low=1, high=INT32_MAX, none_means="full batch", metavar="N", tune=APART),
    Option("epochs", WHOLE, None, "maximum number of epochs (L-BFGS iterations)", _fit(),
           low=1, high=INT32_MAX, none_means="100; 1000 with 'lbfgs'", metavar="N",
           tune=APART, simpler=SMALLER),
    Option("validation", FRAME_OR_FRACTION, None, "a fraction of the rows held out (e.g. "
           "0.2) or a data frame, watched during training and by early stopping", _fit(),
           low=0.0, high=1.0, open_low=True, open_high=True, none_means="none",
           metavar="FRACTION"),
    Option("test", FRAME, None, "a data frame only evaluated, never used for training",
           frozenset({DNN}), none_means="none"),
    Option("early_stopping", WHOLE, None, "patience in epochs without a better validation "
           "loss (needs validation)", _fit(), low=1, high=INT32_MAX, none_means="no stopping",
           metavar="PATIENCE", tune=APART),
    Option("na_action", CHOICE, "omit", "rows with missing values: dropped with a note "
           "('omit') or refused ('fail')", frozenset({DNN, CLI}), allowed=NA_ACTIONS),
    Option("unseen", CHOICE, "error", "factor levels absent when fitting, at prediction: "
           "an error or an NA prediction", frozenset({DNN}), allowed=UNSEEN_ACTIONS),
    Option("seed", WHOLE, None, "random seed; the same seed and data give the same result",
           _fit(CV, COMPARE, PARTITION, TUNE), low=0, high=INT32_MAX, none_means="seed 0"),
    Option("bootstrap", WHOLE, None, "number of case-resampled networks trained in the same "
           "stack as the full-data fit, for effects, importance and intervals",
           frozenset({DNN}), low=2, high=MAX_BOOTSTRAP, none_means="no bootstrap",
           metavar="B"),
    Option("client", CLIENT, None, "a Dask distributed.Client or a scheduler address "
           "('tcp://host:8786'): the stack of networks is split into chunks trained on the "
           "cluster's workers, with the same numbers as locally",
           frozenset({DNN, CV, COMPARE, PATH, TUNE}), none_means="train here (or the default of "
           "dl.dask_client())", metavar="ADDRESS"),
    Option("verbose", WHOLE, 1, "0 = silent, 1 = a progress bar for long work",
           _fit(without=(CLI,)), low=0, high=2),
    Option("folds", WHOLE, 10, "number of folds", frozenset({CV, COMPARE, TUNE}), low=2,
           high=INT32_MAX),
    Option("folds", WHOLE, 5, "number of folds (0: score on a validation split instead)",
           frozenset({PATH}), low=0, high=INT32_MAX),
    Option("repeats", WHOLE, 1, "repeated k-fold: independent fold assignments",
           frozenset({CV}), low=1, high=INT32_MAX),
    Option("stratify", COLUMN, None, "a column whose classes keep their proportions in each "
           "part", frozenset({CV, COMPARE, PARTITION, TUNE}), none_means="no stratification"),
    Option("groups", COLUMN, None, "a column whose groups are never split across parts",
           frozenset({CV, COMPARE, PARTITION, TUNE}), none_means="no groups"),
    Option("foldid", FOLD_IDS, None, "your own fold of every row (as cv.glmnet's foldid); "
           "overrides folds", frozenset({CV, COMPARE, PATH, TUNE}),
           none_means="made from folds"),
    Option("grid", TUNING_GRID, None, "option names mapped to the values to try (every "
           "combination), or with n_random to lists or (low, high) ranges to draw from",
           frozenset({TUNE}), none_means="needs n_random and a grid of ranges"),
    Option("n_random", WHOLE, None, "draw this many configurations from grid's lists and "
           "ranges (reproducibly from seed) instead of trying every combination",
           frozenset({TUNE}), low=1, high=10_000, none_means="every combination of grid"),
    Option("models", MODELS, None, "names mapped to option dicts, one network each, merged "
           "over the shared options", frozenset({COMPARE}), none_means="one network 'dnn'"),
    Option("penalties", GRID, None, "your own grid of penalties", frozenset({PATH}), low=0.0,
           none_means="made from the data"),
    Option("n_penalties", WHOLE, 20, "length of the penalty grid", frozenset({PATH}), low=1,
           high=10_000),
    Option("penalty_min_ratio", NUMBER, None, "smallest penalty as a fraction of the largest",
           frozenset({PATH}), low=0.0, high=1.0, open_low=True, open_high=True,
           none_means="as glmnet"),
    Option("sparsity", CHOICE, None, "'inputs': the L1 part as a group penalty on each "
           "input's weights, so whole inputs leave the network", frozenset({PATH}),
           allowed=SPARSITY, none_means="weight by weight"),
    Option("base", BASE, None, "a network to start from (transfer learning): its layers up "
           "to upto come first, with their weights and input standardisation",
           _fit(without=(CLI,)), none_means="trained from scratch"),
    Option("upto", UPTO, None, "how much of base is kept: a layer kind (the last such "
           "layer), a count of its layers, or 'output' (the whole network)",
           _fit(without=(CLI,)), none_means="every hidden layer of base"),
    Option("freeze", FREEZE, True, "base's layers kept fixed: True (all), False (fine-tune "
           "all) or the number of first layers", _fit(without=(CLI,))),
    Option("validation", NUMBER, 0.2, "fraction of the rows for the validation part",
           frozenset({PARTITION}), low=0.0, high=1.0, open_high=True),
    Option("test", NUMBER, 0.2, "fraction of the rows for the test part",
           frozenset({PARTITION}), low=0.0, high=1.0, open_high=True),
    Option("weights", COLUMN_OR_VECTOR, None, "prior weights (as glm's): a numeric column or "
           "one non-negative number per row; they multiply the deviance of each row",
           frozenset({DNN, CV, COMPARE, PATH, TUNE, CLI}), none_means="every row weighs 1",
           metavar="COLUMN"),
    Option("offset", COLUMN_OR_VECTOR, None, "an offset added to the linear predictor (as "
           "glm's): a numeric column or one number per row; offset(expr) terms in the "
           "formula add to it", frozenset({DNN, CV, COMPARE, PATH, TUNE, CLI}),
           none_means="none",
           metavar="COLUMN"),
)


def options_for(function: str) -> tuple[Option, ...]:
    """The options ``function``'s own signature takes, in table order."""
    if function not in FUNCTIONS:
        raise OptionError(f"no function {function!r} in the options table; functions are "
                          f"{list(FUNCTIONS)}.")
    return tuple(o for o in OPTIONS if function in o.functions)


def option(name: str, function: str = DNN) -> Option:
    """The table row of option ``name`` as ``function`` takes it."""
    for row in options_for(function):
        if row.name == name:
            return row
    raise OptionTypeError(f"{function}() has no option {name!r}; its options are "
                          f"{[o.name for o in options_for(function)]}.")


def integer_option_names() -> tuple[str, ...]:
    """Options that hold whole numbers (R's bridge turns R's doubles into ``int`` for them)."""
    return tuple(dict.fromkeys(o.name for o in OPTIONS if o.kind == WHOLE))


def check_arguments(function: str, **values: Any) -> None:
    """Check each named argument of ``function`` against its table row."""
    for name, value in values.items():
        option(name, function).check(value)


def refuse_bootstrap(opts: FitOptions, function: str) -> None:
    """``bootstrap=`` belongs to ``dnn()``: elsewhere it would be silently ignored."""
    if opts.bootstrap is not None:
        raise OptionError(f"bootstrap={opts.bootstrap!r} is an option of dnn() only; "
                          f"{function}() does not resample. Leave it out here, and fit the "
                          "chosen model with dnn(..., bootstrap=B).")


def model_options(shared: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """One model's options in ``compare()``: its own over the shared ones.  A model's own
    ``architecture`` replaces the shared ``hidden`` shorthand rather than clashing with it."""
    merged = dict(shared)
    if own.get("architecture") is not None:
        for name in _SHORTHAND:
            merged.pop(name, None)
    return {**merged, **own}


# ----------------------------------------------------------------------------- checkers


def _fail_type(opt: Option, value: Any) -> None:
    raise OptionTypeError(f"{opt.name} must be {opt.expects()}; got {value!r}.")


def _check_number(opt: Option, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        _fail_type(opt, value)
    if not _finite(value):
        raise OptionError(f"{opt.name} must be a finite number{_range_text(opt)}; got "
                          f"{value!r}.")
    too_low = opt.low is not None and (value < opt.low or (opt.open_low and value == opt.low))
    too_high = opt.high is not None and (value > opt.high
                                         or (opt.open_high and value == opt.high))
    if too_low or too_high:
        raise OptionError(f"{opt.name} must be {_range_text(opt).strip()}; got {value!r}.")


def _finite(value: numbers.Real) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond the float range
        return False


def _check_whole(opt: Option, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        _fail_type(opt, value)
    exact = isinstance(value, numbers.Integral)  # a Python int is exact at any size
    if not exact and (not _finite(value) or value != math.floor(value)):
        raise OptionTypeError(f"{opt.name} must be a whole number{_range_text(opt)}; got "
                              f"{value!r}.")
    if opt.low is not None and value < opt.low:
        raise OptionError(f"{opt.name} must be at least {_bound(opt.low)}; got {value!r}.")
    if opt.high is not None and value > opt.high:
        raise OptionError(f"{opt.name} must be at most {_bound(opt.high)}; got {value!r}.")


def _check_choice(opt: Option, value: Any) -> None:
    if not isinstance(value, str) or value not in opt.allowed:
        raise OptionError(f"{opt.name} must be {opt.expects()}; got {value!r}.")


def _check_flag(opt: Option, value: Any) -> None:
    if not isinstance(value, (bool, np.bool_)):
        _fail_type(opt, value)


def _check_widths(opt: Option, value: Any) -> None:
    widths = (value,) if isinstance(value, numbers.Real) else value
    if isinstance(value, bool) or not isinstance(widths, (tuple, list)):
        raise OptionTypeError(f"hidden must be a tuple of layer widths such as (32, 16), or () "
                              f"for none; got {value!r}.")
    for width in widths:
        try:
            _check_whole(opt, width)
        except DlstatError:
            raise OptionError(f"layer widths must be whole numbers from 1 to {MAX_WIDTH:,}; "
                              f"got {width!r} in hidden={value!r}. Example: hidden=(32, 16)."
                              ) from None


def _check_layers(opt: Option, value: Any) -> None:
    if isinstance(value, LAYER_TYPES):
        raise OptionTypeError(f"architecture must be a list of layer specs; got one spec, "
                              f"{describe(value)}. Wrap it in a list, e.g. "
                              "architecture=[dl.dense(32), dl.dropout(0.2)].")
    if not isinstance(value, (list, tuple)):
        raise OptionTypeError(f"architecture must be a list of layer specs such as "
                              f"[dense(32), dropout(0.2)]; got {value!r}.")


def _check_frame_or_fraction(opt: Option, value: Any) -> None:
    if not isinstance(value, pd.DataFrame):
        _check_number(opt, value)


def _check_frame(opt: Option, value: Any) -> None:
    if not isinstance(value, pd.DataFrame):
        raise OptionTypeError(f"{opt.name} must be a data frame (it is only evaluated, never "
                              f"used for training or stopping); got {type(value).__name__}.")


def _check_column(opt: Option, value: Any) -> None:
    if not isinstance(value, str):
        raise OptionTypeError(f"{opt.name} must name a column of the data, e.g. "
                              f"{opt.name}='cls'; got {value!r}.")


def _check_fold_ids(opt: Option, value: Any) -> None:
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__len__"):
        raise OptionTypeError(f"foldid must hold one fold label per row (a list, array or "
                              f"Series); got {value!r}.")


def _check_grid(opt: Option, value: Any) -> None:
    grid = [value] if isinstance(value, numbers.Real) else value
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(grid, "__iter__"):
        raise OptionTypeError(f"penalties must be a list of non-negative numbers such as "
                              f"[1, 0.1, 0.01]; got {value!r}.")
    items = list(grid)
    if not items:
        raise OptionError("penalties must hold at least one penalty; got an empty grid.")
    for item in items:
        if isinstance(item, bool) or not isinstance(item, numbers.Real):
            raise OptionTypeError(f"penalties must be numbers; got {item!r} in "
                                  f"{items[:10]!r}.")
        if not _finite(item) or item < 0:
            raise OptionError(f"penalties must be non-negative finite numbers; got "
                              f"{items[:10]!r}.")


def _check_column_or_vector(opt: Option, value: Any) -> None:
    if isinstance(value, (bytes, Mapping, bool, numbers.Number)) or not (
            isinstance(value, str) or hasattr(value, "__len__")):
        raise OptionTypeError(f"{opt.name} must name a numeric column of the data, or give "
                              f"one number per row (a list, array or Series); got "
                              f"{str(value)[:80]!r}.")


def _check_models(opt: Option, value: Any) -> None:
    if not isinstance(value, Mapping) or not all(isinstance(v, Mapping)
                                                 for v in value.values()):
        raise OptionTypeError(f"models must map names to option dicts, e.g. "
                              f"{{'small': {{'hidden': (8,)}}}}; got {type(value).__name__}.")


def _check_tuning_grid(opt: Option, value: Any) -> None:
    if not isinstance(value, Mapping) or not value:
        raise OptionTypeError(f"grid must map option names to lists of values, e.g. "
                              f"{{'learning_rate': [0.01, 0.001], 'dropout': [0, 0.2]}}; got "
                              f"{str(value)[:80]!r}.")


def _check_client(opt: Option, value: Any) -> None:
    # Duck-typed, so that checking an option never imports distributed.
    if isinstance(value, str):
        if "://" not in value and ":" not in value:
            raise OptionError(f"client must be a scheduler address such as "
                              f"'tcp://127.0.0.1:8786'; got {value!r}.")
        return
    if not all(hasattr(value, name) for name in ("submit", "scatter", "gather")):
        raise OptionTypeError(f"client must be a dask distributed.Client or a scheduler "
                              f"address string such as 'tcp://127.0.0.1:8786'; got "
                              f"{type(value).__name__}.")


def _check_base(opt: Option, value: Any) -> None:
    if isinstance(value, (bool, numbers.Number, list, tuple, dict, pd.DataFrame)):
        raise OptionTypeError(f"base must be a fitted dlstat network, a dlstat model file or a "
                              f"Keras model; got {type(value).__name__}.")


def _check_upto(opt: Option, value: Any) -> None:
    if not isinstance(value, str):
        _check_whole(Option("upto", WHOLE, None, opt.doc, opt.functions, low=-MAX_WIDTH,
                            high=MAX_WIDTH), value)


def _check_freeze(opt: Option, value: Any) -> None:
    if not isinstance(value, bool):
        _check_whole(Option("freeze", WHOLE, True, opt.doc, opt.functions, low=0,
                            high=MAX_WIDTH), value)


_CHECKERS: dict[str, Callable[[Option, Any], None]] = {
    NUMBER: _check_number, WHOLE: _check_whole, CHOICE: _check_choice, FLAG: _check_flag,
    WIDTHS: _check_widths, LAYERS: _check_layers, FRAME_OR_FRACTION: _check_frame_or_fraction,
    FRAME: _check_frame, COLUMN: _check_column, FOLD_IDS: _check_fold_ids, GRID: _check_grid,
    MODELS: _check_models, COLUMN_OR_VECTOR: _check_column_or_vector,
    BASE: _check_base, UPTO: _check_upto, FREEZE: _check_freeze,
    CLIENT: _check_client, TUNING_GRID: _check_tuning_grid,
}
_SHORTHAND = ("hidden", "activation", "dropout", "batchnorm")  # what architecture= replaces


# ---------------------------------------------------------------------------- FitOptions


@dataclass
class FitOptions:
    """Every option of ``dnn()`` with its default (the table's).

    :func:`dlstat.fitting.resolve.fit_options` makes checked options: ``check_values()``
    (each against the table), then the layers (``layers``, and ``transfer`` from ``base``),
    then ``check_combinations()`` on those layers.
    """

    family: str | None = None
    link: str | None = None
    ties: str | None = None
    theta: float | None = None
    var_power: float | None = None
    hidden: Any = (32, 16)
    activation: str = "relu"
    architecture: list[Layer] | None = None
    dropout: float = 0.0
    batchnorm: bool = False
    penalty: float = 0.0
    mixture: float = 0.0
    max_norm: float | None = None
    optimizer: str = "adam"
    learning_rate: float | None = None
    learning_rate_decay: float = 1.0
    batch_size: int | None = 32
    epochs: int | None = None
    validation: Any = None
    test: Any = None
    early_stopping: int | None = None
    na_action: str = "omit"
    unseen: str = "error"
    seed: int | None = None
    bootstrap: int | None = None
    client: Any = None
    verbose: int = 1
    weights: Any = None
    offset: Any = None
    base: Any = None
    upto: Any = None
    freeze: Any = True
    layers: tuple[Layer, ...] = field(default=(), repr=False)
    transfer = None  # the kept part of ``base`` (a transfer.Base), set by fitting; not a field

    @classmethod
    def named(cls, **kwargs: Any) -> FitOptions:
        """Options from keyword arguments, not yet checked; unknown names get a suggestion."""
        known = {o.name for o in options_for(DNN)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            import difflib

            hints = [difflib.get_close_matches(u, sorted(known), n=1) for u in unknown]
            hint = "; ".join(f"{u!r} → did you mean {h[0]!r}?" for u, h in zip(unknown, hints)
                             if h)
            raise OptionTypeError(
                f"unknown option(s) {unknown}. {hint + '. ' if hint else ''}"
                f"Options are: {', '.join(sorted(known))}."
            )
        return cls(**kwargs)

    @property
    def lr(self) -> float:
        return float(self.learning_rate or DEFAULT_LEARNING_RATE[self.optimizer])

    @property
    def max_epochs(self) -> int:
        if self.epochs is not None:
            return int(self.epochs)
        return 1000 if self.optimizer == "lbfgs" else 100

    @property
    def seed_value(self) -> int:
        return DEFAULT_SEED if self.seed is None else int(self.seed)

    def check_values(self) -> None:
        """Check every option against the table, and ``architecture`` against the shorthand."""
        for row in options_for(DNN):
            row.check(getattr(self, row.name))
        if self.architecture is not None:
            self._refuse_shorthand_with_architecture()

    def check_combinations(self) -> None:
        """Check the options with each other and with the resolved ``layers``."""
        if self.early_stopping is not None and self.validation is None:
            raise OptionError(
                f"early_stopping={self.early_stopping} needs validation data to watch; pass "
                "validation=0.2 (a fraction held out) or validation=<data frame>."
            )
        if self.optimizer == "lbfgs":
            self._check_lbfgs()
        if self.optimizer == "adamw" and self.penalty > 0 and self.mixture < 1:
            warn(f"optimizer='adamw' applies the L2 part of penalty={self.penalty:g} as "
                 "decoupled weight decay (each step shrinks the weights by learning_rate × "
                 "penalty × (1 − mixture)), not as the glmnet objective the other optimizers "
                 "minimise; use optimizer='adam' for that objective.")

    def _refuse_shorthand_with_architecture(self) -> None:
        given = [f"{name}={getattr(self, name)!r}" for name in _SHORTHAND
                 if getattr(self, name) != option(name).default]
        if given:
            raise OptionError(
                f"architecture= describes every hidden layer, so {', '.join(given)} would be "
                "ignored; give the layers in architecture (e.g. dense(32, 'tanh'), "
                "dropout(0.2), batchnorm()) and leave out hidden, activation, dropout and "
                "batchnorm."
            )

    def _check_lbfgs(self) -> None:
        # A frozen base runs as at inference (no dropout noise, fixed batch statistics).
        n_frozen = self.transfer.n_frozen if self.transfer is not None else 0
        refused = [type(x).__name__.lower() for x in self.layers[n_frozen:]
                   if x.kind in ("dropout", "batchnorm")]
        refused += [name for name in ("max_norm", "early_stopping")
                    if getattr(self, name) is not None]
        if refused:
            raise OptionError(
                "optimizer='lbfgs' is deterministic full-batch optimisation and does not "
                f"combine with dropout, batchnorm, max_norm or early_stopping (given: "
                f"{refused}). Use optimizer='adam' for those."
            )
        unused = [f"{name}={getattr(self, name)!r}" for name in ("learning_rate", "learning_rate_decay",
                                                                "batch_size")
                  if getattr(self, name) not in (option(name).default, None)]
        if unused:
            warn(f"optimizer='lbfgs' uses every row in each step and chooses its own step "
                 f"sizes, so {' and '.join(unused)} are not used; leave them out, or choose a "
                 "mini-batch optimizer such as optimizer='adam'.")

    def call_repr(self) -> str:
        """The non-default options, as they would be typed."""
        defaults = FitOptions()
        parts = []
        for f in fields(self):
            if f.name in ("layers", "verbose", "client"):  # how it ran, not what was fitted
                continue
            value = getattr(self, f.name)
            if isinstance(value, pd.DataFrame):
                parts.append(f"{f.name}=<data frame {value.shape[0]}×{value.shape[1]}>")
            elif f.name in ("weights", "offset") and not isinstance(value, (str, type(None))):
                parts.append(f"{f.name}=<{len(value)} values>")
            elif f.name == "base" and value is not None:
                parts.append(f"base={value!r}" if isinstance(value, str) else
                             f"base=<{type(value).__name__}>")
            elif value != getattr(defaults, f.name) if not isinstance(value, list) else True:
                parts.append(f"{f.name}={value!r}")
        return ", ".join(parts)
