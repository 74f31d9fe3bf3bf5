"""Scale-out on Dask (dlstat.scale, dlstat.engine.chunks): chunked stacks equal one-call
stacks bit for bit, locally and on a LocalCluster with worker processes started here."""

from __future__ import annotations

import os
import re
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest
from conftest import require

import dlstat as dl
from dlstat.engine.chunks import assemble, chunk_sizes, split_job
from dlstat.errors import ClusterError, OptionError, OptionTypeError

MTCARS = dl.datasets.load("mtcars")
SMALL = {"hidden": (3,), "epochs": 6, "seed": 3, "verbose": 0}
STOPPING = {**SMALL, "epochs": 40, "validation": 0.25, "early_stopping": 2,
            "learning_rate": 0.05}


def same_fit(a, b) -> None:
    """Bit-identical parameters, training history and metrics."""
    assert a.params.keys() == b.params.keys()
    for name in a.params:
        assert np.array_equal(a.params[name], b.params[name]), name
    pd.testing.assert_frame_equal(a.history, b.history, check_exact=True)
    assert a.record.metrics == b.record.metrics
    assert a.record.epochs_run == b.record.epochs_run


def same_fits(a, b) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        same_fit(x, y)


# ------------------------------------------------------------------ chunks (no cluster)


@pytest.mark.parametrize("M", range(1, 30))
def test_chunks_never_cut_a_single_network_from_a_stack(M):
    for slots in (1, 2, 3, 7, 64):
        sizes = chunk_sizes(M, slots)
        assert sum(sizes) == M and len(sizes) <= max(slots, 1)
        assert min(sizes) >= 2 or sizes == [M]
        assert max(sizes) - min(sizes) <= 1


def _last_stack(monkeypatch, run):
    """The last engine job ``run()`` trains and its result (trained as usual)."""
    from dlstat import engine
    from dlstat.fitting import blocks

    jobs, results = [], []

    def recording(job):
        jobs.append(job)
        results.append(engine.train_stack(job))
        return results[-1]

    monkeypatch.setattr(blocks, "train_stack", recording)
    run()
    return jobs[-1], results[-1]


def test_split_and_assemble_equal_one_stack_with_early_stopping(monkeypatch):
    """The engine seam itself: a path's stack (networks stopping at different epochs, folds of
    different sizes) trained as uneven chunks, assembled, equals the one-call stack."""
    from dlstat import engine

    job, whole = _last_stack(monkeypatch, lambda: dl.dnn_path(
        "mpg ~ wt + hp + qsec", MTCARS, n_penalties=3, folds=3, **STOPPING))
    # the fold networks' stack: 3 folds x 3 penalties
    assert job.size == 9 and len(set(whole.epochs_run)) > 1  # they stop at different epochs
    chunked = assemble([engine.train_stack(c) for c in split_job(job, [2, 2, 3, 2])])
    for name in whole.params:
        assert np.array_equal(whole.params[name], chunked.params[name])
    for field in ("loss", "val_loss", "epochs_run", "best_epoch", "diverged"):
        assert np.array_equal(getattr(whole, field), getattr(chunked, field), equal_nan=True)


def test_lbfgs_stacks_split_into_chunks_with_the_same_numbers(monkeypatch):
    """Each network has its own L-BFGS, so an L-BFGS stack chunks as any other."""
    from dlstat import engine
    from dlstat.scale import plan_chunks

    job, whole = _last_stack(monkeypatch, lambda: dl.dnn(
        "mpg ~ wt + hp", MTCARS, hidden=(4,), optimizer="lbfgs", epochs=40, bootstrap=4,
        seed=3, verbose=0))
    assert job.optimizer == "lbfgs" and job.size == 5
    assert plan_chunks(job, {"a": {"nthreads": 2}, "b": {"nthreads": 2}}) != [5]
    chunked = assemble([engine.train_stack(c) for c in split_job(job, [2, 3])])
    for name in whole.params:
        assert np.array_equal(whole.params[name], chunked.params[name])
    for field in ("loss", "epochs_run", "diverged"):
        assert np.array_equal(getattr(whole, field), getattr(chunked, field), equal_nan=True)


def test_client_option_is_checked_without_importing_distributed():
    with pytest.raises(OptionTypeError, match="dask distributed.Client or a scheduler"):
        dl.cv_dnn("mpg ~ wt", MTCARS, client=42, **SMALL)
    with pytest.raises(OptionError, match="scheduler address"):
        dl.cv_dnn("mpg ~ wt", MTCARS, client="nowhere", **SMALL)
    with pytest.raises(OptionTypeError):
        with dl.dask_client(object()):
            pass


def test_import_dlstat_loads_neither_tensorflow_nor_dask():
    from conftest import run_python

    out = run_python("import sys, dlstat\n"
                     "print(sorted(m for m in ('tensorflow', 'distributed', 'dask') "
                     "if m in sys.modules))")
    assert out.stdout.strip().endswith("[]")


# ------------------------------------------------------------------ on a LocalCluster


@pytest.fixture(scope="module")
def client():
    distributed = require("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=":0", silence_logs=40)
    # Not the default client: a fit must reach the cluster through client= alone.
    with distributed.Client(cluster, set_as_default=False) as c:
        yield c
    cluster.close()


def test_cv_on_the_cluster_equals_local(client):
    local = dl.cv_dnn("mpg ~ wt + hp + factor(cyl)", MTCARS, folds=5, **SMALL)
    remote = dl.cv_dnn("mpg ~ wt + hp + factor(cyl)", MTCARS, folds=5, client=client, **SMALL)
    same_fits(local.fits, remote.fits)
    pd.testing.assert_frame_equal(local.metrics, remote.metrics, check_exact=True)
    pd.testing.assert_series_equal(local.predictions, remote.predictions, check_exact=True)
    assert remote.call == local.call and all(f.options.client is None for f in remote.fits)


def test_path_with_early_stopping_on_the_cluster_equals_local(client):
    args = ("mpg ~ wt + hp + qsec", MTCARS)
    local = dl.dnn_path(*args, n_penalties=4, folds=3, **STOPPING)
    remote = dl.dnn_path(*args, n_penalties=4, folds=3, client=client, **STOPPING)
    same_fits(local.fits, remote.fits)
    pd.testing.assert_frame_equal(local.table, remote.table, check_exact=True)
    assert (local.penalty_min, local.penalty_1se) == (remote.penalty_min, remote.penalty_1se)


def test_compare_on_the_cluster_equals_local(client):
    models = {"small": {"hidden": (2,)}, "wide": {"hidden": (5,)}}
    local = dl.compare("am ~ wt + hp", MTCARS, folds=4, models=models, **SMALL)
    remote = dl.compare("am ~ wt + hp", MTCARS, folds=4, models=models, client=client,
                        **SMALL)
    pd.testing.assert_frame_equal(local.folds, remote.folds, check_exact=True)


def test_bootstrap_through_the_default_client_equals_local(client, tmp_path):
    local = dl.dnn("mpg ~ wt + hp", MTCARS, bootstrap=5, **SMALL)
    with dl.dask_client(client):
        remote = dl.dnn("mpg ~ wt + hp", MTCARS, bootstrap=5, **SMALL)
    same_fit(local, remote)
    same_fits(local.bootstrap.fits, remote.bootstrap.fits)
    pd.testing.assert_frame_equal(local.effects().tidy(), remote.effects().tidy(),
                                  check_exact=True)
    remote.save(tmp_path / "fit.dlstat", drop_bootstrap=True)  # no cluster in the fit


def test_a_scheduler_address_is_accepted(client):
    local = dl.cv_dnn("mpg ~ wt", MTCARS, folds=4, **SMALL)
    remote = dl.cv_dnn("mpg ~ wt", MTCARS, folds=4, client=client.scheduler.address, **SMALL)
    same_fits(local.fits, remote.fits)


def test_an_address_without_a_scheduler_names_the_fix(monkeypatch):
    require("distributed")
    monkeypatch.setattr("dlstat.cluster.CONNECT_TIMEOUT", 2.0)
    with pytest.raises(ClusterError, match="dask scheduler"):
        dl.cv_dnn("mpg ~ wt", MTCARS, folds=4, client="tcp://127.0.0.1:9", **SMALL)


def test_a_chunk_refuses_a_worker_that_runs_other_code(client, monkeypatch):
    """A worker that joined after the cluster was checked: each chunk checks the worker it
    runs on (here the expectation is made to differ from what the workers run) and the fit
    is refused once, naming that worker."""
    from dlstat import cluster

    def other_engine(c, workers):
        return {**cluster.check_workers(c, workers), "engine": "0" * 16}

    monkeypatch.setattr("dlstat.scale.check_workers", other_engine)
    addresses = "|".join(map(re.escape, client.scheduler_info()["workers"]))
    with pytest.raises(ClusterError, match=rf"^worker ({addresses}) runs dlstat .*they differ "
                                           "in engine sources"):
        dl.cv_dnn("mpg ~ wt", MTCARS, folds=4, client=client, **SMALL)


def test_a_worker_killed_mid_run_changes_nothing(client):
    """The test kills the worker running a chunk; the scheduler reruns it elsewhere."""
    options = {**SMALL, "epochs": 400, "seed": 11}
    local = dl.cv_dnn("mpg ~ wt + hp", MTCARS, folds=6, **options)
    pids = client.run(os.getpid)
    out: dict[str, object] = {}

    def run():
        try:
            out["result"] = dl.cv_dnn("mpg ~ wt + hp", MTCARS, folds=6, client=client,
                                      **options)
        except BaseException as exc:  # handed to the test's thread
            out["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and thread.is_alive() and time.monotonic() < deadline:
        busy = [w for w, keys in client.processing().items()
                if any("run_chunk" in str(k) for k in keys)]
        if busy:
            killed = pids[busy[0]]
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.005)
    thread.join(300)
    assert killed is not None, "no chunk was seen running"
    assert "error" not in out, out.get("error")
    same_fits(local.fits, out["result"].fits)
    client.wait_for_workers(2, timeout=120)
    assert killed not in client.run(os.getpid).values()


def test_a_user_error_in_a_chunk_is_the_local_error_raised_once(client, monkeypatch):
    """An engine call that refuses its input raises the same dlstat error through the
    cluster as locally, once, and no result comes back."""
    from dlstat.fitting import blocks

    message = "the engine refused this stack (a test's stand-in for a user error)"

    def fail(job):
        raise OptionError(message)

    def refuse():  # in each worker process: the engine that run_chunk calls refuses
        import dlstat.engine

        dlstat.engine.kept_train_stack = dlstat.engine.train_stack
        dlstat.engine.train_stack = fail

    def restore():
        import dlstat.engine

        dlstat.engine.train_stack = dlstat.engine.kept_train_stack

    monkeypatch.setattr(blocks, "train_stack", fail)
    with pytest.raises(OptionError) as here:
        dl.cv_dnn("mpg ~ wt", MTCARS, folds=4, **SMALL)
    client.run(refuse)
    try:
        with pytest.raises(OptionError) as there:
            dl.cv_dnn("mpg ~ wt", MTCARS, folds=4, client=client, **SMALL)
    finally:
        client.run(restore)
    assert str(there.value) == str(here.value) == message
    assert type(there.value) is type(here.value)


def test_grid_search_with_joblib_dask_backend_equals_local(client):
    from joblib import parallel_backend
    from sklearn.model_selection import GridSearchCV

    X = MTCARS[["wt", "hp", "qsec"]].to_numpy()
    y = MTCARS["mpg"].to_numpy()
    grid = {"penalty": [0.0, 0.1]}
    estimator = dl.DNNRegressor(hidden=(3,), epochs=5, seed=2, verbose=0)
    local = GridSearchCV(estimator, grid, cv=3).fit(X, y)
    with client.as_current(), parallel_backend("dask"):
        remote = GridSearchCV(estimator, grid, cv=3).fit(X, y)
    for key in ("mean_test_score", "split0_test_score", "split2_test_score"):
        assert np.array_equal(local.cv_results_[key], remote.cv_results_[key])
    assert local.best_params_ == remote.best_params_
    assert np.array_equal(local.predict(X), remote.predict(X))


def test_the_bar_counts_chunks_across_the_cluster(client, monkeypatch):
    bars = []

    class Bar:
        def __init__(self, verbose, total, desc, unit):
            self.total, self.desc, self.unit, self.n, self.closed = total, desc, unit, 0, False

        def update(self, k):
            self.n += k

        def close(self):
            self.closed = True

    monkeypatch.setattr("dlstat.scale.progress_bar", lambda *a, **k: bars.append(Bar(*a, **k))
                        or bars[-1])
    dl.cv_dnn("mpg ~ wt", MTCARS, folds=5, client=client, **{**SMALL, "verbose": 1})
    (bar,) = bars
    assert (bar.total, bar.n, bar.unit, bar.closed) == (2, 2, "chunk", True)
    assert bar.desc == "5 networks in 2 chunks"
