"""Prediction intervals for new observations and conformal prediction sets of a fit:
``fit.predict(newdata, interval="prediction", level=)`` and ``type="set"``.

The method is chosen from what the fit holds (or named with ``method=``):

* ``"lm"``: a gaussian GLM (identity link, ``hidden=()``, no penalty) has R's
  ``predict.lm(interval = "prediction")``: ``fit ± t_{df} √(se_fit² + σ²/w)``, exact under
  the normal linear model;
* ``"jackknife+ab"``: a fit with ``bootstrap=B``: jackknife+-after-bootstrap from the
  replicates' out-of-bag predictions of the training rows;
* ``"split"``: a fit with validation rows: split conformal with those rows as calibration;
* CV+ is :meth:`dlstat.results.cv.CVResult.predict`.

See :mod:`dlstat.results.conformal` for the construction and the scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError, OptionError, warn
from .conformal import Calibration, label_scores, out_of_bag_members, pearson_scores

if TYPE_CHECKING:
    from .fit import DNNFit

METHODS = ("lm", "split", "jackknife+ab")
DESCRIPTIONS = {
    "lm": "normal-theory prediction interval of the linear model (R's predict.lm)",
    "split": "split conformal on the {n} validation rows",
    "jackknife+ab": "jackknife+-after-bootstrap on the {n} training rows' out-of-bag "
                    "predictions of {B} replicates",
    "cv+": "CV+ on the {n} out-of-fold predictions of {k} fold networks",
}


def describe(method: str, **sizes: int) -> str:
    """What a method is, with its sizes."""
    return DESCRIPTIONS[method].format(**sizes)


# -- which method ---------------------------------------------------------------------------

def lm_applies(fit: DNNFit) -> str:
    """Why R's ``predict.lm`` interval does not apply to ``fit`` (``""`` when it does)."""
    from .inference import has_covariance, wald_applies

    if fit.topology.layers:
        return "it is a network with hidden layers, not a linear model"
    if not fit.family.standardised:  # the one family whose response is N(μ, σ²/w)
        return (f"family {fit.family.name!r} (link {fit.family.link!r}) gives no exact "
                "prediction interval: the response's distribution around its mean is not "
                "normal with a variance free of the mean")
    if not wald_applies(fit):
        return ("the fit is penalised or has several responses, so the linear model's "
                "standard errors do not apply")
    if not has_covariance(fit):
        return "the model was loaded from a file without its covariance"
    return ""


def choose_method(fit: DNNFit, method: str | None, sets: bool) -> str:
    """The method ``method`` names, or the best one the fit holds; an error saying how to get
    one when it holds none."""
    if method is not None and method not in METHODS:
        raise OptionError(f"method must be one of {list(METHODS)} (or None: chosen from the "
                          f"fit); got {method!r}. CV+ is cv_dnn(...).predict(newdata, "
                          "interval='prediction').")
    available = {"lm": "" if sets else lm_applies(fit),
                 "jackknife+ab": "" if fit.bootstrap is not None and fit.has_training_data
                 else "the fit has no bootstrap replicates (dnn(..., bootstrap=B))",
                 "split": "" if "validation" in fit.held_rows
                 else "the fit has no validation rows (dnn(..., validation=0.2))"}
    if sets:
        available["lm"] = "prediction sets are conformal"
    if method is not None:
        if available[method]:
            raise OptionError(f"method={method!r} is not available: {available[method]}.")
        return method
    for name in ("lm", "jackknife+ab", "split"):
        if not available[name]:
            return name
    what = "prediction sets" if sets else "a prediction interval"
    reasons = "; ".join(f"{m}: {why}" for m, why in available.items())
    raise OptionError(
        f"this fit holds nothing to calibrate {what} on ({reasons}). Refit with "
        "validation=0.2 (split conformal) or bootstrap=50 (jackknife+-after-bootstrap), or "
        "use cv_dnn(...).predict(newdata, interval='prediction') (CV+).")


# -- calibration ----------------------------------------------------------------------------

def class_probs(fit: DNNFit, mu: np.ndarray) -> np.ndarray:
    """Class probabilities [n, K] from response-scale means (binomial: [1 − p, p])."""
    return mu if fit.family.kind.several_classes else np.column_stack([1 - mu[:, 0], mu[:, 0]])


def class_labels(fit: DNNFit, y: np.ndarray) -> np.ndarray:
    """Each row's class position from its natural-scale response, or an error for a
    response of proportions (it has no single class)."""
    if fit.family.kind.several_classes:
        return y.argmax(axis=1)
    if not np.isin(y[:, 0], (0.0, 1.0)).all():
        raise OptionError("prediction sets need one class per row; this binomial response is "
                          "a proportion (or successes and failures). Use interval='prediction' "
                          "on a count model, or fit the 0/1 response.")
    return y[:, 0].astype(int)


def check_response(fit: DNNFit, sets: bool) -> None:
    """Refuse what has no meaning: sets of a non-classifier, intervals of a classifier or of
    several responses."""
    if sets and not fit.family.is_classification:
        raise OptionError(f"type='set' gives sets of classes, for a binomial or multinomial "
                          f"fit; this one is {fit.family.name!r}. Use interval='prediction'.")
    if not sets and fit.family.is_classification:
        raise OptionError("a prediction interval of a classifier's response is not defined; "
                          "use type='set' for a conformal set of classes at `level`.")
    if not sets and fit.topology.n_outputs != 1:
        raise OptionError(f"prediction intervals are given for one response; this fit has "
                          f"{fit.topology.n_outputs}. Fit each response on its own.")


def calibrate(fit: DNNFit, method: str, sets: bool) -> Calibration:
    """The calibration rows' scores (and their centres' members) for ``method``."""
    if method == "split":
        rows = fit.held_rows["validation"]
        mu = fit.family.mean(fit.link_of(rows.X, rows.offset))
        return _calibration(fit, method, rows.y, mu, rows.weights, None, sets)
    X, y, _ = fit.training_data()
    priors = fit.priors
    counts = fit.bootstrap.counts
    members, kept = out_of_bag_members(counts)
    P = member_means(fit, X, priors.offset)  # [B, n, k]
    centre = np.einsum("bik,ib->ik", P[:, kept], members)
    return _calibration(fit, method, y[kept], centre, priors.weights[kept], members, sets)


def _calibration(fit: DNNFit, method: str, y: np.ndarray, mu: np.ndarray,
                 weights: np.ndarray, members: np.ndarray | None, sets: bool) -> Calibration:
    """Scores of the rows with positive weight (a row of weight 0 is not an observation)."""
    used = weights > 0
    if sets:
        scores = label_scores(class_probs(fit, mu[used]), class_labels(fit, y[used]))
    else:
        scores = pearson_scores(fit.family.variance, y[used, 0], mu[used, 0], weights[used])
    if not len(scores):
        raise DataError(f"no calibration rows for {method}: every row has prior weight 0.")
    return Calibration(method, scores, None if members is None else members[used])


def member_means(fit: DNNFit, X: np.ndarray, offset: np.ndarray | None) -> np.ndarray:
    """The replicates' response-scale means [B, n, k] of design rows ``X``."""
    return np.stack([r.family.mean(r.link_of(X, offset)) for r in fit.bootstrap.fits])


# -- intervals and sets for design rows -----------------------------------------------------

@dataclass
class Bounds:
    """Prediction intervals (or sets) of design rows, and how they were made."""

    fit: np.ndarray
    lower: np.ndarray | None  # intervals
    upper: np.ndarray | None
    members: np.ndarray | None  # sets [m, K]
    method: str
    note: str


def row_bounds(fit: DNNFit, X: np.ndarray, offset: np.ndarray | None,
               weights: np.ndarray, level: float, method: str, sets: bool,
               calibration: Calibration | None = None) -> Bounds:
    """Intervals (``sets=False``) or sets of design rows ``X`` with their ``offset`` and
    prior ``weights`` at ``level`` (``calibration``: reused when given)."""
    alpha = 1 - level
    mu = fit.family.mean(fit.link_of(X, offset))
    if method == "lm":
        lower, upper = lm_bounds(fit, X, offset, weights, level)
        return Bounds(mu[:, 0], lower, upper, None, method, describe(method))
    cal = calibration or calibrate(fit, method, sets)
    P = mu[None] if method == "split" else member_means(fit, X, offset)
    sizes = {"n": cal.n, "B": 0 if fit.bootstrap is None else fit.bootstrap.size}
    note = describe(method, **sizes) + _score_note(fit, sets)
    if method == "split" and fit.options.early_stopping:
        note += (" (the validation rows also chose the stopping epoch, a mild dependence; "
                 "early_stopping=None makes them untouched calibration rows)")
    if sets:
        return Bounds(mu[:, 0] if mu.shape[1] == 1 else mu, None, None,
                      cal.sets(np.stack([class_probs(fit, p) for p in P]), alpha), method,
                      note)
    spread = _spread(fit, weights)
    lower, upper = cal.interval(P[..., 0], spread, alpha)
    return Bounds(mu[:, 0], lower, upper, None, method, note)


def _score_note(fit: DNNFit, sets: bool) -> str:
    if sets:
        return "; score 1 - p(true class) (LAC)"
    if fit.family.standardised and fit.options.weights is None:
        return "; score |y - fit|"
    return "; score |y - fit| * sqrt(w / V(fit)) (the absolute Pearson residual)"


def _spread(fit: DNNFit, weights: np.ndarray):
    """``s(μ) = √(V(μ) / w)`` for new rows of prior ``weights`` (a centre matrix [m, n]
    broadcasts over its columns)."""
    w = np.asarray(weights, np.float64)

    def spread(centre: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.sqrt(fit.family.variance(centre))
            return scale / np.sqrt(w if centre.ndim == 1 else w[:, None])

    return spread


def lm_bounds(fit: DNNFit, X: np.ndarray, offset: np.ndarray | None, weights: np.ndarray,
              level: float) -> tuple[np.ndarray, np.ndarray]:
    """R's ``predict.lm(interval = "prediction")``: ``fit ± t √(se² + σ²/w)``."""
    from .inference import df_residual, dispersion, link_and_se

    eta, se = link_and_se(fit, X, offset)
    q = stats.t.ppf((1 + level) / 2, df_residual(fit))
    with np.errstate(divide="ignore"):
        half = q * np.sqrt(se**2 + dispersion(fit) / np.asarray(weights, np.float64))
    return eta - half, eta + half


# -- the predict() request -----------------------------------------------------------------

def new_weights(fit: DNNFit, newdata: Any, weights: Any, ok: np.ndarray) -> np.ndarray:
    """The prior weights of the predicted rows, as R's ``predict.lm``: ``weights`` (a column
    of ``newdata`` or one number per row); the training rows' own weights when ``newdata``
    is None; else 1, with R's warning when the fit was weighted."""
    weighted = fit.options.weights is not None
    if weights is None:
        if newdata is None:
            warn("predictions on current data refer to _future_ responses")
            if weighted:
                warn("assuming prediction variance inversely proportional to weights used "
                     "for fitting")
                return np.asarray(fit.priors.weights, np.float64)
        elif weighted:
            warn("Assuming constant prediction variance even though model fit is weighted")
        return np.ones(int(ok.sum()))
    n = len(ok)
    if isinstance(weights, str):
        if not isinstance(newdata, pd.DataFrame) or weights not in newdata.columns:
            raise DataError(f"weights={weights!r} names no column of newdata; pass a column "
                            "name of newdata or one number per row.")
        weights = newdata[weights]
    values = np.asarray(weights, dtype=object)
    if values.ndim == 0:
        values = np.full(n, values.item(), dtype=object)
    try:
        values = values.astype(np.float64)
    except (TypeError, ValueError):
        raise DataError("weights must be numbers (one per row of newdata); got values that "
                        "are not numeric.") from None
    if values.shape != (n,):
        raise DataError(f"weights must give one number per row of newdata ({n}); got "
                        f"{values.shape[0] if values.ndim else 1}.")
    values = values[ok]
    if not np.isfinite(values).all() or (values < 0).any():
        raise DataError("weights must be finite and non-negative; got "
                        f"{values[~np.isfinite(values) | (values < 0)][:3].tolist()}.")
    return values


def check_level(level: Any) -> float:
    from .inference import check_level as check

    return check(level)


def interval_frame(fit: DNNFit, newdata: Any, type: str, unseen: str | None, level: float,
                   method: str | None = None, weights: Any = None) -> pd.DataFrame:
    """``predict(interval="prediction")``: ``fit``, ``lwr``, ``upr`` on the response scale
    (``attrs["method"]`` says how)."""
    level = check_level(level)
    check_response(fit, sets=False)
    if type != "response":
        raise OptionError(f"a prediction interval is for the response itself, "
                          f"type='response'; got type={type!r}.")
    chosen = choose_method(fit, method, sets=False)
    (X, offset), ok, index = fit._design_rows(newdata, unseen)
    if chosen == "lm" and fit.record.aliased:
        warn("prediction from a rank-deficient fit may be misleading")  # R 4.2's words
    bounds = row_bounds(fit, X, offset, new_weights(fit, newdata, weights, ok), level, chosen,
                        sets=False)
    out = pd.DataFrame(np.nan, index=index, columns=["fit", "lwr", "upr"])
    out.loc[ok, "fit"], out.loc[ok, "lwr"], out.loc[ok, "upr"] = (bounds.fit, bounds.lower,
                                                                    bounds.upper)
    out.attrs["method"] = bounds.note
    return out


def set_frame(fit: DNNFit, newdata: Any, unseen: str | None, level: float,
              method: str | None = None) -> pd.DataFrame:
    """``predict(type="set")``: one logical column per class (is it in the row's set at
    ``level``); NA rows where no prediction is possible."""
    level = check_level(level)
    check_response(fit, sets=True)
    chosen = choose_method(fit, method, sets=True)
    (X, offset), ok, index = fit._design_rows(newdata, unseen)
    bounds = row_bounds(fit, X, offset, np.ones(int(ok.sum())), level, chosen, sets=True)
    out = pd.DataFrame(pd.NA, index=index, columns=[str(v) for v in fit.family.levels],
                       dtype="boolean")
    out.loc[ok] = bounds.members
    out.attrs["method"] = bounds.note
    return out


# -- CV+ (cv_dnn) ---------------------------------------------------------------------------

def cv_plus_frame(cv: Any, newdata: Any, type: str, interval: str, level: float,
                  unseen: str | None, weights: Any) -> pd.Series | pd.DataFrame:
    """``CVResult.predict``: the fold networks' mean, with the CV+ interval or set."""
    level = check_level(level)
    if type not in ("response", "set") or interval not in ("none", "prediction"):
        raise OptionError(f"a cross-validation predicts type='response' (interval='none' or "
                          f"'prediction') or type='set'; got type={type!r}, "
                          f"interval={interval!r}.")
    if newdata is None:
        raise DataError("a cross-validation has no training rows of its own (each fold "
                        "network has its own); pass newdata to predict().")
    first, sets = cv.fits[0], type == "set"
    means, ok = _fold_means(cv, newdata, unseen)
    index = newdata.index if isinstance(newdata, pd.DataFrame) else pd.RangeIndex(len(ok))
    centre = means[:, ok].mean(axis=0)
    if not sets and interval == "none":
        out = pd.DataFrame(np.nan, index=index, columns=first.family.output_names)
        out.loc[ok] = centre
        return out.iloc[:, 0].rename(first.family.output_names[0]) if out.shape[1] == 1 \
            else out
    check_response(first, sets)
    if cv.n_repeats > 1 or cv.out_of_fold is None:
        raise OptionError(f"CV+ needs one partition of the rows; this cross-validation has "
                          f"{cv.n_repeats} repeats. Run cv_dnn(..., repeats=1).")
    held = cv.out_of_fold
    members = np.eye(len(cv.fits))[held.split]
    cal = _calibration(first, "cv+", held.y, held.mu, held.weights, members, sets)
    note = describe("cv+", n=cal.n, k=len(cv.fits)) + _score_note(first, sets)
    if sets:
        probs = np.stack([class_probs(first, p) for p in means[:, ok]])
        out = pd.DataFrame(pd.NA, index=index, columns=[str(v) for v in first.family.levels],
                           dtype="boolean")
        out.loc[ok] = cal.sets(probs, 1 - level)
    else:
        spread = _spread(first, new_weights(first, newdata, weights, ok))
        lower, upper = cal.interval(means[:, ok, 0], spread, 1 - level)
        out = pd.DataFrame(np.nan, index=index, columns=["fit", "lwr", "upr"])
        out.loc[ok, "fit"], out.loc[ok, "lwr"], out.loc[ok, "upr"] = centre[:, 0], lower, upper
    out.attrs["method"] = note
    return out


def _fold_means(cv: Any, newdata: Any, unseen: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Each fold network's response-scale means [k, m, outputs] of ``newdata`` (NaN where it
    cannot predict) and the rows every fold network predicts."""
    means, ok_all = [], None
    for fit in cv.fits:
        (X, offset), ok, _ = fit._design_rows(newdata, unseen)
        full = np.full((len(ok), fit.family.n_outputs), np.nan)
        full[ok] = fit.family.mean(fit.link_of(X, offset))
        means.append(full)
        ok_all = ok if ok_all is None else ok_all & ok
    return np.stack(means), ok_all


# -- coverage on the test rows (summary) ----------------------------------------------------

SUMMARY_LEVEL = 0.95
SHORT_NAMES = {"lm": "predict.lm's normal-theory interval",
               "split": "split conformal on the validation rows",
               "jackknife+ab": "jackknife+-after-bootstrap", "cv+": "CV+"}


def coverage_table(covered: np.ndarray, size: np.ndarray, sets: bool, method: str,
                   n_calibration: int | None) -> pd.DataFrame:
    """summary()'s table: the method, the level, the test rows' empirical coverage with its
    binomial standard error, and the mean width (or set size)."""
    from .protocol import items_table

    n = len(covered)
    rate = float(covered.mean()) if n else np.nan
    rows = [("Method", SHORT_NAMES[method]), ("Level", f"{100 * SUMMARY_LEVEL:g}%")]
    if n_calibration is not None:
        rows.append(("Calibration rows", n_calibration))
    rows += [("Test rows", n), ("Coverage", rate),
             ("Coverage SE (binomial)", float(np.sqrt(rate * (1 - rate) / n)) if n else np.nan),
             ("Mean set size" if sets else "Mean width", float(np.mean(size)) if n else np.nan)]
    return items_table(rows)


def fit_coverage(fit: DNNFit) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """The ``prediction`` table of ``fit.summary()`` (coverage of the 95% interval or set on
    the ``test=`` rows) and a note naming the method; nothing when the fit offers none."""
    sets = fit.family.is_classification
    try:
        check_response(fit, sets)
        method = choose_method(fit, None, sets)
    except OptionError:
        return {}, []
    what = "sets (predict(type='set'))" if sets else \
        "intervals (predict(interval='prediction'))"
    rows = fit.held_rows.get("test")
    if rows is None:
        return {}, [f"Prediction {what}: {SHORT_NAMES[method]}; refit with test= to measure "
                    "their coverage."]
    used = rows.weights > 0
    try:
        labels = class_labels(fit, rows.y[used]) if sets else None
    except OptionError:
        return {}, []
    calibration = None if method == "lm" else calibrate(fit, method, sets)
    bounds = row_bounds(fit, rows.X[used], None if rows.offset is None else rows.offset[used],
                        rows.weights[used], SUMMARY_LEVEL, method, sets, calibration)
    covered, size = _covered(bounds, rows.y[used], labels)
    table = coverage_table(covered, size, sets, method,
                           None if calibration is None else calibration.n)
    return {"prediction": table}, [f"Prediction {what}: {bounds.note}."]


def _covered(bounds: Bounds, y: np.ndarray, labels: np.ndarray | None):
    """Whether each row's response is in its interval (set), and the width (size)."""
    if labels is not None:
        return bounds.members[np.arange(len(labels)), labels], bounds.members.sum(axis=1)
    return (bounds.lower <= y[:, 0]) & (y[:, 0] <= bounds.upper), bounds.upper - bounds.lower


def cv_coverage(cv: Any) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """The CV+ ``prediction`` table of ``cv.summary()`` on the ``test=`` rows (scored by every
    fold network), and its note; nothing when CV+ does not apply."""
    first = cv.fits[0]
    sets = first.family.is_classification
    tests = [fit.held_rows.get("test") for fit in cv.fits]
    try:
        check_response(first, sets)
    except OptionError:
        return {}, []
    if cv.n_repeats > 1 or cv.out_of_fold is None or any(t is None for t in tests) or \
            len({len(t.y) for t in tests}) != 1:
        return {}, []
    rows = tests[0]
    used = rows.weights > 0
    try:
        labels = class_labels(first, rows.y[used]) if sets else None
    except OptionError:
        return {}, []
    held = cv.out_of_fold
    cal = _calibration(first, "cv+", held.y, held.mu, held.weights,
                       np.eye(len(cv.fits))[held.split], sets)
    means = np.stack([fit.family.mean(fit.link_of(t.X, t.offset))[used]
                      for fit, t in zip(cv.fits, tests)])
    alpha = 1 - SUMMARY_LEVEL
    if sets:
        members = cal.sets(np.stack([class_probs(first, p) for p in means]), alpha)
        bounds = Bounds(means.mean(axis=0), None, None, members, "cv+", "")
    else:
        lower, upper = cal.interval(means[..., 0], _spread(first, rows.weights[used]), alpha)
        bounds = Bounds(means.mean(axis=0)[:, 0], lower, upper, None, "cv+", "")
    covered, size = _covered(bounds, rows.y[used], labels)
    what = "sets (predict(type='set'))" if sets else \
        "intervals (predict(interval='prediction'))"
    note = describe("cv+", n=cal.n, k=len(cv.fits)) + _score_note(first, sets)
    return ({"prediction": coverage_table(covered, size, sets, "cv+", cal.n)},
            [f"Prediction {what}: {note}."])
