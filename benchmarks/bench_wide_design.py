"""Seconds to build a wide design (``build_design``) and to replay it on the same rows
(``DesignSpec.design``, what ``predict()`` does), for the shapes of issues 21 and 23:

* 2,000 rows x 180 two-level factors (the splice-junction data as R holds it), ``y ~ .``;
* 200 rows x 50,000 numeric columns (genes), ``y ~ .``;
* 2,000 rows x 1,000 two-level factors, ``y ~ .``;
* mtcars with ``mpg ~ (.)^6`` (847 interaction columns).

Each shape runs in a fresh process with a time limit, so that a slow dlstat shows as
"> limit" rather than hanging the run.  ``--source DIR`` times the dlstat of another checkout
(e.g. the main branch, for before/after numbers).

Usage::

    .venv/bin/python benchmarks/bench_wide_design.py [--shape NAME] [--limit 60] [--source DIR]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent

SHAPES = {
    "factors_180": "frame = factors(2_000, 180); formula = 'y ~ .'",
    "numeric_50000": "frame = numeric(200, 50_000); formula = 'y ~ .'",
    "factors_1000": "frame = factors(2_000, 1_000); formula = 'y ~ .'",
    "mtcars_power6": "frame = dl.datasets.load('mtcars'); formula = 'mpg ~ (.)^6'",
}

CHILD = """
import sys, time
sys.path.insert(0, SOURCE)
import numpy as np, pandas as pd
import dlstat as dl
from dlstat.formula import build_design

def factors(n, p):
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 2, size=(n, p))
    columns = {f"V{j}": pd.Categorical.from_codes(codes[:, j], ["A", "G"]) for j in range(p)}
    frame = pd.DataFrame(columns)
    frame["y"] = rng.normal(size=n)
    return frame

def numeric(n, p):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(n, p)), columns=[f"g{j}" for j in range(p)])
    frame["y"] = rng.normal(size=n)
    return frame

SHAPE
start = time.perf_counter()
design = build_design(formula, frame)
built = time.perf_counter() - start
start = time.perf_counter()
X, ok = design.spec.design(frame)
replayed = time.perf_counter() - start
print(f"{frame.shape[0]:>6} x {frame.shape[1] - 1:<6} {formula:<12} {design.X.shape[1]:>7} "
      f"columns: build {built:6.2f} s, replay {replayed:6.2f} s")
"""


def run(name: str, source: str, limit: float) -> str:
    code = CHILD.replace("SOURCE", repr(source)).replace("SHAPE", SHAPES[name])
    try:
        proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                              text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return f"{name}: more than {limit:g} s (stopped)"
    if proc.returncode:
        return f"{name}: failed\n{proc.stderr[-2000:]}"
    return f"{name:<14} {proc.stdout.strip()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), action="append")
    parser.add_argument("--limit", type=float, default=60.0, help="seconds per shape")
    parser.add_argument("--source", default=str(HERE.parent), help="checkout to import from")
    args = parser.parse_args()
    for name in args.shape or SHAPES:
        print(run(name, args.source, args.limit), flush=True)


if __name__ == "__main__":
    main()
