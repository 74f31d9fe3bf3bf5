"""Transfer learning: a network that starts from a fitted network's layers.

``dnn(..., base=fit, upto="flatten", freeze=True, hidden=(32,))`` keeps the base's layers up to
its last ``flatten`` with their fitted weights, adds the new hidden layers and the family's
output layer, and trains only what is not frozen (feature extraction).  ``freeze=False``
trains every layer from the base's weights (fine-tuning, usually with a smaller
``learning_rate``); ``upto="output"`` keeps the base's output layer too, so a fit continues.

A base is a :class:`~dlstat.DNNFit`, a fitted dlstat estimator, a dlstat model file or a Keras
model (a Sequential or functional chain of Keras's own Dense, Conv, BatchNormalization, pooling,
Flatten, Dropout, Activation and Reshape layers; anything that cannot be read exactly is
refused, see ``engine/keras_import.py``).  Its weights must be finite and within float32's
range, since training runs in float32.  The new network reads its inputs as the base did: a dlstat base's standardisation is
reused (not learned again on the new rows), a Keras model reads the data as given.  This
module is TensorFlow-free; a :class:`Base` is plain arrays, so a stack of transfer networks
(CV folds of a new head) is still one engine call.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .architecture import Layer, Reshape, describe
from .engine.layers import Topology, numpy_forward, plan, plan_hidden
from .errors import DataError, OptionError, OptionTypeError

OUTPUT = "output"  # upto= keeping the base's output layer too
_LARGEST = float(np.finfo(np.float32).max)  # first-order training runs in float32


@dataclass(frozen=True, eq=False)
class Base:
    """The kept part of a base network, ready to start a new one.

    ``weights`` are keyed as the new network's parameters (the kept layers come first, so
    their keys are the base's) without the stack axis.  ``standardisation`` is the centre and
    scale the base's inputs had; ``columns`` the base's design columns (None for Keras).
    """

    layers: tuple[Layer, ...]
    weights: dict[str, np.ndarray]
    n_frozen: int
    n_inputs: int
    standardisation: tuple[np.ndarray, np.ndarray]
    columns: tuple[str, ...] | None
    n_outputs: int | None  # the kept output layer's units; None when a new one is trained
    source: str

    @property
    def frozen(self) -> tuple[int, ...]:
        """Positions of the frozen hidden layers (always the first ``n_frozen``)."""
        return tuple(range(self.n_frozen))

    @property
    def row_shape(self) -> tuple[int, ...] | None:
        """The array shape of one row the base reads (None: a vector of ``n_inputs``)."""
        first = self.layers[0] if self.layers else None
        return first.shape if isinstance(first, Reshape) else None

    def note(self) -> str:
        """One line for a fit's notes: what was transferred and what was frozen."""
        kept = ", ".join(describe(layer) for layer in self.layers)
        how = ("frozen" if self.n_frozen == len(self.layers) else
               f"the first {self.n_frozen} frozen" if self.n_frozen else "all trained further")
        output = "; its output layer was kept" if self.n_outputs else ""
        return f"layers [{kept}] start from {self.source} ({how}){output}."

    def adopt(self, design: Any) -> Any:
        """``design`` (built on the new training rows) standardised as the base's inputs were;
        its columns must be the base's."""
        columns = tuple(design.spec.columns)
        if len(columns) != self.n_inputs or (self.columns is not None and
                                             columns != self.columns):
            wanted = list(self.columns) if self.columns is not None else f"{self.n_inputs} inputs"
            raise DataError(
                f"the base network ({self.source}) reads {_listed(wanted)}; the new data's "
                f"formula gives {len(columns)} design columns {_listed(list(columns))}. Use the "
                "inputs the base was fitted on, in the same order."
            )
        raw = design.X * design.spec.scale + design.spec.center
        center, scale = self.standardisation
        spec = replace(design.spec, center=center.copy(), scale=scale.copy())
        return replace(design, spec=spec, X=(raw - center) / scale)

    def check_outputs(self, n_outputs: int) -> None:
        """A kept output layer needs a response with as many outputs."""
        if self.n_outputs is not None and self.n_outputs != n_outputs:
            raise DataError(
                f"upto='output' keeps the base's output layer of {self.n_outputs} unit(s); the "
                f"new response needs {n_outputs}. Give upto= a hidden layer (e.g. upto=None) "
                "so that a new output layer is trained."
            )


def read_base(base: Any, upto: Any = None, freeze: Any = True) -> Base:
    """The :class:`Base` of ``base`` cut after ``upto`` with its first layers frozen.

    Parameters
    ----------
    base : DNNFit, fitted DNNRegressor/DNNClassifier, str or path, or keras.Model
        The network to start from (a path names a dlstat model file, read with vetting).
    upto : None, int, str
        None: every hidden layer; an integer: the first ``upto`` layers as the base lists them
        (negative: all but the last ``-upto``); a layer kind (``"flatten"``, ``"conv2d"`` …):
        up to the last layer of that kind; ``"output"``: the whole network.
    freeze : bool or int
        True: every kept hidden layer is frozen; False: none; an integer: the first ``freeze``.
    """
    source = _source(base)
    if isinstance(source, tuple):
        from .engine.keras_import import read_keras

        layers, weights, n_inputs, shape = read_keras(source[1], _keras_cut(upto))
        name = f"the Keras model {getattr(source[1], 'name', '')!r}"
        lead = int(len(shape) > 1)  # the reshape read_keras puts first counts as no layer
        count = _frozen(freeze, len(layers) - lead)
        return _made(layers, n_inputs, weights, count + lead if count else 0, name,
                     (np.zeros(n_inputs), np.ones(n_inputs)), None, None)
    fit = source
    hidden = list(fit.topology.layers)
    n_kept = _cut(upto, hidden, "the dlstat fit")
    placed = plan(fit.topology)
    keep = placed[:n_kept] + (placed[-1:] if upto == OUTPUT else [])
    weights = {d.name: np.asarray(fit.params[d.name][0]) for p in keep for d in p.params}
    return _made(tuple(hidden[:n_kept]), fit.topology.n_inputs, weights,
                 _frozen(freeze, n_kept), f"the dlstat fit {fit.spec.formula!r}",
                 (np.asarray(fit.spec.center, float), np.asarray(fit.spec.scale, float)),
                 tuple(fit.spec.columns), fit.topology.n_outputs if upto == OUTPUT else None)


def base_features(base: Any, X: Any, upto: Any = None) -> np.ndarray:
    """The outputs of ``base``'s layers up to ``upto`` for rows ``X`` (NumPy, no TensorFlow):
    the features a frozen base hands to a new head, one row per row of ``X``.

    ``X`` is a data frame for a formula fit (its design is replayed) or an array of rows
    (``[n, p]`` or images ``[n, h, w(, c)]``) for an estimator or a Keras model.

    Parameters
    ----------
    base : DNNFit, DNNRegressor, DNNClassifier, str or keras.Model
        A fitted network, a fitted estimator, a model file or a Keras model.
    X : pandas.DataFrame or numpy.ndarray
        The rows.
    upto : str or int, optional
        How much of ``base`` is kept: a layer kind (the last such layer), a count of its
        layers, or ``"output"``; by default every hidden layer.

    Returns
    -------
    numpy.ndarray
        One row of features per row of ``X``.

    Raises
    ------
    DataError
        Rows with missing values, or rows of another width than the base reads.

    Examples
    --------
    >>> import dlstat as dl
    >>> mtcars = dl.datasets.load("mtcars")
    >>> fit = dl.dnn("mpg ~ wt + hp", mtcars, hidden=(4,), epochs=5, verbose=0)
    >>> dl.base_features(fit, mtcars).shape
    (32, 4)
    """
    source = _source(base)
    keras_model = isinstance(source, tuple)
    kept = read_base(source[1] if keras_model else source, upto, freeze=False)
    center, scale = kept.standardisation
    if hasattr(X, "columns") and not keras_model:
        rows, complete = source.spec.design(X)
        if not complete.all():
            raise DataError(f"base_features() needs complete rows; {int((~complete).sum())} row(s) "
                            "of X have missing values. Drop or fill them first.")
    else:
        rows = (np.asarray(X, dtype=np.float64).reshape(len(X), -1) - center) / scale
    if rows.shape[1] != kept.n_inputs:
        raise DataError(f"the base reads rows of {kept.n_inputs} values; X has "
                        f"{rows.shape[1]} per row. Pass rows shaped as the base's inputs.")
    placed = plan(Topology(kept.n_inputs, kept.layers, kept.n_outputs)) if upto == OUTPUT \
        else plan_hidden(kept.n_inputs, kept.layers)
    return numpy_forward(placed, kept.weights, rows)


def _source(base: Any) -> Any:
    """The fitted dlstat network behind ``base``, or ``("keras", model)``."""
    from .results.fit import DNNFit, load

    if isinstance(base, (str, os.PathLike)):
        return load(os.fspath(base))
    if isinstance(base, DNNFit):
        return base
    if hasattr(base, "get_params") and hasattr(base, "fit"):  # a dlstat estimator
        if not isinstance(getattr(base, "model_", None), DNNFit):
            raise OptionError(f"base={type(base).__name__}(...) is not fitted yet; call "
                              "fit() first, or pass a fitted network.")
        return base.model_
    if hasattr(base, "layers") and hasattr(base, "get_weights"):
        return ("keras", base)
    raise OptionTypeError(
        f"base must be a fitted dlstat network (dnn(), an estimator's model_), a dlstat "
        f"model file or a Keras model; got {type(base).__name__}."
    )


def _cut(upto: Any, hidden: list[Any], owner: str) -> int:
    """How many of the ``hidden`` layers ``upto`` keeps."""
    n = len(hidden)
    if upto is None or upto == OUTPUT:
        return n
    kinds = [layer.kind for layer in hidden]
    if isinstance(upto, str):
        if upto not in kinds:
            raise OptionError(f"upto={upto!r} names no layer of {owner}; its layers are "
                              f"{kinds}. Give one of these, an index, None or 'output'.")
        return n - kinds[::-1].index(upto)
    if isinstance(upto, bool) or not isinstance(upto, (int, np.integer)) or \
            not -n <= int(upto) <= n:
        raise OptionError(f"upto must be None, 'output', a layer kind or a whole number from "
                          f"{-n} to {n} (the layers of {owner}: {kinds}); got upto={upto!r}.")
    return int(upto) % n if int(upto) < 0 else int(upto)


def _keras_cut(upto: Any) -> Any:
    if upto == OUTPUT:
        raise OptionError("upto='output' keeps a dlstat base's output layer; a Keras model's "
                          "last layer cannot become a dlstat family's output. Give upto=None "
                          "(every layer but the last) or a layer index or kind.")
    return lambda hidden: _cut(upto, hidden, "the Keras model")


def _frozen(freeze: Any, n_kept: int) -> int:
    """How many of the first kept layers are frozen."""
    if isinstance(freeze, bool):
        return n_kept if freeze else 0
    if isinstance(freeze, (int, np.integer)) and 0 <= int(freeze) <= n_kept:
        return int(freeze)
    raise OptionError(f"freeze must be True (every kept base layer), False (none) or a whole "
                      f"number from 0 to {n_kept} (the first layers); got freeze={freeze!r}.")


def _made(layers: tuple[Layer, ...], n_inputs: int, weights: dict[str, np.ndarray],
          n_frozen: int, source: str, standardisation: tuple[np.ndarray, np.ndarray],
          columns: tuple[str, ...] | None, n_outputs: int | None) -> Base:
    if not layers and n_outputs is None:
        raise OptionError(f"upto keeps no layer of {source}; keep at least one (e.g. "
                          "upto=None for every hidden layer).")
    for key, value in weights.items():
        largest = np.abs(value).max(initial=0.0)  # NaN if any is NaN
        if not largest <= _LARGEST:
            raise OptionError(
                f"the weights {key!r} of {source} hold NaN, infinite or values beyond float32's "
                f"range (largest magnitude {largest:.3g}; at most "
                f"{_LARGEST:.3g}), which training cannot start from. Use a base with finite, "
                "moderate weights.")
    return Base(tuple(layers), weights, n_frozen, n_inputs, standardisation, columns,
                n_outputs, source)


def _listed(items: Any) -> str:
    if not isinstance(items, list):
        return str(items)
    return str(items if len(items) <= 6 else [*items[:6], f"… {len(items)} in all"])
