"""Simpler models fitted on a fold's design: the null (intercept-only) model and the GLM of the
same family (statsmodels; MNLogit for multinomial)."""

from __future__ import annotations

import warnings

import numpy as np

from ..blocks import Block


def null_means(block: Block, n: int) -> np.ndarray:
    """The intercept-only fit of the training rows, repeated for ``n`` held-out rows."""
    y = block.family.natural(block.Y)
    return np.repeat(block.family.null_mean(y)[None, :], n, axis=0)


def glm_means(block: Block, X_new: np.ndarray) -> np.ndarray:
    """Fit the GLM on the block's training rows with statsmodels; means for ``X_new``."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    fam = block.family
    X = _with_intercept(block.X, block.design.spec.intercept)
    Xn = _with_intercept(X_new, block.design.spec.intercept)
    y = fam.natural(block.Y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        if fam.name == "multinomial":
            codes = y.argmax(axis=1)
            present = np.unique(codes)
            res = sm.MNLogit(codes, X).fit(method="newton", maxiter=100, disp=False)
            probs = np.zeros((len(Xn), y.shape[1]))
            probs[:, present] = res.predict(Xn)
            return probs
        families = {"gaussian": sm.families.Gaussian(), "binomial": sm.families.Binomial(),
                    "poisson": sm.families.Poisson()}
        cols = [sm.GLM(y[:, j], X, family=families[fam.name]).fit().predict(Xn)
                for j in range(y.shape[1])]
    return np.column_stack(cols)


def _with_intercept(X: np.ndarray, intercept: bool) -> np.ndarray:
    return np.column_stack([np.ones(len(X)), X]) if intercept else X
