"""Trusting a cluster (dlstat.cluster): hostile addresses fail in bounded time with a
ClusterError, and workers that run other code are refused before they train.

The hostile endpoints are stub servers on 127.0.0.1 (a free port) run in a thread of the
test; each stops itself.  A call under test runs in a thread joined with a limit, so a hang
fails the test instead of stalling the suite.
"""

from __future__ import annotations

import http.server
import os
import pickle
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import msgpack
import pytest
from conftest import require

import dlstat as dl
from dlstat import cluster
from dlstat.errors import ClusterError, OptionError

MTCARS = dl.datasets.load("mtcars")
SMALL = {"hidden": (3,), "epochs": 2, "seed": 1, "verbose": 0}
TIMEOUT = 3.0  # the connect deadline in these tests (CONNECT_TIMEOUT, seconds)
LIMIT = 60.0  # a call still running after this long has hung: the test fails


@pytest.fixture(autouse=True)
def short_deadline(monkeypatch):
    require("distributed")
    monkeypatch.setattr("dlstat.cluster.CONNECT_TIMEOUT", TIMEOUT)


def error_within(call, limit: float = LIMIT) -> BaseException | None:
    """The exception ``call()`` raises, run in a thread; fails the test if it is still
    running after ``limit`` seconds."""
    out: dict[str, BaseException] = {}

    def run():
        try:
            call()
        except BaseException as exc:  # handed to the test
            out["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit)
    assert not thread.is_alive(), f"the call was still waiting after {limit:g} s"
    return out.get("error")


class Stub:
    """A TCP server on 127.0.0.1 that gives each connection to ``answer(conn, k)`` (k: the
    connection's number, from 1); it stops when the ``with`` block ends or after
    ``lifetime`` seconds, closing every connection."""

    def __init__(self, answer, lifetime: float = 120.0):
        self.answer, self.lifetime = answer, lifetime
        self.stop, self.connections = threading.Event(), []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.address = f"tcp://127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> Stub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(10)

    def _serve(self) -> None:
        end = time.monotonic() + self.lifetime
        try:
            while not self.stop.is_set() and time.monotonic() < end:
                try:
                    conn, _ = self.sock.accept()
                except TimeoutError:
                    continue
                self.connections.append(conn)
                try:
                    self.answer(conn, len(self.connections))
                except OSError:
                    pass
        finally:
            for conn in self.connections:
                conn.close()
            self.sock.close()


def silent(conn, k):
    """Accept and never answer."""


def huge_length(length):
    def answer(conn, k):  # a frame length, then nothing
        conn.sendall(struct.pack("Q", length))
    return answer


def greeting(extra=None, frames=()):
    """A Dask scheduler's first message, as distributed frames it."""
    message = {"compression": None, "python": [3, 11, 7], "pickle-protocol": 5, **(extra or {})}
    parts = [msgpack.packb(message, use_bin_type=True), *frames]
    prelude = struct.pack(f"Q{len(parts)}Q", len(parts), *map(len, parts))
    body = prelude + b"".join(parts)
    return struct.pack("Q", len(body)) + body


def greets_then_silent(conn, k):
    """A genuine greeting on the first connection (the probe's), silence on the next."""
    if k == 1:
        conn.sendall(greeting())


def run_cv(address):
    return lambda: dl.cv_dnn("mpg ~ wt", MTCARS, folds=4, client=address, **SMALL)


def assert_refused(error, address, *phrases):
    assert isinstance(error, ClusterError), repr(error)
    message = str(error)
    assert f"client={address!r}" in message
    for phrase in phrases:
        assert phrase in message, message


# ------------------------------------------------------------------ hostile addresses


def test_an_endpoint_that_never_answers_fails_within_the_deadline():
    with Stub(silent) as stub:
        error = error_within(run_cv(stub.address))
    assert_refused(error, stub.address, "sent no Dask handshake within 3 s", "dask scheduler")


@pytest.mark.parametrize("length", [2**31, 2**62])  # allocatable (then a hang), impossible
def test_a_huge_frame_length_is_refused_without_allocating(length):
    with Stub(huge_length(length)) as stub:
        error = error_within(run_cv(stub.address))
    assert_refused(error, stub.address, f"first message of {length:,} bytes",
                   "nothing was allocated")


def test_an_http_server_is_named_as_such():
    class Quiet(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    address = f"tcp://127.0.0.1:{server.server_address[1]}"
    try:
        error = error_within(run_cv(address))
    finally:
        server.shutdown()
        server.server_close()
    assert_refused(error, address, "an HTTP server answered", "port 8787")


@pytest.mark.parametrize("entry", ["dnn", "dnn_path", "compare"])
def test_every_function_taking_client_is_bounded(entry):
    calls = {
        "dnn": lambda a: dl.dnn("mpg ~ wt", MTCARS, bootstrap=3, client=a, **SMALL),
        "dnn_path": lambda a: dl.dnn_path("mpg ~ wt + hp", MTCARS, n_penalties=2, folds=2,
                                          client=a, **SMALL),
        "compare": lambda a: dl.compare("mpg ~ wt", MTCARS, folds=2, client=a, **SMALL),
    }
    with Stub(huge_length(2**62)) as stub:
        error = error_within(lambda: calls[entry](stub.address))
    assert_refused(error, stub.address, "nothing was allocated")


def test_a_scheduler_that_stalls_after_the_probe_is_bounded_too():
    """The probe passes; the real connection's handshake then stalls: the deadline holds."""
    with Stub(greets_then_silent) as stub:
        error = error_within(run_cv(stub.address))
        assert len(stub.connections) == 2  # the probe, then distributed's own connection
    assert_refused(error, stub.address, "did not complete Dask's handshake within 3 s")


def test_a_pickle_in_the_greeting_is_refused_and_never_loaded(tmp_path):
    """distributed unpickles a ``__Pickled__`` entry of any message, the handshake too: the
    probe decodes plain msgpack only, so the stranger's object is never built."""
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    header = msgpack.packb({"pickled-obj": pickle.dumps(Payload()), "num-sub-frames": 0})
    hostile = greeting({"x": {"__Pickled__": 1}}, frames=[header])

    def answer(conn, k):
        conn.sendall(hostile)

    with Stub(answer) as stub:
        error = error_within(run_cv(stub.address))
    assert_refused(error, stub.address, "not a Dask handshake")
    assert not marker.exists()


def test_refused_connections_and_bad_addresses_name_the_fix():
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    error = error_within(run_cv(f"tcp://127.0.0.1:{port}"))
    assert_refused(error, f"tcp://127.0.0.1:{port}", "no Dask scheduler answered",
                   "`dask scheduler`")
    with pytest.raises(OptionError, match="no valid host and port"):
        dl.cv_dnn("mpg ~ wt", MTCARS, folds=4, client="tcp://127.0.0.1:http", **SMALL)


# ------------------------------------------------------------------ workers running other code


def worker_tree(root: Path, change: str) -> Path:
    """A copy of this dlstat under ``root``, changed as ``change`` says; a worker started with
    it on its path runs that code and reports that environment."""
    source = Path(dl.__file__).parent
    shutil.copytree(source, root / "dlstat", ignore=shutil.ignore_patterns("__pycache__"))
    if change == "version":
        init = root / "dlstat" / "__init__.py"
        init.write_text(init.read_text().replace(f'__version__ = "{dl.__version__}"',
                                                 '__version__ = "0.0.1"'))
    elif change == "engine":
        job = root / "dlstat" / "engine" / "job.py"
        job.write_text(job.read_text() + "\n# an edited engine\n")
    elif change == "stalled":  # a worker that never reports what it runs
        module = root / "dlstat" / "cluster.py"
        module.write_text(module.read_text() + "\n\ndef worker_identity():\n"
                          "    time.sleep(60)\n")
    elif change == "tensorflow":  # a TensorFlow distribution of another version first
        info = root / "tensorflow-1.0.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tensorflow\n"
                                       "Version: 1.0.0\n")
        (info / "top_level.txt").write_text("tensorflow\n")
    return root


@contextmanager
def scheduler_with_workers(tmp_path: Path, changes: list[str]):
    """A scheduler in this process and one worker process per change (named after it), each
    running a copy of dlstat changed so; yields the scheduler and ``{name: worker address}``."""
    distributed = require("distributed")
    with distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp://",
                                  dashboard_address=":0", silence_logs=40) as local:
        processes = []
        try:
            for change in changes:
                tree = worker_tree(tmp_path / change, change)
                processes.append(subprocess.Popen(
                    [sys.executable, "-m", "distributed.cli.dask_worker",
                     local.scheduler_address, "--nthreads", "1", "--no-nanny",
                     "--no-dashboard", "--name", change],
                    env={**os.environ, "PYTHONPATH": str(tree)}, cwd=str(tree),
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            with distributed.Client(local, set_as_default=False) as client:
                client.wait_for_workers(len(changes), timeout=120)
                workers = client.scheduler_info()["workers"].items()
                yield local, {w["name"]: address for address, w in workers}
        finally:
            for process in processes:
                process.kill()  # a stalled worker does not heed SIGTERM
            for process in processes:
                process.wait(30)


def test_workers_running_other_code_are_refused_by_name(tmp_path):
    """One scheduler, four worker processes: one runs a copy of this dlstat, three another
    dlstat version, other engine sources and another TensorFlow.  The fit is refused before
    any chunk trains, naming the three workers, what each runs and the fix."""
    changes = ["same", "version", "engine", "tensorflow"]
    with scheduler_with_workers(tmp_path, changes) as (local, names):
        error = error_within(run_cv(local.scheduler_address), limit=120)
        submitted = list(local.scheduler.task_prefixes)
    assert isinstance(error, ClusterError), repr(error)
    message = str(error)
    assert f"worker {names['same']} " not in message
    here = cluster.worker_identity()
    assert f"worker {names['version']} runs dlstat 0.0.1 (engine {here['engine']})" in message
    assert f"worker {names['engine']} runs dlstat {dl.__version__} (engine " in message
    assert "they differ in engine sources" in message
    assert f"worker {names['tensorflow']} runs dlstat {dl.__version__} (engine " \
           f"{here['engine']}) with TensorFlow 1.0.0" in message
    assert f"pip install dlstat=={dl.__version__}" in message
    assert not [p for p in submitted if "run_chunk" in p]  # no chunk was sent


def test_identity_names_what_decides_the_numbers():
    here = cluster.worker_identity()
    assert here["dlstat"] == dl.__version__
    assert len(here["engine"]) == 16
    with pytest.raises(ClusterError, match="differ in TensorFlow"):
        cluster.check_identity(here, {**here, "tensorflow": "0.1"}, "worker tcp://x:1")
    cluster.check_identity(here, dict(here), "worker tcp://x:1")


def test_workers_that_do_not_report_in_time_are_refused(tmp_path, monkeypatch):
    """The version check is bounded too: a worker that does not answer within
    IDENTITY_TIMEOUT stops the fit with a ClusterError instead of a wait."""
    monkeypatch.setattr("dlstat.cluster.IDENTITY_TIMEOUT", 2.0)
    with scheduler_with_workers(tmp_path, ["stalled"]) as (local, names):
        error = error_within(run_cv(local.scheduler_address))
    assert isinstance(error, ClusterError), repr(error)
    assert "did not report their dlstat and TensorFlow versions within 2 s" in str(error)
