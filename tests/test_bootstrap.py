"""Bootstrap inference for networks: ``dnn(..., bootstrap=B)`` trains B case-resampled networks
in the stack of the full-data fit; effects, importance, partial dependence and prediction
intervals come from their spread."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from conftest import small_regression

import dlstat as dl
from dlstat.errors import DataError, OptionError, OptionTypeError
from dlstat.fitting.blocks import Network, make_block, train_blocks
from dlstat.fitting.dnn import bootstrap_networks
from dlstat.fitting.resolve import fit_options
from dlstat.options import FitOptions
from dlstat.results.bootstrap import percentile_interval, replicate_seed, resample_counts
from dlstat.results.convergence import unconverged_reason

GLM = dict(hidden=(), optimizer="lbfgs", verbose=0)
BROOM = ["term", "estimate", "std.error", "statistic", "p.value", "conf.low", "conf.high"]


def linear_data(n: int, seed: int, beta=(1.0, -0.5, 0.0)) -> pd.DataFrame:
    """y = 1 + Σ beta_j x_j + N(0, 1): known effects for coverage checks."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({f"x{j}": rng.normal(size=n) for j in range(1, len(beta) + 1)})
    df["y"] = 1 + df.to_numpy() @ np.array(beta) + rng.normal(size=n)
    return df


@pytest.fixture(scope="module")
def mtcars():
    return dl.datasets.load("mtcars")


@pytest.fixture(scope="module")
def glm_boot(mtcars):
    return dl.dnn("mpg ~ wt + hp + factor(cyl)", mtcars, bootstrap=20, seed=3, **GLM)


@pytest.fixture(scope="module")
def net_boot():
    data = small_regression(n=150, seed=2)
    fit = dl.dnn("y ~ x1 + x2 + x3", data, hidden=(6,), epochs=15, batch_size=16,
                 bootstrap=4, seed=5, verbose=0)
    return data, fit


@pytest.fixture(scope="module")
def converged_boot():
    """A bootstrapped network trained until its validation loss stopped falling: the kind whose
    prediction intervals are given (a fit still improving gets NaN, test_coverage.py)."""
    data = small_regression(n=150, seed=2)
    fit = dl.dnn("y ~ x1 + x2 + x3", data, hidden=(6,), epochs=500, learning_rate=0.02,
                 batch_size=16, validation=0.2, early_stopping=3, bootstrap=4, seed=5,
                 verbose=0)
    assert unconverged_reason(fit) is None
    return data, fit


# ---------------------------------------------------------------------------- the stack


def test_replicates_equal_networks_trained_alone(net_boot):
    data, fit = net_boot
    opts = fit_options(hidden=(6,), epochs=15, batch_size=16, seed=5, verbose=0)
    block = make_block("y ~ x1 + x2 + x3", data, opts, validation_seed=5)
    n = len(block.X)
    alone_full = train_blocks([block], [Network(0, 0.0, 0.0, 5)], opts, "", "")[0]
    for key, value in alone_full.params.items():
        np.testing.assert_allclose(fit.params[key], value, atol=1e-5)
    for b in (1, 4):
        counts = resample_counts(5, b, n)
        net = Network(0, 0.0, 0.0, replicate_seed(5, b), counts=counts)
        alone = train_blocks([block], [net], opts, "", "")[0]
        np.testing.assert_array_equal(fit.bootstrap.counts[b - 1], counts)
        for key, value in alone.params.items():
            np.testing.assert_allclose(fit.bootstrap.fits[b - 1].params[key], value, atol=1e-5)


def test_lbfgs_replicates_and_full_fit_equal_networks_trained_alone():
    """Each network of an L-BFGS stack has its own minimiser: the full fit does not move with
    B, and replicate b is the same network whatever B (before, one L-BFGS over the summed
    stack moved the full fit's average effect of x1 from 0.473 alone to 0.555 with B=5)."""
    data = small_regression(n=120, seed=4)
    opts = dict(hidden=(6,), optimizer="lbfgs", epochs=60, seed=5, verbose=0)
    alone = dl.dnn("y ~ x1 + x2 + x3", data, **opts)
    small = dl.dnn("y ~ x1 + x2 + x3", data, bootstrap=2, **opts)
    large = dl.dnn("y ~ x1 + x2 + x3", data, bootstrap=5, **opts)
    for key, value in alone.params.items():
        np.testing.assert_array_equal(small.params[key], value)
        np.testing.assert_array_equal(large.params[key], value)
    for b in range(2):
        for key, value in small.bootstrap.fits[b].params.items():
            np.testing.assert_array_equal(large.bootstrap.fits[b].params[key], value)
    np.testing.assert_array_equal(small.history["loss"], alone.history["loss"])


def test_lbfgs_networks_stop_on_their_own():
    """GLMs of one stack converge after different numbers of iterations; each records its
    own, with NaN after it stopped, and the stack's evaluation errors reach the caller."""
    from dlstat.engine.lbfgs import Lockstep

    data = linear_data(80, seed=1)
    fit = dl.dnn("y ~ x1 + x2 + x3", data, bootstrap=6, seed=2, **GLM)
    runs = [fit.record.epochs_run] + [r.record.epochs_run for r in fit.bootstrap.fits]
    assert len(set(runs)) > 1
    assert all(len(r.history) == r.record.epochs_run for r in fit.bootstrap.fits)

    def broken(theta):
        raise FloatingPointError("stack evaluation failed here")

    lockstep = Lockstep(broken, np.zeros(4), [np.arange(2), np.arange(2, 4)])
    with pytest.raises(FloatingPointError, match="failed here"):
        lockstep.run(lambda m: lockstep.ask(m, np.zeros(2)) or 1 / 0)


def test_resamples_depend_only_on_seed_and_index():
    def counts(seed, size):
        return bootstrap_networks(0, FitOptions(seed=seed, bootstrap=size), 50)[1]

    small, large = counts(7, 3), counts(7, 10)
    np.testing.assert_array_equal(small, large[:3])
    assert (small.sum(axis=1) == 50).all()
    assert not np.array_equal(small[0], small[1])
    assert not np.array_equal(counts(8, 1), small[:1])
    assert replicate_seed(7, 2) == replicate_seed(7, 2) != replicate_seed(7, 3)


def test_validation_rows_are_shared_and_not_resampled(mtcars):
    fit = dl.dnn("mpg ~ wt + hp", mtcars, hidden=(3,), epochs=5, validation=0.25,
                 early_stopping=2, bootstrap=3, verbose=0)
    n_train = fit.record.n_obs
    assert fit.bootstrap.counts.shape == (3, n_train)
    assert all(r.record.n_validation == fit.record.n_validation == 8
               for r in fit.bootstrap.fits)


@pytest.mark.parametrize("value, error", [
    (-1, OptionError), (0, OptionError), (1, OptionError), (1.5, OptionTypeError),
    ("10", OptionTypeError), (True, OptionTypeError), (float("nan"), OptionTypeError),
    (10**6, OptionError), (2**40, OptionError),
])
def test_bad_bootstrap_is_refused(mtcars, value, error):
    with pytest.raises(error, match="bootstrap"):
        dl.dnn("mpg ~ wt", mtcars, bootstrap=value, **GLM)


def test_huge_bootstrap_names_the_limit(mtcars):
    with pytest.raises(OptionError, match="at most 1000"):
        dl.dnn("mpg ~ wt", mtcars, bootstrap=5000, **GLM)


@pytest.mark.parametrize("function", ["cv_dnn", "dnn_path", "compare"])
def test_bootstrap_is_refused_where_it_would_be_ignored(mtcars, function):
    with pytest.raises(OptionError, match=f"dnn\\(\\) only; {function}"):
        getattr(dl, function)("mpg ~ wt", mtcars, bootstrap=5, **GLM)


# ------------------------------------------------------------------------------ effects


def test_glm_effects_equal_coefficients(glm_boot):
    table = glm_boot.effects(per="column").tidy()
    assert list(table.columns) == BROOM + ["sd"]
    coef = glm_boot.coef()
    np.testing.assert_allclose(table["estimate"], coef.iloc[1:].to_numpy(), rtol=1e-6)
    assert table["term"].tolist() == coef.index[1:].tolist()
    # a linear model's derivative is the same on every row
    np.testing.assert_allclose(table["sd"][:2], 0, atol=1e-6)
    assert (table["conf.low"] < table["estimate"]).all()
    assert (table["estimate"] < table["conf.high"]).all()


def test_bootstrap_se_of_a_glm_is_close_to_wald():
    data = linear_data(400, seed=11)
    fit = dl.dnn("y ~ x1 + x2 + x3", data, bootstrap=200, seed=1, **GLM)
    boot = fit.effects(per="column").tidy()["std.error"].to_numpy()
    delta = fit.effects().tidy()["std.error"].to_numpy()  # per variable: the delta method
    np.testing.assert_allclose(delta, fit.tidy()["std.error"].to_numpy()[1:], rtol=1e-6)
    wald = fit.tidy()["std.error"].to_numpy()[1:]
    # 200 resamples estimate an SE to about ±5% (1/sqrt(2B)); allow 20%
    np.testing.assert_allclose(boot, wald, rtol=0.2)


def test_bootstrap_intervals_cover_known_effects():
    """30 simulated data sets (n = 100), B = 100 each, 90% percentile intervals of three
    effects (1, -0.5, 0): the 90 intervals cover the truth at 0.90 ± 0.08 (binomial sd of
    the rate: 0.032; B = 100 keeps the 5% and 95% order statistics apart)."""
    beta = np.array([1.0, -0.5, 0.0])
    covered = []
    for rep in range(30):
        fit = dl.dnn("y ~ x1 + x2 + x3", linear_data(100, seed=100 + rep, beta=beta),
                     bootstrap=100, seed=rep, **GLM)
        t = fit.effects(level=0.9, per="column").tidy()
        covered += list((t["conf.low"] <= beta) & (beta <= t["conf.high"]))
    print(f"coverage {np.mean(covered):.3f} of {len(covered)} intervals")
    assert abs(np.mean(covered) - 0.9) <= 0.08


def test_effects_without_bootstrap_are_estimates_with_a_note(mtcars):
    fit = dl.dnn("mpg ~ wt + factor(am)", mtcars, **GLM)
    effects = fit.effects(per="column")
    table = effects.tidy()
    assert table[BROOM[2:]].isna().all().all()
    np.testing.assert_allclose(table["estimate"], fit.coef().iloc[1:], rtol=1e-6)
    assert "bootstrap=" in effects.summary().text()


def test_multinomial_effects_per_class_sum_to_zero():
    iris = dl.datasets.load("iris")
    # trained until early stopping: a fit still improving at its epoch limit has no intervals
    fit = dl.dnn("Species ~ Sepal.Length + Petal.Width", iris, hidden=(3,), epochs=1000,
                 learning_rate=0.05, validation=0.2, early_stopping=5, bootstrap=3, verbose=0)
    for per in ("column", "variable"):
        table = fit.effects(per=per).tidy()
        assert table["response"].unique().tolist() == ["setosa", "versicolor", "virginica"]
        by_term = table.groupby("term")["estimate"].sum()
        np.testing.assert_allclose(by_term, 0, atol=1e-6)  # class probabilities sum to one
        draws = table["std.error"]
        assert np.isfinite(draws).all() and (draws > 0).all()


def test_summary_shows_effects_and_importance_with_codes(glm_boot):
    text = glm_boot.summary().text()
    assert "Average marginal effects:" in text and "Permutation importance:" in text
    assert "Signif. codes" in text and "***" in text
    assert re.search(r"Replicates:\s+20\n", text)


# --------------------------------------------------------------------------- importance


def test_importance_ranks_a_strong_input_above_noise():
    data = linear_data(200, seed=4, beta=(2.0, 0.0, 0.0))
    # trained until the validation loss stops falling: an unconverged fit gets no intervals
    fit = dl.dnn("y ~ x1 + x2 + x3", data, hidden=(8,), epochs=500, learning_rate=0.01,
                 validation=0.2, early_stopping=5, bootstrap=5, verbose=0)
    table = fit.importance().tidy().set_index("term")
    assert table.loc["x1", "estimate"] > 10 * table.loc[["x2", "x3"], "estimate"].abs().max()
    assert table.loc["x1", "conf.low"] > 0


def test_importance_on_newdata_and_without_bootstrap(mtcars):
    fit = dl.dnn("mpg ~ wt + qsec", mtcars, **GLM)
    on_train = fit.importance()
    assert on_train.tidy()["std.error"].isna().all()
    assert "optimistic" in on_train.summary().text()
    held = fit.importance(newdata=mtcars.iloc[:10])
    assert "newdata (10 rows)" in held.summary().text()
    with pytest.raises(DataError, match="at least 2"):
        fit.importance(newdata=mtcars.iloc[:1])


# -------------------------------------------------------------------- partial dependence


def test_partial_dependence_of_a_linear_model_is_its_line(glm_boot):
    pd_wt = glm_boot.partial_dependence("wt", grid=6)
    curve = pd_wt.tidy()
    slope = np.diff(curve["estimate"]) / np.diff(curve["value"])
    np.testing.assert_allclose(slope, glm_boot.coef()["wt"], rtol=1e-6)
    assert (curve["conf.low"] <= curve["conf.high"]).all()
    ale = glm_boot.partial_dependence("wt", kind="ale", grid=6).tidy()
    np.testing.assert_allclose(np.diff(ale["estimate"]) / np.diff(ale["value"]),
                               glm_boot.coef()["wt"], rtol=1e-6)
    ice = glm_boot.partial_dependence("wt", kind="ice", grid=3).tidy()
    assert len(ice) == 3 * glm_boot.nobs() and set(ice.columns) == {"row", "value", "estimate"}


def test_partial_dependence_of_a_factor(glm_boot):
    curve = glm_boot.partial_dependence("cyl").tidy()
    assert curve["value"].tolist() == ["4", "6", "8"]
    coef = glm_boot.coef()
    np.testing.assert_allclose(np.diff(curve["estimate"].to_numpy())[0], coef["factor(cyl)6"])
    with pytest.raises(OptionError, match="numeric column"):
        glm_boot.partial_dependence("cyl", kind="ale")


@pytest.mark.parametrize("kwargs, match", [
    ({"term": "nope"}, "choose one of"), ({"term": "wt", "kind": "pd"}, "kind must be"),
    ({"term": "wt", "grid": 1}, "grid must be"), ({"term": "wt", "grid": "5"}, "grid must be"),
    ({"term": "wt", "level": 2}, "confidence level"),
])
def test_partial_dependence_refuses_mistakes(glm_boot, kwargs, match):
    with pytest.raises(OptionError, match=match):
        glm_boot.partial_dependence(**kwargs)


def test_plots_return_figures(glm_boot):
    import matplotlib

    matplotlib.use("Agg")
    for result in (glm_boot.partial_dependence("wt", kind="ice", grid=4),
                   glm_boot.partial_dependence("cyl"), glm_boot.effects(),
                   glm_boot.importance()):
        assert result.plot().axes


# --------------------------------------------------------------------------- predictions


def test_network_prediction_intervals_are_bootstrap_percentiles(converged_boot):
    data, fit = converged_boot
    new = data.head(5).copy()
    new.loc[new.index[0], "x1"] = np.nan
    frame = fit.predict(new, interval="confidence", level=0.8)
    assert list(frame.columns) == ["fit", "lwr", "upr"] and frame.iloc[0].isna().all()
    draws = np.stack([r.predict(new.iloc[1:]).to_numpy() for r in fit.bootstrap.fits])
    np.testing.assert_allclose(frame["lwr"].iloc[1:], percentile_interval(draws, 0.8)[0])
    np.testing.assert_allclose(frame["fit"].iloc[1:], fit.predict(new.iloc[1:]))


def test_glm_prediction_intervals_keep_the_delta_method(glm_boot, mtcars):
    plain = dl.dnn("mpg ~ wt + hp + factor(cyl)", mtcars, seed=3, **GLM)
    pd.testing.assert_frame_equal(glm_boot.predict(mtcars, interval="confidence"),
                                  plain.predict(mtcars, interval="confidence"), rtol=1e-6)


def test_network_without_bootstrap_still_refuses_intervals(mtcars):
    fit = dl.dnn("mpg ~ wt", mtcars, hidden=(2,), epochs=2, verbose=0)
    with pytest.raises(OptionError, match="bootstrap=100"):
        fit.predict(mtcars, interval="confidence")


# ------------------------------------------------------------------------------- files


def test_saving_a_bootstrapped_fit_is_refused_unless_dropped(glm_boot, mtcars, tmp_path):
    path = tmp_path / "boot.dlstat"
    with pytest.raises(OptionError, match="drop_bootstrap=True"):
        glm_boot.save(str(path))
    assert not path.exists()
    glm_boot.save(str(path), drop_bootstrap=True)
    loaded = dl.load(str(path))
    assert loaded.bootstrap is None and loaded.options.bootstrap is None
    np.testing.assert_allclose(loaded.predict(mtcars), glm_boot.predict(mtcars))


def test_r_predict_interval_of_a_bootstrapped_network_is_the_percentile_interval(converged_boot):
    """R's predict(fit, newdata, interval = "confidence") reaches Python through predict_se:
    for a bootstrapped network it is the same percentile interval, with no se.fit."""
    from dlstat.fronts.rcodec import frame_from_r
    from dlstat.fronts.rgenerics import predict_with_se

    data, fit = converged_boot
    sent = predict_with_se(fit, data.head(5), "response", None, "confidence", 0.9)
    got = frame_from_r(sent["frame"])
    want = fit.predict(data.head(5), interval="confidence", level=0.9)
    np.testing.assert_allclose(got[["fit", "lwr", "upr"]].to_numpy(), want.to_numpy())
    assert np.isnan(sent["residual_scale"])


def test_lbfgs_penalty_of_a_convolution_is_per_network(monkeypatch):
    """L-BFGS's penalty sums each network's kernels over all their axes: a convolution's
    kernel [M, k, in, out] once reduced only two axes, so the data loss broadcast into
    [M, in, out] and the [M, 1, 1] penalties met the kernel's width axis."""
    from dlstat import engine
    from dlstat.engine.graph import tf_module
    from dlstat.engine.layers import param_defs
    from dlstat.engine.lbfgs import Layout, _objective
    from dlstat.engine.network import init_params
    from dlstat.fitting import blocks

    jobs = []
    monkeypatch.setattr(blocks, "train_stack",
                        lambda job: jobs.append(job) or engine.train_stack(job))
    rng = np.random.default_rng(0)
    data = {"y": rng.normal(size=40), "x": rng.normal(size=(40, 8, 2))}
    dl.dnn("y ~ x", data, architecture=[dl.conv1d(3, 2), dl.global_avgpool()],
           optimizer="lbfgs", penalty=0.1, mixture=0.5, epochs=3, bootstrap=2, seed=1,
           verbose=0)
    job = jobs[-1]
    job.penalty = np.array([0.1, 0.3, 0.7])
    tf = tf_module()
    params0 = init_params(job.topology, job.seeds, job.output_bias, job.initial)
    layout = Layout.of(job, params0)
    losses, _ = _objective(tf, job, layout, params0)
    theta, _ = layout.start(params0)
    data_loss, _, penalty = (v.numpy() for v in losses(tf.constant(theta)))
    defs = param_defs(job.topology)
    expected = np.zeros(job.size)
    for name in layout.names:
        if defs[name].penalised:
            w = params0[name].reshape(job.size, -1)
            expected += job.penalty * (0.5 * (1 - job.mixture) * (w ** 2).sum(1)
                                       + job.mixture * np.abs(w).sum(1))
    assert data_loss.shape == penalty.shape == (job.size,)
    np.testing.assert_allclose(penalty, expected, rtol=1e-12)


# ------------------------------------------------------------------- the percentile rule


@pytest.mark.parametrize("B", [3, 19, 30, 99, 100, 1000])
def test_percentile_interval_is_boot_ci_perc(B):
    """The percentile interval is R's boot.ci(type = "perc"): the (B + 1)·α-th order statistic
    interpolated on the normal scale (boot:::norm.inter), integer ranks exact, the extremes
    beyond them; NumPy's default quantile (1 + (B - 1)·α) is narrower."""
    from conftest import require

    require("rpy2")
    import rpy2.robjects as ro
    from rpy2.robjects.packages import importr

    importr("boot")  # loaded for boot.ci and boot:::norm.inter below
    draws = np.random.default_rng(B).standard_t(3, size=(B, 2)) * [1.0, 5.0]
    for level in (0.8, 0.9, 0.95):
        low, high = percentile_interval(draws, level)
        for j in range(2):
            fn = ro.r("function(t, a) suppressWarnings(boot:::norm.inter(t, a))[, 2]")
            want = np.asarray(fn(ro.FloatVector(draws[:, j]),
                                 ro.FloatVector([(1 - level) / 2, (1 + level) / 2])))
            np.testing.assert_allclose([low[j], high[j]], want, rtol=1e-12, atol=1e-14)
    obj = ro.r(f"local({{set.seed(1); boot(1:20 + 0, function(d, i) mean(d[i]), R = {B})}})")
    ci = np.asarray(ro.r("function(b) boot.ci(b, conf = 0.9, type = 'perc')$percent[4:5]")(obj))
    t = np.asarray(obj.rx2("t"))
    np.testing.assert_allclose(percentile_interval(t, 0.9), ci.reshape(2, 1), rtol=1e-12)
    if B >= 19:  # the type-7 quantile sits inside the (B + 1)·α rule's order statistics
        q = np.quantile(draws, [0.05, 0.95], axis=0)
        low, high = percentile_interval(draws, 0.9)
        assert (low <= q[0]).all() and (high >= q[1]).all()


def test_percentile_interval_of_a_broken_column_is_nan():
    draws = np.random.default_rng(0).normal(size=(30, 3))
    draws[4, 1] = np.nan
    low, high = percentile_interval(draws, 0.9)
    assert np.isnan(low[1]) and np.isnan(high[1])
    assert np.isfinite(low[[0, 2]]).all() and np.isfinite(high[[0, 2]]).all()


def test_too_few_replicates_for_the_level_are_named_in_the_note():
    """(B + 1)·α ≤ 1: the interval is the replicates' range (boot.ci warns the same)."""
    from dlstat.results.bootstrap import Replicates, interval_note

    few = Replicates(fits=[None] * 19, counts=np.zeros((19, 2)))
    assert "use bootstrap=20 or more" in interval_note(few, 0.9)
    assert "use bootstrap=40 or more" in interval_note(few, 0.95)
    assert "range" not in interval_note(Replicates([None] * 20, np.zeros((20, 2))), 0.9)
    assert "range" not in interval_note(Replicates([None] * 40, np.zeros((40, 2))), 0.95)
