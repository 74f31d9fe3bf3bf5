"""The lm-style summary of a fit: a :class:`~dlstat.results.protocol.Summary` of its tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..architecture import describe
from .calibration import calibration_tables
from .effects import bootstrap_tables
from .inference import coefficient_tables
from .prediction import fit_coverage
from .protocol import Summary, items_table


def fit_summary(fit) -> Summary:
    """``fit.summary()``: model, architecture, training, fit and deviance tables, with notes."""
    residual_df, why_not = residual_df_of(fit)
    notes = list(fit.record.notes) + ([why_not] if why_not else [])
    glm_tables, glm_notes, glm_captions = coefficient_tables(fit)
    boot_tables, boot_notes = bootstrap_tables(fit)
    interval_tables, interval_notes = fit_coverage(fit)
    calibration, calibration_notes = calibration_tables(fit)
    return Summary(
        title="Neural network fitted by dlstat::dnn",
        call=fit.call,
        tables={"model": model_table(fit), "architecture": architecture_table(fit),
                "training": training_table(fit), "fit": fit_table(fit),
                "deviance": deviance_table(fit, residual_df), **glm_tables, **boot_tables,
                **interval_tables, **calibration},
        notes=notes + glm_notes + boot_notes + interval_notes + calibration_notes,
        captions={"model": "Model", "fit": "Fit (metrics by data part)",
                  "tests": "Coefficient tests",
                "prediction": "Prediction intervals or sets, measured on the test rows",
                **glm_captions},
        layouts={"model": "items", "training": "items", "deviance": "deviance",
                 "tests": "items", "bootstrap": "items", "prediction": "items",
                 "calibration": "items"},
    )


def model_table(fit) -> pd.DataFrame:
    """Family, response, rows used and dropped, design size, parameters and penalty."""
    r, o = fit.record, fit.options
    return items_table([
        ("Family", f"{fit.family.name} (link: {fit.family.link})"),
        ("Response", ", ".join(fit.family.outputs)),
        ("Observations used", r.n_obs),
        ("Observations dropped (NA)", r.n_dropped),
        ("Validation rows", r.n_validation),
        ("Design columns", fit.spec.n_columns),
        ("Parameters", fit.topology.n_parameters()),
        ("Penalty (lambda)", f"{o.penalty:g}"),
        ("Mixture (alpha)", f"{o.mixture:g}"),
    ])


def architecture_table(fit) -> pd.DataFrame:
    """One row per layer: its description, output units, activation and parameter count."""
    placed = fit.topology.placed()
    rows = [("input", fit.topology.n_inputs, "", 0)]
    for layer in placed[:-1]:
        label = f"join({layer.layer.width} tabular)" if layer.layer.kind == "join" else \
            describe(layer.layer)  # where tabular inputs join an array input
        rows.append((label, layer.width(), getattr(layer.layer, "activation", ""),
                     layer.n_parameters()))
    output = placed[-1]
    rows.append((f"output ({fit.family.link})", output.width(), "", output.n_parameters()))
    return pd.DataFrame(rows, columns=["layer", "units", "activation", "parameters"])


def training_table(fit) -> pd.DataFrame:
    """Optimizer, learning rate, batch size, epochs, early stopping and the loss kept."""
    r, o, h = fit.record, fit.options, fit.history
    lbfgs = o.optimizer == "lbfgs"
    rows = [
        ("Optimizer", o.optimizer),
        ("Learning rate", "line search" if lbfgs else f"{o.lr:g}"),
        ("Batch size", "full batch" if o.batch_size is None or lbfgs else o.batch_size),
        ("Epochs run", f"{r.epochs_run} of {o.max_epochs}" + (" (iterations)" if lbfgs else "")),
        ("Early stopping", f"patience {o.early_stopping}; best epoch {r.best_epoch}"
         if o.early_stopping else "off"),
        _loss_row(h, r.best_epoch if o.early_stopping else 0),
    ]
    if "val_loss" in h and len(h):
        rows.append(("Best validation loss", f"{np.nanmin(h['val_loss']):.6g}"))
    return items_table(rows)


def fit_table(fit) -> pd.DataFrame:
    """The metrics of the training, validation and test rows (one row each)."""
    frame = pd.DataFrame(fit.record.metrics).T
    frame.index.name = "data"
    return frame


def deviance_table(fit, residual_df: int | None) -> pd.DataFrame:
    """Null and residual deviance with their degrees of freedom, as ``summary.glm``."""
    r = fit.record
    null_df = (r.n_obs - int(fit.spec.intercept)) * _free_outputs(fit)  # R: n without one
    return pd.DataFrame({"deviance": [r.null_deviance, r.deviance],
                         "df": pd.array([null_df, residual_df], dtype="Int64"),
                         "dev_explained": [np.nan, fit.dev_explained]},
                        index=pd.Index(["Null", "Residual"], name="model"))


def residual_df_of(fit) -> tuple[int | None, str]:
    """The residual degrees of freedom where they are defined (an unpenalised GLM: rows ×
    outputs − free parameters, aliased columns not counted), otherwise ``None`` and the
    reason, as a note."""
    n_params = fit.topology.n_parameters()
    if fit.topology.layers:
        return None, (f"The residual deviance has no degrees of freedom: a network with hidden "
                      f"layers has {n_params} parameters that are not free in the way a GLM's "
                      "are, so rows minus parameters would mislead.")
    if fit.options.penalty > 0:
        return None, (f"The residual deviance has no degrees of freedom: the penalty "
                      f"(lambda = {fit.options.penalty:g}) shrinks the {n_params} parameters, "
                      "so each uses less than one degree of freedom.")
    free = _free_outputs(fit)
    rank = n_params // fit.topology.n_outputs - len(fit.record.aliased)  # per output
    return (fit.record.n_obs - rank) * free, ""


def _free_outputs(fit) -> int:
    """Outputs that vary freely: a multinomial's K softmax outputs sum to one (K − 1 free)."""
    return fit.family.free_outputs


def _loss_row(history: pd.DataFrame, best_epoch: int) -> tuple[str, str]:
    """The training loss of the weights kept: the best epoch's when early stopping restored it."""
    if not len(history):
        return ("Training loss", "NA")
    if best_epoch:
        loss = history.loc[history["epoch"] == best_epoch, "loss"]
        return (f"Training loss (epoch {best_epoch}, kept)", f"{loss.iloc[0]:.6g}")
    return ("Final training loss", f"{history['loss'].iloc[-1]:.6g}")
