"""Exact penalised linear models along a penalty path, by glmnet's algorithm.

A stack of linear networks (``hidden=()``) that an optimizer trains to convergence, with an
L1 part in every penalty, is a set of elastic-net GLMs: their minimiser does not depend on how
it is found.  Here it is found as glmnet finds it (Friedman, Hastie & Tibshirani 2010, and
Tibshirani et al. 2012 for the strong rules), which on wide designs (p ≫ n) is orders of
magnitude faster than L-BFGS over every column:

- the networks of each block of rows are solved along their penalties, largest first, each
  warm-started at the previous solution;
- a penalty's fit starts on the *strong set* (the columns active so far and those whose
  gradient passes the sequential strong rule), solved by proximal Newton steps: IRLS's
  weighted least-squares approximation, solved with the elastic net by coordinate descent
  (scikit-learn's compiled solver) on those columns only, with step halving on the
  penalised objective;
- a KKT check over all columns (one matrix-vector product) adds any column the rule missed
  and solves again, so the answer is the exact minimiser, to the solver's tolerance.

The objective is the engine's: the weighted mean of the unit deviances / 2 plus
``penalty * (mixture * |β|₁ + (1 - mixture) / 2 * |β|²)`` on the design's (standardised)
columns, the intercept unpenalised.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass

import numpy as np

from ..families import family_kind
from ..families.links import LINKS
from ..families.ops import numpy_ops
from ..optimizer_table import CONVERGES
from .feature_sign import feature_sign
from .job import StackJob, StackResult
from .network import init_params

MAX_NEWTON = 100  # proximal Newton steps per penalty (glmnet: 25 IRLS passes by default)
MAX_HALVINGS = 30
MAX_KKT_ROUNDS = 50
OBJECTIVE_TOL = 1e-9  # relative change of the penalised objective that ends Newton's steps
CD_TOL = 1e-12  # scikit-learn's duality-gap tolerance (relative to the working response)
KKT_SLACK = 1e-9  # relative: a gradient this far over the L1 bound counts as a violation
WEIGHT_FLOOR = 1e-12  # working weights are floored (relative) where μ reaches its bounds


def solves(job: StackJob) -> bool:
    """Whether ``job`` is a stack of elastic-net GLMs this solver finds exactly: linear
    networks with one output, an optimizer that trains to convergence, a family whose loss
    has a GLM working response at its link, an L1 part in every penalty, and nothing else
    changing the objective (max-norm, group lasso, a fixed start, resample counts)."""
    kind = family_kind(job.family.family)
    return (not job.topology.layers and job.topology.n_outputs == 1
            and job.optimizer in CONVERGES and kind.has_working_response(job.family.link)
            and not job.uses_max_norm and not job.group_inputs and job.initial is None
            and job.train_repeats is None and job.family_parameter is None
            and bool(np.all(job.penalty > 0)) and bool(np.all(job.mixture > 0)))


@dataclass
class _Rows:
    """One network's training rows: design, target, offset and normalised weights."""

    X: np.ndarray  # [n, p] float64
    y: np.ndarray  # [n]
    offset: np.ndarray  # [n]
    w: np.ndarray  # [n], summing to one


class _Glm:
    """The family's loss, mean and working weights at a linear predictor (the user's link)."""

    def __init__(self, job: StackJob) -> None:
        self.loss_key = job.family
        self.kind = family_kind(job.family.family)
        self.link = LINKS[job.family.link]
        self.ops = numpy_ops()

    def half_deviance(self, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
        with self.ops.errstate():
            return np.asarray(self.loss_key.row_loss(self.ops, y[:, None], eta[:, None]))

    def working(self, y: np.ndarray, eta: np.ndarray, w: np.ndarray):
        """IRLS's working weights and the score per row: W = w·(dμ/dη)²/V, r = (y−μ)(dμ/dη)/V
        (so the loss's gradient in η is −w·r, and z = η + r/(dμ/dη)·... = η + w·r/W)."""
        mu = self.link.inverse(eta)
        d = self.link.mu_eta(eta)
        v = np.maximum(self.kind.variance(mu), 1e-300)
        score = (y - mu) * d / v
        W = np.maximum(w * d * d / v, WEIGHT_FLOOR * w)
        return W, w * score


def blas_threads(job: StackJob):
    """A context for NumPy work on the networks of ``job``: one BLAS thread when this solver
    applies.  Its products (and those measuring its fits) are matrix-vector products: BLAS
    threads cost more than they give there, and stall when the machine is busy."""
    if not solves(job):
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def solve(job: StackJob) -> StackResult:
    """Every network of ``job`` (see :func:`solves`) at its exact minimum: the networks of
    one block of rows along their penalties, largest first, each from the previous one."""
    with blas_threads(job):
        return _solve(job)


def _solve(job: StackJob) -> StackResult:
    params = init_params(job.topology, job.seeds, job.output_bias)
    kernel_key = job.topology.input_kernel()
    bias_key = job.topology.output_key("bias") if job.topology.output_bias else None
    M, p = job.size, job.X.shape[1]
    beta, b0 = np.zeros((M, p)), np.zeros(M)
    steps = np.zeros(M, np.int32)
    notes: list[str] = []
    glm = _Glm(job)
    X = np.asarray(job.X, dtype=np.float64)
    y, offset = np.asarray(job.Y, np.float64)[:, 0], job.offsets()[:, 0]
    for members in _blocks_of(job.train_weights):
        rows = np.flatnonzero(job.train_weights[members[0]] > 0)
        w = job.train_weights[members[0], rows]
        data = _Rows(np.asfortranarray(X[rows]), y[rows], offset[rows], w / w.sum())
        order = sorted(members, key=lambda m: -job.penalty[m])
        path = _PathState(glm, data, bias_key is not None,
                          float(np.asarray(job.output_bias).reshape(M, -1)[order[0], 0]))
        previous = None
        for m in order:
            lam, alpha = float(job.penalty[m]), float(job.mixture[m])
            steps[m], converged = path.solve(lam, alpha, previous)
            beta[m], b0[m] = path.beta, path.b0
            previous = lam
            if not converged:
                notes.append(f"coordinate descent stopped before convergence at penalty "
                             f"{lam:g} (network {m + 1}).")
    params[kernel_key] = beta[:, :, None]
    if bias_key is not None:
        params[bias_key] = b0[:, None]
    loss, val_loss = _losses(job, glm, X, y, offset, beta, b0)
    return StackResult(params=params, loss=loss[None], epochs_run=steps,
                       val_loss=None if val_loss is None else val_loss[None],
                       best_epoch=np.zeros(M, np.int32), diverged=~np.isfinite(loss),
                       notes=sorted(set(notes)))


def _blocks_of(train_weights: np.ndarray) -> list[list[int]]:
    """The networks grouped by their training rows and weights (one group per block)."""
    groups: dict[bytes, list[int]] = {}
    for m, row in enumerate(train_weights):
        groups.setdefault(np.ascontiguousarray(row).tobytes(), []).append(m)
    return list(groups.values())


def _losses(job: StackJob, glm: _Glm, X, y, offset, beta, b0):
    """Each network's training (and validation) loss: the weighted mean of unit deviances / 2."""
    eta = X @ beta.T + b0[None, :] + offset[:, None]  # [n, M]
    rows = np.stack([glm.half_deviance(y, eta[:, m]) for m in range(job.size)])  # [M, n]

    def mean(w):
        return (rows * w).sum(axis=1) / np.maximum(w.sum(axis=1), 1e-12)

    return mean(job.train_weights), None if job.val_weights is None else mean(job.val_weights)


class _PathState:
    """The current solution of one block along its penalties, with its ever-active columns."""

    def __init__(self, glm: _Glm, data: _Rows, intercept: bool, start_bias: float) -> None:
        self.glm, self.data, self.intercept = glm, data, intercept
        self.beta = np.zeros(data.X.shape[1])
        self.b0 = self._null_bias(start_bias) if intercept else 0.0
        self.ever = np.zeros(data.X.shape[1], bool)
        self.grad: np.ndarray | None = None  # the loss's gradient at the current solution

    def _null_bias(self, start: float) -> float:
        """The intercept-only fit (with the offset) by Newton's method from ``start``."""
        d, b = self.data, start
        for _ in range(100):
            W, r = self.glm.working(d.y, b + d.offset, d.w)
            step = r.sum() / W.sum()
            b += step
            if abs(step) < 1e-14 * (1 + abs(b)):
                break
        return float(b)

    def gradient(self, eta: np.ndarray) -> np.ndarray:
        """The loss's gradient in β, all columns: −Xᵀ(w·r)."""
        _, wr = self.glm.working(self.data.y, eta, self.data.w)
        return -(self.data.X.T @ wr)

    def eta(self, beta: np.ndarray, b0: float) -> np.ndarray:
        on = np.flatnonzero(beta)
        return self.data.X[:, on] @ beta[on] + b0 + self.data.offset

    def objective(self, beta, b0, lam, alpha) -> float:
        d = self.data
        loss = float(d.w @ self.glm.half_deviance(d.y, self.eta(beta, b0)))
        return loss + lam * (alpha * np.abs(beta).sum() + 0.5 * (1 - alpha) * beta @ beta)

    def solve(self, lam: float, alpha: float, previous: float | None) -> tuple[int, bool]:
        """Move the solution to penalty ``lam``: strong set, Newton steps, KKT check; return
        the Newton steps taken and whether every stage converged."""
        # the gradient at the previous penalty's solution, from its KKT check
        grad = self.grad if self.grad is not None else self.gradient(
            self.eta(self.beta, self.b0))
        bound = alpha * (2 * lam - (previous if previous is not None else lam))
        strong = self.ever | (np.abs(grad) >= bound)
        total, converged = 0, True
        for _ in range(MAX_KKT_ROUNDS):
            taken, ok = self._newton(np.flatnonzero(strong), lam, alpha)
            total += taken
            converged &= ok
            grad = self.gradient(self.eta(self.beta, self.b0))
            violated = ~strong & (np.abs(grad) > lam * alpha * (1 + KKT_SLACK))
            if not violated.any():
                break
            strong |= violated
        else:
            converged = False
        self.ever |= self.beta != 0
        self.grad = grad
        return total, converged

    def _newton(self, cols: np.ndarray, lam: float, alpha: float) -> tuple[int, bool]:
        """Proximal Newton on the columns ``cols`` (the others held at zero)."""
        d = self.data
        beta_s = self.beta[cols].copy()
        self.beta[:] = 0.0
        self.beta[cols] = beta_s
        current = self.objective(self.beta, self.b0, lam, alpha)
        last_W = None
        for step in range(1, MAX_NEWTON + 1):
            eta = self.eta(self.beta, self.b0)
            W, wr = self.glm.working(d.y, eta, d.w)
            if last_W is not None and np.array_equal(W, last_W):
                return step - 1, True  # the quadratic was the objective (gaussian): solved
            z = eta - d.offset + wr / W  # the working response of b0 + Xβ
            new_s, new_b0 = self._weighted_enet(d.X[:, cols], z, W, beta_s, lam, alpha)
            trial, t = np.zeros_like(self.beta), 1.0
            for _ in range(MAX_HALVINGS):
                trial[cols] = beta_s + t * (new_s - beta_s)
                b0 = self.b0 + t * (new_b0 - self.b0)
                value = self.objective(trial, b0, lam, alpha)
                if value <= current + 1e-15 * abs(current):
                    break
                t /= 2
            else:
                return step, False
            last_W = W if t == 1.0 else None
            change = current - value
            beta_s, self.b0, current = trial[cols].copy(), b0, value
            self.beta[cols] = beta_s
            if change <= OBJECTIVE_TOL * max(abs(current), 1e-300):
                return step, True
        return MAX_NEWTON, False

    def _weighted_enet(self, Xs, z, W, start, lam, alpha):
        """argmin over (b0, β) of ½ Σ W (z − b0 − Xβ)² + lam(α|β|₁ + (1−α)/2 |β|²): feature-
        sign search on the Gram matrix, or coordinate descent where that cannot finish."""
        if self.intercept:
            total = W.sum()
            xbar, zbar = (W @ Xs) / total, float(W @ z) / total
            Xc, zc = Xs - xbar, z - zbar
        else:
            Xc, zc, xbar, zbar = Xs, z, np.zeros(Xs.shape[1]), 0.0
        if Xs.shape[1] == 0:
            return start, zbar
        root = np.sqrt(W)
        beta = feature_sign(Xc * root[:, None], zc * root, lam * (1 - alpha), lam * alpha,
                            start)
        if beta is None:
            beta = _coordinate_descent(Xc, zc, W, start, lam, alpha)
        return beta, zbar - float(xbar @ beta)


def _coordinate_descent(Xc, zc, W, start, lam, alpha):
    """scikit-learn's compiled coordinate descent on the weighted, centred problem."""
    from sklearn.linear_model import enet_path

    root = np.sqrt(len(zc) * W)  # scikit-learn's loss is the mean over rows: ‖·‖² / (2n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its convergence warning: the Newton step checks
        _, coefs, _ = enet_path(np.asfortranarray(Xc * root[:, None]), zc * root,
                                l1_ratio=alpha, alphas=[lam], coef_init=start.copy(),
                                check_input=False, tol=CD_TOL, max_iter=100_000,
                                precompute=True)
    return coefs[:, 0]
