"""First-order update rules of the stacked trainer, one small function per optimizer.

A rule maps a gradient ``g`` and its two state slots to ``(rate, direction, s1, s2)``: the step
is ``rate * direction``, and ``rate`` (the per-coordinate step size) also scales the proximal
L1 step in :func:`optimizer_step`, so exact zeros arise in the optimizer's own metric.  Every
value is per network (broadcast from ``[M]``), so one stack trains networks with different
learning rates and penalties.  ``tests/test_optimizers.py`` checks each rule against Keras or
the documented formula.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple


class StepState(NamedTuple):
    """Per-network values of one step, broadcast to a parameter's rank."""

    lr: Any
    correction1: Any  # Adam's bias corrections 1 - beta**t
    correction2: Any
    penalty: Any
    mixture: Any
    mask: Any  # which networks take this step


class UpdateSettings(NamedTuple):
    """Static (trace-time) facts of one parameter's update: whether it is penalised and how."""

    penalised: bool
    group_rows: bool  # group lasso on each input's outgoing weights (the input kernel)
    use_max_norm: bool


def _sgd(tf, g, s1, s2, st):
    return st.lr, g, s1, s2


def _momentum(tf, g, s1, s2, st):
    s1 = 0.9 * s1 + g
    return st.lr, s1, s1, s2


def _nesterov(tf, g, s1, s2, st):
    s1 = 0.9 * s1 + g
    return st.lr, g + 0.9 * s1, s1, s2


def _adagrad(tf, g, s1, s2, st):
    s1 = s1 + tf.square(g)
    return st.lr / (tf.sqrt(s1) + 1e-7), g, s1, s2


def _rmsprop(tf, g, s1, s2, st):
    s1 = 0.9 * s1 + 0.1 * tf.square(g)
    return st.lr / (tf.sqrt(s1) + 1e-7), g, s1, s2


def _adadelta(tf, g, s1, s2, st):
    s1 = 0.95 * s1 + 0.05 * tf.square(g)
    rate = st.lr * tf.sqrt(s2 + 1e-6) / tf.sqrt(s1 + 1e-6)
    s2 = 0.95 * s2 + 0.05 * tf.square(rate / st.lr * g)
    return rate, g, s1, s2


def _adam(tf, g, s1, s2, st):
    s1 = 0.9 * s1 + 0.1 * g
    s2 = 0.999 * s2 + 0.001 * tf.square(g)
    return st.lr / (tf.sqrt(s2 / st.correction2) + 1e-7), s1 / st.correction1, s1, s2


UPDATE_RULES: dict[str, Callable[..., tuple[Any, Any, Any, Any]]] = {
    "sgd": _sgd, "momentum": _momentum, "nesterov": _nesterov, "adagrad": _adagrad,
    "rmsprop": _rmsprop, "adadelta": _adadelta, "adam": _adam, "adamw": _adam,
}


def optimizer_step(tf, optimizer: str, p, g, s1_old, s2_old, st: StepState, decayed=None,
                   shrunk=None):
    """One step of ``optimizer`` on parameters ``p`` (the trainer passes every trained
    parameter of a network as one flat vector), before masking: the new values, the state
    slots and the per-coordinate rate.

    ``decayed`` and ``shrunk`` are 0/1 masks of the coordinates that AdamW's decoupled decay
    and the L1 part's proximal step (exact zeros) apply to; ``None`` when no network is
    penalised.  A coordinate outside a mask gets exactly the unpenalised step."""
    rate, direction, s1, s2 = UPDATE_RULES[optimizer](tf, g, s1_old, s2_old, st)
    new = p - rate * direction
    if decayed is not None and optimizer == "adamw":
        new = new - st.lr * st.penalty * (1 - st.mixture) * p * decayed
    if shrunk is not None:
        threshold = rate * st.penalty * st.mixture * shrunk
        new = tf.sign(new) * tf.maximum(tf.abs(new) - threshold, 0.0)
    return new, s1, s2, rate


def group_shrink(tf, new, rate, st: StepState, lead: int):
    """The group lasso's proximal step on each input's outgoing weights (a row of the input
    kernel), with the row's mean rate: whole inputs drop out."""
    norms = tf.sqrt(tf.reduce_sum(tf.square(new), lead + 1, keepdims=True))
    threshold = tf.reduce_mean(rate * st.penalty * st.mixture * tf.ones_like(new), lead + 1,
                               keepdims=True)
    return new * tf.maximum(1.0 - threshold / tf.maximum(norms, 1e-12), 0.0)


def cap_norms(tf, new, max_norm, lead: int):
    """Each unit's or filter's incoming weights (over its inputs and a kernel's window, as
    Keras's ``max_norm``) rescaled to a norm of at most ``max_norm``."""
    axes = list(range(lead, len(new.shape) - 1)) if len(new.shape) - lead > 2 else lead
    norms = tf.sqrt(tf.reduce_sum(tf.square(new), axes, keepdims=True))
    return new * tf.minimum(1.0, max_norm / tf.maximum(norms, 1e-12))


def l2_penalty_applies(optimizer: str) -> bool:
    """Whether the L2 part enters the loss (AdamW applies it as decoupled weight decay)."""
    return optimizer != "adamw"
