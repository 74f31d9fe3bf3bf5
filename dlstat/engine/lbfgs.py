"""Full-batch L-BFGS for small data and exact GLM fits.

Each of the M networks of a stack is minimised by its own SciPy L-BFGS-B (its own history,
line search and stopping), so a network's numbers do not depend on which others share its stack
(a bootstrap replicate on B, a fold on the number of folds).  One L-BFGS over the summed
objective of the stack — how this module worked before — shares one line search and one
iteration budget among all networks: the full-data fit of ``dnn(..., bootstrap=B)`` then moved
with B (the average effect of x1 in ``bench_coverage.py``'s nonlinear process: 0.473 alone,
0.555 with B = 5, 0.529 with B = 10) and every replicate stopped far from its own minimum.

The M minimisers run in lockstep (:class:`Lockstep`): each asks for its value and gradient,
and once every running minimiser has asked, one call of the compiled float64 TensorFlow
objective evaluates the whole stack (the networks share no parameters, so network m's value
and gradient are its own whatever the others hold).  The L1 part of the penalty is handled
exactly by splitting each penalised weight into a positive and a negative part with bounds at
zero, so lasso and elastic-net fits reach exact zeros.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
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

    def network_positions(self, M: int) -> list[np.ndarray]:
        """Where network m's entries sit in ``theta`` (each part of a parameter is stored
        ``[M, ...]`` flattened, so network m's block of it is contiguous)."""
        starts, off = [], 0
        for size, is_split in zip(self.sizes(), self.split):
            for _ in range(2 if is_split else 1):
                starts.append((off, size // M))
                off += size
        return [np.concatenate([np.arange(o + m * k, o + (m + 1) * k) for o, k in starts])
                for m in range(M)]

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
    lam = tf.constant(job.penalty, tf.float64)  # [M]
    alpha = tf.constant(job.mixture, tf.float64)
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
                # per network: summed over every axis but the stack's (a convolution's
                # kernel has four; reducing two left [M, in, out], which the data loss
                # broadcast into, and the [M, 1, 1] penalty met the kernel's width axis)
                squares = tf.reduce_sum(tf.square(P[name]), list(range(1, len(P[name].shape))))
                penalty += 0.5 * lam * (1 - alpha) * squares
                if is_split:
                    both = tf.reshape(theta[off:off + 2 * size], [2] + list(P[name].shape))
                    axes = [0] + list(range(2, len(both.shape)))
                    penalty += lam * alpha * tf.reduce_sum(both, axes)
            off += size * (2 if is_split else 1)
        return data, val, penalty

    return losses, unpack


class Lockstep:
    """M minimisers, one thread each, whose value-and-gradient requests are answered together
    by one evaluation of the whole stack.

    ``evaluate(theta) -> (values [M, ...], gradient [len(theta)])`` evaluates every network at
    once; network m reads entries ``positions[m]`` of ``theta`` and of the gradient.  A network
    that is not asking (it has finished) is evaluated at the point it last asked for.  Each
    thread waits on its own event and the caller on one condition, so a round wakes each
    thread once (a shared condition would wake all M threads M times).
    """

    def __init__(self, evaluate: Callable, theta: np.ndarray, positions: list[np.ndarray]):
        self._evaluate, self.theta, self._positions = evaluate, theta.copy(), positions
        self._round = threading.Condition()
        self._asked: dict[int, np.ndarray] = {}
        self._running = 0
        M = len(positions)
        self._ready = [threading.Event() for _ in range(M)]
        self._answers: list = [None] * M

    def ask(self, m: int, x: np.ndarray) -> tuple | None:
        """Network m's (values, gradient) at ``x`` (called from its minimiser's thread);
        ``None`` when the stack's evaluation failed."""
        with self._round:
            self._asked[m] = np.array(x, dtype=np.float64)
            if len(self._asked) == self._running:
                self._round.notify()
        self._ready[m].wait()
        self._ready[m].clear()
        return self._answers[m]

    def _done(self) -> None:
        with self._round:
            self._running -= 1
            self._round.notify()

    def run(self, minimise: Callable[[int], object]) -> list:
        """``minimise(m)`` for every network, in lockstep; their results in order."""
        M = len(self._positions)
        results: list = [None] * M
        errors: list[BaseException] = []

        def work(m: int) -> None:
            try:
                results[m] = minimise(m)
            except BaseException as error:  # noqa: BLE001 (re-raised in the caller's thread)
                errors.append(error)
            finally:
                self._done()

        self._running = M
        threads = [threading.Thread(target=work, args=(m,), daemon=True) for m in range(M)]
        for t in threads:
            t.start()
        while True:
            with self._round:
                while self._running and len(self._asked) < self._running:
                    self._round.wait()
                if not self._running:
                    break
                asked, self._asked = self._asked, {}
            for m, x in asked.items():
                self.theta[self._positions[m]] = x
            try:
                values, grad = self._evaluate(self.theta)
            except BaseException as error:  # noqa: BLE001
                errors.append(error)
                values = grad = None
            for m in asked:
                self._answers[m] = (None if values is None else
                                    (tuple(v[m] for v in values), grad[self._positions[m]]))
                self._ready[m].set()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return results


def train_lbfgs(job: StackJob) -> StackResult:
    """Minimise each network's mean deviance / 2 + penalty to convergence (``epochs`` = max
    iterations), each by its own L-BFGS-B."""
    tf = tf_module()
    params0 = init_params(job.topology, job.seeds, job.output_bias, job.initial)
    layout = Layout.of(job, params0)
    losses, unpack = _objective(tf, job, layout, params0)

    @tf.function
    def value_and_grad(theta):
        with tf.GradientTape() as tape:
            tape.watch(theta)
            data, val, penalty = losses(theta)
            total = tf.reduce_sum(data + penalty)  # separates: network m's gradient is its own
        return data + penalty, data, val, tape.gradient(total, theta)

    def evaluate(theta):
        f, data, val, g = value_and_grad(tf.constant(theta))
        return (f.numpy(), data.numpy(), val.numpy()), g.numpy()

    M = job.size
    x0, bounds = layout.start(params0)
    positions = layout.network_positions(M)
    lockstep = Lockstep(evaluate, x0, positions)
    histories: list[list[tuple[float, float]]] = [[] for _ in range(M)]

    def minimise(m: int):
        last: dict = {}

        def fun(x):
            answer = lockstep.ask(m, x)
            if answer is None:  # the stack's evaluation failed: the caller raises it
                raise RuntimeError("stack evaluation failed")
            (f, data, val), g = answer
            last.update(x=np.array(x), data=data, val=val)
            return float(f), g

        def record(x):
            x = np.asarray(getattr(x, "x", x))
            if "x" not in last or not np.array_equal(last["x"], x):
                fun(x)  # the accepted point is normally the last one evaluated
            histories[m].append((last["data"], last["val"]))
            if job.on_epoch is not None and m == 0:
                job.on_epoch(len(histories[0]), *_epoch_losses(job, histories))

        network_bounds = ([bounds[i] for i in positions[m]] if any(layout.split) else None)
        with np.errstate(all="ignore"):
            res = minimize(fun, x0[positions[m]], jac=True, method="L-BFGS-B",
                           bounds=network_bounds, callback=record,
                           options={"maxiter": job.epochs, "maxcor": 20, "ftol": 1e-15,
                                    "gtol": 1e-10, "maxls": 50})
        if not histories[m]:
            record(res.x)
        return res

    results = lockstep.run(minimise)
    theta = x0.copy()
    for m, res in enumerate(results):
        theta[positions[m]] = res.x
    final = {k: np.asarray(v.numpy(), dtype=np.float64)
             for k, v in unpack(tf.constant(theta)).items()}
    return _result(job, final, histories, results)


def _epoch_losses(job: StackJob, histories) -> tuple[np.ndarray, np.ndarray]:
    """Each network's latest training and validation loss, for a progress bar."""
    data = np.array([h[-1][0] if h else np.nan for h in histories])
    val = np.array([h[-1][1] if h else np.nan for h in histories])
    return data, (val if job.val_weights is not None else np.full_like(val, np.nan))


def _result(job: StackJob, params: Params, histories, results) -> StackResult:
    M = job.size
    epochs = max(len(h) for h in histories)
    loss = np.full((epochs, M), np.nan)
    val_loss = np.full((epochs, M), np.nan)
    for m, h in enumerate(histories):
        loss[:len(h), m] = [d for d, _ in h]
        val_loss[:len(h), m] = [v for _, v in h]
    last = np.array([loss[len(h) - 1, m] for m, h in enumerate(histories)])
    return StackResult(
        params=params,
        loss=loss,
        val_loss=val_loss if job.val_weights is not None else None,
        epochs_run=np.array([len(h) for h in histories], np.int32),
        best_epoch=np.zeros(M, np.int32),
        diverged=~np.isfinite(last),
        network_notes=[[] if res.success else
                       [f"L-BFGS stopped before convergence: {res.message}"]
                       for res in results],
    )
