"""Standardisation without overflow: a column (or an image) on a 1e200 or 1e-200 scale gets
R's coefficient, not a silent 0 from an infinite variance; its standard errors, which float64
cannot hold, are refused with the reason; an ordinary column's numbers are unchanged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dlstat as dl
from dlstat.errors import DataError

GLM = dict(hidden=(), optimizer="lbfgs", verbose=0)


@pytest.fixture(scope="module")
def r():
    from conftest import require

    require("rpy2")
    import rpy2.robjects as ro

    return ro


@pytest.mark.parametrize("factor", [1e200, 1e-200, 1e-20, 1e300])
def test_a_column_on_an_extreme_scale_gets_rs_coefficients(r, factor):
    mt = dl.datasets.load("mtcars")
    data = mt.assign(big=mt["wt"] * factor)
    fit = dl.dnn("mpg ~ big + hp", data, **GLM)
    theirs = np.array(r.r(f"d <- mtcars; d$big <- d$wt * {factor!r}; "
                          "coef(glm(mpg ~ big + hp, data = d))"))
    np.testing.assert_allclose(fit.coef().to_numpy(), theirs, rtol=1e-6)
    np.testing.assert_allclose(fit.predict(data), np.array(r.r("fitted(glm(mpg ~ big + hp, "
                                                               "data = d))")), rtol=1e-8)


def test_weighted_standardisation_of_a_huge_column_is_rs(r):
    mt = dl.datasets.load("mtcars")
    w = np.tile([1.0, 2.0, 0.5, 3.0], 8)
    fit = dl.dnn("mpg ~ big + hp", mt.assign(big=mt["wt"] * 1e200), weights=w, **GLM)
    r.globalenv["w"] = r.FloatVector(w)
    theirs = np.array(r.r("d <- mtcars; d$big <- d$wt * 1e200; "
                          "coef(glm(mpg ~ big + hp, data = d, weights = w))"))
    np.testing.assert_allclose(fit.coef().to_numpy(), theirs, rtol=1e-6)


@pytest.mark.parametrize("factor", [1e200, 1e-200])
def test_standard_errors_float64_cannot_hold_are_refused(factor, tmp_path):
    """R prints a standard error of 0 and t = -Inf for x * 1e200; dlstat refuses."""
    mt = dl.datasets.load("mtcars")
    fit = dl.dnn("mpg ~ big + hp", mt.assign(big=mt["wt"] * factor), **GLM)
    for call in (fit.vcov, fit.tidy, fit.confint, fit.summary):
        with pytest.raises(DataError, match="'big' is on a .* scale.*Rescale the column"):
            call()
    fit.save(str(tmp_path / "m.dlstat"))  # saved without a covariance, not refused
    assert dl.load(str(tmp_path / "m.dlstat")).coef().equals(fit.coef())


def test_standard_errors_within_range_are_rs(r):
    mt = dl.datasets.load("mtcars")
    fit = dl.dnn("mpg ~ big + hp", mt.assign(big=mt["wt"] * 1e100), **GLM)
    theirs = np.array(r.r("d <- mtcars; d$big <- d$wt * 1e100; "
                          "summary(glm(mpg ~ big + hp, data = d))$coefficients"))
    np.testing.assert_allclose(fit.tidy()[["estimate", "std.error"]].to_numpy(),
                               theirs[:, :2], rtol=1e-6)


def test_an_image_on_a_huge_scale_is_not_ignored():
    rng = np.random.default_rng(1)
    image = rng.normal(size=(80, 2, 2))
    y = image[:, 0, 0] - 2 * image[:, 1, 1] + 0.1 * rng.normal(size=80)
    plain = dl.dnn("y ~ image", {"y": y, "image": image}, **GLM)
    huge = dl.dnn("y ~ image", {"y": y, "image": image * 1e200}, **GLM)
    assert huge.dev_explained > 0.9
    np.testing.assert_allclose(huge.predict({"image": image * 1e200}),
                               plain.predict({"image": image}), rtol=1e-6)
    np.testing.assert_allclose(huge.coef().to_numpy()[1:] * 1e200,
                               plain.coef().to_numpy()[1:], rtol=1e-6, atol=1e-6)


def test_ordinary_columns_standardise_as_before_to_the_last_bit():
    from dlstat.formula.scaling import standardise_columns

    rng = np.random.default_rng(3)
    X = np.column_stack([rng.normal(5, 2, 500), rng.exponential(1e6, 500),
                         rng.normal(0, 1e-9, 500)])
    w = rng.uniform(0.5, 2, 500)
    for weights in (None, w):
        mean = X.mean(axis=0) if weights is None else weights @ X / weights.sum()
        centred = X - mean
        sd = np.sqrt((centred ** 2 if weights is None else weights[:, None] * centred ** 2)
                     .sum(axis=0) / (len(X) if weights is None else weights.sum()))
        got = X.copy()
        scaled = standardise_columns(got, weights)
        np.testing.assert_array_equal(scaled.center, mean)
        np.testing.assert_allclose(scaled.scale, sd, rtol=1e-14)
        np.testing.assert_allclose(got, centred / sd, rtol=1e-13)


def test_constancy_is_judged_on_the_columns_own_scale():
    from dlstat.formula.scaling import standardise_columns

    X = np.column_stack([np.full(6, 3.0), np.arange(6) * 1e-20, np.full(6, 1e200),
                         np.zeros(6)])
    assert standardise_columns(X.copy()).constant.tolist() == [True, False, True, True]
    frame = pd.DataFrame({"y": np.arange(6.0), "tiny": X[:, 1]})
    fit = dl.dnn("y ~ tiny", frame, **GLM)
    assert not any("constant" in n for n in fit.record.notes)
    np.testing.assert_allclose(fit.coef()["tiny"], 1e20, rtol=1e-6)
