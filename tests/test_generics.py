"""The modelling generics of a fit: residuals of every type, fitted values, the model matrix
with R's names, update(), the null model without an intercept, and a loaded GLM's standard
errors; against statsmodels and R's glm / model.matrix / residuals.glm through rpy2."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from conftest import edit_model_spec

import dlstat as dl
from dlstat.errors import DataError, FormulaError, ModelFileError, OptionError
from dlstat.results.generics import updated_formula

GLM = dict(hidden=(), penalty=0, optimizer="lbfgs")
TYPES = ("deviance", "pearson", "working", "response")
# (data set, formula, statsmodels family, R family)
CASES = {
    "gaussian": ("mtcars", "mpg ~ wt + hp + factor(cyl)", sm.families.Gaussian(), "gaussian"),
    "binomial": ("mtcars", "am ~ wt + hp", sm.families.Binomial(), "binomial"),
    "poisson": ("warpbreaks", "breaks ~ wool + tension", sm.families.Poisson(), "poisson"),
}


@pytest.fixture(scope="module")
def glms():
    out = {}
    for name, (dataset, formula, family, _) in CASES.items():
        data = dl.datasets.load(dataset)
        fit = dl.dnn(formula, data, family=name, **GLM)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = smf.glm(formula.replace("factor(", "C("), data, family=family).fit()
        out[name] = fit, ref, data
    return out


@pytest.fixture(scope="module")
def r():
    from conftest import require

    require("rpy2")
    import rpy2.robjects as ro

    return ro


# -- residuals ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("kind", TYPES)
def test_residuals_match_statsmodels(glms, name, kind):
    fit, ref, data = glms[name]
    mine = fit.residuals(kind)
    assert isinstance(mine, pd.Series) and mine.index.equals(data.index)
    np.testing.assert_allclose(mine.to_numpy(), getattr(ref, f"resid_{kind}").to_numpy(),
                               rtol=1e-5, atol=1e-7)


def test_default_residuals_are_deviance_residuals_and_fitted_are_means(glms):
    fit, ref, _ = glms["poisson"]
    pd.testing.assert_series_equal(fit.residuals(), fit.residuals("deviance"))
    np.testing.assert_allclose(fit.fitted().to_numpy(), ref.fittedvalues.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose((fit.residuals() ** 2).sum(), fit.record.deviance, rtol=1e-10)


@pytest.mark.parametrize("name", CASES)
def test_residuals_match_r_residuals_glm(r, glms, name):
    fit, _, _ = glms[name]
    dataset, formula, _, family = CASES[name]
    r.r(f"g_ <- glm({formula}, family = {family}, data = {dataset})")
    for kind in TYPES:
        theirs = np.array(r.r(f"residuals(g_, type = '{kind}')"))
        np.testing.assert_allclose(fit.residuals(kind).to_numpy(), theirs, rtol=1e-5,
                                   atol=1e-7, err_msg=kind)


def test_residuals_of_a_network_one_per_training_row_and_refusals():
    mt = dl.datasets.load("mtcars").copy()
    mt.loc[mt.index[3], "wt"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = dl.dnn("mpg ~ wt + hp", mt, hidden=(3,), epochs=5, seed=1, verbose=0)
    res = net.residuals("response")
    assert len(res) == 31 and mt.index[3] not in res.index
    np.testing.assert_allclose(res.to_numpy(), mt["mpg"].drop(mt.index[3]) - net.fitted())
    with pytest.raises(OptionError, match="type must be one of.*'raw'"):
        net.residuals("raw")
    iris = dl.datasets.load("iris")
    multi = dl.dnn("Species ~ Sepal.Length", iris, hidden=(), epochs=3, verbose=0)
    per_class = multi.residuals("response")
    assert list(per_class.columns) == ["setosa", "versicolor", "virginica"]
    np.testing.assert_allclose(per_class.sum(axis=1), 0, atol=1e-12)
    with pytest.raises(OptionError, match="one-parameter families.*type='response'"):
        multi.residuals("pearson")


def test_networks_refuse_what_has_no_meaning_for_them():
    mt = dl.datasets.load("mtcars")
    net = dl.dnn("mpg ~ wt + hp", mt, hidden=(3,), epochs=5, seed=1, verbose=0)
    for call in (net.vcov, net.confint, net.aic, net.bic, net.coef):
        with pytest.raises(OptionError, match="hidden layer"):
            call()
    assert np.isfinite(net.loglik()) and net.nobs() == 32


# -- model matrix ---------------------------------------------------------------------------
MODEL_MATRICES = [
    ("mtcars", "mpg ~ wt * factor(cyl) + log(hp)"),
    ("mtcars", "mpg ~ poly(disp, 2) + I(wt^2) + wt:hp + factor(am)"),
    ("mtcars", "mpg ~ 0 + factor(cyl) + sqrt(qsec)"),
    ("warpbreaks", "breaks ~ wool * tension"),
    ("iris", "Sepal.Length ~ Species + Petal.Width"),
]


@pytest.mark.parametrize("dataset,formula", MODEL_MATRICES)
def test_model_matrix_equals_r_model_matrix(r, dataset, formula):
    data = dl.datasets.load(dataset)
    fit = dl.dnn(formula, data, **GLM)
    mine = fit.model_matrix()
    r.r(f"m_ <- model.matrix({formula}, data = {dataset})")
    assert list(mine.columns) == list(r.r("colnames(m_)"))
    np.testing.assert_allclose(mine.to_numpy(), np.array(r.r("unname(m_)")), rtol=1e-9,
                               atol=1e-12)
    if not isinstance(mine.index, pd.RangeIndex):  # R numbers unnamed rows from 1
        assert list(map(str, mine.index)) == list(r.r("rownames(m_)"))


COEFFICIENT_NAMES = [
    ("mtcars", "mpg ~ wt + factor(cyl)"),
    ("mtcars", "mpg ~ poly(disp, 2) + I(wt^2) + I(hp/100) + wt:hp + factor(am)"),
    ("mtcars", "mpg ~ poly(wt, 2, raw = TRUE) + I(qsec * 1e6) + log(hp + 1)"),
    ("warpbreaks", "breaks ~ wool * tension"),
    ("iris", "Sepal.Length ~ Species + Petal.Width + Petal.Width:Sepal.Width"),
]


@pytest.mark.parametrize("dataset,formula", COEFFICIENT_NAMES)
def test_every_coefficient_table_uses_r_names(r, dataset, formula):
    """coef, vcov, confint, tidy, summary, per-column effects and the model matrix name a
    coefficient as R's glm does (``factor(cyl)6``, not formulaic's ``C(cyl)[T.6]``)."""
    data = dl.datasets.load(dataset)
    fit = dl.dnn(formula, data, **GLM)
    theirs = list(r.r(f"names(coef(glm({formula}, data = {dataset})))"))
    assert list(fit.coef().index) == theirs
    assert list(fit.vcov().index) == list(fit.vcov().columns) == theirs
    assert list(fit.confint().index) == theirs
    assert list(fit.tidy()["term"]) == theirs
    assert list(fit.summary().tables["coefficients"].index) == theirs
    assert list(fit.model_matrix().columns) == theirs
    assert list(fit.design_matrix(data).columns) == theirs[1:]


def test_network_tables_name_design_columns_and_terms_as_r(r):
    mt = dl.datasets.load("mtcars")
    net = dl.dnn("mpg ~ wt + factor(cyl) + I(hp^2)", mt, hidden=(3,), epochs=2, seed=1,
                 verbose=0)
    columns = list(r.r("colnames(model.matrix(mpg ~ wt + factor(cyl) + I(hp^2), mtcars))"))
    assert list(net.tidy()["column"]) == columns[1:]
    assert list(dict.fromkeys(net.tidy()["term"])) == list(
        r.r("attr(terms(mpg ~ wt + factor(cyl) + I(hp^2)), 'term.labels')"))
    assert list(net.effects(per="column").tidy()["term"]) == ["wt", "factor(cyl)6",
                                                              "factor(cyl)8", "I(hp^2)"]
    per_variable = net.effects().tidy()  # marginaleffects' rows: variables and contrasts
    assert list(per_variable["term"]) == ["wt", "cyl", "cyl", "hp"]
    assert list(per_variable["contrast"]) == ["dY/dX", "6 - 4", "8 - 4", "dY/dX"]
    assert list(net.importance().tidy()["term"]) == ["wt", "factor(cyl)", "I(hp^2)"]


def test_model_matrix_of_new_data_drops_incomplete_rows():
    mt = dl.datasets.load("mtcars")
    fit = dl.dnn("mpg ~ wt + factor(cyl)", mt, **GLM)
    new = mt.head(4).copy()
    new.loc[new.index[1], "wt"] = np.nan
    mm = fit.model_matrix(new)
    assert list(mm.index) == [new.index[i] for i in (0, 2, 3)]
    assert list(mm.columns) == ["(Intercept)", "wt", "factor(cyl)6", "factor(cyl)8"]
    np.testing.assert_allclose(mm["wt"], new["wt"].dropna())


# -- update ---------------------------------------------------------------------------------
@pytest.mark.parametrize("old,new,expected", [
    ("mpg ~ wt + hp", ". ~ . - hp", "mpg ~ (wt + hp) - hp"),
    ("mpg ~ wt", "~ . + qsec", "mpg ~ (wt) + qsec"),
    ("mpg ~ wt", "log(.) ~ .", "log(mpg) ~ (wt)"),
    ("Species ~ .", ". ~ . - Sepal.Width", "Species ~ (.) - Sepal.Width"),
    ("y ~ x", "z ~ x.1 + .", "z ~ x.1 + (x)"),
    ("y ~ x", None, "y ~ x"),
])
def test_updated_formula_follows_update_formula(old, new, expected):
    assert updated_formula(old, new) == expected


def test_update_refits_with_the_same_options_and_the_changes():
    mt = dl.datasets.load("mtcars")
    fit = dl.dnn("am ~ wt + hp", mt, family="binomial", **GLM)
    smaller = fit.update(mt, ". ~ . - hp")
    direct = dl.dnn("am ~ wt", mt, family="binomial", **GLM)
    pd.testing.assert_series_equal(smaller.coef(), direct.coef())
    assert smaller.options.optimizer == "lbfgs" and smaller.options.hidden == ()
    same = fit.update(mt)
    pd.testing.assert_series_equal(same.coef(), fit.coef())
    net = fit.update(mt, hidden=(2,), optimizer="adam", epochs=2, verbose=0)
    assert net.topology.layers and net.formula == "am ~ wt + hp"
    with pytest.raises(FormulaError, match="with a '~'.*'hp'"):
        fit.update(mt, "hp")
    with pytest.raises(dl.DlstatError, match="unknown option"):
        fit.update(mt, hiden=(2,))


# -- the null model without an intercept (R: linkinv(0), df.null = n) -----------------------
@pytest.mark.parametrize("formula,family", [("mpg ~ 0 + wt", "gaussian"),
                                            ("am ~ wt - 1", "binomial"),
                                            ("carb ~ 0 + wt", "poisson")])
def test_null_model_without_intercept_is_r_s(r, formula, family):
    mt = dl.datasets.load("mtcars")
    fit = dl.dnn(formula, mt, family=family, **GLM)
    r.r(f"g_ <- glm({formula}, family = {family}, data = mtcars)")
    g = fit.glance()
    assert g["df.null"].iloc[0] == r.r("g_$df.null")[0] == 32
    np.testing.assert_allclose(g["null_deviance"].iloc[0], r.r("g_$null.deviance")[0],
                               rtol=1e-8)
    assert fit.summary().tables["deviance"].loc["Null", "df"] == 32


# -- a loaded GLM keeps its standard errors -------------------------------------------------
@pytest.mark.parametrize("name", CASES)
def test_a_loaded_glm_keeps_its_standard_errors(glms, name, tmp_path):
    fit, _, data = glms[name]
    path = tmp_path / "glm.dlstat"
    fit.save(str(path))
    loaded = dl.load(str(path))
    assert str(loaded.summary()) == str(fit.summary())
    pd.testing.assert_frame_equal(loaded.tidy(), fit.tidy())
    pd.testing.assert_frame_equal(loaded.vcov(), fit.vcov())
    pd.testing.assert_frame_equal(loaded.confint(), fit.confint())
    pd.testing.assert_frame_equal(loaded.glance(), fit.glance())
    assert loaded.aic() == fit.aic() and loaded.loglik() == fit.loglik()
    pd.testing.assert_frame_equal(loaded.predict(data, interval="confidence", se_fit=True),
                                  fit.predict(data, interval="confidence", se_fit=True))
    loaded.save(str(tmp_path / "again.dlstat"))  # saving a loaded fit keeps them too
    pd.testing.assert_frame_equal(dl.load(str(tmp_path / "again.dlstat")).tidy(), fit.tidy())
    with pytest.raises(DataError, match="holds no training data"):
        loaded.residuals()


def _set(key, value):
    def edit(spec):
        spec["inference"][key] = value
    return edit


@pytest.mark.parametrize("edit", [
    _set("vcov", [[1.0, 0.0], [0.0, 1.0]]),                      # wrong size
    _set("vcov", "__import__('os').system('echo hi')"),           # not numbers
    _set("loglik", float("nan")),
    _set("loglik", "1"),
    _set("extra", 1),
    lambda spec: spec["inference"]["vcov"][0].__setitem__(1, 99.0),   # not symmetric
    lambda spec: spec["inference"]["vcov"][0].__setitem__(0, -1.0),   # negative variance
    lambda spec: spec["topology"].__setitem__("layers", [{"kind": "dense", "units": 2}]),
], ids=["size", "text", "nan", "string", "extra", "asymmetric", "negative", "network"])
def test_a_tampered_saved_covariance_is_refused(glms, tmp_path, edit):
    fit, _, _ = glms["binomial"]
    path = tmp_path / "glm.dlstat"
    fit.save(str(path))
    bad = edit_model_spec(path, tmp_path / "bad.dlstat", edit)
    with pytest.raises(ModelFileError):
        dl.load(bad)


def test_a_model_file_without_saved_covariance_still_says_why(glms, tmp_path):
    fit, _, _ = glms["poisson"]
    path = tmp_path / "glm.dlstat"
    fit.save(str(path))
    old = edit_model_spec(path, tmp_path / "old.dlstat", lambda spec: spec.pop("inference"))
    loaded = dl.load(old)
    for call in (loaded.vcov, loaded.confint, loaded.loglik):
        with pytest.raises(DataError, match="loaded from a file and holds no training data"):
            call()
    assert loaded.tidy()["std.error"].isna().all()


# -- the R endpoints (every number from the results layer) ----------------------------------
def _value(name, *args):
    from dlstat.fronts.rbridge import rcall

    res = rcall(name, *args)
    assert res["ok"], res.get("message")
    return res["value"]


def test_r_endpoints_label_and_shape_what_the_generics_return(glms):
    from dlstat.fronts.rcodec import frame_from_r

    fit, ref, data = glms["binomial"]
    v = frame_from_r(_value("vcov", fit))
    assert list(v.index) == list(v.columns) == ["(Intercept)", "wt", "hp"]
    np.testing.assert_allclose(v.to_numpy(), ref.cov_params().to_numpy(), rtol=1e-4)
    ll = _value("loglik", fit)
    assert ll == {"value": fit.loglik(), "df": 3, "nobs": 32, "why": ""}
    small = dl.dnn("am ~ wt", data, family="binomial", **GLM)
    table = frame_from_r(_value("anova", [small, fit], "Chisq")["table"])
    assert isinstance(table.index, pd.RangeIndex) and table.index[0] == 0  # R numbers from 1
    np.testing.assert_allclose(table.to_numpy(dtype=float),
                               dl.anova(small, fit).table.to_numpy(dtype=float))
    mm = _value("model_matrix", fit, None)
    assert mm["assign"] == [0, 1, 2]
    bad = rcall_error("confint", fit, "0.95")
    assert "between 0 and 1" in bad


def rcall_error(name, *args) -> str:
    from dlstat.fronts.rbridge import rcall

    res = rcall(name, *args)
    assert res["ok"] is False and res["dlstat"], res
    return res["message"]


def test_r_loglik_of_a_network_has_no_df_and_says_why():
    mt = dl.datasets.load("mtcars")
    net = dl.dnn("mpg ~ wt", mt, hidden=(2,), epochs=2, verbose=0)
    ll = _value("loglik", net)
    assert ll["df"] is None and "hidden layer" in ll["why"] and ll["value"] == net.loglik()
    assert "hidden layer" in rcall_error("aic", net)


def test_r_predict_se_is_predict_glm_s_on_the_response_scale(glms):
    from dlstat.fronts.rcodec import frame_from_r

    fit, ref, data = glms["poisson"]
    new = data.iloc[[0, 20, 40]]
    from dlstat.fronts.rcodec import frame_to_r

    out = _value("predict_se", fit, frame_to_r(new), "response", None, "confidence", 0.9)
    frame = frame_from_r(out["frame"])
    theirs = ref.get_prediction(new).summary_frame(alpha=0.1)
    np.testing.assert_allclose(frame["fit"], theirs["mean"], rtol=1e-6)
    np.testing.assert_allclose(frame["se_fit"], theirs["mean_se"], rtol=1e-5)
    np.testing.assert_allclose(frame["lwr"], theirs["mean_ci_lower"], rtol=1e-5)
    assert out["residual_scale"] == 1.0
