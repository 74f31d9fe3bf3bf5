"""``tune_dnn()``: cross-validated choice of a network's options over a grid.

Every configuration × fold trains in as few engine calls as the shapes allow: configurations
that differ only in options the engine takes per network (learning rate and its decay, dropout
rate, penalty, mixture, max-norm: ``Option.tune == IN_STACK`` in the options table) share one
stack; each distinct value of a shape-changing option (widths, batch size, ...) makes a stack
of its own.  Within a fold every configuration trains from the same start on the same batches
in the same order (the fold's seed): common random numbers, so differences between
configurations are not drowned by differences in their shuffles.  Each configuration's numbers
equal ``cv_dnn()`` of that configuration alone.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from ..errors import DlstatError
from ..options import TUNE, FitOptions, check_arguments, refuse_bootstrap
from ..progress import progress_bar
from ..results.tune import TuneResult
from .arrays import array_inputs
from .blocks import Network, train_blocks
from .cv import cv_result, fold_blocks, held_out_scored, plan_folds
from .dnn import call_text
from .resolve import fit_options
from .tune_grid import configurations, stack_key


def tune_dnn(formula: str, data: pd.DataFrame, grid: Any = None, n_random: int | None = None,
             folds: int = 10, stratify: str | None = None, groups: str | None = None,
             foldid: Any = None, seed: int | None = None, weights: Any = None,
             offset: Any = None, client: Any = None, **options: Any) -> TuneResult:
    """Cross-validate every configuration of ``grid`` and choose one, as ``cv.glmnet`` does.

    Each configuration is ``dnn(formula, data, **options, **configuration)``; all of them are
    cross-validated on the same folds, configurations that differ only in per-network options
    (``learning_rate``, ``learning_rate_decay``, ``dropout``, ``penalty``, ``mixture``,
    ``max_norm``) in one stacked engine call, and each other combination (``hidden``,
    ``batch_size``, ``activation``, ``epochs``, ...) in a call of its own.  The best
    configuration has the smallest mean held-out deviance; the one-standard-error choice is the
    simplest configuration whose mean is within one SE of the best's: fewest hidden units,
    then most dropout, most penalty, smallest ``max_norm``, fewest epochs (the options table's
    ``simpler`` column, in its order), ties to the smaller mean.

    Parameters
    ----------
    formula : str
        An R-style formula, as for :func:`dlstat.dnn`.
    data : pandas.DataFrame or mapping
        The data (never modified), or a mapping of names to arrays as :func:`dlstat.cv_dnn`
        takes (a CNN or RNN).
    grid : dict
        Option names mapped to lists of values; every combination is tried.  With
        ``n_random``, an entry may also be a range ``(low, high)`` (uniform) or
        ``(low, high, "log")`` (log-uniform) of a numeric option.
    n_random : int, optional
        Draw this many configurations from ``grid`` (reproducibly from ``seed``) instead.
    folds, stratify, groups, foldid, seed, weights, offset, client
        As for :func:`dlstat.cv_dnn`.
    **options
        Fixed options of :func:`dlstat.dnn` shared by every configuration.

    Returns
    -------
    TuneResult
        ``table`` (one row per configuration: each metric's mean and SE), ``best`` and
        ``one_se`` (rows of the table), ``best_params``, ``cv(i)``, ``refit("best"|"1se")``.

    Raises
    ------
    OptionError, OptionTypeError
        An unknown or untunable option in ``grid``, a value out of its range, an option both
        in ``grid`` and fixed, or a grid of more than 10,000 combinations.

    Examples
    --------
    >>> import dlstat as dl
    >>> mtcars = dl.datasets.load("mtcars")
    >>> tuned = dl.tune_dnn("mpg ~ wt + hp", mtcars, grid={"penalty": [0.0, 0.1],
    ...                     "learning_rate": [0.01, 0.03]}, folds=4, hidden=(4,), epochs=5,
    ...                     verbose=0)
    >>> len(tuned.table), tuned.n_stacks
    (4, 1)
    """
    check_arguments(TUNE, grid=grid, n_random=n_random, folds=folds, stratify=stratify,
                    groups=groups, foldid=foldid, seed=seed)
    fixed = dict(seed=seed, weights=weights, offset=offset, client=client, **options)
    configs = configurations(grid, n_random, 0 if seed is None else int(seed), fixed)
    base = fit_options(**fixed)
    refuse_bootstrap(base, "tune_dnn")
    call = call_text("tune_dnn", formula, base, extra=f"grid={grid!r}" + (
        f", n_random={n_random}" if n_random is not None else "") + (
        ", foldid=<given>" if foldid is not None else f", folds={folds}"))
    all_opts = [_config_options(fixed, config) for config in configs]
    tabular, frame, attached, source = array_inputs(formula, data, base)
    if source is not None:
        foldid = source.observations(foldid)
    plan = plan_folds(tabular, frame, attached, folds, 1, stratify, groups, foldid, seed)
    stacks: dict[str, list[int]] = {}
    for i, config in enumerate(configs):
        stacks.setdefault(stack_key(config), []).append(i)
    cvs: list[Any] = [None] * len(configs)
    bar = progress_bar(base.verbose, len(stacks), "stacks")
    for members in stacks.values():
        own = [_attached(all_opts[i], attached) for i in members]
        results = _train_stack(tabular, frame, plan, own, source,
                               [call_text("cv_dnn", formula, all_opts[i]) for i in members])
        for i, result in zip(members, results):
            cvs[i] = result
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return TuneResult.of(call, plan.family, configs, cvs, [stacks_of(stacks, i)
                                                           for i in range(len(configs))],
                         formula, data, fixed)


def stacks_of(stacks: dict[str, list[int]], i: int) -> int:
    """The 1-based engine call configuration ``i`` trained in."""
    return next(s for s, members in enumerate(stacks.values(), 1) if i in members)


def _config_options(fixed: dict[str, Any], config: dict[str, Any]) -> FitOptions:
    """The checked options of one configuration (a combination the table refuses, such as
    dropout with optimizer='lbfgs', is named with its configuration)."""
    try:
        return fit_options(**{**fixed, **config})
    except DlstatError as exc:
        raise type(exc)(f"configuration {config!r}: {exc}") from None


def _attached(opts: FitOptions, attached: FitOptions) -> FitOptions:
    """A configuration's options with the prior weights and offset as ``array_inputs``
    attached them to the data (as columns), and its layers."""
    out = replace(opts, weights=attached.weights, offset=attached.offset)
    out.layers, out.transfer = opts.layers, opts.transfer
    return out


def _train_stack(formula: str, data: pd.DataFrame, plan, own: list[FitOptions], source,
                 calls: list[str]) -> list[Any]:
    """Cross-validate configurations that share one stack: every configuration × fold in one
    engine call; a CVResult per configuration."""
    stack = _stack_options(own)
    blocks = fold_blocks(formula, data, plan, stack, None, source)
    if source is not None:
        stack.layers = source.layers(stack.layers, blocks)
        for opts in own:
            opts.layers = source.layers(opts.layers, blocks)
    networks = [Network(b, opts.penalty, opts.mixture, stack.seed_value, options=opts)
                for opts in own for b in range(len(blocks))]
    fits = train_blocks(blocks, networks, stack, call=calls[0], formula=formula)
    k = len(blocks)
    tests = held_out_scored(data, plan, blocks)  # every configuration scores the same rows
    results = []
    for c, call in enumerate(calls):
        mine = fits[c * k:(c + 1) * k]
        for fit in mine:
            fit.call = call
        results.append(cv_result(call, data, plan, blocks, mine, source, tests))
    return results


def _stack_options(own: list[FitOptions]) -> FitOptions:
    """The stack's options: the first configuration's, with dropout layers when any
    configuration drops out (each network reads its own rate, 0 for none)."""
    first = own[0]
    widest = max(own, key=lambda o: o.dropout)
    stack = replace(first, dropout=widest.dropout)
    stack.layers, stack.transfer = widest.layers, first.transfer
    return stack


__all__ = ["tune_dnn"]
