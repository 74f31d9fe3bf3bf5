"""The negative binomial (θ by maximum likelihood as MASS::glm.nb, or fixed as
glm(family = negative.binomial(θ))) against R, and the Tweedie family against statsmodels: at
hidden=() every number equals the reference; with hidden layers each family trains, saves and
loads, and goes through cv_dnn, compare, dnn_path and the bootstrap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_family_table import GLM, TYPES, assert_glm_matches, frame_of, r_vector

import dlstat as dl

QUINE = "Days ~ Eth + Sex + Age + Lrn"
NET = dict(hidden=(8,), epochs=30, seed=1, verbose=0)


@pytest.fixture(scope="module")
def r():
    from conftest import require

    require("rpy2")
    import rpy2.robjects as ro

    ro.r("suppressMessages(library(MASS))")
    ro.r("ctl <- glm.control(epsilon = 1e-14, maxit = 100)")
    return ro


@pytest.fixture(scope="module")
def quine(r):
    return frame_of(r, "quine")


def assert_theta_matches(r, fit, rtol=1e-6):
    """θ, its standard error and 2 × log-likelihood, as glm.nb's ``g_``."""
    g = fit.glance()
    np.testing.assert_allclose(g["theta"].iloc[0], r_vector(r, "g_$theta")[0], rtol=rtol)
    np.testing.assert_allclose(g["SE.theta"].iloc[0], r_vector(r, "g_$SE.theta")[0],
                               rtol=10 * rtol)
    np.testing.assert_allclose(g["twologlik"].iloc[0], r_vector(r, "g_$twologlik")[0],
                               rtol=rtol)
    assert fit.family.label == str(r.r("g_$family$family")[0])


def test_negative_binomial_equals_glm_nb(r, quine):
    fit = dl.dnn(QUINE, quine, family="negative_binomial", **GLM)
    assert_glm_matches(r, fit, f"glm.nb({QUINE}, data = quine, control = ctl)")
    assert_theta_matches(r, fit)
    lines = fit.summary().tables["tests"].to_string()
    assert "Negative Binomial(1.2749)" in lines and "1.2749" in lines


@pytest.mark.parametrize("link", ["sqrt", "identity"])
def test_negative_binomial_links_equal_glm_nb(r, quine, link):
    formula = "Days ~ Sex + Lrn"
    fit = dl.dnn(formula, quine, family="negative_binomial", link=link, **GLM)
    assert_glm_matches(r, fit, f'glm.nb({formula}, data = quine, link = "{link}", '
                               "control = ctl)", rtol=1e-5)
    assert_theta_matches(r, fit, rtol=1e-5)


def test_fixed_theta_equals_glm_negative_binomial(r, quine):
    """With θ known the negative binomial's dispersion is 1 (as summary.negbin; R's
    summary.glm would estimate one for this family object): z tests."""
    fit = dl.dnn(QUINE, quine, family="negative_binomial", theta=2, **GLM)
    assert_glm_matches(r, fit, f"glm({QUINE}, family = negative.binomial(2), data = quine, "
                               "control = ctl)", summary_args=", dispersion = 1")
    g = fit.glance()
    assert g["theta"].iloc[0] == 2 and "SE.theta" not in g
    assert fit.family.label == "Negative Binomial(2)"


def test_negative_binomial_with_weights_and_an_offset_equals_glm_nb(r, quine):
    data = quine.assign(w=np.resize([1.0, 2.0, 0.5, 3.0], len(quine)),
                        exposure=1 + (np.arange(1, len(quine) + 1) % 5) / 4)
    r.r.assign("qw_", r.r("quine"))
    r.r.assign("w_", r.FloatVector(data["w"]))
    r.r.assign("e_", r.FloatVector(data["exposure"]))
    r.r("qw_$w <- w_; qw_$exposure <- e_")
    formula = "Days ~ Eth + Sex + Age + Lrn + offset(log(exposure))"
    fit = dl.dnn(formula, data, family="negative_binomial", weights="w", **GLM)
    assert_glm_matches(r, fit, f"glm.nb({formula}, data = qw_, weights = w, control = ctl)",
                       rtol=1e-5)
    assert_theta_matches(r, fit, rtol=1e-5)


def test_a_parameter_with_the_wrong_family_is_refused(quine):
    with pytest.raises(dl.errors.OptionError, match="theta=2 is a parameter of family "
                                                    "'negative_binomial'; family='poisson'"):
        dl.dnn(QUINE, quine, family="poisson", theta=2, **GLM)
    with pytest.raises(dl.errors.OptionError, match="var_power=1.5 is a parameter of family "
                                                    "'tweedie'"):
        dl.dnn(QUINE, quine, family="negative_binomial", var_power=1.5, **GLM)
    with pytest.raises(dl.errors.OptionError, match="family='tweedie' needs var_power="):
        dl.dnn(QUINE, quine, family="tweedie", **GLM)
    with pytest.raises(dl.errors.OptionError, match="var_power must be > 1 and < 2"):
        dl.dnn(QUINE, quine, family="tweedie", var_power=2.5, **GLM)
    with pytest.raises(dl.errors.OptionError, match="theta must be > 0"):
        dl.dnn(QUINE, quine, family="negative_binomial", theta=0, **GLM)


# -- Tweedie against statsmodels ------------------------------------------------------------
def compound_poisson_gamma(n=400, p=1.5, phi=2.0, seed=3) -> pd.DataFrame:
    """Tweedie responses with mean exp(0.5 + 0.4 x1 − 0.3 x2) and dispersion phi: a Poisson
    number of gamma amounts (exact zeros where the count is 0)."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.uniform(-1, 1, size=n)
    group = rng.choice(["a", "b", "c"], size=n)
    mu = np.exp(0.5 + 0.4 * x1 - 0.3 * x2 + 0.2 * (group == "b"))
    counts = rng.poisson(mu ** (2 - p) / (phi * (2 - p)))
    shape, scale = (2 - p) / (p - 1), phi * (p - 1) * mu ** (p - 1)
    y = np.array([rng.gamma(shape, s, size=k).sum() for k, s in zip(counts, scale)])
    return pd.DataFrame({"y": y, "x1": x1, "x2": x2, "g": group})


def test_tweedie_equals_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    data = compound_poisson_gamma()
    assert (data["y"] == 0).sum() > 20  # a compound Poisson–gamma response: exact zeros
    fit = dl.dnn("y ~ x1 + x2 + g", data, family="tweedie", var_power=1.5, **GLM)
    X = sm.add_constant(pd.get_dummies(data[["x1", "x2", "g"]], drop_first=True, dtype=float))
    ref = sm.GLM(data["y"], X, family=sm.families.Tweedie(
        var_power=1.5, link=sm.families.links.Log())).fit(scale="X2", tol=1e-14)
    np.testing.assert_allclose(fit.coef().to_numpy(), ref.params.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(fit.tidy()["std.error"], ref.bse.to_numpy(), rtol=1e-5)
    g = fit.glance()
    np.testing.assert_allclose(g["deviance"].iloc[0], ref.deviance, rtol=1e-6)
    np.testing.assert_allclose(g["null_deviance"].iloc[0], ref.null_deviance, rtol=1e-6)
    assert np.isnan(g["AIC"].iloc[0]) and g["var_power"].iloc[0] == 1.5
    from dlstat.results.inference import dispersion

    np.testing.assert_allclose(dispersion(fit), ref.scale, rtol=1e-5)
    for kind, values in zip(TYPES, (ref.resid_deviance, ref.resid_pearson, ref.resid_working,
                                    ref.resid_response)):
        np.testing.assert_allclose(fit.residuals(kind).to_numpy(), values, rtol=1e-5,
                                   atol=1e-7, err_msg=kind)
    assert "t value" in fit.summary().tables["coefficients"].columns


# -- networks with hidden layers --------------------------------------------------------------
@pytest.mark.parametrize("family,extra", [("negative_binomial", {}),
                                          ("negative_binomial", {"theta": 1.5}),
                                          ("tweedie", {"var_power": 1.5})])
def test_a_network_trains_with_the_family_and_round_trips(tmp_path, quine, family, extra):
    data = quine if family == "negative_binomial" else compound_poisson_gamma()
    formula = QUINE if family == "negative_binomial" else "y ~ x1 + x2 + g"
    fit = dl.dnn(formula, data, family=family, optimizer="adam", learning_rate=0.01, **NET,
                 **extra)
    g = fit.glance()
    assert np.isfinite(g["deviance"].iloc[0]) and g["deviance"].iloc[0] < \
        g["null_deviance"].iloc[0]
    name = fit.family.kind.parameter.name
    assert g[name].iloc[0] == extra.get(name, g[name].iloc[0]) > 0
    path = tmp_path / "model.dlstat"
    fit.save(path)
    loaded = dl.load(path)
    assert loaded.family.parameter == fit.family.parameter
    assert loaded.family.estimates_parameter == fit.family.estimates_parameter
    np.testing.assert_allclose(loaded.predict(data), fit.predict(data), rtol=1e-6)


def test_each_fold_and_replicate_estimates_its_own_theta(quine):
    cv = dl.cv_dnn(QUINE, quine, family="negative_binomial", folds=3, **NET)
    thetas = {f.family.parameter for f in cv.fits}
    assert len(thetas) == 3 and all(np.isfinite(t) and t > 0 for t in thetas)
    assert np.isfinite(cv.metrics["mean_deviance"]).all()
    fit = dl.dnn(QUINE, quine, family="negative_binomial", bootstrap=3, **NET)
    replicate_thetas = [f.family.parameter for f in fit.bootstrap.fits]
    assert len(set(replicate_thetas + [fit.family.parameter])) == 4


def test_compare_and_a_path_run_with_the_new_families(quine):
    comp = dl.compare(QUINE, quine, family="negative_binomial", folds=3, **NET)
    assert set(comp.folds["model"]) == {"null", "glm", "dnn"}
    assert np.isfinite(comp.folds["mean_deviance"]).all()
    data = compound_poisson_gamma(n=200)
    path = dl.dnn_path("y ~ x1 + x2 + g", data, family="tweedie", var_power=1.5, folds=3,
                       n_penalties=3, hidden=(), optimizer="lbfgs", verbose=0)
    assert np.isfinite(path.table["cv_mean"]).all()


def test_estimator_takes_the_family_parameters(quine):
    from dlstat.fronts.estimators import DNNRegressor

    data = compound_poisson_gamma(n=200)
    model = DNNRegressor("y ~ x1 + x2", family="tweedie", var_power=1.5, hidden=(),
                         optimizer="lbfgs", verbose=0).fit(data)
    assert model.model_.family.parameter == 1.5
    model = DNNRegressor(QUINE, family="negative_binomial", theta=2.0, hidden=(),
                         optimizer="lbfgs", verbose=0).fit(quine)
    assert model.model_.family.parameter == 2.0
