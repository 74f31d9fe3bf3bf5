"""Regularisation path, 5 folds x 20 penalties: ``dl.dnn_path`` (one stacked engine call) vs a
loop of Keras ``model.fit`` vs a loop of single ``dl.dnn`` fits, plus the stacked training's
FLOP rate against this machine's matmul rate.

Data as ``bench_core.py`` (n = 20,000, p = 20); hidden (64, 64) ReLU, Adam lr 1e-3, batch 256,
10 epochs per network, L2 (ridge) penalties of the path's own grid.

Usage::

    .venv/bin/python benchmarks/bench_path.py              # full run (Keras: 10 of 100 fits timed)
    .venv/bin/python benchmarks/bench_path.py --quick      # n=2,000, 3 penalties, 2 epochs
    .venv/bin/python benchmarks/bench_path.py --keras-sample 100 --dlstat-sample 100   # no extrapolation
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
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
FOLDS = 5


def bench_path(dl: Any, df: Any, n_penalties: int, epochs: int) -> tuple[dict[str, Any], Any]:
    """(a) one ``dnn_path`` call: folds x penalties + penalties networks in one engine call."""
    with common.PhaseTimer() as phases:
        seconds, path = common.timed(lambda: dl.dnn_path(
            "y ~ .", df, n_penalties=n_penalties, folds=FOLDS, hidden=HIDDEN, batch_size=BATCH,
            epochs=epochs, seed=SEED, verbose=0))
    expected = n_penalties * (FOLDS + 1)
    jobs = phases.jobs
    if len(jobs) == 1 and jobs[0]["networks"] != expected:
        print(f"NOTE: dnn_path trained {jobs[0]['networks']} networks in its engine call, not {expected}.")
    return {"tool": "dlstat dnn_path", "seconds": seconds,
            "networks": jobs[0]["networks"] if len(jobs) == 1 else expected, "engine_calls": jobs,
            "phases": phases.report(seconds), "phase_calls": phases.calls,
            "uninstrumented": phases.missing}, path


def pairs_to_time(n_fits: int, sample: int, seed: int) -> list[int]:
    """Indices (into the fold x penalty list) of the fits to time: all, or a random subset."""
    if sample <= 0 or sample >= n_fits:
        return list(range(n_fits))
    return sorted(np.random.default_rng(seed).choice(n_fits, size=sample, replace=False).tolist())


def warm_up_keras(p: int) -> None:
    """One tiny Keras fit of another shape, so Keras' first-use costs are not timed."""
    import keras

    # A seed is required: dlstat turns on TF op determinism process-wide, and unseeded random
    # ops (Keras' initialisers) then raise.
    keras.utils.set_random_seed(SEED)
    model = keras.Sequential([keras.Input((p,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(LR), loss="mse")
    rng = np.random.default_rng(0)
    model.fit(rng.standard_normal((256, p)).astype("float32"), rng.standard_normal(256).astype("float32"),
              batch_size=64, epochs=1, verbose=0)


def bench_keras(X: np.ndarray, y: np.ndarray, fold_ids: np.ndarray, grid: np.ndarray,
                epochs: int, sample: int) -> dict[str, Any]:
    """(b) Keras: one fresh Sequential per (fold, penalty), build + compile + fit timed.

    The objective equals dlstat's: y standardised on the fold's training rows, MSE, and an L2
    kernel regulariser on every Dense layer of ``penalty / sd(y_train)`` (dlstat minimises
    mean deviance / 2 + penalty / sd(y) / 2 * sum of squared kernels on standardised y).
    """
    import keras

    warm_up_keras(X.shape[1])
    pairs = [(k, lam) for lam in grid for k in range(FOLDS)]
    chosen = pairs_to_time(len(pairs), sample, seed=SEED)
    times, dev = [], []
    for i in chosen:
        k, lam = pairs[i]
        train, test = fold_ids != k, fold_ids == k
        mu, sd = float(y[train].mean()), float(y[train].std())
        y_train = ((y[train] - mu) / sd).astype(np.float32)
        l2 = float(lam) / sd

        def fit() -> Any:
            keras.utils.set_random_seed(SEED)
            reg = keras.regularizers.L2(l2)
            model = keras.Sequential(
                [keras.Input((X.shape[1],))]
                + [keras.layers.Dense(u, activation="relu", kernel_regularizer=reg) for u in HIDDEN]
                + [keras.layers.Dense(1, kernel_regularizer=reg)]
            )
            model.compile(optimizer=keras.optimizers.Adam(LR), loss="mse")
            model.fit(X[train], y_train, batch_size=BATCH, epochs=epochs, verbose=0, shuffle=True)
            return model

        seconds, model = common.timed(fit)
        times.append(seconds)
        pred = model.predict(X[test], batch_size=4096, verbose=0)[:, 0] * sd + mu
        dev.append(float(np.mean((y[test] - pred) ** 2)))
    mean = statistics.fmean(times)
    return {"tool": "Keras model.fit loop", "fits": len(pairs), "timed_fits": len(chosen),
            "timed_indices": chosen, "fit_seconds": times, "timed_seconds": float(sum(times)),
            "seconds": mean * len(pairs), "extrapolated": len(chosen) < len(pairs),
            "heldout_mse": dev}


def bench_dnn_loop(dl: Any, df: Any, fold_ids: np.ndarray, grid: np.ndarray, epochs: int,
                   sample: int) -> dict[str, Any]:
    """(c) single ``dl.dnn(penalty=λ)`` fits on the folds' training rows.

    The in-memory trace cache is cleared first, so the first timed fit traces (or, with dlstat's
    on-disk graph cache on, loads the saved trace), as a fresh process would;
    when only a sample is timed, the estimate is first fit + mean(other fits) x (fits − 1).
    """
    pairs = [(k, lam) for lam in grid for k in range(FOLDS)]
    chosen = pairs_to_time(len(pairs), sample, seed=SEED + 1)
    cleared = common.clear_dlstat_trace_cache()
    times, dev = [], []
    with common.PhaseTimer() as phases:
        for i in chosen:
            k, lam = pairs[i]
            train, test = df[fold_ids != k], df[fold_ids == k]
            seconds, fit = common.timed(lambda: dl.dnn(
                "y ~ .", train, hidden=HIDDEN, batch_size=BATCH, epochs=epochs, seed=SEED,
                penalty=float(lam), verbose=0))
            times.append(seconds)
            pred = fit.predict(test).to_numpy()
            dev.append(float(np.mean((test["y"].to_numpy() - pred) ** 2)))
    total = float(sum(times))
    if len(chosen) < len(pairs):
        estimate = times[0] + statistics.fmean(times[1:]) * (len(pairs) - 1)
    else:
        estimate = total
    return {"tool": "loop of dlstat dnn", "fits": len(pairs), "timed_fits": len(chosen),
            "timed_indices": chosen, "fit_seconds": times, "timed_seconds": total,
            "seconds": estimate, "extrapolated": len(chosen) < len(pairs),
            "trace_cache_cleared": cleared, "heldout_mse": dev,
            "phases": phases.report(total), "phase_calls": phases.calls,
            "uninstrumented": phases.missing}


def main(argv: Optional[list[str]] = None) -> dict[str, Any]:
    """Run (a), (b), (c) and the matmul rate; print seconds, FLOP rate and ratios; write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: n=2,000, 3 penalties, 2 epochs")
    parser.add_argument("--keras-sample", type=int, default=10,
                        help="Keras fits to time, extrapolated to all (0 = all; default 10)")
    parser.add_argument("--dlstat-sample", type=int, default=0,
                        help="single dnn fits to time, extrapolated to all (0 = all, the default)")
    parser.add_argument("--graph-cache", action="store_true",
                        help="use dlstat's on-disk cache of traced functions (primed in the warm-up), "
                        "so the timed calls load a saved trace instead of tracing")
    parser.add_argument("--out", default=None, help="result file name under benchmarks/results/ "
                        "(default path.json, or path_quick.json with --quick)")
    args = parser.parse_args(argv)
    n, n_pen, epochs = (2_000, 3, 2) if args.quick else (20_000, 20, 10)
    out = args.out or ("path_quick.json" if args.quick else "path.json")
    ks = min(args.keras_sample, 3) if args.quick and args.keras_sample else args.keras_sample

    data = common.make_regression_data(n=n, p=20, seed=0)
    X = common.standardize(data.X)
    df = common.to_frame(X, data.y)

    info = common.machine_info()
    load_start = common.load_average()
    print(f"machine: {info['cpu_usable']} CPUs ({info['cpu_model']}), TF {info['tensorflow']}, "
          f"Keras {info['keras']}, sklearn {info['sklearn']}")
    gflops = common.matmul_gflops()
    stacked = common.stacked_matmul_gflops(stack=n_pen * (FOLDS + 1))
    print(f"float32 matmul [64,256,64]x[64,64]: {gflops:.1f} GFLOP/s; per-network weights "
          f"[{n_pen * (FOLDS + 1)},256,64]x[{n_pen * (FOLDS + 1)},64,64]: {stacked:.1f} GFLOP/s")
    print(f"data: n={n}, p=20; model {HIDDEN} relu, adam lr={LR}, batch {BATCH}, {epochs} epochs "
          f"per network; {FOLDS} folds x {n_pen} penalties (L2)\n")

    import dlstat as dl

    first, warm = common.start_dlstat(df, args.graph_cache, HIDDEN, "(c)")

    gc.collect()  # start each timed part without garbage from the previous one
    a, path = bench_path(dl, df, n_pen, epochs)
    grid = path.table["penalty"].to_numpy()
    fold_ids = dl.Folds(FOLDS, seed=SEED).assign(len(df))[0]  # the folds dnn_path deals (same seed)
    gc.collect()
    b = bench_keras(X, data.y, fold_ids, grid, epochs, ks)
    gc.collect()
    c = bench_dnn_loop(dl, df, fold_ids, grid, epochs, args.dlstat_sample)

    # FLOPs of (a): every network's training rows x epochs (useful), and what the two stacks
    # run (full-data networks; fold networks padded to the longest fold, in whole batches).
    n_fold_train = [int((fold_ids != k).sum()) for k in range(FOLDS)]
    useful_rows = n_pen * (n + sum(n_fold_train)) * epochs
    executed_rows = n_pen * (common.padded_rows(n, BATCH)
                             + FOLDS * common.padded_rows(max(n_fold_train), BATCH)) * epochs
    train_s = a["phases"]["engine"]
    a["flops_useful"] = common.mlp_train_flops(useful_rows, hidden=HIDDEN)
    a["flops_executed"] = common.mlp_train_flops(executed_rows, hidden=HIDDEN)
    a["training_seconds"] = train_s
    a["gflops_useful"] = a["flops_useful"] / train_s / 1e9 if train_s else None
    a["gflops_executed"] = a["flops_executed"] / train_s / 1e9 if train_s else None
    a["gflops_useful_whole_call"] = a["flops_useful"] / a["seconds"] / 1e9

    print(f"{'variant':<34}{'whole run s':>12}  note")
    calls = a["engine_calls"]
    how = (f"one engine call, training rows per network {calls[0]['rows_min']}–{calls[0]['rows_max']}"
           if len(calls) == 1 else f"{len(calls)} engine calls")
    print(f"{'(a) dlstat dnn_path':<34}{a['seconds']:>12.2f}  {a['networks']} networks "
          f"({n_pen} x {FOLDS} folds + {n_pen} full-data), {how}")
    for r, label in ((b, "(b) Keras model.fit loop"), (c, "(c) loop of dlstat dnn")):
        how = (f"{r['timed_fits']} of {r['fits']} fits timed ({r['timed_seconds']:.2f} s), "
               f"extrapolated to {r['fits']}" if r["extrapolated"] else f"all {r['fits']} fits timed")
        print(f"{label:<34}{r['seconds']:>12.2f}  {how}")
    print()
    print(f"(b) Keras per fit: median {statistics.median(b['fit_seconds']):.2f} s "
          f"(min {min(b['fit_seconds']):.2f}, max {max(b['fit_seconds']):.2f})")
    print(f"(c) dnn per fit: first {c['fit_seconds'][0]:.2f} s ({first}), others median "
          f"{statistics.median(c['fit_seconds'][1:] or c['fit_seconds']):.2f} s")
    print(f"(a) phases: {common.format_phases(a['phases'])}")
    print(f"(c) phases: {common.format_phases(c['phases'])}")
    for r in (a, c):
        if r["uninstrumented"]:
            print(f"  (not instrumented: {', '.join(r['uninstrumented'])})")
    print(f"(a) training FLOPs: {a['flops_useful'] / 1e9:.0f} GFLOP on real rows "
          f"({n_pen}x{n} + {n_pen * FOLDS}x~{int(np.mean(n_fold_train))} rows x {epochs} epochs), "
          f"{a['flops_executed'] / 1e9:.0f} GFLOP run incl. padding to whole batches")
    print(f"(a) training time (engine, tracing excluded) {train_s:.2f} s: "
          f"{common.fmt(a['gflops_useful'], '.1f')} GFLOP/s on real rows, "
          f"{common.fmt(a['gflops_executed'], '.1f')} GFLOP/s incl. padding; whole call "
          f"{a['gflops_useful_whole_call']:.1f} GFLOP/s")
    # Sanity: the same (fold, penalty) fits give similar held-out MSE in (a), (b) and (c).
    cv_mean = path.table["cv_mean"].to_numpy()  # mean deviance = MSE for gaussian
    pairs_c = c["timed_indices"]
    per_pen_c = {}
    for i, d in zip(pairs_c, c["heldout_mse"]):
        per_pen_c.setdefault(i // FOLDS, []).append(d)
    full_pen = [j for j, v in per_pen_c.items() if len(v) == FOLDS]
    if full_pen:
        diffs = [abs(statistics.fmean(per_pen_c[j]) - cv_mean[j]) for j in full_pen]
        print(f"held-out MSE, (a) path cv_mean vs (c) loop, same folds and penalties: max |diff| "
              f"{max(diffs):.2g} over {len(full_pen)} penalties (cv_mean range "
              f"{cv_mean.min():.3f}–{cv_mean.max():.3f})")
    c_by_index = dict(zip(pairs_c, c["heldout_mse"]))
    shared = [(d, c_by_index[i]) for i, d in zip(b["timed_indices"], b["heldout_mse"]) if i in c_by_index]
    if shared:
        print(f"held-out MSE on the {len(shared)} Keras-timed fits: Keras mean "
              f"{statistics.fmean(s[0] for s in shared):.4f}, dlstat dnn mean "
              f"{statistics.fmean(s[1] for s in shared):.4f}")
    print()

    ratios = {
        "path_vs_keras_loop": common.ratio(b["seconds"], a["seconds"]),
        "path_vs_dnn_loop": common.ratio(c["seconds"], a["seconds"]),
        "training_fraction_of_matmul_rate": common.ratio(a["gflops_useful"], gflops),
        "training_fraction_of_matmul_rate_incl_padding": common.ratio(a["gflops_executed"], gflops),
    }
    note_b = " (Keras extrapolated from a sample)" if b["extrapolated"] else ""
    note_c = " (extrapolated from a sample)" if c["extrapolated"] else ""
    print(f"(a) vs Keras loop: {common.fmt_ratio(ratios['path_vs_keras_loop'])} (target ≥ 30×)"
          f"{note_b}; (a) also trains the {n_pen} full-data networks")
    print(f"(a) vs dlstat single-fit loop: {common.fmt_ratio(ratios['path_vs_dnn_loop'])} "
          f"(target ≥ 2.5×){note_c}")
    frac = ratios["training_fraction_of_matmul_rate"]
    frac_pad = ratios["training_fraction_of_matmul_rate_incl_padding"]
    print(f"stacked training at {common.fmt(None if frac is None else 100 * frac, '.0f')}% of matmul "
          f"rate (target ≥ 25%); {common.fmt(None if frac_pad is None else 100 * frac_pad, '.0f')}% "
          "counting the padded rows it also computes")

    report = {
        "benchmark": "path",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config": {"n": n, "p": 20, "hidden": list(HIDDEN), "learning_rate": LR, "batch_size": BATCH,
                   "epochs": epochs, "folds": FOLDS, "n_penalties": n_pen, "seed": SEED,
                   "quick": args.quick, "keras_sample": ks, "dlstat_sample": args.dlstat_sample,
                   "graph_cache": args.graph_cache, "warm_up_s": warm, "penalties": grid.tolist()},
        "machine": {**info, "matmul_gflops": gflops, "stacked_matmul_gflops": stacked},
        "results": [a, b, c],
        "ratios": ratios,
    }
    return common.finish_report(report, info, load_start, out)


if __name__ == "__main__":
    main()
