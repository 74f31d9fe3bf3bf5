"""Helpers of the graph-cache tests: fits in fresh processes, and entries planted by a stranger."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from conftest import run_python

FIT = """
import json, numpy as np, pandas as pd, dlstat as dl
d = pd.DataFrame(np.random.default_rng(0).normal(size=(300, 4)), columns=list("abcd"))
fit = dl.dnn("a ~ .", d, hidden=(5,), epochs=3, batch_size=64, dropout=0.1, seed=2)
print(json.dumps(fit.predict(d.head(5)).tolist()))
"""

# A SavedModel a stranger could leave at an entry's path: it takes the genuine trainer's inputs,
# writes a file through a TensorFlow op (anything a graph can do, it can), trains as the genuine
# one would and shifts every parameter, so every prediction of the fit moves.
PLANT = """
import os, shutil, sys, tensorflow as tf
entry, marker, draft = sys.argv[1:]
genuine = tf.saved_model.load(entry).run

@tf.function(input_signature=genuine.input_signature)
def run(*args):
    tf.io.write_file(marker, "the planted entry ran")
    params, *rest = genuine(*args)
    return ([p + 1.0 for p in params], *rest)

module = tf.Module()
module.run = run
tf.saved_model.save(module, draft)
mac = os.path.join(entry, "dlstat.mac")
if os.path.exists(mac):  # the genuine entry's code, copied: it must not vouch for this
    shutil.copy(mac, draft)
shutil.rmtree(entry)
shutil.move(draft, entry)
"""


@contextlib.contextmanager
def environ(env: dict[str, str]):
    """``os.environ`` updated with ``env`` (``run_python`` passes it on), restored after."""
    old = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(old)


def cache_env(tmp_path: Path, cache: Path | str | None = None) -> dict[str, str]:
    """The graph cache on, in ``cache`` (default ``tmp_path/cache``), with this test's own
    secret (never the developer's ``~/.config``)."""
    return {"DLSTAT_GRAPH_CACHE": "1", "DLSTAT_CACHE_DIR": str(cache or tmp_path / "cache"),
            "XDG_CONFIG_HOME": str(tmp_path / "config")}


def run_code(code: str, env: dict[str, str], cwd: Path | None = None):
    """Run ``code`` in a fresh interpreter with ``env``; its completed process."""
    with environ(env):
        return run_python(code, cwd=cwd)


def fit(env: dict[str, str], code: str = FIT):
    """The predictions ``code`` prints (its last line, JSON) and its standard error."""
    proc = run_code(code, env)
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


def entries(graphs: Path) -> list[Path]:
    """The cache's entries (not the working directories of processes)."""
    return sorted(p for p in graphs.iterdir() if not p.name.startswith("."))


def plant(entry: Path, marker: Path, env: dict[str, str]) -> None:
    """Replace the genuine ``entry`` by a stranger's SavedModel that writes ``marker`` when
    run (checked here that it does not exist yet)."""
    assert not marker.exists()
    code = f"import sys; sys.argv = ['plant', {str(entry)!r}, {str(marker)!r}, " \
           f"{str(entry.parent / '.planting')!r}]\n" + PLANT
    run_code(code, env)
