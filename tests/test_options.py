"""The one options table (dlstat/options.py) and every front held to it.

Each front (FitOptions, the fitting functions' signatures, the scikit-learn estimators, the
CLI, R's formals and roxygen docs, the R bridge) is compared with the table, so a front that
drifts fails here; hostile values for every option must give a dlstat error, never a raw one.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import dlstat as dl
from dlstat import options as table
from dlstat.errors import OptionTypeError
from dlstat.fitting.resolve import fit_options
from dlstat.fronts import cli
from dlstat.fronts.estimators import DNNClassifier, DNNRegressor
from dlstat.options import (
    CHOICE,
    CLI,
    COMPARE,
    CV,
    DNN,
    OPTIONS,
    PARTITION,
    PATH,
    TUNE,
    WHOLE,
    FitOptions,
    Option,
    option,
    options_for,
)

ROOT = Path(__file__).resolve().parents[1]
MTCARS = dl.datasets.load("mtcars")
PYTHON_FUNCTIONS = {CV: dl.cv_dnn, COMPARE: dl.compare, PATH: dl.dnn_path,
                    PARTITION: dl.partition, TUNE: dl.tune_dnn}
HOSTILE = ["abc", True, [1, 2], None, 1e300, -0.0, float("nan"), float("inf"), -1, 10**400,
           {"a": 1}, np.array([1.0, np.nan])]


class ReachedEngine(Exception):
    """Raised instead of training: the options were accepted."""


@pytest.fixture
def no_training(monkeypatch):
    import dlstat.fitting.blocks as blocks

    def refuse(job):
        raise ReachedEngine

    monkeypatch.setattr(blocks, "train_stack", refuse)


def rows() -> list[tuple[str, Option]]:
    return [(f, o) for o in OPTIONS for f in sorted(o.functions)]


# ------------------------------------------------------------------------------ the table


def test_each_function_takes_each_option_once():
    for function in table.FUNCTIONS:
        names = [o.name for o in options_for(function)]
        assert len(names) == len(set(names)), function


def test_every_default_passes_its_own_check():
    for _, opt in rows():
        opt.check(opt.default)


def test_choices_come_from_their_owners():
    from dlstat.architecture import ACTIVATIONS
    from dlstat.engine.job import OPTIMIZERS
    from dlstat.families import FAMILIES

    assert option("activation").allowed is ACTIVATIONS
    assert option("optimizer").allowed is OPTIMIZERS
    assert option("family").allowed is FAMILIES
    assert set(option("family", "DNNRegressor").allowed) <= set(FAMILIES)


def test_integer_option_names_feed_the_r_bridge():
    from dlstat.fronts import rbridge

    names = table.integer_option_names()
    assert set(names) == {o.name for o in OPTIONS if o.kind == WHOLE}
    assert {"epochs", "batch_size", "seed", "folds", "n_penalties"} <= set(names)
    assert "hidden" not in names and "penalty" not in names
    assert rbridge.INTEGER_OPTIONS == names


def test_unknown_function_or_option_is_a_dlstat_error():
    with pytest.raises(dl.OptionError, match="'fit'"):
        options_for("fit")
    with pytest.raises(OptionTypeError, match="'penalty'"):
        option("penalty", PATH)  # dnn_path takes penalties=, not penalty=


# ------------------------------------------------------------------- the Python fronts


def test_fit_options_fields_are_the_dnn_rows():
    fields = {f.name: f.default for f in dataclasses.fields(FitOptions) if f.name != "layers"}
    assert fields == {o.name: o.default for o in options_for(DNN)}


@pytest.mark.parametrize("function", sorted(PYTHON_FUNCTIONS))
def test_function_signatures_are_the_table(function):
    params = inspect.signature(PYTHON_FUNCTIONS[function]).parameters
    own = {n: p.default for n, p in params.items()
           if n not in ("formula", "data") and p.kind is not p.VAR_KEYWORD}
    assert own == {o.name: o.default for o in options_for(function)}


@pytest.mark.parametrize("cls", [DNNRegressor, DNNClassifier])
def test_estimator_parameters_are_the_table(cls):
    params = inspect.signature(cls.__init__).parameters
    own = {n: p.default for n, p in params.items() if n not in ("self", "formula")}
    assert own == {o.name: o.default for o in options_for(cls.__name__)}


def test_cli_fit_flags_are_the_table():
    fit = next(a for a in cli.build_parser()._actions if a.dest == "command").choices["fit"]
    flags = {a.dest: a for a in fit._actions if a.option_strings}
    for opt in options_for(CLI):
        action = flags[opt.name]
        assert action.option_strings == ["--" + opt.name.replace("_", "-")]
        if opt.kind == CHOICE:
            assert tuple(action.choices) == opt.allowed
    table_names = {o.name for o in options_for(CLI)}
    assert set(flags) - table_names == {"help", "index_col", "save", "quiet"}


@pytest.mark.parametrize("argv, fragment", [
    (["--epochs", "nan"], "--epochs"),
    (["--epochs", "1e300"], "--epochs"),
    (["--seed", "-1"], "at least 0"),
    (["--dropout", "inf"], "finite"),
    (["--hidden", "9999999999"], "1,000,000"),
    (["--validation", "1"], "--validation"),
    (["--learning-rate", "0"], "> 0"),
])
def test_cli_refuses_hostile_values_before_training(argv, fragment, capsys):
    assert cli.main(["fit", "mpg ~ wt", "mtcars", *argv]) == 2
    err = capsys.readouterr().err
    assert "usage: dlstat" in err and fragment in err and "Traceback" not in err


def test_cli_none_words():
    assert cli._flag_type(option("epochs", CLI))("none") is None
    assert cli._batch_size("all") is None
    with pytest.raises(Exception, match="whole number"):
        cli._flag_type(option("seed", CLI))("2.5")


# ------------------------------------------------------------------------ hostile values


@pytest.mark.parametrize("function, opt", rows(), ids=lambda x: getattr(x, "name", x))
def test_hostile_values_give_dlstat_errors_from_the_table(function, opt):
    for value in HOSTILE:
        try:
            opt.check(value)
        except dl.DlstatError:
            continue
        if opt.kind in (table.NUMBER, WHOLE, CHOICE, table.FLAG):
            bad = isinstance(value, (str, list, dict, np.ndarray)) or (
                value is None and not opt.none_means) or (
                isinstance(value, float) and not np.isfinite(value))
            assert not bad, (opt.name, value)


def _call(function: str, name: str, value: Any):
    if function == DNN:
        return dl.dnn("mpg ~ wt + hp", MTCARS, **{name: value})
    if function == PARTITION:
        return dl.partition(MTCARS, **{name: value})
    if function in PYTHON_FUNCTIONS:
        extra = {"folds": 3} if name not in ("folds", "foldid") else {}
        if function == TUNE and name != "grid":  # a grid to tune, so the value is what's tested
            extra["grid"] = {"penalty": [0.0, 0.1]}
        return PYTHON_FUNCTIONS[function]("mpg ~ wt + hp", MTCARS, **{**extra, name: value})
    cls = DNNRegressor if function == "DNNRegressor" else DNNClassifier
    y = MTCARS["mpg"] if cls is DNNRegressor else MTCARS["am"]
    return cls(**{name: value}).fit(MTCARS[["wt", "hp"]].to_numpy(), y.to_numpy())


@pytest.mark.parametrize("function, opt", [r for r in rows() if r[0] != CLI],
                         ids=lambda x: getattr(x, "name", x))
def test_hostile_values_in_every_function(function, opt, no_training):
    """Every option of every function, given a hostile value: a dlstat error, or accepted."""
    for value in HOSTILE:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                _call(function, opt.name, value)
            except (dl.DlstatError, ReachedEngine):
                pass


# ----------------------------------------------------- the errors and silences from review


def test_one_layer_spec_instead_of_a_list(no_training):
    with pytest.raises(OptionTypeError, match=r"Wrap it in a list") as err:
        dl.dnn("mpg ~ wt", MTCARS, architecture=dl.dense(32))
    assert "dense(32" in str(err.value)


@pytest.mark.parametrize("name", ["epochs", "batch_size", "early_stopping", "seed", "hidden"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), 1e300, 10**400])
def test_whole_number_options_refuse_nan_inf_and_huge(name, value, no_training):
    extra = {"validation": 0.2} if name == "early_stopping" else {}
    given = (value,) if name == "hidden" else value
    with pytest.raises(dl.DlstatError) as err:
        dl.dnn("mpg ~ wt", MTCARS, **{name: given}, **extra)
    assert name in str(err.value) or "widths" in str(err.value)


@pytest.mark.parametrize("kwargs, error, fragment", [
    (dict(folds=0, validation=MTCARS), dl.OptionError, "fraction"),
    (dict(penalty_min_ratio="0.01"), OptionTypeError, "'0.01'"),
    (dict(penalties=["a"]), OptionTypeError, "'a'"),
    (dict(n_penalties=float("nan")), OptionTypeError, "n_penalties"),
    (dict(sparsity="rows"), dl.OptionError, "'inputs'"),
    (dict(foldid="abc"), OptionTypeError, "foldid"),
])
def test_dnn_path_argument_errors(kwargs, error, fragment, no_training):
    with pytest.raises(error, match=re.escape(fragment)):
        dl.dnn_path("mpg ~ wt + hp", MTCARS, **kwargs)


@pytest.mark.parametrize("make", [
    lambda seed: dl.partition(MTCARS, seed=seed),
    lambda seed: dl.kfold(3, seed=seed).assign(10),
    lambda seed: dl.stratified_kfold(2, [0, 1] * 5, seed=seed).assign(10),
    lambda seed: dl.group_kfold(2, [0, 0, 1, 1, 2] * 2, seed=seed).assign(10),
    lambda seed: dl.repeated_kfold(2, 2, seed=seed).assign(10),
])
@pytest.mark.parametrize("seed", [-1, float("nan"), 2**70, "1"])
def test_fold_makers_and_partition_refuse_bad_seeds(make, seed):
    with pytest.raises(dl.DlstatError, match="seed"):
        make(seed)


def test_cv_and_compare_check_their_arguments(no_training):
    with pytest.raises(dl.OptionError, match="repeats"):
        dl.cv_dnn("mpg ~ wt", MTCARS, folds=3, repeats=10**400)
    with pytest.raises(OptionTypeError, match="stratify"):
        dl.cv_dnn("mpg ~ wt", MTCARS, folds=3, stratify=["a"] * 32)
    with pytest.raises(OptionTypeError, match="models"):
        dl.compare("mpg ~ wt", MTCARS, folds=3, models={"small": (8,)})


@pytest.mark.parametrize("options", [
    dict(optimizer="lbfgs", learning_rate=0.1),
    dict(optimizer="lbfgs", batch_size=8),
    dict(optimizer="lbfgs", learning_rate_decay=0.5),
])
def test_lbfgs_warns_about_options_it_does_not_use(options, no_training):
    with pytest.warns(dl.DlstatWarning, match="lbfgs.*not used"):
        with pytest.raises(ReachedEngine):
            dl.dnn("mpg ~ wt", MTCARS, hidden=(), **options)


def test_lbfgs_with_its_own_settings_is_quiet(no_training):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ReachedEngine):
            dl.dnn("mpg ~ wt", MTCARS, hidden=(), optimizer="lbfgs", batch_size=None)


@pytest.mark.parametrize("shorthand", [dict(hidden=(8,)), dict(activation="tanh"),
                                       dict(dropout=0.2), dict(batchnorm=True)])
def test_architecture_refuses_the_shorthand_it_would_ignore(shorthand, no_training):
    name = next(iter(shorthand))
    with pytest.raises(dl.OptionError, match=f"{name}=.*ignored"):
        dl.dnn("mpg ~ wt", MTCARS, architecture=[dl.dense(4)], **shorthand)


def test_compare_model_architecture_replaces_the_shared_shorthand():
    merged = table.model_options({"hidden": (8,), "epochs": 5},
                                 {"architecture": [dl.dense(4)]})
    assert merged == {"epochs": 5, "architecture": [dl.dense(4)]}
    fit_options(**merged)  # no clash
    assert table.model_options({"hidden": (8,)}, {"epochs": 3}) == {"hidden": (8,), "epochs": 3}


def test_adamw_penalty_warns_it_is_weight_decay(no_training):
    with pytest.warns(dl.DlstatWarning, match="decoupled weight decay"):
        with pytest.raises(ReachedEngine):
            dl.dnn("mpg ~ wt", MTCARS, optimizer="adamw", penalty=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for quiet in (dict(optimizer="adamw"), dict(optimizer="adam", penalty=0.01),
                      dict(optimizer="adamw", penalty=0.01, mixture=1.0)):
            with pytest.raises(ReachedEngine):
                dl.dnn("mpg ~ wt", MTCARS, **quiet)


def test_options_are_not_mutated(no_training):
    hidden, grid = [8, 4], [1.0, 0.1]
    with pytest.raises(ReachedEngine):
        dl.dnn("mpg ~ wt", MTCARS, hidden=hidden)
    with pytest.raises(ReachedEngine):
        dl.dnn_path("mpg ~ wt", MTCARS, penalties=grid, folds=3)
    assert hidden == [8, 4] and grid == [1.0, 0.1]


def test_verbose_defaults_to_one_everywhere():
    assert FitOptions().verbose == 1
    assert DNNRegressor().verbose == 1 and DNNClassifier().verbose == 1


# --------------------------------------------------------------------------- the R front

R_FUNCTIONS = {DNN: "dnn.R", CV: "cv.R", COMPARE: "compare.R", PATH: "path.R",
               PARTITION: "partition.R", TUNE: "tune.R"}
R_FORMALS = r"""
args <- commandArgs(trailingOnly = TRUE)
for (file in list.files(args[1], pattern = "[.]R$", full.names = TRUE)) {
  for (e in parse(file, keep.source = FALSE)) {
    if (is.call(e) && identical(e[[1]], as.name("<-")) && is.name(e[[2]]) &&
        is.call(e[[3]]) && identical(e[[3]][[1]], as.name("function"))) {
      name <- as.character(e[[2]])
      if (!name %in% args[-1]) next
      f <- e[[3]][[2]]
      for (arg in names(f)) {
        shown <- if (identical(f[[arg]], quote(expr = ))) "<none>"
                 else paste(deparse(f[[arg]]), collapse = " ")
        cat(name, "\t", arg, "\t", shown, "\n", sep = "")
      }
    }
  }
}
"""


def r_literal(value: Any) -> str:
    """How R's deparse() writes a Python default."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, tuple):
        return "c(" + ", ".join(r_literal(v) for v in value) + ")"
    return f"{value:g}"


# glm()'s row arguments, applied in R before the data reach Python (R/rows.R): no options.
R_GLM_ARGUMENTS = ("subset", "na.action")


@pytest.fixture(scope="module")
def r_formals(tmp_path_factory) -> dict[str, dict[str, str]]:
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript is not installed")
    script = tmp_path_factory.mktemp("r") / "formals.R"
    script.write_text(R_FORMALS)
    out = subprocess.run(["Rscript", str(script), str(ROOT / "R"), *R_FUNCTIONS],
                         capture_output=True, text=True, check=True).stdout
    formals: dict[str, dict[str, str]] = {}
    for line in out.splitlines():
        function, name, default = line.split("\t")
        formals.setdefault(function, {})[name] = default
    return formals


def r_params(file: str) -> dict[str, str]:
    """The roxygen ``@param`` texts of an R file (continuation lines joined)."""
    params: dict[str, str] = {}
    current = None
    for line in (ROOT / "R" / file).read_text().splitlines():
        match = re.match(r"#' @param (\S+) (.*)", line)
        if match:
            current = match.group(1)
            params[current] = match.group(2)
        elif current and line.startswith("#'   "):
            params[current] += " " + line[5:]
        else:
            current = None
    return {name: text for names, text in params.items() for name in names.split(",")}


def r_docs(function: str) -> dict[str, str]:
    """``@param`` texts of an R function, with those it takes by ``@inheritParams``."""
    text = (ROOT / "R" / R_FUNCTIONS[function]).read_text()
    docs: dict[str, str] = {}
    for parent in re.findall(r"#' @inheritParams (\S+)", text):
        docs.update(r_docs(parent))
    return {**docs, **r_params(R_FUNCTIONS[function])}


@pytest.mark.parametrize("function", sorted(R_FUNCTIONS))
def test_r_formals_and_defaults_are_the_table(function, r_formals):
    formals = {k: v for k, v in r_formals[function].items()
               if k not in ("formula", "data", "...", *R_GLM_ARGUMENTS)}
    assert formals == {o.name: r_literal(o.default) for o in options_for(function)}


@pytest.mark.parametrize("function", sorted(R_FUNCTIONS))
def test_r_docs_list_every_option_and_its_allowed_values(function):
    docs = r_docs(function)
    for opt in options_for(function):
        assert opt.name in docs, (function, opt.name)
        for value in opt.allowed:
            assert f'"{value}"' in docs[opt.name], (function, opt.name, value)
