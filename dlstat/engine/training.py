"""The traced epoch loop of the stacked trainer (imported only once TensorFlow is loaded).

``make_run(config)`` returns the Python function that ``graph.py`` traces: the whole training
run (epochs, shuffles, mini-batch steps, early stopping and best-weight restore, per network)
inside one ``tf.function``.  Helpers hold only static Python control flow and are marked
``do_not_convert``: AutoGraph need not convert them (faster tracing).

A job of exactly one network (``RunConfig.solo``, decided at trace time from the job, never
from a runtime shape) runs without the stack axis: plain ``MatMul`` instead of batched matmuls
(whose gradients at an unknown batch shape add broadcast reductions), scalar per-network
values, and the rows permuted once per epoch so a step slices its batch instead of gathering
it.  Its numbers equal the same network's in any stack to float32 rounding (not bit for bit:
the kernels differ); any stack of two or more networks runs the stacked path only.  (TensorFlow's
fused ``ResourceApplyAdam``-style kernels were tried here: they need variables, and reading and
updating those per step cost more than the element-wise rules they replace, 35 vs 29 ms of CPU
per epoch on the benchmark's fit.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from .graph import tf_module
from .job import SIMD_ROWS
from .layers import Placed, StackContext, tf_forward
from .optimizers import (
    StepState,
    UpdateSettings,
    cap_norms,
    group_shrink,
    l2_penalty_applies,
    optimizer_step,
)

tf = tf_module()
plain = tf.autograph.experimental.do_not_convert
_M32 = 0xFFFFFFFF


@dataclass(frozen=True)
class RunConfig:
    """The static structure a traced run depends on."""

    placed: tuple[Placed, ...]
    names: tuple[str, ...]  # parameter keys in the order the run receives them
    trainable: tuple[bool, ...]
    updates: tuple[UpdateSettings, ...]
    family: Any  # the family's LossKey (dlstat.families)
    report_epoch: Any = None  # a Python callable(epoch, loss[M], val_loss[M]), or None
    solo: bool = False  # one network, no stack axis (see the module's docstring)
    offset: bool = True  # whether the job has an offset (without one, no gather adds zeros)
    optimizer: str = "adam"
    # Whether any network of the job has a penalty: without one the penalty's terms and its
    # proximal steps are left out of the graph (they would add exact zeros: same numbers).
    penalty_on: bool = True
    # On the single-network path: whether the rows are permuted once per epoch (one gather,
    # then each step slices its batch) or, for a large design, each step gathers its batch
    # (the same rows, without a second copy of the design held for the epoch).
    permute_rows: bool = True
    # Whether each network has its own dropout rate (graph inputs, not the layers' constants).
    dropout_per_network: bool = False
    # Whether every network of the stack has the same seed (so the same dropout bits).
    shared_seed: bool = False
    # Whether any penalised network has an L1 part (mixture > 0): without one the L1 step's
    # threshold is exactly zero everywhere and its element-wise ops are left out of the graph.
    l1_on: bool = True
    # Whether any penalised network has an L2 part (mixture < 1): without one its gradient
    # terms (exact zeros) are left out of the graph.
    l2_on: bool = True

    @property
    def lead(self) -> int:
        """The row axis of a batch: 1 in a stack, 0 on the single-network path."""
        return 0 if self.solo else 1

    def per_net(self, v, rank: int):
        """A per-network value broadcast against a parameter of rank ``rank``."""
        return v if self.solo else per_net(v, rank)

    @property
    def trained(self) -> list[int]:
        """Positions (in ``names``) of the trained parameters, in the flat vector's order."""
        return [i for i, on in enumerate(self.trainable) if on]

    @property
    def flat_rank(self) -> int:
        """The rank of the flat trained parameters: ``[M, T]``, or ``[T]`` alone."""
        return self.lead + 1

    def coordinate_masks(self) -> tuple[list[bool], list[bool]] | None:
        """Per trained parameter: whether AdamW's decay and whether the element-wise L1 step
        apply to it; ``None`` when no network of the job is penalised."""
        hows = [self.updates[i] for i in self.trained]
        if not self.penalty_on or not any(h.penalised for h in hows):
            return None
        return [h.penalised for h in hows], [h.penalised and not h.group_rows and self.l1_on
                                             for h in hows]

    @property
    def per_parameter_steps(self) -> bool:
        """Whether a step also needs each parameter's shape (group lasso, max-norm)."""
        return any((h.group_rows and self.penalty_on) or (h.penalised and h.use_max_norm)
                   for h in (self.updates[i] for i in self.trained))


class Tracking(NamedTuple):
    """Per-network early-stopping state, [M] each."""

    active: Any
    diverged: Any
    epochs_run: Any
    best_epoch: Any
    best_val: Any
    wait: Any


@plain
def hash32(x):
    x = tf.bitwise.bitwise_and(
        tf.bitwise.bitwise_xor(tf.bitwise.right_shift(x, 16), x) * 0x45D9F3B, _M32)
    x = tf.bitwise.bitwise_and(
        tf.bitwise.bitwise_xor(tf.bitwise.right_shift(x, 16), x) * 0x45D9F3B, _M32)
    return tf.bitwise.bitwise_xor(tf.bitwise.right_shift(x, 16), x)


@plain
def random_bits(seeds, counter, shape, hashed=None):
    """uint32-valued int64 hashes, [M, *shape], a function of (seed, counter, position).

    ``hashed`` is ``position_hashes`` of a shape with at least ``shape[0]`` rows: the
    positions' hashes do not change from step to step, so a step reuses them."""
    base = hash32(tf.bitwise.bitwise_xor(hash32(tf.bitwise.bitwise_and(seeds, _M32)),
                                         tf.bitwise.bitwise_and(counter, _M32)))
    if hashed is None:
        hashed = position_hashes(shape)
    else:  # row-major positions: the first rows of a taller table are the same numbers
        hashed = hashed[:shape[0]]
    base = tf.reshape(base, tf.concat([[-1], tf.ones_like(shape)], 0))
    return hash32(tf.bitwise.bitwise_xor(base, hashed[None]))


@plain
def position_hashes(shape):
    """The hash of every position of an array of ``shape`` (row-major order)."""
    return hash32(tf.reshape(tf.range(tf.reduce_prod(shape), dtype=tf.int64), shape))


@plain
def dropout_positions(cfg: RunConfig, batch) -> dict[int, Any]:
    """Each dropout layer's position hashes for a full batch (in a stack, padded to whole
    SIMD packets as ``simd_rows`` pads it), made once per run."""
    rows = batch if cfg.solo else batch + (-batch) % SIMD_ROWS
    return {p.index: position_hashes(tf.cast(tf.concat([[rows], p.in_shape], 0), tf.int64))
            for p in cfg.placed if p.kind.name == "dropout" and p.layer.rate > 0}


@plain
def batch_loss(family, eta, y, w, parameter=None):
    """The loss of each network's batch, [M] (the weighted mean of unit deviance / 2, or a
    set-level loss such as Cox's over the batch's risk sets), and its weights' sum
    (``family``: the fit's ``LossKey``, whose formula the family table defines once for NumPy
    and TensorFlow; ``parameter``: the family's own parameter per network, broadcast against
    ``eta``)."""
    from ..families.ops import tf_ops

    return family.batch_loss(tf_ops(), y, eta, w, parameter)


@plain
def per_net(v, rank: int = 3):
    """A per-network vector [M] broadcast against a tensor of rank ``rank``."""
    return v[(slice(None),) + (None,) * (rank - 1)]


@plain
def with_l2_gradients(cfg: RunConfig, P, grads, penalty, mixture):
    """``grads`` (of the trained parameters) plus the gradient of the L2 part of the penalty,
    ``0.5 * penalty * (1 - mixture) * sum(p ** 2)`` per penalised parameter, written out as
    the gradient tape derives it (``c * (p * 2)``, then added to the data's gradient: the same
    float32 numbers) without the tape's full-size square, broadcast and sum."""
    if not (cfg.penalty_on and cfg.l2_on and l2_penalty_applies(cfg.optimizer)):
        return grads
    scale = 0.5 * penalty * (1 - mixture)
    out = list(grads)
    for k, i in enumerate(cfg.trained):
        if cfg.updates[i].penalised:
            p = P[i]
            out[k] = grads[k] + cfg.per_net(scale, len(p.shape)) * (p * 2.0)
    return out


@plain
def epoch_order(seeds, e, idx, w):
    """This epoch's row order per network: a seeded shuffle of its rows, pads last."""
    keys = tf.bitwise.bitwise_or(
        random_bits(seeds, tf.cast(2 * e, tf.int64) + 0x5BD1E995, tf.shape(idx, tf.int64)[1:]),
        tf.where(w > 0, tf.zeros_like(idx, tf.int64), tf.constant(1 << 40, tf.int64)))
    order = tf.argsort(keys, axis=1, stable=True)
    return tf.gather(idx, order, batch_dims=1), tf.gather(w, order, batch_dims=1)


@plain
def simd_rows(ib, wb):
    """A step's rows padded (row 0, weight 0) to a multiple of ``SIMD_ROWS``.

    Element-wise kernels (sigmoid, softplus, exp) compute a tensor's last few elements, past
    its last full SIMD packet, by scalar code that rounds differently; with whole packets per
    network no network sits in that tail, so its numbers do not depend on its stack."""
    extra = (-tf.shape(ib)[1]) % SIMD_ROWS
    return tf.pad(ib, [[0, 0], [0, extra]]), tf.pad(wb, [[0, 0], [0, extra]])


ADAM_BETAS = (0.9, 0.999)


@plain
def next_decays(decays, apply, solo: bool):
    """Adam's ``beta ** t`` (both betas, ``[2, M]`` float64, ``[2]`` on the single-network
    path) after one more step of the networks that ``apply`` it.

    Carried as a running product, two multiplications per step: multiplication rounds
    correctly, the same way wherever a network sits in its stack (``tf.pow`` does not: it
    takes a vectorised path for some positions and a scalar one for others), so a stack split
    into chunks computes the same numbers; and it costs two ops per step, not the sixty of an
    exponentiation by squaring."""
    betas = tf.constant(ADAM_BETAS, tf.float64)
    return tf.where(apply, decays * (betas if solo else betas[:, None]), decays)


@plain
def step_states(ranks, decays, apply, lr, penalty, mixture,
                solo: bool = False) -> dict[int, StepState]:
    """The step's per-network values, broadcast once per rank in ``ranks`` (not per
    parameter); on the single-network path (``solo``) they are scalars and need no broadcast."""
    states = {}
    corrections = tf.unstack(tf.cast(1 - decays, lr.dtype))
    for rank in sorted(set(ranks)):
        def cast(v, rank=rank):
            return v if solo else per_net(v, rank)

        states[rank] = StepState(cast(lr), cast(corrections[0]), cast(corrections[1]),
                                 cast(penalty), cast(mixture), cast(apply))
    return states


@plain
def flat_of(cfg: RunConfig, tensors):
    """Each network's tensors (trained parameters, or their gradients) as one flat vector:
    ``[M, T]`` (``[T]`` alone).  The optimizer runs once over it instead of once per parameter:
    a tenth of the small element-wise ops per step, with the same number per coordinate."""
    if cfg.solo:
        return tf.concat([tf.reshape(t, [-1]) for t in tensors], 0)
    return tf.concat([tf.reshape(t, tf.stack([tf.shape(t)[0], -1])) for t in tensors], 1)


@plain
def pieces_of(cfg: RunConfig, flat, like):
    """``flat`` split back into tensors shaped as those of ``like``."""
    sizes = tf.stack([tf.reduce_prod(tf.shape(t)[cfg.lead:]) for t in like])
    parts = tf.split(flat, sizes, axis=cfg.lead, num=len(like))
    return [tf.reshape(part, tf.shape(t)) for part, t in zip(parts, like)]


@plain
def mask_vectors(cfg: RunConfig, P):
    """The 0/1 vectors ``[T]`` of the coordinates AdamW decays and the L1 step shrinks (see
    :meth:`RunConfig.coordinate_masks`), or ``()`` when no network is penalised."""
    which = cfg.coordinate_masks()
    if which is None:
        return ()
    sizes = [tf.reduce_prod(tf.shape(P[i])[cfg.lead:]) for i in cfg.trained]
    return tuple(tf.concat([tf.fill([n], 1.0 if on else 0.0) for n, on in zip(sizes, flags)], 0)
                 if any(flags) else None for flags in which)


@plain
def select(mask, new, old):
    """``tf.where(mask, n, o)`` for each pair of ``new`` and ``old`` (lists of tensors), or
    ``new`` / ``old`` themselves when ``mask`` is all true / all false (the usual cases: every
    network takes the step, no network improved): the same values without a full-size select
    per parameter, which on a wide first layer costs as much as its matmul."""
    if not new:
        return []
    every, some = tf.reduce_all(mask), tf.reduce_any(mask)
    branch = tf.where(every, 0, tf.where(some, 2, 1))
    return tf.switch_case(branch, [lambda: list(new), lambda: list(old),
                                   lambda: [tf.where(mask, n, o) for n, o in zip(new, old)]])


@plain
def update_parameters(cfg: RunConfig, P, grads, S1, S2, states, max_norm, masks, moving):
    """Every parameter after the step: the trained ones by one optimizer step over their flat
    vector (then group lasso and max-norm per parameter, when asked), batch normalisation's
    moving statistics from ``moving``; unchanged for the networks not taking the step."""
    trained = [P[i] for i in cfg.trained]
    st = states[cfg.flat_rank]
    flat = flat_of(cfg, trained)
    new, s1, s2, rate = optimizer_step(tf, cfg.optimizer, flat, flat_of(cfg, grads), S1, S2, st,
                                       *masks)
    S1, S2 = select(st.mask, [s1, s2], [S1, S2])
    out = list(P)
    if cfg.per_parameter_steps:
        group = cfg.penalty_on and any(cfg.updates[i].group_rows for i in cfg.trained)
        rates = pieces_of(cfg, rate, trained) if group else [None] * len(trained)
        for i, piece, piece_rate in zip(cfg.trained, pieces_of(cfg, new, trained), rates):
            how, st_i = cfg.updates[i], states[len(P[i].shape)]
            if how.group_rows and cfg.penalty_on:
                piece = group_shrink(tf, piece, piece_rate, st_i, cfg.lead)
            if how.penalised and how.use_max_norm:
                piece = cap_norms(tf, piece, cfg.per_net(max_norm, len(piece.shape)), cfg.lead)
            out[i] = select(st_i.mask, [piece], [P[i]])[0]
    else:
        for i, piece in zip(cfg.trained, pieces_of(cfg, select(st.mask, [new], [flat])[0],
                                                   trained)):
            out[i] = piece
    for i, name in enumerate(cfg.names):
        if name in moving:
            out[i] = tf.where(states[len(P[i].shape)].mask, moving[name], P[i])
    return out, S1, S2


@plain
def train_step(cfg: RunConfig, data, e, s, batch, wb, P, S1, S2, decays, track: Tracking):
    """One mini-batch step of every active network; also its loss and weight sums.

    ``batch`` holds the step's rows of X, Y and the offsets (when the job has one)."""
    (X, _, _, penalty, mixture, lr, seeds, max_norm, masks, positions, family_parameter,
     rates) = data
    Xb, Yb, *Ob = batch
    # Dropout masks depend on (epoch, step) only, not on the stack's longest network, so a
    # network's numbers are the same alone or in any stack.
    counter = tf.cast(e, tf.int64) * (1 << 20) + tf.cast(s, tf.int64) + 1
    # One seed for the whole stack (the folds of a CV, the configurations of a tuning): every
    # network's dropout bits are the same numbers, hashed once and broadcast over the stack.
    drawn = seeds[:1] if cfg.shared_seed else seeds
    bits = ((lambda c, shape, hashed: random_bits(seeds, c, shape, hashed)[0]) if cfg.solo
            else (lambda c, shape, hashed: random_bits(drawn, c, shape, hashed)))
    ctx = StackContext(True, bits, counter, wb, lead=cfg.lead, positions=positions,
                       rates=rates if cfg.dropout_per_network else None)
    with tf.GradientTape() as tape:
        tape.watch(P)
        eta = tf_forward(tf, cfg.placed, dict(zip(cfg.names, P)), Xb, ctx)
        if Ob:
            eta += Ob[0]  # the offset enters the output layer's linear predictor
        data_loss, sw = batch_loss(cfg.family, eta, Yb, wb, cfg.per_net(family_parameter, 3))
        total = tf.reduce_sum(data_loss)
    # Gradients of trained parameters only: none flows into frozen (transferred) layers.
    grads = with_l2_gradients(cfg, P, tape.gradient(total, [P[i] for i in cfg.trained]),
                              penalty, mixture)
    finite = tf.math.is_finite(data_loss)
    apply = track.active & finite & (sw > 0)
    track = track._replace(diverged=track.diverged | (track.active & ~finite),
                           active=track.active & finite)
    decays = next_decays(decays, apply, cfg.solo)
    states = step_states([len(p.shape) for p in P] + [cfg.flat_rank], decays, apply, lr, penalty,
                         mixture, cfg.solo)
    P, S1, S2 = update_parameters(cfg, P, grads, S1, S2, states, max_norm, masks, ctx.moving)
    return (P, S1, S2, decays, track, tf.where(apply, data_loss * sw, 0.0),
            tf.where(apply, sw, 0.0))


@plain
def end_epoch(cfg: RunConfig, e, P, best_P, track: Tracking, val, train_loss, patience,
              family_parameter):
    """Record the epoch, keep each network's best weights, stop networks out of patience."""
    (Xv, Yv, *Ov), vw, has_val = val
    eta_v = tf_forward(tf, cfg.placed, dict(zip(cfg.names, P)), Xv,
                       StackContext(False, lead=cfg.lead))
    if Ov:
        eta_v += Ov[0]
    val_loss, _ = batch_loss(cfg.family, eta_v, Yv, vw, cfg.per_net(family_parameter, 3))
    nan = tf.constant(np.nan, Xv.dtype)
    val_loss = tf.where(track.active & has_val, val_loss, nan)
    improved = track.active & has_val & (val_loss < track.best_val)
    track = track._replace(best_val=tf.where(improved, val_loss, track.best_val),
                           best_epoch=tf.where(improved, e + 1, track.best_epoch),
                           wait=tf.where(improved, 0, track.wait + 1))
    best_P = [select(cfg.per_net(improved, len(p.shape)), [p], [b])[0]
              for p, b in zip(P, best_P)]
    stopped = tf.logical_and(patience > 0, has_val & (track.wait >= patience))
    track = track._replace(active=track.active & ~stopped)
    if cfg.report_epoch is not None:
        losses = [train_loss[None], val_loss[None]] if cfg.solo else [train_loss, val_loss]
        tf.numpy_function(cfg.report_epoch, [e + 1, *losses], [], stateful=True)
    return best_P, track, val_loss


@plain
def rows_of(cfg: RunConfig, X, Y, offsets, rows) -> tuple:
    """X, Y and (when the job has one) the offsets at ``rows``."""
    return tuple(tf.gather(a, rows) for a in ((X, Y, offsets) if cfg.offset else (X, Y)))


@plain
def solo_view(cfg: RunConfig, params, idx, w, vidx, vw, per_network):
    """On the single-network path, every per-network value without its stack axis
    (``per_network``: a tuple of [M] vectors)."""
    if not cfg.solo:
        return list(params), idx, w, vidx, vw, per_network
    return ([p[0] for p in params], idx, w, vidx[0], vw[0], tuple(v[0] for v in per_network))


def run_epoch(cfg: RunConfig, data, e, idx_e, w_e, batch, steps, state):
    """The mini-batch steps of epoch ``e`` over the rows in the order ``idx_e``; the state
    after them and the epoch's loss and weight sums."""
    X, Y, offsets = data[:3]
    P, S1, S2, decays, track = state
    permuted = cfg.solo and cfg.permute_rows
    if cfg.solo:
        w_e = w_e[0]
    # one permutation of the rows per epoch, each step slicing its batch; or a gather per step
    rows_e = rows_of(cfg, X, Y, offsets, idx_e[0]) if permuted else ()
    loss_sum = tf.zeros_like(track.best_val)
    weight_sum = tf.zeros_like(track.best_val)
    for s in tf.range(steps):
        if permuted:
            step_rows = tuple(r[s * batch:(s + 1) * batch] for r in rows_e)
            wb = w_e[s * batch:(s + 1) * batch]
        elif cfg.solo:
            step_rows = rows_of(cfg, X, Y, offsets, idx_e[0][s * batch:(s + 1) * batch])
            wb = w_e[s * batch:(s + 1) * batch]
        else:
            ib, wb = simd_rows(idx_e[:, s * batch:(s + 1) * batch],
                               w_e[:, s * batch:(s + 1) * batch])
            step_rows = rows_of(cfg, X, Y, offsets, ib)
        P, S1, S2, decays, track, batch_loss, batch_weight = train_step(
            cfg, data, e, s, step_rows, wb, P, S1, S2, decays, track)
        loss_sum += batch_loss
        weight_sum += batch_weight
    return P, S1, S2, decays, track, loss_sum, weight_sum


def make_run(cfg: RunConfig):
    """The training run for ``cfg``: the function ``graph.py`` traces with its signature."""

    def run(X, Y, offsets, idx, w, vidx, vw, params, penalty, mixture, lr, seeds, epochs, patience,
            batch, max_norm, lr_decay, family_parameter, dropout_rate, dropout_scale):
        M = tf.shape(idx)[0]
        per = [] if cfg.solo else [M]  # the shape of a per-network value
        steps = tf.shape(idx)[1] // batch
        P, idx, w, vidx, vw, values = solo_view(
            cfg, params, idx, w, vidx, vw, (penalty, mixture, lr, family_parameter, max_norm,
                                            lr_decay, dropout_rate, dropout_scale))
        penalty, mixture, lr, family_parameter, max_norm, lr_decay, *rates = values
        # decay ** e as a running product in float64 (multiplication rounds the same way
        # wherever a network sits in its stack; see next_decays)
        lr_factor = tf.ones_like(lr_decay)
        S1 = tf.zeros_like(flat_of(cfg, [P[i] for i in cfg.trained]))  # the optimizer's slots
        S2 = tf.zeros_like(S1)
        masks = mask_vectors(cfg, P)
        decays = tf.ones([2] + per, tf.float64)  # Adam's beta ** t, t = 0
        track = Tracking(tf.ones(per, tf.bool), tf.zeros(per, tf.bool), tf.zeros(per, tf.int32),
                         tf.zeros(per, tf.int32), tf.fill(per, tf.constant(np.inf, X.dtype)),
                         tf.zeros(per, tf.int32))
        best_P = list(P)
        val = (rows_of(cfg, X, Y, offsets, vidx), vw, tf.reduce_sum(vw, -1) > 0)
        element = [] if cfg.solo else None
        hist = tf.TensorArray(X.dtype, size=0, dynamic_size=True, element_shape=element)
        vhist = tf.TensorArray(X.dtype, size=0, dynamic_size=True, element_shape=element)
        positions = dropout_positions(cfg, batch)
        e = tf.constant(0)
        while e < epochs and tf.reduce_any(track.active):
            idx_e, w_e = epoch_order(seeds, e, idx, w)
            data = (X, Y, offsets, penalty, mixture, lr * tf.cast(lr_factor, X.dtype), seeds,
                    max_norm, masks, positions, family_parameter, rates)
            P, S1, S2, decays, track, loss_sum, weight_sum = run_epoch(
                cfg, data, e, idx_e, w_e, batch, steps, (P, S1, S2, decays, track))
            ran = track.active | (track.diverged & tf.equal(track.epochs_run, e))
            track = track._replace(epochs_run=tf.where(ran, e + 1, track.epochs_run))
            train_loss = tf.where(ran, loss_sum / tf.maximum(weight_sum, 1e-12),
                                  tf.constant(np.nan, X.dtype))
            hist = hist.write(e, train_loss)
            best_P, track, val_loss = end_epoch(cfg, e, P, best_P, track, val, train_loss,
                                                patience, family_parameter)
            vhist = vhist.write(e, val_loss)
            lr_factor *= lr_decay
            e += 1
        use_best = val[2] & (track.best_epoch > 0) & (patience > 0)
        final = [tf.where(cfg.per_net(use_best, len(p.shape)), b, p)
                 for p, b in zip(P, best_P)]
        out = (final, hist.stack(), vhist.stack(), track.epochs_run, track.best_epoch,
               track.diverged)
        return stacked(cfg, *out)

    return run


@plain
def stacked(cfg: RunConfig, final, hist, vhist, epochs_run, best_epoch, diverged):
    """The run's results with their stack axis (restored on the single-network path)."""
    if not cfg.solo:
        return final, hist, vhist, epochs_run, best_epoch, diverged
    return ([p[None] for p in final], hist[:, None], vhist[:, None], epochs_run[None],
            best_epoch[None], diverged[None])
