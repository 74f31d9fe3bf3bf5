"""The Cox family against R's survival: coxph (coefficients, standard errors, log partial
likelihood, AIC, anova), residuals.coxph, concordance and survfit, with Breslow and Efron ties;
the set-level loss shared by NumPy and TensorFlow; the Surv() response; a deep Cox model."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import dlstat as dl
from dlstat.families import survival
from test_family_table import frame_of

GLM = dict(hidden=(), optimizer="lbfgs", verbose=0)
CASES = {
    "lung": ("Surv(time, status) ~ age + sex + ph.ecog",
             'na.omit(lung[, c("time", "status", "age", "sex", "ph.ecog")])'),
    "ovarian": ("Surv(futime, fustat) ~ age + resid.ds", "ovarian"),
}
TIMES = [100.0, 300.0, 500.0]


@pytest.fixture(scope="module")
def r():
    from conftest import require

    require("rpy2")
    import rpy2.robjects as ro

    ro.r("suppressMessages(library(survival))")
    for name, (_, expr) in CASES.items():
        ro.r(f"{name}_ <- {expr}")
    return ro


def vec(r, code: str) -> np.ndarray:
    return np.asarray(r.r(code), dtype=np.float64)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("case", list(CASES))
def test_cox_at_hidden_none_is_coxph(r, case, ties):
    formula, _ = CASES[case]
    data = frame_of(r, f"{case}_")
    fit = dl.dnn(formula, data, ties=ties, **GLM)
    r.r(f'f_ <- coxph({formula}, data = {case}_, ties = "{ties}")')
    np.testing.assert_allclose(fit.coef().to_numpy(), vec(r, "coef(f_)"), rtol=1e-6)
    tidy = fit.tidy()
    np.testing.assert_allclose(tidy["std.error"], vec(r, "sqrt(diag(vcov(f_)))"), rtol=1e-5)
    np.testing.assert_allclose(tidy["p.value"], vec(r, "summary(f_)$coefficients[, 5]"),
                               rtol=1e-4)
    np.testing.assert_allclose(fit.loglik(), vec(r, "f_$loglik[2]")[0], rtol=1e-9)
    np.testing.assert_allclose(fit.glance()["null_deviance"].iloc[0],
                               -2 * vec(r, "f_$loglik[1]")[0], rtol=1e-9)
    np.testing.assert_allclose(fit.aic(), vec(r, "AIC(f_)")[0], rtol=1e-9)
    np.testing.assert_allclose(fit.bic(), vec(r, "BIC(f_)")[0], rtol=1e-9)
    np.testing.assert_allclose(fit.glance()["train_concordance"].iloc[0],
                               vec(r, "concordance(f_)$concordance")[0], rtol=1e-9)
    for kind in ("martingale", "deviance"):
        np.testing.assert_allclose(fit.residuals(kind).to_numpy(),
                                   vec(r, f'residuals(f_, type = "{kind}")'), atol=1e-6,
                                   err_msg=kind)
    surv = fit.predict(data.head(4), type="survival", times=TIMES).to_numpy()
    r.r(f"s_ <- summary(survfit(f_, newdata = {case}_[1:4, ]), times = c(100, 300, 500), "
        "extend = TRUE)$surv")
    np.testing.assert_allclose(surv, vec(r, "t(s_)"), rtol=1e-6)
    np.testing.assert_allclose(fit.predict(data.head(4), type="risk"),
                               vec(r, f'predict(f_, newdata = {case}_[1:4, ], type = "risk")'),
                               rtol=1e-6)


def test_anova_is_anova_coxph(r):
    data = frame_of(r, "lung_")
    small = dl.dnn("Surv(time, status) ~ age", data, **GLM)
    big = dl.dnn(CASES["lung"][0], data, **GLM)
    table = dl.anova(small, big).table
    r.r(f'a_ <- anova(coxph(Surv(time, status) ~ age, lung_), coxph({CASES["lung"][0]}, '
        "lung_))")
    np.testing.assert_allclose(table["Deviance"].iloc[1], vec(r, "a_$Chisq[2]")[0], rtol=1e-7)
    np.testing.assert_allclose(table["Pr(>Chi)"].iloc[1], vec(r, 'a_[["Pr(>|Chi|)"]][2]')[0],
                               rtol=1e-5)


def test_status_codings_are_survival_s():
    """0/1, 1/2 and logical status give the same fit; other values are refused."""
    lung = dl.datasets.load("mtcars").assign(time=lambda d: d["mpg"], status=lambda d: d["am"])
    one_two = lung.assign(status=lung["status"] + 1)
    logical = lung.assign(status=lung["status"] == 1)
    coefs = [dl.dnn("Surv(time, status) ~ wt + hp", d, **GLM).coef().to_numpy()
             for d in (lung, one_two, logical)]
    np.testing.assert_allclose(coefs[1], coefs[0], rtol=1e-10)
    np.testing.assert_allclose(coefs[2], coefs[0], rtol=1e-10)
    with pytest.raises(dl.errors.ResponseError, match=r"value\(s\) \[3.0\]"):
        dl.dnn("Surv(time, status) ~ wt", lung.assign(status=lung["status"] * 3), **GLM)


def test_surv_goes_with_cox_only():
    mt = dl.datasets.load("mtcars")
    with pytest.raises(dl.errors.ResponseError, match="needs a Surv"):
        dl.dnn("mpg ~ wt", mt, family="cox", **GLM)
    with pytest.raises(dl.errors.ResponseError, match="needs family"):
        dl.dnn("Surv(mpg, am) ~ wt", mt, family="gaussian", **GLM)
    with pytest.raises(dl.errors.OptionError, match="ties is for family"):
        dl.dnn("mpg ~ wt", mt, ties="breslow", **GLM)
    with pytest.raises(dl.errors.FormulaError, match="takes two columns"):
        dl.dnn("Surv(mpg, am, vs) ~ wt", mt, **GLM)
    fit = dl.dnn("Surv(mpg, am) ~ wt", mt, **GLM)
    with pytest.raises(dl.errors.OptionError, match="martingale"):
        fit.residuals("pearson")
    with pytest.raises(dl.errors.OptionError, match="times="):
        fit.predict(mt, type="survival")
    with pytest.raises(dl.errors.OptionError, match="survival model"):
        dl.dnn("mpg ~ wt", mt, **GLM).predict(mt, type="risk")


def test_the_engine_loss_is_the_numpy_partial_likelihood():
    """One definition: the TensorFlow set loss over a stack [M, B] with padding (weight 0)
    equals NumPy's on each network's own rows, and its gradient is the score."""
    tf = pytest.importorskip("tensorflow")
    from dlstat.families import LossKey
    from dlstat.families.ops import numpy_ops, tf_ops

    rng = np.random.default_rng(0)
    n = 40
    y = np.column_stack([rng.integers(1, 12, n).astype(float), rng.integers(0, 2, n)])
    eta = rng.normal(size=(2, n, 1))
    w = np.ones((2, n))
    w[1, n // 2:] = 0.0  # network 2 sees half the rows (the rest is padding)
    w[0, :5] = 2.5  # prior weights
    for ties in survival.TIES:
        key = LossKey("cox", "log", ties)
        variable = tf.Variable(eta)
        with tf.GradientTape() as tape:
            loss, total = key.batch_loss(tf_ops(), tf.constant(np.stack([y, y])), variable,
                                         tf.constant(w))
            summed = tf.reduce_sum(loss * total)
        grad = tape.gradient(summed, variable).numpy()[..., 0]
        for m in range(2):
            kept = w[m] > 0
            own = survival.deviance(y[kept], eta[m, kept], w[m, kept], ties) / 2
            np.testing.assert_allclose(float(loss[m] * total[m]), own, rtol=1e-10)
            score = survival.score_rows(y[kept], eta[m, kept, 0], w[m, kept], ties)
            np.testing.assert_allclose(-grad[m, kept], score, atol=1e-10)
        loss_np, _ = key.batch_loss(numpy_ops(), np.stack([y, y]), eta, w)
        np.testing.assert_allclose(loss_np, loss.numpy(), rtol=1e-10)


def test_model_file_round_trip(tmp_path):
    mt = dl.datasets.load("mtcars")
    fit = dl.dnn("Surv(mpg, am) ~ wt + hp", mt, ties="breslow", **GLM)
    fit.save(tmp_path / "cox.dlstat")
    back = dl.load(str(tmp_path / "cox.dlstat"))
    assert back.family.ties == "breslow"
    pd.testing.assert_frame_equal(back.predict(mt, type="survival", times=[15, 20]),
                                  fit.predict(mt, type="survival", times=[15, 20]))
    np.testing.assert_allclose(back.tidy()["std.error"], fit.tidy()["std.error"], rtol=1e-12)


def simulated(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Proportional hazards with a non-linear log hazard, exponential censoring."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    lp = np.sin(2 * X[:, 0]) + X[:, 1] ** 2 - 1 + 0.5 * X[:, 2]
    t, c = rng.exponential(np.exp(-lp)), rng.exponential(2.0, n)
    frame = pd.DataFrame(X, columns=["x1", "x2", "x3"])
    return frame.assign(time=np.minimum(t, c), status=(t <= c).astype(int)), lp


def test_a_deep_cox_model_learns_a_non_linear_hazard():
    """Risk sets within each batch: held-out concordance well above η = 0's 0.5 and above
    the linear Cox model's, which cannot see sin(2 x1) or x2²."""
    data, _ = simulated(2000, 1)
    train, test = data.iloc[:1500], data.iloc[1500:]
    formula = "Surv(time, status) ~ x1 + x2 + x3"
    deep = dl.dnn(formula, train, hidden=(32, 16), epochs=40, batch_size=128,
                  learning_rate=0.01, seed=1, verbose=0)
    linear = dl.dnn(formula, train, **GLM)
    y = test[["time", "status"]].to_numpy(float)
    c_deep = survival.concordance(y, deep.predict(test, type="link").to_numpy())
    c_linear = survival.concordance(y, linear.predict(test, type="link").to_numpy())
    assert survival.concordance(y, np.zeros(len(y))) == 0.5
    assert c_deep > 0.75 and c_deep > c_linear + 0.1, (c_deep, c_linear)


def test_cv_compare_and_path_run_on_cox():
    """compare()'s GLM baseline (Newton on the partial likelihood) equals the lbfgs fits of
    cv_dnn on the same folds; the null model (η = 0) has concordance 1/2."""
    data, _ = simulated(300, 2)
    formula = "Surv(time, status) ~ x1 + x2 + x3"
    cv = dl.cv_dnn(formula, data, folds=3, **GLM).tidy().set_index("metric")
    table = dl.compare(formula, data, folds=3, hidden=(8,), epochs=5, verbose=0).tidy()
    glm = table[table["model"] == "glm"].set_index("metric")
    for metric in ("mean_deviance", "concordance"):
        np.testing.assert_allclose(glm.loc[metric, "mean"], cv.loc[metric, "mean"], rtol=1e-6)
    null = table[table["model"] == "null"].set_index("metric")
    assert null.loc["concordance", "mean"] == 0.5
    path = dl.dnn_path(formula, data, folds=3, hidden=(), mixture=1.0, epochs=30,
                       n_penalties=5, verbose=0)
    assert path.penalty_min > 0


def test_cli_fits_and_predicts_survival(tmp_path, capsys):
    from dlstat.fronts.cli import main

    data, _ = simulated(200, 3)
    data.to_csv(tmp_path / "d.csv", index=False)
    model = tmp_path / "m.dlstat"
    assert main(["fit", "Surv(time, status) ~ x1 + x2", str(tmp_path / "d.csv"), "--hidden", "",
                 "--optimizer", "lbfgs", "--ties", "breslow", "--save", str(model), "-q"]) == 0
    assert "exp(coef)" in capsys.readouterr().out
    assert main(["predict", str(model), str(tmp_path / "d.csv"), "--type", "survival",
                 "--times", "0.5", "1", "-o", str(tmp_path / "p.csv")]) == 0
    expected = dl.load(str(model)).predict(data, type="survival", times=[0.5, 1.0])
    np.testing.assert_allclose(pd.read_csv(tmp_path / "p.csv", index_col=0).to_numpy(),
                               expected.to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("baseline", ["x", [[1, 2], [0.5]], [[2, 1], [0.1, 0.2]],
                                      [[1, 2], [0.3, 0.1]], {"a": 1}, [[1, "b"], [0, 1]]])
def test_a_tampered_baseline_in_a_model_file_is_refused(tmp_path, baseline):
    from test_model_file_safety import SPEC, _members, _npy, _spec, _write

    mt = dl.datasets.load("mtcars")
    path = tmp_path / "cox.dlstat"
    dl.dnn("Surv(mpg, am) ~ wt", mt, **GLM).save(str(path))
    spec = _spec(path)
    spec["family"]["baseline"] = baseline
    members = _members(path)
    members[SPEC] = _npy(np.frombuffer(json.dumps(spec).encode(), dtype=np.uint8))
    _write(tmp_path / "bad.dlstat", members)
    with pytest.raises(dl.errors.ModelFileError, match="baseline"):
        dl.load(str(tmp_path / "bad.dlstat"))
