"""A column whose kind (logical, number, text, date) changed between fit and predict is
refused with the column, both kinds and the fix, as R's ``.checkMFClasses`` refuses it;
never 32 silent NA predictions (Python's ``True == 1`` made a 0/1 column match the levels of a
logical factor, and pandas then turned every value into NA)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import edit_model_spec

import dlstat as dl
from dlstat.errors import DataError, UnseenLevelError
from dlstat.fronts import cli

GLM = dict(hidden=(), optimizer="lbfgs", verbose=0)


@pytest.fixture(scope="module")
def mtcars() -> pd.DataFrame:
    return dl.datasets.load("mtcars")


@pytest.fixture(scope="module")
def logical_fit(mtcars):
    """am as true/false at fit (an R logical)."""
    return dl.dnn("mpg ~ wt + am", mtcars.assign(am=mtcars["am"].astype(bool)), **GLM)


@pytest.mark.parametrize("unseen", ["error", "na"])
def test_a_logical_factor_refuses_0_1_numbers(logical_fit, mtcars, unseen):
    with pytest.raises(DataError, match=r"'am' of newdata holds numbers \(float64\).*fitted "
                                        r"with true/false values.*as\.logical\(\)"):
        logical_fit.predict(mtcars, unseen=unseen)
    with pytest.raises(DataError, match="'am'.*holds numbers"):
        logical_fit.predict(mtcars.assign(am=mtcars["am"].astype(int)))


@pytest.mark.parametrize("formula", ["mpg ~ wt + am", "mpg ~ wt + factor(am)"])
def test_numbers_at_fit_refuse_true_false(mtcars, formula):
    fit = dl.dnn(formula, mtcars, **GLM)
    with pytest.raises(DataError, match="'am' of newdata holds true/false values.*fitted with "
                                        "numbers.*to_numeric"):
        fit.predict(mtcars.assign(am=mtcars["am"].astype(bool)))


def test_text_at_fit_refuses_numbers(mtcars):
    text = mtcars.assign(cyl=mtcars["cyl"].astype(int).astype(str))
    fit = dl.dnn("mpg ~ wt + cyl", text, **GLM)
    with pytest.raises(DataError, match="'cyl' of newdata holds numbers.*fitted with text"):
        fit.predict(mtcars)
    with pytest.raises(DataError, match="'cyl' of newdata holds numbers"):
        fit.predict(mtcars, unseen="na")


def test_the_same_kind_in_another_dtype_predicts_the_same(logical_fit, mtcars):
    logical = mtcars.assign(am=mtcars["am"].astype(bool))
    expected = logical_fit.predict(logical).to_numpy()
    nullable = logical.assign(am=logical["am"].astype("boolean"))
    np.testing.assert_array_equal(logical_fit.predict(nullable).to_numpy(), expected)
    with_na = logical.assign(am=logical["am"].astype(object))
    with_na.iloc[0, with_na.columns.get_loc("am")] = None
    got = logical_fit.predict(with_na).to_numpy()
    assert np.isnan(got[0]) and np.array_equal(got[1:], expected[1:])

    numeric = dl.dnn("mpg ~ wt + factor(cyl)", mtcars, **GLM)
    reference = numeric.predict(mtcars).to_numpy()
    for cyl in (mtcars["cyl"].astype(int), mtcars["cyl"].astype("Int64")):
        np.testing.assert_array_equal(numeric.predict(mtcars.assign(cyl=cyl)).to_numpy(),
                                      reference)
    text = mtcars.assign(cyl=mtcars["cyl"].astype(int).astype(str))
    fit = dl.dnn("mpg ~ wt + cyl", text, **GLM)
    np.testing.assert_array_equal(
        fit.predict(text.assign(cyl=text["cyl"].astype("category"))).to_numpy(),
        fit.predict(text).to_numpy())
    # an all-missing column has no kind: its rows are NA, as any missing value
    assert logical_fit.predict(mtcars.assign(am=np.nan)).isna().all()


def test_kinds_travel_in_model_files(logical_fit, mtcars, tmp_path):
    path = tmp_path / "m.dlstat"
    logical_fit.save(str(path))
    assert dl.load(str(path)).spec.kinds == {"wt": "number", "am": "logical"}
    # a file written before kinds were stored: the levels tell the factors' kinds
    old = edit_model_spec(path, tmp_path / "old.dlstat", lambda s: s["design"].pop("kinds"))
    with pytest.raises(DataError, match="'am' of newdata holds numbers"):
        dl.load(old).predict(mtcars)
    bad = edit_model_spec(path, tmp_path / "bad.dlstat",
                          lambda s: s["design"].update(kinds={"am": "complex"}))
    with pytest.raises(dl.ModelFileError, match="kinds"):
        dl.load(bad)


def test_levels_match_kind_for_kind_even_without_kinds(logical_fit, mtcars):
    """With no kind to check (mixed values), 1 is still not the level True: an unseen level
    (an error by default), never a silent NA."""
    spec = logical_fit.spec
    spec_kinds, spec.kinds = spec.kinds, {}
    try:
        with pytest.raises(UnseenLevelError, match="'am'.*not seen"):
            logical_fit.predict(mtcars)
    finally:
        spec.kinds = spec_kinds


def test_cli_reads_a_text_factor_of_digits_as_text(mtcars, tmp_path, capsys):
    """A CSV has no types: a model's text factor ('4', '6', '8') is read as text."""
    text = mtcars.assign(cyl=mtcars["cyl"].astype(int).astype(str))
    fit = dl.dnn("mpg ~ wt + cyl", text, **GLM)
    model, csv = tmp_path / "m.dlstat", tmp_path / "new.csv"
    fit.save(str(model))
    text.to_csv(csv)
    assert cli.main(["predict", str(model), str(csv)]) == 0
    out = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out), index_col=0)
    np.testing.assert_allclose(out.iloc[:, 0].to_numpy(), fit.predict(text).to_numpy(),
                               rtol=1e-12)


def test_cli_refuses_0_1_for_a_logical_column(mtcars, tmp_path, capsys):
    train, new = tmp_path / "train.csv", tmp_path / "new.csv"
    mtcars.assign(am=mtcars["am"].astype(bool)).to_csv(train)  # written TRUE/FALSE as True
    mtcars.to_csv(new)  # am written 0/1 (as 0.0/1.0)
    model = tmp_path / "m.dlstat"
    assert cli.main(["fit", "mpg ~ wt + am", str(train), "--hidden", "", "--optimizer",
                     "lbfgs", "--quiet", "--save", str(model)]) == 0
    capsys.readouterr()
    assert cli.main(["predict", str(model), str(new)]) == 2
    err = capsys.readouterr().err
    assert "'am'" in err and "true/false" in err and "Traceback" not in err
