"""The last steps of an unpenalised GLM fitted by L-BFGS: Fisher scoring (R's IRLS, with its
step halving) from where L-BFGS stopped, so the estimate is the maximum-likelihood one to R's
precision whatever the link's curvature.  L-BFGS alone can stop short where the link bends
sharply (the inverse Gaussian's 1/μ² link near η = 0 stopped with a deviance 40% above R's);
scoring on the information the family table defines converges there in a few steps.
"""

from __future__ import annotations

import numpy as np

_MAX_STEPS = 50
_TOLERANCE = 1e-12  # relative change of the deviance, as glm.control's epsilon (stricter)


def polishable(fit) -> bool:
    """A single-response, unpenalised GLM trained by L-BFGS on all its parameters whose family
    has a mean and variance (not the multinomial's softmax, a Cox set loss or a family
    parameter being estimated)."""
    fam, opts = fit.family, fit.options
    return (not fit.topology.layers and opts.penalty == 0 and opts.optimizer == "lbfgs"
            and opts.transfer is None and fam.n_outputs == 1
            and not fam.kind.several_classes and fam.kind.set_loss is None
            and fam.kind.parameter is None)


def polish(fit) -> None:
    """Fisher scoring on the fit's own training rows from its current weights, written back
    into ``fit.params``."""
    fam, priors = fit.family, fit.priors
    X, Y, _ = fit.training_data()
    kernel_key, bias_key = fit.topology.output_key("kernel"), fit.topology.output_key("bias")
    kept = np.setdiff1d(np.arange(X.shape[1]), fit.record.aliased)
    intercept = fit.topology.output_bias
    Z = X[:, kept]
    if intercept:
        Z = np.column_stack([np.ones(len(Z)), Z])
    ys, yc = (fam.y_scale[0], fam.y_center[0]) if fam.standardised else (1.0, 0.0)
    W, b = fit.params[kernel_key], fit.params[bias_key]
    gamma = W[0, kept, 0] * ys
    if intercept:
        gamma = np.concatenate([[b.reshape(-1)[0] * ys + yc], gamma])
    y = Y[:, 0]
    w = priors.weights
    offset = np.zeros(len(y)) if priors.offset is None else np.asarray(priors.offset, float)
    shift = 0.0 if intercept else yc
    used = w > 0
    link = fam.link_fn

    def deviance(g):
        eta = Z @ g + offset + shift
        if not link.valid_eta(eta).all():
            return np.inf, eta
        mu = link.inverse(eta)
        dev = float(w[used] @ fam.deviance_rows(y[used, None], mu[used, None]))
        return (dev if np.isfinite(dev) else np.inf), eta

    dev, eta = deviance(gamma)
    if not np.isfinite(dev):  # L-BFGS stopped outside the link's range: R's start, μ ≈ y
        start = ((w * y + 0.5) / (w + 1) if fam.is_classification
                 else np.maximum(y, 1e-8) + (y <= 0) * 0.1)  # as R's initialize
        eta = link.fun(start)
        if not link.valid_eta(eta).all():
            return
    for _ in range(_MAX_STEPS):
        mu, d = link.inverse(eta), fam.mu_eta(eta)
        with np.errstate(divide="ignore", invalid="ignore"):
            working = w * d * d / fam.variance(mu)
            z = eta - offset - shift + (y - mu) / d
        ok = used & np.isfinite(working) & np.isfinite(z)
        A = (Z[ok] * working[ok, None]).T @ Z[ok]
        try:
            target = np.linalg.solve(A, (Z[ok] * working[ok, None]).T @ z[ok])
        except np.linalg.LinAlgError:
            return
        step = target - gamma
        if np.isinf(dev):  # the first step from R's start: no valid point to halve towards
            new_dev, new_eta = deviance(target)
            if not np.isfinite(new_dev):
                return
            gamma, eta, dev = target, new_eta, new_dev
            continue
        for _halving in range(30):  # R halves the step while the deviance is not finite/lower
            new_dev, new_eta = deviance(gamma + step)
            if new_dev <= dev * (1 + 1e-15) + 1e-300 or (np.isinf(dev) and np.isfinite(new_dev)):
                break
            step = step / 2
        else:
            return
        gamma, eta = gamma + step, new_eta
        converged = abs(dev - new_dev) <= _TOLERANCE * (abs(new_dev) + 0.1)
        dev = new_dev
        if converged:
            break
    slopes = gamma[1:] if intercept else gamma
    W = W.copy()
    W[0, kept, 0] = slopes / ys
    fit.params[kernel_key] = W
    if intercept:
        fit.params[bias_key] = np.full_like(b, (gamma[0] - yc) / ys)
