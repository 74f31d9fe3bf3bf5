"""The R lab vignette (``vignettes/fashion-mnist.Rmd``) on all 60,000 Fashion-MNIST images.

The vignette's code is extracted with ``knitr::purl`` and run by ``Rscript`` in a fresh
process, with the package loaded from this checkout (``pkgload::load_all``) and the Python of
``.venv``; reticulate embeds Python in the R process, so that process's peak resident set size
(``ru_maxrss`` of the child, read after it exits) covers R, Python and TensorFlow together.
Issue 11's targets: at most 40 s and 2 GB.

Usage::

    .venv/bin/python benchmarks/bench_r_lab.py            # all 60,000 training images
    .venv/bin/python benchmarks/bench_r_lab.py --quick    # 2,000 images (smoke test)
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]
import common  # noqa: E402

TARGET_SECONDS, TARGET_GB = 40.0, 2.0
VIGNETTE = ROOT / "vignettes" / "fashion-mnist.Rmd"

# Time the vignette's own code only: loading R packages and starting Python come first.
RUNNER = r"""
suppressMessages(pkgload::load_all({root!r}, quiet = TRUE))
invisible(dlstat_available())
start <- proc.time()[["elapsed"]]
source({script!r}, echo = FALSE, local = globalenv())
cat(sprintf("\nDLSTAT_LAB_SECONDS %.3f\n", proc.time()[["elapsed"]] - start))
"""


def run_lab(n: int | None) -> dict:
    """Run the vignette's code once in a fresh Rscript; its seconds and peak RSS."""
    if shutil.which("Rscript") is None:
        raise SystemExit("bench_r_lab: Rscript not found (apt-get install r-base-core)")
    python = os.environ.get("DLSTAT_PYTHON", str(ROOT / ".venv" / "bin" / "python"))
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "lab.R"
        subprocess.run(["Rscript", "-e", f"knitr::purl({str(VIGNETTE)!r}, output = "
                        f"{str(script)!r}, quiet = TRUE, documentation = 0)"], check=True,
                       capture_output=True)
        runner = Path(tmp) / "run.R"
        runner.write_text(RUNNER.format(root=str(ROOT), script=str(script)))
        # The purled script starts with `params <- list()`: the vignette's size comes from
        # DLSTAT_VIGNETTE_N (empty: all 60,000 images).
        env = {**os.environ, "DLSTAT_PYTHON": python, "RETICULATE_PYTHON": python,
               "TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg",
               "DLSTAT_VIGNETTE_N": "" if n is None else str(n)}
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t0 = time.perf_counter()
        out = subprocess.run(["Rscript", str(runner)], capture_output=True, text=True, env=env,
                             cwd=tmp)
        total = time.perf_counter() - t0
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if out.returncode != 0:
        raise SystemExit(f"bench_r_lab: the vignette failed:\n{out.stderr[-3000:]}")
    seconds = next(float(line.split()[1]) for line in out.stdout.splitlines()
                   if line.startswith("DLSTAT_LAB_SECONDS"))
    if peak_kb <= before:  # an earlier child was larger: this run's peak is not known
        peak_kb = None
    return {"vignette_s": seconds, "process_s": total,
            "peak_gb": None if peak_kb is None else peak_kb / 1e6}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: 2,000 images")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    n = 2000 if args.quick else None
    load_start = common.load_average()
    result = run_lab(n)
    peak = result["peak_gb"]
    print(f"R lab vignette on {'2,000' if n else 'all 60,000'} training images")
    print(f"vignette code: {result['vignette_s']:.1f} s (target <= {TARGET_SECONDS:.0f} s); "
          f"whole Rscript process {result['process_s']:.1f} s")
    print(f"peak RSS of the R process (R + Python + TensorFlow): "
          f"{'n/a' if peak is None else f'{peak:.2f} GB'} (target <= {TARGET_GB:.0f} GB)")
    print(f"load average at start {load_start}, at end {common.load_average()}")
    report = {"benchmark": "r_lab", "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "config": {"n_train": n or 60000, "vignette": VIGNETTE.name},
              "machine": common.machine_info(), "load_average_start": load_start,
              "result": result, "targets": {"seconds": TARGET_SECONDS, "gb": TARGET_GB}}
    path = common.write_json(report, args.out or ("r_lab_quick.json" if n else "r_lab.json"))
    print(f"wrote {path}")
    return report


if __name__ == "__main__":
    main()
