"""The first ``dnn()`` in a fresh Python process, beyond ``import tensorflow`` (issue 11: keep it
at most 0.5 s).

The package is byte-compiled first, as an installed wheel is.  Each measurement is a new
process: it imports TensorFlow (timed: the floor every tool pays),
then imports dlstat and runs one ``dnn()`` of the ``bench_core`` model (n = 20,000, p = 20,
64-64 ReLU, Adam, batch 256) for one epoch (timed: what dlstat adds).  Two processes share a
fresh graph cache directory: the first traces the training graph and saves it (a first run on
a machine), the second loads it (every later process: a CLI call, an R session).

Usage::

    .venv/bin/python benchmarks/bench_startup.py
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
import common  # noqa: E402

TARGET_SECONDS = 0.5

CHILD = r"""
import json, sys, time
sys.path[:0] = {paths!r}
import common
frame = common.make_regression_data(20_000, 20).df
t0 = time.perf_counter()
import tensorflow  # noqa: F401
t1 = time.perf_counter()
import dlstat as dl
dl.dnn("y ~ .", data=frame, hidden=(64, 64), batch_size=256, epochs=1, seed=1, verbose=0)
t2 = time.perf_counter()
print(json.dumps({{"import_tensorflow_s": t1 - t0, "first_dnn_s": t2 - t1}}))
"""


def measure(cache_dir: str) -> dict:
    code = CHILD.format(paths=[str(HERE), str(HERE.parent)])
    env = {**os.environ, "DLSTAT_CACHE_DIR": cache_dir, "DLSTAT_GRAPH_CACHE": "1"}
    return common.child_json(code, env)


def compile_package() -> None:
    """Byte-compile dlstat as installing a wheel does: a machine that sets
    PYTHONDONTWRITEBYTECODE (this project's do) would otherwise compile its modules from source
    in every process, 0.05 s no installed package pays."""
    import compileall

    compileall.compile_dir(str(HERE.parent / "dlstat"), quiet=1)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="startup.json")
    args = parser.parse_args(argv)
    load_start = common.load_average()
    compile_package()
    with tempfile.TemporaryDirectory() as cache:
        cold = measure(cache)  # traces and saves the graph
        warm = measure(cache)  # loads it
    for label, r in (("first process (traces the graph)", cold),
                     ("later processes (graph from the cache)", warm)):
        print(f"{label:40s} import tensorflow {r['import_tensorflow_s']:.2f} s, then first "
              f"dnn() {r['first_dnn_s']:.2f} s")
    print(f"first dnn() beyond import tensorflow, cached graph: {warm['first_dnn_s']:.2f} s "
          f"(target <= {TARGET_SECONDS} s)")
    report = {"benchmark": "startup", "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "config": {"n": 20000, "p": 20, "hidden": [64, 64], "epochs": 1,
                         "batch_size": 256},
              "load_average_start": load_start, "load_average_end": common.load_average(),
              "cold_cache": cold, "warm_cache": warm, "target_s": TARGET_SECONDS}
    path = common.write_json(report, args.out)
    print(f"wrote {path}")
    return report


if __name__ == "__main__":
    main()
