"""``compare()``: the null model, the GLM and networks on the same folds, side by side."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..options import COMPARE, FitOptions, check_arguments, model_options, refuse_bootstrap
from ..progress import progress_bar
from ..results.comparison import Comparison
from ..results.fit import DNNFit
from .arrays import refuse_array_data
from .baselines import glm_means, null_means
from .blocks import Block, Network, train_blocks
from .cv import FoldPlan, fold_blocks, held_out, plan_folds
from .dnn import call_text
from .priors import attach_priors
from .resolve import fit_options


def compare(formula: str, data: pd.DataFrame, folds: int = 10,
            models: dict[str, dict[str, Any]] | None = None, stratify: str | None = None,
            groups: str | None = None, foldid: Any = None, seed: int | None = None,
            weights: Any = None, offset: Any = None, client: Any = None,
            **options: Any) -> Comparison:
    """Fit the null model, the GLM (statsmodels) and networks on the same folds.

    ``models`` maps names to option dicts for networks (each merged over ``**options``);
    default: one network named ``"dnn"`` with ``**options``.  ``weights`` and ``offset``
    (dnn()'s) apply to every model, the null model and the GLM included.  ``client`` (a Dask
    client or scheduler address) trains the networks on a cluster (:mod:`dlstat.scale`).

    Parameters
    ----------
    formula : str
        An R-style formula, as for :func:`dlstat.dnn`; the GLM uses the same design.
    data : pandas.DataFrame
        The data; never modified.

    Returns
    -------
    Comparison
        Held-out metrics of every model on every fold, their means and SEs, and paired
        differences against the GLM (:meth:`Comparison.differences`).

    Raises
    ------
    OptionError
        An option outside its table range, or ``models`` that is not a dict of option dicts.
    FormulaError
        A formula that does not parse or names unknown columns.
    DataError
        ``data`` that is not a data frame, or too few rows for the folds.

    See Also
    --------
    dlstat.cv_dnn : cross-validation of one network.

    Examples
    --------
    >>> import dlstat as dl
    >>> mtcars = dl.datasets.load("mtcars")
    >>> cmp = dl.compare("mpg ~ wt + hp", mtcars, folds=4, hidden=(), optimizer="lbfgs",
    ...                  verbose=0)
    >>> sorted(cmp.folds["model"].unique())
    ['dnn', 'glm', 'null']
    """
    refuse_array_data(data, "compare")
    check_arguments(COMPARE, folds=folds, models=models, stratify=stratify, groups=groups,
                    foldid=foldid, seed=seed)
    base = fit_options(seed=seed, weights=weights, offset=offset, client=client,
                                  **options)
    call = call_text("compare", formula, base, extra=_folds_text(folds, foldid))
    formula, data, base = attach_priors(formula, data, base)
    options = {**options, "weights": base.weights, "client": client}
    models = models or {"dnn": {}}
    plan = plan_folds(formula, data, base, folds, 1, stratify, groups, foldid, seed)
    rows: list[dict[str, Any]] = []
    bar = progress_bar(base.verbose, len(plan.splits) * (1 + len(models)), "compare")
    blocks = fold_blocks(formula, data, plan, base, bar)
    tests = []
    model_fits: dict[str, list[DNNFit]] = {}
    notes = list(plan.notes)
    for (r, k), block in zip(plan.splits, blocks):
        test = block.scored(held_out(data, plan, r, k), what="newdata")
        tests.append(test)
        glm_mu, note, glm_family = glm_means(block, test)
        if note and note not in notes:
            notes.append(note)
        for name, (mu, fam) in (("null", null_means(block, test)), ("glm", (glm_mu,
                                                                            glm_family))):
            rows.append({"model": name, "repeat": r + 1, "fold": k + 1, "n_test": len(test.X),
                         **fam.metrics(test.y, mu, test.weights)})
    for name, extra in models.items():
        opts = fit_options(**model_options({**options, "seed": seed}, extra))
        refuse_bootstrap(opts, "compare")
        model_blocks = blocks if _same_design(opts, base) else fold_blocks(formula, data,
                                                                           plan, opts)
        fits = train_blocks(model_blocks, [Network(i, opts.penalty, opts.mixture,
                                                   opts.seed_value)
                                           for i in range(len(model_blocks))],
                            opts, call="", formula=formula)
        model_fits[name] = fits
        for (r, k), block, fit, test in zip(plan.splits, model_blocks, fits, tests):
            rows.append({"model": name, "repeat": r + 1, "fold": k + 1, "n_test": len(test.X),
                         **block.metrics_of(fit, test)})
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    test = None if base.test is None else score_test_set(plan, blocks, base.test, model_fits)
    return Comparison(call, plan.family, pd.DataFrame(rows), notes, test)


def score_test_set(plan: FoldPlan, blocks: list[Block], test: pd.DataFrame,
               model_fits: dict[str, list[DNNFit]]) -> pd.DataFrame:
    """Every model of every fold scored on the ``test=`` frame, one row per (model, fold):
    the null model and the GLM fitted on the fold's training rows, and the networks."""
    rows: list[dict[str, Any]] = []
    sizes = {}
    for (r, k), block in zip(plan.splits, blocks):
        scored = block.scored(test, unseen="error", what="test")
        glm_mu, _, glm_family = glm_means(block, scored)
        sizes[r, k] = len(scored.X)
        for name, (mu, fam) in (("null", null_means(block, scored)), ("glm", (glm_mu,
                                                                              glm_family))):
            rows.append({"model": name, "repeat": r + 1, "fold": k + 1,
                         "n_test": len(scored.X),
                         **fam.metrics(scored.y, mu, scored.weights)})
    for name, fits in model_fits.items():
        for (r, k), fit in zip(plan.splits, fits):
            rows.append({"model": name, "repeat": r + 1, "fold": k + 1,
                         "n_test": sizes[r, k], **fit.record.metrics["test"]})
    return pd.DataFrame(rows)


def _folds_text(folds: int, foldid: Any) -> str:
    return "foldid=<given>" if foldid is not None else f"folds={folds}"


def _same_design(a: FitOptions, b: FitOptions) -> bool:
    """Blocks can be shared when centring and validation splitting are the same."""
    return (bool(a.layers) == bool(b.layers) and a.validation is b.validation
            and a.seed_value == b.seed_value)
