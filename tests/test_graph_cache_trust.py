"""The graph cache runs only what this user's dlstat wrote (dlstat/engine/cache_trust.py).

A SavedModel is a program: an entry planted in a cache directory (a shared ``DLSTAT_CACHE_DIR``
on a cluster, a lab server) would run inside every fit of its configuration.  These tests plant
real SavedModels that write a file through a TensorFlow op and shift the predictions, at the
exact path the fit's key maps to, and check they never run and the numbers are the uncached
ones.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cache_helpers import cache_env, entries, environ, fit, plant

import dlstat
from dlstat.engine import cache_trust
from dlstat.engine.cache_trust import Untrusted

ROOT = Path(__file__).resolve().parents[1]
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> tuple[list, Path, Path]:
    """The uncached predictions of ``FIT``, and the entry of its key holding a planted model
    that writes ``marker`` if it ever runs (copied into each test's cache directory)."""
    tmp_path = tmp_path_factory.mktemp("planted")
    env = cache_env(tmp_path)
    uncached, _ = fit({**env, "DLSTAT_GRAPH_CACHE": "0"})
    fit(env)
    (entry,) = entries(tmp_path / "cache" / "graphs")
    marker = tmp_path / "the-planted-entry-ran"
    plant(entry, marker, env)
    return uncached, entry, marker


def _planted_in(planted, graphs: Path) -> Path:
    """A copy of the planted entry in ``graphs`` (made, private), at the same key."""
    _, entry, _ = planted
    graphs.mkdir(parents=True, exist_ok=True, mode=0o700)
    return Path(shutil.copytree(entry, graphs / entry.name))


def test_a_planted_entry_never_runs(tmp_path, planted):
    uncached, _, marker = planted
    env = cache_env(tmp_path)
    entry = _planted_in(planted, tmp_path / "cache" / "graphs")
    predictions, stderr = fit(env)
    assert not marker.exists()
    assert predictions == uncached
    assert "did not write for this user" in stderr
    assert "authentication code does not match" in stderr
    # Replaced by the genuine graph, sealed under this test's secret.
    with environ(env):
        cache_trust.verified_copy(entry, entry.name, cache_trust.user_secret(), tmp_path / "c")


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o1777])
def test_a_directory_others_can_write_is_not_used(tmp_path, planted, mode):
    """As ssh with ``~/.ssh``: a cache directory (or its entries' directory) that group or
    others can write is refused, sticky or not, with one warning; the fit traces instead."""
    uncached, entry, marker = planted
    shared = tmp_path / "shared"
    _planted_in(planted, shared / "graphs")
    for directory in (shared, shared / "graphs"):
        os.chmod(directory, mode)
    predictions, stderr = fit(cache_env(tmp_path, shared))
    assert predictions == uncached
    assert not marker.exists()
    assert stderr.count("dlstat does not use the graph cache") == 1
    assert f"mode {mode:04o}" in stderr and "chmod go-w" in stderr
    assert [p.name for p in (shared / "graphs").iterdir()] == [entry.name]  # left as it was


@as_root
def test_a_directory_of_another_user_is_not_used(tmp_path, planted):
    uncached, _, marker = planted
    cache = tmp_path / "theirs"
    _planted_in(planted, cache / "graphs")
    os.chown(cache / "graphs", 65534, 65534)
    predictions, stderr = fit(cache_env(tmp_path, cache))
    assert "owner uid 65534" in stderr and "dlstat does not use the graph cache" in stderr
    assert predictions == uncached
    assert not marker.exists()


def test_the_cli_never_runs_a_planted_entry(tmp_path, planted):
    """``dlstat fit`` of ``FIT``'s configuration in a new process, its cache directory given
    with ``~`` and holding the planted entry at the fit's key."""
    uncached, _, marker = planted
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    _planted_in(planted, home / "dlstat-cache" / "graphs")
    pd.DataFrame(np.random.default_rng(0).normal(size=(300, 4)),
                 columns=list("abcd")).to_csv(work / "d.csv", index=False)
    env = {**os.environ, "HOME": str(home), "DLSTAT_GRAPH_CACHE": "1",
           "DLSTAT_CACHE_DIR": "~/dlstat-cache", "PYTHONPATH": str(ROOT),
           "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("XDG_CONFIG_HOME", None)

    def cli(**extra) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [sys.executable, "-m", "dlstat", "fit", "a ~ .", "d.csv", "--hidden", "5",
             "--epochs", "3", "--batch-size", "64", "--dropout", "0.1", "--seed", "2",
             "--save", "fit.dlstat"],
            capture_output=True, text=True, cwd=work, env={**env, **extra}, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return proc

    proc = cli()
    assert not marker.exists()
    assert "did not write for this user" in proc.stderr
    assert not (work / "~").exists()  # "~" is the home directory, not a folder named ~
    assert (home / ".config" / "dlstat" / "graph-cache.key").is_file()
    data = pd.read_csv(work / "d.csv")
    predictions = dlstat.load(work / "fit.dlstat").predict(data.head(5)).tolist()
    assert predictions == uncached


# ---------------------------------------------------------------- the checks, without TensorFlow


@pytest.fixture
def secret(tmp_path, monkeypatch) -> bytes:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return cache_trust.user_secret()


@pytest.fixture
def sealed(tmp_path, secret) -> Path:
    """A sealed entry directory of two files and a subdirectory, stored as ``abc``."""
    entry = tmp_path / "graphs" / "abc"
    (entry / "variables").mkdir(parents=True)
    (entry / "saved_model.pb").write_bytes(b"graph" * 100)
    (entry / "variables" / "variables.index").write_bytes(b"index")
    cache_trust.seal(entry, "abc", secret)
    return entry


def test_a_sealed_entry_is_copied_exactly(sealed, secret, tmp_path):
    copy = tmp_path / "copy"
    cache_trust.verified_copy(sealed, "abc", secret, copy)
    assert (copy / "saved_model.pb").read_bytes() == b"graph" * 100
    assert (copy / "variables" / "variables.index").read_bytes() == b"index"
    assert not (copy / cache_trust.MAC_FILE).exists()


@pytest.mark.parametrize("change", ["byte", "added", "renamed", "no code", "other name",
                                    "other secret", "link", "pipe"])
def test_any_change_to_a_sealed_entry_is_refused(sealed, secret, tmp_path, change):
    name = "abc"
    if change == "byte":
        (sealed / "saved_model.pb").write_bytes(b"graph" * 99 + b"grapH")
    elif change == "added":
        (sealed / "variables" / "extra").write_bytes(b"")
    elif change == "renamed":
        (sealed / "variables" / "variables.index").rename(sealed / "variables" / "other.index")
    elif change == "no code":
        (sealed / cache_trust.MAC_FILE).unlink()
    elif change == "other name":  # a genuine entry moved to another configuration's key
        name = "abd"
    elif change == "other secret":
        secret = bytes(32)
    elif change == "link":
        (sealed / "variables" / "variables.index").unlink()
        (sealed / "variables" / "variables.index").symlink_to(tmp_path / "config")
    elif change == "pipe":  # reading it would wait for ever
        (sealed / "variables" / "variables.index").unlink()
        os.mkfifo(sealed / "variables" / "variables.index")
    with pytest.raises(Untrusted):
        cache_trust.verified_copy(sealed, name, secret, tmp_path / "copy")


def test_the_secret_is_private_and_kept(tmp_path, secret):
    path = tmp_path / "config" / "dlstat" / "graph-cache.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert len(secret) == cache_trust.SECRET_BYTES
    assert cache_trust.user_secret() == secret
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no draft left behind


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_secret_others_can_read_is_refused(tmp_path, secret, mode):
    path = tmp_path / "config" / "dlstat" / "graph-cache.key"
    path.chmod(mode)
    with pytest.raises(Untrusted, match=f"mode {mode:04o}.*only you can read"):
        cache_trust.user_secret()


def test_a_secret_that_is_a_link_is_refused(tmp_path, secret):
    path = tmp_path / "config" / "dlstat" / "graph-cache.key"
    target = tmp_path / "elsewhere"
    path.rename(target)
    path.symlink_to(target)
    with pytest.raises(Untrusted, match="link"):
        cache_trust.user_secret()


@as_root
def test_a_secret_of_another_user_is_refused(tmp_path, secret):
    path = tmp_path / "config" / "dlstat" / "graph-cache.key"
    os.chown(path, 65534, 65534)
    with pytest.raises(Untrusted, match="owner uid 65534"):
        cache_trust.user_secret()


def test_missing_directories_are_made_private(tmp_path):
    made = cache_trust.private_directory(tmp_path / "a" / "b" / "graphs")
    for directory in (made, made.parent, made.parent.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700


@pytest.mark.parametrize("sticky", [False, True])
def test_nothing_is_made_under_a_directory_others_can_write(tmp_path, sticky):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777 if sticky else 0o777)
    if sticky:  # like /tmp: what this user makes in it stays this user's
        assert cache_trust.private_directory(shared / "mine" / "graphs").is_dir()
    else:
        with pytest.raises(Untrusted, match="can be changed by other users"):
            cache_trust.private_directory(shared / "mine" / "graphs")
        assert not (shared / "mine").exists()
