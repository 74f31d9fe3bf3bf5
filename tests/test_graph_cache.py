"""The on-disk cache of traced training functions: same numbers, reused, robust to damage."""

from __future__ import annotations

import json
import os

from conftest import run_python

FIT = """
import json, numpy as np, pandas as pd, dlstat as dl
d = pd.DataFrame(np.random.default_rng(0).normal(size=(300, 4)), columns=list("abcd"))
fit = dl.dnn("a ~ .", d, hidden=(5,), epochs=3, batch_size=64, dropout=0.1, seed=2)
print(json.dumps(fit.predict(d.head(5)).tolist()))
"""


def _fit(env):
    old = dict(os.environ)
    os.environ.update(env)
    try:
        return json.loads(run_python(FIT).stdout.strip().splitlines()[-1])
    finally:
        os.environ.clear()
        os.environ.update(old)


def test_cached_function_gives_identical_numbers_and_is_reused(tmp_path):
    env = {"DLSTAT_GRAPH_CACHE": "1", "DLSTAT_CACHE_DIR": str(tmp_path)}
    first = _fit(env)
    entries = list((tmp_path / "graphs").iterdir())
    assert len(entries) == 1 and (entries[0] / "saved_model.pb").is_file()
    assert _fit(env) == first
    assert list((tmp_path / "graphs").iterdir()) == entries


def test_damaged_entry_is_rebuilt(tmp_path):
    env = {"DLSTAT_GRAPH_CACHE": "1", "DLSTAT_CACHE_DIR": str(tmp_path)}
    first = _fit(env)
    (entry,) = (tmp_path / "graphs").iterdir()
    (entry / "saved_model.pb").write_bytes(b"not a saved model")
    assert _fit(env) == first
    assert (entry / "saved_model.pb").read_bytes() != b"not a saved model"


def test_cache_can_be_turned_off(tmp_path):
    first = _fit({"DLSTAT_GRAPH_CACHE": "0", "DLSTAT_CACHE_DIR": str(tmp_path)})
    assert not (tmp_path / "graphs").exists()
    assert first == _fit({"DLSTAT_GRAPH_CACHE": "1", "DLSTAT_CACHE_DIR": str(tmp_path)})


def test_a_fit_turns_graph_rewrites_off_for_its_own_calls_only():
    """The engine runs its graphs without Grappler's rewrites (they only cost start-up time
    there); the thread's options for everyone else's functions are as they were."""
    import dlstat as dl
    from dlstat.engine.graph import tf_module, without_graph_rewrites
    from tensorflow.python.eager import context

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
