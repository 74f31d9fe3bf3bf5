"""``dnn()``: formula + data frame → fitted network."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from .blocks import Network, make_block, train_blocks
from ..results.fit import DNNFit
from ..options import FitOptions


def dnn(formula: str, data: pd.DataFrame, **options: Any) -> DNNFit:
    """Fit a neural network from a formula and a data frame, as ``glm()`` fits a GLM.

    Parameters
    ----------
    formula : str
        An R-style formula, e.g. ``"mpg ~ wt + hp + factor(cyl)"`` or ``"Species ~ ."``.
    data : pandas.DataFrame or mapping
        The data; never modified.  A mapping (``dict``) of names to columns, data frames and
        one array input (images ``[n, h, w(, c)]``, sequences ``[n, T(, p)]``) fits e.g.
        ``"label ~ image + age"``: the array goes through the architecture's convolutional
        part, the tabular columns join after flattening (:mod:`dlstat.fitting.arrays`).
    **options
        family, hidden, activation, architecture, dropout, batchnorm, penalty, mixture,
        max_norm, optimizer, learning_rate, batch_size, epochs, validation, test,
        early_stopping, na_action, unseen, seed, verbose (see the README).

    Returns
    -------
    DNNFit
    """
    if isinstance(data, Mapping) and not isinstance(data, pd.DataFrame):
        from .arrays import dnn_on_arrays

        return dnn_on_arrays(formula, data, options,
                             call=lambda opts: call_text("dnn", formula, opts))
    opts = FitOptions.from_kwargs(**options)
    block = make_block(formula, data, opts, validation_seed=opts.seed_value)
    network = Network(0, opts.penalty, opts.mixture, opts.seed_value)
    return train_blocks([block], [network], opts, call=call_text("dnn", formula, opts),
                        formula=formula)[0]


def call_text(function: str, formula: str, opts: FitOptions, extra: str = "") -> str:
    """How the call would be typed: the function, the formula and the non-default options."""
    options = ", ".join(p for p in (extra, opts.call_repr()) if p)
    return f"{function}({formula!r}, data{', ' + options if options else ''})"
