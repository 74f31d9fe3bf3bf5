"""What the engine is asked to train (``StackJob``) and what it gives back (``StackResult``).

Plain NumPy containers, so callers (fits, CV, paths) build jobs without importing TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .layers import Topology
from .network import Params

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam", "adamw",
              "lbfgs")
_FLOPS = 2e9  # a 2-core CPU's rate on this work, rounded down so bars err towards showing
DEFAULT_LEARNING_RATE = {
    "sgd": 0.01, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.01, "adadelta": 1.0,
    "rmsprop": 0.001, "adam": 0.001, "adamw": 0.001, "lbfgs": 1.0,
}


@dataclass
class StackJob:
    """M networks of one topology to train on the same X, Y with per-network row weights.

    ``train_weights[m, i]`` is row i's weight in network m's training loss (0 = not a training
    row of m); ``val_weights`` likewise marks validation rows (early stopping, ``val_loss``).
    """

    topology: Topology
    family: str
    X: np.ndarray
    Y: np.ndarray
    train_weights: np.ndarray
    penalty: np.ndarray
    mixture: np.ndarray
    learning_rate: np.ndarray
    seeds: np.ndarray
    output_bias: np.ndarray
    optimizer: str = "adam"
    epochs: int = 100
    batch_size: int | None = 32
    val_weights: np.ndarray | None = None
    patience: int | None = None
    max_norm: float | None = None
    group_inputs: bool = False  # the L1 part as a group lasso on each input's weights
    initial: Params | None = None  # starting values shared by every network (a pretrained base)
    # Called once per epoch with (epoch, loss [M], val_loss [M]) when progress is shown.
    on_epoch: Callable[[int, np.ndarray, np.ndarray], None] | None = None

    @property
    def size(self) -> int:
        return int(self.train_weights.shape[0])

    def expected_seconds(self) -> float:
        """A rough bound on the run time (six flops per parameter, row and epoch at about
        two GFLOP/s): whether a progress bar could ever appear.  Never changes a number."""
        rows = float(np.count_nonzero(self.train_weights))
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
    notes: list[str] = field(default_factory=list)
