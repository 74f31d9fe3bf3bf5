"""``dnn()``: formula + data frame → fitted network."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .blocks import Network, make_block, train_blocks
from ..results.bootstrap import Replicates, replicate_seed, resample_counts
from ..results.fit import DNNFit
from ..options import FitOptions


def dnn(formula: str, data: pd.DataFrame, **options: Any) -> DNNFit:
    """Fit a neural network from a formula and a data frame, as ``glm()`` fits a GLM.

    Parameters
    ----------
    formula : str
        An R-style formula, e.g. ``"mpg ~ wt + hp + factor(cyl)"`` or ``"Species ~ ."``.
    data : pandas.DataFrame
        The data; never modified.
    **options
        family, hidden, activation, architecture, dropout, batchnorm, penalty, mixture,
        max_norm, optimizer, learning_rate, batch_size, epochs, validation, test,
        early_stopping, na_action, unseen, seed, bootstrap, verbose (see the README).
        ``bootstrap=B`` trains B case-resampled networks in the same stack as the full-data
        fit (see :mod:`dlstat.results.bootstrap`).

    Returns
    -------
    DNNFit
    """
    opts = FitOptions.from_kwargs(**options)
    block = make_block(formula, data, opts, validation_seed=opts.seed_value)
    network = Network(0, opts.penalty, opts.mixture, opts.seed_value)
    counts = bootstrap_counts(opts.seed_value, opts.bootstrap or 0, len(block.X))
    replicates = [Network(0, opts.penalty, opts.mixture, replicate_seed(opts.seed_value, b),
                          counts=c) for b, c in enumerate(counts, 1)]
    fit, *others = train_blocks([block], [network, *replicates], opts,
                                call=call_text("dnn", formula, opts), formula=formula)
    if others:
        fit.bootstrap = Replicates(others, counts)
    return fit


def bootstrap_counts(seed: int, size: int, n: int) -> np.ndarray:
    """The row counts [size, n] of resamples 1..size (each a function of (seed, b) only)."""
    return np.array([resample_counts(seed, b, n) for b in range(1, size + 1)]).reshape(size, n)


def call_text(function: str, formula: str, opts: FitOptions, extra: str = "") -> str:
    """How the call would be typed: the function, the formula and the non-default options."""
    options = ", ".join(p for p in (extra, opts.call_repr()) if p)
    return f"{function}({formula!r}, data{', ' + options if options else ''})"
