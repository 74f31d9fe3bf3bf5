"""Coverage of prediction intervals and sets on simulated data with a known truth.

R data sets (default 10) of n = 400 training rows and 2,000 test rows each:

* regression: y = 2 sin(x1) + x2 + N(0, 1) (x1, x2 standard normal); a network
  hidden=(8,), 30 epochs, with split conformal (validation=0.25), jackknife+-after-bootstrap
  (bootstrap=20) and CV+ (cv_dnn, 10 folds); the gaussian GLM's predict.lm interval (a
  misspecified linear model: its coverage is not guaranteed);
* classification: three classes from a multinomial logit in x1, x2; LAC sets with the same
  three conformal methods.

Nominal level 90%.  The table gives the mean coverage over the data sets, its standard error
(sd over data sets / √R, which includes the calibration rows' randomness) and the binomial SE of
the pooled test rows alone, the mean width (set size) and the seconds per data set.

Usage::

    .venv/bin/python benchmarks/bench_conformal.py            # R = 10
    .venv/bin/python benchmarks/bench_conformal.py --quick    # R = 2
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
import common  # noqa: E402,F401  (sets TF_CPP_MIN_LOG_LEVEL before TensorFlow loads)

LEVEL, N_TRAIN, N_TEST = 0.9, 400, 2000
NET = dict(hidden=(8,), epochs=30, verbose=0)


def regression(n: int, rng: np.random.Generator) -> pd.DataFrame:
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "y": 2 * np.sin(x1) + x2 + rng.normal(size=n)})


def classes(n: int, rng: np.random.Generator) -> pd.DataFrame:
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    eta = np.column_stack([np.zeros(n), 1.5 * x1, x2 - x1])
    p = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    y = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    return pd.DataFrame({"x1": x1, "x2": x2, "y": pd.Categorical(np.array(list("abc"))[y])})


def predictors(dl, train: pd.DataFrame, seed: int, sets: bool):
    """(method, predict(test) -> frame) for each method."""
    kw = dict(type="set") if sets else dict(interval="prediction")
    split = dl.dnn("y ~ x1 + x2", train, validation=0.25, seed=seed, **NET)
    boot = dl.dnn("y ~ x1 + x2", train, bootstrap=20, seed=seed, **NET)
    cv = dl.cv_dnn("y ~ x1 + x2", train, folds=10, seed=seed, **NET)
    out = [("split conformal", lambda t: split.predict(t, level=LEVEL, **kw)),
           ("jackknife+-after-bootstrap", lambda t: boot.predict(t, level=LEVEL, **kw)),
           ("CV+", lambda t: cv.predict(t, level=LEVEL, **kw))]
    if not sets:
        glm = dl.dnn("y ~ x1 + x2", train, hidden=(), optimizer="lbfgs", verbose=0)
        out.append(("predict.lm (linear GLM)", lambda t: glm.predict(t, level=LEVEL, **kw)))
    return out


def scored(frame: pd.DataFrame, test: pd.DataFrame, sets: bool) -> tuple[np.ndarray, float]:
    if sets:
        member = frame.to_numpy(dtype=bool)
        return member[np.arange(len(test)), test["y"].cat.codes.to_numpy()], member.sum(1).mean()
    y = test["y"].to_numpy()
    return ((frame["lwr"] <= y) & (y <= frame["upr"])).to_numpy(), (frame["upr"] -
                                                                     frame["lwr"]).mean()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    repeats = 2 if args.quick else args.repeats
    import dlstat as dl

    rows = []
    for task, make, sets in (("regression", regression, False), ("classes", classes, True)):
        found: dict[str, list] = {}
        for rep in range(repeats):
            rng = np.random.default_rng(1000 + rep)
            train, test = make(N_TRAIN, rng), make(N_TEST, rng)
            start = time.perf_counter()
            for method, predict in predictors(dl, train, rep, sets):
                hit, size = scored(predict(test), test, sets)
                found.setdefault(method, []).append((hit.mean(), size))
            found.setdefault("_seconds", []).append(time.perf_counter() - start)
        seconds = float(np.mean(found.pop("_seconds")))
        for method, values in found.items():
            cover = np.array([v[0] for v in values])
            rows.append({"task": task, "method": method, "data sets": repeats,
                         "coverage": cover.mean(),
                         "SE (data sets)": cover.std(ddof=1) / np.sqrt(repeats),
                         "SE (binomial, pooled)": np.sqrt(LEVEL * (1 - LEVEL) /
                                                          (repeats * N_TEST)),
                         "width / set size": np.mean([v[1] for v in values]),
                         "s per data set (all methods)": seconds})
    table = pd.DataFrame(rows)
    print(f"Nominal coverage {LEVEL:.0%}; n = {N_TRAIN} training, {N_TEST} test rows per "
          "data set")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
