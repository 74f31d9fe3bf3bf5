"""Prior weights, offsets and binomial counts (issue 9, part B), against R's glm (rpy2) and
statsmodels on real data sets: esoph (cbind counts), MASS::Insurance (a poisson rate with
offset(log(Holders))), mtcars with weights, infert (binomial with an offset)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import dlstat as dl
from dlstat.errors import DataError, FormulaError, ModelFileError, OptionError, OptionTypeError

GLM = dict(hidden=(), optimizer="lbfgs", verbose=0)
RTOL = 1e-4
MT_WEIGHTS = np.tile([1.0, 2.0, 3.0, 0.5], 8)


@pytest.fixture(scope="module")
def r():
    from conftest import require

    require("rpy2")
    import rpy2.robjects as ro

    return ro


def r_frame(r, expression: str) -> pd.DataFrame:
    """An R data frame as pandas (factors as categoricals)."""
    import rpy2.robjects.pandas2ri as pandas2ri
    from rpy2.robjects.conversion import localconverter

    with localconverter(r.default_converter + pandas2ri.converter):
        return r.conversion.rpy2py(r.r(expression))


def r_glm(r, call: str) -> dict[str, np.ndarray]:
    """Coefficients, their table, deviance, null deviance, AIC, logLik, nobs and df of R's
    glm ``call``."""
    r.r(f"g <- {call}")
    names = ("coef", "table", "deviance", "null", "aic", "loglik", "nobs", "df")
    values = ("coef(g)", "summary(g)$coefficients", "deviance(g)", "g$null.deviance",
              "AIC(g)", "as.numeric(logLik(g))", "nobs(g)", "df.residual(g)")
    return {k: np.array(r.r(v)) for k, v in zip(names, values)}


def assert_matches(fit, ref) -> None:
    np.testing.assert_allclose(fit.coef().to_numpy(), ref["coef"], rtol=RTOL, atol=1e-8)
    np.testing.assert_allclose(fit.tidy()[["estimate", "std.error", "statistic", "p.value"]]
                               .to_numpy(dtype=float), ref["table"], rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(fit.record.deviance, ref["deviance"][0], rtol=RTOL)
    np.testing.assert_allclose(fit.record.null_deviance, ref["null"][0], rtol=RTOL)
    np.testing.assert_allclose(fit.aic(), ref["aic"][0], rtol=RTOL)
    np.testing.assert_allclose(fit.loglik(), ref["loglik"][0], rtol=RTOL)
    assert fit.nobs() == ref["nobs"][0]
    assert fit.glance()["df.residual"].iloc[0] == ref["df"][0]


# -- prior weights ---------------------------------------------------------------------------
@pytest.mark.parametrize("family", ["gaussian", "poisson"])
def test_prior_weights_match_r_glm(r, family):
    mt = dl.datasets.load("mtcars").assign(w=MT_WEIGHTS)
    response = "mpg" if family == "gaussian" else "carb"
    fit = dl.dnn(f"{response} ~ wt + hp", mt, family=family, weights="w", **GLM)
    r.globalenv["w"] = r.FloatVector(MT_WEIGHTS)
    assert_matches(fit, r_glm(r, f"glm({response} ~ wt + hp, family = {family}, "
                                 "data = mtcars, weights = w)"))


def test_weights_as_column_or_vector_are_the_same_fit():
    mt = dl.datasets.load("mtcars")
    by_vector = dl.dnn("mpg ~ wt", mt, weights=MT_WEIGHTS, **GLM)
    by_column = dl.dnn("mpg ~ wt", mt.assign(w=MT_WEIGHTS), weights="w", **GLM)
    np.testing.assert_allclose(by_vector.coef(), by_column.coef(), rtol=1e-10)
    assert by_vector.record.deviance == pytest.approx(by_column.record.deviance, rel=1e-10)
    assert "weights=<32 values>" in by_vector.call


def test_zero_weights_leave_rows_out_as_r_counts_them(r):
    mt = dl.datasets.load("mtcars")
    w = np.where(np.arange(32) % 5 == 0, 0.0, 1.0)
    fit = dl.dnn("mpg ~ wt + hp", mt, weights=w, **GLM)
    dropped = dl.dnn("mpg ~ wt + hp", mt[w > 0], **GLM)
    np.testing.assert_allclose(fit.coef(), dropped.coef(), rtol=1e-8)
    assert fit.nobs() == dropped.nobs() == int((w > 0).sum())
    assert fit.glance()["df.residual"].iloc[0] == dropped.glance()["df.residual"].iloc[0]
    np.testing.assert_allclose(fit.aic(), dropped.aic(), rtol=1e-8)
    r.globalenv["w"] = r.FloatVector(w)
    ref = r_glm(r, "glm(mpg ~ wt + hp, data = mtcars, weights = w)")
    assert fit.nobs() == ref["nobs"][0] and fit.glance()["df.residual"].iloc[0] == ref["df"][0]
    np.testing.assert_allclose(fit.tidy()["std.error"], ref["table"][:, 1], rtol=RTOL)


def test_weight_two_is_a_duplicated_row():
    mt = dl.datasets.load("mtcars")
    w = np.ones(32)
    w[[0, 5, 9]] = 2.0
    weighted = dl.dnn("am ~ wt + hp", mt, weights=w, **GLM)
    repeated = dl.dnn("am ~ wt + hp", pd.concat([mt, mt.iloc[[0, 5, 9]]]), **GLM)
    np.testing.assert_allclose(weighted.coef(), repeated.coef(), rtol=1e-6)
    np.testing.assert_allclose(weighted.tidy()["std.error"], repeated.tidy()["std.error"],
                               rtol=1e-6)
    assert weighted.record.deviance == pytest.approx(repeated.record.deviance, rel=1e-8)
    assert weighted.record.null_deviance == pytest.approx(repeated.record.null_deviance,
                                                          rel=1e-10)


def test_weighted_metrics_are_those_of_repeated_rows():
    fam = dl.families.make_family("binomial", pd.DataFrame({"y": [0, 1, 1, 0, 1]}))[0]
    y = np.array([[0.0], [1], [1], [0], [1]])
    mu = np.array([[0.2], [0.7], [0.4], [0.6], [0.9]])
    w = np.array([1.0, 2, 1, 3, 1])
    idx = np.repeat(np.arange(5), w.astype(int))
    weighted, repeated = fam.metrics(y, mu, w), fam.metrics(y[idx], mu[idx])
    for name, value in repeated.items():
        assert weighted[name] == pytest.approx(value, rel=1e-12), name


def test_weights_match_statsmodels_var_weights():
    mt = dl.datasets.load("mtcars")
    fit = dl.dnn("carb ~ wt + hp", mt, family="poisson", weights=MT_WEIGHTS, **GLM)
    X = sm.add_constant(mt[["wt", "hp"]].to_numpy())
    ref = sm.GLM(mt["carb"].to_numpy(), X, family=sm.families.Poisson(),
                 var_weights=MT_WEIGHTS).fit()
    np.testing.assert_allclose(fit.coef(), ref.params, rtol=RTOL)
    np.testing.assert_allclose(fit.tidy()["std.error"], ref.bse, rtol=RTOL)
    assert fit.record.deviance == pytest.approx(ref.deviance, rel=RTOL)
    assert fit.record.null_deviance == pytest.approx(ref.null_deviance, rel=RTOL)


# -- binomial counts -------------------------------------------------------------------------
ESOPH_R = ("within(esoph, {agegp <- factor(agegp, ordered = FALSE); "
           "alcgp <- factor(alcgp, ordered = FALSE)})")


def test_cbind_counts_match_r_glm(r):
    esoph = dl.datasets.load("esoph")
    fit = dl.dnn("cbind(ncases, ncontrols) ~ agegp + alcgp", esoph, family="binomial", **GLM)
    ref = r_glm(r, f"glm(cbind(ncases, ncontrols) ~ agegp + alcgp, family = binomial, "
                   f"data = {ESOPH_R})")
    assert_matches(fit, ref)
    proportions = np.array(r.r("fitted(g)"))
    np.testing.assert_allclose(fit.fitted().to_numpy(), proportions, rtol=RTOL)
    assert fit.predict(esoph).between(0, 1).all()


def test_proportion_with_trials_as_weights_is_the_cbind_model(r):
    esoph = dl.datasets.load("esoph")
    counts = dl.dnn("cbind(ncases, ncontrols) ~ agegp + alcgp", esoph, family="binomial", **GLM)
    trials = esoph["ncases"] + esoph["ncontrols"]
    shares = esoph.assign(prop=esoph["ncases"] / trials, trials=trials)
    prop = dl.dnn("prop ~ agegp + alcgp", shares, family="binomial", weights="trials", **GLM)
    np.testing.assert_allclose(prop.coef(), counts.coef(), rtol=1e-6)
    np.testing.assert_allclose(prop.tidy()["std.error"], counts.tidy()["std.error"], rtol=1e-6)
    for name in ("deviance", "null_deviance"):
        assert getattr(prop.record, name) == pytest.approx(getattr(counts.record, name),
                                                           rel=1e-9)
    assert prop.aic() == pytest.approx(counts.aic(), rel=1e-9)
    ref = r_glm(r, f"glm(ncases / (ncases + ncontrols) ~ agegp + alcgp, family = binomial, "
                   f"weights = ncases + ncontrols, data = {ESOPH_R})")
    assert prop.aic() == pytest.approx(ref["aic"][0], rel=RTOL)


def test_cbind_counts_with_prior_weights_match_r(r):
    esoph = dl.datasets.load("esoph")
    w = np.tile([1.0, 2.0], 44)
    fit = dl.dnn("cbind(ncases, ncontrols) ~ agegp", esoph, family="binomial", weights=w,
                 **GLM)
    r.globalenv["w"] = r.FloatVector(w)
    # R's IRLS stops at a relative deviance change of 1e-8 by default, too early for its
    # standard errors to agree to 1e-4 here: ask it to converge.
    assert_matches(fit, r_glm(r, f"glm(cbind(ncases, ncontrols) ~ agegp, family = binomial, "
                                 f"data = {ESOPH_R}, weights = w, "
                                 "control = glm.control(epsilon = 1e-14, maxit = 100))"))


def test_cbind_with_three_columns_or_negative_counts_is_refused():
    esoph = dl.datasets.load("esoph").assign(other=1.0)
    with pytest.raises(dl.ResponseError, match="one response"):
        dl.dnn("cbind(ncases, ncontrols, other) ~ agegp", esoph, family="binomial", **GLM)
    bad = esoph.assign(ncases=-esoph["ncases"] - 1)
    with pytest.raises(dl.ResponseError, match="non-negative"):
        dl.dnn("cbind(ncases, ncontrols) ~ agegp", bad, family="binomial", **GLM)


# -- offsets ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def insurance(r):
    r.r("library(MASS)")
    return r_frame(r, "within(Insurance, {Group <- factor(Group, ordered = FALSE); "
                      "Age <- factor(Age, ordered = FALSE)})")


def test_poisson_rate_with_offset_matches_r_glm(r, insurance):
    formula = "Claims ~ District + Group + Age + offset(log(Holders))"
    fit = dl.dnn(formula, insurance, family="poisson", **GLM)
    r.globalenv["ins"] = r.r("within(Insurance, {Group <- factor(Group, ordered = FALSE); "
                             "Age <- factor(Age, ordered = FALSE)})")
    ref = r_glm(r, f"glm({formula}, family = poisson, data = ins)")
    assert_matches(fit, ref)
    link = np.array(r.r("predict(g, newdata = ins[1:5, ], type = 'link')"))
    np.testing.assert_allclose(fit.predict(insurance.iloc[:5], type="link"), link, rtol=RTOL)
    np.testing.assert_allclose(fit.predict(insurance.iloc[:5]), np.exp(link), rtol=RTOL)


def test_offset_option_column_vector_and_term_agree(insurance):
    term = dl.dnn("Claims ~ Age + offset(log(Holders))", insurance, family="poisson", **GLM)
    logs = insurance.assign(logH=np.log(insurance["Holders"]))
    column = dl.dnn("Claims ~ Age", logs, family="poisson", offset="logH", **GLM)
    vector = dl.dnn("Claims ~ Age", insurance, family="poisson",
                    offset=np.log(insurance["Holders"].to_numpy()), **GLM)
    for other in (column, vector):
        np.testing.assert_allclose(other.coef(), term.coef(), rtol=1e-8)
        assert other.record.null_deviance == pytest.approx(term.record.null_deviance, rel=1e-10)
    np.testing.assert_allclose(column.predict(logs.iloc[:4]), term.predict(insurance.iloc[:4]))
    with pytest.raises(DataError, match=r"\(offset\)"):
        vector.predict(insurance.iloc[:4])
    with pytest.raises(DataError, match="Holders"):
        term.predict(insurance.drop(columns="Holders"))


def test_several_offsets_add(insurance):
    half = insurance.assign(h=np.log(insurance["Holders"]) / 2)
    both = dl.dnn("Claims ~ Age + offset(h) + offset(h)", half, family="poisson", **GLM)
    one = dl.dnn("Claims ~ Age + offset(log(Holders))", insurance, family="poisson", **GLM)
    np.testing.assert_allclose(both.coef(), one.coef(), rtol=1e-8)


def test_binomial_null_deviance_with_offset_is_rs_iterative_fit(r):
    infert = r_frame(r, "infert")
    formula = "case ~ spontaneous + induced + offset(0.05 * age)"
    fit = dl.dnn(formula, infert, family="binomial", **GLM)
    ref = r_glm(r, f"glm({formula}, family = binomial, data = infert)")
    assert_matches(fit, ref)


def test_gaussian_offset_matches_r(r):
    mt = dl.datasets.load("mtcars")
    fit = dl.dnn("mpg ~ hp + offset(-3 * wt)", mt, **GLM)
    assert_matches(fit, r_glm(r, "glm(mpg ~ hp + offset(-3 * wt), data = mtcars)"))
    np.testing.assert_allclose(
        fit.predict(mt.iloc[:3], interval="confidence")["fit"].to_numpy(),
        np.array(r.r("predict(g, newdata = mtcars[1:3, ])")), rtol=RTOL)


def test_offset_and_weights_in_the_statsmodels_baseline_and_cv(insurance):
    w = np.tile([1.0, 2.0], 32)
    cv = dl.cv_dnn("Claims ~ Age + offset(log(Holders))", insurance, family="poisson",
                   weights=w, folds=4, seed=1, **GLM)
    for (_, row), fit in zip(cv.metrics.iterrows(), cv.fits):
        in_fold = cv.fold_ids.to_numpy() == row["fold"] - 1
        held, held_w = insurance.iloc[np.flatnonzero(in_fold)], w[in_fold]
        mu = fit.predict(held).to_numpy()
        dev = 2 * (held["Claims"] * np.log(np.where(held["Claims"] > 0, held["Claims"] / mu, 1))
                   - (held["Claims"] - mu))
        assert row["deviance"] == pytest.approx(float(held_w @ dev), rel=1e-8)
    cmp = dl.compare("Claims ~ Age + offset(log(Holders))", insurance, family="poisson",
                     weights=w, folds=4, seed=1, **GLM)
    folds = cmp.folds.set_index(["model", "fold"])
    # The network without hidden layers is the GLM: statsmodels (var_weights, offset) agrees.
    np.testing.assert_allclose(folds.loc["glm", "deviance"], folds.loc["dnn", "deviance"],
                               rtol=1e-4)
    assert (folds.loc["null", "deviance"] > folds.loc["glm", "deviance"]).all()


def test_path_with_weights_and_offset(insurance):
    path = dl.dnn_path("Claims ~ Age + Group + offset(log(Holders))", insurance,
                       family="poisson", weights=np.tile([1.0, 3.0], 32), n_penalties=4,
                       folds=3, **GLM)
    plain = dl.dnn_path("Claims ~ Age + Group", insurance, family="poisson", n_penalties=4,
                        folds=3, **GLM)
    assert path.table["train_deviance"].iloc[-1] != pytest.approx(
        plain.table["train_deviance"].iloc[-1], rel=1e-3)
    best = path.refit("min")
    assert np.isfinite(best.predict(insurance.iloc[:3])).all()


def test_multinomial_offset_is_refused():
    iris = dl.datasets.load("iris")
    with pytest.raises(OptionError, match="multinomial"):
        dl.dnn("Species ~ Sepal.Length + offset(Sepal.Width)", iris, **GLM)


def test_model_file_keeps_the_offset_and_refuses_an_edited_one(tmp_path, insurance):
    import json

    fit = dl.dnn("Claims ~ Age + offset(log(Holders))", insurance, family="poisson", **GLM)
    path = tmp_path / "rate.dlstat"
    fit.save(str(path))
    again = dl.load(str(path))
    np.testing.assert_allclose(again.predict(insurance.iloc[:5]), fit.predict(insurance.iloc[:5]))
    with np.load(path) as stored:
        arrays = {k: stored[k] for k in stored.files}
    spec = json.loads(arrays["__dlstat_spec__"].tobytes())
    for hostile in (["__import__('os').system('echo hacked')"], ["log(Holders)", "Age"]):
        spec["design"]["offsets"] = hostile
        arrays["__dlstat_spec__"] = np.frombuffer(json.dumps(spec).encode(), dtype=np.uint8)
        edited = tmp_path / "edited.dlstat"
        with open(edited, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        with pytest.raises(ModelFileError, match="offset"):
            dl.load(str(edited))


# -- mistakes and hostile input --------------------------------------------------------------
@pytest.mark.parametrize("weights,error,match", [
    (-MT_WEIGHTS, DataError, "non-negative"),
    (np.r_[np.nan, MT_WEIGHTS[1:]], DataError, "finite"),
    (MT_WEIGHTS[:10], DataError, "one number per row"),
    (np.zeros(32), DataError, "all zero"),
    ("cyl_name", DataError, "not a column"),
    ("label", DataError, "numbers"),
    (["a"] * 32, OptionTypeError, "not numbers"),
    (3.0, OptionTypeError, "column"),
])
def test_bad_weights_are_refused(weights, error, match):
    mt = dl.datasets.load("mtcars").assign(label="x")
    before = mt.copy()
    with pytest.raises(error, match=match):
        dl.dnn("mpg ~ wt", mt, weights=weights, **GLM)
    pd.testing.assert_frame_equal(mt, before)


@pytest.mark.parametrize("formula,match", [
    ("mpg ~ wt + offset(__import__('os'))", "not allowed"),
    ("mpg ~ wt + offset(__import__(os))", "refused"),
    ("mpg ~ wt + offset(scale(hp))", "element-wise"),
    ("mpg ~ wt * offset(hp)", "term of its own"),
    ("mpg ~ wt + offset(nothere)", "not a column"),
])
def test_bad_offset_terms_are_refused(formula, match):
    with pytest.raises(FormulaError, match=match):
        dl.dnn(formula, dl.datasets.load("mtcars"), **GLM)


INJECTION = "x` + log(hp) + `y"


@pytest.mark.parametrize("name", ["log offset", "a\nb", "a)b + hp", "TRUE", "offset(wt)",
                                  "x" * 5000])
def test_an_offset_column_of_any_name_is_that_column(r, name):
    """offset= with a hostile column name adds that column, nothing else: the coefficients
    are R's glm(mpg ~ wt + offset(log(disp)))."""
    mt = dl.datasets.load("mtcars")
    fit = dl.dnn("mpg ~ wt", mt.assign(**{name: np.log(mt["disp"])}), offset=name, **GLM)
    assert list(fit.coef().index) == ["(Intercept)", "wt"]
    assert_matches(fit, r_glm(r, "glm(mpg ~ wt + offset(log(disp)), data = mtcars)"))
    new = mt.iloc[:3].assign(**{name: np.log(mt["disp"].iloc[:3])})
    np.testing.assert_allclose(fit.predict(new), np.array(r.r("predict(g, mtcars[1:3, ])")),
                               rtol=RTOL)


@pytest.mark.parametrize("name,match", [
    (INJECTION, "backquote"), ("a`b", "backquote"), ("a\\b", "backslash"),
    ("x" * 30_000, "too long for a formula"), ("class", "Python keywords")])
def test_an_offset_name_a_formula_cannot_quote_is_refused(name, match):
    """``x` + log(hp) + `y`` with columns x and y present used to fit
    ``offset(x + log(hp) + y)`` without a word."""
    mt = dl.datasets.load("mtcars")
    data = mt.assign(x=0.0, y=0.0, **{name: np.log(mt["disp"])})
    with pytest.raises((DataError, FormulaError), match=match):
        dl.dnn("mpg ~ wt", data, offset=name, **GLM)


def test_bad_offset_values_are_refused():
    mt = dl.datasets.load("mtcars")
    with pytest.raises(DataError, match="not finite"):
        dl.dnn("mpg ~ wt + offset(log(am))", mt, **GLM)
    with pytest.raises(DataError, match="finite"):
        dl.dnn("mpg ~ wt", mt, offset=np.full(32, np.inf), **GLM)
    with pytest.raises(DataError, match="one number per row"):
        dl.dnn("mpg ~ wt", mt, offset=np.zeros(3), **GLM)


# -- estimators ------------------------------------------------------------------------------
def test_estimator_sample_weight_is_prior_weights():
    mt = dl.datasets.load("mtcars")
    X, y = mt[["wt", "hp"]].to_numpy(), mt["mpg"].to_numpy()
    est = dl.DNNRegressor(hidden=(), optimizer="lbfgs", verbose=0).fit(X, y,
                                                                       sample_weight=MT_WEIGHTS)
    fit = dl.dnn("mpg ~ wt + hp", mt, weights=MT_WEIGHTS, **GLM)
    np.testing.assert_allclose(est.predict(X), fit.fitted(), rtol=1e-8)


def test_estimator_weight_two_is_a_repeated_row_to_float32_precision():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(20, 3))
    y = (X[:, 0] + rng.normal(size=20) > 0).astype(int)
    w = rng.integers(0, 4, size=20)
    options = dict(hidden=(8,), epochs=30, batch_size=None, verbose=0, seed=1)
    weighted = dl.DNNClassifier(**options).fit(X, y, sample_weight=w)
    repeated = dl.DNNClassifier(**options).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X),
                               rtol=1e-4, atol=1e-6)


def test_cli_takes_weights_and_offset(tmp_path):
    from dlstat.fronts import cli

    mt = dl.datasets.load("mtcars").assign(w=MT_WEIGHTS)
    data = tmp_path / "mt.csv"
    mt.to_csv(data, index=False)
    model = tmp_path / "m.dlstat"
    assert cli.main(["fit", "mpg ~ wt", str(data), "--hidden", "none", "--optimizer", "lbfgs",
                     "--weights", "w", "--offset", "hp", "--save", str(model), "--quiet"]) == 0
    expected = dl.dnn("mpg ~ wt + offset(hp)", mt, weights="w", **GLM)
    np.testing.assert_allclose(dl.load(str(model)).predict(mt), expected.fitted(), rtol=1e-8)


def test_weights_do_not_change_the_quiet_default():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dl.dnn("mpg ~ wt", dl.datasets.load("mtcars"), weights=MT_WEIGHTS, **GLM)


def test_anova_with_weights_matches_r_and_refuses_different_weights(r):
    mt = dl.datasets.load("mtcars")
    small = dl.dnn("am ~ wt", mt, weights=MT_WEIGHTS, **GLM)
    big = dl.dnn("am ~ wt + hp", mt, weights=MT_WEIGHTS, **GLM)
    r.globalenv["w"] = r.FloatVector(MT_WEIGHTS)
    ref = np.array(r.r("suppressWarnings(as.matrix(anova(glm(am ~ wt, binomial, mtcars, "
                       "weights = w), glm(am ~ wt + hp, binomial, mtcars, weights = w), "
                       "test = 'Chisq')))"))
    np.testing.assert_allclose(dl.anova(small, big).table.to_numpy(dtype=float), ref,
                               rtol=RTOL)
    with pytest.raises(OptionError, match="prior weights"):
        dl.anova(dl.dnn("am ~ wt", mt, **GLM), big)


def test_loaded_counts_model_keeps_its_likelihood(tmp_path):
    """The model file saves a GLM's log-likelihood (computed with its trials), so the loaded
    counts model reports R's number rather than a 0/1-response formula's."""
    esoph = dl.datasets.load("esoph")
    fit = dl.dnn("cbind(ncases, ncontrols) ~ agegp", esoph, family="binomial", **GLM)
    fit.save(str(tmp_path / "counts.dlstat"))
    again = dl.load(str(tmp_path / "counts.dlstat"))
    assert again.family.counts
    np.testing.assert_allclose(again.predict(esoph), fit.fitted())
    assert again.loglik() == pytest.approx(fit.loglik(), rel=1e-12)
    assert again.glance()["AIC"].iloc[0] == pytest.approx(fit.aic(), rel=1e-12)


def test_zero_weights_are_noted_in_the_summary():
    w = np.where(np.arange(32) < 4, 0.0, 1.0)
    fit = dl.dnn("mpg ~ wt", dl.datasets.load("mtcars"), weights=w, **GLM)
    assert "4 observation(s) with prior weight 0" in str(fit.summary())


def test_weighted_multinomial_baseline_is_the_weighted_glm():
    iris = dl.datasets.load("iris")
    w = np.tile([1.0, 2.0, 0.5], 50)
    cmp = dl.compare("Species ~ Sepal.Width", iris, weights=w, folds=3, seed=2, **GLM)
    folds = cmp.folds.set_index(["model", "fold"])
    np.testing.assert_allclose(folds.loc["glm", "deviance"], folds.loc["dnn", "deviance"],
                               rtol=1e-3)
