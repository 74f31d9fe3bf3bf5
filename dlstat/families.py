"""Families: how a response is encoded, which link maps the network's output to the mean, and
which deviance the network minimises (training loss = mean deviance / 2, so a network without
hidden layers is exactly the GLM).  Metrics are computed here too.  No TensorFlow: the engine
has the matching in-graph loss (``row_loss`` in ``engine/graph.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import OptionError, ResponseError

FAMILIES = ("gaussian", "binomial", "multinomial", "poisson")
LINKS = {"gaussian": "identity", "binomial": "logit", "multinomial": "softmax", "poisson": "log"}
_EPS = 1e-15


@dataclass
class Family:
    """A fitted family: the encoding learned from the training response."""

    name: str
    outputs: list[str]
    levels: list[Any] | None = None
    y_center: np.ndarray = field(default_factory=lambda: np.zeros(1))
    y_scale: np.ndarray = field(default_factory=lambda: np.ones(1))
    counts: bool = False  # binomial cbind(successes, failures): proportions, trials as weights

    @property
    def link(self) -> str:
        return LINKS[self.name]

    @property
    def n_outputs(self) -> int:
        return len(self.levels) if self.name == "multinomial" else len(self.outputs)

    @property
    def penalty_scale(self) -> float:
        """The engine trains gaussian networks on standardised y, so a penalty given on
        glmnet's scale is divided by sd(y) there (glmnet does the same)."""
        return float(np.mean(self.y_scale)) if self.name == "gaussian" else 1.0

    @property
    def is_classification(self) -> bool:
        return self.name in ("binomial", "multinomial")

    # -- encoding -----------------------------------------------------------------------------
    def encode(self, response: pd.DataFrame) -> np.ndarray:
        """The training target: standardised values (gaussian), 0/1 (binomial), one-hot
        (multinomial) or counts (poisson), shape [n, n_outputs]."""
        if self.name == "gaussian":
            return (_numeric(response, self.name) - self.y_center) / self.y_scale
        if self.name == "poisson":
            return _numeric(response, self.name)
        if self.counts:
            return _proportions(response)[:, None]
        y = response.iloc[:, 0]
        if self.name == "binomial" and _is_proportion(y):  # 0/1 or proportions (weights=trials)
            return y.to_numpy(dtype=np.float64)[:, None]
        codes = _codes(y, self.levels or [])
        if self.name == "binomial":
            return (codes == 1).astype(np.float64)[:, None]
        return np.eye(len(self.levels or []))[codes]

    def trials(self, response: pd.DataFrame) -> np.ndarray:
        """Each row's number of trials (binomial counts: successes + failures), else ones: the
        factor a counts response multiplies into the prior weights, as R's glm does."""
        if not self.counts:
            return np.ones(len(response))
        return _numeric(response, self.name).sum(axis=1)

    def encode_offset(self, offset: np.ndarray) -> np.ndarray:
        """An offset on the user's link scale as the network's output sees it, [n, outputs]
        (gaussian networks train on standardised y, so it is divided by sd(y) there)."""
        column = np.asarray(offset, dtype=np.float64).reshape(-1, 1)
        if self.name == "gaussian":
            return column / self.y_scale
        return np.repeat(column, self.n_outputs, axis=1)

    def mean(self, eta: np.ndarray) -> np.ndarray:
        """Inverse link: network output (link scale) → mean on the response scale."""
        if self.name == "gaussian":
            return eta * self.y_scale + self.y_center
        # SciPy is imported here, not at the top: option checks and the CLI import this module.
        from scipy.special import expit, softmax

        if self.name == "binomial":
            return expit(eta)
        if self.name == "multinomial":
            return softmax(eta, axis=1)
        return np.exp(eta)

    def link_scale(self, eta: np.ndarray) -> np.ndarray:
        """The linear predictor on the user's scale (gaussian: unstandardised)."""
        return eta * self.y_scale + self.y_center if self.name == "gaussian" else eta

    def natural(self, Y: np.ndarray) -> np.ndarray:
        """Encoded targets back on the natural scale (gaussian: unstandardised)."""
        return Y * self.y_scale + self.y_center if self.name == "gaussian" else Y

    def encode_target(self, y: np.ndarray) -> np.ndarray:
        """Natural-scale targets (from ``target``) encoded for the engine."""
        return (y - self.y_center) / self.y_scale if self.name == "gaussian" else y

    def target(self, response: pd.DataFrame) -> np.ndarray:
        """The response on its natural scale for deviance and metrics, [n, n_outputs]."""
        if self.name == "gaussian":
            return _numeric(response, self.name)
        return self.encode(response)

    # -- deviance and metrics -----------------------------------------------------------------
    def deviance_rows(self, y: np.ndarray, mu: np.ndarray) -> np.ndarray:
        """Unit deviance per row (summed over outputs), as R's ``family()$dev.resids``."""
        if self.name == "gaussian":
            return ((y - mu) ** 2).sum(axis=1)
        if self.name == "binomial":
            p = np.clip(mu, _EPS, 1 - _EPS)
            saturated = _xlogx(y) + _xlogx(1 - y)  # zero for 0/1 responses; proportions: R's
            return (2 * (saturated - y * np.log(p) - (1 - y) * np.log1p(-p))).sum(axis=1)
        if self.name == "multinomial":
            return -2 * (y * np.log(np.clip(mu, _EPS, 1))).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / mu), 0.0)
        return (2 * (ylogy - (y - mu))).sum(axis=1)

    def null_mean(self, y: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """The intercept-only maximum-likelihood mean, [n_outputs]."""
        return np.average(y, axis=0, weights=weights)

    def mean_at_zero_link(self) -> np.ndarray:
        """The mean at a zero linear predictor, R's null model without an intercept
        (gaussian 0, binomial 1/2, poisson 1, multinomial 1/K), [n_outputs]."""
        k = self.n_outputs
        return {"gaussian": np.zeros(k), "binomial": np.full(k, 0.5), "poisson": np.ones(k),
                "multinomial": np.full(k, 1 / k)}[self.name]

    def null_means(self, y: np.ndarray, weights: np.ndarray | None = None,
                   offset: np.ndarray | None = None, intercept: bool = True) -> np.ndarray:
        """The null model's means per row, [n, outputs]: the intercept-only GLM with the
        prior weights and the offset (user's link scale), as R's null deviance uses.  With an
        offset and no intercept the null model is the offset alone, as in R."""
        if offset is None:
            null = self.null_mean(y, weights) if intercept else self.mean_at_zero_link()
            return np.broadcast_to(null, y.shape)
        from .null_model import null_means_with_offset  # SciPy: imported on use

        return null_means_with_offset(self, y, weights, offset, intercept)

    def null_link(self, y_encoded: np.ndarray, weights: np.ndarray | None = None,
                  offset: np.ndarray | None = None) -> np.ndarray:
        """The intercept-only fit on the network's output scale (to initialise the output bias;
        ``offset`` on that scale, [n, outputs], is taken out first: an approximation)."""
        if offset is not None:
            shifted = (y_encoded - offset if self.name == "gaussian" else y_encoded)
            base = self.null_link(shifted, weights)
            return base if self.name == "gaussian" else base - np.average(offset, axis=0,
                                                                          weights=weights)
        m = np.average(y_encoded, axis=0, weights=weights)
        if self.name == "gaussian":
            return m
        if self.name == "binomial":
            p = np.clip(m, 1e-6, 1 - 1e-6)
            return np.log(p / (1 - p))
        if self.name == "multinomial":
            logp = np.log(np.clip(m, 1e-6, 1))
            return logp - logp.mean()
        return np.log(np.maximum(m, 1e-6))

    def metrics(self, y: np.ndarray, mu: np.ndarray,
                weights: np.ndarray | None = None) -> dict[str, float]:
        """Family metrics of predictions ``mu`` against targets ``y`` (natural scale).

        With ``weights`` (prior weights, times trials for binomial counts) every metric is the
        weighted one: the deviance is R's sum of w·d; means, RMSE, MAE and R² are weighted
        means (R²: 1 − Σw·r² / Σw·(y − ȳ_w)², as ``summary.lm``); classification metrics are
        those of the trials, each row counting w times (scikit-learn's ``sample_weight``)."""
        w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
        dev = self.deviance_rows(y, mu)
        total = max(float(w.sum()), 1e-300)
        out: dict[str, float] = {"deviance": float(w @ dev), "mean_deviance": float(w @ dev)
                                 / total}
        if self.name in ("gaussian", "poisson"):
            return {**out, **_regression_metrics(y, mu, w)}
        if self.name == "binomial":  # each row: w·y successes and w·(1 − y) failures
            p = mu[:, 0]
            probs = np.column_stack([1 - p, p])
            probs, truth = np.vstack([probs, probs]), np.repeat([1, 0], len(y))
            w = np.concatenate([w * y[:, 0], w * (1 - y[:, 0])])
        else:
            probs, truth = mu, y.argmax(axis=1)
        if not np.isfinite(probs).all():
            return {**out, **{k: float("nan") for k in ("accuracy", "log_loss", "brier",
                                                        "auc")}}
        return {**out, **_class_metrics(probs, truth, w, self.name == "binomial")}

    @property
    def main_metric(self) -> str:
        return "accuracy" if self.is_classification else "rmse"

    # -- persistence --------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "counts": self.counts,
            "outputs": self.outputs,
            "levels": [_plain(v) for v in self.levels] if self.levels is not None else None,
            "y_center": self.y_center.tolist(),
            "y_scale": self.y_scale.tolist(),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Family:
        """The family stored in a model file, checked to be one ``make_family`` could build
        (a ``ValueError`` says what is inconsistent)."""
        name, outputs, levels = d["name"], d["outputs"], d["levels"]
        if name not in FAMILIES:
            raise ValueError(f"family {name!r} is not one of {list(FAMILIES)}")
        if not (isinstance(outputs, list) and outputs and len(outputs) <= 100_000
                and all(isinstance(o, str) for o in outputs)):
            raise ValueError("the family's outputs are not a list of response names")
        classes = name in ("binomial", "multinomial")
        if classes != (levels is not None) or (classes and not _valid_levels(name, levels)):
            raise ValueError(f"family {name!r} cannot have levels {str(levels)[:200]}")
        center = np.asarray(d["y_center"], dtype=np.float64).reshape(-1)
        scale = np.asarray(d["y_scale"], dtype=np.float64).reshape(-1)
        sizes_ok = name != "gaussian" or len(center) == len(scale) == len(outputs)
        if not (sizes_ok and np.isfinite(center).all() and np.isfinite(scale).all()
                and (scale > 0).all()):
            raise ValueError("the family's response centre or scale is not finite and positive")
        counts = d.get("counts", False)
        if counts not in (False, True) or (counts and name != "binomial"):
            raise ValueError(f"family {name!r} cannot hold binomial counts ({counts!r})")
        return cls(name=name, outputs=list(outputs), levels=levels, y_center=center,
                   y_scale=scale, counts=bool(counts))


def make_family(family: str | None, response: pd.DataFrame, levels: list[Any] | None = None,
                intercept: bool = True,
                weights: np.ndarray | None = None) -> tuple[Family, str | None]:
    """Check ``family`` against the response (choosing one when ``None``) and learn its encoding.

    ``levels`` fixes the classes (cross-validation uses the full data's classes in every fold);
    prior ``weights`` weight a gaussian response's centre and scale.
    Returns the family and, when it was chosen automatically, a sentence saying why.
    """
    reason = None
    if family is None:
        family, reason = _infer(response)
    if not isinstance(family, str) or family not in FAMILIES:
        raise OptionError(
            f"family must be one of {list(FAMILIES)}; got {family!r}. Pick the one that suits "
            "the response (gaussian for numbers, binomial for two classes, multinomial for "
            "three or more, poisson for counts)."
        )
    outputs = [str(c) for c in response.columns]
    if family in ("gaussian", "poisson"):
        y = _numeric(response, family)
        if family == "poisson" and ((y < 0).any()):
            raise ResponseError(
                f"family='poisson' needs non-negative counts; response {outputs} has minimum "
                f"{y.min():g}. Use family='gaussian' or shift the response."
            )
        if family == "gaussian":
            # Without an intercept the model must not gain one through centring y.
            mean = np.average(y, axis=0, weights=weights)
            center = mean if intercept else np.zeros(y.shape[1])
            scale = np.sqrt(np.average((y - mean) ** 2, axis=0, weights=weights))
            scale = np.where(scale > 0, scale, 1.0)
            return Family(family, outputs, None, center, scale), reason
        return Family(family, outputs), reason
    if family == "binomial" and response.shape[1] == 2:
        _check_counts(response)
        return Family(family, outputs[:1], [0, 1], counts=True), reason  # P(success)
    if response.shape[1] != 1:
        raise ResponseError(
            f"family={family!r} takes one response column; got {outputs}. Use cbind() with "
            "family='gaussian' or 'poisson' (several responses), or cbind(successes, "
            "failures) with family='binomial'."
        )
    if family == "binomial" and levels is None and _is_proportion(response.iloc[:, 0]):
        levels = [0, 1]
    if levels is None:
        levels = _response_levels(response.iloc[:, 0])
    if family == "binomial" and len(levels) != 2:
        raise ResponseError(
            f"family='binomial' needs a response with two classes; {outputs[0]!r} has "
            f"{len(levels)}: {levels[:10]}. Use family='multinomial' for more than two classes."
        )
    if family == "multinomial" and len(levels) < 2:
        raise ResponseError(
            f"family='multinomial' needs at least two classes; {outputs[0]!r} has {levels}."
        )
    return Family(family, outputs, levels), reason


def _valid_levels(family: str, levels: Any) -> bool:
    """Distinct text or number classes: two for binomial, at least two for multinomial."""
    if not isinstance(levels, list) or len(levels) > 1_000_000:
        return False
    scalars = all(isinstance(v, (str, int, float, bool)) for v in levels)
    count_ok = len(levels) == 2 if family == "binomial" else len(levels) >= 2
    return scalars and count_ok and len(set(map(repr, levels))) == len(levels)


def _infer(response: pd.DataFrame) -> tuple[str, str]:
    col = response.columns[0]
    y = response.iloc[:, 0]
    if response.shape[1] > 1:
        return "gaussian", "several numeric responses (cbind), so family = 'gaussian'"
    if pd.api.types.is_bool_dtype(y.dtype):
        return "binomial", f"response {col!r} is logical, so family = 'binomial'"
    if pd.api.types.is_numeric_dtype(y.dtype):
        values = set(np.unique(y.to_numpy(dtype=np.float64)))
        if values <= {0.0, 1.0} and len(values) == 2:
            return "binomial", f"response {col!r} holds only 0 and 1, so family = 'binomial'"
        return "gaussian", f"response {col!r} is numeric, so family = 'gaussian'"
    n = len(_response_levels(y))
    if n == 2:
        return "binomial", f"response {col!r} is a factor with 2 levels, so family = 'binomial'"
    return "multinomial", f"response {col!r} is a factor with {n} levels, so family = 'multinomial'"


def _response_levels(y: pd.Series) -> list[Any]:
    if isinstance(y.dtype, pd.CategoricalDtype):
        present = set(y.dropna().unique())
        return [_plain(v) for v in y.cat.categories if v in present]
    values = [_plain(v) for v in y.dropna().unique()]
    if pd.api.types.is_numeric_dtype(y.dtype) and not pd.api.types.is_bool_dtype(y.dtype):
        bad = [v for v in values if v not in (0, 1)]
        if bad and len(values) > 20:
            raise ResponseError(
                f"response {y.name!r} is numeric with {len(values)} distinct values; a class "
                "family needs a factor, a logical or a 0/1 response. Use family='gaussian' or "
                "'poisson', or convert the response to a factor."
            )
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def _codes(y: pd.Series, levels: list[Any]) -> np.ndarray:
    lookup = {v: i for i, v in enumerate(levels)}
    codes = np.array([lookup.get(_plain(v), -1) for v in y], dtype=np.int64)
    if (codes < 0).any():
        unknown = sorted({str(v) for v, c in zip(y, codes) if c < 0})
        raise ResponseError(
            f"response {y.name!r} has class(es) {unknown} the model does not know "
            f"(classes: {levels}). Recode them or drop those rows."
        )
    return codes


def _numeric(response: pd.DataFrame, family: str) -> np.ndarray:
    bad = [c for c in response.columns if not pd.api.types.is_numeric_dtype(response[c].dtype)
           or pd.api.types.is_bool_dtype(response[c].dtype)]
    if bad:
        kinds = {c: str(response[c].dtype) for c in bad}
        raise ResponseError(
            f"family={family!r} needs a numeric response; {kinds} is not numeric. Use "
            "family='binomial' or 'multinomial' for classes, or convert the column to numbers."
        )
    return response.to_numpy(dtype=np.float64).reshape(len(response), -1)


def _auc(y: np.ndarray, score: np.ndarray, w: np.ndarray) -> float:
    """Area under the ROC curve, weighted (the Mann–Whitney statistic over weighted pairs,
    ties counting one half); NaN with one class."""
    pos = (y == 1) & (w > 0)
    neg = (y != 1) & (w > 0)
    w_pos, w_neg = float(w[pos].sum()), float(w[neg].sum())
    if w_pos <= 0 or w_neg <= 0:
        return float("nan")
    _, group = np.unique(score, return_inverse=True)
    pos_w = np.bincount(group, weights=w * pos)
    neg_w = np.bincount(group, weights=w * neg)
    below = np.cumsum(neg_w) - neg_w
    return float((pos_w * (below + neg_w / 2)).sum() / (w_pos * w_neg))


def _regression_metrics(y: np.ndarray, mu: np.ndarray, w: np.ndarray) -> dict[str, float]:
    """Weighted RMSE, MAE and R² (averaged over responses)."""
    share = w[:, None] / max(float(w.sum()), 1e-300)
    resid = y - mu
    out = {"rmse": float(np.sqrt((share * resid**2).sum() / y.shape[1])),
           "mae": float((share * np.abs(resid)).sum() / y.shape[1])}
    ss_tot = (share * (y - (share * y).sum(axis=0)) ** 2).sum(axis=0)
    r2 = 1 - (share * resid**2).sum(axis=0) / np.where(ss_tot > 0, ss_tot, np.nan)
    out["r_squared"] = float(np.nanmean(r2)) if np.isfinite(r2).any() else float("nan")
    return out


def _class_metrics(probs: np.ndarray, truth: np.ndarray, w: np.ndarray,
                   binary: bool) -> dict[str, float]:
    """Weighted accuracy, log loss, Brier score and AUC of class probabilities."""
    share = w / max(float(w.sum()), 1e-300)
    onehot = np.eye(probs.shape[1])[truth]
    picked = probs[np.arange(len(truth)), truth]
    # Binary Brier score is mean((p - y)^2) as in scikit-learn; multiclass sums over classes.
    brier = (probs[:, 1] - onehot[:, 1]) ** 2 if binary else ((probs - onehot) ** 2).sum(axis=1)
    aucs = [_auc(onehot[:, k], probs[:, k], w) for k in range(probs.shape[1])]
    return {"accuracy": float(share @ (probs.argmax(axis=1) == truth)),
            "log_loss": float(-share @ np.log(np.clip(picked, _EPS, 1))),
            "brier": float(share @ brier),
            "auc": aucs[1] if binary else float(np.nanmean(aucs))}


def _is_proportion(y: pd.Series) -> bool:
    """A numeric (not logical) response within [0, 1]: 0/1 classes or proportions."""
    if not pd.api.types.is_numeric_dtype(y.dtype) or pd.api.types.is_bool_dtype(y.dtype):
        return False
    values = y.dropna().to_numpy(dtype=np.float64)
    return bool(len(values)) and bool(((values >= 0) & (values <= 1)).all())


def _xlogx(v: np.ndarray) -> np.ndarray:
    """v·log(v) with 0·log(0) = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(v > 0, v * np.log(np.where(v > 0, v, 1.0)), 0.0)


def _check_counts(response: pd.DataFrame) -> None:
    """cbind(successes, failures): finite, non-negative numbers."""
    values = _numeric(response, "binomial")
    if not np.isfinite(values).all() or (values < 0).any():
        raise ResponseError(
            f"cbind({', '.join(map(str, response.columns))}) with family='binomial' is "
            f"successes and failures: non-negative counts; got minimum {np.nanmin(values):g}"
            f"{' and non-finite values' if not np.isfinite(values).all() else ''}. Fix those "
            "rows, or give proportions with weights= the trials.")


def _proportions(response: pd.DataFrame) -> np.ndarray:
    """successes / trials per row (0 where there are no trials, as R's binomial())."""
    values = _numeric(response, "binomial")
    trials = values.sum(axis=1)
    return np.where(trials > 0, values[:, 0] / np.where(trials > 0, trials, 1.0), 0.0)


def _plain(v: Any) -> Any:
    """NumPy scalars as Python ones, and whole floats as ints (levels 0/1, not 0.0/1.0)."""
    v = v.item() if isinstance(v, np.generic) else v
    return int(v) if isinstance(v, float) and v.is_integer() else v


__all__ = ["FAMILIES", "Family", "make_family"]
