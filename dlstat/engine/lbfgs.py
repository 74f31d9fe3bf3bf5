"""Full-batch L-BFGS for small data and exact GLM fits.

SciPy's L-BFGS-B drives a compiled float64 TensorFlow value-and-gradient of the summed objective
of all M networks (they share no parameters, so the sum separates).  The L1 part of the penalty
is handled exactly by splitting each penalised weight into a positive and a negative part with
bounds at zero, so lasso and elastic-net fits reach exact zeros.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from .graph import tf_module
from .job import StackJob, StackResult
from .layers import StackContext, param_defs, plan, tf_forward
from .network import Params, init_params


@dataclass(frozen=True)
class Layout:
    """Where each trained parameter sits in the flat vector ``theta`` SciPy optimises."""

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    split: tuple[bool, ...]  # stored as a positive minus a negative part (L1)
    penalised: tuple[bool, ...]

    @classmethod
    def of(cls, job: StackJob, params0: Params) -> Layout:
        defs = param_defs(job.topology)
        names = tuple(n for n in sorted(params0) if defs[n].trainable)
        l1 = bool(np.any(job.penalty * job.mixture > 0))
        return cls(names, tuple(params0[n].shape for n in names),
                   tuple(l1 and defs[n].penalised for n in names),
                   tuple(defs[n].penalised for n in names))

    def sizes(self) -> list[int]:
        return [int(np.prod(s)) for s in self.shapes]

    def start(self, params0: Params) -> tuple[np.ndarray, list[tuple[float | None, None]]]:
        """The starting ``theta`` and its bounds (parts of split weights are >= 0)."""
        x0, bounds = [], []
        for name, is_split in zip(self.names, self.split):
            flat = params0[name].ravel()
            if is_split:
                x0 += [np.maximum(flat, 0), np.maximum(-flat, 0)]
                bounds += [(0, None)] * (2 * flat.size)
            else:
                x0.append(flat)
                bounds += [(None, None)] * flat.size
        return np.concatenate(x0), bounds


def _objective(tf, job: StackJob, layout: Layout, params0: Params):
    """``losses(theta)`` → per-network (data loss, validation loss, penalty), and ``unpack``."""
    from ..families.ops import tf_ops

    placed = plan(job.topology)
    X = tf.constant(job.X[None], tf.float64)
    Y = tf.constant(job.Y[None], tf.float64)
    offset = tf.constant(job.offsets()[None], tf.float64)
    w = tf.constant(job.repeated_weights(), tf.float64)
    vw = tf.constant(job.val_weights if job.val_weights is not None
                     else np.zeros_like(job.train_weights), tf.float64)
    lam = tf.constant(job.penalty, tf.float64)[:, None, None]
    alpha = tf.constant(job.mixture, tf.float64)[:, None, None]
    family_parameter = tf.constant(job.family_parameters(), tf.float64)[:, None, None]
    fixed = {n: tf.constant(v, tf.float64) for n, v in params0.items() if n not in layout.names}
    sizes = layout.sizes()

    def unpack(theta):
        P, off = dict(fixed), 0
        for name, shape, size, is_split in zip(layout.names, layout.shapes, sizes, layout.split):
            part = tf.reshape(theta[off:off + size], shape)
            off += size
            if is_split:
                part = part - tf.reshape(theta[off:off + size], shape)
                off += size
            P[name] = part
        return P

    def losses(theta):
        P = unpack(theta)
        eta = tf_forward(tf, placed, P, X, StackContext(False)) + offset
        (data, _), (val, _) = job.family.batch_losses(tf_ops(), Y, eta, (w, vw),
                                                      family_parameter)
        penalty = tf.zeros_like(data)
        off = 0
        for name, size, is_split, pen in zip(layout.names, sizes, layout.split, layout.penalised):
            if pen:
                penalty += tf.reduce_sum(0.5 * lam * (1 - alpha) * tf.square(P[name]), [1, 2])
                if is_split:
                    both = tf.reshape(theta[off:off + 2 * size], [2] + list(P[name].shape))
                    penalty += tf.reduce_sum(lam * alpha * both, [0, 2, 3])
            off += size * (2 if is_split else 1)
        return data, val, penalty

    return losses, unpack


def train_lbfgs(job: StackJob) -> StackResult:
    """Minimise each network's mean deviance / 2 + penalty to convergence (``epochs`` = max
    iterations)."""
    tf = tf_module()
    params0 = init_params(job.topology, job.seeds, job.output_bias, job.initial)
    layout = Layout.of(job, params0)
    losses, unpack = _objective(tf, job, layout, params0)

    @tf.function
    def value_and_grad(theta):
        with tf.GradientTape() as tape:
            tape.watch(theta)
            data, _, penalty = losses(theta)
            total = tf.reduce_sum(data + penalty)
        return total, tape.gradient(total, theta)

    loss_fn = tf.function(lambda theta: losses(theta)[:2])
    history: list[tuple[np.ndarray, np.ndarray]] = []

    def fun(theta):
        f, g = value_and_grad(tf.constant(theta))
        return float(f), g.numpy()

    def record(theta):
        data, val = (v.numpy() for v in loss_fn(tf.constant(theta)))
        history.append((data, val))
        if job.on_epoch is not None:
            job.on_epoch(len(history), data,
                         val if job.val_weights is not None else np.full_like(val, np.nan))

    x0, bounds = layout.start(params0)
    with np.errstate(all="ignore"):
        res = minimize(fun, x0, jac=True, method="L-BFGS-B",
                       bounds=bounds if any(layout.split) else None, callback=record,
                       options={"maxiter": job.epochs, "maxcor": 20, "ftol": 1e-15,
                                "gtol": 1e-10, "maxls": 50})
    if not history:
        record(res.x)
    final = {k: np.asarray(v.numpy(), dtype=np.float64)
             for k, v in unpack(tf.constant(res.x)).items()}
    return _result(job, final, history, res)


def _result(job: StackJob, params: Params, history, res) -> StackResult:
    loss = np.array([h[0] for h in history])
    M = job.size
    return StackResult(
        params=params,
        loss=loss,
        val_loss=np.array([h[1] for h in history]) if job.val_weights is not None else None,
        epochs_run=np.full(M, len(history), np.int32),
        best_epoch=np.zeros(M, np.int32),
        diverged=~np.isfinite(loss[-1]),
        notes=[] if res.success else [f"L-BFGS stopped before convergence: {res.message}"],
    )
