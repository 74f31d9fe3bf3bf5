"""``dnn()``: formula + data frame → fitted network."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .engine import StackJob, Topology, select, train_stack
from .errors import DataError, DivergenceError
from .families import Family, make_family
from .fit import DNNFit, FitRecord
from .formula import build_design
from .options import FitOptions


def dnn(formula: str, data: pd.DataFrame, **options: Any) -> DNNFit:
    """Fit a neural network from a formula and a data frame, as ``glm()`` fits a GLM.

    Parameters
    ----------
    formula : str
        An R-style formula, e.g. ``"mpg ~ wt + hp + factor(cyl)"`` or ``"Species ~ ."``.
    data : pandas.DataFrame
        The data; never modified.
    **options
        family, hidden, activation, architecture, dropout, batchnorm, penalty, mixture,
        max_norm, optimizer, learning_rate, batch_size, epochs, validation, test,
        early_stopping, na_action, unseen, seed, verbose (see the README).

    Returns
    -------
    DNNFit
    """
    opts = FitOptions.from_kwargs(**options)
    center = bool(opts.layers) or None
    design = build_design(formula, data, na_action=opts.na_action, center_inputs=center)
    family, reason = make_family(opts.family, design.response)
    notes = list(design.notes)
    if reason:
        notes.insert(0, f"family chosen from the response: {reason}.")
    Y = family.encode(design.response)
    X = design.X
    n_train = len(X)
    val_X, val_Y = _validation(opts, design, family, X, Y)
    if val_X is not None and opts.validation is not None and not isinstance(opts.validation,
                                                                            pd.DataFrame):
        X, Y = X[: n_train - len(val_X)], Y[: n_train - len(val_X)]
        n_train = len(X)
    all_X = X if val_X is None else np.vstack([X, val_X])
    all_Y = Y if val_Y is None else np.vstack([Y, val_Y])
    train_w = np.zeros((1, len(all_X)))
    train_w[0, :n_train] = 1.0
    val_w = None
    if val_X is not None:
        val_w = np.zeros((1, len(all_X)))
        val_w[0, n_train:] = 1.0
    topology = Topology(X.shape[1], opts.layers, family.n_outputs, output_bias=design.spec.intercept)
    job = StackJob(
        topology=topology, family=family.name, X=all_X, Y=all_Y, train_weights=train_w,
        val_weights=val_w, penalty=np.array([opts.penalty], float),
        mixture=np.array([opts.mixture], float), learning_rate=np.array([opts.lr]),
        seeds=np.array([opts.seed_value]), output_bias=family.null_link(Y),
        optimizer=opts.optimizer, epochs=opts.max_epochs, batch_size=opts.batch_size,
        patience=opts.early_stopping, max_norm=opts.max_norm,
    )
    result = train_stack(job)
    if result.diverged[0]:
        raise DivergenceError(
            f"training diverged (a non-finite loss) in epoch {int(result.epochs_run[0])} with "
            f"optimizer={opts.optimizer!r} and learning_rate={opts.lr:g}. Try a smaller "
            f"learning_rate (e.g. {opts.lr / 10:g}), a smaller network, or a penalty."
        )
    notes += result.notes
    params = select(result.params, 0)
    history = _history(result)
    fit = DNNFit(design.spec, family, topology, params, opts, history,
                 FitRecord(0, design.n_dropped, 0 if val_X is None else len(val_X),
                           int(result.epochs_run[0]), int(result.best_epoch[0]), 0.0, 0.0, {},
                           notes),
                 call=_call(formula, opts), train_X=X,
                 train_index=design.rows[: n_train])
    _measure(fit, design, family, X, Y, val_X, val_Y, opts)
    return fit


def _validation(opts: FitOptions, design, family: Family, X: np.ndarray, Y: np.ndarray):
    """Validation rows: a seeded random fraction of the data, or a given data frame."""
    if opts.validation is None:
        return None, None
    if isinstance(opts.validation, pd.DataFrame):
        vX, ok = design.spec.design(opts.validation, unseen="error", what="validation")
        resp = opts.validation.loc[ok, design.spec.response_columns]
        return vX, family.encode(_response_like(resp, design))
    n = len(X)
    n_val = int(round(opts.validation * n))
    if n_val < 1 or n - n_val < 1:
        raise DataError(
            f"validation={opts.validation} of {n} rows leaves {n_val} validation and "
            f"{n - n_val} training rows; both need at least one. Use a different fraction."
        )
    # The last n_val rows after a seeded permutation are held out; dnn() slices X, Y after.
    order = np.random.default_rng([opts.seed_value, 7]).permutation(n)
    X[:], Y[:] = X[order], Y[order]
    design.rows = design.rows[order]
    return X[n - n_val:].copy(), Y[n - n_val:].copy()


def _response_like(resp: pd.DataFrame, design) -> pd.DataFrame:
    if design.spec.response_transform:
        from .formula.design import _SAFE_CONTEXT

        fn = _SAFE_CONTEXT[design.spec.response_transform]
        col = design.spec.response_columns[0]
        return pd.DataFrame({design.response.columns[0]: fn(resp[col].to_numpy(float))},
                            index=resp.index)
    return resp


def _measure(fit: DNNFit, design, family: Family, X, Y, val_X, val_Y, opts: FitOptions) -> None:
    """Deviance, null deviance and metrics on the training, validation and test rows."""
    from .engine import forward

    def natural(Yenc):
        return Yenc * family.y_scale + family.y_center if family.name == "gaussian" else Yenc

    y = natural(Y)
    mu = family.mean(forward(fit.params, fit.topology, X))
    null_mu = np.broadcast_to(family.null_mean(y), y.shape)
    rec = fit.record
    rec.n_obs = len(X)
    rec.metrics["train"] = family.metrics(y, mu)
    rec.deviance = rec.metrics["train"]["deviance"]
    rec.null_deviance = float(family.deviance_rows(y, null_mu).sum())
    if val_X is not None:
        rec.metrics["validation"] = family.metrics(
            natural(val_Y), family.mean(forward(fit.params, fit.topology, val_X)))
    if opts.test is not None:
        tX, ok = design.spec.design(opts.test, unseen="error", what="test")
        resp = _response_like(opts.test.loc[ok, design.spec.response_columns], design)
        rec.metrics["test"] = family.metrics(
            family.target(resp), family.mean(forward(fit.params, fit.topology, tX)))


def _history(result) -> pd.DataFrame:
    frame = pd.DataFrame({"epoch": np.arange(1, len(result.loss) + 1),
                          "loss": result.loss[:, 0]})
    if result.val_loss is not None:
        frame["val_loss"] = result.val_loss[:, 0]
    return frame


def _call(formula: str, opts: FitOptions) -> str:
    extra = opts.call_repr()
    return f"dnn({formula!r}, data{', ' + extra if extra else ''})"

