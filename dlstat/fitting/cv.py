"""``cv_dnn()``: k-fold cross-validation in one stacked engine call.

Every fold's design (levels, standardisation, spline knots) is learned on its training rows
only; the held-out fold is predicted afterwards and never seen during training or stopping.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, warn
from ..families import Family, make_family
from ..families.fitted import given_parameters
from ..formula import build_design
from ..options import CV, FitOptions, check_arguments, refuse_bootstrap
from ..progress import progress_bar
from ..results.cv import CVResult, OutOfFold
from ..results.fit import DNNFit
from ..validation.folds import Folds
from .arrays import ArrayInput, array_inputs
from .blocks import Block, Network, Scored, make_block, train_blocks
from .dnn import call_text
from .resolve import fit_options


@dataclass
class FoldPlan:
    """The rows every fold trains on and predicts, plus the full-data family."""

    rows: np.ndarray  # positions of the complete rows of the data, in order
    fold_ids: np.ndarray  # [repeats, len(rows)]
    family: Family
    n_dropped: int
    notes: list[str]

    @property
    def splits(self) -> list[tuple[int, int]]:
        return [(r, int(k)) for r in range(len(self.fold_ids))
                for k in np.unique(self.fold_ids[r])]


def plan_folds(formula: str, data: pd.DataFrame, opts: FitOptions, folds: int = 10,
               repeats: int = 1, stratify: str | None = None, groups: str | None = None,
               foldid: Any = None, seed: int | None = None) -> FoldPlan:
    """Find the complete rows and deal them into folds (nothing is learned from them here but
    the response's classes, which every fold must share)."""
    full = build_design(formula, data, na_action=opts.na_action)
    family, reason = make_family(opts.family, full.response, link=opts.link,
                                   parameters=given_parameters(opts), ties=opts.ties)
    rows = full.positions
    for name, col in (("stratify", stratify), ("groups", groups)):
        if col is not None and col not in data.columns:
            raise DataError(f"{name}={col!r} is not a column of the data; columns are "
                            f"{list(map(str, data.columns))[:12]}.")
    given = None
    if foldid is not None:
        given = np.asarray(foldid)
        if given.shape != (len(data),):
            raise DataError(f"foldid must give one fold per row of data ({len(data)}); got "
                            f"shape {given.shape}.")
        given = given[rows]
    plan = Folds(folds, repeats, data[stratify].to_numpy()[rows] if stratify else None,
                 data[groups].to_numpy()[rows] if groups else None, given, seed)
    notes = [f"family chosen from the response: {reason}."] if reason else []
    if full.n_dropped:
        notes.append(f"{full.n_dropped} observation(s) with missing values were left out.")
    ids = plan.assign(len(rows))
    sizes = np.bincount(ids[0])
    if sizes.min() < 2 or sizes.max() > 2 * sizes.min() + 1:
        warn(f"fold sizes are unbalanced or tiny ({sizes.min()}–{sizes.max()} rows); "
             "estimates from small folds are noisy.")
        notes.append(f"fold sizes range from {sizes.min()} to {sizes.max()} rows.")
    return FoldPlan(rows, ids, family, full.n_dropped, notes)


def fold_blocks(formula: str, data: pd.DataFrame, plan: FoldPlan, opts: FitOptions,
                progress: Any = None, source: ArrayInput | None = None) -> list[Block]:
    """One block per (repeat, fold), each designed on its training rows only (``source``: an
    array input whose rows go in front of each block's design)."""
    blocks = []
    for r, k in plan.splits:
        train = data.iloc[plan.rows[plan.fold_ids[r] != k]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            block = make_block(formula, train, opts, family=plan.family.name,
                               levels=plan.family.levels,
                               validation_seed=opts.seed_value + 1000 * r + k)
        if source is not None:
            block = source.attach(block)
        absent = _absent_classes(block, plan.family)
        if absent:
            block.notes.append(f"fold {k + 1}: class(es) {absent} absent from training rows.")
        blocks.append(block)
        if progress is not None:
            progress.update(1)
    return blocks


def held_out(data: pd.DataFrame, plan: FoldPlan, r: int, k: int) -> pd.DataFrame:
    """The rows fold ``k`` of repeat ``r`` holds out (the index of ``data`` kept)."""
    return data.iloc[held_out_rows(plan, r, k)]


def held_out_rows(plan: FoldPlan, r: int, k: int) -> np.ndarray:
    """Positions in the data of the rows fold ``k`` of repeat ``r`` holds out."""
    return plan.rows[plan.fold_ids[r] == k]


def _absent_classes(block: Block, family: Family) -> list[Any]:
    if not family.is_classification:
        return []
    counts = block.Y.sum(axis=0) if family.kind.several_classes else np.array(
        [len(block.Y) - block.Y.sum(), block.Y.sum()])
    return [lv for lv, c in zip(family.levels or [], counts) if c == 0]


def cv_dnn(formula: str, data: pd.DataFrame, folds: int = 10, repeats: int = 1,
           stratify: str | None = None, groups: str | None = None, foldid: Any = None,
           seed: int | None = None, weights: Any = None, offset: Any = None,
           client: Any = None, **options: Any) -> CVResult:
    """k-fold cross-validation of ``dnn(formula, data, **options)``; all folds train at once.

    The folds' networks train as one stack in a single engine call; each fold's design
    (standardisation, factor levels) is learned on its own training rows only, and its
    held-out rows are scored with the family's metrics.  ``weights`` and ``offset`` are dnn()'s:
    each fold trains and is scored with them.  ``data`` may map names to arrays as for dnn()
    (``{"label": y, "image": X, "age": age}``): the folds split the observations of every
    array, and ``foldid`` gives one fold per observation.
    ``client`` (a Dask client or scheduler address) trains the folds on a cluster, with the
    same numbers (:mod:`dlstat.scale`).

    Parameters
    ----------
    formula : str
        An R-style formula, as for :func:`dlstat.dnn`.
    data : pandas.DataFrame
        The data (never modified), or a mapping of names to arrays and columns as for
        :func:`dlstat.dnn`.

    Returns
    -------
    CVResult
        Per-fold metrics, mean, sd and SE per metric (as ``cv.glmnet``), out-of-fold
        predictions aligned to ``data`` and the fold assignment.

    Raises
    ------
    OptionError
        An option outside its table range (``folds=1``, ``bootstrap=``, ...).
    FormulaError
        A formula that does not parse or names unknown columns.
    DataError
        ``data`` that is not a data frame, or too few rows for the folds.

    See Also
    --------
    dlstat.compare : the null model, the GLM and networks on the same folds.
    dlstat.dnn_path : cross-validation over a grid of penalties.

    Examples
    --------
    >>> import dlstat as dl
    >>> mtcars = dl.datasets.load("mtcars")
    >>> cv = dl.cv_dnn("mpg ~ wt + hp", mtcars, folds=4, hidden=(), optimizer="lbfgs",
    ...                verbose=0)
    >>> cv.n_folds, len(cv.metrics)
    (4, 4)
    >>> bool((cv.tidy()["mean"] > 0).all())
    True
    """
    check_arguments(CV, folds=folds, repeats=repeats, stratify=stratify, groups=groups,
                    foldid=foldid, seed=seed)
    opts = fit_options(seed=seed, weights=weights, offset=offset, client=client,
                                  **options)
    refuse_bootstrap(opts, "cv_dnn")
    call = call_text("cv_dnn", formula, opts,
                     extra="foldid=<given>" if foldid is not None else f"folds={folds}")
    formula, data, opts, source = array_inputs(formula, data, opts)
    if source is not None:
        foldid = source.observations(foldid)
    plan = plan_folds(formula, data, opts, folds, repeats, stratify, groups, foldid, seed)
    bar = progress_bar(opts.verbose, len(plan.splits), "fold designs")
    blocks = fold_blocks(formula, data, plan, opts, bar, source)
    if bar is not None:
        bar.close()
    if source is not None:
        opts.layers = source.layers(opts.layers, blocks)
    networks = [Network(i, opts.penalty, opts.mixture, opts.seed_value)
                for i in range(len(blocks))]
    fits = train_blocks(blocks, networks, opts, call=call, formula=formula)
    return cv_result(call, data, plan, blocks, fits, source)


def cv_result(call: str, data: pd.DataFrame, plan: FoldPlan, blocks: list[Block],
              fits: list[DNNFit], source: ArrayInput | None = None,
              tests: list[Scored] | None = None) -> CVResult:
    """The cross-validation result of the fold networks ``fits`` (one per block; ``tests``:
    the blocks' held-out rows already scored, shared by networks of the same blocks)."""
    rows, preds, held = evaluate_folds(data, plan, blocks, fits, tests)
    pred_frame = combine_predictions(data, preds, plan.family)
    notes = list(plan.notes) + sorted({n for b in blocks for n in b.notes
                                        if n.startswith("fold")})
    unpredicted = int(sum(r["n_unpredicted"] for r in rows))
    if unpredicted:
        notes.append(f"{unpredicted} held-out row(s) had a factor level absent from their "
                     "training fold and were not predicted (NA).")
    fold_ids = pd.Series(pd.array([pd.NA] * len(data), dtype="Int64"), index=data.index,
                         name="fold")
    fold_ids.iloc[plan.rows] = plan.fold_ids[0]
    if source is not None:
        pred_frame, fold_ids = source.align(pred_frame), source.align(fold_ids)
    return CVResult(call, plan.family, pd.DataFrame(rows), pred_frame, fold_ids, fits, notes,
                    out_of_fold=OutOfFold.join(held))


def held_out_scored(data: pd.DataFrame, plan: FoldPlan, blocks: list[Block]) -> list[Scored]:
    """Each block's held-out rows, ready to score."""
    return [block.scored(held_out(data, plan, r, k)) for (r, k), block in zip(plan.splits,
                                                                               blocks)]


def evaluate_folds(data: pd.DataFrame, plan: FoldPlan, blocks: list[Block],
                   fits: list[DNNFit], tests: list[Scored] | None = None
                   ) -> tuple[list[dict[str, Any]], list[pd.DataFrame], list[OutOfFold]]:
    """Held-out metrics per fold, out-of-fold means (rows × outputs) per fold, and the held-out
    rows' responses beside their means (for CV+)."""
    rows, preds, held = [], [], []
    tests = tests or held_out_scored(data, plan, blocks)
    for split, ((r, k), block, fit, test) in enumerate(zip(plan.splits, blocks, fits, tests)):
        mu = fit.family.mean(block.link(fit.params, fit.topology, test.X, test.offset))
        rows.append({"repeat": r + 1, "fold": k + 1, "n_train": len(block.X),
                     "n_test": int(test.ok.sum()), "n_unpredicted": int((~test.ok).sum()),
                     **fit.family.metrics(test.y, mu, test.weights)})
        preds.append(pd.DataFrame(mu, index=held_out_rows(plan, r, k)[test.ok]))
        held.append(OutOfFold(np.full(len(mu), split), test.y, mu, test.weights))
    return rows, preds, held


def combine_predictions(data: pd.DataFrame, preds: list[pd.DataFrame],
                        family: Family) -> pd.Series | pd.DataFrame:
    """Out-of-fold means aligned to ``data`` (averaged over repeats; NA where unpredicted).

    ``preds`` are indexed by row position, so duplicated labels in ``data`` stay apart."""
    stacked = pd.concat(preds)
    mean = stacked.groupby(level=0).mean().reindex(pd.RangeIndex(len(data)))
    mean.index = data.index
    if family.kind.several_classes:
        mean.columns = family.output_names
        return mean
    if mean.shape[1] == 1:
        name = family.outputs[0] if not family.is_classification else \
            f"P({family.outputs[0]} = {family.levels[1]})"
        return mean.iloc[:, 0].rename(name)
    mean.columns = family.outputs
    return mean
