"""Bootstrap: ``dl.dnn(..., bootstrap=50)`` (the full-data fit and 50 resampled networks in one
stacked engine call) vs one ``dl.dnn`` fit vs a Python loop of 50 ``dl.dnn`` fits on resampled
data frames (what a user would write without ``bootstrap=``), in one run.

A statistician's data set: n = 1,000, p = 20 (``common.make_regression_data``), hidden (32, 16)
ReLU, Adam lr 1e-3, batch 32, 30 epochs.  Targets (issue 9): ``bootstrap=50`` takes at most 10×
one fit's time and is at least 5× faster than the loop.

Usage::

    .venv/bin/python benchmarks/bench_bootstrap.py            # n=1,000, 30 epochs
    .venv/bin/python benchmarks/bench_bootstrap.py --quick    # n=300, 3 epochs, B=10 (smoke test)
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # benchmarks/ (for common) and the repo root (for dlstat)
import common  # noqa: E402  (sets TF_CPP_MIN_LOG_LEVEL before TensorFlow loads)

HIDDEN = (32, 16)
BATCH = 32
SEED = 1


def options(epochs: int) -> dict[str, Any]:
    return dict(hidden=HIDDEN, batch_size=BATCH, epochs=epochs, seed=SEED, verbose=0)


def bench_single(dl: Any, df: Any, epochs: int) -> dict[str, Any]:
    """One ``dnn`` fit (its configuration already traced, as in the other two variants)."""
    seconds, fit = common.timed(lambda: dl.dnn("y ~ .", df, **options(epochs)))
    return {"tool": "one dlstat dnn", "seconds": seconds, "deviance": fit.record.deviance}


def bench_stack(dl: Any, df: Any, epochs: int, B: int) -> tuple[dict[str, Any], Any]:
    """``dnn(bootstrap=B)``: the whole call (designs, one engine call, B + 1 fits)."""
    seconds, fit = common.timed(lambda: dl.dnn("y ~ .", df, bootstrap=B, **options(epochs)))
    t_eff, effects = common.timed(fit.effects)
    return {"tool": f"dlstat dnn(bootstrap={B})", "seconds": seconds, "effects_seconds": t_eff,
            "se_x1": float(effects.tidy()["std.error"].iloc[0])}, fit


def bench_loop(dl: Any, df: Any, epochs: int, B: int) -> dict[str, Any]:
    """B ``dnn`` fits on case-resampled frames (the same resamples and initialisation seeds as
    the stack's replicates)."""
    from dlstat.results.bootstrap import replicate_seed, resample_counts

    times, slopes = [], []
    for b in range(1, B + 1):
        rows = np.repeat(np.arange(len(df)), resample_counts(SEED, b, len(df)).astype(int))
        sample = df.iloc[rows].reset_index(drop=True)
        settings = {**options(epochs), "seed": replicate_seed(SEED, b)}
        seconds, fit = common.timed(lambda s=sample: dl.dnn("y ~ .", s, **settings))
        times.append(seconds)
        slopes.append(fit.effects().tidy()["estimate"].iloc[0])
    return {"tool": f"loop of {B} dlstat dnn", "seconds": float(sum(times)),
            "fit_seconds": times, "se_x1": float(np.std(slopes, ddof=1))}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the three variants, print seconds and ratios, write the JSON result file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: n=300, 3 epochs, B=10")
    args = parser.parse_args(argv)
    n, epochs, B = (300, 3, 10) if args.quick else (1_000, 30, 50)
    out = "bootstrap_quick.json" if args.quick else "bootstrap.json"
    data = common.make_regression_data(n=n, p=20, seed=0)
    df = common.to_frame(data.X, data.y)

    info = common.machine_info()
    load_start = common.load_average()
    print(f"machine: {info['cpu_usable']} CPUs ({info['cpu_model']}), TF {info['tensorflow']}")
    print(f"data: n={n}, p=20; model {HIDDEN} relu, adam, batch {BATCH}, {epochs} epochs, B={B}\n")
    import dlstat as dl

    warm = common.warm_up_dlstat(df)
    # Trace the configuration untimed (for one network and for the stack), so every variant
    # times training, not tracing.
    dl.dnn("y ~ .", df.iloc[:64], **options(1))
    dl.dnn("y ~ .", df.iloc[:64], bootstrap=B, **options(1))
    gc.collect()
    one = bench_single(dl, df, epochs)
    gc.collect()
    stack, _ = bench_stack(dl, df, epochs, B)
    gc.collect()
    loop = bench_loop(dl, df, epochs, B)

    print(f"{'variant':<32}{'seconds':>10}")
    for r in (one, stack, loop):
        print(f"{r['tool']:<32}{r['seconds']:>10.2f}")
    ratios = {"bootstrap_vs_one_fit": common.ratio(stack["seconds"], one["seconds"]),
              "loop_vs_bootstrap": common.ratio(loop["seconds"], stack["seconds"])}
    print(f"\nbootstrap={B} / one fit: {common.fmt(ratios['bootstrap_vs_one_fit'], '.1f')}× "
          "(target ≤ 10×)")
    print(f"loop of {B} / bootstrap={B}: {common.fmt(ratios['loop_vs_bootstrap'], '.1f')}× "
          "(target ≥ 5×)")
    print(f"effects() of the bootstrapped fit: {stack['effects_seconds']:.2f} s; bootstrap SE of "
          f"x1's effect: stack {stack['se_x1']:.4f}, loop {loop['se_x1']:.4f}")
    report = {
        "benchmark": "bootstrap",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config": {"n": n, "p": 20, "hidden": list(HIDDEN), "batch_size": BATCH,
                   "epochs": epochs, "bootstrap": B, "seed": SEED, "quick": args.quick,
                   "warm_up_s": warm},
        "machine": info,
        "results": [one, stack, loop],
        "ratios": ratios,
        "targets_met": {"at_most_10x_one_fit": bool(ratios["bootstrap_vs_one_fit"] <= 10),
                        "at_least_5x_faster_than_loop": bool(ratios["loop_vs_bootstrap"] >= 5)},
    }
    return common.finish_report(report, info, load_start, out)


if __name__ == "__main__":
    main()
