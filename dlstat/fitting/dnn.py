"""``dnn()``: formula + data frame → fitted network."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .blocks import Network, make_block, train_blocks
from .priors import attach_priors
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
        early_stopping, na_action, unseen, seed, verbose, weights (prior weights: a column
        name or one number per row), offset (a column name or one number per row; also
        ``offset(expr)`` terms in the formula) (see the README).

    Returns
    -------
    DNNFit
    """
    opts = FitOptions.from_kwargs(**options)
    call = call_text("dnn", formula, opts)
    formula, data, opts = attach_priors(formula, data, opts)
    block = make_block(formula, data, opts, validation_seed=opts.seed_value)
    network = Network(0, opts.penalty, opts.mixture, opts.seed_value)
    return train_blocks([block], [network], opts, call=call, formula=formula)[0]


def call_text(function: str, formula: str, opts: FitOptions, extra: str = "") -> str:
    """How the call would be typed: the function, the formula and the non-default options."""
    options = ", ".join(p for p in (extra, opts.call_repr()) if p)
    return f"{function}({formula!r}, data{', ' + options if options else ''})"
