"""Metrics of predictions against responses: weighted RMSE, MAE, R² for numbers; accuracy,
log loss, Brier score and AUC for classes."""

from __future__ import annotations

import numpy as np

_EPS = 1e-15



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


def regression_metrics(y: np.ndarray, mu: np.ndarray, w: np.ndarray) -> dict[str, float]:
    """Weighted RMSE, MAE and R² (averaged over responses)."""
    share = w[:, None] / max(float(w.sum()), 1e-300)
    resid = y - mu
    out = {"rmse": float(np.sqrt((share * resid**2).sum() / y.shape[1])),
           "mae": float((share * np.abs(resid)).sum() / y.shape[1])}
    ss_tot = (share * (y - (share * y).sum(axis=0)) ** 2).sum(axis=0)
    r2 = 1 - (share * resid**2).sum(axis=0) / np.where(ss_tot > 0, ss_tot, np.nan)
    out["r_squared"] = float(np.nanmean(r2)) if np.isfinite(r2).any() else float("nan")
    return out


def class_metrics(probs: np.ndarray, truth: np.ndarray, w: np.ndarray,
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
