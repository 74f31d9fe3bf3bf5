"""Peak memory of one ``dnn()`` fit on a million rows: 1e6 x 20 (a 0.09 GB float32 frame), 64-64.

Each measurement runs in a fresh Python process and reads its peak resident set size
(``resource.getrusage(...).ru_maxrss``): once after importing TensorFlow and building the frame
(the floor every tool pays), once after the fit.

Usage::

    .venv/bin/python benchmarks/bench_memory.py            # n = 1,000,000, 2 epochs
    .venv/bin/python benchmarks/bench_memory.py --quick    # n = 100,000, 1 epoch (smoke test)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
import common  # noqa: E402

TARGET_GB = 1.0

CHILD = r"""
import json, resource, sys, time
sys.path[:0] = {paths!r}
import common
import numpy as np
import tensorflow  # noqa: F401  (the floor: TensorFlow loaded)
# the benchmark's data, drawn in float32 so that making it adds nothing to the floor
rng = np.random.default_rng(0)
X = rng.standard_normal(({n}, 20), dtype=np.float32)
y = (np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * X[:, 3] ** 2 + 0.1 * X.sum(axis=1)
     + 0.5 * rng.standard_normal({n}, dtype=np.float32))
frame = common.to_frame(X, y)
del X, y
floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
seconds = None
if {fit}:
    import dlstat as dl
    t0 = time.perf_counter()
    fit = dl.dnn("y ~ .", data=frame, hidden=(64, 64), epochs={epochs}, batch_size=256, seed=1,
                 verbose=0)
    seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"floor_kb": floor, "peak_kb": peak, "seconds": seconds,
                  "frame_gb": frame.memory_usage(deep=True).sum() / 1e9}}))
"""


def measure(n: int, epochs: int, fit: bool) -> dict[str, Any]:
    """Run one child process; its peak RSS in GB (and the frame's size, the fit's seconds)."""
    code = CHILD.format(paths=[str(HERE), str(HERE.parent)], n=n, epochs=epochs, fit=fit)
    env = {**os.environ, "DLSTAT_GRAPH_CACHE": os.environ.get("DLSTAT_GRAPH_CACHE", "1")}
    result = common.child_json(code, env)
    return {"floor_gb": result["floor_kb"] / 1e6, "peak_gb": result["peak_kb"] / 1e6,
            "seconds": result["seconds"], "frame_gb": result["frame_gb"]}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: n = 100,000, 1 epoch")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    n, epochs = (100_000, 1) if args.quick else (1_000_000, 2)
    out = args.out or ("memory_quick.json" if args.quick else "memory.json")
    print(f"load average: {common.load_average()}")
    floor = measure(n, epochs, fit=False)
    fitted = measure(n, epochs, fit=True)
    print(f"n = {n:,}, p = 20, hidden (64, 64), {epochs} epochs, batch 256; frame "
          f"{fitted['frame_gb']:.3f} GB")
    print(f"peak RSS after import tensorflow + the frame: {floor['peak_gb']:.2f} GB")
    print(f"peak RSS after dnn():                         {fitted['peak_gb']:.2f} GB "
          f"(target <= {TARGET_GB} GB; fit {fitted['seconds']:.1f} s)")
    print(f"the fit's own share: {fitted['peak_gb'] - floor['peak_gb']:.2f} GB")
    report = {
        "benchmark": "memory",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config": {"n": n, "p": 20, "hidden": [64, 64], "epochs": epochs, "batch_size": 256},
        "load_average": common.load_average(),
        "floor": floor, "fit": fitted, "target_gb": TARGET_GB,
    }
    path = common.write_json(report, out)
    print(f"wrote {path}")
    return report


if __name__ == "__main__":
    main()
