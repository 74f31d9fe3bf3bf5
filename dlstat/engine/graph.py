"""The stacked trainer: M same-shaped networks trained in one compiled TensorFlow graph.

Weights carry a leading stack axis (``[M, in, out]``) and every dense layer is a batched matmul.
The whole epoch loop runs inside one ``tf.function``: shuffling permutes row indices in the
graph, each network sees its own training rows (padded to one shape, pads weighted 0), and early
stopping, best-weight restore and divergence checks are per network.  Randomness (shuffles,
dropout masks) comes from a counter-based integer hash of (network seed, counter, position), so
a network's numbers do not depend on the other networks in its stack and repeat exactly.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..architecture import Activation, BatchNorm, Dense, Dropout
from .job import StackJob, StackResult
from .network import first_kernel_name, init_params, is_penalised, is_trainable

_M32 = 0xFFFFFFFF
_CACHE: dict[Any, Any] = {}


def tf_module():
    """Import TensorFlow once, quietly and deterministically."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf
    except ImportError as exc:
        from ..errors import DlstatError

        raise DlstatError(
            f"training needs TensorFlow >= 2.16, which could not be imported ({exc}). Install "
            "it with: pip install 'dlstat[cpu]' (or 'dlstat[gpu]', or the tensorflow wheel)."
        ) from None

    if not getattr(tf_module, "_configured", False):
        # No global op-determinism switch: it would make a user's unseeded Keras code fail in
        # the same process, and the engine needs none (no TF random ops; CPU kernels repeat).
        # Each configuration is traced once by design; TensorFlow's "retracing" advice is noise.
        tf.get_logger().setLevel("ERROR")
        tf_module._configured = True  # type: ignore[attr-defined]
    return tf


def train_first_order(job: StackJob) -> StackResult:
    """Train ``job`` with a first-order optimizer (everything but L-BFGS)."""
    tf = tf_module()
    dtype = tf.float32
    params0 = job.init or init_params(job.topology, job.seeds, job.output_bias)
    names = sorted(params0)
    idx, w = _padded_rows(job.train_weights, job.batch_size)
    if job.val_weights is not None:
        vidx, vw = _padded_rows(job.val_weights, None)
    else:
        vidx, vw = np.zeros((job.size, 1), np.int32), np.zeros((job.size, 1))
    batch = idx.shape[1] if job.batch_size is None else min(job.batch_size, idx.shape[1])
    fn = _compiled(job, tuple(names))
    out = fn(
        tf.constant(job.X, dtype), tf.constant(job.Y, dtype),
        tf.constant(idx), tf.constant(w, dtype), tf.constant(vidx), tf.constant(vw, dtype),
        [tf.constant(params0[k], dtype) for k in names],
        tf.constant(job.penalty, dtype), tf.constant(job.mixture, dtype),
        tf.constant(job.learning_rate, dtype), tf.constant(job.seeds, tf.int64),
        tf.constant(job.epochs, tf.int32), tf.constant(job.patience or 0, tf.int32),
        tf.constant(batch, tf.int32), tf.constant(job.max_norm or 0.0, dtype),
    )
    params, loss, val_loss, epochs_run, best_epoch, diverged = out
    has_val = job.val_weights is not None
    return StackResult(
        params={k: v.numpy().astype(np.float64) for k, v in zip(names, params)},
        loss=loss.numpy().astype(np.float64),
        val_loss=val_loss.numpy().astype(np.float64) if has_val else None,
        epochs_run=epochs_run.numpy(),
        best_epoch=best_epoch.numpy() if has_val else np.zeros(job.size, np.int32),
        diverged=diverged.numpy().astype(bool),
    )


def activate(tf, z, name: str):
    """The activation ``name`` applied to tensor ``z``."""
    fns = {"relu": tf.nn.relu, "sigmoid": tf.sigmoid, "tanh": tf.tanh, "elu": tf.nn.elu,
           "selu": tf.nn.selu, "gelu": lambda v: tf.nn.gelu(v, approximate=False),
           "swish": tf.nn.silu, "softplus": tf.nn.softplus, "linear": tf.identity}
    return fns[name](z)


def row_loss(tf, family: str, eta, y):
    """Unit deviance / 2 per row, summed over outputs: [M, B]."""
    if family == "gaussian":
        return 0.5 * tf.reduce_sum(tf.square(y - eta), -1)
    if family == "binomial":
        return tf.reduce_sum(tf.nn.softplus(eta) - y * eta, -1)
    if family == "multinomial":
        return tf.reduce_logsumexp(eta, -1) - tf.reduce_sum(y * eta, -1)
    ylogy = tf.where(y > 0, y * tf.math.log(tf.where(y > 0, y, tf.ones_like(y))), tf.zeros_like(y))
    return tf.reduce_sum(tf.exp(eta) - y * eta - y + ylogy, -1)


def _padded_rows(weights: np.ndarray, batch_size: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Per-network row indices and weights, padded to one length (a multiple of the batch)."""
    rows = [np.flatnonzero(wm > 0) for wm in weights]
    longest = max(1, max(len(r) for r in rows))
    length = longest if batch_size is None else math.ceil(longest / batch_size) * batch_size
    idx = np.zeros((len(rows), length), np.int32)
    w = np.zeros((len(rows), length))
    for m, r in enumerate(rows):
        idx[m, : len(r)] = r
        w[m, : len(r)] = weights[m, r]
    return idx, w


def _compiled(job: StackJob, names: tuple[str, ...]):
    """The training function for this job's static configuration, traced once and cached."""
    key = (job.topology.layers, job.topology.output_bias, job.family, job.optimizer,
           job.shuffle, job.max_norm is not None, job.group_inputs, names)
    if key not in _CACHE:
        from .cache import cached_function

        _CACHE[key] = cached_function(tf_module(), key, lambda: _build(job, names))
    return _CACHE[key]


def _build(job: StackJob, names: tuple[str, ...]):
    tf = tf_module()
    # Helpers hold only static Python control flow: AutoGraph need not convert them (faster tracing).
    plain = tf.autograph.experimental.do_not_convert
    layers = job.topology.layers
    family, optimizer, shuffle = job.family, job.optimizer, job.shuffle
    use_max_norm = job.max_norm is not None
    group_inputs = job.group_inputs
    first_kernel = first_kernel_name(names)
    trainable = [is_trainable(n, job.topology) for n in names]
    penalised = [is_penalised(n) for n in names]
    pos = {n: i for i, n in enumerate(names)}

    @plain
    def hash32(x):
        x = tf.bitwise.bitwise_and(
            tf.bitwise.bitwise_xor(tf.bitwise.right_shift(x, 16), x) * 0x45D9F3B, _M32)
        x = tf.bitwise.bitwise_and(
            tf.bitwise.bitwise_xor(tf.bitwise.right_shift(x, 16), x) * 0x45D9F3B, _M32)
        return tf.bitwise.bitwise_xor(tf.bitwise.right_shift(x, 16), x)

    @plain
    def random_bits(seeds, counter, shape):
        """uint32-valued int64 hashes, [M, *shape], a function of (seed, counter, position)."""
        base = hash32(tf.bitwise.bitwise_xor(hash32(tf.bitwise.bitwise_and(seeds, _M32)),
                                             tf.bitwise.bitwise_and(counter, _M32)))
        positions = tf.reshape(tf.range(tf.reduce_prod(shape), dtype=tf.int64), shape)
        base = tf.reshape(base, tf.concat([[-1], tf.ones_like(shape)], 0))
        return hash32(tf.bitwise.bitwise_xor(base, hash32(positions)[None]))

    @plain
    def forward(P, h, training, seeds, counter, rw):
        """Link-scale outputs [M, B, k]; also the updated batch-norm moving statistics."""
        moving = {}
        for i, layer in enumerate(layers):
            if isinstance(layer, Dense):
                h = activate(tf, tf.matmul(h, P[pos[f"dense{i}/kernel"]]) + P[pos[f"dense{i}/bias"]],
                             layer.activation)
            elif isinstance(layer, Activation):
                h = activate(tf, h, layer.name)
            elif isinstance(layer, Dropout) and training and layer.rate > 0:
                bits = random_bits(seeds, counter * 64 + i, tf.shape(h, tf.int64)[1:])
                keep = tf.cast(tf.bitwise.bitwise_and(bits, 0xFFFFFF), h.dtype) / 16777216.0
                h = tf.where(keep >= layer.rate, h / (1.0 - layer.rate), tf.zeros_like(h))
            elif isinstance(layer, BatchNorm):
                mm, mv = P[pos[f"bn{i}/moving_mean"]], P[pos[f"bn{i}/moving_var"]]
                if training:
                    wgt = rw[:, :, None]
                    sw = tf.maximum(tf.reduce_sum(wgt, 1, keepdims=True), 1e-12)
                    mean = tf.reduce_sum(wgt * h, 1, keepdims=True) / sw
                    var = tf.reduce_sum(wgt * tf.square(h - mean), 1, keepdims=True) / sw
                    moving[f"bn{i}/moving_mean"] = layer.momentum * mm + (1 - layer.momentum) * \
                        tf.stop_gradient(mean)
                    moving[f"bn{i}/moving_var"] = layer.momentum * mv + (1 - layer.momentum) * \
                        tf.stop_gradient(var)
                else:
                    mean, var = mm, mv
                h = (h - mean) * tf.math.rsqrt(var + layer.epsilon) * P[pos[f"bn{i}/gamma"]] + \
                    P[pos[f"bn{i}/beta"]]
        eta = tf.matmul(h, P[pos["output/kernel"]]) + P[pos["output/bias"]]
        return eta, moving

    @plain
    def weighted_mean(values, weights):
        sw = tf.reduce_sum(weights, 1)
        return tf.reduce_sum(values * weights, 1) / tf.maximum(sw, 1e-12), sw

    @plain
    def per_net(v):
        """A per-network vector [M] broadcast against parameters, all of rank 3 [M, a, b]."""
        return v[:, None, None]

    @plain
    def l2_term(P, penalty, mixture):
        total = tf.zeros_like(penalty)
        if optimizer == "adamw":  # AdamW applies the L2 part as decoupled weight decay instead
            return total
        for i in range(len(names)):
            if penalised[i]:
                total += 0.5 * penalty * (1 - mixture) * tf.reduce_sum(tf.square(P[i]), [1, 2])
        return total

    @plain
    def apply_update(i, p, g, s1_old, s2_old, step_state, max_norm):
        """One optimizer step for parameter i of every network where ``apply`` holds.

        ``step_state`` holds the per-network values broadcast once per step (not per
        parameter): learning rate, Adam's bias corrections, penalty, mixture and the mask."""
        lr_, correction1, correction2, lam, alpha, mask = step_state
        s1, s2 = s1_old, s2_old
        # ``rate`` is the per-coordinate step size of this optimizer (step = rate * direction);
        # the proximal L1 step below uses it, so exact zeros arise in the optimizer's metric.
        if optimizer == "sgd":
            rate, direction = lr_, g
        elif optimizer in ("momentum", "nesterov"):
            s1 = 0.9 * s1 + g
            rate, direction = lr_, (g + 0.9 * s1 if optimizer == "nesterov" else s1)
        elif optimizer == "adagrad":
            s1 = s1 + tf.square(g)
            rate, direction = lr_ / (tf.sqrt(s1) + 1e-7), g
        elif optimizer == "rmsprop":
            s1 = 0.9 * s1 + 0.1 * tf.square(g)
            rate, direction = lr_ / (tf.sqrt(s1) + 1e-7), g
        elif optimizer == "adadelta":
            s1 = 0.95 * s1 + 0.05 * tf.square(g)
            rate = lr_ * tf.sqrt(s2 + 1e-6) / tf.sqrt(s1 + 1e-6)
            direction = g
            s2 = 0.95 * s2 + 0.05 * tf.square(rate / lr_ * g)
        else:  # adam, adamw
            s1 = 0.9 * s1 + 0.1 * g
            s2 = 0.999 * s2 + 0.001 * tf.square(g)
            rate = lr_ / (tf.sqrt(s2 / correction2) + 1e-7)
            direction = s1 / correction1
        step = rate * direction
        new = p - step
        if penalised[i]:
            if optimizer == "adamw":
                new = new - lr_ * lam * (1 - alpha) * p
            # Proximal step for the L1 part: weights reach exact zeros.
            threshold = rate * lam * alpha
            if group_inputs and names[i] == first_kernel:
                # Group lasso on each input's outgoing weights (one row of the first kernel).
                norms = tf.sqrt(tf.reduce_sum(tf.square(new), 2, keepdims=True))
                row_threshold = tf.reduce_mean(threshold * tf.ones_like(new), 2, keepdims=True)
                new = new * tf.maximum(1.0 - row_threshold / tf.maximum(norms, 1e-12), 0.0)
            else:
                new = tf.sign(new) * tf.maximum(tf.abs(new) - threshold, 0.0)
            if use_max_norm:
                norms = tf.sqrt(tf.reduce_sum(tf.square(new), 1, keepdims=True))
                new = new * tf.minimum(1.0, max_norm / tf.maximum(norms, 1e-12))
        return tf.where(mask, new, p), tf.where(mask, s1, s1_old), tf.where(mask, s2, s2_old)

    def run(X, Y, idx, w, vidx, vw, params, penalty, mixture, lr, seeds, epochs, patience,
            batch, max_norm):
        M = tf.shape(idx)[0]
        n_pad = tf.shape(idx)[1]
        steps = n_pad // batch
        P = list(params)
        S1 = [tf.zeros_like(p) for p in P]
        S2 = [tf.zeros_like(p) for p in P]
        t = tf.zeros([M], X.dtype)
        active = tf.ones([M], tf.bool)
        diverged = tf.zeros([M], tf.bool)
        epochs_run = tf.zeros([M], tf.int32)
        best_epoch = tf.zeros([M], tf.int32)
        best_val = tf.fill([M], tf.constant(np.inf, X.dtype))
        wait = tf.zeros([M], tf.int32)
        best_P = list(P)
        has_val = tf.reduce_sum(vw, 1) > 0
        Xv = tf.gather(X, vidx)
        Yv = tf.gather(Y, vidx)
        hist = tf.TensorArray(X.dtype, size=0, dynamic_size=True)
        vhist = tf.TensorArray(X.dtype, size=0, dynamic_size=True)
        nan = tf.constant(np.nan, X.dtype)
        e = tf.constant(0)
        counter = tf.constant(0, tf.int64)
        while e < epochs and tf.reduce_any(active):
            if shuffle:
                keys = tf.bitwise.bitwise_or(
                    random_bits(seeds, tf.cast(2 * e, tf.int64) + 0x5BD1E995,
                                tf.shape(idx, tf.int64)[1:]),
                    tf.where(w > 0, tf.zeros_like(idx, tf.int64), tf.constant(1 << 40, tf.int64)))
                order = tf.argsort(keys, axis=1, stable=True)
                idx_e = tf.gather(idx, order, batch_dims=1)
                w_e = tf.gather(w, order, batch_dims=1)
            else:
                idx_e, w_e = idx, w
            loss_sum = tf.zeros([M], X.dtype)
            weight_sum = tf.zeros([M], X.dtype)
            for s in tf.range(steps):
                ib = idx_e[:, s * batch:(s + 1) * batch]
                wb = w_e[:, s * batch:(s + 1) * batch]
                # Dropout masks depend on (epoch, step) only, not on the stack's longest
                # network, so a network's numbers are the same alone or in any stack.
                counter = tf.cast(e, tf.int64) * (1 << 20) + tf.cast(s, tf.int64) + 1
                with tf.GradientTape() as tape:
                    tape.watch(P)
                    eta, moving = forward(P, tf.gather(X, ib), True, seeds, counter, wb)
                    data_loss, sw = weighted_mean(row_loss(tf, family, eta, tf.gather(Y, ib)), wb)
                    total = tf.reduce_sum(data_loss + l2_term(P, penalty, mixture))
                grads = tape.gradient(total, P)
                finite = tf.math.is_finite(data_loss)
                apply = active & finite & (sw > 0)
                diverged = diverged | (active & ~finite)
                active = active & finite
                t = t + tf.cast(apply, X.dtype)
                t3 = per_net(t)
                mask = per_net(apply)
                step_state = (per_net(lr), 1 - 0.9**t3, 1 - 0.999**t3, per_net(penalty),
                              per_net(mixture), mask)
                updated = [
                    apply_update(i, P[i], grads[i], S1[i], S2[i], step_state, max_norm)
                    if trainable[i]
                    else (tf.where(mask, moving[names[i]], P[i])
                          if names[i] in moving else P[i], S1[i], S2[i])
                    for i in range(len(P))
                ]
                P = [u[0] for u in updated]
                S1 = [u[1] for u in updated]
                S2 = [u[2] for u in updated]
                loss_sum += tf.where(apply, data_loss * sw, 0.0)
                weight_sum += tf.where(apply, sw, 0.0)
            ran = active | (diverged & tf.equal(epochs_run, e))
            epochs_run = tf.where(ran, e + 1, epochs_run)
            hist = hist.write(e, tf.where(ran, loss_sum / tf.maximum(weight_sum, 1e-12), nan))
            eta_v, _ = forward(P, Xv, False, seeds, counter, vw)
            val_loss, _ = weighted_mean(row_loss(tf, family, eta_v, Yv), vw)
            vhist = vhist.write(e, tf.where(active & has_val, val_loss, nan))
            improved = active & has_val & (val_loss < best_val)
            best_val = tf.where(improved, val_loss, best_val)
            best_epoch = tf.where(improved, e + 1, best_epoch)
            wait = tf.where(improved, 0, wait + 1)
            best_P = [tf.where(per_net(improved), p, b) for p, b in zip(P, best_P)]
            if patience > 0:
                active = active & ~(has_val & (wait >= patience))
            e += 1
        use_best = has_val & (best_epoch > 0) & (patience > 0)
        final = [tf.where(per_net(use_best), b, p) for p, b in zip(P, best_P)]
        return (final, hist.stack(), vhist.stack(), epochs_run, best_epoch, diverged)

    # Every dimension is left open so one trace serves all data sizes, stack sizes and widths.
    dtype = tf.float32
    spec3 = tf.TensorSpec([None, None, None], dtype)
    signature = [
        tf.TensorSpec([None, None], dtype), tf.TensorSpec([None, None], dtype),
        tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], dtype),
        tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], dtype),
        [spec3] * len(names),
        tf.TensorSpec([None], dtype), tf.TensorSpec([None], dtype), tf.TensorSpec([None], dtype),
        tf.TensorSpec([None], tf.int64), tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int32),
        tf.TensorSpec([], tf.int32), tf.TensorSpec([], dtype),
    ]
    return tf.function(run, input_signature=signature)
