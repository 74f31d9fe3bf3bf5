"""Effects per input variable (marginaleffects' avg_slopes / avg_comparisons) against R's glm:
the estimates and their delta-method standard errors at hidden=(), computed in R from
``coef(glm)``, ``vcov(glm)`` and ``model.matrix`` on the moved data (an implementation that
shares nothing with dlstat's), and by hand for by=, newdata=, hypothesis= and equivalence=."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import dlstat as dl
from dlstat.errors import DataError, OptionError
from dlstat.results.bootstrap import percentile_interval

GLM = dict(hidden=(), penalty=0, optimizer="lbfgs", verbose=0)

# R: the average effect of `var` over the rows of `nd` as a function of the coefficients,
# through the fitted terms (poly/bs replay their training state, as predict() does), with
# marginaleffects' step (1e-4 * range in the model data, centred) for a numeric variable and
# the reference contrast for a factor; its delta-method SE by a numerical Jacobian.
R_HELPERS = """
ame_fun <- function(g, nd, var, level = NULL) {
  tt <- delete.response(terms(g))
  design <- function(d) {
    mf <- model.frame(tt, d, xlev = g$xlevels)
    list(X = model.matrix(tt, mf), o = if (is.null(model.offset(mf))) 0 else model.offset(mf))
  }
  if (is.null(level)) {
    h <- 1e-4 * diff(range(g$data[[var]]))
    hi <- nd; hi[[var]] <- nd[[var]] + h / 2
    lo <- nd; lo[[var]] <- nd[[var]] - h / 2
  } else {
    h <- 1
    hi <- nd; hi[[var]] <- factor(level, levels = levels(g$data[[var]]))
    lo <- nd; lo[[var]] <- factor(levels(g$data[[var]])[1], levels = levels(g$data[[var]]))
  }
  a <- design(hi); b <- design(lo)
  function(beta) mean((g$family$linkinv(drop(a$X %*% beta) + a$o) -
                       g$family$linkinv(drop(b$X %*% beta) + b$o)) / h)
}
ame_delta <- function(g, nd, var, level = NULL) {
  f <- ame_fun(g, nd, var, level)
  beta <- coef(g)
  J <- sapply(seq_along(beta), function(i) {
    e <- 1e-6 * max(1, abs(beta[i])); up <- beta; dn <- beta
    up[i] <- up[i] + e; dn[i] <- dn[i] - e
    (f(up) - f(dn)) / (2 * e)
  })
  c(f(beta), sqrt(drop(t(J) %*% vcov(g) %*% J)))
}
"""


@pytest.fixture(scope="module")
def r():
    from conftest import require

    require("rpy2")
    import rpy2.robjects as ro

    ro.r(R_HELPERS)
    ro.r("""
    budworm <- data.frame(ldose = rep(0:5, 2), numdead = c(1, 4, 9, 13, 18, 20, 0, 2, 6, 10, 12, 16),
                          sex = factor(rep(c("M", "F"), c(6, 6))))
    budworm$numalive <- 20 - budworm$numdead
    ctl <- glm.control(epsilon = 1e-14, maxit = 100)
    """)
    return ro


def to_r(r, name: str, frame: pd.DataFrame) -> None:
    """A pandas frame into R (text columns as factors), through a CSV file."""
    import tempfile

    path = tempfile.mktemp(suffix=".csv")
    frame.to_csv(path, index=False)
    r.r(f'{name} <- read.csv("{path}", stringsAsFactors = TRUE)')


def r_numbers(r, code: str) -> np.ndarray:
    return np.asarray(r.r(code), dtype=np.float64)


def simulated(n: int = 150, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 3, n)
    g = rng.choice(["a", "b", "c"], n)
    e = rng.uniform(1, 4, n)
    mu = np.exp(0.2 + 0.4 * x - 0.1 * x ** 2 + 0.5 * (g == "b") + np.log(e))
    return pd.DataFrame({"y": 1 + 0.8 * x + 0.3 * x ** 2 + (g == "b") + rng.normal(size=n),
                         "count": rng.poisson(mu), "x": x, "g": g, "e": e})


def budworm() -> pd.DataFrame:
    frame = pd.DataFrame({"ldose": np.tile(np.arange(6.0), 2),
                          "numdead": [1, 4, 9, 13, 18, 20, 0, 2, 6, 10, 12, 16],
                          "sex": ["M"] * 6 + ["F"] * 6})
    frame["numalive"] = 20 - frame["numdead"]
    return frame


# ------------------------------------------------------------------ the two numbers
def test_the_effect_of_x_is_its_average_derivative_not_its_coefficient(r):
    """y ~ x + I(x^2): the effect of x is b1 + 2 b2 mean(x), with the SE of that linear
    combination under vcov(glm) (normal, as marginaleffects)."""
    data = simulated()
    fit = dl.dnn("y ~ x + I(x**2)", data, **GLM)
    to_r(r, "sim", data)
    r.r("g_ <- glm(y ~ x + I(x^2), data = sim, control = ctl)")
    b = r_numbers(r, "coef(g_)")
    grad = np.array([0.0, 1.0, 2 * data["x"].mean()])
    V = r_numbers(r, "vcov(g_)")
    row = fit.effects().tidy().iloc[0]
    assert (row["term"], row["contrast"]) == ("x", "dY/dX")
    np.testing.assert_allclose(row["estimate"], grad @ b, rtol=1e-6)
    np.testing.assert_allclose(row["std.error"], np.sqrt(grad @ V @ grad), rtol=1e-5)
    z = row["estimate"] / row["std.error"]
    np.testing.assert_allclose(row["p.value"], 2 * stats.norm.sf(abs(z)), rtol=1e-8)
    np.testing.assert_allclose(row["conf.low"], row["estimate"] - 1.959964 * row["std.error"],
                               rtol=1e-6)
    assert abs(row["estimate"] - b[1]) > 0.1  # the per-column table reported b1
    np.testing.assert_allclose(fit.effects(per="column").tidy()["estimate"].iloc[0], b[1],
                               rtol=1e-6)


def test_budworm_sex_contrast_averages_over_the_rows_with_r_s_delta_se(r):
    """cbind(numdead, numalive) ~ sex * ldose: the effect of sex is the average of
    P(M) - P(F) over the rows (0.158, where the per-column table held the interaction
    column at its data value: 0.025); ldose's is the average derivative through both
    columns it builds."""
    fit = dl.dnn("cbind(numdead, numalive) ~ sex * ldose", budworm(), family="binomial", **GLM)
    r.r("g_ <- glm(cbind(numdead, numalive) ~ sex * ldose, family = binomial, data = budworm,"
        " control = ctl)")
    table = fit.effects().tidy().set_index("term")
    sex = r_numbers(r, 'ame_delta(g_, budworm, "sex", "M")')
    ldose = r_numbers(r, 'ame_delta(g_, budworm, "ldose")')
    assert table.loc["sex", "contrast"] == "M - F"
    np.testing.assert_allclose(table.loc["sex", "estimate"], 0.158333, atol=5e-7)
    np.testing.assert_allclose(table.loc["sex", ["estimate", "std.error"]].to_numpy(float),
                               sex, rtol=1e-5)
    np.testing.assert_allclose(table.loc["ldose", ["estimate", "std.error"]].to_numpy(float),
                               ldose, rtol=1e-5)
    old = fit.effects(per="column").tidy().set_index("term")
    np.testing.assert_allclose(old.loc["sexM", "estimate"], 0.0249, atol=5e-5)


# ---------------------------------------------------------- transforms, offsets, newdata
def test_poly_interactions_and_factors_match_r(r):
    data = simulated()
    fit = dl.dnn("y ~ poly(x, 2) * g", data, **GLM)
    to_r(r, "sim", data)
    r.r("g_ <- glm(y ~ poly(x, 2) * g, data = sim, control = ctl)")
    table = fit.effects().tidy()
    assert list(zip(table["term"], table["contrast"])) == [("x", "dY/dX"), ("g", "b - a"),
                                                           ("g", "c - a")]
    expected = [r_numbers(r, 'ame_delta(g_, sim, "x")'),
                r_numbers(r, 'ame_delta(g_, sim, "g", "b")'),
                r_numbers(r, 'ame_delta(g_, sim, "g", "c")')]
    np.testing.assert_allclose(table[["estimate", "std.error"]].to_numpy(), expected,
                               rtol=1e-5)


def test_a_poisson_offset_stays_with_its_row_and_newdata_chooses_the_rows(r):
    data = simulated()
    fit = dl.dnn("count ~ x + I(x**2) + g + offset(log(e))", data, family="poisson", **GLM)
    to_r(r, "sim", data)
    r.r("g_ <- glm(count ~ x + I(x^2) + g + offset(log(e)), family = poisson, data = sim,"
        " control = ctl)")
    table = fit.effects().tidy()
    np.testing.assert_allclose(table[["estimate", "std.error"]].to_numpy()[0],
                               r_numbers(r, 'ame_delta(g_, sim, "x")'), rtol=1e-5)
    np.testing.assert_allclose(table[["estimate", "std.error"]].to_numpy()[1],
                               r_numbers(r, 'ame_delta(g_, sim, "g", "b")'), rtol=1e-5)
    new = data.iloc[::3]
    to_r(r, "sim_new", new)
    on_new = fit.effects(newdata=new, variables="x").tidy()
    assert len(on_new) == 1
    np.testing.assert_allclose(on_new[["estimate", "std.error"]].to_numpy()[0],
                               r_numbers(r, 'ame_delta(g_, sim_new, "x")'), rtol=1e-5)
    # the offset is each row's: doubling e doubles mu and the effect
    doubled = fit.effects(newdata=new.assign(e=2 * new["e"]), variables="x").tidy()
    np.testing.assert_allclose(doubled["estimate"], 2 * on_new["estimate"], rtol=1e-6)


# ------------------------------------------------------------ by, hypothesis, equivalence
def test_by_groups_are_the_slopes_of_an_interaction():
    """y ~ x * g (gaussian): the slope of x within group k is b_x + b_x:gk on every row."""
    data = simulated()
    fit = dl.dnn("y ~ x * g", data, **GLM)
    b, V = fit.coef(), fit.vcov().to_numpy()
    table = fit.effects(variables="x", by="g").tidy()
    assert list(table["g"]) == ["a", "b", "c"] and list(table["term"]) == ["x"] * 3
    names = list(b.index)
    for k, group in enumerate("abc"):
        grad = np.zeros(len(names))
        grad[names.index("x")] = 1
        if group != "a":
            grad[names.index(f"x:g{group}")] = 1
        np.testing.assert_allclose(table["estimate"].iloc[k], grad @ b.to_numpy(), rtol=1e-6)
        np.testing.assert_allclose(table["std.error"].iloc[k], np.sqrt(grad @ V @ grad),
                                   rtol=1e-6)


def test_hypotheses_difference_ratio_pairwise_and_equivalence():
    data = simulated()
    fit = dl.dnn("y ~ x * g", data, **GLM)
    b, V = fit.coef().to_numpy(), fit.vcov().to_numpy()
    names = list(fit.coef().index)
    ga = np.eye(len(names))[names.index("x")]
    gb = ga + np.eye(len(names))[names.index("x:gb")]
    gc = ga + np.eye(len(names))[names.index("x:gc")]
    by = dict(variables="x", by="g")
    diff = fit.effects(**by, hypothesis="b2 - b1 = 0").tidy().iloc[0]
    d = gb - ga
    assert diff["term"] == "b2-b1=0"
    np.testing.assert_allclose(diff["estimate"], d @ b, rtol=1e-6)
    np.testing.assert_allclose(diff["std.error"], np.sqrt(d @ V @ d), rtol=1e-6)
    ratio = fit.effects(**by, hypothesis="b2 / b1 = 1").tidy().iloc[0]
    ea, eb = ga @ b, gb @ b
    grad = gb / ea - eb * ga / ea ** 2  # d(eb/ea)/dbeta
    np.testing.assert_allclose(ratio["estimate"], eb / ea - 1, rtol=1e-6)
    np.testing.assert_allclose(ratio["std.error"], np.sqrt(grad @ V @ grad), rtol=1e-6)
    pairs = fit.effects(**by, hypothesis="pairwise").tidy()
    # marginaleffects' ~pairwise: b_i - b_j for i > j, column by column
    assert list(pairs["term"]) == ["(x [g = b]) - (x [g = a])", "(x [g = c]) - (x [g = a])",
                                   "(x [g = c]) - (x [g = b])"]
    np.testing.assert_allclose(pairs["estimate"], [(gb - ga) @ b, (gc - ga) @ b,
                                                   (gc - gb) @ b], rtol=1e-6)
    null = fit.effects(**by, hypothesis=0.5).tidy()
    np.testing.assert_allclose(null["statistic"], (null["estimate"] - 0.5) / null["std.error"])
    eq = fit.effects(**by, equivalence=(0.5, 1.5)).tidy()
    se, est = eq["std.error"], eq["estimate"]
    p_low = stats.norm.sf((est - 0.5) / se)
    p_high = stats.norm.cdf((est - 1.5) / se)
    np.testing.assert_allclose(eq["p.value.noninf"], p_low, rtol=1e-10)
    np.testing.assert_allclose(eq["p.value.nonsup"], p_high, rtol=1e-10)
    np.testing.assert_allclose(eq["p.value.equiv"], np.maximum(p_low, p_high), rtol=1e-10)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(variables="nope"), OptionError, "not among the model's input variables"),
    (dict(by="nope"), DataError, "pass newdata= holding it"),
    (dict(hypothesis="b9 - b1"), OptionError, "rows b1 to b"),
    (dict(hypothesis="__import__('os').system('true')"), OptionError, "only"),
    (dict(hypothesis="b1 == b2"), OptionError, "one equation"),
    (dict(hypothesis="(" * 300 + "b1" + ")" * 300), OptionError, "longer than accepted"),
    (dict(hypothesis="2 ** 10 ** 10 * b1"), OptionError, "exponent must be a number"),
    (dict(hypothesis="1e308 ** 2 * b1"), None, None),  # float64 overflow, not a hang
    (dict(equivalence=(1, 0)), OptionError, "low <= high"),
    (dict(per="design"), OptionError, "per must be"),
    (dict(per="column", by="g"), OptionError, "apply to effects per variable"),
])
def test_mistakes_get_clear_errors_and_hypotheses_are_never_evaluated(kwargs, error, match):
    data = simulated(40)
    fit = dl.dnn("y ~ x + g", data, **GLM)
    if error is None:
        assert np.isinf(fit.effects(**kwargs).tidy()["estimate"]).all()
        return
    with pytest.raises(error, match=match):
        fit.effects(**kwargs)


# --------------------------------------------------------------------- a network's bootstrap
def test_a_network_s_bootstrap_effects_per_variable_are_its_predictions_moved():
    data = simulated(120)
    # trained to convergence: a fit still improving at its epoch limit has no intervals
    fit = dl.dnn("y ~ x + I(x**2) + g", data, hidden=(4,), optimizer="lbfgs", epochs=300,
                 seed=2, bootstrap=4, verbose=0)
    table = fit.effects().tidy()
    h = 1e-4 * np.ptp(data["x"])
    slope = ((fit.predict(data.assign(x=data["x"] + h / 2))
              - fit.predict(data.assign(x=data["x"] - h / 2))) / h).mean()
    contrast = (fit.predict(data.assign(g="c")) - fit.predict(data.assign(g="a"))).mean()
    np.testing.assert_allclose(table["estimate"], [slope, table["estimate"][1], contrast],
                               rtol=1e-4)
    draws = [((r.predict(data.assign(g="c")) - r.predict(data.assign(g="a"))).mean())
             for r in fit.bootstrap.fits]
    np.testing.assert_allclose(table["std.error"].iloc[2], np.std(draws, ddof=1), rtol=1e-6)
    np.testing.assert_allclose(table[["conf.low", "conf.high"]].iloc[2],
                               percentile_interval(np.array(draws), 0.95), rtol=1e-6)
    text = fit.summary().text()
    assert "g c - a" in text and "Average marginal effects" in text
