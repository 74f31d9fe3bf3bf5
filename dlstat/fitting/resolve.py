"""From the options a user gave to what a fit trains: checked options with their layers.

The options table (:mod:`dlstat.options`) checks each value on its own.  Here the ``hidden``
shorthand (or ``architecture=``) becomes the list of layer specs, and a ``base`` network (a
fit, a model file or a Keras model, read by :mod:`dlstat.transfer`) puts its kept layers
first; the combinations are then checked on those layers.  Reading a base belongs to fitting,
so the table imports neither the engine nor fitting.
"""

from __future__ import annotations

from typing import Any

from ..architecture import resolve
from ..errors import OptionError
from ..options import FitOptions, option

_BASE_CHOICES = ("upto", "freeze")  # what choose the kept part of a base


def fit_options(**kwargs: Any) -> FitOptions:
    """Checked options of ``dnn()`` from keyword arguments, their layers resolved.

    Unknown names get a suggestion; see :func:`resolve_options` for the rest.
    """
    opts = FitOptions.named(**kwargs)
    resolve_options(opts)
    return opts


def resolve_options(opts: FitOptions) -> None:
    """Check ``opts`` and set its ``layers`` (and ``transfer``, the kept part of ``base``).

    Each option is checked against the table, the layers are made from ``hidden`` or
    ``architecture`` with the base's kept layers first, then the combinations are checked.
    """
    opts.check_values()
    opts.layers = resolve(opts.hidden, opts.activation, opts.dropout, opts.batchnorm,
                          opts.architecture)
    _read_base(opts)
    opts.check_combinations()


def _read_base(opts: FitOptions) -> None:
    """Put the kept layers of ``base`` first; ``upto`` and ``freeze`` need a base."""
    if opts.base is None:
        given = [f"{n}={getattr(opts, n)!r}" for n in _BASE_CHOICES
                 if getattr(opts, n) != option(n).default]
        if given:
            raise OptionError(f"{', '.join(given)} given without a base network: upto and "
                              "freeze choose what to keep of one; pass base=<a fitted "
                              "network> too, or leave them out.")
        return
    from ..transfer import read_base  # reads model files and Keras models: only for a base

    opts.transfer = read_base(opts.base, opts.upto, opts.freeze)
    if opts.transfer.n_outputs is not None and opts.layers:
        raise OptionError(
            "upto='output' keeps the base's whole network, so no new layers can follow it; "
            f"pass hidden=() (got {len(opts.layers)} new layer(s)).")
    opts.layers = opts.transfer.layers + opts.layers
