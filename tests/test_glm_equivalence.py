"""A network without hidden layers, without penalty and fitted by L-BFGS is the GLM: fitted
means, deviance, null deviance and coefficients match statsmodels."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from conftest import r_spelling

import dlstat as dl

GLM = dict(hidden=(), penalty=0, optimizer="lbfgs")

# name: (dataset, dlstat formula, statsmodels formula, statsmodels family, dlstat family)
CASES = {
    "gaussian_mtcars": ("mtcars", "mpg ~ wt + hp + factor(cyl)", "mpg ~ wt + hp + C(cyl)",
                        sm.families.Gaussian(), None),
    "gaussian_interaction": ("mtcars", "mpg ~ wt * am + I(hp^2)", "mpg ~ wt * am + I(hp**2)",
                             sm.families.Gaussian(), "gaussian"),
    "binomial_mtcars": ("mtcars", "am ~ wt + hp", "am ~ wt + hp", sm.families.Binomial(), None),
    "binomial_infert": ("infert", "case ~ age + parity + education + spontaneous + induced",
                        "case ~ age + parity + education + spontaneous + induced",
                        sm.families.Binomial(), "binomial"),
    "poisson_insectsprays": ("InsectSprays", "count ~ spray", "count ~ spray",
                             sm.families.Poisson(), "poisson"),
    "poisson_warpbreaks": ("warpbreaks", "breaks ~ wool + tension", "breaks ~ wool + tension",
                           sm.families.Poisson(), "poisson"),
    "poisson_through_origin": ("mtcars", "carb ~ 0 + wt + hp", "carb ~ 0 + wt + hp",
                               sm.families.Poisson(), "poisson"),
    "binomial_through_origin": ("mtcars", "am ~ wt - 1", "am ~ wt - 1",
                                sm.families.Binomial(), "binomial"),
    "gaussian_through_origin": ("mtcars", "mpg ~ wt - 1", "mpg ~ wt - 1",
                                sm.families.Gaussian(), "gaussian"),
}


def _key(name: str) -> str:
    """One spelling for a coefficient name in dlstat (R's) and statsmodels (patsy's)."""
    return r_spelling(name)


@pytest.fixture(scope="module")
def fits():
    out = {}
    for name, (dataset, formula, sm_formula, sm_family, family) in CASES.items():
        data = dl.datasets.load(dataset)
        fit = dl.dnn(formula, data, family=family, **GLM)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = smf.glm(sm_formula, data, family=sm_family).fit()
        out[name] = (data, fit, ref)
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_fitted_means_match_statsmodels(fits, name):
    data, fit, ref = fits[name]
    mine = fit.predict(data)
    assert mine.index.equals(data.index)
    np.testing.assert_allclose(mine.to_numpy(), ref.fittedvalues.to_numpy(), rtol=1e-3,
                               atol=1e-8)
    # predict() without new data gives the same fitted values
    np.testing.assert_allclose(fit.fitted().to_numpy(), ref.fittedvalues.to_numpy(), rtol=1e-3,
                               atol=1e-8)


@pytest.mark.parametrize("name", list(CASES))
def test_link_scale_matches_statsmodels(fits, name):
    data, fit, ref = fits[name]
    eta = ref.predict(data, which="linear") if hasattr(ref, "predict") else None
    np.testing.assert_allclose(fit.predict(data, type="link").to_numpy(), np.asarray(eta),
                               rtol=1e-3, atol=1e-6)


def _null_deviance(ref) -> float:
    """statsmodels' null deviance, or R's without an intercept: the deviance at a zero linear
    predictor (R's glm, issue 9; statsmodels fits a constant even then)."""
    if "Intercept" in ref.params.index:
        return ref.null_deviance
    y = ref.model.endog
    return ref.family.deviance(y, ref.family.link.inverse(np.zeros(len(y))))


@pytest.mark.parametrize("name", list(CASES))
def test_deviance_and_null_deviance_match_statsmodels(fits, name):
    _, fit, ref = fits[name]
    np.testing.assert_allclose(fit.record.deviance, ref.deviance, rtol=1e-5)
    np.testing.assert_allclose(fit.record.null_deviance, _null_deviance(ref), rtol=1e-5)
    g = fit.glance().iloc[0]
    np.testing.assert_allclose(g["deviance"], ref.deviance, rtol=1e-5)
    np.testing.assert_allclose(g["null_deviance"], _null_deviance(ref), rtol=1e-5)
    assert g["nobs"] == ref.nobs


@pytest.mark.parametrize("name", list(CASES))
def test_coef_equals_statsmodels_params(fits, name):
    _, fit, ref = fits[name]
    coef = fit.coef()
    assert isinstance(coef, pd.Series)
    mine = {_key(k): v for k, v in coef.items()}
    theirs = {_key(k): v for k, v in ref.params.items()}
    assert set(mine) == set(theirs), (list(coef.index), list(ref.params.index))
    keys = sorted(theirs)
    np.testing.assert_allclose([mine[k] for k in keys], [theirs[k] for k in keys], rtol=1e-3,
                               atol=1e-6)


def test_tidy_of_a_glm_is_its_coefficients(fits):
    _, fit, ref = fits["gaussian_mtcars"]
    t = fit.tidy()
    assert list(t.columns) == ["term", "estimate", "std.error", "statistic", "p.value",
                               "conf.low", "conf.high"]
    assert len(t) == len(ref.params)
    np.testing.assert_allclose(t["estimate"].to_numpy(), fit.coef().to_numpy())


# --------------------------------------------------------------------------------------------
# multinomial: statsmodels' MNLogit
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def iris():
    return dl.datasets.load("iris")


def _mnlogit(iris, columns):
    X = sm.add_constant(iris[columns])
    y = iris["Species"].cat.codes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sm.MNLogit(y, X).fit(disp=0, method="newton", maxiter=100), X


@pytest.fixture(scope="module")
def multinomial(iris):
    fit = dl.dnn("Species ~ Sepal.Length + Sepal.Width", iris, **GLM)
    ref, X = _mnlogit(iris, ["Sepal.Length", "Sepal.Width"])
    return fit, ref, X


def test_multinomial_probabilities_match_mnlogit(iris, multinomial):
    fit, ref, X = multinomial
    assert fit.family.name == "multinomial"
    probs = fit.predict(iris, type="prob")
    assert list(probs.columns) == ["setosa", "versicolor", "virginica"]
    # setosa is (almost) separable on the sepal measures, so some probabilities are tiny: the
    # comparison is relative with a small absolute floor.
    np.testing.assert_allclose(probs.to_numpy(), np.asarray(ref.predict(X)), rtol=1e-3,
                               atol=1e-6)
    np.testing.assert_allclose(fit.predict(iris).to_numpy(), probs.to_numpy())


def test_multinomial_deviance_matches_mnlogit(multinomial):
    fit, ref, _ = multinomial
    np.testing.assert_allclose(fit.record.deviance, -2 * ref.llf, rtol=1e-5)
    np.testing.assert_allclose(fit.record.null_deviance, -2 * ref.llnull, rtol=1e-5)


def test_multinomial_coefficients_match_mnlogit_contrasts(iris):
    """Against the reference level (as MNLogit and nnet::multinom report them).  The sepal
    width alone leaves the classes overlapping, so the coefficients are finite."""
    fit = dl.dnn("Species ~ Sepal.Width", iris, **GLM)
    ref, X = _mnlogit(iris, ["Sepal.Width"])
    coef = fit.coef()
    assert list(coef.columns) == ["setosa", "versicolor", "virginica"]
    assert list(coef.index) == ["(Intercept)", "Sepal.Width"]
    for j, level in enumerate(["versicolor", "virginica"]):
        np.testing.assert_allclose((coef[level] - coef["setosa"]).to_numpy(),
                                   ref.params.iloc[:, j].to_numpy(), rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(fit.predict(iris, type="prob").to_numpy(),
                               np.asarray(ref.predict(X)), rtol=1e-3, atol=1e-8)
    np.testing.assert_allclose(fit.record.deviance, -2 * ref.llf, rtol=1e-6)


# --------------------------------------------------------------------------------------------
# penalties on glmnet's scale: inputs standardised, lambda divided by sd(y) for gaussian
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mtcars_std():
    mt = dl.datasets.load("mtcars")
    cols = ["wt", "hp", "disp", "drat", "qsec"]
    X = mt[cols].to_numpy()
    y = mt["mpg"].to_numpy()
    Xs = (X - X.mean(0)) / X.std(0)  # glmnet standardises with the 1/n variance
    return mt, Xs, y


def test_ridge_glm_matches_closed_form(mtcars_std):
    mt, Xs, y = mtcars_std
    lam, n, sy = 0.3, len(y), y.std()
    fit = dl.dnn("mpg ~ wt + hp + disp + drat + qsec", mt, hidden=(), optimizer="lbfgs",
                 penalty=lam, mixture=0)
    # glmnet fits gaussian models on y / sd(y) with lambda / sd(y):
    # minimise mean((ys - Xs w)^2) / 2 + (lambda / sd(y)) / 2 * |w|^2.
    w = np.linalg.solve(Xs.T @ Xs / n + lam / sy * np.eye(Xs.shape[1]),
                        Xs.T @ ((y - y.mean()) / sy) / n)
    np.testing.assert_allclose(fit.params["output/kernel"][0][:, 0], w, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(fit.predict(mt).to_numpy(), (Xs @ w) * sy + y.mean(), rtol=1e-6)


def test_lasso_glm_matches_scikit_learn(mtcars_std):
    """With mixture=1 the objective is glmnet's: RSS / (2n) + lambda * |beta|_1 on standardised
    inputs, which is scikit-learn's Lasso(alpha=lambda) on the same inputs."""
    from sklearn.linear_model import Lasso

    mt, Xs, y = mtcars_std
    lam = 0.5
    fit = dl.dnn("mpg ~ wt + hp + disp + drat + qsec", mt, hidden=(), optimizer="lbfgs",
                 penalty=lam, mixture=1)
    ref = Lasso(alpha=lam, tol=1e-12, max_iter=100000).fit(Xs, y)
    beta = fit.params["output/kernel"][0][:, 0] * fit.family.y_scale[0]
    np.testing.assert_allclose(beta, ref.coef_, rtol=1e-4, atol=1e-6)
    assert ((beta == 0) == (ref.coef_ == 0)).all()  # exact zeros where the lasso has them
    assert (ref.coef_ == 0).any()
    np.testing.assert_allclose(fit.predict(mt).to_numpy(), ref.predict(Xs), rtol=1e-5)


# --------------------------------------------------------------------------------------------
# several responses, intercept-only models, the training loss
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cbind_fit():
    mt = dl.datasets.load("mtcars")
    return mt, dl.dnn("cbind(qsec, mpg) ~ wt + hp", mt, **GLM)


def test_cbind_glm_is_one_least_squares_fit_per_response(cbind_fit):
    mt, fit = cbind_fit
    p = fit.predict(mt)
    assert list(p.columns) == ["qsec", "mpg"] and p.index.equals(mt.index)
    ssr = 0.0
    for col in ("qsec", "mpg"):
        ref = smf.ols(f"{col} ~ wt + hp", mt).fit()
        np.testing.assert_allclose(p[col], ref.fittedvalues, rtol=1e-6)
        np.testing.assert_allclose(fit.coef()[col].loc[list(ref.params.index.str.replace(
            "Intercept", "(Intercept)"))].to_numpy(), ref.params.to_numpy(), rtol=1e-5)
        ssr += ref.ssr
    np.testing.assert_allclose(fit.record.deviance, ssr, rtol=1e-6)


def test_cbind_coef_keeps_the_order_of_terms_and_responses(cbind_fit):
    _, fit = cbind_fit
    coef = fit.coef()
    assert list(coef.columns) == ["qsec", "mpg"]  # as in cbind(), like R's coef() of an mlm
    assert list(coef.index) == ["(Intercept)", "wt", "hp"]  # as in the formula


def test_intercept_only_glm_is_the_mean():
    mt = dl.datasets.load("mtcars")
    fit = dl.dnn("mpg ~ 1", mt, **GLM)
    np.testing.assert_allclose(fit.predict(mt), mt["mpg"].mean(), rtol=1e-9)
    np.testing.assert_allclose(fit.coef()["(Intercept)"], mt["mpg"].mean(), rtol=1e-9)
    np.testing.assert_allclose(fit.record.deviance, fit.record.null_deviance, rtol=1e-9)


def test_training_loss_is_half_the_mean_deviance(fits):
    _, fit, ref = fits["binomial_infert"]
    np.testing.assert_allclose(fit.history["loss"].iloc[-1], ref.deviance / (2 * ref.nobs),
                               rtol=1e-6)
    assert (np.diff(fit.history["loss"].to_numpy()) <= 1e-12).all()  # L-BFGS never goes up
