"""Coverage of the bootstrap intervals of a network's average effects, on simulated data with a
known truth (issue 22, item 1).

Three processes, x's independent Uniform(-2, 2), a network ``hidden=(16,)`` with
``bootstrap=B``, effects per variable as marginaleffects' ``avg_slopes()`` /
``avg_comparisons()`` define them (response scale, averaged over the training rows):

* ``nonlinear``: y = sin(x1) + 0.5 x2^2 + x3 + N(0, 0.5^2), n = 200 (the issue's);
  truth: mean cos(x1), mean x2, 1;
* ``interaction``: y = x1 + 0.5 x2 + x1 x2 + (g = b)(1 + 0.5 x1) + N(0, 0.5^2) with g in
  {a, b}, n = 200; truth: mean(1 + x2 + 0.5 [g = b]), mean(0.5 + x1), the contrast b - a
  mean(1 + 0.5 x1);
* ``binomial``: logit p = x1 + 0.5 x2^2 - 0.5, n = 300; truth: mean p(1 - p),
  mean p(1 - p) x2.

The truth is each data set's *sample* average of the true derivative (contrast) over its own
rows: the quantity ``effects()`` estimates, whose replicates average over the same rows (as
marginaleffects' delta method holds the rows fixed).  Settings:

* ``recommended`` (the default): ``optimizer="lbfgs", penalty=1e-3`` (full batch, to
  convergence, 1000 iterations, a little weight decay), the library's intervals
  (``fit.effects().tidy()``: boot.ci's percentile rule);
* ``lbfgs-unpenalised``: ``optimizer="lbfgs"`` alone (over-fits: a binomial network's effects
  vary 4-5 times more between data sets than with the weight decay);
* ``adam-100``: the defaults (Adam, 100 epochs); their intervals are now refused as not
  converged, so the percentile intervals are rebuilt from the replicates here.

Besides the library's intervals, each rule's coverage from the same replicates:
``percentile``, ``basic`` and ``normal`` as R's ``boot.ci`` types "perc", "basic" and "norm"
(the last centred on the estimate less the replicates' bias), and ``type-7``: NumPy's default
quantile (R's type 7, the rule before boot.ci's; it sits inside boot.ci's order statistics, so
with B = 30 a nominal 0.90 interval holds a new replicate with probability about 0.84).

Printed per process, setting and variable: coverage at nominal 0.90 and 0.95 over R data sets
with the binomial SE sqrt(p(1-p)/R) at the nominal p (a refused interval, NaN because the fit
was not converged, counts as not covering; ``refused`` says how many data sets the library
refused, also for ``adam-100`` whose rebuilt intervals are counted), the mean estimate
against the mean truth,
and the mean bootstrap SE against the sd of (estimate - truth) over the data sets.

Usage::

    .venv/bin/python benchmarks/bench_coverage.py                 # R = 12, B = 30
    .venv/bin/python benchmarks/bench_coverage.py --quick         # R = 2, B = 10 (smoke)
    # on two cores, one process each, then the table of all three:
    .venv/bin/python benchmarks/bench_coverage.py --processes binomial --out /tmp/b.json
    .venv/bin/python benchmarks/bench_coverage.py --merge /tmp/n.json /tmp/i.json /tmp/b.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
import common  # noqa: E402  (sets TF_CPP_MIN_LOG_LEVEL before TensorFlow loads)

LEVELS = (0.9, 0.95)
HIDDEN = (16,)
SETTINGS = {"recommended": dict(optimizer="lbfgs", penalty=1e-3),
            "lbfgs-unpenalised": dict(optimizer="lbfgs"), "adam-100": dict()}


def nonlinear(rng: np.random.Generator, n: int = 200):
    x = rng.uniform(-2, 2, (n, 3))
    y = np.sin(x[:, 0]) + 0.5 * x[:, 1] ** 2 + x[:, 2] + rng.normal(0, 0.5, n)
    frame = pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2], "y": y})
    truth = {"x1": np.cos(x[:, 0]).mean(), "x2": x[:, 1].mean(), "x3": 1.0}
    return "y ~ x1 + x2 + x3", frame, truth, {}


def interaction(rng: np.random.Generator, n: int = 200):
    x = rng.uniform(-2, 2, (n, 2))
    b = rng.random(n) < 0.5
    y = (x[:, 0] + 0.5 * x[:, 1] + x[:, 0] * x[:, 1] + b * (1 + 0.5 * x[:, 0])
         + rng.normal(0, 0.5, n))
    frame = pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "g": np.where(b, "b", "a"), "y": y})
    truth = {"x1": (1 + x[:, 1] + 0.5 * b).mean(), "x2": (0.5 + x[:, 0]).mean(),
             "g b - a": (1 + 0.5 * x[:, 0]).mean()}
    return "y ~ x1 + x2 + g", frame, truth, {}


def binomial(rng: np.random.Generator, n: int = 300):
    x = rng.uniform(-2, 2, (n, 2))
    p = 1 / (1 + np.exp(-(x[:, 0] + 0.5 * x[:, 1] ** 2 - 0.5)))
    frame = pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "y": (rng.random(n) < p).astype(int)})
    truth = {"x1": (p * (1 - p)).mean(), "x2": (p * (1 - p) * x[:, 1]).mean()}
    return "y ~ x1 + x2", frame, truth, {"family": "binomial"}


PROCESSES = {"nonlinear": nonlinear, "interaction": interaction, "binomial": binomial}


def labels(table: pd.DataFrame) -> list[str]:
    """``x1`` for a slope, ``g b - a`` for a contrast."""
    return [t if c == "dY/dX" else f"{t} {c}" for t, c in zip(table["term"], table["contrast"])]


def replicate_effects(fit) -> np.ndarray:
    """Each replicate's effects [B, effects] (the same at every level)."""
    return np.array([r.effects().tidy()["estimate"].to_numpy() for r in fit.bootstrap.fits])


def intervals(fit, setting: str, level: float, draws: np.ndarray) -> pd.DataFrame:
    """Estimate, SE and the interval of each effect: the library's (converged settings), or
    the percentile interval of the replicates rebuilt by hand (the old, unconverged defaults,
    whose intervals the library refuses); ``draws``: each effect's replicates, from which
    :func:`summarise` builds every rule's interval."""
    tidy = fit.effects(level=level).tidy()
    out = pd.DataFrame({"effect": labels(tidy), "estimate": tidy["estimate"].to_numpy(),
                        "refused": tidy["conf.low"].isna().to_numpy()})
    out = out.assign(draws=list(draws.T))
    if setting != "adam-100":
        return out.assign(se=tidy["std.error"].to_numpy(), low=tidy["conf.low"].to_numpy(),
                          high=tidy["conf.high"].to_numpy())
    from dlstat.results.bootstrap import percentile_interval

    low, high = percentile_interval(draws, level)
    return out.assign(se=draws.std(axis=0, ddof=1), low=low, high=high)


def run(dl, repeats: int, B: int, settings: list[str], processes: list[str]) -> list[dict]:
    """One row per process, setting, data set and effect."""
    rows = []
    for name in processes:
        for rep in range(repeats):
            formula, frame, truth, extra = PROCESSES[name](np.random.default_rng([22, rep]))
            for setting in settings:
                start = time.perf_counter()
                fit = dl.dnn(formula, frame, hidden=HIDDEN, bootstrap=B, seed=rep, verbose=0,
                             **extra, **SETTINGS[setting])
                seconds = time.perf_counter() - start
                draws = replicate_effects(fit)
                for level in LEVELS:
                    for _, r in intervals(fit, setting, level, draws).iterrows():
                        rows.append({"process": name, "setting": setting, "data_set": rep,
                                     "effect": r["effect"], "level": level,
                                     "truth": float(truth[r["effect"]]),
                                     "estimate": r["estimate"], "se": r["se"],
                                     "low": r["low"], "high": r["high"],
                                     "draws": [float(v) for v in r["draws"]],
                                     "refused": bool(r["refused"]),
                                     "seconds": seconds})
            print(f"{name} data set {rep + 1}/{repeats} done", file=sys.stderr, flush=True)
    return rows


RULES = ("percentile", "basic", "normal", "type-7")


def rule_intervals(estimate: float, draws: np.ndarray, level: float) -> dict[str, tuple]:
    """The interval of each rule from one effect's replicates, as boot.ci's types "perc",
    "basic" and "norm" (bias-corrected normal) define them, and NumPy's default quantile."""
    from scipy import stats

    from dlstat.results.bootstrap import percentile_interval

    low, high = (float(v[0]) for v in percentile_interval(draws[:, None], level))
    half = stats.norm.ppf((1 + level) / 2) * draws.std(ddof=1)
    centre = 2 * estimate - draws.mean()  # the estimate less the replicates' bias
    q7 = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return {"percentile": (low, high), "basic": (2 * estimate - high, 2 * estimate - low),
            "normal": (centre - half, centre + half), "type-7": tuple(q7)}


def summarise(rows: list[dict]) -> pd.DataFrame:
    """Coverage per process, setting, effect and level (the library's intervals, and each
    rule of :func:`rule_intervals` from the same replicates; a refused interval covers
    nothing), with its binomial SE and the bias and spread of the estimates."""
    frame = pd.DataFrame(rows)
    frame["covered"] = (frame["low"] <= frame["truth"]) & (frame["truth"] <= frame["high"])
    for rule in RULES:
        ends = [rule_intervals(e, np.asarray(d), lv)[rule]
                for e, d, lv in zip(frame["estimate"], frame["draws"], frame["level"])]
        low, high = np.array(ends).T
        frame[rule] = (low <= frame["truth"]) & (frame["truth"] <= high) & ~frame["refused"]
    out = []
    for (process, setting, effect, level), g in frame.groupby(
            ["process", "setting", "effect", "level"], sort=False):
        R = len(g)
        error = g["estimate"] - g["truth"]
        out.append({"process": process, "setting": setting, "effect": effect, "level": level,
                    "R": R, "refused": int(g["refused"].sum()),
                    "coverage": g["covered"].mean(),
                    **{f"{rule} coverage": g[rule].mean() for rule in RULES},
                    "binomial SE": np.sqrt(level * (1 - level) / R),
                    "mean estimate": g["estimate"].mean(), "mean truth": g["truth"].mean(),
                    "mean SE": g["se"].mean(), "sd(estimate - truth)": error.std(ddof=1),
                    "s per fit": g["seconds"].mean()})
    return pd.DataFrame(out)


def pooled(table: pd.DataFrame) -> pd.DataFrame:
    """Coverage pooled over the effects of each process (and over all), per setting and
    level, with the binomial SE of the pooled intervals."""
    out = []
    for (setting, level), g in table.groupby(["setting", "level"], sort=False):
        for process, h in [*g.groupby("process", sort=False), ("all", g)]:
            n = int(h["R"].sum())
            out.append({"setting": setting, "level": level, "process": process,
                        "intervals": n, "coverage": (h["coverage"] * h["R"]).sum() / n,
                        **{f"{rule} coverage": (h[f"{rule} coverage"] * h["R"]).sum() / n
                           for rule in RULES},
                        "binomial SE": np.sqrt(level * (1 - level) / n)})
    return pd.DataFrame(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=12)
    parser.add_argument("--bootstrap", type=int, default=30)
    parser.add_argument("--settings", nargs="+", default=["recommended"], choices=SETTINGS)
    parser.add_argument("--processes", nargs="+", default=list(PROCESSES))
    parser.add_argument("--out", default=str(common.RESULTS_DIR / "coverage.json"))
    parser.add_argument("--merge", nargs="+", help="results of runs on other processes: "
                        "print and write (--out) their joint table")
    args = parser.parse_args()
    if args.merge:
        return merge(args.merge, args.out)
    repeats, B = (2, 10) if args.quick else (args.repeats, args.bootstrap)
    import dlstat as dl

    start = time.perf_counter()
    rows = run(dl, repeats, B, args.settings, args.processes)
    table = summarise(rows)
    total = time.perf_counter() - start
    pool = pooled(table)
    with pd.option_context("display.width", 200):
        print(f"R = {repeats} data sets per process, B = {B} replicates, hidden = {HIDDEN}; "
              f"truth: the sample average over each data set's rows; {total:.0f} s in all")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print(pool.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if not args.quick:
        Path(args.out).write_text(json.dumps({
            "repeats": repeats, "bootstrap": B, "hidden": list(HIDDEN), "seconds": total,
            "settings": {k: SETTINGS[k] for k in args.settings},
            "machine": common.machine_info(),
            "table": table.to_dict("records"), "pooled": pool.to_dict("records"),
            "rows": rows}, default=float))


def merge(paths: list[str], out: str) -> None:
    """One table (and pooled coverage) from runs on separate processes; their times add."""
    runs = [json.loads(Path(p).read_text()) for p in paths]
    table = summarise([row for run in runs for row in run["rows"]])
    pool = pooled(table)
    with pd.option_context("display.width", 200):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print(pool.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    first = runs[0]
    Path(out).write_text(json.dumps({
        **{k: first[k] for k in ("repeats", "bootstrap", "hidden", "settings", "machine")},
        "seconds": sum(run["seconds"] for run in runs), "merged": paths,
        "table": table.to_dict("records"), "pooled": pool.to_dict("records"),
        "rows": [row for run in runs for row in run.get("rows", [])]}, default=float))


if __name__ == "__main__":
    main()
