"""Issue 23's genomics rows: the 1,000-factor design, and a CNN on the splice junctions.

* **factors**: 1,000 factor columns, ``y ~ .`` with a Gaussian response: two-level factors
  (A/G) on 2,000 rows, and three-level genotypes (0/1/2 as factors, 2,000 indicator columns) on
  3,000 rows (on 2,000 rows the 2,001 columns would be more than the rows).  Times
  building the design (``build_design``) and the first and second GLM fit
  (``dnn(hidden=(), optimizer="lbfgs")``) in a fresh Python process, and from R (the package
  loaded from this checkout with ``pkgload::load_all``) the data frame, Python's start-up and
  the first and second ``dnn()`` call.  Each side checks its coefficients against ``lm()``'s
  (R) or NumPy's least squares (Python) on the same design.  The issue's numbers before: 180
  two-level factors took ~9 s to build and 70 s for the first GLM call from R.
* **splice**: the CNN of vignette 11 (``conv1d(32, 9), maxpool(2), flatten(), dense(32)``,
  20 epochs) on mlbench's DNA, trained on rows 1-2,000 (StatLog's training set by its class
  counts) and tested on rows 2,001-3,186, for three seeds, next to StatLog's published test
  accuracies (LogDisc 0.939, BackProp 0.912, RBF 0.959).

Every part runs in a child process with a time limit (a slow part shows as "> limit").

Usage::

    .venv/bin/python benchmarks/bench_genomics.py [--part factors|r_factors|splice] [--limit 300]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]
import common  # noqa: E402

STATLOG = {"LogDisc": 0.939, "BackProp": 0.912, "RBF": 0.959}
SHAPES = {"two_level": (2, 2_000), "genotype": (3, 3_000)}  # levels per column, rows
P = 1_000

PY_FACTORS = """
import json, sys, time
sys.path.insert(0, {root!r})
import numpy as np, pandas as pd
import dlstat as dl
from dlstat.formula import build_design

def frame(levels, n):
    rng = np.random.default_rng(0)
    codes = rng.integers(0, levels, size=(n, {p}))
    names = ["A", "G"] if levels == 2 else ["0", "1", "2"]
    cols = {{f"V{{j}}": pd.Categorical.from_codes(codes[:, j], names) for j in range({p})}}
    out = pd.DataFrame(cols)
    out["y"] = codes[:, :5] @ np.array([1.0, -1.0, 0.5, -0.5, 0.25]) + rng.normal(size=n)
    return out

start = time.perf_counter()
import tensorflow  # noqa: F401  (dlstat imports it at the first fit: timed apart)
result = {{"import_tensorflow_s": time.perf_counter() - start}}
for shape, (levels, n) in {shapes!r}.items():
    d = frame(levels, n)
    t = time.perf_counter(); design = build_design("y ~ .", d); built = time.perf_counter() - t
    t = time.perf_counter()
    fit = dl.dnn("y ~ .", d, hidden=(), optimizer="lbfgs", verbose=0)
    first = time.perf_counter() - t
    t = time.perf_counter()
    dl.dnn("y ~ .", d, hidden=(), optimizer="lbfgs", verbose=0)
    second = time.perf_counter() - t
    X = np.column_stack([np.ones(len(d)), design.X])
    beta = np.linalg.lstsq(X, d["y"].to_numpy(), rcond=None)[0]
    fitted = fit.predict(d).to_numpy().ravel()
    gap = float(np.max(np.abs(fitted - X @ beta)))
    result[shape] = dict(rows=n, columns=int(design.X.shape[1]), build_s=built, first_fit_s=first,
                         second_fit_s=second, max_fitted_gap_vs_lstsq=gap)
print(json.dumps(result))
"""

R_FACTORS = r"""
t0 <- proc.time()[["elapsed"]]
suppressMessages(pkgload::load_all({root!r}, quiet = TRUE))
invisible(dlstat_available())
startup <- proc.time()[["elapsed"]] - t0
res <- list(startup_s = startup)
for (shape in c("two_level", "genotype")) {{
  levels <- if (shape == "two_level") c("A", "G") else c("0", "1", "2")
  n <- if (shape == "two_level") 2000L else 3000L
  set.seed(1)
  t <- proc.time()[["elapsed"]]
  codes <- matrix(sample.int(length(levels), n * {p}, replace = TRUE), n, {p})
  d <- as.data.frame(lapply(seq_len({p}), function(j) factor(levels[codes[, j]], levels)))
  names(d) <- paste0("V", seq_len({p}))
  d$y <- drop((codes[, 1:5] - 1) %*% c(1, -1, 0.5, -0.5, 0.25)) + rnorm(n)
  frame_s <- proc.time()[["elapsed"]] - t
  t <- proc.time()[["elapsed"]]
  fit <- dnn(y ~ ., data = d, hidden = c(), optimizer = "lbfgs", verbose = 0)
  first <- proc.time()[["elapsed"]] - t
  t <- proc.time()[["elapsed"]]
  fit2 <- dnn(y ~ ., data = d, hidden = c(), optimizer = "lbfgs", verbose = 0)
  second <- proc.time()[["elapsed"]] - t
  t <- proc.time()[["elapsed"]]
  ref <- lm(y ~ ., data = d)
  lm_s <- proc.time()[["elapsed"]] - t
  gap <- max(abs(predict(fit, d) - fitted(ref)))
  res[[shape]] <- list(rows = n, frame_s = frame_s, first_fit_s = first, second_fit_s = second,
                       lm_s = lm_s, max_fitted_gap_vs_lm = gap)
}}
cat("DLSTAT_JSON", jsonlite::toJSON(res, auto_unbox = TRUE, digits = 6), "\n")
"""

PY_SPLICE = """
import json, sys, time
sys.path.insert(0, {root!r})
import numpy as np
import dlstat as dl
t = time.perf_counter()
splice = dl.datasets.splice()
X = dl.onehot(splice["sequence"])
load = time.perf_counter() - t
cls = splice["Class"].to_numpy()
train = np.arange(len(cls)) < 2000
runs = []
for seed in (1, 2, 3):
    t = time.perf_counter()
    fit = dl.dnn("Class ~ seq", {{"Class": cls[train], "seq": X[train]}}, seed=seed, verbose=0,
                 architecture=[dl.conv1d(32, 9), dl.maxpool(2), dl.flatten(), dl.dense(32)],
                 epochs=20)
    fit_s = time.perf_counter() - t
    guess = fit.predict({{"seq": X[~train]}}, type="class").to_numpy().ravel()
    runs.append(dict(seed=seed, fit_s=fit_s, test_accuracy=float(np.mean(guess == cls[~train]))))
print(json.dumps(dict(load_and_encode_s=load, runs=runs)))
"""


def child(argv: list[str], limit: float, marker: str | None = None) -> dict:
    """Run ``argv``; the JSON object it prints last (after ``marker`` if given), or an error."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg"}
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=limit, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"more than {limit:g} s (stopped)"}
    if out.returncode:
        return {"error": out.stderr[-2000:]}
    lines = [ln for ln in out.stdout.splitlines() if marker is None or ln.startswith(marker)]
    return json.loads(lines[-1].removeprefix(marker or "").strip())


def python_factors(limit: float) -> dict:
    code = PY_FACTORS.format(root=str(ROOT), p=P, shapes=SHAPES)
    return child([sys.executable, "-c", textwrap.dedent(code)], limit)


def r_factors(limit: float) -> dict:
    if shutil.which("Rscript") is None:
        return {"error": "Rscript not found"}
    python = os.environ.get("DLSTAT_PYTHON", sys.executable)
    os.environ.setdefault("DLSTAT_PYTHON", python)
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "factors.R"
        script.write_text(R_FACTORS.format(root=str(ROOT), p=P))
        return child(["Rscript", str(script)], limit, marker="DLSTAT_JSON")


def splice(limit: float) -> dict:
    return child([sys.executable, "-c", PY_SPLICE.format(root=str(ROOT))], limit)


def report_factors(side: str, res: dict) -> None:
    if "error" in res:
        print(f"{side}: {res['error']}")
        return
    if "startup_s" in res:
        print(f"{side}: load_all + Python start-up {res['startup_s']:.1f} s")
    if "import_tensorflow_s" in res:
        print(f"{side}: import tensorflow {res['import_tensorflow_s']:.1f} s")
    for shape in SHAPES:
        r = res[shape]
        parts = [f"{k} {v:.2f} s" if k.endswith("_s") else f"{k} {v:.2g}" for k, v in r.items()
                 if k != "rows"]
        print(f"{side} {r['rows']} x {P} {shape}: " + ", ".join(parts))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["factors", "r_factors", "splice"], action="append")
    parser.add_argument("--limit", type=float, default=300.0, help="seconds per part")
    parser.add_argument("--out", default="genomics.json")
    args = parser.parse_args(argv)
    parts = args.part or ["factors", "r_factors", "splice"]
    load_start = common.load_average()
    gflops = common.matmul_gflops()
    print(f"float32 matmul [64,256,64]x[64,64]: {gflops:.0f} GFLOP/s; load average {load_start}")
    results: dict = {}
    if "factors" in parts:
        results["python_factors"] = python_factors(args.limit)
        report_factors("Python", results["python_factors"])
    if "r_factors" in parts:
        results["r_factors"] = r_factors(args.limit)
        report_factors("R", results["r_factors"])
    if "splice" in parts:
        res = results["splice"] = splice(args.limit)
        if "error" in res:
            print(f"splice: {res['error']}")
        else:
            accs = [r["test_accuracy"] for r in res["runs"]]
            print("splice CNN, StatLog split (2000 train / 1186 test): test accuracy " +
                  ", ".join(f"{a:.3f}" for a in accs) + f" (seeds 1-3; mean {sum(accs) / 3:.3f});"
                  f" fit {min(r['fit_s'] for r in res['runs']):.1f}-"
                  f"{max(r['fit_s'] for r in res['runs']):.1f} s; StatLog " +
                  ", ".join(f"{k} {v}" for k, v in STATLOG.items()))
    print(f"load average at the end {common.load_average()}")
    report = {"benchmark": "genomics", "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "config": {"shapes": SHAPES, "factor_columns": P, "statlog": STATLOG, "parts": parts},
              "machine": common.machine_info(), "matmul_gflops": gflops,
              "load_average_start": load_start, "result": results}
    path = common.write_json(report, args.out)
    print(f"wrote {path}")
    return report


if __name__ == "__main__":
    main()
