"""A persistent cache of traced training functions (TensorFlow SavedModels on disk).

Tracing the stacked trainer costs a second or more per configuration; loading it back costs
about 0.2 s.  Each configuration is saved once per machine (keyed by its static structure, the
TensorFlow and dlstat versions and the engine's source), so a new process — a CLI call, an R
session — starts training without tracing.  Any failure falls back to tracing, silently.
Set ``DLSTAT_GRAPH_CACHE=0`` to disable, ``DLSTAT_CACHE_DIR`` to move it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def engine_sources() -> list[Path]:
    """Every source file of the engine (and the layer specs) a traced graph may depend on:
    all of them are hashed, so a new engine module can never be left out of the key."""
    here = Path(__file__).parent
    families = here.parent / "families"  # the loss formulas are traced into the graph
    return sorted(here.glob("*.py")) + sorted(families.glob("*.py")) + [
        here.parent / "architecture.py"]


def cache_dir() -> Path | None:
    if os.environ.get("DLSTAT_GRAPH_CACHE", "1") == "0":
        return None
    root = os.environ.get("DLSTAT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "dlstat")
    return Path(root) / "graphs"


def key_digest(key: Any, tf_version: str) -> str:
    from .. import __version__

    h = hashlib.sha256(repr(key).encode())
    h.update(f"{tf_version}|{__version__}".encode())
    for path in engine_sources():
        h.update(path.read_bytes())
    return h.hexdigest()[:32]


def cached_function(tf, key: Any, build: Callable[[], Any]):
    """The training function for ``key``: loaded from disk, or built, traced and saved."""
    root = cache_dir()
    if root is None:
        return build()
    path = root / key_digest(key, tf.__version__)
    if path.is_dir():
        try:
            return tf.saved_model.load(str(path)).run
        except Exception:  # a damaged or foreign entry: rebuild it
            shutil.rmtree(path, ignore_errors=True)
    fn = build()
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=root, prefix=".tmp-"))
    except OSError:  # read-only home, full disk: train without caching
        return fn
    try:
        module = tf.Module()
        module.run = fn
        tf.saved_model.save(module, str(tmp))
        os.replace(tmp, path)  # atomic: concurrent processes never see a half-written entry
    except Exception:
        shutil.rmtree(tmp, ignore_errors=True)
    return fn
