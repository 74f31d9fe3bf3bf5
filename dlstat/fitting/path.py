"""``dnn_path()``: a glmnet-style regularisation path with cross-validated penalty choice.

For each penalty of a descending grid, one network is trained on all the data (training
deviance, Df, % deviance explained, weight norms) and one per fold (CV mean and SE of held-out
deviance).  All of them — folds × penalties + penalties — train in one stacked engine call.
``penalty_min`` and ``penalty_1se`` are chosen exactly as ``cv.glmnet`` chooses them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError
from ..families import Family
from ..options import PATH, FitOptions, check_arguments, refuse_bootstrap
from ..progress import progress_bar
from ..results.fit import DNNFit
from ..results.path import PathResult
from .arrays import refuse_array_data
from .blocks import Block, Network, make_block, train_blocks
from .collector import collector_paused
from .cv import fold_blocks, held_out, plan_folds
from .dnn import call_text
from .priors import attach_priors
from .resolve import fit_options

RIDGE_ALPHA = 1e-3  # glmnet computes lambda.max for alpha = 0 as if alpha were 0.001


def penalty_max(block: Block, mixture: float, grouped: bool = False) -> float:
    """The smallest penalty at which every input's weight is zero in the linear model.

    As glmnet: the largest absolute gradient of the mean deviance / 2 (Cox: of the log
    partial likelihood) at the null fit, over
    ``mixture`` (at least 0.001, glmnet's rule for ridge); with ``grouped`` the gradient's norm
    over outputs per input.  On glmnet's penalty scale (gaussian: times sd(y)).
    """
    fam = block.family
    y, w = block.Y, block.weights
    grad = block.X.T @ fam.null_score(y, w) / w.sum()  # [p, k]
    size = np.linalg.norm(grad, axis=1) if grouped else np.abs(grad).max(axis=1)
    top = float(size.max()) if size.size else 0.0
    return top / max(mixture, RIDGE_ALPHA) * fam.penalty_scale


def penalty_grid(top: float, n_penalties: int, ratio: float) -> np.ndarray:
    """``n_penalties`` log-spaced values from ``top`` down to ``ratio * top``."""
    return top * ratio ** (np.arange(n_penalties) / max(n_penalties - 1, 1))


@collector_paused
def dnn_path(formula: str, data: pd.DataFrame, penalties: Any = None, n_penalties: int = 20,
             penalty_min_ratio: float | None = None, mixture: float = 0.0, folds: int = 5,
             foldid: Any = None, sparsity: str | None = None, weights: Any = None,
             offset: Any = None, client: Any = None, **options: Any) -> PathResult:
    """Fit the regularisation path of ``dnn(formula, data, **options)`` over a penalty grid.

    Every penalty of glmnet's grid (descending) trains on all the data and on each fold, all
    in one stacked engine call; ``penalty_min`` and ``penalty_1se`` are chosen as
    ``cv.glmnet`` chooses them.  ``folds=0`` scores each penalty on a validation split
    (``validation``, default 0.2) instead of cross-validation.  ``sparsity="inputs"`` makes
    the L1 part a group penalty on each input's outgoing weights, so inputs enter the network
    one by one as the penalty falls.  ``weights`` and ``offset`` are dnn()'s, used by every fit
    of the path.  ``client`` (a Dask client or scheduler address) trains the path's networks
    in chunks on a cluster, with the same numbers (:mod:`dlstat.scale`).

    Parameters
    ----------
    formula : str
        An R-style formula, as for :func:`dlstat.dnn`.
    data : pandas.DataFrame
        The data; never modified.

    Returns
    -------
    PathResult
        The table per penalty (Df, %Dev, lambda, CV mean and SE), ``penalty_min``,
        ``penalty_1se``, the weight norms per term, the fits on all the data and
        :meth:`PathResult.refit`.

    Raises
    ------
    OptionError
        ``penalty=`` (give ``penalties=``), a bad grid, ``folds=0`` with a validation data
        frame, or ``sparsity="inputs"`` with ``optimizer="lbfgs"``.
    FormulaError
        A formula that does not parse or names unknown columns.

    See Also
    --------
    dlstat.cv_dnn : cross-validation at one penalty.

    Examples
    --------
    >>> import dlstat as dl
    >>> mtcars = dl.datasets.load("mtcars")
    >>> path = dl.dnn_path("mpg ~ wt + hp + qsec", mtcars, hidden=(), optimizer="lbfgs",
    ...                    mixture=1, n_penalties=5, folds=4, verbose=0)
    >>> len(path.table), path.penalty_1se >= path.penalty_min
    (5, True)
    """
    if "penalty" in options:
        raise OptionError("dnn_path() takes penalties= (a grid), not penalty=.")
    refuse_array_data(data, "dnn_path")
    check_arguments(PATH, penalties=penalties, n_penalties=n_penalties,
                    penalty_min_ratio=penalty_min_ratio, mixture=mixture, folds=folds,
                    foldid=foldid, sparsity=sparsity)
    if folds == 0 and isinstance(options.get("validation"), pd.DataFrame):
        raise OptionError("dnn_path(folds=0) scores each penalty on a fraction of the rows it "
                          "holds out; validation must be a fraction such as 0.2, got a data "
                          "frame. Give a fraction, or cross-validate with folds=5.")
    holdout = options.get("validation", 0.2) if folds == 0 else None
    if folds == 0:
        options.pop("validation", None)
    opts = fit_options(mixture=mixture, weights=weights, offset=offset, client=client,
                                  **options)
    refuse_bootstrap(opts, "dnn_path")
    extra = f"folds={folds}" + (", sparsity='inputs'" if sparsity == "inputs" else "")
    call = call_text("dnn_path", formula, opts, extra=extra)
    formula, data, opts = attach_priors(formula, data, opts)
    grouped = sparsity == "inputs"
    if grouped and opts.optimizer == "lbfgs":
        raise OptionError("sparsity='inputs' is a group penalty that L-BFGS cannot handle; "
                          "use a first-order optimizer such as optimizer='adam'.")
    full = make_block(formula, data, opts, validation_seed=opts.seed_value)
    grid = _grid(penalties, n_penalties, penalty_min_ratio, full, mixture, grouped)
    plan, blocks = _scoring_blocks(formula, data, opts, folds, foldid, holdout)
    # Two stacks: the fold networks are not padded to the full data's rows (a fifth of their
    # steps would be padding); a network's numbers do not depend on its stack.
    full_fits = train_blocks([full], [Network(0, float(lam), mixture, opts.seed_value)
                                      for lam in grid],
                             opts, call=call, formula=formula, group_inputs=grouped)
    fold_fits = train_blocks(blocks, [Network(b, float(lam), mixture, opts.seed_value)
                                      for lam in grid for b in range(len(blocks))],
                             opts, call=call, formula=formula, group_inputs=grouped,
                             measured=False) if blocks else []
    per = 1 + len(blocks)
    fits = [fit for i in range(len(grid))
            for fit in [full_fits[i], *fold_fits[i * len(blocks):(i + 1) * len(blocks)]]]
    for fit, lam in zip(full_fits, grid):
        fit.options = replace(opts, penalty=float(lam), verbose=0, client=None)
        fit.call = call_text("dnn", formula, fit.options)
    scores, fold_weights = _scores(data, plan, blocks, fits, per, len(grid))
    table = _table(grid, full_fits, scores, fold_weights, full.family)
    pmin, p1se = choose(table)
    norms = _term_norms(full_fits, grid)
    entry = _entry(norms) if grouped else None
    notes = list(full.notes) + ([] if folds else
                                [f"scored on a {holdout:g} validation split, not CV; "
                                 "penalty_1se equals penalty_min."])
    return PathResult(call, full.family, table, pmin, p1se if folds else pmin, norms,
                      full_fits, entry, notes)


def _grid(penalties, n_penalties, ratio, full: Block, mixture: float, grouped: bool):
    if penalties is not None:
        grid = np.asarray(penalties, dtype=float).ravel()
        if grid.size == 0 or not np.isfinite(grid).all() or (grid < 0).any():
            raise OptionError(f"penalties must be non-negative finite numbers; got "
                              f"{np.asarray(penalties).tolist()[:10]}.")
        return np.sort(grid)[::-1]
    if not isinstance(n_penalties, (int, np.integer)) or n_penalties < 1:
        raise OptionError(f"n_penalties must be a whole number >= 1; got {n_penalties!r}.")
    if ratio is None:
        ratio = 1e-4 if len(full.X) > full.width else 1e-2  # glmnet's lambda.min.ratio
    if not 0 < ratio < 1:
        raise OptionError(f"penalty_min_ratio must be in (0, 1); got {ratio!r}.")
    top = penalty_max(full, mixture, grouped)
    if top <= 0:
        raise OptionError("the inputs carry no signal at the null model (zero gradient), so "
                          "no penalty grid can be derived; pass penalties= explicitly.")
    return penalty_grid(top, int(n_penalties), ratio)


def _scoring_blocks(formula, data, opts: FitOptions, folds: int, foldid, holdout):
    if folds == 0:
        plan = plan_folds(formula, data, opts, folds=2, seed=opts.seed)
        # One split: rows of "fold 0" are held out with the requested fraction.
        n = len(plan.rows)
        n_out = max(1, int(round(float(holdout) * n)))
        order = np.random.default_rng([opts.seed_value, 13]).permutation(n)
        ids = np.ones(n, np.int64)
        ids[order[:n_out]] = 0
        plan.fold_ids = ids[None, :]
        blocks = fold_blocks(formula, data, plan, opts)[:1]
        return plan, blocks
    plan = plan_folds(formula, data, opts, folds=folds, foldid=foldid, seed=opts.seed)
    bar = progress_bar(opts.verbose, len(plan.splits), "fold designs")
    blocks = fold_blocks(formula, data, plan, opts, bar)
    if bar is not None:
        bar.close()
    return plan, blocks


def _scores(data, plan, blocks, fits, per: int,
            n_grid: int) -> tuple[np.ndarray, np.ndarray]:
    """Held-out [mean deviance, main metric] per penalty and fold ([n_grid, folds, 2]) and
    each fold's total weight (prior weights times trials of its held-out rows)."""
    out = np.full((n_grid, len(blocks), 2), np.nan)
    splits = plan.splits[: len(blocks)]
    tests = [block.scored(held_out(data, plan, r, k), what="newdata")
             for (r, k), block in zip(splits, blocks)]
    for i in range(n_grid):
        for j, (block, rows) in enumerate(zip(blocks, tests)):
            m = block.metrics_of(fits[i * per + 1 + j], rows)
            out[i, j] = m["mean_deviance"], m[block.family.main_metric]
    return out, np.array([float(np.sum(rows.weights)) for rows in tests])


def fold_mean_se(scores: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """cv.glmnet's CV mean and SE over folds (axis 1 of ``scores``): the folds' means
    weighted by their total weights, and sqrt(weighted mean squared deviation / (K - 1))
    (the plain mean and sd / sqrt(K) when the folds weigh the same); NaN SE for one fold."""
    w = weights / weights.sum()
    mean = np.einsum("gk...,k->g...", scores, w)
    k = scores.shape[1]
    if k < 2:
        return mean, np.full(mean.shape, np.nan)
    spread = np.einsum("gk...,k->g...", (scores - mean[:, None]) ** 2, w)
    return mean, np.sqrt(spread / (k - 1))


def _table(grid, full_fits: list[DNNFit], scores: np.ndarray, fold_weights: np.ndarray,
           family: Family) -> pd.DataFrame:
    mean, se = fold_mean_se(scores, fold_weights)
    metric = family.main_metric
    rows = {
        "penalty": grid,
        "df": [_df(f) for f in full_fits],
        "dev_explained": [f.dev_explained for f in full_fits],
        "train_deviance": [f.record.deviance for f in full_fits],
        "cv_mean": mean[:, 0],
        "cv_se": se[:, 0],
        f"{metric}_mean": mean[:, 1],
        f"{metric}_se": se[:, 1],
        "weight_norm": [_kernel_norm(f) for f in full_fits],
    }
    return pd.DataFrame(rows)


def choose(table: pd.DataFrame) -> tuple[float, float]:
    """cv.glmnet's choice: the penalty minimising the CV mean, and the largest penalty whose
    CV mean is within one SE of that minimum."""
    cvm, cvsd = table["cv_mean"].to_numpy(), table["cv_se"].to_numpy()
    lam = table["penalty"].to_numpy()
    i_min = int(np.nanargmin(cvm))
    bound = cvm[i_min] + (cvsd[i_min] if np.isfinite(cvsd[i_min]) else 0.0)
    within = np.flatnonzero(cvm <= bound)
    return float(lam[i_min]), float(lam[within].max())


def _first_kernel(fit: DNNFit) -> np.ndarray:
    return fit.params[fit.topology.input_kernel()][0]


def _df(fit: DNNFit) -> int:
    """Number of design columns with any non-zero input weight."""
    return int((np.abs(_first_kernel(fit)).sum(axis=1) > 0).sum())


def _kernel_norm(fit: DNNFit) -> float:
    keys = sorted(fit.topology.penalised_keys())  # the order the engine returns them in
    return float(np.sqrt(sum((fit.params[k]**2).sum() for k in keys)))


def _term_norms(fits: list[DNNFit], grid) -> pd.DataFrame:
    """Per formula term: the norm of its design columns' input weights at each penalty."""
    codes, terms = pd.factorize(pd.Series(fits[0].spec.terms(), dtype=object))
    squares = np.zeros((len(fits), len(terms)))
    for i, fit in enumerate(fits):  # a term's squared norm: the sum over its columns
        np.add.at(squares[i], codes, (_first_kernel(fit) ** 2).sum(axis=1))
    return pd.DataFrame(np.sqrt(squares), columns=list(terms),
                        index=pd.Index(grid, name="penalty"))


def _entry(norms: pd.DataFrame) -> pd.DataFrame:
    """Each term's entry penalty: the largest penalty at which its weights are non-zero."""
    rows = []
    for term in norms.columns:
        active = norms.index[norms[term].to_numpy() > 0]
        rows.append({"term": term, "entry_penalty": float(active.max()) if len(active)
                     else float("nan")})
    frame = pd.DataFrame(rows).sort_values("entry_penalty", ascending=False,
                                           na_position="last").reset_index(drop=True)
    frame["order"] = np.arange(1, len(frame) + 1)
    return frame
