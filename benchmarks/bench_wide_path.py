"""Wide data (issue 23): a lasso path at ``hidden=()`` against ``cv.glmnet`` in one run, and a
network on the same wide design.

* 200 rows x 5,000 numeric columns, binomial (the issue's case): ``cv.glmnet(x, y,
  family="binomial", nfolds=5, nlambda=30)`` (timed in R with ``system.time``, the data already
  in R) against ``dl.dnn_path("y ~ .", data, hidden=(), mixture=1, n_penalties=30,
  optimizer="lbfgs")`` on the same five folds; then ``cv.glmnet`` once more on dlstat's folds
  and penalties, to check that both choose the same ``lambda.min`` and ``lambda.1se``;
* 200 rows x 20,000 numeric columns, gaussian (expression-sized), the same comparison;
* ``dl.dnn("y ~ .", data, hidden=(16,), family="binomial")`` on the 200 x 5,000 design: its
  first fit (tracing included) and a second one, with the time per phase.

dlstat's timings are warm (one small path and one small network first, so imports are not
counted, as R's ``library(glmnet)`` is not).  Prints the machine's matmul rate as the other
benchmarks do, and writes ``benchmarks/results/wide_path.json``.

Usage::

    .venv/bin/python benchmarks/bench_wide_path.py [--skip-large] [--skip-network]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # benchmarks/ (for common) and the repo root
import common  # noqa: E402  (sets TF_CPP_MIN_LOG_LEVEL before TensorFlow loads)

FOLDS = 5
N_PENALTIES = 30
SEED = 0


def wide_frame(n: int, p: int, family: str, seed: int = SEED) -> pd.DataFrame:
    """``n`` rows of ``p`` standard normal "genes" g0..g{p-1}; ten of them carry the signal."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    eta = X[:, :10] @ np.linspace(1.0, 0.3, 10)
    if family == "binomial":
        y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float)
    else:
        y = eta + rng.standard_normal(n)
    frame = pd.DataFrame(X, columns=[f"g{j}" for j in range(p)])
    frame["y"] = y
    return frame


def r_session():
    """rpy2's R with glmnet loaded, or None (the comparison is then skipped)."""
    try:
        import rpy2.robjects as ro

        ro.r("suppressMessages(library(glmnet))")
        return ro
    except Exception as error:  # no R, rpy2 or glmnet here
        print(f"R/glmnet not available ({error}); cv.glmnet is not timed.")
        return None


def time_glmnet(ro, frame: pd.DataFrame, family: str, foldid: np.ndarray,
                grid: np.ndarray) -> dict[str, Any]:
    """cv.glmnet as a user calls it (timed in R), then on dlstat's folds and penalties."""
    X = frame.drop(columns="y").to_numpy()
    ro.globalenv["X"] = ro.r.matrix(ro.FloatVector(X.ravel(order="F")), nrow=X.shape[0])
    ro.globalenv["y"] = ro.FloatVector(frame["y"].to_numpy())
    ro.globalenv["fid"] = ro.IntVector(foldid + 1)
    ro.globalenv["lam"] = ro.FloatVector(grid)
    seconds = ro.r(f"set.seed(1); system.time(cv.glmnet(X, y, family = '{family}', "
                   f"nfolds = {FOLDS}, nlambda = {N_PENALTIES}))[['elapsed']]")[0]
    ro.r(f"same <- cv.glmnet(X, y, family = '{family}', foldid = fid, lambda = lam)")
    return {"seconds": float(seconds),
            "lambda_min": float(ro.r("same$lambda.min")[0]),
            "lambda_1se": float(ro.r("same$lambda.1se")[0]),
            "n_lambda_fitted": int(ro.r("length(same$lambda)")[0]),
            "cvm": [float(v) for v in ro.r("same$cvm")]}


def time_path(dl, frame: pd.DataFrame, family: str, foldid: np.ndarray) -> tuple[dict, Any]:
    """dnn_path(hidden=()) with the phases and the exact solver's own seconds."""
    import dlstat.engine.glm_path as glm_path

    solver = [0.0]
    original = glm_path.solve

    def timed_solve(job):
        start = time.perf_counter()
        try:
            return original(job)
        finally:
            solver[0] += time.perf_counter() - start

    glm_path.solve = timed_solve
    try:
        with common.PhaseTimer() as phases:
            seconds, path = common.timed(lambda: dl.dnn_path(
                "y ~ .", frame, hidden=(), mixture=1, foldid=foldid, n_penalties=N_PENALTIES,
                optimizer="lbfgs", family=family, verbose=0))
    finally:
        glm_path.solve = original
    report = phases.report(seconds)
    return {"seconds": seconds, "solver_seconds": solver[0], "phases": report,
            "penalty_min": path.penalty_min, "penalty_1se": path.penalty_1se,
            "cv_mean": path.table["cv_mean"].tolist(),
            "df": path.table["df"].tolist()}, path


def compare_case(dl, ro, n: int, p: int, family: str) -> dict[str, Any]:
    frame = wide_frame(n, p, family)
    foldid = np.arange(n) % FOLDS
    mine, path = time_path(dl, frame, family, foldid)
    row: dict[str, Any] = {"n": n, "p": p, "family": family, "dlstat": mine}
    print(f"\n{n} x {p:,} {family}: dnn_path(hidden=(), mixture=1, {N_PENALTIES} penalties, "
          f"{FOLDS} folds) {mine['seconds']:.2f} s (exact solver {mine['solver_seconds']:.2f} s; "
          f"{common.format_phases(mine['phases'])})")
    if ro is None:
        return row
    theirs = time_glmnet(ro, frame, family, foldid, path.table["penalty"].to_numpy())
    row["glmnet"] = theirs
    row["ratio"] = mine["seconds"] / theirs["seconds"]
    k = theirs["n_lambda_fitted"]  # glmnet stops a saturated path early
    row["same_lambda_min"] = bool(np.isclose(mine["penalty_min"], theirs["lambda_min"],
                                             rtol=1e-9))
    row["same_lambda_1se"] = bool(np.isclose(mine["penalty_1se"], theirs["lambda_1se"],
                                             rtol=1e-9))
    row["cvm_max_rel_diff"] = float(np.max(np.abs(np.array(mine["cv_mean"][:k])
                                                  - theirs["cvm"]) / np.array(theirs["cvm"])))
    print(f"  cv.glmnet(nfolds={FOLDS}, nlambda={N_PENALTIES}) {theirs['seconds']:.2f} s  ->  "
          f"dlstat / glmnet = {row['ratio']:.1f}x the time")
    print(f"  same folds and penalties: lambda.min {mine['penalty_min']:.6g} vs "
          f"{theirs['lambda_min']:.6g} (same: {row['same_lambda_min']}), lambda.1se "
          f"{mine['penalty_1se']:.6g} vs {theirs['lambda_1se']:.6g} (same: "
          f"{row['same_lambda_1se']}); CV curves differ by at most "
          f"{row['cvm_max_rel_diff']:.1e} (relative, over glmnet's {k} penalties)")
    return row


def time_network(dl, frame: pd.DataFrame) -> dict[str, Any]:
    """dnn(hidden=(16,)) on the wide design: the first fit (traces) and a second one."""
    out = {}
    for label in ("first", "second"):
        with common.PhaseTimer() as phases:
            seconds, fit = common.timed(lambda: dl.dnn("y ~ .", frame, hidden=(16,),
                                                       family="binomial", seed=1, verbose=0))
        out[label] = {"seconds": seconds, "phases": phases.report(seconds),
                      "epochs": int(fit.record.epochs_run)}
        print(f"dnn(hidden=(16,)) on {len(frame)} x {frame.shape[1] - 1:,}, {label} fit: "
              f"{seconds:.2f} s ({common.format_phases(out[label]['phases'])})")
    rows = len(frame) * 0.8  # the default validation split holds out a fifth
    flops = common.mlp_train_flops(rows * out["second"]["epochs"], p=frame.shape[1] - 1,
                                   hidden=(16,))
    out["second"]["first_layer_gflop"] = flops / 1e9
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-large", action="store_true", help="no 200 x 20,000 case")
    parser.add_argument("--skip-network", action="store_true", help="no hidden=(16,) fit")
    parser.add_argument("--out", default="wide_path.json")
    args = parser.parse_args()
    load_start = common.load_average()
    info = common.machine_info()
    rate = common.matmul_gflops()
    print(f"machine: {info['cpu_model']}, {info['cpu_usable']} CPUs; float32 matmul "
          f"[64,256,64]x[64,64] at {rate:.0f} GFLOP/s")
    import dlstat as dl

    warm = wide_frame(60, 40, "binomial", seed=9)  # imports and first uses, not timed below
    dl.dnn_path("y ~ .", warm, hidden=(), mixture=1, n_penalties=3, folds=3, optimizer="lbfgs",
                family="binomial", verbose=0)
    dl.dnn("y ~ .", warm, hidden=(8,), family="binomial", epochs=2, verbose=0)
    ro = r_session()
    report: dict[str, Any] = {"machine": {**info, "matmul_gflops": rate}, "cases": []}
    report["cases"].append(compare_case(dl, ro, 200, 5_000, "binomial"))
    if not args.skip_large:
        report["cases"].append(compare_case(dl, ro, 200, 20_000, "gaussian"))
    if not args.skip_network:
        print()
        report["network"] = time_network(dl, wide_frame(200, 5_000, "binomial"))
    common.finish_report(report, info, load_start, args.out)


if __name__ == "__main__":
    main()
