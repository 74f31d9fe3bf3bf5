"""``dnn()``: formula + data frame → fitted network."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..options import FitOptions
from ..results.bootstrap import Replicates, replicate_seed, resample_counts
from ..results.fit import DNNFit
from .blocks import Block, Network, make_block, train_blocks
from .collector import collector_paused
from .priors import attach_priors
from .resolve import fit_options


@collector_paused
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
        part, the tabular columns join after flattening (``dlstat.fitting.arrays``).
    **options
        The options of the table :data:`dlstat.options.OPTIONS` (listed below, each with its
        default and what it accepts): the family, the architecture (``hidden``,
        ``architecture``, ...), the penalty, the optimiser and training, validation and early
        stopping, missing values, prior ``weights`` and an ``offset``, ``bootstrap=B``
        (B case-resampled networks trained in the same stack as the full-data fit, see
        ``dlstat.results.bootstrap``) and transfer learning (``base``, ``upto``,
        ``freeze``).

    Returns
    -------
    DNNFit
        The fitted network: ``predict()``, ``summary()``, ``tidy()``, ``glance()``,
        ``augment()``, ``plot()``, ``save()`` and, for a GLM (``hidden=()``), ``coef()``,
        ``vcov()``, ``confint()``.

    Raises
    ------
    FormulaError
        A formula that does not parse, uses anything but columns, numbers and the allowed
        transforms, or names unknown columns.
    OptionError
        An option outside its table range, or options that contradict each other.
    DataError
        Data that cannot be used (no complete rows, a non-numeric column in arithmetic, ...).
    ResponseError
        A response that does not fit the family (e.g. negative counts for ``"poisson"``).
    DivergenceError
        Training diverged (non-finite loss); the message names a smaller learning rate.

    See Also
    --------
    dlstat.cv_dnn, dlstat.dnn_path, dlstat.compare

    Examples
    --------
    >>> import dlstat as dl
    >>> mtcars = dl.datasets.load("mtcars")
    >>> glm = dl.dnn("am ~ wt + hp", data=mtcars, hidden=(), optimizer="lbfgs", verbose=0)
    >>> glm.coef().round(2).tolist()
    [18.87, -8.08, 0.04]
    >>> fit = dl.dnn("mpg ~ wt + hp", mtcars, hidden=(8,), epochs=20, seed=1, verbose=0)
    >>> fit.predict(mtcars.head(3)).shape
    (3,)
    """
    if isinstance(data, Mapping) and not isinstance(data, pd.DataFrame):
        from .arrays import dnn_on_arrays

        return dnn_on_arrays(formula, data, options,
                             call=lambda opts: call_text("dnn", formula, opts))
    opts = fit_options(**options)
    call = call_text("dnn", formula, opts)
    formula, data, opts = attach_priors(formula, data, opts)
    block = make_block(formula, data, opts, validation_seed=opts.seed_value)
    return fit_block(block, opts, call, formula)


def fit_block(block: Block, opts: FitOptions, call: str, formula: str) -> DNNFit:
    """Train the block's network (and its ``bootstrap=B`` replicates) in one engine call."""
    networks, counts = bootstrap_networks(0, opts, len(block.X))
    fit, *others = train_blocks([block], networks, opts, call=call, formula=formula)
    if others:
        fit.bootstrap = Replicates(others, counts)
    return fit


def bootstrap_networks(block: int, opts: FitOptions, n: int) -> tuple[list[Network], np.ndarray]:
    """The full-data network of ``block`` and its ``opts.bootstrap`` resampled replicates (the
    row counts [B, n] of replicate b and its seed are functions of (seed, b) only)."""
    seed, size = opts.seed_value, opts.bootstrap or 0
    counts = np.array([resample_counts(seed, b, n) for b in range(1, size + 1)]).reshape(size, n)
    replicates = [Network(block, opts.penalty, opts.mixture, replicate_seed(seed, b), counts=c)
                  for b, c in enumerate(counts, 1)]
    return [Network(block, opts.penalty, opts.mixture, seed), *replicates], counts


def call_text(function: str, formula: str, opts: FitOptions, extra: str = "") -> str:
    """How the call would be typed: the function, the formula and the non-default options."""
    options = ", ".join(p for p in (extra, opts.call_repr()) if p)
    return f"{function}({formula!r}, data{', ' + options if options else ''})"
