"""Input attributions of a fitted network: integrated gradients, saliency, gradient × input.

Gradients are taken in TensorFlow (float64) of one output of the network with respect to the
*user's* input: the design row before standardisation (the array's values as given, the
tabular design columns — dummies, splines — on their own scale), so the standardisation is part
of the differentiated function and the attributions are on the input's scale.

The output differentiated is chosen by ``target`` on ``scale``: ``"response"`` (default) is
the mean — a classifier's probability of the target class, a regression's fitted mean — and
``"link"`` the linear predictor (a binomial's log-odds of the target class).  A classifier's
default target is each row's predicted class.

* ``saliency``: the gradient ∂f/∂x (signed; take its absolute value for Simonyan's map).
* ``gradient_x_input``: the gradient times (x − baseline), elementwise.
* ``integrated_gradients``: (x − x₀) · ∫₀¹ ∂f/∂x(x₀ + α(x − x₀)) dα, the integral by the
  trapezoid rule on ``steps`` equal intervals; ``completeness`` reports how far the sum of
  a row's attributions is from f(x) − f(x₀) (the rule's error; Sundararajan et al. 2017).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, OptionError
from .protocol import Result, Summary, items_table, new_figure

SCALES = ("response", "link")
_CHUNK_VALUES = 1 << 23  # activations held per gradient batch (rows × widest layer)


# ------------------------------------------------------------------------- the network as f(x)


class InputFunction:
    """The fitted network as a TensorFlow function of the user-scale design row: the chosen
    output for each row's target, and its gradient."""

    def __init__(self, fit: Any, scale: str, offset: np.ndarray | None) -> None:
        from ..engine.graph import tf_module
        from ..engine.layer_kind import StackContext
        from ..engine.layers import plan, tf_forward
        from ..families.ops import tf_ops

        tf = self.tf = tf_module()
        fam = fit.family
        placed = plan(fit.topology)
        P = {k: tf.constant(v[:1], tf.float64) for k, v in fit.params.items()}
        center = tf.constant(np.asarray(fit.spec.center, np.float64))
        spread = tf.constant(np.asarray(fit.spec.scale, np.float64))
        binary = fam.is_classification and not fam.kind.several_classes

        def outputs(raw, shift):
            eta = tf_forward(tf, placed, P, ((raw - center) / spread)[None],
                             StackContext(False))[0] + shift
            eta = fam.link_scale(eta)
            if scale == "response":
                mu = fam.link_fn.inverse_ops(tf_ops(), eta)
                return tf.concat([1 - mu, mu], 1) if binary else mu
            return tf.concat([-eta, eta], 1) if binary else eta

        self._outputs = outputs
        width = fit.topology.n_inputs

        @tf.function(input_signature=[tf.TensorSpec([None, width], tf.float64),
                                      tf.TensorSpec([None, None], tf.float64),
                                      tf.TensorSpec([None], tf.int32)])
        def value_and_gradient(raw, shift, target):
            with tf.GradientTape() as tape:
                tape.watch(raw)
                value = tf.gather(outputs(raw, shift), target, batch_dims=1)
            return value, tape.gradient(value, raw)

        self._run = value_and_gradient
        self.shift = (np.zeros((1, fit.topology.n_outputs)) if offset is None
                      else fam.encode_offset(offset))

    def __call__(self, raw: np.ndarray, target: np.ndarray,
                 rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """f and ∂f/∂x at the design rows ``raw`` (``rows``: which observation's offset)."""
        shift = self.shift[rows] if len(self.shift) > 1 else np.repeat(self.shift, len(raw), 0)
        value, grad = self._run(self.tf.constant(raw), self.tf.constant(shift),
                                self.tf.constant(target, self.tf.int32))
        return value.numpy(), grad.numpy()


# ------------------------------------------------------------------------------ the methods


def _saliency(f, x, x0, target, rows, steps, chunk):
    return _in_chunks(lambda s: f(x[s], target[s], rows[s]), len(x), chunk)


def _gradient_x_input(f, x, x0, target, rows, steps, chunk):
    value, grad = _saliency(f, x, x0, target, rows, steps, chunk)
    return value, grad * (x - x0)


def _integrated_gradients(f, x, x0, target, rows, steps, chunk):
    alphas = np.linspace(0.0, 1.0, steps + 1)
    weights = np.full(steps + 1, 1.0 / steps)
    weights[[0, -1]] /= 2  # the trapezoid rule
    per = max(1, chunk // (steps + 1))
    values, attrs, starts = [], [], []
    for s in range(0, len(x), per):
        xs, x0s = x[s:s + per], x0[s:s + per]
        path = x0s[:, None] + alphas[None, :, None] * (xs - x0s)[:, None]  # [rows, m+1, p]
        value, grad = f(path.reshape(-1, x.shape[1]), np.repeat(target[s:s + per], steps + 1),
                        np.repeat(rows[s:s + per], steps + 1))
        value, grad = value.reshape(len(xs), -1), grad.reshape(len(xs), steps + 1, -1)
        attrs.append((xs - x0s) * np.einsum("m,rmp->rp", weights, grad))
        values.append(value[:, -1])
        starts.append(value[:, 0])
    return (np.concatenate(values), np.concatenate(starts)), np.concatenate(attrs)


def _in_chunks(fn: Callable, n: int, chunk: int) -> tuple[np.ndarray, np.ndarray]:
    parts = [fn(slice(s, s + chunk)) for s in range(0, n, chunk)]
    return np.concatenate([v for v, _ in parts]), np.concatenate([g for _, g in parts])


METHODS: dict[str, Callable] = {
    "integrated_gradients": _integrated_gradients,
    "saliency": _saliency,
    "gradient_x_input": _gradient_x_input,
}


# ------------------------------------------------------------------------------- the request


def attributions(fit: Any, newdata: Any, method: str = "integrated_gradients",
                 target: Any = None, scale: str = "response", baseline: Any = None,
                 steps: int = 50) -> Attributions:
    """The attributions of ``fit``'s output to each input value of ``newdata``'s rows
    (see the module's docstring; :meth:`dlstat.DNNFit.attributions`)."""
    if method not in METHODS:
        raise OptionError(f"method must be one of {list(METHODS)}; got {method!r}.")
    if scale not in SCALES:
        raise OptionError(f"scale must be one of {list(SCALES)}; got {scale!r}.")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise OptionError(f"steps must be a positive integer (the trapezoid rule's "
                          f"intervals); got {steps!r}.")
    _check_differentiable(fit)
    X, ok = fit.spec.design(newdata, unseen=fit.options.unseen)
    offset = fit.spec.offset(newdata, ok)
    raw = X * fit.spec.scale + fit.spec.center
    layout = InputLayout.of(fit)
    x0 = layout.baseline(fit, baseline, len(raw), ok)
    targets, names = _targets(fit, target, X, offset)
    f = InputFunction(fit, scale, offset)
    chunk = max(1, _CHUNK_VALUES // _widest(fit))
    value, attr = METHODS[method](f, raw, x0, targets, np.arange(len(raw)), int(steps), chunk)
    full = np.full((len(ok), raw.shape[1]), np.nan)
    full[ok] = attr
    index = (newdata.index if isinstance(newdata, pd.DataFrame) else pd.RangeIndex(len(ok)))
    check = None
    if method == "integrated_gradients":
        f_x, f_0 = value
        check = pd.DataFrame({"output": f_x, "baseline_output": f_0,
                              "attribution_sum": attr.sum(axis=1)}, index=index[ok])
        check["error"] = check["attribution_sum"] - (check["output"] - check["baseline_output"])
    target_col = np.full(len(ok), None, dtype=object)
    target_col[ok] = [names[t] for t in targets]
    return Attributions(layout, full, index, pd.Series(target_col, index=index, name="target"),
                        method, scale, int(steps), check)


def _check_differentiable(fit: Any) -> None:
    from ..architecture import code_input

    if code_input(tuple(fit.topology.layers)) is not None:
        raise OptionError("this network reads its input as integer codes through an embedding "
                          "layer: it has no gradient with respect to the codes, so gradient "
                          "attributions are not defined. Attribute a network on one-hot "
                          "inputs instead.")


def _widest(fit: Any) -> int:
    from ..engine.layers import plan

    return max(p.kind.numpy_row_values(p) for p in plan(fit.topology))


def _targets(fit: Any, target: Any, X: np.ndarray,
             offset: np.ndarray | None) -> tuple[np.ndarray, list[str]]:
    """Each row's output index and the outputs' names (a classifier's: its classes)."""
    fam = fit.family
    if fam.is_classification:
        names = [str(v) for v in fam.levels]
    else:
        names = fam.output_names
    if target is None:
        if not fam.is_classification:
            if len(names) > 1:
                raise OptionError(f"this model has {len(names)} outputs {names}; choose one "
                                  "with target= (a name or an index).")
            return np.zeros(len(X), np.int32), names
        mu = fam.mean(fit.link_of(X, offset))
        probs = mu if fam.kind.several_classes else np.column_stack([1 - mu[:, 0], mu[:, 0]])
        return probs.argmax(axis=1).astype(np.int32), names
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool) \
            and 0 <= target < len(names):
        return np.full(len(X), int(target), np.int32), names
    if str(target) in names and not isinstance(target, (int, np.integer)):
        return np.full(len(X), names.index(str(target)), np.int32), names
    raise OptionError(f"target must be one of the outputs {names} (a name) or an index "
                      f"0..{len(names) - 1}; got {target!r}.")


# ------------------------------------------------------------------------- the input's shape


@dataclass
class InputLayout:
    """How a design row reads as the user's input: the array's shape (as given and as the
    network reads it: positions × channels) and the tabular columns after it."""

    name: str | None
    shape: tuple[int, ...]  # per observation, as given (empty: a tabular design)
    grid: tuple[int, ...]  # the network's reading: (*positions, channels)
    columns: list[str]  # the tabular design columns after the array's values

    @classmethod
    def of(cls, fit: Any) -> InputLayout:
        spec = fit.spec
        shape = tuple(getattr(spec, "shape", ()))
        if not shape:
            return cls(None, (), (), list(spec.columns))
        from ..architecture import Reshape

        reshape = next((layer for layer in fit.topology.layers
                        if isinstance(layer, Reshape)), None)
        grid = tuple(reshape.shape) if reshape is not None else (
            shape if len(shape) > 1 else (*shape, 1))
        return cls(spec.name, shape, grid, list(spec.tabular.columns))

    @property
    def width(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 0

    def baseline(self, fit: Any, baseline: Any, n: int, ok: np.ndarray) -> np.ndarray:
        """The baseline design rows ``[n_ok, p]`` on the user's scale."""
        p = fit.topology.n_inputs
        if baseline is None:
            return np.zeros((int(ok.sum()), p))
        if isinstance(baseline, str) and baseline == "mean":
            return np.repeat(np.asarray(fit.spec.center, np.float64)[None], int(ok.sum()), 0)
        values = np.asarray(baseline, dtype=np.float64) if not isinstance(baseline, str) else None
        row_shape = (*self.shape, *(() if self.shape else (p,)))
        if self.shape and self.columns:
            raise OptionError("baseline= as an array is for a model whose only input is the "
                              "array; this one also has tabular columns. Use baseline=None "
                              "(zeros) or 'mean' (the training means).")
        if values is None or values.shape not in (row_shape, (len(ok), *row_shape)) \
                or not np.isfinite(values).all():
            raise DataError(f"baseline must be None (zeros), 'mean' (the training means) or "
                            f"finite values of shape {list(row_shape)} (one baseline) or "
                            f"{[len(ok), *row_shape]} (one per row); got "
                            f"{getattr(values, 'shape', baseline)!r}.")
        flat = values.reshape(-1, p)
        return np.repeat(flat, int(ok.sum()), 0) if len(flat) == 1 else flat[ok]


# ------------------------------------------------------------------------------- the result


class Attributions(Result):
    """Per-row attributions of a network's output to its inputs.

    Attributes
    ----------
    values : numpy.ndarray
        The input's shape: ``[n, L, k]`` sequences, ``[n, h, w(, c)]`` images, ``[n, p]`` a
        tabular design (one value per design column, ``columns``); NaN for rows that could
        not be built.
    tabular : pandas.DataFrame or None
        An array model's tabular design columns' attributions (``None`` without them).
    target : pandas.Series
        The output (class) attributed, per row.
    completeness : pandas.DataFrame or None
        Integrated gradients' check: f(x), f(baseline), the attributions' sum and its error.
    """

    def __init__(self, layout: InputLayout, full: np.ndarray, index: pd.Index,
                 target: pd.Series, method: str, scale: str, steps: int,
                 completeness: pd.DataFrame | None) -> None:
        self.layout, self.index, self.target = layout, index, target
        self.method, self.scale, self.steps, self.completeness = method, scale, steps, completeness
        n = len(full)
        if layout.shape:
            self.values = full[:, :layout.width].reshape(n, *layout.shape)
            self.tabular = (pd.DataFrame(full[:, layout.width:], index=index,
                                         columns=layout.columns) if layout.columns else None)
        else:
            self.values = full
            self.tabular = None

    @property
    def columns(self) -> list[str]:
        """A tabular design's column names (``values``' last axis)."""
        return [] if self.layout.shape else self.layout.columns

    def grid_values(self) -> np.ndarray:
        """``values`` as the network reads them: ``[n, positions, channels]``."""
        return self.values.reshape(len(self.values), -1, self.layout.grid[-1])

    def tidy(self) -> pd.DataFrame:
        """Long form: ``row, position, channel, value`` for an array (position: the index of
        the flattened spatial grid; an image's ``i, j`` as well), ``row, column, value`` for a
        tabular design."""
        rows = np.asarray(self.index)
        if not self.layout.shape:
            n, p = self.values.shape
            return pd.DataFrame({"row": np.repeat(rows, p), "column": self.columns * n,
                                 "value": self.values.reshape(-1)})
        grid = self.grid_values()
        n, positions, channels = grid.shape
        out = pd.DataFrame({"row": np.repeat(rows, positions * channels),
                            "position": np.tile(np.repeat(np.arange(positions), channels), n),
                            "channel": np.tile(np.arange(channels), n * positions),
                            "value": grid.reshape(-1)})
        if len(self.layout.grid) == 3:  # an image: its pixel's row and column too
            width = self.layout.grid[1]
            out.insert(2, "i", out["position"] // width)
            out.insert(3, "j", out["position"] % width)
        return out

    def glance(self) -> pd.DataFrame:
        err = (np.nan if self.completeness is None
               else float(np.abs(self.completeness["error"]).max()))
        return pd.DataFrame([{"method": self.method, "scale": self.scale,
                              "nobs": int(np.isfinite(self.values.reshape(len(self.values), -1)
                                                      ).all(axis=1).sum()),
                              "max_completeness_error": err}])

    def summary(self) -> Summary:
        notes = [f"Gradients of the {self.scale}-scale output of each row's target with "
                 "respect to the input on the user's scale."]
        if self.completeness is not None:
            notes.append(f"Integrated gradients from the baseline by the trapezoid rule on "
                         f"{self.steps} intervals; max |sum − (f(x) − f(baseline))| = "
                         f"{self.glance()['max_completeness_error'][0]:.3g}.")
        shape = list(self.values.shape)
        table = items_table([("method", self.method), ("scale", self.scale),
                             ("values shape", str(shape))])
        return Summary("Input attributions", f"fit.attributions(method={self.method!r})",
                       {"attributions": table}, notes, layouts={"attributions": "items"})

    def plot(self, row: int = 0, alphabet: str | None = None, ax=None):
        """Row ``row``'s attributions (by position in ``values``): a sequence logo for a
        sequence (letters ``alphabet``, default ``ACGT`` for 4 channels), a heat map (summed
        over channels) for an image, bars for a tabular design."""
        from .logos import draw_logo

        if not isinstance(row, (int, np.integer)) or not -len(self.values) <= row < len(
                self.values):
            raise OptionError(f"row must be a position 0..{len(self.values) - 1}; got {row!r}.")
        fig, ax = new_figure(ax, figsize=(10, 3))
        if not self.layout.shape:
            ax.bar(range(len(self.columns)), self.values[row])
            ax.set_xticks(range(len(self.columns)), self.columns, rotation=90)
        elif len(self.layout.grid) == 3:
            image = self.grid_values()[row].sum(axis=1).reshape(self.layout.grid[:2])
            limit = float(np.nanmax(np.abs(image))) or 1.0
            shown = ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit)
            fig.colorbar(shown, ax=ax)
        else:
            draw_logo(ax, self.grid_values()[row], alphabet)
        ax.set_title(f"{self.method} ({self.scale} scale), row {row}, target "
                     f"{self.target.iloc[row]}")
        return fig


__all__ = ["Attributions", "attributions", "METHODS"]
