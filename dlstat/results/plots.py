"""Plots (matplotlib, imported only when a plot is asked for)."""

from __future__ import annotations

import pandas as pd

from .protocol import new_figure


def plot_history(history: pd.DataFrame, ax=None, title: str = ""):
    """Training and validation loss against epoch; returns the Figure."""
    fig, ax = new_figure(ax)
    ax.plot(history["epoch"], history["loss"], label="training")
    if "val_loss" in history:
        ax.plot(history["epoch"], history["val_loss"], label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (mean deviance / 2)")
    ax.set_title(title)
    ax.legend()
    return fig


def plot_folds(metrics: pd.DataFrame, metric: str, summary: pd.Series, ax=None):
    """Per-fold values of ``metric`` as points, with the mean and ± 1 SE band."""
    fig, ax = new_figure(ax)
    x = range(1, len(metrics) + 1)
    ax.plot(x, metrics[metric], "o", label="fold")
    ax.axhline(summary["mean"], color="C1", label="mean")
    ax.axhspan(summary["mean"] - summary["se"], summary["mean"] + summary["se"], color="C1",
               alpha=0.2, label="± 1 SE")
    ax.set_xlabel("fold")
    ax.set_ylabel(metric)
    ax.legend()
    return fig
