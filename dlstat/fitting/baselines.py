"""Simpler models fitted on a fold's design: the null (intercept-only) model and the GLM of the
same family (statsmodels; MNLogit for multinomial), both with the prior weights and offset.
A family whose own parameter is estimated (the negative binomial's θ) gets each model's own
maximum-likelihood value, alternating with the GLM's fit as ``MASS::glm.nb`` does; each model
is scored at its own value."""

from __future__ import annotations

import warnings

import numpy as np

from ..families import Family
from .blocks import Block, Scored


def null_means(block: Block, new: Scored) -> tuple[np.ndarray, Family]:
    """The intercept-only fit of the training rows (weighted, with their offset) for the
    held-out rows ``new`` (with theirs), and its family (at its own estimated parameter)."""
    fam = block.family
    y = fam.natural(block.fitting_rows()[1])
    weights, offset = block.fitting_priors()
    fitted = fam.provisional().null_means(y, weights, offset, block.design.spec.intercept)
    fam = _estimated(fam, y, fitted, weights)
    if offset is None:  # the intercept-only mean, or the mean at η = 0 without an intercept
        return np.repeat(fitted[:1], len(new.X), axis=0), fam
    # The null model's linear predictor minus the offset is its intercept, the same in
    # every row; the held-out rows add their own offset.
    intercept = fam.link_fn.fun(fitted[0]) - offset[0]
    return fam.link_fn.inverse(intercept[None, :] + new.offset[:, None]), fam


def _estimated(fam: Family, y: np.ndarray, mu: np.ndarray, weights: np.ndarray) -> Family:
    """``fam`` at the maximum-likelihood value of its parameter given the means ``mu`` (when
    the fit estimates it)."""
    if not fam.estimates_parameter:
        return fam
    mu = np.broadcast_to(mu, y.shape)
    return fam.with_parameter(*fam.kind.parameter.estimate(y[:, 0], mu[:, 0], weights)[:2])


def glm_means(block: Block, new: Scored) -> tuple[np.ndarray, str | None, Family]:
    """Fit the GLM on the block's training rows with statsmodels (prior weights as
    ``var_weights``, the offset as ``offset``); means for the held-out rows ``new``.

    When the maximum-likelihood fit does not exist or fails (e.g. perfect separation gives
    non-finite estimates), a lightly penalised fit is used instead and a note says so.
    Also returns the GLM's family (at its own estimated parameter).
    """
    fam = block.family
    X_fit, Y_fit = block.fitting_rows()
    weights, offset = block.fitting_priors()
    X = _with_intercept(X_fit, block.design.spec.intercept)
    Xn = _with_intercept(new.X, block.design.spec.intercept)
    y = fam.natural(Y_fit)
    try:
        mu, fam = _alternating_means(fam, (X, y, weights, offset), (Xn, new.offset))
    except (np.linalg.LinAlgError, ValueError):
        mu = np.full((len(Xn), y.shape[1]), np.nan)
    if np.isfinite(mu).all() or not fam.is_classification:
        return mu, None, fam
    return _penalised_means(X_fit, y, weights, new.X, fam.kind.several_classes), (
        "the maximum-likelihood GLM failed on a fold (perfect separation?); a lightly "
        "penalised logistic fit (C = 1e4) stands in for it there."), fam


def _alternating_means(fam: Family, train: tuple, new: tuple) -> tuple[np.ndarray, Family]:
    """The GLM's means for the new rows; a parameter the fit estimates alternates with the
    coefficients (as ``glm.nb``) from its value at the intercept-only means."""
    from .family_parameter import EXACT_TOLERANCE, MAX_ROUNDS

    X, y, weights, offset = train
    if not fam.estimates_parameter:
        return _statsmodels_means(fam, train, new), fam
    fam = _estimated(fam, y, fam.provisional().null_means(y, weights, offset), weights)
    for _ in range(MAX_ROUNDS):
        fitted, mu = (_statsmodels_means(fam, train, rows) for rows in ((X, offset), new))
        before, fam = fam.parameter, _estimated(fam, y, fitted, weights)
        if abs(fam.parameter - before) <= EXACT_TOLERANCE * fam.parameter:
            break
    return mu, fam


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
    spec = fam.kind.parameter
    extra = {} if spec is None else spec.statsmodels(fam.parameter)
    return getattr(sm.families, fam.kind.statsmodels)(link=link, **extra)


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
