"""``compare()``: the null model, the GLM and networks on the same folds, side by side."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .dnn import call_text
from .blocks import Network, train_blocks
from ..engine import forward
from ..errors import OptionTypeError
from ..families import Family
from ..options import FitOptions
from ..progress import progress_bar
from .baselines import glm_means, null_means
from .cv import fold_blocks, held_out, plan_folds

_SKIP = ("model", "repeat", "fold", "n_test")


@dataclass
class Comparison:
    """Held-out metrics of every model on every fold, summarised with paired differences."""

    call: str
    family: Family
    folds: pd.DataFrame  # one row per (model, repeat, fold)
    notes: list[str]

    @property
    def table(self) -> pd.DataFrame:
        """mean and SE (sd/√folds) of each metric per model."""
        metrics = [c for c in self.folds.columns if c not in _SKIP and c != "deviance"]
        g = self.folds.groupby("model", sort=False)[metrics]
        n = g.size().to_numpy()[:, None]
        mean, se = g.mean(), g.std(ddof=1) / np.sqrt(n)
        return pd.concat({"mean": mean, "se": se}, axis=1).swaplevel(axis=1).sort_index(
            axis=1, level=0, sort_remaining=False)[metrics]

    @property
    def differences(self) -> pd.DataFrame:
        """Each model minus the GLM, paired by fold: mean difference, its SE, and t = mean/SE."""
        metrics = [c for c in self.folds.columns if c not in _SKIP and c != "deviance"]
        wide = self.folds.set_index(["model", "repeat", "fold"])[metrics]
        glm = wide.xs("glm", level="model")
        rows = []
        for model in self.folds["model"].unique():
            if model == "glm":
                continue
            diff = wide.xs(model, level="model") - glm
            for metric in metrics:
                d = diff[metric].dropna()
                se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else np.nan
                rows.append({"model": model, "metric": metric, "difference": d.mean(),
                             "se": se, "t": d.mean() / se if se and se > 0 else np.nan})
        return pd.DataFrame(rows)

    def winner(self, metric: str = "mean_deviance") -> str:
        """The model with the best mean of ``metric`` (lowest, or highest for scores)."""
        means = self.folds.groupby("model", sort=False)[metric].mean()
        higher = metric in ("accuracy", "auc", "r_squared")
        return str(means.idxmax() if higher else means.idxmin())

    def __repr__(self) -> str:
        k = self.folds["fold"].nunique()
        main = "mean_deviance"
        t = self.table
        lines = [f"Comparison on the same {k} folds", f"Call: {self.call}",
                 f"Family: {self.family.name}", "",
                 t.to_string(float_format=lambda v: f"{v:.4g}"), "",
                 "Paired differences against the GLM (negative deviance = better than the GLM):",
                 self.differences[self.differences["metric"].isin(
                     [main, self.family.main_metric])].to_string(
                     index=False, float_format=lambda v: f"{v:.4g}"),
                 "", f"Best mean held-out deviance: {self.winner(main)}"]
        if self.notes:
            lines += ["", "Notes:"] + [f"[{i}] {n}" for i, n in enumerate(self.notes, 1)]
        return "\n".join(lines)

    def plot(self, metric: str = "mean_deviance", ax=None):
        """Mean ± SE of ``metric`` per model; returns the Figure."""
        import matplotlib.pyplot as plt

        fig, ax = (plt.subplots(figsize=(6, 4)) if ax is None else (ax.figure, ax))
        t = self.table[metric]
        ax.errorbar(range(len(t)), t["mean"], yerr=t["se"], fmt="o", capsize=4)
        ax.set_xticks(range(len(t)), t.index)
        ax.set_ylabel(f"held-out {metric} (mean ± SE)")
        return fig


def compare(formula: str, data: pd.DataFrame, folds: int = 10,
            models: dict[str, dict[str, Any]] | None = None, stratify: str | None = None,
            groups: str | None = None, foldid: Any = None, seed: int | None = None,
            **options: Any) -> Comparison:
    """Fit the null model, the GLM (statsmodels) and networks on the same folds.

    ``models`` maps names to option dicts for networks (each merged over ``**options``);
    default: one network named ``"dnn"`` with ``**options``.
    """
    options.setdefault("verbose", 1)
    base = FitOptions.from_kwargs(seed=seed, **options)
    if models is not None and not isinstance(models, dict):
        raise OptionTypeError(f"models must map names to option dicts, e.g. "
                              f"{{'small': {{'hidden': (8,)}}}}; got {type(models).__name__}.")
    models = models or {"dnn": {}}
    plan = plan_folds(formula, data, base, folds, 1, stratify, groups, foldid, seed)
    rows: list[dict[str, Any]] = []
    bar = progress_bar(base.verbose, len(plan.splits) * (1 + len(models)), "compare")
    blocks = fold_blocks(formula, data, plan, base, bar)
    tests = []
    notes = list(plan.notes)
    for (r, k), block in zip(plan.splits, blocks):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            X, y, _ = block.evaluate(held_out(data, plan, r, k), unseen="na")
        tests.append((X, y))
        glm_mu, note = glm_means(block, X)
        if note and note not in notes:
            notes.append(note)
        for name, mu in (("null", null_means(block, len(X))), ("glm", glm_mu)):
            rows.append({"model": name, "repeat": r + 1, "fold": k + 1, "n_test": len(X),
                         **block.family.metrics(y, mu)})
    for name, extra in models.items():
        opts = FitOptions.from_kwargs(**{**options, "seed": seed, **extra})
        model_blocks = blocks if _same_design(opts, base) else fold_blocks(formula, data,
                                                                           plan, opts)
        fits = train_blocks(model_blocks, [Network(i, opts.penalty, opts.mixture,
                                                   opts.seed_value)
                                           for i in range(len(model_blocks))],
                            opts, call="", formula=formula)
        for (r, k), block, fit, (X, y) in zip(plan.splits, model_blocks, fits, tests):
            mu = block.family.mean(forward(fit.params, fit.topology, X))
            rows.append({"model": name, "repeat": r + 1, "fold": k + 1, "n_test": len(X),
                         **block.family.metrics(y, mu)})
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    call = call_text("compare", formula, base, extra=_folds_text(folds, foldid))
    return Comparison(call, plan.family, pd.DataFrame(rows), notes)


def _folds_text(folds: int, foldid: Any) -> str:
    return "foldid=<given>" if foldid is not None else f"folds={folds}"


def _same_design(a: FitOptions, b: FitOptions) -> bool:
    """Blocks can be shared when centring and validation splitting are the same."""
    return (bool(a.layers) == bool(b.layers) and a.validation is b.validation
            and a.seed_value == b.seed_value)
