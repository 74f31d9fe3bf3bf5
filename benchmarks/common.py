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
from typing import Any, Callable

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


def write_json(obj: dict[str, Any], name: str) -> Path:
    """Write ``obj`` to ``benchmarks/results/<name>`` (creating the dir); return the path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / name
    path.write_text(json.dumps(obj, indent=2) + "\n")
    return path
