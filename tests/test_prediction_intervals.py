"""Prediction intervals and sets (predict(interval="prediction"), type="set"): R's
predict.lm for a gaussian GLM; split conformal, jackknife+-after-bootstrap and CV+ against
hand computations and against their coverage on simulated data with a known truth."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import dlstat as dl
from dlstat.errors import DataError, OptionError
from dlstat.results.conformal import Calibration, lower_rank, order_statistic, upper_rank

GLM = dict(hidden=(), penalty=0, optimizer="lbfgs", verbose=0)
NET = dict(hidden=(8,), epochs=30, verbose=0)


@pytest.fixture(scope="module")
def r():
    from conftest import require

    require("rpy2")
    import rpy2.robjects as ro

    return ro


def _to_r(ro, frame: pd.DataFrame, name: str) -> None:
    from rpy2.robjects import pandas2ri
    from rpy2.robjects.conversion import localconverter

    with localconverter(ro.default_converter + pandas2ri.converter):
        ro.globalenv[name] = ro.conversion.py2rpy(frame.reset_index(drop=True))


# -- the linear model: R's predict.lm ------------------------------------------------------

@pytest.fixture(scope="module")
def cars():
    mt = dl.datasets.load("mtcars").copy()
    mt["w"] = np.linspace(0.5, 2.0, len(mt))
    mt["wt2"] = 2 * mt["wt"]  # aliased with wt: R's NA coefficient
    return mt


def test_gaussian_glm_interval_is_predict_lm(r, cars):
    _to_r(r, cars, "cars")
    new = cars.iloc[::3]
    fit = dl.dnn("mpg ~ wt + hp + factor(cyl)", cars, **GLM)
    got = fit.predict(new, interval="prediction", level=0.9)
    ref = np.array(r.r("predict(lm(mpg ~ wt + hp + factor(cyl), data = cars), "
                       "cars[seq(1, 32, by = 3), ], interval = 'prediction', level = 0.9)"))
    np.testing.assert_allclose(got.to_numpy(), ref, rtol=1e-8)
    assert list(got.columns) == ["fit", "lwr", "upr"] and "predict.lm" in got.attrs["method"]


def test_weighted_glm_interval_is_predict_lm(r, cars):
    _to_r(r, cars, "cars")
    new = cars.iloc[::4]
    fit = dl.dnn("mpg ~ wt + hp", cars, weights="w", **GLM)
    r.r("g <- lm(mpg ~ wt + hp, data = cars, weights = w); nd <- cars[seq(1, 32, by = 4), ]")
    with_weights = fit.predict(new, interval="prediction", weights="w")
    ref = np.array(r.r("predict(g, nd, interval = 'prediction', weights = nd$w)"))
    np.testing.assert_allclose(with_weights.to_numpy(), ref, rtol=1e-8)
    numbers = fit.predict(new, interval="prediction", weights=new["w"].to_numpy())
    np.testing.assert_allclose(numbers.to_numpy(), ref, rtol=1e-8)
    with pytest.warns(UserWarning, match="Assuming constant prediction variance"):
        constant = fit.predict(new, interval="prediction")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_constant = np.array(r.r("predict(g, nd, interval = 'prediction')"))
        ref_current = np.array(r.r("predict(g, interval = 'prediction')"))
    np.testing.assert_allclose(constant.to_numpy(), ref_constant, rtol=1e-8)
    with pytest.warns(UserWarning, match="inversely proportional to weights"):
        current = fit.predict(interval="prediction")
    np.testing.assert_allclose(current.to_numpy(), ref_current, rtol=1e-8)


def test_aliased_glm_interval_is_predict_lm(r, cars):
    _to_r(r, cars, "cars")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = dl.dnn("mpg ~ wt + wt2 + hp", cars, **GLM)
    with pytest.warns(UserWarning, match="rank-deficient fit may be misleading"):
        got = fit.predict(cars.head(6), interval="prediction", level=0.8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = np.array(r.r("predict(lm(mpg ~ wt + wt2 + hp, data = cars), cars[1:6, ], "
                           "interval = 'prediction', level = 0.8)"))
    assert fit.record.aliased  # wt2 left out, as R's NA coefficient
    np.testing.assert_allclose(got.to_numpy(), ref, rtol=1e-8)


def test_prediction_interval_refusals(cars):
    fit = dl.dnn("mpg ~ wt + hp", cars, **GLM)
    with pytest.raises(OptionError, match="type='response'"):
        fit.predict(cars, interval="prediction", type="link")
    with pytest.raises(OptionError, match="binomial or multinomial"):
        fit.predict(cars, type="set")
    with pytest.raises(OptionError, match="method=.*split.*not available.*validation"):
        fit.predict(cars, interval="prediction", method="split")
    with pytest.raises(OptionError, match="method must be one of"):
        fit.predict(cars, interval="prediction", method="jackknife")
    with pytest.raises(DataError, match="one number per row"):
        fit.predict(cars, interval="prediction", weights=[1.0, 2.0])
    with pytest.raises(DataError, match="non-negative"):
        fit.predict(cars, interval="prediction", weights=-np.ones(len(cars)))
    with pytest.raises(OptionError, match="belong to interval='prediction'"):
        fit.predict(cars, weights="w")
    poisson = dl.dnn("carb ~ wt", cars, family="poisson", **GLM)
    with pytest.raises(OptionError, match="no exact prediction interval.*validation=0.2"):
        poisson.predict(cars, interval="prediction")
    logit = dl.dnn("am ~ wt", cars, **GLM)
    with pytest.raises(OptionError, match="type='set'"):
        logit.predict(cars, interval="prediction")
    with pytest.raises(OptionError, match="does not go with it"):
        logit.predict(cars, type="set", interval="confidence")
    with pytest.raises(OptionError, match="nothing to calibrate.*bootstrap=50"):
        logit.predict(cars, type="set")


# -- the conformal construction ------------------------------------------------------------

def test_ranks_and_split_quantile():
    assert upper_rank(399, 0.1) == 360 and upper_rank(400, 0.1) == 361  # ⌈(1−α)(n+1)⌉
    assert lower_rank(399, 0.1) == 40 and lower_rank(8, 0.1) == 0
    scores = np.arange(1.0, 11.0)[::-1]  # 10 scores
    assert order_statistic(scores, 9) == 9.0 and order_statistic(scores, 11) == np.inf
    cal = Calibration("split", scores)
    lower, upper = cal.interval(np.array([[0.0, 5.0]]), lambda c: np.ones_like(c), 0.2)
    # n = 10, α = 0.2: the ⌈0.8 · 11⌉ = 9th smallest score
    np.testing.assert_array_equal(upper, [9.0, 14.0])
    np.testing.assert_array_equal(lower, [-9.0, -4.0])
    # too few rows for the level: an infinite interval, as the finite-sample rank says
    lower, upper = cal.interval(np.array([[0.0]]), lambda c: np.ones_like(c), 0.05)
    assert lower[0] == -np.inf and upper[0] == np.inf
    # one member shared by every row is split conformal: the "plus" path gives the same
    shared = Calibration("split", scores, np.ones((10, 1)))
    np.testing.assert_allclose(shared.interval(np.array([[0.0, 5.0]]),
                                               lambda c: np.ones_like(c), 0.2),
                               ([-9.0, -4.0], [9.0, 14.0]))


def _simulate(n: int, rng: np.random.Generator) -> pd.DataFrame:
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "y": 2 * np.sin(x1) + x2 + rng.normal(size=n)})


def test_jackknife_plus_after_bootstrap_by_hand():
    rng = np.random.default_rng(3)
    train, new = _simulate(60, rng), _simulate(5, rng)
    fit = dl.dnn("y ~ x1 + x2", train, bootstrap=8, seed=2, **NET)
    got = fit.predict(new, interval="prediction", level=0.8)
    boot = fit.bootstrap
    y = train["y"].to_numpy()
    train_preds = np.stack([b.predict(train).to_numpy() for b in boot.fits])  # [B, n]
    new_preds = np.stack([b.predict(new).to_numpy() for b in boot.fits])  # [B, m]
    lows, highs = [], []
    for i in range(len(train)):
        oob = [b for b in range(boot.size) if boot.counts[b, i] == 0]
        if not oob:
            continue
        residual = abs(y[i] - train_preds[oob, i].mean())
        centre = new_preds[oob].mean(axis=0)
        lows.append(centre - residual)
        highs.append(centre + residual)
    lows, highs = np.array(lows), np.array(highs)
    n = len(lows)
    k_up, k_low = math.ceil(0.8 * (n + 1) - 1e-9), math.floor(0.2 * (n + 1) + 1e-9)
    np.testing.assert_allclose(got["upr"], np.sort(highs, axis=0)[k_up - 1], rtol=1e-10)
    np.testing.assert_allclose(got["lwr"], np.sort(lows, axis=0)[k_low - 1], rtol=1e-10)
    np.testing.assert_allclose(got["fit"], fit.predict(new), rtol=1e-12)
    assert "jackknife+-after-bootstrap" in got.attrs["method"]


def test_cv_plus_by_hand():
    rng = np.random.default_rng(4)
    train, new = _simulate(50, rng), _simulate(4, rng)
    cv = dl.cv_dnn("y ~ x1 + x2", train, folds=5, seed=1, **NET)
    got = cv.predict(new, interval="prediction", level=0.8)
    folds = cv.fold_ids.to_numpy()
    residual = np.abs(train["y"].to_numpy() - cv.predictions.to_numpy())
    preds = np.stack([f.predict(new).to_numpy() for f in cv.fits])  # [k, m]
    lows = preds[folds] - residual[:, None]
    highs = preds[folds] + residual[:, None]
    n = len(train)
    np.testing.assert_allclose(got["upr"], np.sort(highs, axis=0)[math.ceil(0.8 * 51) - 1])
    np.testing.assert_allclose(got["lwr"], np.sort(lows, axis=0)[math.floor(0.2 * (n + 1)) - 1])
    np.testing.assert_allclose(got["fit"], preds.mean(axis=0))
    assert "CV+" in got.attrs["method"]


def test_split_conformal_by_hand():
    rng = np.random.default_rng(5)
    train, new = _simulate(80, rng), _simulate(3, rng)
    fit = dl.dnn("y ~ x1 + x2", train, validation=0.25, seed=1, **NET)
    got = fit.predict(new, interval="prediction", level=0.9)
    held = fit.held_rows["validation"]
    scores = np.sort(np.abs(held.y[:, 0] - fit.family.mean(fit.link_of(held.X))[:, 0]))
    q = scores[math.ceil(0.9 * (len(scores) + 1)) - 1]
    np.testing.assert_allclose(got["upr"] - got["fit"], q)
    np.testing.assert_allclose(got["fit"] - got["lwr"], q)
    assert "split conformal on the 20 validation rows" in got.attrs["method"]


# -- coverage on simulated data with a known truth ------------------------------------------
# 4 data sets of n = 400 with 2,000 test rows each: the binomial SE of a pooled coverage
# estimate is √(0.9 · 0.1 / 8000) ≈ 0.34 points; split conformal's coverage also varies with
# its 100 calibration rows (sd ≈ √(0.09/100) = 3 points per data set, 1.5 over four), so the
# ±5 points asserted are > 3 SE.  benchmarks/bench_conformal.py runs the full study.
REPEATS, LEVEL = 4, 0.9


@pytest.fixture(scope="module")
def coverage():
    found = {"split": [], "jackknife+ab": []}
    for rep in range(REPEATS):
        rng = np.random.default_rng(100 + rep)
        train, test = _simulate(400, rng), _simulate(2000, rng)
        for method, extra in (("split", dict(validation=0.25)),
                              ("jackknife+ab", dict(bootstrap=20))):
            fit = dl.dnn("y ~ x1 + x2", train, seed=rep, **extra, **NET)
            p = fit.predict(test, interval="prediction", level=LEVEL)
            found[method].append(((test["y"] >= p["lwr"]) & (test["y"] <= p["upr"])).mean())
    return {m: float(np.mean(v)) for m, v in found.items()}


def test_split_conformal_covers(coverage):
    assert abs(coverage["split"] - LEVEL) < 0.05, coverage


def test_jackknife_plus_after_bootstrap_covers(coverage):
    # the guarantee is 1 − 2α; in practice it is near 1 − α
    assert coverage["jackknife+ab"] >= 1 - 2 * (1 - LEVEL) - 0.02, coverage
    assert abs(coverage["jackknife+ab"] - LEVEL) < 0.05, coverage


def _three_classes(n: int, rng: np.random.Generator) -> pd.DataFrame:
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    eta = np.column_stack([np.zeros(n), 1.5 * x1, x2 - x1])
    p = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(3, p=row) for row in p])
    return pd.DataFrame({"x1": x1, "x2": x2,
                         "y": pd.Categorical(np.array(["a", "b", "c"])[y])})


def test_conformal_sets_cover_the_true_class():
    covered = []
    for rep in range(2):
        rng = np.random.default_rng(200 + rep)
        train, test = _three_classes(400, rng), _three_classes(2000, rng)
        fit = dl.dnn("y ~ x1 + x2", train, validation=0.25, seed=rep, **NET)
        sets = fit.predict(test, type="set", level=LEVEL)
        assert list(sets.columns) == ["a", "b", "c"] and "LAC" in sets.attrs["method"]
        truth = test["y"].cat.codes.to_numpy()
        covered.append(sets.to_numpy(dtype=bool)[np.arange(len(test)), truth].mean())
    # 4,000 test rows: binomial SE 0.5 points; calibration on 100 rows adds ≈ 2 points
    assert np.mean(covered) >= LEVEL - 0.05, covered


def test_summary_reports_coverage_on_test_rows():
    rng = np.random.default_rng(7)
    train, test = _simulate(200, rng), _simulate(300, rng)
    fit = dl.dnn("y ~ x1 + x2", train, test=test, **GLM)
    s = fit.summary()
    table = s.tables["prediction"]["value"]
    p = fit.predict(test, interval="prediction", level=0.95)
    hand = ((test["y"] >= p["lwr"]) & (test["y"] <= p["upr"])).mean()
    assert table["Coverage"] == pytest.approx(hand)
    assert table["Test rows"] == 300
    assert any("predict.lm" in n for n in s.notes)
    cv = dl.cv_dnn("y ~ x1 + x2", train, folds=4, test=test, **GLM)
    cv_table = cv.summary().tables["prediction"]["value"]
    p = cv.predict(test, interval="prediction")
    assert cv_table["Coverage"] == pytest.approx(
        ((test["y"] >= p["lwr"]) & (test["y"] <= p["upr"])).mean())


def test_cv_plus_needs_one_repeat_and_newdata():
    rng = np.random.default_rng(8)
    train = _simulate(40, rng)
    cv = dl.cv_dnn("y ~ x1 + x2", train, folds=4, repeats=2, **GLM)
    with pytest.raises(OptionError, match="one partition"):
        cv.predict(train, interval="prediction")
    with pytest.raises(DataError, match="pass newdata"):
        cv.predict(None, interval="prediction")
