"""Tests for the ``dlstat`` command line (dlstat/cli.py), run in-process through ``main(argv)``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dlstat
from dlstat import datasets
from dlstat.fronts import cli

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--hidden", "4", "--epochs", "5", "--quiet"]  # a tiny, fast network
GLM = ["--hidden", "", "--optimizer", "lbfgs", "--epochs", "30", "--quiet"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def read_csv_output(text_or_path) -> pd.DataFrame:
    from io import StringIO

    source = StringIO(text_or_path) if isinstance(text_or_path, str) else text_or_path
    return pd.read_csv(source, index_col=0)


def assert_error(code: int, out: str, err: str, *fragments: str) -> None:
    assert code == 2
    assert err.startswith("dlstat: error: ") or "error:" in err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory) -> Path:
    """A small mtcars model written by 'dlstat fit --save' (shared by the predict tests)."""
    path = tmp_path_factory.mktemp("cli") / "cars.dlstat"
    assert cli.main(["fit", "mpg ~ wt + hp + factor(cyl)", "mtcars", *SMALL,
                     "--save", str(path)]) == 0
    return path


# ------------------------------------------------------------------------------------ fit


def test_fit_prints_summary(capsys) -> None:
    code, out, err = run(capsys, "fit", "mpg ~ wt + hp", "mtcars", "--hidden", "4",
                         "--epochs", "5", "--seed", "3")
    assert code == 0, err
    assert "Call:" in out
    assert "dnn('mpg ~ wt + hp'" in out  # the call, with the options passed on
    assert "hidden=(4,)" in out and "epochs=5" in out and "seed=3" in out
    assert "gaussian" in out and "Residual deviance" in out
    assert "Traceback" not in err


def test_fit_save_then_predict_round_trip(saved_model: Path, tmp_path: Path, capsys) -> None:
    assert saved_model.is_file()
    fit = dlstat.load(saved_model)
    expected = fit.predict(datasets.mtcars())

    out_path = tmp_path / "pred.csv"
    code, out, err = run(capsys, "predict", str(saved_model), "mtcars", "--output",
                         str(out_path))
    assert code == 0, err
    assert out == ""
    got = read_csv_output(out_path)
    assert list(got.index) == list(expected.index)  # car names kept as the row index
    assert got.index.name == "model"
    assert list(got.columns) == [expected.name]
    np.testing.assert_allclose(got.iloc[:, 0].to_numpy(), expected.to_numpy(), rtol=1e-12)

    # Without --output the same CSV goes to stdout.
    code, out, err = run(capsys, "predict", str(saved_model), "mtcars")
    assert code == 0, err
    assert out == out_path.read_text()


def test_predict_link_and_subset_keeps_index(saved_model: Path, tmp_path: Path, capsys) -> None:
    data = datasets.mtcars().iloc[[5, 2, 9]].drop(columns="mpg")  # no response needed
    data.to_csv(tmp_path / "new.csv", index_label="model")
    code, out, err = run(capsys, "predict", str(saved_model), str(tmp_path / "new.csv"),
                         "--index-col", "model", "--type", "link")
    assert code == 0, err
    got = read_csv_output(out)
    expected = dlstat.load(saved_model).predict(data, type="link")
    assert list(got.index) == list(data.index)
    np.testing.assert_allclose(got.iloc[:, 0].to_numpy(), expected.to_numpy(), rtol=1e-12)


def test_csv_input_classification(tmp_path: Path, capsys) -> None:
    iris = datasets.iris()
    train_csv = tmp_path / "iris.csv"
    iris.to_csv(train_csv, index=False)
    model = tmp_path / "iris.dlstat"
    code, out, err = run(capsys, "fit", "Species ~ .", str(train_csv), *GLM,
                         "--save", str(model))
    assert code == 0, err
    assert "multinomial" in out
    assert err == ""  # --quiet: no "model saved" message

    # New data written with its (unnamed) index: that column is read as the index, not data.
    new = iris.drop(columns="Species").sample(7, random_state=1)
    new_csv = tmp_path / "new.csv"
    new.to_csv(new_csv)
    code, out, err = run(capsys, "predict", str(model), str(new_csv), "--type", "prob")
    assert code == 0, err
    got = read_csv_output(out)
    expected = dlstat.load(model).predict(new, type="prob")
    assert list(got.index) == list(new.index)
    assert list(got.columns) == ["setosa", "versicolor", "virginica"]
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-300)

    code, out, err = run(capsys, "predict", str(model), str(new_csv), "--type", "class")
    assert code == 0, err
    got = read_csv_output(out)
    assert list(got["Species"]) == [str(v) for v in dlstat.load(model).predict(new, "class")]


def test_parquet_input(saved_model: Path, tmp_path: Path, capsys) -> None:
    pytest.importorskip("pyarrow")
    data = datasets.mtcars().head(4)
    path = tmp_path / "cars.parquet"
    data.to_parquet(path)
    code, out, err = run(capsys, "predict", str(saved_model), str(path))
    assert code == 0, err
    got = read_csv_output(out)
    assert list(got.index) == list(data.index)
    np.testing.assert_allclose(got.iloc[:, 0].to_numpy(),
                               dlstat.load(saved_model).predict(data).to_numpy(), rtol=1e-12)


def test_csv_on_stdin(saved_model: Path, monkeypatch, capsys) -> None:
    from io import StringIO

    data = datasets.mtcars().tail(3)
    monkeypatch.setattr(sys, "stdin", StringIO(data.to_csv()))
    code, out, err = run(capsys, "predict", str(saved_model), "-", "--index-col", "model")
    assert code == 0, err
    got = read_csv_output(out)
    assert list(got.index) == list(data.index)
    np.testing.assert_allclose(got.iloc[:, 0].to_numpy(),
                               dlstat.load(saved_model).predict(data).to_numpy(), rtol=1e-12)


# --------------------------------------------------------------------------------- errors


def test_bad_formula_exits_2_with_message(capsys) -> None:
    code, out, err = run(capsys, "fit", "mpg ~ wt + nosuchcolumn", "mtcars", *SMALL)
    assert_error(code, out, err, "dlstat: error: ", "nosuchcolumn")
    assert out == ""


def test_unknown_dataset_exits_2(capsys) -> None:
    code, out, err = run(capsys, "fit", "mpg ~ wt", "mtcar", *SMALL)
    assert_error(code, out, err, "dlstat: error: ", "'mtcar'", "did you mean 'mtcars'")


def test_missing_file_exits_2(tmp_path: Path, capsys) -> None:
    missing = str(tmp_path / "nope.csv")
    code, out, err = run(capsys, "fit", "mpg ~ wt", missing, *SMALL)
    assert_error(code, out, err, "dlstat: error: no such file", "nope.csv")
    code, out, err = run(capsys, "predict", str(tmp_path / "nope.dlstat"), "mtcars")
    assert_error(code, out, err, "dlstat: error: ", "no model file")


@pytest.mark.parametrize("argv, fragment", [
    (["fit", "mpg ~ wt", "mtcars", "--early-stopping", "3"], "needs validation"),
    (["fit", "mpg ~ wt", "mtcars", "--optimizer", "lbfgs", "--dropout", "0.2"], "lbfgs"),
    (["fit", "mpg ~ wt", "mtcars", "--index-col", "model"], "--index-col"),
])
def test_option_errors_exit_2(argv, fragment, capsys) -> None:
    code, out, err = run(capsys, *argv)
    assert_error(code, out, err, "dlstat: error: ", fragment)


def test_predict_type_not_for_family(saved_model: Path, capsys) -> None:
    code, out, err = run(capsys, "predict", str(saved_model), "mtcars", "--type", "class")
    assert_error(code, out, err, "dlstat: error: ", "classification family")


@pytest.mark.parametrize("where,message", [
    (lambda d: d / "no" / "such" / "m.dlstat", "there is no directory"),
    (lambda d: d, "it is a directory. Give a file name"),
    (lambda d: "/proc/dlstat-model.dlstat", "cannot create a file in '/proc'"),
])
def test_save_where_no_file_can_be_written_fails_before_training(tmp_path: Path, capsys,
                                                                  monkeypatch, where,
                                                                  message) -> None:
    import dlstat.fitting.dnn as fitting

    def no_training(*args, **kwargs):
        raise AssertionError("trained before checking --save")

    monkeypatch.setattr(fitting, "dnn", no_training)
    code, out, err = run(capsys, "fit", "mpg ~ wt", "mtcars", *SMALL,
                         "--save", str(where(tmp_path)))
    assert_error(code, out, err, "cannot save the model to", message)
    assert out == ""


def test_predict_from_an_inflated_model_file_exits_2(saved_model: Path, tmp_path: Path,
                                                     capsys) -> None:
    from conftest import inflated_model

    bomb = inflated_model(saved_model, tmp_path / "bomb.dlstat")
    code, out, err = run(capsys, "predict", bomb, "mtcars")
    assert_error(code, out, err, "but its members unpack to", "zip -0")
    assert out == ""


@pytest.mark.parametrize("argv", [
    [],
    ["fit", "mpg ~ wt"],
    ["fit", "mpg ~ wt", "mtcars", "--hidden", "a,b"],
    ["fit", "mpg ~ wt", "mtcars", "--family", "weibull"],
    ["fit", "mpg ~ wt", "mtcars", "--batch-size", "big"],
    ["predict", "m.dlstat", "mtcars", "--type", "odds"],
    ["frobnicate"],
])
def test_usage_errors_exit_2(argv, capsys) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert "usage: dlstat" in err and "Traceback" not in err


@pytest.mark.parametrize("text, expected", [
    ("32,16", (32, 16)), ("4", (4,)), ("", ()), ("0", ()), ("none", ()), ("(8, 4)", (8, 4)),
    ("4,", (4,)),
])
def test_hidden_parsing(text: str, expected: tuple[int, ...]) -> None:
    assert cli._hidden(text) == expected


def test_batch_size_parsing() -> None:
    assert cli._batch_size("full") is None
    assert cli._batch_size("16") == 16


def test_choice_lists_match_the_library() -> None:
    from dlstat.engine.job import OPTIMIZERS
    from dlstat.families import FAMILIES
    from dlstat.results.fit import PREDICT_TYPES

    assert cli.FAMILIES is FAMILIES  # imported from their owners, not copied
    assert cli.OPTIMIZERS is OPTIMIZERS
    assert cli.PREDICT_TYPES is PREDICT_TYPES


# ------------------------------------------------------------------------------- datasets


def test_datasets_listing(capsys) -> None:
    code, out, err = run(capsys, "datasets")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines == [datasets.describe(n) for n in datasets.available()]
    assert any(line.startswith("mtcars: 32 rows") for line in lines)


def test_help_and_version(capsys) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "fit" in out and "predict" in out and "datasets" in out
    code, out, _ = run(capsys, "--version")
    assert code == 0 and dlstat.__version__ in out


# ------------------------------------------------------------------------------ subprocess


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def test_python_m_dlstat_help(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "dlstat", "--help"], capture_output=True,
                          text=True, cwd=tmp_path, env=_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: dlstat")
    assert "fit" in proc.stdout and "predict" in proc.stdout


def test_help_and_datasets_do_not_import_tensorflow(tmp_path: Path) -> None:
    code = ("import sys, contextlib, io\n"
            "from dlstat.fronts.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert main(['--help']) == 0 and main(['fit', '--help']) == 0\n"
            "    assert main(['datasets']) == 0\n"
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, env=_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
