"""Full-batch L-BFGS for small data and exact GLM fits.

SciPy's L-BFGS-B drives a compiled float64 TensorFlow value-and-gradient of the summed objective
of all M networks (they share no parameters, so the sum separates).  The L1 part of the penalty
is handled exactly by splitting each penalised weight into a positive and a negative part with
bounds at zero, so lasso and elastic-net fits reach exact zeros.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from .graph import tf_module
from .job import StackJob, StackResult
from .layers import StackContext, param_defs, plan, tf_forward
from .network import init_params


def train_lbfgs(job: StackJob) -> StackResult:
    """Minimise each network's mean deviance / 2 + penalty to convergence (``epochs`` = max
    iterations)."""
    tf = tf_module()
    from .training import row_loss

    params0 = init_params(job.topology, job.seeds, job.output_bias)
    names = sorted(params0)
    defs = param_defs(job.topology)
    placed = plan(job.topology)
    train = [n for n in names if defs[n].trainable]
    l1 = bool(np.any(job.penalty * job.mixture > 0))
    split = [l1 and defs[n].penalised for n in train]
    shapes = [params0[n].shape for n in train]
    sizes = [int(np.prod(s)) for s in shapes]

    X = tf.constant(job.X[None], tf.float64)
    Y = tf.constant(job.Y[None], tf.float64)
    w = tf.constant(job.train_weights, tf.float64)
    vw = tf.constant(job.val_weights if job.val_weights is not None
                     else np.zeros_like(job.train_weights), tf.float64)
    lam = tf.constant(job.penalty, tf.float64)[:, None, None]
    alpha = tf.constant(job.mixture, tf.float64)[:, None, None]
    fixed = {n: tf.constant(params0[n], tf.float64) for n in names if n not in train}

    def unpack(theta):
        P, off = dict(fixed), 0
        for name, shape, size, is_split in zip(train, shapes, sizes, split):
            part = tf.reshape(theta[off:off + size], shape)
            off += size
            if is_split:
                part = part - tf.reshape(theta[off:off + size], shape)
                off += size
            P[name] = part
        return P

    def losses(theta):
        P = unpack(theta)
        eta = tf_forward(tf, placed, P, X, StackContext(False))
        rows = row_loss(job.family, eta, Y)
        data = tf.reduce_sum(rows * w, 1) / tf.maximum(tf.reduce_sum(w, 1), 1e-300)
        val = tf.reduce_sum(rows * vw, 1) / tf.maximum(tf.reduce_sum(vw, 1), 1e-300)
        penalty = tf.zeros_like(data)
        off = 0
        for name, size, is_split in zip(train, sizes, split):
            if defs[name].penalised:
                penalty += tf.reduce_sum(0.5 * lam * (1 - alpha) * tf.square(P[name]), [1, 2])
                if is_split:
                    both = tf.reshape(theta[off:off + 2 * size], [2] + list(P[name].shape))
                    penalty += tf.reduce_sum(lam * alpha * both, [0, 2, 3])
            off += size * (2 if is_split else 1)
        return data, val, penalty

    @tf.function
    def value_and_grad(theta):
        with tf.GradientTape() as tape:
            tape.watch(theta)
            data, _, penalty = losses(theta)
            total = tf.reduce_sum(data + penalty)
        return total, tape.gradient(total, theta)

    loss_fn = tf.function(lambda theta: losses(theta)[:2])
    x0, bounds = [], []
    for name, is_split in zip(train, split):
        flat = params0[name].ravel()
        if is_split:
            x0 += [np.maximum(flat, 0), np.maximum(-flat, 0)]
            bounds += [(0, None)] * (2 * flat.size)
        else:
            x0.append(flat)
            bounds += [(None, None)] * flat.size
    history: list[tuple[np.ndarray, np.ndarray]] = []

    def fun(theta):
        f, g = value_and_grad(tf.constant(theta))
        return float(f), g.numpy()

    def record(theta):
        data, val = loss_fn(tf.constant(theta))
        history.append((data.numpy(), val.numpy()))

    with np.errstate(all="ignore"):
        res = minimize(fun, np.concatenate(x0), jac=True, method="L-BFGS-B",
                       bounds=bounds if l1 else None, callback=record,
                       options={"maxiter": job.epochs, "maxcor": 20, "ftol": 1e-15,
                                "gtol": 1e-10, "maxls": 50})
    if not history:
        record(res.x)
    final = {k: v.numpy() for k, v in unpack(tf.constant(res.x)).items()}
    loss = np.array([h[0] for h in history])
    diverged = ~np.isfinite(loss[-1])
    M = job.size
    return StackResult(
        params={k: np.asarray(v, dtype=np.float64) for k, v in final.items()},
        loss=loss,
        val_loss=np.array([h[1] for h in history]) if job.val_weights is not None else None,
        epochs_run=np.full(M, len(history), np.int32),
        best_epoch=np.zeros(M, np.int32),
        diverged=diverged,
        notes=[] if res.success else [f"L-BFGS stopped before convergence: {res.message}"],
    )
