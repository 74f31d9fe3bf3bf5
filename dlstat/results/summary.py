"""The lm-style summary of a fit: DataFrames first, text and HTML when shown."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from ..architecture import describe


class FitSummary:
    """``fit.summary()``: ``.tables`` holds every table; ``print()`` shows them as text."""

    def __init__(self, fit) -> None:
        self.fit = fit
        self.call = fit.call
        self.notes = list(fit.record.notes)
        self.tables = {
            "model": self._model_table(),
            "architecture": self._architecture_table(),
            "training": self._training_table(),
            "fit": self._fit_table(),
        }

    def _model_table(self) -> pd.DataFrame:
        f, r, o = self.fit, self.fit.record, self.fit.options
        rows = [
            ("Family", f"{f.family.name} (link: {f.family.link})"),
            ("Response", ", ".join(f.family.outputs)),
            ("Observations used", r.n_obs),
            ("Observations dropped (NA)", r.n_dropped),
            ("Validation rows", r.n_validation),
            ("Design columns", f.spec.n_columns),
            ("Parameters", f.topology.n_parameters()),
            ("Penalty (lambda)", f"{o.penalty:g}"),
            ("Mixture (alpha)", f"{o.mixture:g}"),
        ]
        return pd.DataFrame(rows, columns=["item", "value"]).set_index("item")

    def _architecture_table(self) -> pd.DataFrame:
        f = self.fit
        rows = [("input", f.topology.n_inputs, "", 0)]
        for placed in f.topology.placed()[:-1]:
            rows.append((describe(placed.layer), placed.width(),
                         getattr(placed.layer, "activation", ""), placed.n_parameters()))
        output = f.topology.placed()[-1]
        rows.append((f"output ({f.family.link})", output.width(), "", output.n_parameters()))
        return pd.DataFrame(rows, columns=["layer", "units", "activation", "parameters"])

    def _training_table(self) -> pd.DataFrame:
        f, r, o = self.fit, self.fit.record, self.fit.options
        h = f.history
        rows = [
            ("Optimizer", o.optimizer),
            ("Learning rate", f"{o.lr:g}" if o.optimizer != "lbfgs" else "line search"),
            ("Batch size", "full batch" if o.batch_size is None or o.optimizer == "lbfgs"
             else o.batch_size),
            ("Epochs run", f"{r.epochs_run} of {o.max_epochs}"
             + (" (iterations)" if o.optimizer == "lbfgs" else "")),
            ("Early stopping", f"patience {o.early_stopping}; best epoch {r.best_epoch}"
             if o.early_stopping else "off"),
            _loss_row(h, r.best_epoch if o.early_stopping else 0),
        ]
        if "val_loss" in h and len(h):
            rows.append(("Best validation loss", f"{np.nanmin(h['val_loss']):.6g}"))
        return pd.DataFrame(rows, columns=["item", "value"]).set_index("item")

    def _fit_table(self) -> pd.DataFrame:
        r = self.fit.record
        frame = pd.DataFrame(r.metrics).T
        frame.index.name = "data"
        return frame

    # -- rendering ----------------------------------------------------------------------------
    def __str__(self) -> str:
        f, r = self.fit, self.fit.record
        out = ["Call:", f"  {self.call}", ""]
        out += [_kv(self.tables["model"]), ""]
        out += ["Architecture:", self.tables["architecture"].to_string(index=False), ""]
        out += ["Training:", _kv(self.tables["training"]), ""]
        out += ["Fit:", self.tables["fit"].to_string(float_format=lambda v: f"{v:.4g}"), ""]
        out.append(f"    Null deviance: {r.null_deviance:.6g}  on {r.n_obs - 1} rows-1")
        out.append(f"Residual deviance: {r.deviance:.6g}  ({100 * f.dev_explained:.2f}% of "
                   "deviance explained)")
        if self.notes:
            out += ["", "Notes:"] + [f"[{i}] {n}" for i, n in enumerate(self.notes, 1)]
        return "\n".join(out)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        f, r = self.fit, self.fit.record
        parts = [f"<h4>dnn</h4><pre>{html.escape(self.call)}</pre>"]
        for name, table in self.tables.items():
            parts.append(f"<h5>{name.capitalize()}</h5>{table.to_html()}")
        parts.append(f"<p>Null deviance {r.null_deviance:.6g}; residual deviance "
                     f"{r.deviance:.6g} ({100 * f.dev_explained:.2f}% explained)</p>")
        if self.notes:
            items = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
            parts.append(f"<h5>Notes</h5><ol>{items}</ol>")
        return "\n".join(parts)


def _loss_row(history: pd.DataFrame, best_epoch: int) -> tuple[str, str]:
    """The training loss of the weights kept: the best epoch's when early stopping restored it."""
    if not len(history):
        return ("Training loss", "NA")
    if best_epoch:
        loss = history.loc[history["epoch"] == best_epoch, "loss"]
        return (f"Training loss (epoch {best_epoch}, kept)", f"{loss.iloc[0]:.6g}")
    return ("Final training loss", f"{history['loss'].iloc[-1]:.6g}")


def _kv(table: pd.DataFrame) -> str:
    width = max(len(str(i)) for i in table.index)
    return "\n".join(f"{str(i) + ':':<{width + 1}} {v}" for i, v in table["value"].items())
