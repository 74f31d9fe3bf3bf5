"""Aliased and rank-deficient GLM designs (issue 20), against R's ``glm`` through rpy2: R drops
an aliased column (NA coefficient, "not defined because of singularities") and counts no degree
of freedom for it; dlstat must give the same numbers, never a raw NumPy error."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import dlstat as dl

GLM = dict(hidden=(), optimizer="lbfgs", verbose=0)
RTOL = 1e-5
CYL_CODES = '"4" = "a", "6" = "b", "8" = "c"'


@pytest.fixture(scope="module")
def r():
    from conftest import require

    require("rpy2")
    import rpy2.robjects as ro

    ro.r(f'd <- mtcars; d$g <- factor(c({CYL_CODES})[as.character(d$cyl)]); '
         'd$g2 <- factor(c("4" = "x", "6" = "y", "8" = "z")[as.character(d$cyl)]); '
         'd$wt2 <- 2 * d$wt + 1; d$const <- 1')
    return ro


@pytest.fixture(scope="module")
def cars() -> pd.DataFrame:
    """mtcars with a relabelled copy of a factor, a collinear numeric column and a constant."""
    mt = dl.datasets.load("mtcars")
    return mt.assign(g=mt["cyl"].map({4: "a", 6: "b", 8: "c"}),
                     g2=mt["cyl"].map({4: "x", 6: "y", 8: "z"}),
                     wt2=2 * mt["wt"] + 1, const=1.0)


def _fit(formula: str, data: pd.DataFrame, **options):
    """A fit that must raise no warning of any kind (NumPy's included)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return dl.dnn(formula, data, **{**GLM, **options})


def _r_vector(r, expression: str) -> np.ndarray:
    """An R numeric vector, NA as NaN."""
    return np.array(r.r(f"as.numeric({expression})"), dtype=float)


def _assert_like_r(r, fit, call: str) -> None:
    """Coefficients (NA where R has NA), the summary table of the defined ones, df.residual,
    AIC, BIC, logLik and vcov(complete = TRUE) of R's glm ``call``."""
    r.r(f"g <- {call}")
    coef = _r_vector(r, "coef(g)")
    mine = fit.coef().to_numpy()
    np.testing.assert_array_equal(np.isnan(mine), np.isnan(coef))
    np.testing.assert_allclose(mine, coef, rtol=RTOL, atol=1e-8)
    tidy = fit.tidy()
    defined = tidy["estimate"].notna().to_numpy()
    assert tidy.loc[~defined].drop(columns="term").isna().all().all()
    table = np.array(r.r("summary(g)$coefficients"))
    np.testing.assert_allclose(tidy.loc[defined, ["estimate", "std.error", "statistic",
                                                   "p.value"]].to_numpy(float), table,
                               rtol=RTOL, atol=1e-10)
    glance = fit.glance().iloc[0]
    assert glance["df.residual"] == _r_vector(r, "df.residual(g)")[0]
    for mine_value, expression in ((fit.aic(), "AIC(g)"), (fit.bic(), "BIC(g)"),
                                   (fit.loglik(), "logLik(g)"), (glance["AIC"], "AIC(g)")):
        np.testing.assert_allclose(mine_value, _r_vector(r, expression)[0], rtol=RTOL)
    vcov = np.array(r.r("vcov(g, complete = TRUE)"), dtype=float)
    np.testing.assert_array_equal(np.isnan(fit.vcov().to_numpy()), np.isnan(vcov))
    np.testing.assert_allclose(fit.vcov().to_numpy(), vcov, rtol=1e-4, atol=1e-12)


# -- R's rank rule --------------------------------------------------------------------------
def test_pivoted_rank_is_rs_qr_rank_and_pivot(r):
    """R's qr(Z, tol) (LINPACK dqrdc2): rank and column order, on matrices with exact
    collinearity, zero and repeated columns, more columns than rows."""
    from rpy2.robjects import numpy2ri
    from rpy2.robjects.conversion import localconverter

    from dlstat.fitting.aliasing import pivoted_rank

    rng = np.random.default_rng(20)
    cases = [np.array(r.r("cbind(1, as.matrix(mtcars[1:5, -1]))"))]
    for _ in range(120):
        n, p = rng.integers(1, 10, size=2)
        rank = rng.integers(0, min(n, p) + 1)
        Z = rng.normal(size=(n, rank)) @ rng.normal(size=(rank, p))
        if rng.random() < 0.3:
            Z[:, rng.integers(p)] = 0
        if p > 1 and rng.random() < 0.3:
            Z[:, -1] = 2 * Z[:, 0] + 1
        cases.append(np.round(Z, 1) if rng.random() < 0.3 else Z)
    for Z in cases:
        with localconverter(r.default_converter + numpy2ri.converter):
            r.globalenv["Z"] = Z
        q = r.r("q <- qr(Z, tol = 1e-11); list(q$rank, q$pivot - 1L)")
        rank, pivot = pivoted_rank(Z)
        assert rank == int(q[0][0]), Z
        np.testing.assert_array_equal(pivot, np.array(q[1]))


@pytest.mark.parametrize("block_values", [2**22, 20])
def test_full_rank_shortcut_agrees_with_the_rank_rule(monkeypatch, block_values):
    """The Gram-matrix shortcut only ever answers "full rank" where the pivoting rule keeps
    every column, weighted or not, centred far from zero or not; the design read in blocks of
    rows (here also of a few rows) gives the rule's answer on the whole."""
    from types import SimpleNamespace

    from dlstat.fitting import aliasing
    from dlstat.fitting.aliasing import (
        _certainly_full_rank,
        aliased_columns,
        pivoted_rank,
        raw_design,
    )

    monkeypatch.setattr(aliasing, "_CHUNK_VALUES", block_values)

    rng = np.random.default_rng(7)
    certified = 0
    for _ in range(200):
        n, p = rng.integers(2, 30), rng.integers(1, 8)
        X = rng.normal(size=(n, p))
        if rng.random() < 0.4:
            X[:, -1] = X[:, 0] * rng.normal() + rng.normal(scale=1e-9 * rng.random(), size=n)
        spec = SimpleNamespace(scale=rng.uniform(0.01, 100, p),
                               center=rng.normal(size=p) * rng.choice([0, 1, 1e4], p),
                               intercept=bool(rng.random() < 0.8))
        weights = rng.choice([0.0, 0.5, 1.0, 3.0], n) if rng.random() < 0.5 else np.ones(n)
        used = weights > 0
        Z = raw_design(spec, X[used]) * np.sqrt(weights[used])[:, None]
        rank, pivot = pivoted_rank(Z)
        expected = tuple(sorted(int(j) - int(spec.intercept) for j in pivot[rank:]))
        assert aliased_columns(spec, X, weights) == expected
        if _certainly_full_rank(spec, X, weights):
            certified += 1
            assert expected == ()
    assert certified > 50


# -- aliased columns ------------------------------------------------------------------------
def test_relabelled_factor_copy_is_dropped_as_r_does(r, cars):
    fit = _fit("mpg ~ wt + g + g2", cars)
    _assert_like_r(r, fit, "glm(mpg ~ wt + g + g2, data = d)")
    assert list(fit.coef().index[fit.coef().isna()]) == ["g2y", "g2z"]
    text = str(fit.summary())
    assert "Coefficients: (2 not defined because of singularities)" in text
    assert fit.summary().tables["coefficients"].loc["g2y"].iloc[:4].isna().all()


@pytest.mark.parametrize("small", ["mpg ~ wt", "mpg ~ wt + g"])
def test_anova_counts_no_df_for_aliased_columns(r, cars, small):
    a = dl.anova(_fit(small, cars), _fit("mpg ~ wt + g + g2", cars))
    ref = np.array(r.r(f"as.matrix(anova(glm({small}, data = d), "
                       "glm(mpg ~ wt + g + g2, data = d), test = 'Chisq'))"), dtype=float)
    np.testing.assert_array_equal(a.table["Df"].to_numpy()[1:], ref[1:, 2])
    np.testing.assert_array_equal(np.isnan(a.table.to_numpy(float)), np.isnan(ref))
    np.testing.assert_allclose(a.table.to_numpy(float), ref, rtol=RTOL, atol=1e-8)


@pytest.mark.parametrize("family,r_family,response", [
    ("gaussian", "gaussian", "mpg"), ("binomial", "binomial", "am"), ("gamma", "Gamma", "mpg")])
def test_collinear_numeric_column_is_dropped_as_r_does(r, cars, family, r_family, response):
    fit = _fit(f"{response} ~ wt + wt2", cars, family=family)
    # epsilon 1e-10 converges the fit further than R's default and keeps glm.fit's rank
    # tolerance (min(1e-7, epsilon / 1000)) far above rounding.
    _assert_like_r(r, fit, f"glm({response} ~ wt + wt2, family = {r_family}, data = d, "
                           "control = glm.control(epsilon = 1e-10))")
    new = cars.iloc[[0, 9, 20]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mine = fit.predict(new, type="link", se_fit=True)
    r.r("p <- predict(g, d[c(1, 10, 21), ], se.fit = TRUE)")
    np.testing.assert_allclose(mine["fit"], _r_vector(r, "p$fit"), rtol=RTOL)
    np.testing.assert_allclose(mine["se_fit"], _r_vector(r, "p$se.fit"), rtol=1e-4)


def test_constant_column_is_aliased_with_the_intercept(r, cars):
    fit = _fit("mpg ~ wt + const", cars)
    _assert_like_r(r, fit, "glm(mpg ~ wt + const, data = d)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit.summary()
        assert fit.predict(cars.head(3), se_fit=True)["se_fit"].notna().all()


def test_more_columns_than_rows_leaves_the_rest_undefined(r):
    mt = dl.datasets.load("mtcars")
    fit = _fit("mpg ~ .", mt.head(5))
    r.r("g <- glm(mpg ~ ., data = mtcars[1:5, ])")
    coef = _r_vector(r, "coef(g)")
    np.testing.assert_array_equal(np.isnan(fit.coef().to_numpy()), np.isnan(coef))
    np.testing.assert_allclose(fit.coef().to_numpy(), coef, rtol=1e-5, atol=1e-8)
    assert fit.glance()["df.residual"].iloc[0] == 0 == _r_vector(r, "df.residual(g)")[0]
    assert fit.tidy()["std.error"].isna().all()  # R: NaN (no dispersion on 0 df)
    summary = fit.summary()
    assert "Coefficients: (6 not defined because of singularities)" in str(summary)
    assert any("df.residual is 0" in n for n in summary.notes)
    # the fitted values are the data; R's AIC of -303 is that of its rounding error
    assert fit.loglik() == np.inf and fit.aic() == -np.inf
    np.testing.assert_allclose(fit.predict(mt.head(5)), mt["mpg"].head(5), rtol=1e-8)


def test_one_row_fit_gives_rs_answer(r):
    mt = dl.datasets.load("mtcars")
    fit = _fit("mpg ~ wt", mt.head(1))
    r.r("g <- glm(mpg ~ wt, data = mtcars[1, ])")
    np.testing.assert_allclose(fit.coef().to_numpy(), _r_vector(r, "coef(g)"), rtol=1e-10)
    assert np.isnan(fit.coef()["wt"])
    assert fit.glance()["df.residual"].iloc[0] == 0
    assert fit.loglik() == _r_vector(r, "logLik(g)")[0] == np.inf
    assert fit.aic() == _r_vector(r, "AIC(g)")[0] == -np.inf
    assert fit.tidy()["std.error"].isna().all() and np.isnan(fit.vcov().to_numpy()).all()
    out = fit.predict(mt.head(3), interval="confidence", se_fit=True)
    assert (out["fit"] == 21.0).all() and out["se_fit"].isna().all()


def test_aliased_columns_contribute_nothing_to_predictions(cars):
    fit = _fit("mpg ~ wt + g + g2", cars)
    plain = _fit("mpg ~ wt + g", cars)
    np.testing.assert_allclose(fit.predict(cars), plain.predict(cars), rtol=1e-8)
    new = cars.head(4).assign(g2=["z", "x", "y", "x"])  # g2 no longer a copy of g
    np.testing.assert_allclose(fit.predict(new), plain.predict(new), rtol=1e-8)


def test_saved_aliased_glm_round_trips(cars, tmp_path):
    fit = _fit("am ~ wt + wt2 + hp", cars, family="binomial")
    path = tmp_path / "aliased.dlstat"
    fit.save(str(path))
    loaded = dl.load(str(path))
    assert loaded.record.aliased == fit.record.aliased == [1]
    pd.testing.assert_frame_equal(loaded.tidy(), fit.tidy())
    pd.testing.assert_frame_equal(loaded.vcov(), fit.vcov())
    assert loaded.aic() == fit.aic() and loaded.bic() == fit.bic()
    assert loaded.glance()["df.residual"].iloc[0] == 29
    np.testing.assert_allclose(loaded.predict(cars), fit.predict(cars), rtol=1e-12)


def test_penalty_or_hidden_layers_drop_nothing(cars):
    ridge = dl.dnn("mpg ~ wt + wt2", cars, penalty=0.1, **GLM)
    assert ridge.record.aliased == [] and ridge.coef().notna().all()
    net = dl.dnn("mpg ~ wt + wt2", cars, hidden=(3,), epochs=3, seed=1, verbose=0)
    assert net.record.aliased == []


def test_multinomial_aliased_column_is_undefined_in_every_class():
    data = dl.datasets.load("warpbreaks")
    data = data.assign(wool2=data["wool"].map({"A": "p", "B": "q"}))
    fit = _fit("tension ~ breaks + wool + wool2", data, family="multinomial")
    plain = _fit("tension ~ breaks + wool", data, family="multinomial")
    assert fit.coef().loc["wool2q"].isna().all()
    tidy, reference = fit.tidy(), plain.tidy()
    kept = tidy["estimate"].notna().to_numpy()
    np.testing.assert_allclose(tidy.loc[kept, ["estimate", "std.error"]].to_numpy(float),
                               reference[["estimate", "std.error"]].to_numpy(float), rtol=1e-4)
    assert fit.aic() == pytest.approx(plain.aic(), rel=1e-8)


# -- no raw NumPy error ----------------------------------------------------------------------
def test_singular_information_gives_na_with_a_reason(cars, monkeypatch):
    """Fitted probabilities of exactly 0 or 1 leave no information: NaN standard errors, a
    warning and a summary note saying why, never numpy.linalg.LinAlgError."""
    fit = _fit("am ~ wt", cars, family="binomial")
    monkeypatch.setattr(fit, "link_of", lambda X, offset=None: np.full((len(X), 1), 800.0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tidy = fit.tidy()
        summary = fit.summary()
        assert fit.predict(cars.head(2), se_fit=True)["se_fit"].isna().all()
    assert tidy["std.error"].isna().all() and tidy["estimate"].notna().all()
    assert any("singular" in n for n in summary.notes)
    assert caught and all(issubclass(w.category, dl.errors.DlstatWarning) for w in caught)
    assert "information matrix at the fitted means is singular" in str(caught[0].message)


# -- separation warning and BIC as R ---------------------------------------------------------
def test_weighted_binomial_with_tiny_fitted_values_is_silent_as_r(r):
    """R warns only for fitted probabilities within 10 * .Machine$double.eps of 0 or 1; this
    fit's smallest is 6.6e-10."""
    mt = dl.datasets.load("mtcars")
    fit = _fit("am ~ wt + hp", mt, weights="hp")
    assert 1e-10 < fit.fitted().min() < 1e-8
    assert not any("separable" in n for n in fit.record.notes)
    r.r("w <- NULL; g <- withCallingHandlers(glm(am ~ wt + hp, family = binomial, "
        "data = mtcars, weights = hp), warning = function(e) w <<- conditionMessage(e))")
    assert r.r("is.null(w)")[0]
    np.testing.assert_allclose(fit.coef().to_numpy(), _r_vector(r, "coef(g)"), rtol=1e-5)


@pytest.mark.parametrize("family,response", [("binomial", "am"), ("poisson", "carb")])
def test_bic_with_zero_weights_counts_every_row_as_r(r, family, response):
    mt = dl.datasets.load("mtcars")
    w = np.ones(32)
    w[[2, 6, 10]] = 0.0
    fit = _fit(f"{response} ~ wt", mt, family=family, weights=w)
    r.globalenv["w"] = r.FloatVector(w)
    r.r(f"g <- glm({response} ~ wt, family = {family}, data = mtcars, weights = w)")
    assert fit.nobs() == 29 == _r_vector(r, "nobs(g)")[0]
    np.testing.assert_allclose(fit.bic(), _r_vector(r, "BIC(g)")[0], rtol=RTOL)
    np.testing.assert_allclose(fit.aic(), _r_vector(r, "AIC(g)")[0], rtol=RTOL)
    np.testing.assert_allclose(fit.glance()["BIC"].iloc[0], _r_vector(r, "BIC(g)")[0],
                               rtol=RTOL)


def test_gaussian_bic_with_zero_weights_is_lms(r):
    """R's glm gives a gaussian fit with zero weights an infinite AIC (log of weight 0); the
    log-likelihood here is logLik.lm's, and so is the BIC (rows of weight 0 not counted)."""
    mt = dl.datasets.load("mtcars")
    w = np.ones(32)
    w[[2, 6, 10]] = 0.0
    fit = _fit("mpg ~ wt", mt, weights=w)
    r.globalenv["w"] = r.FloatVector(w)
    r.r("m <- lm(mpg ~ wt, data = mtcars, weights = w)")
    np.testing.assert_allclose(fit.bic(), _r_vector(r, "BIC(m)")[0], rtol=RTOL)
    np.testing.assert_allclose(fit.aic(), _r_vector(r, "AIC(m)")[0], rtol=RTOL)
