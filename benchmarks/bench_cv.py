"""10-fold cross-validation: ``dl.cv_dnn`` (all folds in one stacked engine call) vs a Python
loop of 10 ``dl.dnn`` fits vs scikit-learn ``cross_val_score(MLPRegressor)``.

Same data and model as ``bench_core.py`` (n = 20,000, p = 20, hidden (64, 64) ReLU, Adam
lr 1e-3, batch 256), but 10 epochs per fold to keep the run affordable.

Usage::

    .venv/bin/python benchmarks/bench_cv.py            # n=20,000, 10 folds, 10 epochs
    .venv/bin/python benchmarks/bench_cv.py --quick    # n=2,000, 10 folds, 2 epochs (smoke test)
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Optional

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # benchmarks/ (for common) and the repo root (for dlstat)
import common  # noqa: E402  (sets TF_CPP_MIN_LOG_LEVEL before TensorFlow loads)

HIDDEN = (64, 64)
LR = 1e-3
BATCH = 256
SEED = 1
FOLDS = 10


def bench_sklearn(X: np.ndarray, y: np.ndarray, epochs: int) -> dict[str, Any]:
    """``cross_val_score(MLPRegressor)`` with KFold(10, shuffle, seed 1); whole-call seconds."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import KFold, cross_val_score
    from sklearn.neural_network import MLPRegressor

    model = MLPRegressor(
        hidden_layer_sizes=HIDDEN, activation="relu", solver="adam", alpha=0.0,
        batch_size=BATCH, learning_rate_init=LR, max_iter=epochs, tol=0.0,
        n_iter_no_change=10**9, early_stopping=False, shuffle=True, random_state=SEED,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        seconds, scores = common.timed(lambda: cross_val_score(
            model, X, y, cv=KFold(FOLDS, shuffle=True, random_state=SEED),
            scoring="neg_root_mean_squared_error"))
    return {"tool": "sklearn cross_val_score(MLPRegressor)", "seconds": seconds,
            "mean_rmse": float(-np.mean(scores)), "fold_rmse": [float(-s) for s in scores]}


def bench_cv_dnn(dl: Any, df: Any, epochs: int) -> tuple[dict[str, Any], Any]:
    """(a) one ``cv_dnn`` call: all folds' designs, one stacked engine call, held-out metrics."""
    with common.PhaseTimer() as phases:
        seconds, cv = common.timed(lambda: dl.cv_dnn(
            "y ~ .", df, folds=FOLDS, hidden=HIDDEN, batch_size=BATCH, epochs=epochs,
            seed=SEED, verbose=0))
    return {"tool": "dlstat cv_dnn", "seconds": seconds,
            "mean_rmse": float(cv.metrics["rmse"].mean()),
            "fold_rmse": [float(v) for v in cv.metrics["rmse"]],
            "phases": phases.report(seconds), "phase_calls": phases.calls, "engine_calls": phases.jobs,
            "uninstrumented": phases.missing}, cv


def bench_dnn_loop(dl: Any, df: Any, fold_ids: np.ndarray, epochs: int) -> dict[str, Any]:
    """(b) 10 single ``dnn`` fits on the folds' training rows; held-out RMSE outside the timing."""
    times, rmse = [], []
    with common.PhaseTimer() as phases:
        for k in range(FOLDS):
            train, test = df[fold_ids != k], df[fold_ids == k]
            seconds, fit = common.timed(lambda: dl.dnn(
                "y ~ .", train, hidden=HIDDEN, batch_size=BATCH, epochs=epochs, seed=SEED,
                verbose=0))
            times.append(seconds)
            pred = fit.predict(test).to_numpy()
            rmse.append(float(np.sqrt(np.mean((test["y"].to_numpy() - pred) ** 2))))
    total = float(sum(times))
    return {"tool": "loop of 10 dlstat dnn", "seconds": total, "fit_seconds": times,
            "mean_rmse": float(np.mean(rmse)), "fold_rmse": rmse,
            "phases": phases.report(total), "phase_calls": phases.calls,
            "uninstrumented": phases.missing}


def engine_rate(result: dict[str, Any], networks: int, rows: int, epochs: int) -> Optional[float]:
    """GFLOP/s of the compiled training loop (engine phase, tracing excluded), padded rows."""
    engine = result.get("phases", {}).get("engine")
    flops = common.mlp_train_flops(networks * epochs * rows, hidden=HIDDEN)
    return flops / engine / 1e9 if engine else None


def main(argv: Optional[list[str]] = None) -> dict[str, Any]:
    """Run the three CV variants, print seconds, RMSEs and ratios, write the JSON result file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: n=2,000, 2 epochs")
    parser.add_argument("--graph-cache", action="store_true",
                        help="use dlstat's on-disk cache of traced functions (primed in the warm-up), "
                        "so the timed calls load a saved trace instead of tracing")
    parser.add_argument("--out", default=None, help="result file name under benchmarks/results/ "
                        "(default cv.json, or cv_quick.json with --quick)")
    parser.add_argument("--no-sklearn", action="store_true",
                        help="skip cross_val_score(MLPRegressor) (its BLAS threads crawl on a "
                        "loaded machine)")
    args = parser.parse_args(argv)
    n, epochs = (2_000, 2) if args.quick else (20_000, 10)
    out = args.out or ("cv_quick.json" if args.quick else "cv.json")

    data, X, df = common.benchmark_frame(n)  # every tool sees the same standardized features

    info = common.machine_info()
    load_start = common.load_average()
    print(f"machine: {info['cpu_usable']} CPUs ({info['cpu_model']}), TF {info['tensorflow']}, "
          f"Keras {info['keras']}, sklearn {info['sklearn']}")
    gflops = common.matmul_gflops()
    print(f"float32 matmul [64,256,64]x[64,64]: {gflops:.1f} GFLOP/s")
    why = "smoke test" if args.quick else "bench_core uses 20; 10 here to keep 3 x 10 fits affordable"
    print(f"data: n={n}, p=20; model {HIDDEN} relu, adam lr={LR}, batch {BATCH}, "
          f"{epochs} epochs per fold ({why}), {FOLDS} folds\n")

    import dlstat as dl

    first, warm = common.start_dlstat(df, args.graph_cache, HIDDEN, "(b)", "; the in-memory trace cache is cleared between (a) and (b)")

    gc.collect()  # start each timed part without garbage from the previous one
    a, cv = bench_cv_dnn(dl, df, epochs)
    cleared = common.clear_dlstat_trace_cache()
    if not cleared:
        print("WARNING: could not clear dlstat's trace cache; (b) reuses the trace of (a).")
    fold_ids = cv.fold_ids.to_numpy(dtype=int)
    gc.collect()
    b = bench_dnn_loop(dl, df, fold_ids, epochs)
    gc.collect()
    c = None if args.no_sklearn else bench_sklearn(X, data.y, epochs)

    # The stack pads every network's rows to the longest training set, in whole batches.
    rows_exec = common.padded_rows(int(n - np.bincount(fold_ids).min()), BATCH)
    a["engine_gflops"] = engine_rate(a, FOLDS, rows_exec, epochs)
    b["engine_gflops"] = engine_rate(b, FOLDS, rows_exec, epochs)

    print(f"{'variant':<44}{'whole run s':>12}{'mean held-out RMSE':>20}")
    for r in (a, b, c) if c else (a, b):
        print(f"{r['tool']:<44}{r['seconds']:>12.2f}{r['mean_rmse']:>20.4f}")
    print()
    fits = b["fit_seconds"]
    print(f"(b) per fit: first {fits[0]:.2f} s ({first}), others median "
          f"{float(np.median(fits[1:])):.2f} s")
    for r in (a, b):
        print(f"{r['tool']} phases: {common.format_phases(r['phases'])}")
        if r["uninstrumented"]:
            print(f"  (not instrumented: {', '.join(r['uninstrumented'])})")
    print(f"engine (training loop, tracing excluded) rate: (a) {common.fmt(a['engine_gflops'], '.1f')} "
          f"GFLOP/s, (b) {common.fmt(b['engine_gflops'], '.1f')} GFLOP/s "
          f"({FOLDS} networks x {epochs} epochs x {rows_exec} rows incl. batch padding; "
          f"matmul rate {gflops:.1f})")
    if a["engine_gflops"]:
        print(f"(a) at {100 * a['engine_gflops'] / gflops:.0f}% of the matmul peak (target ≥ 20%)")
    print()

    ratios = {
        "cv_dnn_vs_dnn_loop": common.ratio(b["seconds"], a["seconds"]),
        "cv_dnn_vs_sklearn_cross_val_score": common.ratio(c["seconds"], a["seconds"]) if c
        else None,
    }
    diff = abs(a["mean_rmse"] - b["mean_rmse"])
    close = diff <= 0.02 * b["mean_rmse"]
    print(f"cv_dnn vs loop of 10 dnn fits: {common.fmt_ratio(ratios['cv_dnn_vs_dnn_loop'])} (target ≥ 3×)")
    print(f"cv_dnn vs cross_val_score(MLPRegressor): "
          f"{common.fmt_ratio(ratios['cv_dnn_vs_sklearn_cross_val_score'])}")
    print(f"mean held-out RMSE: cv_dnn {a['mean_rmse']:.4f}, dnn loop {b['mean_rmse']:.4f} "
          f"(|diff| {diff:.2g}: {'close' if close else 'NOT close'})"
          + (f", MLPRegressor {c['mean_rmse']:.4f}" if c else ""))

    report = {
        "benchmark": "cv",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config": {"n": n, "p": 20, "hidden": list(HIDDEN), "learning_rate": LR, "batch_size": BATCH,
                   "epochs": epochs, "folds": FOLDS, "seed": SEED, "quick": args.quick,
                   "graph_cache": args.graph_cache, "warm_up_s": warm, "trace_cache_cleared_between_a_and_b": cleared},
        "machine": {**info, "matmul_gflops": gflops},
        "results": [r for r in (a, b, c) if r],
        "ratios": ratios,
        "rmse_close": bool(close),
    }
    return common.finish_report(report, info, load_start, out)


if __name__ == "__main__":
    main()
