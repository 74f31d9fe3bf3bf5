"""Side-by-side training speed: dlstat vs Keras 3 ``model.fit`` vs scikit-learn MLPRegressor.

All tools fit the same MLP (hidden (64, 64) ReLU, Adam lr 1e-3, batch 256, MSE)
on the same standardized simulated data and report wall times from one run.

Usage::

    .venv/bin/python benchmarks/bench_core.py            # n=20,000, 20 epochs
    .venv/bin/python benchmarks/bench_core.py --quick    # n=2,000, 3 epochs (smoke test)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # benchmarks/ (for common) and the repo root (for dlstat)
import common  # noqa: E402  (sets TF_CPP_MIN_LOG_LEVEL before TensorFlow loads)

HIDDEN = (64, 64)
LR = 1e-3
BATCH = 256
SEED = 1


@dataclass
class Result:
    """Timings for one tool; ``error`` is set when the tool could not run."""

    tool: str
    whole_fit_s: Optional[float] = None
    steady_epoch_s: Optional[float] = None
    final_loss: Optional[float] = None
    note: str = ""
    error: Optional[str] = None
    warm_fit_s: Optional[float] = None  # dlstat: a whole fit in a warm process (traced already)


def bench_mlp(X: Any, y: Any, epochs: int) -> Result:
    """scikit-learn MLPRegressor: whole-fit wall time (no compile step, so steady epoch = whole / epochs)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    model = MLPRegressor(
        hidden_layer_sizes=HIDDEN, activation="relu", solver="adam", alpha=0.0,
        batch_size=BATCH, learning_rate_init=LR, max_iter=epochs, tol=0.0,
        n_iter_no_change=10**9, early_stopping=False, shuffle=True, random_state=SEED,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        seconds, _ = common.timed(lambda: model.fit(X, y))
    assert model.n_iter_ == epochs, f"MLPRegressor stopped after {model.n_iter_} epochs"
    # sklearn's loss_ is 0.5 * MSE (alpha=0), so report 2 * loss_ as MSE.
    return Result("sklearn MLPRegressor", seconds, seconds / epochs, 2.0 * model.loss_, "steady = whole / epochs")


def bench_keras(X: Any, y: Any, epochs: int) -> Result:
    """Keras 3 Sequential + ``fit``: whole time incl. build/compile; steady = median epoch wall time of epochs 2..E."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        """Records the wall time of every epoch."""

        def __init__(self) -> None:
            super().__init__()
            self.times: list[float] = []

        def on_epoch_begin(self, epoch: int, logs: Optional[dict] = None) -> None:
            self._t0 = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
            self.times.append(time.perf_counter() - self._t0)

    def fit() -> keras.callbacks.History:
        keras.utils.set_random_seed(SEED)
        model = keras.Sequential(
            [keras.Input((X.shape[1],))]
            + [keras.layers.Dense(units, activation="relu") for units in HIDDEN]
            + [keras.layers.Dense(1)]
        )
        model.compile(optimizer=keras.optimizers.Adam(LR), loss="mse")
        return model.fit(X, y, batch_size=BATCH, epochs=epochs, verbose=0, shuffle=True, callbacks=[timer])

    timer = EpochTimer()
    seconds, history = common.timed(fit)
    steady = statistics.median(timer.times[1:]) if epochs > 1 else None
    return Result("Keras 3 model.fit", seconds, steady, float(history.history["loss"][-1]),
                  "steady = median epoch 2..E (callback)")


def bench_dlstat(df: Any, epochs: int, repeats: int = 2) -> Result:
    """dlstat ``dnn``: whole time of the first (cold) call; steady epoch from the difference of two warm fits.

    The epoch loop runs inside one compiled graph, so steady epoch time is
    ``(t(E epochs) - t(S epochs)) / (E - S)`` with S = 5 (1 when E < 10); each
    warm time is the best of ``repeats`` runs.
    """
    name = "dlstat dnn"
    try:
        import dlstat as dl

        dnn = dl.dnn
    except Exception as exc:  # ImportError, AttributeError, or anything raised at import
        return Result(name, error=f"not available ({type(exc).__name__}: {exc})")

    def fit(n_epochs: int) -> Any:
        return dnn("y ~ .", data=df, hidden=HIDDEN, activation="relu", optimizer="adam", learning_rate=LR,
                   batch_size=BATCH, epochs=n_epochs, seed=SEED, verbose=0)

    try:
        seconds, result = common.timed(lambda: fit(epochs))
        history = result.history
        if len(history) != epochs:
            raise RuntimeError(f"history has {len(history)} rows, expected {epochs}")
        short = 5 if epochs >= 10 else 1
        steady = None
        if epochs > short:
            t_long = common.best_of(lambda: fit(epochs), repeats)
            t_short = common.best_of(lambda: fit(short), repeats)
            steady = (t_long - t_short) / (epochs - short)
        return Result(name, seconds, steady, float(history["loss"].iloc[-1]),
                      f"steady = (t({epochs}) - t({short})) / {epochs - short}, warm, best of {repeats}",
                      warm_fit_s=t_long if epochs > short else None)
    except Exception as exc:
        return Result(name, error=f"failed ({type(exc).__name__}: {exc})")


def fmt_ratio(x: Optional[float]) -> str:
    """Format a speed-up ``x`` as "X.X× faster" (or "0.XX× (i.e. Y× slower)" when x < 1)."""
    if x is None:
        return "n/a"
    return f"{x:.1f}× faster" if x >= 1 else f"{x:.2f}× (i.e. {1 / x:.1f}× slower)"


def ratio(num: Optional[float], den: Optional[float]) -> Optional[float]:
    """``num / den`` or None when either is missing or den is not positive."""
    return num / den if num is not None and den is not None and den > 0 else None


def fmt(x: Optional[float], spec: str = ".3f") -> str:
    """Format a number, or "n/a"."""
    return "n/a" if x is None else format(x, spec)


def main(argv: Optional[list[str]] = None) -> dict[str, Any]:
    """Run all benchmarks, print the table and ratios, write the JSON result file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: n=2,000, 3 epochs")
    parser.add_argument("--no-dlstat", action="store_true", help="run only the baselines")
    parser.add_argument("--out", default=None, help="result file name under benchmarks/results/ "
                        "(default core.json, or core_quick.json with --quick)")
    args = parser.parse_args(argv)
    n, epochs = (2_000, 3) if args.quick else (20_000, 20)
    out = args.out or ("core_quick.json" if args.quick else "core.json")

    data, X, df = common.benchmark_frame(n)  # every tool sees the same standardized features

    info = common.machine_info()
    print(f"machine: {info['cpu_usable']} CPUs ({info['cpu_model']}), TF {info['tensorflow']}, "
          f"Keras {info['keras']}, sklearn {info['sklearn']}")
    gflops = common.matmul_gflops()
    print(f"float32 matmul [64,256,64]x[64,64]: {gflops:.1f} GFLOP/s")
    print(f"load average: {common.load_average()}")
    print(f"data: n={n}, p=20; model {HIDDEN} relu, adam lr={LR}, batch {BATCH}, {epochs} epochs\n")

    results = [bench_mlp(X, data.y, epochs), bench_keras(X, data.y, epochs)]
    results.append(Result("dlstat dnn", error="skipped (--no-dlstat)") if args.no_dlstat
                   else bench_dlstat(df, epochs))

    print(f"{'tool':<22}{'whole fit s':>13}{'steady epoch s':>16}{'final loss':>12}")
    for r in results:
        if r.error:
            print(f"{r.tool.split()[0] + ':':<22}{r.error}")
        else:
            print(f"{r.tool:<22}{fmt(r.whole_fit_s):>13}{fmt(r.steady_epoch_s, '.4f'):>16}"
                  f"{fmt(r.final_loss, '.4f'):>12}")
    print()

    mlp, keras_r, dls = results
    ratios = {
        "dlstat_steady_epoch_vs_keras": ratio(keras_r.steady_epoch_s, dls.steady_epoch_s),
        "dlstat_whole_fit_vs_mlp": ratio(mlp.whole_fit_s, dls.whole_fit_s),
        "dlstat_warm_fit_vs_mlp": ratio(mlp.whole_fit_s, dls.warm_fit_s),
        "dlstat_whole_fit_vs_keras": ratio(keras_r.whole_fit_s, dls.whole_fit_s),
    }
    print(f"dlstat steady epoch vs Keras fit: {fmt_ratio(ratios['dlstat_steady_epoch_vs_keras'])} (target ≥ 5×)")
    print(f"dlstat whole fit (warm process) vs MLPRegressor: "
          f"{fmt_ratio(ratios['dlstat_warm_fit_vs_mlp'])} (target ≥ 1.5×)")
    print(f"dlstat first (cold) fit vs MLPRegressor: {fmt_ratio(ratios['dlstat_whole_fit_vs_mlp'])}")
    print(f"dlstat whole fit vs Keras fit: {fmt_ratio(ratios['dlstat_whole_fit_vs_keras'])}")

    report = {
        "benchmark": "core",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config": {"n": n, "p": 20, "hidden": list(HIDDEN), "learning_rate": LR, "batch_size": BATCH,
                   "epochs": epochs, "seed": SEED, "quick": args.quick},
        "machine": {**info, "matmul_gflops": gflops, "load_average": common.load_average()},
        "results": [asdict(r) for r in results],
        "ratios": ratios,
    }
    path = common.write_json(report, out)
    print(f"\nwrote {path}")
    return report


if __name__ == "__main__":
    main()
