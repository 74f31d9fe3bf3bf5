"""Plots (matplotlib, imported only when a plot is asked for)."""

from __future__ import annotations

import pandas as pd


def plot_history(history: pd.DataFrame, ax=None, title: str = ""):
    """Training and validation loss against epoch; returns the Figure."""
    import matplotlib

    if ax is None:
        matplotlib.use(matplotlib.get_backend())
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
    else:
        fig = ax.figure
    ax.plot(history["epoch"], history["loss"], label="training")
    if "val_loss" in history:
        ax.plot(history["epoch"], history["val_loss"], label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (mean deviance / 2)")
    ax.set_title(title)
    ax.legend()
    return fig
