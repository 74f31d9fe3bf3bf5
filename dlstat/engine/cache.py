"""A persistent cache of traced training functions (TensorFlow SavedModels on disk).

Tracing the stacked trainer costs a second or more per configuration; loading it back costs
about 0.2 s.  Each configuration is saved once per user (in ``~/.cache/dlstat/graphs``;
``DLSTAT_CACHE_DIR`` moves it, ``~`` expanded; ``DLSTAT_GRAPH_CACHE=0`` turns it off), so a
new process — a CLI call, an R session — starts training without tracing.

The key is everything the trace depends on: the run configuration and input signature the
trace itself is built from (``graph.trace_spec``: every layer with its input and output shapes,
every static option), written out field by field (:func:`stable_text`), with the TensorFlow
and dlstat versions and the engine's source.  A value without a stable text (a lambda, say)
is never cached on disk.

A SavedModel is a program, so an entry is run only when this user's dlstat wrote it
(:mod:`.cache_trust`): the directory must be writable by this user alone (a shared or
group-writable one is refused with one warning, and the process traces instead), and the
entry's authentication code under this user's secret must match on the private copy that is
loaded.  Anything else found under the key — planted, damaged, unreadable, or failing when
called — is removed and the graph traced again: the numbers never depend on the cache.
Directories left by killed processes (``.tmp-*``) are removed after an hour.  Without POSIX
owners and modes (Windows) the disk cache is not used.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
import hashlib
import os
import shutil
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .cache_trust import (
    SUPPORTED,
    Untrusted,
    private_directory,
    seal,
    user_secret,
    verified_copy,
)

LEFTOVER_SECONDS = 3600  # a ".tmp-*" directory this old belongs to a process that was killed
_WARNED: set[str] = set()


def engine_sources() -> list[Path]:
    """Every source file of the engine (and the layer specs) a traced graph may depend on:
    all of them are hashed, so a new engine module can never be left out of the key."""
    here = Path(__file__).parent
    families = here.parent / "families"  # the loss formulas are traced into the graph
    return sorted(here.glob("*.py")) + sorted(families.glob("*.py")) + [
        here.parent / "architecture.py"]


def cache_dir() -> Path | None:
    """The directory of the cache's entries, or None when the cache is off."""
    if os.environ.get("DLSTAT_GRAPH_CACHE", "1") == "0":
        return None
    root = os.environ.get("DLSTAT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or "~/.cache", "dlstat")
    return Path(os.path.expanduser(root)) / "graphs"


class UnstableKey(TypeError):
    """A part of a key whose text could differ between processes or between two values."""


def stable_text(value: Any, depth: int = 0) -> str:
    """A text of ``value`` that is the same in every process and differs between different
    values: every field of a dataclass, named tuple or object, every item of a container,
    a function by its qualified name.  Raises :class:`UnstableKey` for anything else (a
    lambda, a local function, an object printed with its address)."""
    if depth > 40:
        raise UnstableKey("a key nested more than 40 levels deep")
    inner = functools.partial(stable_text, depth=depth + 1)
    kind = _qualified(type(value))
    if value is None or isinstance(value, (bool, int, float, str, bytes, enum.Enum)):
        return f"{kind}:{value!r}"
    if isinstance(value, np.ndarray):
        return f"{kind}:{value.dtype.str}:{value.shape}:{value.tobytes().hex()}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = ",".join(f"{f.name}={inner(getattr(value, f.name))}"
                          for f in dataclasses.fields(value))
        return f"{kind}({fields})"
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple
        return f"{kind}({','.join(f'{n}={inner(v)}' for n, v in zip(value._fields, value))})"
    if isinstance(value, (tuple, list)):
        return f"{kind}[{','.join(map(inner, value))}]"
    if isinstance(value, (set, frozenset)):
        return f"{kind}{{{','.join(sorted(map(inner, value)))}}}"
    if isinstance(value, dict):
        return f"{kind}{{{','.join(sorted(f'{inner(k)}:{inner(v)}' for k, v in value.items()))}}}"
    if isinstance(value, functools.partial):
        return f"{kind}({inner(value.func)},{inner(value.args)},{inner(value.keywords)})"
    if isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType)):
        return f"{kind}:{_qualified(value)}"
    if hasattr(value, "__dict__") and type(value).__repr__ is object.__repr__:
        return f"{kind}{inner(vars(value))}"
    raise UnstableKey(f"no stable text for a {kind}")


def _qualified(thing: Any) -> str:
    name = f"{thing.__module__}.{thing.__qualname__}"
    if "<" in name:  # <lambda>, <locals>: not unique by name
        raise UnstableKey(f"{name} has no unique name")
    return name


def key_digest(key: Any, tf_version: str) -> str:
    """The entry name of ``key``: its :func:`stable_text`, the versions and the engine's source."""
    from .. import __version__

    h = hashlib.sha256(stable_text(key).encode())
    h.update(f"|{tf_version}|{__version__}".encode())
    h.update(sources_digest())
    return h.hexdigest()[:32]


@functools.lru_cache(maxsize=1)
def sources_digest() -> bytes:
    """SHA-256 of every engine source (names and bytes), read once per process: the graph
    cache's key and the cluster's version check both include it."""
    h = hashlib.sha256()
    for path in engine_sources():
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.digest()


def cached_function(tf, key: Any, build: Callable[[], Any]):
    """The training function for ``key``: this user's saved trace, or built, traced and saved.

    Never fails for the cache's sake: without a usable cache ``build()`` is returned."""
    graphs = cache_dir()
    if graphs is None or not SUPPORTED:
        return build()
    try:
        name = key_digest(key, tf.__version__)
        private_directory(graphs.parent)  # the cache directory, then its entries'
        private_directory(graphs)
        secret = user_secret()
    except UnstableKey:
        return build()
    except Untrusted as why:
        _warn_once("directory", (
            f"dlstat does not use the graph cache {graphs}, whose entries others could have "
            f"planted: {why}. This process traces its graphs instead (slower, the same "
            f"numbers). Fix: chmod go-w that directory if it is yours, or set DLSTAT_CACHE_DIR "
            f"(the cache) or XDG_CONFIG_HOME (its secret) to a directory only you can write."))
        return build()
    except OSError:  # read-only home, full disk: train without caching
        return build()
    entry = _Entry(tf, graphs / name, name, secret)
    loaded = entry.load()
    if loaded is None:
        return entry.store(build())
    return _Guarded(loaded, lambda: entry.store(build()), entry.evict)


@dataclasses.dataclass
class _Entry:
    """One entry of the cache: where it lives, its name, and this user's secret."""

    tf: Any
    path: Path
    name: str
    secret: bytes

    def load(self):
        """The entry's function if it is this user's (checked on a private copy, which is what
        is loaded); None, the entry removed, if it is missing or anything is wrong with it."""
        if not os.path.lexists(self.path):
            return None
        try:
            private = Path(tempfile.mkdtemp(dir=self.path.parent, prefix=".tmp-load-"))
        except OSError:
            return None
        try:
            verified_copy(self.path, self.name, self.secret, private / "entry")
            return self.tf.saved_model.load(str(private / "entry")).run
        except Untrusted as why:
            _warn_once("entry", f"dlstat removed the graph cache entry {self.path}, which it "
                       f"did not write for this user ({why}); the graph is traced again.")
        except Exception:  # damaged, or not a dlstat trainer: rebuilt below
            pass
        finally:
            shutil.rmtree(private, ignore_errors=True)
        self.evict()
        return None

    def evict(self) -> None:
        if os.path.isdir(self.path) and not os.path.islink(self.path):
            shutil.rmtree(self.path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(self.path)

    def store(self, fn):
        """Save ``fn`` under the entry's name (atomically, with its authentication code)."""
        _remove_leftovers(self.path.parent)
        try:
            draft = Path(tempfile.mkdtemp(dir=self.path.parent, prefix=".tmp-"))
        except OSError:
            return fn
        try:
            module = self.tf.Module()
            module.run = fn
            self.tf.saved_model.save(module, str(draft))
            seal(draft, self.name, self.secret)
            os.replace(draft, self.path)  # atomic: no process ever sees a half-written entry
        except Exception:
            shutil.rmtree(draft, ignore_errors=True)
        return fn


class _Guarded:
    """A loaded function that, on any failure when called, is evicted and replaced by a fresh
    trace, which then runs the call: a foreign entry costs one trace, never an error."""

    def __init__(self, loaded, rebuild: Callable[[], Any], evict: Callable[[], None]):
        self._fn, self._rebuild, self._evict, self._loaded = loaded, rebuild, evict, True

    def __call__(self, *args):
        if not self._loaded:
            return self._fn(*args)
        try:
            return self._fn(*args)
        except Exception:
            self._evict()
            self._fn, self._loaded = self._rebuild(), False
            return self._fn(*args)


def _remove_leftovers(graphs: Path) -> None:
    """Remove the ``.tmp-*`` directories of processes killed over an hour ago."""
    now = time.time()
    with contextlib.suppress(OSError), os.scandir(graphs) as listing:
        for item in listing:
            if item.name.startswith(".tmp-") and \
                    now - item.stat(follow_symlinks=False).st_mtime > LEFTOVER_SECONDS:
                shutil.rmtree(item.path, ignore_errors=True)


def _warn_once(topic: str, message: str) -> None:
    """Warn about ``topic`` once per process (every fit would otherwise repeat it)."""
    if topic in _WARNED:
        return
    _WARNED.add(topic)
    from ..errors import warn

    warn(message)
