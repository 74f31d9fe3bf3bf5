"""The on-disk cache of traced training functions: same numbers, reused, robust to damage,
keyed by everything a trace depends on.  (Entries and directories of strangers:
test_graph_cache_trust.py.)"""

from __future__ import annotations

import json
import os
import time

import pytest
from cache_helpers import cache_env, entries, fit, run_code


def test_cached_function_gives_identical_numbers_and_is_reused(tmp_path):
    env = cache_env(tmp_path)
    first, _ = fit(env)
    (entry,) = entries(tmp_path / "cache" / "graphs")
    assert (entry / "saved_model.pb").is_file()
    assert fit(env)[0] == first
    assert entries(tmp_path / "cache" / "graphs") == [entry]


def test_damaged_entry_is_rebuilt(tmp_path):
    env = cache_env(tmp_path)
    first, _ = fit(env)
    (entry,) = entries(tmp_path / "cache" / "graphs")
    (entry / "saved_model.pb").write_bytes(b"not a saved model")
    assert fit(env)[0] == first
    assert (entry / "saved_model.pb").read_bytes() != b"not a saved model"


def test_cache_can_be_turned_off(tmp_path):
    first, _ = fit({**cache_env(tmp_path), "DLSTAT_GRAPH_CACHE": "0"})
    assert not (tmp_path / "cache").exists()
    assert first == fit(cache_env(tmp_path))[0]


# The first layer reads the raw columns, so the input width is fixed inside the traced graph
# (the dropout masks' positions, the flattened shape): a narrow fit's graph must never serve
# a wide fit, neither from this process's cache nor from the disk.
WIDTHS = """
import json, os, dlstat as dl
from dlstat.engine import graph
mtcars = dl.datasets.load("mtcars")
architecture = [dl.{first}, dl.dense(4)]

def fit(formula):
    model = dl.dnn(formula, mtcars, architecture=architecture, epochs=20, seed=1, verbose=0)
    return model.predict(mtcars.head(5)).tolist()

def use(directory):
    graph._CACHE.clear()
    os.environ["DLSTAT_CACHE_DIR"] = directory

wide = "mpg ~ wt + hp + qsec"
os.environ["DLSTAT_GRAPH_CACHE"] = "0"
out = {{"uncached": fit(wide)}}
os.environ["DLSTAT_GRAPH_CACHE"] = "1"
use({memory!r}); fit("mpg ~ wt"); out["in_memory"] = fit(wide)
use({disk!r}); fit("mpg ~ wt"); use({disk!r}); out["on_disk"] = fit(wide)
use({fresh!r}); fit("mpg ~ wt")
print(json.dumps(out))
"""


@pytest.mark.parametrize("first", ["dropout(0.5)", "flatten()"])
def test_a_graph_traced_for_other_inputs_is_never_used(tmp_path, first):
    env = cache_env(tmp_path)
    dirs = {name: str(tmp_path / name) for name in ("memory", "disk", "fresh")}
    proc = run_code(WIDTHS.format(first=first, **dirs), env)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["in_memory"] == out["uncached"]
    assert out["on_disk"] == out["uncached"]
    # A new process whose cache holds only the narrow fit's entry.
    code = WIDTHS.split("wide =")[0].format(first=first) + \
        "print(json.dumps(fit('mpg ~ wt + hp + qsec')))"
    fresh, _ = fit({**env, "DLSTAT_CACHE_DIR": dirs["fresh"]}, code)
    assert fresh == out["uncached"]


FOREIGN = """
import sys, tensorflow as tf
from pathlib import Path
from dlstat.engine.cache_trust import seal, user_secret
entry = Path(sys.argv[1])
module = tf.Module()
module.run = tf.function(lambda x: 2 * x, input_signature=[tf.TensorSpec([None], tf.float32)])
draft = entry.parent / ".foreign"
tf.saved_model.save(module, str(draft))
seal(draft, entry.name, user_secret())  # as if this user's dlstat had written it
for item in sorted(entry.rglob("*"), reverse=True):
    item.rmdir() if item.is_dir() else item.unlink()
entry.rmdir()
draft.rename(entry)
"""


def test_an_entry_that_loads_but_fails_when_called_is_evicted(tmp_path):
    """An entry of this user's that is not this configuration's trainer (an older engine's,
    say) loads but fails when called: it is removed and the graph traced again, once."""
    env = cache_env(tmp_path)
    first, _ = fit(env)
    (entry,) = entries(tmp_path / "cache" / "graphs")
    run_code(f"import sys; sys.argv = ['foreign', {str(entry)!r}]\n" + FOREIGN, env)
    foreign = (entry / "saved_model.pb").read_bytes()
    assert fit(env)[0] == first
    assert (entry / "saved_model.pb").read_bytes() != foreign  # replaced by the right graph


def test_working_directories_of_killed_processes_are_removed(tmp_path):
    graphs = tmp_path / "cache" / "graphs"
    old, recent = graphs / ".tmp-killed", graphs / ".tmp-running"
    for directory in (old, recent):
        (directory / "variables").mkdir(parents=True)
        (directory / "saved_model.pb").write_bytes(b"half written")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    fit(cache_env(tmp_path))
    assert not old.exists()
    assert recent.is_dir()  # perhaps another process's, still being written
    assert len(entries(graphs)) == 1


def test_a_tilde_in_the_cache_directory_is_the_home_directory(tmp_path, monkeypatch):
    from dlstat.engine.cache import cache_dir
    from dlstat.engine.cache_trust import secret_path

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("DLSTAT_GRAPH_CACHE", "1")
    monkeypatch.setenv("DLSTAT_CACHE_DIR", "~/dlstat-cache")
    assert cache_dir() == tmp_path / "dlstat-cache" / "graphs"
    monkeypatch.delenv("DLSTAT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", "~/caches")
    assert cache_dir() == tmp_path / "caches" / "dlstat" / "graphs"
    monkeypatch.setenv("XDG_CONFIG_HOME", "~/settings")
    assert secret_path() == tmp_path / "settings" / "dlstat" / "graph-cache.key"


def test_a_fit_turns_graph_rewrites_off_for_its_own_calls_only():
    """The engine runs its graphs without Grappler's rewrites (they only cost start-up time
    there); the thread's options for everyone else's functions are as they were."""
    from tensorflow.python.eager import context

    import dlstat as dl
    from dlstat.engine.graph import tf_module, without_graph_rewrites

    tf = tf_module()

    def rewrites_off() -> bool:
        config = tf.compat.v1.ConfigProto()
        config.ParseFromString(context.context().function_call_options.config_proto_serialized)
        return config.graph_options.rewrite_options.disable_meta_optimizer

    assert not rewrites_off()
    with without_graph_rewrites(tf):
        assert rewrites_off()
    assert not rewrites_off()
    mtcars = dl.datasets.load("mtcars")
    dl.dnn("mpg ~ wt", mtcars, hidden=(4,), epochs=2, seed=1, verbose=0)
    assert not rewrites_off()
    doubled = tf.function(lambda x: 2 * x)(tf.constant(3.0))  # a user's function still runs
    assert float(doubled) == 6.0
