"""What every layer kind of the layer table (``layers.py``) is made of.

:class:`LayerKind` is the behaviour of one kind, :class:`Placed` a layer at its position in a
network with its :class:`ParamDef` parameters.  Apart from the table, so that the kinds in
``convolution.py`` and ``recurrent.py`` subclass it without importing the table that lists
them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Shape = tuple[int, ...]


@dataclass(frozen=True)
class ParamDef:
    """One parameter of one layer; ``shape`` is per network (the stack axis is prepended)."""

    name: str
    shape: Shape
    init: str  # a key of INITIALISERS
    trainable: bool = True
    penalised: bool = False


@dataclass(frozen=True)
class Placed:
    """A layer at its position in a network: its kind, shapes and parameters."""

    index: int | None  # position in the hidden list; None for the output layer
    layer: Any
    kind: LayerKind
    in_shape: Shape
    out_shape: Shape
    params: tuple[ParamDef, ...]
    frozen: bool = False  # never updated; a frozen batch normalisation runs as at inference

    def key(self, part: str) -> str:
        """The parameter key of ``part`` (e.g. ``kernel``) of this layer."""
        return param_key(self.kind.prefix(self.index), part)

    def width(self) -> int:
        """Number of values per row after this layer."""
        return int(np.prod(self.out_shape))

    def keras_name(self) -> str:
        return self.kind.prefix(self.index)

    def n_parameters(self) -> int:
        return sum(int(np.prod(d.shape)) for d in self.params if d.trainable)


@dataclass
class StackContext:
    """What a stacked TensorFlow forward needs besides parameters and input.

    ``random_bits(counter, shape, hashed)`` gives per-network uint32 hashes (dropout masks;
    ``hashed``: the layer's entry of ``positions``, its position hashes made once per run);
    ``row_weights`` [M, B] weight batch statistics; ``moving`` collects the new values of
    non-trained parameters (batch-norm moving statistics) during training.  ``lead`` is the
    row axis: 1 in a stack, 0 on the trainer's single-network path (no stack axis at all).
    """

    training: bool
    random_bits: Callable[[Any, Any], Any] | None = None
    counter: Any = None
    row_weights: Any = None
    moving: dict[str, Any] = field(default_factory=dict)
    lead: int = 1
    positions: dict[int, Any] = field(default_factory=dict)
    # Per-network (rate, scale) of the layers whose kind reads them (``per_network_rate``):
    # [M] each in a stack, scalars without the stack axis; None: the layers' own rates.
    rates: tuple[Any, Any] | None = None

    def per_network(self, v, rank: int):
        """A per-network value ``[M]`` broadcast against a tensor of rank ``rank`` (a scalar
        without the stack axis is used as it is)."""
        return v if self.lead == 0 else v[(slice(None),) + (None,) * (rank - 1)]


class LayerKind:
    """The behaviour of one layer kind; subclasses override what differs from a pass-through.

    A new kind (convolution, pooling, recurrent …) subclasses this, sets ``name`` (the prefix
    of its parameter keys and Keras layer names) and registers an instance in
    ``LAYER_TABLE`` under its spec's ``kind``.
    """

    name = ""
    solo = False  # its TensorFlow forward also runs without the stack axis (``ctx.lead == 0``)
    # Its rate may differ between the networks of one stack (read from ``StackContext.rates``).
    per_network_rate = False
    keras_parts: tuple[str, ...] = ()  # its parameters in the order of Keras's get_weights()

    def prefix(self, index: int | None) -> str:
        """The prefix of this layer's parameter keys and Keras name, e.g. ``dense2``."""
        return f"{self.name}{index}"

    def out_shape(self, layer: Any, in_shape: Shape) -> Shape:
        """The per-row shape after the layer, given the per-row shape before it."""
        return in_shape

    def params(self, key: Callable[[str], str], layer: Any,
               in_shape: Shape, out_shape: Shape) -> tuple[ParamDef, ...]:
        """The layer's parameters; ``key(part)`` spells a parameter's key."""
        return ()

    def tf_forward(self, tf: Any, p: Placed, P: Mapping[str, Any], h: Any,
                   ctx: StackContext) -> Any:
        """The stacked TensorFlow forward: ``h`` is ``[M (or 1), rows, *in_shape]``."""
        return h

    def numpy_forward(self, p: Placed, P: Mapping[str, np.ndarray], h: np.ndarray) -> np.ndarray:
        """The float64 inference forward of one network: ``h`` is ``[rows, *in_shape]``."""
        return h

    def numpy_row_values(self, p: Placed) -> int:
        """How many values per row the NumPy forward holds at once (the output's, by default)."""
        return p.width()

    def keras(self, keras: Any, p: Placed, P: Mapping[str, np.ndarray]) -> tuple[Any, list | None]:
        """The equivalent Keras layer and its weights (None: it has none)."""
        raise NotImplementedError(f"layer kind {self.name!r} has no Keras export")

    def carry(self, xp: Any, p: Placed, h: Any, side: Any) -> tuple[Any, Any]:
        """Before the forward: the rows ``h`` and the tabular inputs ``side`` carried beside
        the array part (split off by a reshape, joined back by :class:`JoinKind`)."""
        return h, side


def param_key(prefix: str, part: str) -> str:
    """The one spelling of a parameter key: ``<layer prefix>/<part>``."""
    return f"{prefix}/{part}"
