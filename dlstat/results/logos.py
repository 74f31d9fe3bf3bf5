"""Sequence logos (matplotlib letters from ``TextPath``) and the first convolution's filters
as position weight matrices.

A logo stacks one letter per channel at each position, its height the value: positive values
stacked upwards from zero (largest on top), negative ones downwards (largest magnitude at the
bottom), as attribution logos are drawn (Shrikumar et al.'s DeepLIFT figures).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError
from .protocol import Result, Summary, items_table

# the colours of DNA logos (WebLogo's); other letters cycle through matplotlib's default colours
LETTER_COLOURS = {"A": "#109648", "C": "#255C99", "G": "#F7B32B", "T": "#D62839",
                  "U": "#D62839"}


def letters_for(channels: int, alphabet: str | None) -> str:
    """One letter per channel: ``alphabet``, or ``ACGT`` for 4 channels, else ``0, 1, …``
    (at most 10 channels without an alphabet)."""
    if alphabet is None:
        if channels == 4:
            return "ACGT"
        if channels > 10:
            raise OptionError(f"the input has {channels} channels; give alphabet= with one "
                              "letter per channel to draw a logo.")
        return "".join(str(i) for i in range(channels))
    if not isinstance(alphabet, str) or len(alphabet) != channels:
        raise OptionError(f"alphabet must be a string of one letter per channel "
                          f"({channels}); got {alphabet!r}.")
    return alphabet


def draw_logo(ax: Any, heights: np.ndarray, alphabet: str | None = None) -> Any:
    """Draw ``heights`` ``[positions, channels]`` as a logo on ``ax`` (letters scaled from
    ``matplotlib.textpath.TextPath`` glyphs to fill their boxes)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import PathPatch
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    heights = np.nan_to_num(np.asarray(heights, dtype=np.float64))
    letters = letters_for(heights.shape[1], alphabet)
    font = FontProperties(family="DejaVu Sans", weight="bold")
    glyphs = {c: TextPath((0, 0), c, size=1, prop=font) for c in set(letters)}
    cycle = [f"C{i}" for i in range(10)]
    for x, column in enumerate(heights):
        up = down = 0.0
        for c in np.argsort(np.abs(column)):  # the largest magnitude farthest from zero
            h = column[c]
            if h == 0:
                continue
            bottom = up if h > 0 else down + h
            glyph = glyphs[letters[c]]
            box = glyph.get_extents()
            fit_box = (Affine2D().translate(-box.x0, -box.y0)
                       .scale(0.9 / max(box.width, 1e-9), abs(h) / max(box.height, 1e-9))
                       .translate(x + 0.05 - 0.5, bottom))
            ax.add_patch(PathPatch(fit_box.transform_path(glyph), lw=0,
                                   color=LETTER_COLOURS.get(letters[c], cycle[c % 10])))
            up, down = (up + h, down) if h > 0 else (up, down + h)
    top = max(float(np.clip(heights, 0, None).sum(axis=1).max(initial=0)), 1e-9)
    low = float(np.clip(heights, None, 0).sum(axis=1).min(initial=0))
    ax.set_xlim(-0.5, len(heights) - 0.5)
    ax.set_ylim(low * 1.05, top * 1.05)
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("position")
    return ax


# ------------------------------------------------------------------------------- the filters


def first_convolution(fit: Any) -> tuple[Any, np.ndarray, float]:
    """The first convolution layer, its kernel ``[filters, *window, channels]`` on the user's
    input scale (divided by the array's standard deviation) and that scale."""
    from ..architecture import Conv
    from ..engine.layers import plan

    conv = next((p for p in plan(fit.topology) if isinstance(p.layer, Conv)), None)
    if conv is None:
        raise OptionError("filters() shows a convolution's kernels; this network has no "
                          "convolution layer (architecture=[conv1d(...), ...]).")
    if not _only_reshapes_before(fit, conv.index):
        raise OptionError("filters() reads the kernels of a convolution that sees the input "
                          "itself; this network's first convolution follows other layers.")
    kernel = np.asarray(fit.params[conv.key("kernel")][0], dtype=np.float64)
    spread = float(getattr(fit.spec, "array_scale", 1.0))
    return conv, np.moveaxis(kernel, -1, 0) / spread, spread


def _only_reshapes_before(fit: Any, index: int) -> bool:
    from ..architecture import Reshape

    return all(isinstance(layer, Reshape) for layer in fit.topology.layers[:index])


class Filters(Result):
    """The first convolution's filters as position weight matrices.

    ``weights`` ``[filters, *window, channels]`` is the kernel on the user's input scale (the
    trained kernel divided by the array's standard deviation: the change of the filter's
    pre-activation per unit of input).  ``pwm`` is, at each window position, the softmax of
    the weights over channels — the base probabilities whose log-odds the filter scores (a
    one-hot input's centring adds the same amount to every channel of a position, which the
    softmax ignores).  ``information`` is each position's information content in bits,
    log2(channels) − entropy, and ``plot()`` draws logos of ``pwm × information``.
    """

    def __init__(self, weights: np.ndarray, layer_kind: str) -> None:
        self.weights = weights
        self.layer_kind = layer_kind
        shifted = weights - weights.max(axis=-1, keepdims=True)
        expw = np.exp(shifted)
        self.pwm = expw / expw.sum(axis=-1, keepdims=True)
        entropy = -(self.pwm * np.log2(np.clip(self.pwm, 1e-300, None))).sum(axis=-1)
        self.information = np.log2(weights.shape[-1]) - entropy

    def tidy(self) -> pd.DataFrame:
        """Long form: ``filter, position, channel, weight, probability`` (position: the
        flattened window's index)."""
        f = len(self.weights)
        w = self.weights.reshape(f, -1, self.weights.shape[-1])
        _, positions, channels = w.shape
        return pd.DataFrame({
            "filter": np.repeat(np.arange(f), positions * channels),
            "position": np.tile(np.repeat(np.arange(positions), channels), f),
            "channel": np.tile(np.arange(channels), f * positions),
            "weight": w.reshape(-1),
            "probability": self.pwm.reshape(-1)})

    def glance(self) -> pd.DataFrame:
        return pd.DataFrame([{"layer": self.layer_kind, "filters": len(self.weights),
                              "window": "x".join(map(str, self.weights.shape[1:-1])),
                              "channels": self.weights.shape[-1]}])

    def summary(self) -> Summary:
        bits = self.information.reshape(len(self.weights), -1).sum(axis=1)
        table = pd.DataFrame({"filter": np.arange(len(self.weights)), "information_bits": bits})
        return Summary("First convolution's filters", "fit.filters()",
                       {"layer": items_table(list(self.glance().iloc[0].items())),
                        "filters": table},
                       ["pwm: softmax of the user-scale kernel over channels at each position; "
                        "logo heights: pwm × information content (bits)."],
                       layouts={"layer": "items"})

    def plot(self, filters: Any = None, alphabet: str | None = None, ncols: int = 2):
        """Logos of the filters ``filters`` (indices; default all, a 1-D convolution's), or
        heat maps of a 2-D convolution's summed weights."""
        import matplotlib.pyplot as plt

        chosen = list(range(len(self.weights))) if filters is None else list(np.atleast_1d(
            filters))
        if not chosen or any(not isinstance(i, (int, np.integer)) or not 0 <= i < len(
                self.weights) for i in chosen):
            raise OptionError(f"filters must be indices 0..{len(self.weights) - 1}; "
                              f"got {filters!r}.")
        nrows = -(-len(chosen) // ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(5 * ncols, 1.8 * nrows), squeeze=False)
        for ax, i in zip(axes.flat, chosen):
            if self.weights.ndim == 3:
                draw_logo(ax, self.pwm[i] * self.information[i][:, None], alphabet)
                ax.set_ylabel("bits")
            else:
                ax.imshow(self.weights[i].sum(axis=-1), cmap="RdBu_r")
            ax.set_title(f"filter {i}")
        for ax in axes.flat[len(chosen):]:
            ax.set_visible(False)
        fig.tight_layout()
        return fig


def filters(fit: Any) -> Filters:
    """The first convolution's filters of ``fit`` (:meth:`dlstat.DNNFit.filters`)."""
    conv, weights, _ = first_convolution(fit)
    return Filters(weights, conv.layer.kind)


__all__ = ["Filters", "draw_logo", "filters"]
