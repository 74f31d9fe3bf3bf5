"""The first ``dnn()`` in a fresh Python process and in a fresh R session, beyond ``import
tensorflow`` (issue 11: at most 0.5 s from Python; issue 24: R should cost little more).

The package is byte-compiled first, as an installed wheel is.  Each measurement is a new
process: it imports TensorFlow (timed: the floor every tool pays),
then imports dlstat and runs one ``dnn()`` of the ``bench_core`` model (n = 20,000, p = 20,
64-64 ReLU, Adam, batch 256) for one epoch (timed: what dlstat adds).  Two processes share a
fresh graph cache directory: the first traces the training graph and saves it (a first run on
a machine), the second loads it (every later process: a CLI call, an R session).

The R session is an ``Rscript`` with the R package of this checkout installed in a temporary
library and this interpreter as its Python (reticulate).  It times ``library(dlstat)``, the
start of Python (reticulate, its R dependencies, the embedded interpreter), ``import
tensorflow`` and then the same ``dnn()`` on the same numbers (read into an R data frame
beforehand): the bridge's import, R's conversion of the frame, the fit and the R object.  Each
phase is given in wall seconds and in CPU seconds of the process (all threads), the steadier
number on a shared machine.  ``--no-r`` skips R.

Usage::

    .venv/bin/python benchmarks/bench_startup.py
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
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
c0, t0 = time.process_time(), time.perf_counter()
import tensorflow  # noqa: F401
c1, t1 = time.process_time(), time.perf_counter()
import dlstat as dl
dl.dnn("y ~ .", data=frame, hidden=(64, 64), batch_size=256, epochs=1, seed=1, verbose=0)
c2, t2 = time.process_time(), time.perf_counter()
print(json.dumps({{"import_tensorflow_s": t1 - t0, "first_dnn_s": t2 - t1,
                  "import_tensorflow_cpu_s": c1 - c0, "first_dnn_cpu_s": c2 - c1}}))
"""

# The same in a fresh R session; `frame` is read before the clock starts.
R_CHILD = r"""
frame <- utils::read.csv({csv!r})
clock <- function() {{ t <- proc.time(); c(wall = t[["elapsed"]], cpu = t[["user.self"]] + t[["sys.self"]]) }}
t0 <- clock()
library(dlstat)
t1 <- clock()
dlstat:::.init_python()
t2 <- clock()
invisible(reticulate::import("tensorflow"))
t3 <- clock()
fit <- dnn(y ~ ., data = frame, hidden = c(64, 64), batch_size = 256, epochs = 1, seed = 1,
           verbose = 0)
t4 <- clock()
stopifnot(inherits(fit, "dlstat_fit"))
phase <- function(a, b, name) sprintf('"%s_s": %.6f, "%s_cpu_s": %.6f', name, b[["wall"]] - a[["wall"]],
                                      name, b[["cpu"]] - a[["cpu"]])
cat("\n{{", paste(phase(t0, t1, "library"), phase(t1, t2, "start_python"),
                  phase(t2, t3, "import_tensorflow"), phase(t3, t4, "first_dnn"), sep = ", "),
    "}}\n", sep = "")
"""


def measure(cache_dir: str) -> dict:
    code = CHILD.format(paths=[str(HERE), str(HERE.parent)])
    env = {**os.environ, "DLSTAT_CACHE_DIR": cache_dir, "DLSTAT_GRAPH_CACHE": "1"}
    t0 = time.perf_counter()
    result = common.child_json(code, env)
    result["process_s"] = time.perf_counter() - t0  # the whole process, as Rscript's below
    return result


def install_r_package(library: str) -> None:
    """This checkout's R package into ``library`` (a session's ``library(dlstat)``)."""
    out = subprocess.run(["R", "CMD", "INSTALL", "--no-test-load", "-l", library,
                          str(HERE.parent)], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"bench_startup: R CMD INSTALL failed:\n{out.stdout[-2000:]}"
                         f"{out.stderr[-2000:]}")


def measure_r(cache_dir: str, library: str, csv: str) -> dict:
    """One fresh Rscript: its phases (see ``R_CHILD``) and the whole process's wall time."""
    script = Path(library).parent / "first_dnn.R"
    script.write_text(R_CHILD.format(csv=csv))
    env = {**os.environ, "DLSTAT_CACHE_DIR": cache_dir, "DLSTAT_GRAPH_CACHE": "1",
           "DLSTAT_PYTHON": sys.executable, "R_LIBS": library,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE.parent),
                                                       os.environ.get("PYTHONPATH")]))}
    env.pop("RETICULATE_PYTHON", None)
    t0 = time.perf_counter()
    out = subprocess.run(["Rscript", str(script)], capture_output=True, text=True, env=env,
                         cwd=str(Path(library).parent))
    total = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"bench_startup: the R session failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_s"] = total
    return result


def compile_package() -> None:
    """Byte-compile dlstat as installing a wheel does: a machine that sets
    PYTHONDONTWRITEBYTECODE (this project's do) would otherwise compile its modules from source
    in every process, 0.05 s no installed package pays."""
    import compileall

    compileall.compile_dir(str(HERE.parent / "dlstat"), quiet=1)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="startup.json")
    parser.add_argument("--no-r", action="store_true", help="Python only")
    args = parser.parse_args(argv)
    with_r = not args.no_r and shutil.which("Rscript") is not None
    load_start = common.load_average()
    compile_package()
    with tempfile.TemporaryDirectory() as cache:
        cold = measure(cache)  # traces and saves the graph
        warm = measure(cache)  # loads it
    report_r = None
    if with_r:
        with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as cache:
            library, csv = os.path.join(tmp, "lib"), os.path.join(tmp, "frame.csv")
            os.mkdir(library)
            install_r_package(library)
            common.make_regression_data(20_000, 20).df.to_csv(csv, index=False)
            report_r = {"cold_cache": measure_r(cache, library, csv),
                        "warm_cache": measure_r(cache, library, csv)}
    for label, r in (("first process (traces the graph)", cold),
                     ("later processes (graph from the cache)", warm)):
        print(f"{label:40s} import tensorflow {r['import_tensorflow_s']:.2f} s, then first "
              f"dnn() {r['first_dnn_s']:.2f} s (CPU {r['first_dnn_cpu_s']:.2f} s); process "
              f"{r['process_s']:.2f} s")
    print(f"first dnn() beyond import tensorflow, cached graph: {warm['first_dnn_s']:.2f} s "
          f"(target <= {TARGET_SECONDS} s)")
    if report_r:
        for label, key in (("R, first session (traces)", "cold_cache"),
                           ("R, later sessions (cached)", "warm_cache")):
            r = report_r[key]
            print(f"{label:40s} library {r['library_s']:.2f} s, start Python "
                  f"{r['start_python_s']:.2f} s (CPU {r['start_python_cpu_s']:.2f}), import "
                  f"tensorflow {r['import_tensorflow_s']:.2f} s, first dnn() "
                  f"{r['first_dnn_s']:.2f} s (CPU {r['first_dnn_cpu_s']:.2f}); Rscript "
                  f"{r['process_s']:.2f} s")
        report_r["first_dnn_r_minus_python_s"] = {
            key: report_r[key]["first_dnn_s"] - py["first_dnn_s"]
            for key, py in (("cold_cache", cold), ("warm_cache", warm))}
        print("R's first dnn() minus Python's: "
              + ", ".join(f"{k} {v:+.2f} s"
                          for k, v in report_r["first_dnn_r_minus_python_s"].items()))
    report = {"benchmark": "startup", "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "config": {"n": 20000, "p": 20, "hidden": [64, 64], "epochs": 1,
                         "batch_size": 256},
              "load_average_start": load_start, "load_average_end": common.load_average(),
              "cold_cache": cold, "warm_cache": warm, "target_s": TARGET_SECONDS,
              "r": report_r}
    path = common.write_json(report, args.out)
    print(f"wrote {path}")
    return report


if __name__ == "__main__":
    main()
