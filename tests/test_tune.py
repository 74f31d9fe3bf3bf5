"""``tune_dnn()`` (issue 24): every configuration × fold in as few stacks as shapes allow, each
configuration's CV numbers equal to ``cv_dnn()`` of it alone, the best and the one-SE choice,
the grid's checks, reproducible random draws, array inputs; and the engine's per-network
learning-rate decay, max-norm and dropout rate that let configurations share a stack."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dlstat as dl
from dlstat.errors import OptionError, OptionTypeError

MTCARS = dl.datasets.load("mtcars")
FIXED = dict(hidden=(4,), epochs=4, batch_size=8, verbose=0, seed=2)
GRID = {"learning_rate": [0.01, 0.03], "dropout": [0.0, 0.25], "penalty": [0.0, 0.1],
        "max_norm": [None, 1.0], "learning_rate_decay": [1.0, 0.8]}


def cv_numbers(cv) -> pd.DataFrame:
    return cv.tidy().set_index("metric")[["mean", "se"]]


@pytest.fixture(scope="module")
def tuned():
    return dl.tune_dnn("mpg ~ wt + hp + qsec", MTCARS, grid=GRID, folds=4, **FIXED)


def test_configurations_share_one_stack_and_equal_cv_dnn_alone(tuned):
    """32 configurations × 4 folds train in one engine call; each configuration's mean and SE
    of every metric are cv_dnn()'s for that configuration alone (the same start, batches and
    dropout masks: a network's numbers do not depend on its stack)."""
    assert len(tuned.table) == 32 and tuned.n_stacks == 1
    for i in (0, 5, 13, 22, 31):  # dropout 0 and 0.25, with and without max_norm and decay
        config = tuned.configurations[i]
        alone = dl.cv_dnn("mpg ~ wt + hp + qsec", MTCARS, folds=4, **FIXED, **config)
        pd.testing.assert_frame_equal(cv_numbers(tuned.cv(i)), cv_numbers(alone),
                                      rtol=1e-5, atol=1e-6)
        row = tuned.table.iloc[i]
        assert row["mean_deviance_mean"] == pytest.approx(
            alone.tidy().set_index("metric").loc["mean_deviance", "mean"], rel=1e-5)


def test_shape_changing_options_form_a_stack_each():
    grid = {"hidden": [(3,), (2, 2)], "learning_rate": [0.01, 0.05], "batch_size": [8, 16]}
    tuned = dl.tune_dnn("mpg ~ wt + hp", MTCARS, grid=grid, folds=3, epochs=3, verbose=0)
    assert len(tuned.table) == 8 and tuned.n_stacks == 4
    config = tuned.configurations[7]
    alone = dl.cv_dnn("mpg ~ wt + hp", MTCARS, folds=3, epochs=3, verbose=0, **config)
    pd.testing.assert_frame_equal(cv_numbers(tuned.cv(7)), cv_numbers(alone), rtol=1e-5,
                                  atol=1e-6)


def test_best_and_one_se_follow_cv_glmnet_rule(tuned):
    """By hand: the best has the smallest mean deviance; among the rows within one SE of it,
    the simplest (most dropout, then most penalty, then smallest max_norm: the table's
    order), ties to the smaller mean."""
    t = tuned.table
    mean, se = t["mean_deviance_mean"].to_numpy(), t["mean_deviance_se"].to_numpy()
    best = int(np.argmin(mean))
    assert tuned.best == best
    within = [i for i in range(len(t)) if mean[i] <= mean[best] + se[best]]
    norm = [np.inf if c["max_norm"] is None else c["max_norm"] for c in tuned.configurations]
    key = {i: (-tuned.configurations[i]["dropout"], -tuned.configurations[i]["penalty"],
               norm[i], mean[i]) for i in within}
    assert tuned.one_se == min(within, key=key.get)
    assert tuned.params_1se == tuned.configurations[tuned.one_se]


def test_one_se_prefers_fewest_units():
    from dlstat.fitting.tune_grid import simplicity
    from dlstat.results.tune import choose

    configs = [{"hidden": (16, 8), "penalty": 0.0}, {"hidden": (4,), "penalty": 0.0},
               {"hidden": (4,), "penalty": 1.0}, {"hidden": (2,), "penalty": 0.0}]
    table = pd.DataFrame({"mean_deviance_mean": [1.0, 1.05, 1.08, 2.0],
                          "mean_deviance_se": [0.1, 0.1, 0.1, 0.1]})
    assert choose(table, [simplicity(c) for c in configs]) == (0, 2)


def test_refit_and_protocol(tuned):
    fit = tuned.refit("1se")
    assert isinstance(fit, dl.DNNFit)
    for name, value in tuned.params_1se.items():
        assert getattr(fit.options, name) == value
    assert set(tuned.tidy()["metric"]) >= {"mean_deviance", "rmse"}
    assert tuned.glance()["configurations"].item() == 32
    assert "Within 1 SE" in str(tuned)
    assert tuned.plot().axes
    with pytest.raises(OptionError, match="'best', '1se'"):
        tuned.refit("worst")


@pytest.mark.parametrize("grid, error, words", [
    ({"learnin_rate": [0.1]}, OptionTypeError, "did you mean 'learning_rate'"),
    ({"dropout": [0.1, 1.5]}, OptionError, "grid entry dropout, value 1.5"),
    ({"seed": [1, 2]}, OptionError, "seed cannot be tuned"),
    ({"folds": [3, 5]}, OptionError, "folds cannot be tuned"),
    ({"hidden": (3, 2)}, OptionTypeError, "must be a list"),
    ({"penalty": (0.0, 1.0)}, OptionError, "only n_random= draws"),
    ({"penalty": []}, OptionError, "is empty"),
    ({"epochs": [3]}, OptionError, "both in grid and given as a fixed option"),
    ({"dropout": [0.2], "optimizer": ["lbfgs"]}, OptionError, "configuration"),
    (None, OptionError, "needs grid="),
    ("penalty", OptionTypeError, "grid must map"),
])
def test_grid_errors_name_the_value_and_the_fix(grid, error, words):
    with pytest.raises(error) as info:
        dl.tune_dnn("mpg ~ wt", MTCARS, grid=grid, folds=3, epochs=3, verbose=0)
    assert words in str(info.value)


def test_grid_too_large_is_refused_before_training():
    grid = {"penalty": list(range(100)), "learning_rate": [0.1 * (i + 1) for i in range(101)]}
    with pytest.raises(OptionError, match="10,100 combinations"):
        dl.tune_dnn("mpg ~ wt", MTCARS, grid=grid, folds=3, verbose=0)


def test_endless_or_huge_grid_entries_are_refused():
    import itertools

    for values in (itertools.count(), range(10**12)):
        with pytest.raises(OptionError, match="more than 10,000 values"):
            dl.tune_dnn("mpg ~ wt", MTCARS, grid={"epochs": values}, folds=3, verbose=0)


def test_random_draws_are_reproducible():
    grid = {"learning_rate": (1e-3, 1e-1, "log"), "dropout": (0.0, 0.5),
            "hidden": [(2,), (4,)], "epochs": (2, 4)}
    runs = [dl.tune_dnn("mpg ~ wt", MTCARS, grid=grid, n_random=4, folds=3, seed=s,
                        verbose=0) for s in (5, 5, 6)]
    assert runs[0].configurations == runs[1].configurations
    pd.testing.assert_frame_equal(runs[0].table, runs[1].table)
    assert runs[0].configurations != runs[2].configurations
    for config in runs[0].configurations:
        assert 1e-3 <= config["learning_rate"] <= 1e-1 and 0 <= config["dropout"] <= 0.5
        assert config["epochs"] in (2, 3, 4) and config["hidden"] in [(2,), (4,)]


def test_arrays_input_equals_cv_dnn():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(60, 6, 6))
    y = images[:, 2:4, 2:4].mean(axis=(1, 2)) + 0.1 * rng.normal(size=60)
    data = {"y": y, "image": images}
    opts = dict(architecture=[dl.conv2d(2, 3), dl.flatten(), dl.dense(4)], epochs=2,
                batch_size=16, verbose=0)
    tuned = dl.tune_dnn("y ~ image", data, grid={"learning_rate": [0.01, 0.05],
                                                 "penalty": [0.0, 0.01]}, folds=3, **opts)
    assert tuned.n_stacks == 1 and len(tuned.table) == 4
    alone = dl.cv_dnn("y ~ image", data, folds=3, **opts, **tuned.configurations[3])
    pd.testing.assert_frame_equal(cv_numbers(tuned.cv(3)), cv_numbers(alone), rtol=1e-5,
                                  atol=1e-6)


def test_engine_per_network_rates_equal_each_network_in_its_own_stack():
    """Per-network dropout rates (0 = no dropout layer), decays and max-norms in one stack
    give each network exactly the numbers of a stack of its own settings."""
    from dlstat.architecture import Dense, Dropout
    from dlstat.engine import StackJob, Topology, train_stack

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    Y = X[:, :1] - 0.5 * X[:, 1:2] ** 2 + 0.3 * rng.normal(size=(60, 1))
    rates, decay, norms = [0.1, 0.3, 0.0], [1.0, 0.9, 0.8], [np.inf, 1.0, 0.5]
    common = dict(family="gaussian", X=X, Y=Y, output_bias=np.zeros(1), epochs=4,
                  batch_size=16)

    def per(m, seeds=None):
        return dict(penalty=np.zeros(len(m)), mixture=np.zeros(len(m)),
                    learning_rate=np.full(len(m), 0.02),
                    seeds=np.ones(len(m), int) if seeds is None else np.array(seeds),
                    train_weights=np.ones((len(m), 60)))

    def layers(rate):
        return (Dense(6, "relu"), *([Dropout(rate)] if rate else []), Dense(3, "relu"),
                *([Dropout(rate)] if rate else []))

    stack = train_stack(StackJob(topology=Topology(3, layers(0.5), 1), dropout=np.array(rates),
                                 learning_rate_decay=np.array(decay), max_norm=np.array(norms),
                                 **per([0, 1, 2]), **common))
    for m in range(3):
        # in a stack of its own settings whose other network has another seed (so each
        # network's dropout bits are hashed apart, not once for a stack of one seed)
        own = train_stack(StackJob(topology=Topology(3, layers(rates[m]), 1),
                                   learning_rate_decay=decay[m],
                                   max_norm=None if np.isinf(norms[m]) else norms[m],
                                   **per([m, m], seeds=[1, 7]), **common))
        for key, own_key in zip(sorted(stack.params), sorted(own.params)):
            np.testing.assert_array_equal(stack.params[key][m], own.params[own_key][0])


# -- the CV estimators: tuning inside fit --------------------------------------------------------
from functools import partial  # noqa: E402

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from dlstat.fronts.estimators import DNNClassifierCV, DNNRegressorCV  # noqa: E402

QUICK = dict(hidden=(16,), epochs=50, grid={"learning_rate": [0.01, 0.03]}, folds=3)
# As tests/test_estimators.py: float32 training makes weighted and repeated fits agree to
# ~1e-7 relative only.
FLOAT32 = {"check_sample_weight_equivalence_on_dense_data":
           "float32 training: weighted and repeated fits agree to ~1e-7 relative only"}


@parametrize_with_checks([DNNRegressorCV(**QUICK), DNNClassifierCV(**QUICK)],
                         expected_failed_checks=lambda estimator: FLOAT32)
def test_sklearn_estimator_checks_of_cv_estimators(estimator, check, monkeypatch):
    name = check.func.__name__ if isinstance(check, partial) else check.__name__
    if name == "check_array_api_input":
        monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    check(estimator)


def test_cv_estimator_is_tune_dnn_then_refit():
    X = MTCARS[["wt", "hp", "qsec"]].to_numpy()
    y = MTCARS["mpg"].to_numpy()
    grid = {"learning_rate": [0.01, 0.03], "penalty": [0.0, 0.1]}
    est = DNNRegressorCV(grid=grid, folds=4, choice="1se", hidden=(4,), epochs=4, verbose=0)
    est.fit(X, y)
    frame = pd.DataFrame(X, columns=["x0", "x1", "x2"]).assign(y=y)
    tuned = dl.tune_dnn("y ~ .", frame, grid=grid, folds=4, hidden=(4,), epochs=4,
                        family="gaussian", verbose=0)
    assert est.best_params_ == tuned.params_1se
    np.testing.assert_allclose(est.cv_results_["mean_deviance_mean"],
                               tuned.table["mean_deviance_mean"], rtol=1e-6)
    assert est.cv_results_["params"] == tuned.configurations
    np.testing.assert_allclose(est.predict(X), tuned.refit("1se").predict(frame), rtol=1e-6)
    assert est.get_params()["choice"] == "1se" and "grid" in est.get_params()


def test_rpy2_bridge_tunes_with_pythons_numbers():
    """R code run from Python (rpy2) gets tune_dnn()'s table: the same numbers as Python's."""
    ro = pytest.importorskip("rpy2.robjects")
    from dlstat.fronts import rpy2_bridge

    rpy2_bridge.expose()
    ro.r("tuned_ <- tune_dnn(mpg ~ wt + hp, data = mtcars, folds = 3, hidden = 3, epochs = 2,"
         " seed = 1, grid = list(learning_rate = c(0.01, 0.03), penalty = c(0, 0.1)))")
    assert list(ro.r("class(tuned_)")) == ["dlstat_rpy2_tune"]
    tuned = dl.tune_dnn("mpg ~ wt + hp", MTCARS, folds=3, hidden=(3,), epochs=2, seed=1,
                        verbose=0, grid={"learning_rate": [0.01, 0.03], "penalty": [0, 0.1]})
    np.testing.assert_allclose(np.asarray(ro.r("tuned_$table$mean_deviance_mean")),
                               tuned.table["mean_deviance_mean"], rtol=1e-12)
    assert ro.r("tuned_$best")[0] == tuned.best + 1
    assert list(ro.r("class(refit(tuned_, '1se'))")) == ["dlstat_rpy2_fit"]


# -- on a cluster: the stack in chunks, with the same numbers ----------------------------------
def test_tuning_stack_split_into_chunks_equals_one_call(monkeypatch):
    """The per-network decays, max-norms and dropout rates travel with their networks when a
    stack is cut into chunks (as client= cuts it): the chunks assembled equal the one call."""
    from dlstat import engine
    from dlstat.engine.chunks import assemble, split_job
    from dlstat.fitting import blocks

    jobs = []
    monkeypatch.setattr(blocks, "train_stack",
                        lambda job: jobs.append(job) or engine.train_stack(job))
    dl.tune_dnn("mpg ~ wt + hp", MTCARS, grid={"dropout": [0.0, 0.3], "max_norm": [None, 0.5],
                                               "learning_rate_decay": [1.0, 0.7]},
                folds=3, hidden=(4,), epochs=3, verbose=0)
    job = jobs[-1]
    assert job.size == 24 and job.dropout is not None
    whole = engine.train_stack(job)
    chunked = assemble([engine.train_stack(c) for c in split_job(job, [5, 7, 12])])
    for name in whole.params:
        assert np.array_equal(whole.params[name], chunked.params[name])


def test_tuning_on_a_local_cluster_equals_local():
    distributed = pytest.importorskip("distributed")
    grid = {"dropout": [0.0, 0.2], "learning_rate": [0.01, 0.03]}
    options = dict(grid=grid, folds=3, hidden=(4,), epochs=3, verbose=0)
    local = dl.tune_dnn("mpg ~ wt + hp", MTCARS, **options)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=":0", silence_logs=40)
    try:
        with distributed.Client(cluster, set_as_default=False) as client:
            remote = dl.tune_dnn("mpg ~ wt + hp", MTCARS, client=client, **options)
    finally:
        cluster.close()
    pd.testing.assert_frame_equal(local.table, remote.table, check_exact=True)
