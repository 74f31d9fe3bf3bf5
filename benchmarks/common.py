"""Shared helpers for the dlstat benchmarks: simulated data, timing, machine info.

Import this module before TensorFlow is imported elsewhere so that
``TF_CPP_MIN_LOG_LEVEL`` takes effect.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pandas as pd

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass
class RegressionData:
    """A simulated regression problem.

    ``df`` has columns ``x1..xp`` and ``y`` (raw, unstandardized features);
    ``X`` (float32, shape ``(n, p)``) and ``y`` (float32, shape ``(n,)``) hold
    the same values as numpy arrays.
    """

    df: pd.DataFrame
    X: np.ndarray
    y: np.ndarray


def make_regression_data(n: int = 20_000, p: int = 20, seed: int = 0, noise: float = 0.5) -> RegressionData:
    """Simulate ``y = sin(x1) + x2*x3 + 0.5*x4^2 + sum_j 0.1*x_j + noise``.

    Features are independent N(0, 1); the noise is N(0, ``noise``^2).
    Requires ``p >= 4``. Deterministic for a given ``seed``.
    """
    if p < 4:
        raise ValueError("p must be >= 4")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = (
        np.sin(X[:, 0])
        + X[:, 1] * X[:, 2]
        + 0.5 * X[:, 3] ** 2
        + 0.1 * X.sum(axis=1)
        + noise * rng.standard_normal(n)
    )
    X, y = X.astype(np.float32), y.astype(np.float32)
    return RegressionData(df=to_frame(X, y), X=X, y=y)


def to_frame(X: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """Build a DataFrame with columns ``x1..xp`` followed by ``y``."""
    df = pd.DataFrame(X, columns=[f"x{j + 1}" for j in range(X.shape[1])])
    df["y"] = y
    return df


def standardize(X: np.ndarray) -> np.ndarray:
    """Column-wise z-scores (population sd), keeping the dtype of ``X``."""
    mean, sd = X.mean(axis=0), X.std(axis=0)
    sd[sd == 0] = 1.0
    return ((X - mean) / sd).astype(X.dtype)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Run ``fn()`` once; return (wall seconds, result)."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def best_of(fn: Callable[[], Any], repeats: int = 2) -> float:
    """Minimum wall time of ``repeats`` calls of ``fn()``."""
    return min(timed(fn)[0] for _ in range(repeats))


def matmul_gflops(batch: int = 64, rows: int = 256, inner: int = 64, reps: int = 200, repeats: int = 3) -> float:
    """Measured float32 matmul rate of this machine in GFLOP/s, using TensorFlow.

    Runs ``reps`` chained batched matmuls ``[batch, rows, inner] x [inner, inner]``
    inside one ``tf.function`` (the default shape mirrors a 64-unit dense layer
    applied to batches of 256 rows). The right-hand matrix is orthogonal, so
    values neither vanish nor overflow. Counts ``2*batch*rows*inner*inner`` FLOPs
    per matmul; returns the best of ``repeats`` timed runs after one warm-up.
    For a plain square matmul use e.g. ``batch=1, rows=1024, inner=1024``.
    """
    import tensorflow as tf

    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((inner, inner)))
    a = tf.constant(rng.standard_normal((batch, rows, inner)), tf.float32)
    b = tf.constant(q, tf.float32)

    @tf.function
    def chain(x: tf.Tensor) -> tf.Tensor:
        for _ in tf.range(reps):
            x = tf.matmul(x, b)
        return x

    chain(a).numpy()  # trace + warm up
    seconds = best_of(lambda: chain(a).numpy(), repeats)
    return 2.0 * batch * rows * inner * inner * reps / seconds / 1e9


def stacked_matmul_gflops(stack: int = 120, rows: int = 256, inner: int = 64, flops: float = 2e10,
                          repeats: int = 3) -> float:
    """Like :func:`matmul_gflops` but with a different right-hand matrix per batch entry,
    ``[stack, rows, inner] x [stack, inner, inner]``: the matmul of one dense layer of a stack
    of ``stack`` networks (dlstat's engine) on batches of ``rows`` rows. Runs about ``flops``
    FLOPs per timed call; returns GFLOP/s, best of ``repeats`` after a warm-up.
    """
    import tensorflow as tf

    rng = np.random.default_rng(0)
    q = np.stack([np.linalg.qr(rng.standard_normal((inner, inner)))[0] for _ in range(stack)])
    a = tf.constant(rng.standard_normal((stack, rows, inner)), tf.float32)
    b = tf.constant(q, tf.float32)
    per = 2.0 * stack * rows * inner * inner
    reps = max(10, int(flops / per))

    @tf.function
    def chain(x: tf.Tensor) -> tf.Tensor:
        for _ in tf.range(reps):
            x = tf.matmul(x, b)
        return x

    chain(a).numpy()
    seconds = best_of(lambda: chain(a).numpy(), repeats)
    return per * reps / seconds / 1e9


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo, or ``platform.processor()``."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict[str, Any]:
    """CPU count, CPU model and library versions, for result files."""
    import keras
    import sklearn
    import tensorflow as tf

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu_count": os.cpu_count(),
        "cpu_usable": usable,
        "cpu_model": cpu_model(),
        "gpus": len(tf.config.list_physical_devices("GPU")),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "sklearn": sklearn.__version__,
    }


def child_json(code: str, env: dict[str, str]) -> dict[str, Any]:
    """Run ``code`` in a fresh Python process (this interpreter) and read the JSON object it
    prints last: measurements that need a process of their own (peak memory, start-up)."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def load_average() -> Optional[list[float]]:
    """The 1, 5 and 15 minute load averages (other processes make timings noisy), or None."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def write_json(obj: dict[str, Any], name: str) -> Path:
    """Write ``obj`` to ``benchmarks/results/<name>`` (creating the dir); return the path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / name
    path.write_text(json.dumps(obj, indent=2) + "\n")
    return path


# --- shared by bench_cv.py and bench_path.py --------------------------------------------------

def mlp_train_flops(rows: float, p: int = 20, hidden: tuple[int, ...] = (64, 64), outputs: int = 1) -> float:
    """Training FLOPs of ``rows`` row-passes (one row, one epoch, one network = one pass).

    Counts the dense layers' multiply-adds only: ``2 * sum(fan_in * fan_out)`` per row forward,
    three times that for forward + backward (input gradient and weight gradient).
    """
    widths = [p, *hidden, outputs]
    macs = sum(a * b for a, b in zip(widths[:-1], widths[1:]))
    return 3.0 * 2.0 * macs * rows


def padded_rows(n: int, batch: int) -> int:
    """Rows the stacked engine runs per network and epoch: ``n`` rounded up to whole batches."""
    return -(-n // batch) * batch


def fmt(x: Optional[float], spec: str = ".3f") -> str:
    """Format a number, or "n/a"."""
    return "n/a" if x is None else format(x, spec)


def ratio(num: Optional[float], den: Optional[float]) -> Optional[float]:
    """``num / den`` or None when either is missing or ``den`` is not positive."""
    return num / den if num is not None and den is not None and den > 0 else None


def fmt_ratio(x: Optional[float]) -> str:
    """Format a speed-up ``x`` as "X.X× faster" (or "0.XX× (i.e. Y× slower)" when x < 1)."""
    if x is None:
        return "n/a"
    return f"{x:.1f}× faster" if x >= 1 else f"{x:.2f}× (i.e. {1 / x:.1f}× slower)"


def use_graph_cache(enabled: bool) -> None:
    """Turn dlstat's on-disk cache of traced training functions on or off for this process.

    dlstat saves each traced configuration as a SavedModel (``dlstat/engine/cache.py``) and
    loads it in later processes instead of tracing; ``DLSTAT_GRAPH_CACHE=0`` disables that.
    The variable is read at every lookup, so this works any time before a configuration is
    first used (or after :func:`clear_dlstat_trace_cache`).
    """
    os.environ["DLSTAT_GRAPH_CACHE"] = "1" if enabled else "0"


def warm_up_dlstat(df: pd.DataFrame, prime_hidden: Optional[tuple[int, ...]] = None) -> float:
    """Import TensorFlow and run one tiny ``dl.dnn`` fit whose architecture (hidden=(8,)) differs
    from every benchmarked one, so TF's import and first-use costs are paid here while the
    benchmarked configuration still has to be traced. Returns the wall seconds.

    With ``prime_hidden`` it also runs a tiny fit of that architecture, so dlstat's on-disk
    graph cache holds it (when that cache is on), and then clears the in-memory cache: the
    next fit of that architecture loads the saved trace, as a new process would.
    """
    import dlstat as dl

    t0 = time.perf_counter()
    import tensorflow  # noqa: F401

    dl.dnn("y ~ x1 + x2", df.iloc[:256], hidden=(8,), epochs=1, batch_size=64, seed=0, verbose=0)
    if prime_hidden is not None:
        dl.dnn("y ~ .", df.iloc[:256], hidden=prime_hidden, epochs=1, batch_size=64, seed=0,
               verbose=0)
        clear_dlstat_trace_cache()
    return time.perf_counter() - t0


def clear_dlstat_trace_cache() -> bool:
    """Forget dlstat's compiled training functions, so the next fit traces again.

    dlstat caches one traced ``tf.function`` per static configuration
    (``dlstat.engine.graph._CACHE``), so within one process only the first fit of a
    configuration pays for tracing. Returns False if that cache is not where it used to be.
    (dlstat's on-disk cache, if on, is kept: see :func:`use_graph_cache`.)
    """
    try:
        from dlstat.engine import graph
    except ImportError:
        return False
    cache = getattr(graph, "_CACHE", None)
    if not isinstance(cache, dict):
        return False
    cache.clear()
    return True


class PhaseTimer:
    """Exclusive wall time per phase of dlstat calls, by wrapping dlstat's internal functions.

    Use as a context manager: ``with PhaseTimer() as phases: ...``; afterwards ``phases.seconds``
    maps phase → seconds (a nested phase's time is not counted in its parent) and
    ``phases.calls`` counts calls. Phases:

    - ``design``: building designs (formula → matrix, per-fold standardisation): ``make_block``
      and the full-data ``build_design`` of fold planning;
    - ``graph_cache``: dlstat's on-disk cache of traced functions (``engine.cache``): loading
      a saved trace, or on a miss building, tracing and saving one; with that cache off it
      only creates the (lazy) ``tf.function``;
    - ``trace``: tracing the training ``tf.function`` (forced ahead of the first call with
      ``get_concrete_function()``, so it can be timed apart from running);
    - ``engine``: the engine call minus tracing (tensor conversion, the compiled training loop,
      copying results back);
    - ``post_fit``: the float64 NumPy forward pass and metrics on the training rows per network
      (``blocks.measure``);
    - ``evaluate``: held-out predictions and metrics (``cv.evaluate_folds``, ``path._scores``).

    Anything not wrapped (option checks, padding/stacking of X, building the result objects)
    is "other" = total − sum of phases, computed by the caller. Wrapped names that no longer
    exist are listed in ``missing`` and simply not timed. ``gc_seconds`` is the time spent in
    Python's garbage collector meanwhile (it falls inside whichever phase was running).
    """

    TARGETS = {
        "design": [("dlstat.fitting.dnn", "make_block"), ("dlstat.fitting.cv", "make_block"),
                   ("dlstat.fitting.cv", "build_design"), ("dlstat.fitting.path", "make_block")],
        "engine": [("dlstat.fitting.blocks", "train_stack")],
        "graph_cache": [("dlstat.engine.cache", "cached_function")],
        "post_fit": [("dlstat.fitting.blocks", "measure")],
        "evaluate": [("dlstat.fitting.cv", "evaluate_folds"), ("dlstat.fitting.path", "_scores")],
    }

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {k: 0.0 for k in ("design", "graph_cache", "trace", "engine",
                                                           "post_fit", "evaluate")}
        self.calls: dict[str, int] = {k: 0 for k in self.seconds}
        self.missing: list[str] = []
        self._stack: list[list[Any]] = []  # [phase, start]
        self._patched: list[tuple[Any, str, Any]] = []
        self._traced: set[int] = set()
        self.gc_seconds = 0.0
        self._gc_start = 0.0
        self.jobs: list[dict[str, Any]] = []  # one entry per engine call: stack size, rows, epochs

    def _gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.gc_seconds += time.perf_counter() - self._gc_start

    # exclusive timing: entering a phase pauses the enclosing one
    def _enter(self, phase: str) -> None:
        now = time.perf_counter()
        if self._stack:
            top = self._stack[-1]
            self.seconds[top[0]] += now - top[1]
        self._stack.append([phase, now])
        self.calls[phase] += 1

    def _exit(self) -> None:
        now = time.perf_counter()
        phase, start = self._stack.pop()
        self.seconds[phase] += now - start
        if self._stack:
            self._stack[-1][1] = now

    def _note_job(self, job: Any) -> None:
        """Record what an engine call trained (the ``StackJob``), if it looks like one."""
        try:
            rows = (np.asarray(job.train_weights) > 0).sum(axis=1)
            self.jobs.append({"networks": int(len(rows)), "rows_min": int(rows.min()),
                              "rows_max": int(rows.max()), "epochs": int(job.epochs),
                              "batch_size": job.batch_size})
        except Exception:  # the job's layout changed: skip the record, keep timing
            pass

    def _wrap(self, phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if phase == "engine" and args:
                self._note_job(args[0])
            self._enter(phase)
            try:
                return fn(*args, **kwargs)
            finally:
                self._exit()

        return wrapped

    def _wrap_compiled(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            compiled = fn(*args, **kwargs)
            if id(compiled) not in self._traced and hasattr(compiled, "get_concrete_function"):
                self._traced.add(id(compiled))
                self._enter("trace")
                try:
                    compiled.get_concrete_function()  # traces now (input_signature is fixed)
                finally:
                    self._exit()
            return compiled

        return wrapped

    def __enter__(self) -> "PhaseTimer":
        import gc
        import importlib

        gc.callbacks.append(self._gc)

        for phase, targets in self.TARGETS.items():
            for module_name, attr in targets:
                try:
                    module = importlib.import_module(module_name)
                except ImportError:
                    module = None
                if module is None or not hasattr(module, attr):
                    self.missing.append(f"{module_name}.{attr}")
                    continue
                original = getattr(module, attr)
                self._patched.append((module, attr, original))
                setattr(module, attr, self._wrap(phase, original))
        graph = importlib.import_module("dlstat.engine.graph")
        if hasattr(graph, "_compiled"):
            original = graph._compiled
            self._patched.append((graph, "_compiled", original))
            graph._compiled = self._wrap_compiled(original)
        else:
            self.missing.append("dlstat.engine.graph._compiled")
        return self

    def __exit__(self, *exc: Any) -> None:
        import gc

        if self._gc in gc.callbacks:
            gc.callbacks.remove(self._gc)
        for module, attr, original in reversed(self._patched):
            setattr(module, attr, original)
        self._patched.clear()

    def report(self, total: float) -> dict[str, float]:
        """Phase seconds plus ``other`` = ``total`` − their sum (``gc`` is not a phase: it
        overlaps them, and is listed last for information)."""
        out = {k: round(v, 4) for k, v in self.seconds.items()}
        out["other"] = round(total - sum(self.seconds.values()), 4)
        out["gc"] = round(self.gc_seconds, 4)
        return out


def format_phases(phases: dict[str, float]) -> str:
    """One line: "design 0.61 s, trace 1.10 s, ... (gc pauses 0.28 s within)"."""
    main = ", ".join(f"{k} {v:.2f} s" for k, v in phases.items() if k != "gc")
    return main + (f" (GC pauses {phases['gc']:.2f} s within these)" if "gc" in phases else "")


def benchmark_frame(n: int) -> tuple["RegressionData", Any, pd.DataFrame]:
    """The shared benchmark data: raw, standardized X, and the frame every tool sees."""
    data = make_regression_data(n=n, p=20, seed=0)
    X = standardize(data.X)
    return data, X, to_frame(X, data.y)


def start_dlstat(df: pd.DataFrame, graph_cache: bool, hidden: tuple[int, ...], loop: str,
                 cleared: str = "") -> tuple[str, float]:
    """Set the graph cache, warm TensorFlow up (untimed), say what the timed calls include;
    return how the first timed fit gets its trace, and the warm-up seconds."""
    use_graph_cache(graph_cache)  # before dlstat trains anything
    warm = warm_up_dlstat(df, prime_hidden=hidden if graph_cache else None)
    print(f"warm-up (TF import + one tiny dnn fit, hidden=(8,)): {warm:.2f} s, not timed below.")
    if graph_cache:
        print(f"dlstat's on-disk graph cache is ON (primed in the warm-up): (a) and the first fit "
              f"of {loop} load the saved hidden={hidden} trace, as a new process would.\n")
        return "loads the saved trace", warm
    print(f"dlstat's on-disk graph cache is off (DLSTAT_GRAPH_CACHE=0; --graph-cache turns it "
          f"on): tracing of hidden={hidden}\nis included in (a) and in the first fit of {loop}"
          f"{cleared}.\n")
    return "includes tracing", warm


def finish_report(report: dict, info: dict, load_start: Any, out: str) -> dict:
    """Record the load average around the run, print it, and write the JSON result."""
    report["machine"]["load_average_start"] = load_start
    report["machine"]["load_average_end"] = load_average()
    print(f"load average (1, 5, 15 min) at start {load_start}, at end "
          f"{report['machine']['load_average_end']} on {info['cpu_usable']} CPUs")
    print(f"\nwrote {write_json(report, out)}")
    return report
