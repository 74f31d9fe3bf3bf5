"""Rows are addressed by position: any index (duplicated labels as ``pd.concat`` gives,
strings, unsorted) gives exactly the numbers of a clean index, in every function."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import dlstat as dl
from dlstat.errors import DataError

NET = {"hidden": (3,), "epochs": 3, "batch_size": 16, "seed": 1, "verbose": 0}
N = 80


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"x1": rng.normal(size=N), "x2": rng.normal(size=N),
                       "g": rng.choice(list("abc"), N)})
    df["y"] = df["x1"] - df["x2"] + rng.normal(size=N)
    return df


INDEXES = {
    "duplicated": np.r_[np.arange(N // 2), np.arange(N // 2)],
    "strings": [f"r{i}" for i in range(N)],
    "unsorted": np.arange(N)[::-1] * 3 + 7,
}


def _numbers(function: str, data: pd.DataFrame):
    """What each function returns, as plain arrays (labels left out)."""
    f = "y ~ x1 + x2 + g"
    foldid = np.arange(N) % 3
    if function == "dnn":
        fit = dl.dnn(f, data, **NET)
        return [fit.record.deviance, fit.fitted().to_numpy(), fit.predict(data).to_numpy(),
                fit.augment(data)[".resid"].to_numpy()]
    if function == "dnn_validation":
        fit = dl.dnn(f, data, validation=0.25, **NET)
        return [fit.record.metrics["validation"]["deviance"], fit.fitted().to_numpy(),
                fit.spec.center]
    if function == "cv_dnn":
        cv = dl.cv_dnn(f, data, folds=3, **NET)
        return [cv.metrics.drop(columns=[]).to_numpy(float), cv.predictions.to_numpy(),
                cv.fold_ids.to_numpy(float)]
    if function == "cv_dnn_foldid":
        cv = dl.cv_dnn(f, data, foldid=foldid, **NET)
        return [cv.metrics["n_test"].to_numpy(), cv.metrics["mean_deviance"].to_numpy(),
                cv.predictions.to_numpy()]
    if function == "compare":
        return [dl.compare(f, data, folds=3, **NET).folds.drop(columns="model").to_numpy(float)]
    if function == "dnn_path":
        p = dl.dnn_path(f, data, folds=3, n_penalties=3, **NET)
        return [p.table.to_numpy(float), p.penalty_min, p.penalty_1se]
    if function == "partition":
        return [part["y"].to_numpy() for part in dl.partition(data, seed=3)]
    raise AssertionError(function)


FUNCTIONS = ["dnn", "dnn_validation", "cv_dnn", "cv_dnn_foldid", "compare", "dnn_path",
             "partition"]


@pytest.fixture(scope="module")
def clean_numbers():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {fn: _numbers(fn, _frame()) for fn in FUNCTIONS}


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("index", list(INDEXES))
def test_any_index_gives_the_numbers_of_a_clean_index(function, index, clean_numbers):
    data = _frame()
    data.index = INDEXES[index]
    before = data.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = _numbers(function, data)
    for a, b in zip(got, clean_numbers[function]):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    pd.testing.assert_frame_equal(data, before)  # nothing the user passed is changed


def test_predictions_keep_the_labels_of_the_data():
    data = _frame()
    data.index = INDEXES["duplicated"]
    cv = dl.cv_dnn("y ~ x1", data, folds=3, **NET)
    assert cv.predictions.index.equals(data.index) and cv.fold_ids.index.equals(data.index)
    fit = dl.dnn("y ~ x1", data, **NET)
    assert fit.fitted().index.equals(data.index)
    assert fit.predict(data.iloc[::-1]).index.equals(data.index[::-1])
    split = dl.dnn("y ~ x1", data, validation=0.25, **NET)
    assert len(split.fitted()) == N - N // 4


def test_numeric_column_names_are_refused_with_the_fix():
    data = pd.DataFrame(np.random.default_rng(1).normal(size=(20, 3)))
    with pytest.raises(DataError, match=r"not text \(0, 1, 2\).*add_prefix"):
        dl.dnn("`0` ~ `1`", data, **NET)
    with pytest.raises(DataError, match="repeated column names"):
        dl.dnn("a ~ b", pd.DataFrame([[1.0, 2.0, 3.0]] * 5, columns=["a", "b", "b"]), **NET)


# =============================================================================================
# validation= and test= frames: NA responses dropped with a note, unseen= applied
# =============================================================================================
def test_missing_responses_in_validation_and_test_frames_are_dropped_with_a_note():
    data = _frame()
    val, test = data.iloc[:20].copy(), data.iloc[20:40].copy()
    val.loc[val.index[:3], "y"] = np.nan
    test.loc[test.index[:2], "x1"] = np.nan
    with pytest.warns(UserWarning, match="3 row\\(s\\) of the validation data"):
        fit = dl.dnn("y ~ x1 + x2", data, validation=val, test=test, early_stopping=2,
                     **{**NET, "epochs": 6})
    assert fit.record.n_validation == 17
    assert np.isfinite(fit.history["val_loss"]).all()
    assert np.isfinite(fit.record.metrics["validation"]["deviance"])
    assert np.isfinite(fit.record.metrics["test"]["deviance"])
    assert "3 validation observation(s) deleted due to missingness." in fit.record.notes
    assert "2 test observation(s) deleted due to missingness." in fit.record.notes
    with pytest.raises(DataError, match="na_action='fail'"):
        dl.dnn("y ~ x1 + x2", data, validation=val, na_action="fail", **NET)


def test_unseen_applies_to_validation_and_test_frames():
    data = _frame()
    val = data.iloc[:20].copy()
    val.loc[val.index[:2], "g"] = "new"
    with pytest.raises(dl.errors.UnseenLevelError, match="validation"):
        dl.dnn("y ~ x1 + g", data, validation=val, **NET)
    with pytest.raises(dl.errors.UnseenLevelError, match="test"):
        dl.dnn("y ~ x1 + g", data, test=val, **NET)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = dl.dnn("y ~ x1 + g", data, validation=val, test=val, unseen="na", **NET)
    assert fit.record.n_validation == 18


# =============================================================================================
# validation=0.2: split first, learn the design on the training rows only
# =============================================================================================
def test_fractional_validation_learns_the_design_on_training_rows():
    data = _frame()
    data.loc[7, "x1"] = 1e4  # lands in the validation rows (checked below)
    fit = dl.dnn("y ~ x1 + g", data, validation=0.25, **NET)
    train = data.loc[fit.fitted().index]
    assert 7 not in set(train.index)
    np.testing.assert_allclose(fit.spec.center[0], train["x1"].mean(), rtol=1e-12)
    np.testing.assert_allclose(fit.spec.scale[0], train["x1"].std(ddof=0), rtol=1e-12)
    np.testing.assert_allclose(fit.family.y_center, [train["y"].mean()], rtol=1e-12)
    assert fit.record.n_obs == 60 and fit.record.n_validation == 20


def test_fractional_validation_keeps_the_classes_of_all_rows():
    data = _frame()
    data["c"] = np.where(data["y"] > 0, "hi", "lo")
    fit = dl.dnn("c ~ x1", data, validation=0.25, **NET)
    assert fit.family.levels == ["hi", "lo"]


# =============================================================================================
# The separation warning is a GLM's
# =============================================================================================
def test_separation_warning_only_without_hidden_layers():
    x = np.linspace(-3, 3, 40)
    data = pd.DataFrame({"x": x, "c": np.where(x > 0, "b", "a")})
    with pytest.warns(UserWarning, match="separable"):
        glm = dl.dnn("c ~ x", data, hidden=(), optimizer="lbfgs", verbose=0)
    assert any("separable" in n for n in glm.record.notes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = dl.dnn("c ~ x", data, hidden=(8,), epochs=300, learning_rate=0.1, seed=1,
                     verbose=0)
    assert net.predict(data).min() < 1e-8 or net.predict(data).max() > 1 - 1e-8
    assert not any("separable" in n for n in net.record.notes)
