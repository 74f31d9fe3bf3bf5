"""The optimizers a fit can choose, with their default learning rates.

TensorFlow-free and apart from the engine, so that the options table reads them without
importing the engine; the engine's update rules (``engine/optimizers.py``) are keyed by the
same names.
"""

from __future__ import annotations

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam", "adamw",
              "lbfgs")
DEFAULT_LEARNING_RATE = {
    "sgd": 0.01, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.01, "adadelta": 1.0,
    "rmsprop": 0.001, "adam": 0.001, "adamw": 0.001, "lbfgs": 1.0,
}
# Optimizers that train full-batch to convergence: the exact minimiser is what they return, so
# a linear model's penalised fit under them may be found by another exact method (the elastic
# net's path solver, ``engine/glm_path.py``).
CONVERGES = ("lbfgs",)
