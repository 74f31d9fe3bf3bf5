"""Simpler models fitted on a fold's design: the null (intercept-only) model and the GLM of the
same family (statsmodels; MNLogit for multinomial), both with the prior weights and offset."""

from __future__ import annotations

import warnings

import numpy as np

from .blocks import Block, Scored


def null_means(block: Block, new: Scored) -> np.ndarray:
    """The intercept-only fit of the training rows (weighted, with their offset) for the
    held-out rows ``new`` (with theirs)."""
    fam = block.family
    y = fam.natural(block.fitting_rows()[1])
    weights, offset = block.fitting_priors()
    if offset is None:  # the intercept-only mean, or the mean at η = 0 without an intercept
        null = fam.null_means(y, weights, None, block.design.spec.intercept)[0]
        return np.repeat(null[None, :], len(new.X), axis=0)
    fitted = fam.null_means(y, weights, offset, block.design.spec.intercept)
    # The null model's linear predictor minus the offset is its intercept, the same in
    # every row; the held-out rows add their own offset.
    intercept = fam.link_fn.fun(fitted[0]) - offset[0]
    return fam.link_fn.inverse(intercept[None, :] + new.offset[:, None])


def glm_means(block: Block, new: Scored) -> tuple[np.ndarray, str | None]:
    """Fit the GLM on the block's training rows with statsmodels (prior weights as
    ``var_weights``, the offset as ``offset``); means for the held-out rows ``new``.

    When the maximum-likelihood fit does not exist or fails (e.g. perfect separation gives
    non-finite estimates), a lightly penalised fit is used instead and a note says so.
    """
    fam = block.family
    X_fit, Y_fit = block.fitting_rows()
    weights, offset = block.fitting_priors()
    X = _with_intercept(X_fit, block.design.spec.intercept)
    Xn = _with_intercept(new.X, block.design.spec.intercept)
    y = fam.natural(Y_fit)
    try:
        mu = _statsmodels_means(fam, (X, y, weights, offset), (Xn, new.offset))
    except (np.linalg.LinAlgError, ValueError):
        mu = np.full((len(Xn), y.shape[1]), np.nan)
    if np.isfinite(mu).all() or not fam.is_classification:
        return mu, None
    return _penalised_means(X_fit, y, weights, new.X, fam.kind.several_classes), (
        "the maximum-likelihood GLM failed on a fold (perfect separation?); a lightly "
        "penalised logistic fit (C = 1e4) stands in for it there.")


def _penalised_means(X: np.ndarray, y: np.ndarray, weights: np.ndarray, Xn: np.ndarray,
                     several: bool) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    if not several:  # each row as its successes and failures
        X, codes = np.vstack([X, X]), np.repeat([1, 0], len(y))
        weights = np.concatenate([weights * y[:, 0], weights * (1 - y[:, 0])])
    else:
        codes = y.argmax(axis=1)
    model = LogisticRegression(C=1e4, max_iter=5000).fit(X, codes, sample_weight=weights)
    probs = np.zeros((len(Xn), y.shape[1] if several else 2))
    probs[:, model.classes_] = model.predict_proba(Xn)
    return probs if several else probs[:, 1:2]


_SM_LINKS = {"identity": "Identity", "log": "Log", "logit": "Logit", "probit": "Probit",
             "cloglog": "CLogLog", "inverse": "InversePower", "1/mu^2": "InverseSquared",
             "sqrt": "Sqrt"}


def statsmodels_family(fam):
    """The statsmodels family and link of a fitted family (its kind names the class)."""
    import statsmodels.api as sm

    link = getattr(sm.families.links, _SM_LINKS[fam.link])()
    return getattr(sm.families, fam.kind.statsmodels)(link=link)


def _statsmodels_means(fam, train: tuple, new: tuple) -> np.ndarray:
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        X, y, weights, offset = train
        Xn, new_offset = new
        if fam.kind.glm_means is not None:  # not a GLM (Cox: its linear model)
            return fam.kind.glm_means(train, new, fam.ties)
        if fam.kind.statsmodels is None:  # the multinomial: MNLogit
            return _multinomial_means(X, y, weights, Xn)
        cols = [sm.GLM(y[:, j], X, family=statsmodels_family(fam), var_weights=weights,
                       offset=offset).fit().predict(Xn, offset=new_offset)
                for j in range(y.shape[1])]
    return np.column_stack(cols)


def _multinomial_means(X: np.ndarray, y: np.ndarray, weights: np.ndarray,
                       Xn: np.ndarray) -> np.ndarray:
    """MNLogit without weights; with prior weights (MNLogit takes none) the unpenalised
    weighted multinomial logit of scikit-learn, the same maximum-likelihood model."""
    import statsmodels.api as sm

    codes = y.argmax(axis=1)
    present = np.unique(codes)
    probs = np.zeros((len(Xn), y.shape[1]))
    if np.all(weights == 1):
        res = sm.MNLogit(codes, X).fit(method="newton", maxiter=100, disp=False)
        probs[:, present] = res.predict(Xn)
        return probs
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=np.inf, max_iter=10_000, tol=1e-10,
                               fit_intercept=False).fit(X, codes, sample_weight=weights)
    probs[:, model.classes_] = model.predict_proba(Xn)
    return probs


def _with_intercept(X: np.ndarray, intercept: bool) -> np.ndarray:
    return np.column_stack([np.ones(len(X)), X]) if intercept else X
