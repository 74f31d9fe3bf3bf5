"""Tuning: ``dl.tune_dnn`` (every configuration × fold in one stacked engine call) vs
scikit-learn's ``GridSearchCV(DNNRegressor(...))`` over the same 24-configuration grid
(4 learning rates × 3 dropout rates × 2 penalties) and the same folds, in one run.

Also measured: what the configurations' shared batches (common random numbers: within a fold
every configuration reads the same rows in the same order) bring.

* the first layer of all M networks as one wide matmul ``[b, p] x [p, M·h]`` against the
  engine's gather + batched matmul ``[M, b, p] x [M, p, h]`` (a microbenchmark of that layer's
  forward; the engine does not fuse it yet), and the share of a step's flops that layer is in
  the tuning and ``dnn_path`` workloads, so what the fusion could save at most;
* how much sharper comparisons get: the sd over folds of the difference in held-out MSE
  between two configurations trained with the same seed (shared batches, starts and dropout
  masks) against trained with different seeds, on the same folds.

Usage::

    .venv/bin/python benchmarks/bench_tune.py            # n=2,000, 5 folds, 5 epochs
    .venv/bin/python benchmarks/bench_tune.py --quick    # n=600, 5 folds, 2 epochs (smoke test)
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # benchmarks/ (for common) and the repo root
import common  # noqa: E402  (sets TF_CPP_MIN_LOG_LEVEL before TensorFlow loads)

HIDDEN = (32,)
BATCH = 64
SEED = 1
FOLDS = 5
GRID = {"learning_rate": [0.001, 0.003, 0.01, 0.03], "dropout": [0.0, 0.1, 0.2],
        "penalty": [0.0, 0.01]}


def fold_ids(n: int) -> np.ndarray:
    return np.random.default_rng(SEED).permutation(np.arange(n) % FOLDS)


def bench_tune(dl: Any, df: Any, ids: np.ndarray, epochs: int) -> tuple[dict[str, Any], Any]:
    seconds, tuned = common.timed(lambda: dl.tune_dnn(
        "y ~ .", df, grid=GRID, foldid=ids, hidden=HIDDEN, batch_size=BATCH, epochs=epochs,
        seed=SEED, verbose=0))
    return {"tool": "dl.tune_dnn", "seconds": seconds, "stacks": tuned.n_stacks,
            "configurations": len(tuned.table), "best": tuned.best_params,
            "one_se": tuned.params_1se}, tuned


def bench_grid_search(dl: Any, X: np.ndarray, y: np.ndarray, ids: np.ndarray,
                      epochs: int) -> dict[str, Any]:
    from sklearn.model_selection import GridSearchCV, PredefinedSplit

    est = dl.DNNRegressor(hidden=HIDDEN, batch_size=BATCH, epochs=epochs, seed=SEED, verbose=0)
    search = GridSearchCV(est, GRID, cv=PredefinedSplit(ids), scoring="neg_mean_squared_error",
                          refit=False, n_jobs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seconds, _ = common.timed(lambda: search.fit(X, y))
    best = search.cv_results_["params"][int(np.argmax(search.cv_results_["mean_test_score"]))]
    return {"tool": "GridSearchCV(DNNRegressor)", "seconds": seconds,
            "fits": len(search.cv_results_["params"]) * FOLDS, "best": best,
            "mean_mse": [-float(s) for s in search.cv_results_["mean_test_score"]]}


def wide_first_layer(M: int, p: int, h: int, batch: int, reps: int = 300) -> dict[str, Any]:
    """The first dense layer's forward for M networks sharing one batch: the engine's gather
    of each network's rows + batched matmul, against one gather + one wide matmul."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    X = tf.constant(rng.standard_normal((4 * batch, p)), tf.float32)
    W = tf.constant(rng.standard_normal((M, p, h)), tf.float32)
    wide = tf.reshape(tf.transpose(W, [1, 0, 2]), [p, M * h])
    rows = tf.constant(rng.integers(0, 4 * batch, batch), tf.int32)
    stacked_rows = tf.tile(rows[None], [M, 1])

    @tf.function
    def batched():
        out = tf.zeros([M, batch, h])
        for _ in tf.range(reps):
            out += tf.matmul(tf.gather(X, stacked_rows), W)
        return out

    @tf.function
    def fused():
        out = tf.zeros([batch, M * h])
        for _ in tf.range(reps):
            out += tf.matmul(tf.gather(X, rows), wide)
        return out

    batched(), fused()
    a = common.best_of(lambda: batched().numpy(), 3) / reps
    b = common.best_of(lambda: fused().numpy(), 3) / reps
    return {"networks": M, "inputs": p, "units": h, "batch": batch,
            "batched_seconds_per_step": a, "wide_seconds_per_step": b,
            "speedup": common.ratio(a, b)}


def first_layer_share(p: int, hidden: tuple[int, ...]) -> float:
    """The first layer's share of a dense network's multiply-adds per row."""
    widths = [p, *hidden, 1]
    macs = [a * b for a, b in zip(widths[:-1], widths[1:])]
    return macs[0] / sum(macs)


def common_random_numbers(dl: Any, df: Any, ids: np.ndarray, epochs: int) -> dict[str, Any]:
    """sd over folds of the held-out MSE difference between two learning rates: same seed
    (what tune_dnn does) against different seeds, on the same folds."""
    def fold_mse(lr: float, seed: int) -> np.ndarray:
        cv = dl.cv_dnn("y ~ .", df, foldid=ids, hidden=HIDDEN, batch_size=BATCH,
                       epochs=epochs, seed=seed, learning_rate=lr, dropout=0.1, verbose=0)
        return cv.metrics["rmse"].to_numpy() ** 2

    base = fold_mse(0.003, SEED)
    same = fold_mse(0.01, SEED) - base
    other = fold_mse(0.01, SEED + 100) - base
    return {"difference": "mse(lr 0.01) - mse(lr 0.003) per fold",
            "sd_same_seed": float(np.std(same, ddof=1)),
            "sd_different_seeds": float(np.std(other, ddof=1)),
            "mean_same_seed": float(same.mean()), "mean_different_seeds": float(other.mean())}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: n=600, 2 epochs")
    args = parser.parse_args(argv)
    n, p, epochs = (600, 10, 2) if args.quick else (2_000, 10, 5)
    data = common.make_regression_data(n=n, p=p, seed=SEED)
    ids = fold_ids(n)
    import dlstat as dl

    info = common.machine_info()
    load_start = common.load_average()
    print(f"machine: {info['cpu_usable']} CPUs ({info['cpu_model']}), TF {info['tensorflow']}, "
          f"sklearn {info['sklearn']}")
    gflops = common.matmul_gflops()
    print(f"matmul rate: {gflops:.1f} GFLOP/s")
    # Warm both sides once with one epoch: a process traces (or loads from the graph cache)
    # each distinct graph once — one stack for tune_dnn, one per dropout rate and penalty on
    # or off for the single fits — and that is not what is compared here.
    bench_tune(dl, data.df, ids, 1)
    bench_grid_search(dl, data.X, data.y, ids, 1)
    a, tuned = bench_tune(dl, data.df, ids, epochs)
    b = bench_grid_search(dl, data.X, data.y, ids, epochs)
    speed = common.ratio(b["seconds"], a["seconds"])
    print(f"tune_dnn: {a['seconds']:.2f} s for {a['configurations']} configurations × {FOLDS} "
          f"folds in {a['stacks']} engine call(s)")
    print(f"GridSearchCV(DNNRegressor): {b['seconds']:.2f} s for {b['fits']} fits")
    print(f"ratio: tune_dnn {common.fmt(speed, '.1f')}x faster (target >= 5x)")
    same_best = a["best"] == b["best"]
    print(f"same best configuration: {same_best} ({a['best']})")
    M = a["configurations"] * FOLDS
    wide = wide_first_layer(M, p, HIDDEN[0], BATCH)
    share_tune = first_layer_share(p, HIDDEN)
    share_path = first_layer_share(20, (64, 64))  # bench_path.py's network
    per_step = wide["batched_seconds_per_step"] * 1e3
    print(f"first layer of {M} networks on a shared batch: batched {per_step:.3f}"
          f" ms, one wide matmul {wide['wide_seconds_per_step'] * 1e3:.3f} ms per step "
          f"({common.fmt(wide['speedup'], '.1f')}x); that layer is {100 * share_tune:.0f}% of "
          f"the tuning network's flops, {100 * share_path:.0f}% of dnn_path's (bench_path)")
    crn = common_random_numbers(dl, data.df, ids, epochs)
    print(f"sd over folds of a configuration difference: {crn['sd_same_seed']:.4f} with shared "
          f"batches vs {crn['sd_different_seeds']:.4f} with different seeds")
    out = {
        "benchmark": "tune", "n": n, "p": p, "folds": FOLDS, "epochs": epochs,
        "hidden": list(HIDDEN), "batch_size": BATCH, "grid": GRID,
        "machine": {**info, "matmul_gflops": gflops},
        "load_average": {"start": load_start, "end": common.load_average()},
        "results": [a, b], "ratio_grid_search_over_tune": speed, "same_best": same_best,
        "wide_first_layer": {**wide, "first_layer_share_tune": share_tune,
                             "first_layer_share_path": share_path},
        "common_random_numbers": crn,
    }
    if not args.quick:
        path = common.write_json(out, "tune.json")
        print(f"wrote {path}")
    return out


if __name__ == "__main__":
    main()
