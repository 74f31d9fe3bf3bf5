"""What the engine is asked to train (``StackJob``) and what it gives back (``StackResult``).

Plain NumPy containers, so callers (fits, CV, paths) build jobs without importing TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..optimizer_table import DEFAULT_LEARNING_RATE, OPTIMIZERS  # noqa: F401 (re-exported)
from .layers import Topology
from .network import Params

SIMD_ROWS = 16  # float32 lanes of the widest SIMD packet (AVX-512): see training.simd_rows
_FLOPS = 2e9  # a 2-core CPU's rate on this work, rounded down so bars err towards showing


TENSOR_ALIGNMENT = 64  # bytes: Eigen's alignment, which TensorFlow's CPU kernels assume


def aligned_empty(shape: tuple[int, ...], dtype) -> np.ndarray:
    """An uninitialised array whose data start on a ``TENSOR_ALIGNMENT`` boundary, so that a
    TensorFlow tensor can be made on its memory without a copy."""
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    raw = np.empty(size + TENSOR_ALIGNMENT, np.uint8)
    start = -raw.ctypes.data % TENSOR_ALIGNMENT
    return raw[start:start + size].view(dtype).reshape(shape)


def engine_rows(parts: list[np.ndarray], width: int, optimizer: str) -> np.ndarray:
    """The row blocks ``parts`` (e.g. training and validation designs) stacked as the engine
    reads them, each padded with zero columns to ``width``: float64 for L-BFGS, which trains
    in float64; else float32, the first-order trainer's type, in a buffer its tensor can
    share.  One part of the right kind and width is used as it is; otherwise each part is
    cast and padded as it is copied (no float64 copy of the whole)."""
    dtype = np.float64 if optimizer == "lbfgs" else np.float32
    if len(parts) == 1 and parts[0].dtype == dtype and parts[0].shape[1] == width:
        return parts[0]
    out = aligned_empty((sum(len(p) for p in parts), width), dtype)
    start = 0
    for part in parts:
        out[start:start + len(part), :part.shape[1]] = part
        out[start:start + len(part), part.shape[1]:] = 0.0
        start += len(part)
    return out


@dataclass
class StackJob:
    """M networks of one topology to train on the same X, Y with per-network row weights.

    ``train_weights[m, i]`` is row i's weight in network m's training loss (0 = not a training
    row of m); ``val_weights`` likewise marks validation rows (early stopping, ``val_loss``).
    ``offset`` ``[n, k]`` (link scale, as the network's output) is added to the output layer's
    linear predictor of every network; ``None`` is no offset.
    """

    topology: Topology
    family: Any  # the family's LossKey: which loss the networks minimise
    X: np.ndarray
    Y: np.ndarray
    train_weights: np.ndarray
    penalty: np.ndarray
    mixture: np.ndarray
    learning_rate: np.ndarray
    seeds: np.ndarray
    output_bias: np.ndarray
    # [M] (or one value for all): network m's epoch e steps at learning_rate[m] * decay[m]**e
    learning_rate_decay: np.ndarray | float = 1.0
    optimizer: str = "adam"
    epochs: int = 100
    batch_size: int | None = 32
    val_weights: np.ndarray | None = None
    # [M, n] whole counts: row i appears train_repeats[m, i] times in each epoch of network m
    # (a bootstrap resample), so a replicate takes as many steps per epoch as the full fit.
    # None: each training row once.  Full-batch L-BFGS reads them as weights.
    train_repeats: np.ndarray | None = None
    patience: int | None = None
    # [M] (or one value for all) max-norm of each unit's incoming weights; inf or None: none
    max_norm: np.ndarray | float | None = None
    # [M] each network's rate for every dropout layer of the topology (a tensor of the graph:
    # a new rate never retraces); None: the rates the topology's layers hold
    dropout: np.ndarray | None = None
    group_inputs: bool = False  # the L1 part as a group lasso on each input's weights
    offset: np.ndarray | None = None
    initial: Params | None = None  # starting values shared by every network (a pretrained base)
    # Rows (training, validation) each network is padded to at least: a chunk of a larger
    # stack keeps the stack's shapes, so its sums over rows add in the same order.
    row_lengths: tuple[int, int] | None = None
    # [M] the family's own parameter (θ, the variance power) of each network, a tensor of the
    # graph (a new value never retraces); None for a family without one.
    family_parameter: np.ndarray | None = None
    # Called once per epoch with (epoch, loss [M], val_loss [M]) when progress is shown.
    on_epoch: Callable[[int, np.ndarray, np.ndarray], None] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.family, str):  # a family's name: its default link
            from ..families import family_kind
            from ..families.fitted import LossKey

            self.family = LossKey(self.family, family_kind(self.family).default_link)
        # Per-network values given once for the whole stack are spread over its networks.
        M = len(self.seeds)
        self.learning_rate_decay = np.broadcast_to(
            np.asarray(self.learning_rate_decay, np.float64), (M,)).copy()
        norms = np.asarray(np.inf if self.max_norm is None else self.max_norm, np.float64)
        self.max_norm = np.broadcast_to(np.where(np.isnan(norms), np.inf, norms), (M,)).copy()

    @property
    def uses_max_norm(self) -> bool:
        """Whether any network caps its units' norms (part of the trace's configuration)."""
        return bool(np.isfinite(self.max_norm).any())

    def dropout_tensors(self) -> tuple[np.ndarray, np.ndarray]:
        """Each network's dropout rate and the scale kept units are divided by, both as the
        float32 values a layer with that rate uses (zeros and ones without per-network rates)."""
        rates = (np.zeros(len(self.seeds)) if self.dropout is None
                 else np.asarray(self.dropout, float))
        return rates.astype(np.float32), (1.0 - rates).astype(np.float32)

    def offsets(self) -> np.ndarray:
        """The offset of every row and output, zeros when there is none."""
        if self.offset is None:  # one per output (a survival response has two columns)
            return np.zeros((len(self.Y), self.topology.n_outputs))
        return self.offset

    def family_parameters(self) -> np.ndarray:
        """Each network's family parameter; zeros (unused) for a family without one."""
        if self.family_parameter is None:
            return np.zeros(self.size)
        return np.asarray(self.family_parameter, dtype=np.float64)

    def repeated_weights(self) -> np.ndarray:
        """Each row's total weight in each network's loss: its weight times its repeats."""
        if self.train_repeats is None:
            return self.train_weights
        return self.train_weights * self.train_repeats

    @property
    def size(self) -> int:
        return int(self.train_weights.shape[0])

    def expected_seconds(self) -> float:
        """A rough bound on the run time (six flops per parameter, row and epoch at about
        two GFLOP/s): whether a progress bar could ever appear.  Never changes a number."""
        listed = self.train_weights > 0
        rows = float(listed.sum() if self.train_repeats is None
                     else self.train_repeats[listed].sum())
        return 6.0 * rows * self.topology.n_parameters() * self.epochs / _FLOPS


@dataclass
class StackResult:
    """Trained parameters and per-network training records (leading axis M everywhere)."""

    params: Params
    loss: np.ndarray  # [epochs_run, M] training loss (mean deviance / 2); NaN once stopped
    val_loss: np.ndarray | None  # [epochs_run, M]
    epochs_run: np.ndarray  # [M]
    best_epoch: np.ndarray  # [M]; 0 when no validation
    diverged: np.ndarray  # [M] bool
    notes: list[str] = field(default_factory=list)  # about every network of the stack
    network_notes: list[list[str]] | None = None  # [M] about one network each

    def notes_of(self, m: int) -> list[str]:
        """The notes about network ``m``: the stack's and its own."""
        return self.notes + (self.network_notes[m] if self.network_notes else [])
