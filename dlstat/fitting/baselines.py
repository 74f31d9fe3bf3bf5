"""Simpler models fitted on a fold's design: the null (intercept-only) model and the GLM of the
same family (statsmodels; MNLogit for multinomial)."""

from __future__ import annotations

import warnings

import numpy as np

from .blocks import Block


def null_means(block: Block, n: int) -> np.ndarray:
    """The intercept-only fit of the training rows, repeated for ``n`` held-out rows."""
    y = block.family.natural(block.fitting_rows()[1])
    return np.repeat(block.family.null_mean(y)[None, :], n, axis=0)


def glm_means(block: Block, X_new: np.ndarray) -> tuple[np.ndarray, str | None]:
    """Fit the GLM on the block's training rows with statsmodels; means for ``X_new``.

    When the maximum-likelihood fit does not exist or fails (e.g. perfect separation gives
    non-finite estimates), a lightly penalised fit is used instead and a note says so.
    """
    fam = block.family
    X_fit, Y_fit = block.fitting_rows()
    X = _with_intercept(X_fit, block.design.spec.intercept)
    Xn = _with_intercept(X_new, block.design.spec.intercept)
    y = fam.natural(Y_fit)
    try:
        mu = _statsmodels_means(fam.name, X, y, Xn)
    except (np.linalg.LinAlgError, ValueError):
        mu = np.full((len(Xn), y.shape[1]), np.nan)
    if np.isfinite(mu).all() or fam.name not in ("binomial", "multinomial"):
        return mu, None
    return _penalised_means(X_fit, y, X_new, fam.name), (
        "the maximum-likelihood GLM failed on a fold (perfect separation?); a lightly "
        "penalised logistic fit (C = 1e4) stands in for it there.")


def _penalised_means(X: np.ndarray, y: np.ndarray, Xn: np.ndarray, family: str) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    codes = y[:, 0].astype(int) if family == "binomial" else y.argmax(axis=1)
    model = LogisticRegression(C=1e4, max_iter=5000).fit(X, codes)
    probs = np.zeros((len(Xn), 2 if family == "binomial" else y.shape[1]))
    probs[:, model.classes_] = model.predict_proba(Xn)
    return probs[:, 1:2] if family == "binomial" else probs


def _statsmodels_means(family: str, X: np.ndarray, y: np.ndarray,
                       Xn: np.ndarray) -> np.ndarray:
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        if family == "multinomial":
            codes = y.argmax(axis=1)
            present = np.unique(codes)
            res = sm.MNLogit(codes, X).fit(method="newton", maxiter=100, disp=False)
            probs = np.zeros((len(Xn), y.shape[1]))
            probs[:, present] = res.predict(Xn)
            return probs
        families = {"gaussian": sm.families.Gaussian(), "binomial": sm.families.Binomial(),
                    "poisson": sm.families.Poisson()}
        cols = [sm.GLM(y[:, j], X, family=families[family]).fit().predict(Xn)
                for j in range(y.shape[1])]
    return np.column_stack(cols)


def _with_intercept(X: np.ndarray, intercept: bool) -> np.ndarray:
    return np.column_stack([np.ones(len(X)), X]) if intercept else X
