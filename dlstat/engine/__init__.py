"""The engine: the only code that imports TensorFlow, and only when training starts."""

from __future__ import annotations

from .job import DEFAULT_LEARNING_RATE, OPTIMIZERS, StackJob, StackResult
from .layers import Topology
from .network import Params, forward, forward_auto, init_params, select


def train_stack(job: StackJob) -> StackResult:
    """Train every network of ``job`` in one engine call."""
    if job.optimizer == "lbfgs":
        from .lbfgs import train_lbfgs

        return train_lbfgs(job)
    from .graph import train_first_order

    return train_first_order(job)


__all__ = ["DEFAULT_LEARNING_RATE", "OPTIMIZERS", "Params", "StackJob", "StackResult", "Topology",
           "forward", "forward_auto", "init_params", "select", "train_stack"]
