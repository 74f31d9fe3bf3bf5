"""GLM inference at ``hidden=()``: standard errors, tests, intervals, log-likelihood, AIC/BIC,
analysis of deviance and prediction intervals, against statsmodels and R's ``glm``."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from conftest import r_spelling

import dlstat as dl
from dlstat.errors import OptionError

GLM = dict(hidden=(), penalty=0, optimizer="lbfgs")
RTOL = 1e-4

# name: (dataset, dlstat formula, statsmodels formula, statsmodels family); dlstat's family is
# statsmodels' (a count response would otherwise be taken as gaussian)
CASES = {
    "gaussian_mtcars": ("mtcars", "mpg ~ wt + hp + factor(cyl)", "mpg ~ wt + hp + C(cyl)",
                        sm.families.Gaussian()),
    "binomial_mtcars": ("mtcars", "am ~ wt + hp", "am ~ wt + hp", sm.families.Binomial()),
    "poisson_warpbreaks": ("warpbreaks", "breaks ~ wool + tension", "breaks ~ wool + tension",
                           sm.families.Poisson()),
    "poisson_insectsprays": ("InsectSprays", "count ~ spray", "count ~ spray",
                             sm.families.Poisson()),
}


def _key(name: str) -> str:
    """One spelling for a coefficient name in dlstat (R's) and statsmodels (patsy's)."""
    return r_spelling(name)


def _in_order_of(fit, ref):
    """statsmodels' results reordered to dlstat's coefficient order (patsy puts factors
    first)."""
    mine = [_key(t) for t in fit.coef().index]
    theirs = [_key(t) for t in ref.params.index]
    return [theirs.index(k) for k in mine]


def _quiet(make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make()


@pytest.fixture(scope="module")
def fits():
    out = {}
    for name, (dataset, formula, sm_formula, family) in CASES.items():
        data = dl.datasets.load(dataset)
        fit = dl.dnn(formula, data, family=type(family).__name__.lower(), **GLM)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = smf.glm(sm_formula, data, family=family).fit(
                use_t=isinstance(family, sm.families.Gaussian))
        out[name] = (data, fit, ref)
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_tidy_matches_statsmodels(fits, name):
    _, fit, ref = fits[name]
    order = _in_order_of(fit, ref)
    t = fit.tidy()
    assert list(t.columns) == ["term", "estimate", "std.error", "statistic", "p.value",
                               "conf.low", "conf.high"]
    np.testing.assert_allclose(t["estimate"], ref.params.iloc[order], rtol=RTOL)
    np.testing.assert_allclose(t["std.error"], ref.bse.iloc[order], rtol=RTOL)
    np.testing.assert_allclose(t["statistic"], ref.tvalues.iloc[order], rtol=RTOL)
    np.testing.assert_allclose(t["p.value"], ref.pvalues.iloc[order], rtol=RTOL)
    ci = ref.conf_int().iloc[order]
    np.testing.assert_allclose(t["conf.low"], ci[0], rtol=RTOL)
    np.testing.assert_allclose(t["conf.high"], ci[1], rtol=RTOL)


@pytest.mark.parametrize("name", list(CASES))
def test_vcov_and_confint_match_statsmodels(fits, name):
    _, fit, ref = fits[name]
    order = _in_order_of(fit, ref)
    np.testing.assert_allclose(fit.vcov().to_numpy(),
                               ref.cov_params().to_numpy()[np.ix_(order, order)], rtol=RTOL,
                               atol=1e-12)
    assert list(fit.vcov().index) == list(fit.coef().index)
    ci = fit.confint(level=0.9)
    assert list(ci.columns) == ["5 %", "95 %"]
    np.testing.assert_allclose(ci.to_numpy(), ref.conf_int(alpha=0.1).to_numpy()[order],
                               rtol=RTOL)
    wide = fit.tidy(conf_level=0.9)
    np.testing.assert_allclose(wide["conf.low"], ci["5 %"], rtol=1e-12)


@pytest.mark.parametrize("name", list(CASES))
def test_loglik_aic_bic_df_match_statsmodels(fits, name):
    _, fit, ref = fits[name]
    gaussian = name.startswith("gaussian")
    k = len(ref.params) + gaussian  # R (and dlstat) count the gaussian variance as a parameter
    np.testing.assert_allclose(fit.loglik(), ref.llf, rtol=RTOL)
    np.testing.assert_allclose(fit.aic(), -2 * ref.llf + 2 * k, rtol=RTOL)
    np.testing.assert_allclose(fit.bic(), -2 * ref.llf + np.log(ref.nobs) * k, rtol=RTOL)
    if not gaussian:
        np.testing.assert_allclose(fit.aic(), ref.aic, rtol=RTOL)
    g = fit.glance().iloc[0]
    assert g["df.residual"] == ref.df_resid
    assert g["df.null"] == ref.nobs - 1
    assert fit.nobs() == ref.nobs
    np.testing.assert_allclose([g["logLik"], g["AIC"], g["BIC"]],
                               [fit.loglik(), fit.aic(), fit.bic()], rtol=1e-12)


# -- multinomial: MNLogit -------------------------------------------------------------------
@pytest.fixture(scope="module")
def multinomial():
    """warpbreaks' tension (L, M, H) from breaks and wool: the classes overlap, so the
    coefficients are finite (iris on any two measures is separable: infinite MLE)."""
    data = dl.datasets.load("warpbreaks")
    fit = dl.dnn("tension ~ breaks + wool", data, family="multinomial", **GLM)
    X = sm.add_constant(pd.DataFrame({"breaks": data["breaks"],
                                      "wool[T.B]": (data["wool"] == "B").astype(float)}))
    ref = _quiet(lambda: sm.MNLogit(data["tension"].cat.codes, X).fit(disp=0, method="newton",
                                                                       maxiter=100))
    return fit, ref


def test_multinomial_tidy_and_vcov_match_mnlogit(multinomial):
    fit, ref = multinomial
    t = fit.tidy()
    assert list(t["response"].unique()) == ["M", "H"]
    assert list(t["term"][:3]) == ["(Intercept)", "breaks", "woolB"]  # R's names
    by_class = lambda frame: frame.to_numpy().T.ravel()  # noqa: E731  MNLogit: one column a class
    np.testing.assert_allclose(t["estimate"], by_class(ref.params), rtol=1e-3)
    np.testing.assert_allclose(t["std.error"], by_class(ref.bse), rtol=RTOL)
    np.testing.assert_allclose(t["statistic"], by_class(ref.tvalues), rtol=1e-3)
    np.testing.assert_allclose(t["p.value"], by_class(ref.pvalues), rtol=1e-3)
    np.testing.assert_allclose(fit.vcov().to_numpy(), ref.cov_params().to_numpy(), rtol=RTOL,
                               atol=1e-12)
    np.testing.assert_allclose(fit.loglik(), ref.llf, rtol=1e-6)
    np.testing.assert_allclose(fit.aic(), ref.aic, rtol=1e-6)
    np.testing.assert_allclose(fit.bic(), ref.bic, rtol=1e-6)


# -- R's glm through rpy2 -------------------------------------------------------------------
@pytest.fixture(scope="module")
def r():
    from conftest import require

    require("rpy2")
    import rpy2.robjects as ro

    return ro


R_CASES = [("mpg ~ wt + hp + factor(cyl)", "gaussian"), ("am ~ wt + hp", "binomial")]


@pytest.mark.parametrize("formula,family", R_CASES, ids=["gaussian", "binomial"])
def test_summary_table_aic_loglik_match_r_glm(r, formula, family):
    mt = dl.datasets.load("mtcars")
    fit = dl.dnn(formula, mt, **GLM)
    r.r(f"g <- glm({formula}, family = {family}, data = mtcars)")
    coefs = np.array(r.r("summary(g)$coefficients"))
    table = fit.summary().tables["coefficients"]
    np.testing.assert_allclose(table.iloc[:, :4].to_numpy(dtype=float), coefs, rtol=RTOL)
    np.testing.assert_allclose(fit.aic(), r.r("AIC(g)")[0], rtol=RTOL)
    np.testing.assert_allclose(fit.bic(), r.r("BIC(g)")[0], rtol=RTOL)
    np.testing.assert_allclose(fit.loglik(), r.r("as.numeric(logLik(g))")[0], rtol=RTOL)
    assert fit.glance()["df.residual"].iloc[0] == r.r("df.residual(g)")[0]
    r_confint = "confint.lm(g)" if family == "gaussian" else "confint.default(g)"
    np.testing.assert_allclose(fit.confint(), np.array(r.r(r_confint)), rtol=RTOL)


@pytest.mark.parametrize("small,big,family,test", [
    ("am ~ wt", "am ~ wt + hp", "binomial", "Chisq"),
    ("mpg ~ wt", "mpg ~ wt + hp + factor(cyl)", "gaussian", "Chisq"),
    ("mpg ~ wt", "mpg ~ wt + hp + factor(cyl)", "gaussian", "F"),
], ids=["binomial", "gaussian", "gaussian-F"])
def test_anova_matches_r(r, small, big, family, test):
    mt = dl.datasets.load("mtcars")
    a = dl.anova(dl.dnn(small, mt, **GLM), dl.dnn(big, mt, **GLM), test=test)
    ref = np.array(r.r(f"as.matrix(anova(glm({small}, family = {family}, data = mtcars), "
                       f"glm({big}, family = {family}, data = mtcars), test = '{test}'))"))
    np.testing.assert_allclose(a.table.to_numpy(dtype=float), ref, rtol=RTOL)
    t = a.tidy()
    assert list(t.columns) == ["term", "df.residual", "residual.deviance", "df", "deviance",
                               "statistic", "p.value"]
    text = str(a.summary())
    assert "Analysis of Deviance Table" in text and f"Model 2: {big}" in text
    assert a.glance().loc[0, "models"] == 2


# -- anova refusals -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mtcars_glms():
    mt = dl.datasets.load("mtcars")
    return {f: dl.dnn(f, mt, **GLM) for f in ("am ~ wt", "am ~ hp", "am ~ wt + hp")}, mt


def test_anova_refuses_non_nested_reversed_and_different_rows(mtcars_glms):
    g, mt = mtcars_glms
    with pytest.raises(OptionError, match="not nested.*'wt'"):
        dl.anova(g["am ~ wt"], g["am ~ hp"])
    with pytest.raises(OptionError, match="smaller model first"):
        dl.anova(g["am ~ wt + hp"], g["am ~ wt"])
    fewer = dl.dnn("am ~ wt + hp", mt.iloc[:30], **GLM)
    with pytest.raises(OptionError, match="same rows.*32 rows"):
        dl.anova(g["am ~ wt"], fewer)
    shuffled = dl.dnn("am ~ wt + hp", mt.iloc[::-1], **GLM)
    with pytest.raises(OptionError, match="different rows"):
        dl.anova(g["am ~ wt"], shuffled)
    logged = dl.dnn("log(mpg) ~ wt + hp", mt, **GLM)
    with pytest.raises(OptionError, match="same response.*log"):
        dl.anova(dl.dnn("mpg ~ wt", mt, **GLM), logged)
    with pytest.raises(OptionError, match="one family"):
        dl.anova(g["am ~ wt"], logged)
    with pytest.raises(OptionError, match="two or more"):
        dl.anova(g["am ~ wt"])
    with pytest.raises(OptionError, match="test='F' is for families with an estimated dispersion"):
        dl.anova(g["am ~ wt"], g["am ~ wt + hp"], test="F")
    with pytest.raises(OptionError, match="test must be one of"):
        dl.anova(g["am ~ wt"], g["am ~ wt + hp"], test="LRT")
    with pytest.raises(dl.DlstatError, match="fits made by dnn"):
        dl.anova(g["am ~ wt"], "am ~ wt + hp")


# -- prediction intervals -------------------------------------------------------------------
def test_predict_confidence_interval_matches_statsmodels(fits):
    data, fit, ref = fits["binomial_mtcars"]
    new = data.iloc[[0, 5, 17]]
    mine = fit.predict(new, interval="confidence", level=0.9, se_fit=True)
    theirs = ref.get_prediction(new).summary_frame(alpha=0.1)
    assert list(mine.columns) == ["fit", "lwr", "upr", "se_fit"]
    assert list(mine.index) == list(new.index)
    np.testing.assert_allclose(mine["fit"], theirs["mean"], rtol=RTOL)
    np.testing.assert_allclose(mine["lwr"], theirs["mean_ci_lower"], rtol=RTOL)
    np.testing.assert_allclose(mine["upr"], theirs["mean_ci_upper"], rtol=RTOL)
    link = ref.get_prediction(new, which="linear").summary_frame(alpha=0.1)
    np.testing.assert_allclose(mine["se_fit"], link["se"], rtol=RTOL)


def test_predict_interval_of_a_gaussian_fit_uses_t_as_predict_lm(fits):
    data, fit, _ = fits["gaussian_mtcars"]
    ols = smf.ols("mpg ~ wt + hp + C(cyl)", data).fit()
    mine = fit.predict(interval="confidence")
    theirs = ols.get_prediction(data).summary_frame()
    np.testing.assert_allclose(mine["lwr"], theirs["mean_ci_lower"], rtol=RTOL)
    np.testing.assert_allclose(mine["upr"], theirs["mean_ci_upper"], rtol=RTOL)


def test_predict_interval_keeps_rows_it_cannot_predict_as_na(fits):
    data, fit, _ = fits["poisson_warpbreaks"]
    new = data.head(4).copy()
    new.loc[new.index[1], "wool"] = np.nan
    before = new.copy()
    out = fit.predict(new, interval="confidence", se_fit=True)
    assert out.iloc[1].isna().all() and out.drop(index=new.index[1]).notna().all().all()
    predicted = out.dropna()
    assert (predicted["lwr"] < predicted["fit"]).all()
    assert (predicted["fit"] < predicted["upr"]).all()
    pd.testing.assert_frame_equal(new, before)


def test_predict_interval_refusals(fits, multinomial):
    data, fit, _ = fits["binomial_mtcars"]
    with pytest.raises(OptionError, match="interval must be one of.*'prediction'.*'bogus'"):
        fit.predict(data, interval="bogus")
    with pytest.raises(OptionError, match="classifier.*type='set'"):
        fit.predict(data, interval="prediction")
    with pytest.raises(OptionError, match="type='response' or type='link'.*'class'"):
        fit.predict(data, type="class", interval="confidence")
    with pytest.raises(OptionError, match="between 0 and 1.*1.5"):
        fit.predict(data, interval="confidence", level=1.5)
    with pytest.raises(OptionError, match="multinomial"):
        multinomial[0].predict(se_fit=True)


# -- where Wald inference does not apply ----------------------------------------------------
def test_penalised_glm_shows_nan_and_says_why():
    mt = dl.datasets.load("mtcars")
    fit = dl.dnn("mpg ~ wt + hp", mt, hidden=(), penalty=0.1, optimizer="lbfgs")
    t = fit.tidy()
    assert t["estimate"].notna().all()
    assert t[["std.error", "statistic", "p.value", "conf.low", "conf.high"]].isna().all().all()
    summary = fit.summary()
    assert any("Wald standard errors do not apply" in n for n in summary.notes)
    assert summary.tables["coefficients"]["Std. Error"].isna().all()
    for call in (fit.vcov, fit.confint, fit.aic):
        with pytest.raises(OptionError, match="penalty=0.1"):
            call()
    assert np.isnan(fit.glance()["AIC"].iloc[0])


def test_network_with_hidden_layers_refuses_vcov_and_confint():
    mt = dl.datasets.load("mtcars")
    net = dl.dnn("mpg ~ wt + hp", mt, hidden=(4,), epochs=5, seed=1)
    for call in (net.vcov, net.confint, net.bic):
        with pytest.raises(OptionError, match="hidden layer.*bootstrap"):
            call()
    with pytest.raises(OptionError, match="hidden layer"):
        net.predict(mt, interval="confidence")
    assert "coefficients" not in net.summary().tables
    assert np.isnan(net.glance()["AIC"].iloc[0])


def test_loaded_model_keeps_its_standard_errors(fits, tmp_path):
    _, fit, ref = fits["poisson_warpbreaks"]
    path = tmp_path / "model.dlstat"
    fit.save(str(path))
    loaded = dl.load(str(path))
    for call in (loaded.vcov, loaded.confint, loaded.loglik):
        np.testing.assert_array_equal(np.asarray(call()), np.asarray(getattr(fit, call.__name__)()))
    np.testing.assert_allclose(loaded.tidy()["std.error"], ref.bse, rtol=RTOL)
    np.testing.assert_allclose(loaded.tidy()["estimate"], ref.params, rtol=RTOL)
    assert not any("loaded from a file" in n for n in loaded.summary().notes)
    np.testing.assert_allclose(loaded.glance()["logLik"].iloc[0], ref.llf, rtol=RTOL)


def test_glm_summary_prints_the_coefficient_table_and_tests(fits):
    text = str(fits["binomial_mtcars"][1].summary())
    assert "Pr(>|z|)" in text and "z value" in text
    assert "Signif. codes:" in text and "0 '***' 0.001" in text
    assert "1 (binomial family, taken to be 1)" in text and "AIC:" in text
    gaussian = str(fits["gaussian_mtcars"][1].summary())
    assert "Pr(>|t|)" in gaussian and "estimated: Pearson's chi-squared / df.residual" in gaussian


def test_confidence_level_is_checked():
    mt = dl.datasets.load("mtcars")
    fit = dl.dnn("mpg ~ wt", mt, hidden=(), penalty=0.1, optimizer="lbfgs")
    for bad in (0, 1, "0.95", True):
        with pytest.raises(OptionError, match="between 0 and 1"):
            fit.tidy(conf_level=bad)


def test_coef_table_keeps_every_class_while_tidy_holds_contrasts(multinomial):
    """R's coef() shows every class (from coef_table); tidy() holds MNLogit's contrasts."""
    fit, _ = multinomial
    long = fit.coef_table()
    assert list(long["response"].unique()) == ["L", "M", "H"]
    wide = fit.coef()
    np.testing.assert_allclose(long["estimate"], wide.to_numpy().T.ravel())
    contrasts = fit.tidy().set_index(["response", "term"])["estimate"]
    np.testing.assert_allclose(contrasts.loc["H"], wide["H"] - wide["L"], rtol=1e-12)
