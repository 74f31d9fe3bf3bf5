"""The training engine: determinism, early stopping, regularisation layers, optimizers, L1
zeros, stacked training, divergence and option checking."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from contextlib import redirect_stderr
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dlstat as dl
from dlstat.errors import DivergenceError, DlstatError, OptionError, OptionTypeError

from conftest import REPO

BASE = dict(hidden=(8,), epochs=15)  # one traced configuration shared by many tests


def noisy(n: int = 120, seed: int = 1, signal: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({f"x{j}": rng.normal(size=n) for j in range(1, 5)})
    df["y"] = (np.sin(df["x1"]) + 0.5 * df["x2"] if signal else 0.0) + \
        rng.normal(scale=0.5 if signal else 1.0, size=n)
    return df


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return noisy()


# --------------------------------------------------------------------------------------------
# seeds
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def seeded(data):
    return [dl.dnn("y ~ .", data, seed=s, **BASE) for s in (5, 5, 6)]


def test_same_seed_gives_bit_identical_fits(seeded, data):
    a, b, _ = seeded
    assert np.array_equal(a.predict(data).to_numpy(), b.predict(data).to_numpy())
    for k in a.params:
        assert np.array_equal(a.params[k], b.params[k]), k
    assert np.array_equal(a.history["loss"].to_numpy(), b.history["loss"].to_numpy())


def test_different_seeds_differ(seeded, data):
    a, _, c = seeded
    assert not np.allclose(a.predict(data).to_numpy(), c.predict(data).to_numpy())


def test_default_seed_is_reproducible(data):
    a = dl.dnn("y ~ .", data, **BASE)
    b = dl.dnn("y ~ .", data, **BASE)
    assert np.array_equal(a.predict(data).to_numpy(), b.predict(data).to_numpy())


# --------------------------------------------------------------------------------------------
# early stopping
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stopped():
    df = noisy(seed=11, signal=False)  # pure noise: validation loss soon rises
    fit = dl.dnn("y ~ .", df, hidden=(8,), learning_rate=0.03, epochs=300, validation=0.3,
                 early_stopping=5, seed=1)
    return fit


def test_early_stopping_stops_before_max_epochs(stopped):
    r = stopped.record
    assert r.epochs_run < 300
    assert len(stopped.history) == r.epochs_run
    assert 1 <= r.best_epoch <= r.epochs_run
    # stops after `patience` epochs without improvement
    assert r.epochs_run == r.best_epoch + 5


def test_best_epoch_has_the_minimal_validation_loss(stopped):
    v = stopped.history["val_loss"].to_numpy()
    assert np.isfinite(v).all()
    assert v[stopped.record.best_epoch - 1] == v.min()
    assert int(np.argmin(v)) + 1 == stopped.record.best_epoch
    assert stopped.glance().iloc[0]["best_epoch"] == stopped.record.best_epoch


def test_early_stopping_restores_the_best_weights(stopped):
    v = stopped.history["val_loss"].to_numpy()
    r = stopped.record
    # validation loss of the returned weights (mean deviance / 2 on the standardised scale)
    returned = r.metrics["validation"]["mean_deviance"] / (2 * stopped.family.y_scale[0] ** 2)
    np.testing.assert_allclose(returned, v[r.best_epoch - 1], rtol=1e-4)
    assert not np.isclose(returned, v[-1], rtol=1e-4)  # not the last epoch's weights


def test_early_stopping_needs_validation(data):
    with pytest.raises(OptionError, match="validation"):
        dl.dnn("y ~ .", data, early_stopping=3)


# --------------------------------------------------------------------------------------------
# dropout, batch normalisation, max-norm
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def regularised(data):
    kw = dict(hidden=(8,), dropout=0.3, batchnorm=True, max_norm=1.0, epochs=20)
    return [dl.dnn("y ~ .", data, seed=s, **kw) for s in (1, 1)]


def test_dropout_batchnorm_max_norm_train_and_predict_finite(regularised, data):
    fit = regularised[0]
    p = fit.predict(data)
    assert np.isfinite(p).all()
    assert np.isfinite(fit.history["loss"]).all()
    assert fit.history["loss"].iloc[-1] < fit.history["loss"].iloc[0]
    np.testing.assert_array_equal(p, fit.predict(data))  # no dropout at prediction


def test_max_norm_bounds_each_units_incoming_weights(regularised):
    fit = regularised[0]
    for name, W in fit.params.items():
        if name.endswith("/kernel"):
            norms = np.linalg.norm(W[0], axis=0)
            assert (norms <= 1.0 + 1e-5).all(), (name, norms)


def test_batchnorm_moving_statistics_are_learned(regularised):
    fit = regularised[0]
    mean = [v for k, v in fit.params.items() if k.endswith("moving_mean")]
    var = [v for k, v in fit.params.items() if k.endswith("moving_var")]
    assert mean and var
    assert np.abs(mean[0]).max() > 0 and not np.allclose(var[0], 1.0)
    assert (var[0] > 0).all()


def test_dropout_masks_repeat_with_the_seed(regularised, data):
    a, b = regularised
    assert np.array_equal(a.predict(data).to_numpy(), b.predict(data).to_numpy())


# --------------------------------------------------------------------------------------------
# optimizers
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adagrad", "adadelta",
                                       "rmsprop", "adam", "adamw", "lbfgs"])
def test_every_optimizer_reduces_the_training_loss(data, optimizer):
    fit = dl.dnn("y ~ .", data, hidden=(8,), optimizer=optimizer, epochs=15, seed=3)
    loss = fit.history["loss"].to_numpy()
    assert np.isfinite(loss).all()
    assert loss[-1] < 0.95 * loss[0], (optimizer, loss)
    assert np.isfinite(fit.predict(data)).all()
    assert fit.options.optimizer == optimizer


# --------------------------------------------------------------------------------------------
# penalties
# --------------------------------------------------------------------------------------------
def test_l1_penalty_gives_exact_zeros(data):
    lasso = dl.dnn("y ~ .", data, hidden=(8,), epochs=30, penalty=1.0, mixture=1, seed=2,
                   learning_rate=0.01)
    W = lasso.params["dense0/kernel"][0]
    assert (W == 0).sum() > 0
    ridge = dl.dnn("y ~ .", data, hidden=(8,), epochs=30, penalty=1.0, mixture=0, seed=2,
                   learning_rate=0.01)
    assert (ridge.params["dense0/kernel"][0] != 0).all()  # ridge shrinks, never zeroes
    assert (lasso.tidy()["nonzero"] < 8).any()


def test_huge_l1_penalty_zeroes_a_glm(data):
    fit = dl.dnn("y ~ .", data, hidden=(), optimizer="lbfgs", penalty=100.0, mixture=1)
    assert (fit.params["output/kernel"] == 0).all()
    np.testing.assert_allclose(fit.predict(data), data["y"].mean(), rtol=1e-6)


# --------------------------------------------------------------------------------------------
# stacked training: each network as if trained alone
# --------------------------------------------------------------------------------------------
def _stack_vs_alone(layers, dropout_label):
    from dlstat.engine import StackJob, Topology, train_stack

    rng = np.random.default_rng(0)
    n = 90
    X = rng.normal(size=(n, 3))
    Y = X[:, :1] - 0.5 * X[:, 1:2] ** 2 + 0.3 * rng.normal(size=(n, 1))
    sizes = [40, 60, 75]  # each network trains on its own rows, of different numbers
    tw = np.zeros((3, n))
    for m, s in enumerate(sizes):
        tw[m, rng.permutation(n)[:s]] = 1.0
    vw = (tw == 0).astype(float)
    per_net = dict(penalty=np.array([0.0, 0.01, 0.1]), mixture=np.array([0.0, 0.5, 1.0]),
                   learning_rate=np.array([0.01, 0.005, 0.02]), seeds=np.array([1, 2, 3]))
    common = dict(topology=Topology(3, layers, 1), family="gaussian", X=X, Y=Y,
                  output_bias=np.zeros(1), optimizer="adam", epochs=15, batch_size=16)
    stack = train_stack(StackJob(train_weights=tw, val_weights=vw, **per_net, **common))
    for m in range(3):
        alone = train_stack(StackJob(train_weights=tw[m:m + 1], val_weights=vw[m:m + 1],
                                     **{k: v[m:m + 1] for k, v in per_net.items()}, **common))
        for k in stack.params:
            np.testing.assert_allclose(stack.params[k][m], alone.params[k][0], atol=1e-5,
                                       err_msg=f"{dropout_label}: network {m}, {k}")
        np.testing.assert_allclose(stack.loss[:, m], alone.loss[:, 0], atol=1e-5)
        np.testing.assert_allclose(stack.val_loss[:, m], alone.val_loss[:, 0], atol=1e-5)
        assert stack.epochs_run[m] == alone.epochs_run[0]


def test_stack_of_three_equals_training_each_alone():
    from dlstat.architecture import Dense

    _stack_vs_alone((Dense(8, "tanh"),), "no dropout")


def test_stack_of_three_with_dropout_equals_training_each_alone():
    """Dropout masks must not depend on the other networks of the stack (the engine's
    documented promise), even when the networks have different numbers of training rows."""
    from dlstat.architecture import Dense, Dropout

    _stack_vs_alone((Dense(8, "tanh"), Dropout(0.3)), "dropout")


# --------------------------------------------------------------------------------------------
# divergence
# --------------------------------------------------------------------------------------------
def test_huge_learning_rate_raises_divergence_error(data):
    with pytest.raises(DivergenceError) as err:
        dl.dnn("y ~ .", data, hidden=(8,), optimizer="sgd", learning_rate=1e6, epochs=15)
    msg = str(err.value)
    assert "smaller learning_rate" in msg and "1e+06" in msg
    assert isinstance(err.value, dl.DlstatError)


# --------------------------------------------------------------------------------------------
# option checking
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("options,shown", [
    (dict(optimizer="foo"), "'foo'"),
    (dict(epochs=0), "0"),
    (dict(epochs=-3), "-3"),
    (dict(epochs=2.5), "2.5"),
    (dict(epochs="10"), "'10'"),
    (dict(dropout=1.5), "1.5"),
    (dict(dropout=-0.1), "-0.1"),
    (dict(hidden=(0,)), "0"),
    (dict(hidden=(8, -2)), "-2"),
    (dict(hidden=(2.5,)), "2.5"),
    (dict(hidden="32"), "'32'"),
    (dict(mixture=2), "2"),
    (dict(mixture=-0.5), "-0.5"),
    (dict(penalty=-1), "-1"),
    (dict(penalty="big"), "'big'"),
    (dict(penalty=float("nan")), "nan"),
    (dict(validation=1.2), "1.2"),
    (dict(validation=0), "0"),
    (dict(validation="half"), "'half'"),
    (dict(learning_rate=0), "0"),
    (dict(learning_rate=-0.1), "-0.1"),
    (dict(batch_size=0), "0"),
    (dict(max_norm=0), "0"),
    (dict(seed=-1), "-1"),
    (dict(seed=1.5), "1.5"),
    (dict(activation="swish2"), "'swish2'"),
    (dict(family="weibull"), "'weibull'"),
    (dict(na_action="drop"), "'drop'"),
    (dict(unseen="ignore"), "'ignore'"),
    (dict(batchnorm="yes"), "'yes'"),
    (dict(test=[1, 2]), "list"),
    (dict(optimizer="lbfgs", dropout=0.2), "dropout"),
    (dict(epoch=5), "'epoch'"),
    (dict(hiden=(4,)), "'hiden'"),
])
def test_bad_options_raise_naming_the_value(data, options, shown):
    with pytest.raises((OptionError, OptionTypeError)) as err:
        dl.dnn("y ~ .", data, **options)
    assert isinstance(err.value, dl.DlstatError)
    assert shown in str(err.value), str(err.value)


def test_unknown_option_suggests_the_right_name(data):
    with pytest.raises(OptionTypeError, match="did you mean 'epochs'"):
        dl.dnn("y ~ .", data, epoch=5)


def test_option_error_classes():
    assert issubclass(OptionError, DlstatError) and issubclass(OptionError, ValueError)
    assert issubclass(OptionTypeError, DlstatError) and issubclass(OptionTypeError, TypeError)
    assert issubclass(DivergenceError, DlstatError)


def test_full_batch_training(data):
    fit = dl.dnn("y ~ .", data, hidden=(8,), batch_size=None, epochs=30, learning_rate=0.01,
                 seed=3)
    loss = fit.history["loss"].to_numpy()
    assert np.isfinite(loss).all() and loss[-1] < loss[0]
    assert "full batch" in str(fit.summary())


# --------------------------------------------------------------------------------------------
# dropout masks, looked at directly
# --------------------------------------------------------------------------------------------
def test_reused_position_hashes_give_the_same_bits_as_fresh_ones():
    """A training run hashes each dropout layer's positions once, for a full (padded) batch,
    and a step slices its rows off that table: the bits are those of hashing afresh."""
    from dlstat.engine.graph import tf_module
    from dlstat.engine.training import position_hashes, random_bits

    tf = tf_module()
    seeds = tf.constant([5, 6], tf.int64)
    table = position_hashes(tf.constant([48, 7, 3], tf.int64))
    for rows in (48, 33, 1):
        shape = tf.constant([rows, 7, 3], tf.int64)
        np.testing.assert_array_equal(random_bits(seeds, tf.constant(9, tf.int64), shape, table),
                                      random_bits(seeds, tf.constant(9, tf.int64), shape))


def _dropout_output(seeds, rate=0.3, counter=5, rows=400, width=25):
    """What the training graph's dropout layer makes of all-ones inputs, per network."""
    from dlstat.architecture import Dropout
    from dlstat.engine import Topology
    from dlstat.engine.graph import tf_module
    from dlstat.engine.layers import StackContext, plan, tf_forward
    from dlstat.engine.training import random_bits

    tf = tf_module()
    placed = [p for p in plan(Topology(width, (Dropout(rate),), 1)) if p.layer.kind == "dropout"]
    seeds_t = tf.constant(seeds, tf.int64)
    ctx = StackContext(True, lambda c, shape, hashed: random_bits(seeds_t, c, shape, hashed),
                       tf.constant(counter, tf.int64))
    return tf_forward(tf, placed, {}, tf.ones([len(seeds), rows, width]), ctx).numpy()


def test_dropout_mask_drops_the_rate_and_repeats_with_the_seed():
    out = _dropout_output([5, 6])
    dropped = out == 0
    assert set(np.unique(out)) == {0.0, np.float32(1 / 0.7)}  # inverted dropout scaling
    assert abs(dropped[0].mean() - 0.3) < 0.03 and abs(dropped[1].mean() - 0.3) < 0.03
    assert (dropped[0] != dropped[1]).mean() > 0.3  # another seed, another mask
    np.testing.assert_array_equal(_dropout_output([5])[0], out[0])  # alone = in a stack
    np.testing.assert_array_equal(_dropout_output([5, 6]), out)  # same seed, same mask
    assert (_dropout_output([5], counter=6)[0] != out[0]).any()  # each step its own mask


def test_dropout_is_the_identity_at_inference():
    from dlstat.architecture import Dropout
    from dlstat.engine import Topology
    from dlstat.engine.graph import tf_module
    from dlstat.engine.layers import StackContext, plan, tf_forward

    tf = tf_module()
    placed = [p for p in plan(Topology(3, (Dropout(0.5),), 1)) if p.layer.kind == "dropout"]
    h = tf.ones([1, 10, 3])
    np.testing.assert_array_equal(tf_forward(tf, placed, {}, h, StackContext(False)).numpy(), 1)


# --------------------------------------------------------------------------------------------
# progress bars
# --------------------------------------------------------------------------------------------
class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def terminal(monkeypatch):
    """A terminal to point stderr at (pytest's capture owns sys.stderr until the test body
    runs); bars drawn at once and at every update."""
    from dlstat import progress

    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    monkeypatch.setattr(progress, "MIN_INTERVAL", 0.0)
    return FakeTerminal()


PROGRESS_FIT = dict(hidden=(8,), epochs=12, validation=0.25, seed=4)


def test_verbose_0_prints_nothing(data, terminal, capfd):
    with redirect_stderr(terminal):
        dl.dnn("y ~ .", data, verbose=0, **PROGRESS_FIT)
        dl.cv_dnn("y ~ .", data, folds=3, verbose=0, **PROGRESS_FIT)
    out, err = capfd.readouterr()
    assert terminal.getvalue() == "" and out == "" and err == ""


def test_verbose_1_shows_epochs_losses_and_the_same_numbers(data, terminal):
    quiet = dl.dnn("y ~ .", data, verbose=0, **PROGRESS_FIT)
    with redirect_stderr(terminal):
        shown = dl.dnn("y ~ .", data, verbose=1, **PROGRESS_FIT)
    screen = terminal.getvalue()
    assert "training" in screen and "/12" in screen and "epoch" in screen, screen
    assert "loss=" in screen and "val_loss=" in screen, screen
    for k in quiet.params:
        assert np.array_equal(quiet.params[k], shown.params[k]), k
    assert np.array_equal(quiet.history.to_numpy(), shown.history.to_numpy(), equal_nan=True)


def test_quick_work_shows_no_bar_and_keeps_the_cached_graph(data, monkeypatch):
    """Work expected to end within the bar's delay never asks the engine for epoch reports
    (a reporting graph cannot come from the on-disk cache)."""
    from dlstat import progress
    from dlstat.fitting import blocks

    monkeypatch.setattr(progress, "MIN_INTERVAL", 0.0)
    jobs = []
    train = blocks.train_stack
    monkeypatch.setattr(blocks, "train_stack", lambda job: jobs.append(job) or train(job))
    screen = FakeTerminal()
    with redirect_stderr(screen):
        dl.dnn("y ~ .", data, verbose=1, hidden=(3,), epochs=2, seed=4)
    assert screen.getvalue() == ""
    assert jobs and jobs[0].on_epoch is None
    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    with redirect_stderr(screen):
        dl.dnn("y ~ .", data, verbose=1, hidden=(3,), epochs=2, seed=4)
    assert jobs[1].on_epoch is not None and "training" in screen.getvalue()


def test_lbfgs_and_cv_show_progress_too(data, terminal):
    with redirect_stderr(terminal):
        dl.dnn("y ~ .", data, hidden=(), optimizer="lbfgs", epochs=20, verbose=1)
    assert "training" in terminal.getvalue() and "/20" in terminal.getvalue()
    with redirect_stderr(terminal):
        dl.cv_dnn("y ~ .", data, folds=3, verbose=1, **PROGRESS_FIT)
    assert "fold designs" in terminal.getvalue() and "training 3 networks" in terminal.getvalue()


def test_no_bar_when_the_output_is_not_a_terminal(data, monkeypatch, capfd):
    from dlstat import progress

    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    dl.dnn("y ~ .", data, verbose=1, **PROGRESS_FIT)
    assert capfd.readouterr().err == ""


# --------------------------------------------------------------------------------------------
# TensorFlow's start-up log lines
# --------------------------------------------------------------------------------------------
TF_LINE = re.compile(r"oneDNN|absl|cpu_feature_guard|cuda|TensorFlow binary|tensorflow/|"
                     r"^[IWE]\d{4} ", re.MULTILINE)


def _run_without_tf_settings(args, **env):
    clean = {k: v for k, v in os.environ.items()
             if k not in ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS")}
    clean["PYTHONPATH"] = str(REPO)
    clean.update(env)
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=clean,
                          timeout=300, cwd=str(REPO))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_cli_fit_shows_no_tensorflow_log_lines():
    proc = _run_without_tf_settings(["-m", "dlstat", "fit", "mpg ~ wt", "mtcars", "--epochs", "2"])
    assert "Call:" in proc.stdout
    assert not TF_LINE.search(proc.stderr), proc.stderr


def test_python_fit_shows_no_tensorflow_log_lines_unless_asked():
    code = ("import os, dlstat as dl; dl.dnn('mpg ~ wt', dl.datasets.load('mtcars'), epochs=2); "
            "print(os.environ['TF_CPP_MIN_LOG_LEVEL'])")
    quiet = _run_without_tf_settings(["-c", code], TF_CPP_MIN_LOG_LEVEL="")
    assert not TF_LINE.search(quiet.stderr), quiet.stderr
    assert quiet.stdout.split()[-1] == "2"
    chatty = _run_without_tf_settings(["-c", code], TF_CPP_MIN_LOG_LEVEL="0")
    assert chatty.stdout.split()[-1] == "0"  # the user's explicit level is kept


def test_graph_cache_key_hashes_every_engine_module():
    """A traced graph depends on the layer table, the update rules and the epoch loop: a change
    to any engine source (or to the layer specs) must give a new cache key."""
    from dlstat.engine import cache

    names = {p.name for p in cache.engine_sources()}
    assert {p.name for p in Path(cache.__file__).parent.glob("*.py")} <= names
    assert {"activations.py", "layers.py", "optimizers.py", "training.py", "graph.py",
            "architecture.py"} <= names


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_repeated_rows_equal_duplicated_data(optimizer):
    """A bootstrap resample's row k times in each epoch (``train_repeats``) is the same training
    as k physical copies of the row: the same steps per epoch, not a weight k."""
    from dlstat.architecture import Dense
    from dlstat.engine import StackJob, Topology, train_stack

    rng = np.random.default_rng(3)
    n = 40
    X = rng.normal(size=(n, 2))
    Y = X[:, :1] - X[:, 1:] + 0.2 * rng.normal(size=(n, 1))
    counts = rng.multinomial(n, np.full(n, 1 / n))
    common = dict(topology=Topology(2, (Dense(4, "tanh"),), 1), family="gaussian",
                  output_bias=np.zeros(1), optimizer=optimizer, epochs=6, batch_size=8,
                  penalty=np.zeros(1), mixture=np.zeros(1), learning_rate=np.array([0.01]),
                  seeds=np.array([5]))
    repeated = train_stack(StackJob(X=X, Y=Y, train_weights=(counts > 0)[None] * 1.0,
                                    train_repeats=counts[None], **common))
    copies = np.repeat(np.arange(n), counts)
    duplicated = train_stack(StackJob(X=X[copies], Y=Y[copies],
                                      train_weights=np.ones((1, len(copies))), **common))
    for k in repeated.params:
        np.testing.assert_allclose(repeated.params[k], duplicated.params[k], atol=1e-6)
