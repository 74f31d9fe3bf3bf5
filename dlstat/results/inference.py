"""Wald inference for a fit without hidden layers (a GLM): covariance, tests, intervals,
log-likelihood and information criteria, as R's ``summary.glm``, ``confint`` and ``logLik``.

Everything is computed on the original coefficient scale from the unstandardised design
matrix of the training rows: the network's standardised parametrisation is the same model,
so at the optimum its fitted means give the same information matrix.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import linalg, stats

from ..errors import DataError, OptionError, warn
from ..fitting.aliasing import raw_design as _raw_design
from ..formula.scaling import check_inference_range
from .persistence import SavedInference
from .protocol import items_table

if TYPE_CHECKING:
    from .fit import DNNFit

SIGNIF_LEGEND = "0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1"


def require_glm(fit: DNNFit, what: str) -> None:
    """Refuse ``what`` for a network with hidden layers, whose weights have no Wald theory."""
    if fit.topology.layers:
        raise OptionError(
            f"{what} is defined for a fit without hidden layers (a GLM, hidden=()); this network "
            f"has {len(fit.topology.layers)} hidden layer(s), whose weights are not identified "
            "(many weight settings give the same predictions), so their covariance has no "
            "meaning. Refit with hidden=() for GLM inference, or with bootstrap=100 for a "
            "network's bootstrap intervals (predict(interval='confidence'), effects()).")


def require_unpenalised(fit: DNNFit, what: str) -> None:
    """Refuse ``what`` for a penalised fit: shrunken estimates have no Wald covariance."""
    if fit.options.penalty > 0:
        raise OptionError(
            f"{what} needs an unpenalised fit; this one has penalty={fit.options.penalty:g}, "
            "and the Wald standard errors do not apply to shrunken estimates. Refit with "
            "penalty=0 (optimizer='lbfgs' reaches the optimum exactly).")


def wald_applies(fit: DNNFit) -> bool:
    """Whether Wald standard errors exist: a GLM without penalty, with one response (or one
    multinomial class factor)."""
    single = fit.family.kind.several_classes or fit.topology.n_outputs == 1
    return not fit.topology.layers and fit.options.penalty == 0 and single


def require_single_response(fit: DNNFit, what: str) -> None:
    """Refuse ``what`` for several gaussian/poisson responses fitted together."""
    if not fit.family.kind.several_classes and fit.topology.n_outputs > 1:
        raise OptionError(
            f"{what} is defined for one response; this fit has {fit.topology.n_outputs} "
            f"({', '.join(fit.family.outputs)}). Fit each response on its own for inference.")


def uses_t(fit: DNNFit) -> bool:
    """Families with an estimated dispersion (gaussian, Gamma, inverse Gaussian, quasi) have
    t tests, as ``summary.glm``."""
    return fit.family.kind.estimates_dispersion


def dispersion(fit: DNNFit) -> float:
    """An estimated dispersion is Pearson's χ² / df.residual (as ``summary.glm``; for the
    gaussian family the residual deviance / df.residual; NaN on 0 df); otherwise 1."""
    if not fit.family.kind.estimates_dispersion:
        return 1.0
    df = df_residual(fit)
    if df <= 0:  # no residual degrees of freedom: R's summary.glm gives NaN
        return math.nan
    if not fit.has_training_data:  # a loaded model: the gaussian's Pearson χ² is its deviance
        return fit.record.deviance / df if fit.family.standardised else np.nan
    return pearson_chi2(fit) / df


def pearson_chi2(fit: DNNFit) -> float:
    """Σ w (y − μ)² / V(μ) over the training rows (rows of weight 0 add nothing)."""
    from .generics import residuals

    return float(np.nansum(np.square(residuals(fit, "pearson").to_numpy())))


def df_residual(fit: DNNFit) -> int:
    """Rows minus coefficients per free output (R's ``df.residual``)."""
    from .summary import residual_df_of  # summary.py imports this module

    df, why_not = residual_df_of(fit)
    if df is None:
        raise OptionError(why_not)
    return df


def coefficient_names(fit: DNNFit) -> list[str]:
    """The design's coefficient names, intercept first (as ``tidy`` lists them)."""
    return (["(Intercept)"] if fit.spec.intercept else []) + list(fit.spec.names)


def raw_design(fit: DNNFit, X_standardised: np.ndarray) -> np.ndarray:
    """Standardised design rows back on the user's scale, with the intercept column."""
    return _raw_design(fit.spec, X_standardised)


def aliased_mask(fit: DNNFit) -> np.ndarray:
    """Which coefficients (in :func:`coefficient_names` order) the fit left out as aliased:
    R's NA coefficients, "not defined because of singularities"."""
    mask = np.zeros(len(coefficient_names(fit)), bool)
    mask[np.asarray(fit.record.aliased, dtype=int) + int(fit.spec.intercept)] = True
    return mask


def n_aliased(fit: DNNFit) -> int:
    """How many design columns the fit left out as aliased."""
    return len(fit.record.aliased)


def coefficient_vector(fit: DNNFit) -> tuple[np.ndarray, list[str] | None]:
    """The coefficients as one vector (multinomial: the contrasts of each non-reference class
    with the first, class after class, as MNLogit) and the response of each block."""
    coef = fit.coef()
    if isinstance(coef, pd.Series):
        return coef.to_numpy(), None
    if fit.family.kind.several_classes:
        coef = coef.iloc[:, 1:].sub(coef.iloc[:, 0], axis=0)
    return coef.to_numpy().T.ravel(), [str(c) for c in coef.columns]


def has_covariance(fit: DNNFit) -> bool:
    """Whether the covariance can be had: from the training rows, or saved with the model."""
    return fit.has_training_data or fit.saved_inference is not None


def require_covariance(fit: DNNFit) -> None:
    """A loaded model saved without its covariance: the clear error, not NaN intervals."""
    if not has_covariance(fit):
        fit.training_data()


def inference_to_save(fit: DNNFit) -> SavedInference | None:
    """What a model file keeps of a GLM's inference (None for networks and penalised fits):
    the covariance of the coefficients that are defined (aliased ones are NA)."""
    if not fit.has_training_data:
        return fit.saved_inference
    if not wald_applies(fit):
        return None
    try:
        vcov, why_not = identified_vcov(fit)
    except DataError:  # a column on a scale float64 cannot hold: no covariance to keep
        return None
    ll = loglik(fit)
    usable = not why_not and (np.diag(vcov) > 0).all() and math.isfinite(ll)
    return SavedInference(vcov, ll) if usable else None


def vcov_matrix(fit: DNNFit) -> np.ndarray:
    """The inverse information matrix at the fitted means, times the dispersion; NaN rows and
    columns for aliased coefficients (R's ``vcov(complete = TRUE)``), and NaN throughout, with
    a warning saying why, where the information matrix cannot be inverted."""
    require_glm(fit, "vcov()")
    require_unpenalised(fit, "vcov()")
    require_single_response(fit, "vcov()")
    check_inference_range(fit.spec)
    vcov, why_not = identified_vcov(fit)
    if why_not == SINGULAR_INFORMATION:
        warn(why_not)
    kept = _coefficient_kept(fit)
    full = np.full((len(kept), len(kept)), np.nan)
    full[np.ix_(kept, kept)] = vcov
    return full


SINGULAR_INFORMATION = (
    "No standard errors, tests or intervals: the information matrix at the fitted means is "
    "singular (its working weights vanish, e.g. fitted probabilities of 0 or 1 on the rows "
    "that identify a coefficient), so the Wald covariance does not exist. Drop the terms the "
    "data cannot identify, or add a penalty.")
NO_RESIDUAL_DF = (
    "No standard errors, tests or intervals: df.residual is 0 (as many coefficients as "
    "observations), so the dispersion cannot be estimated (R's summary gives NaN too). Fit "
    "fewer coefficients or use more rows.")


def identified_vcov(fit: DNNFit) -> tuple[np.ndarray, str]:
    """The covariance of the coefficients that are not aliased, and why it is NaN (``""``
    when it is not)."""
    if not fit.has_training_data and fit.saved_inference is not None:
        return fit.saved_inference.vcov.copy(), ""
    X, y, _ = fit.training_data()
    Z = raw_design(fit, X)[:, ~aliased_mask(fit)]
    priors = fit.priors
    fam = fit.family
    eta = fam.link_scale(fit.link_of(X, priors.offset))
    mu = fam.link_fn.inverse(eta)
    if fam.kind.information is not None:
        information = fam.kind.information(Z, y, eta[:, 0], priors.weights, fam.ties)
    elif fam.kind.several_classes:
        information = _multinomial_information(Z * priors.weights[:, None], Z, mu)
    else:  # the working weights of IRLS at the optimum, (dμ/dη)²/V(μ), times the priors
        with np.errstate(divide="ignore", invalid="ignore"):  # V(μ) = 0: no information
            weights = fam.mu_eta(eta[:, 0]) ** 2 / fam.variance(mu[:, 0]) * priors.weights
        information = (Z * weights[:, None]).T @ Z
    inverse = _inverse_information(information)
    if inverse is None:
        return np.full(information.shape, np.nan), SINGULAR_INFORMATION
    scale = dispersion(fit)
    return inverse * scale, NO_RESIDUAL_DF if np.isnan(scale) else ""


def _inverse_information(information: np.ndarray) -> np.ndarray | None:
    """The inverse of a positive-definite information matrix (by Cholesky); None when it is
    singular or not positive definite."""
    if not information.size:
        return information.copy()
    if not np.isfinite(information).all():
        return None
    try:
        inverse = linalg.cho_solve(linalg.cho_factor(information), np.eye(len(information)))
    except linalg.LinAlgError:
        return None
    if not np.isfinite(inverse).all() or (np.diag(inverse) <= 0).any():
        return None
    return (inverse + inverse.T) / 2


def _coefficient_kept(fit: DNNFit) -> np.ndarray:
    """The entries of the coefficient vector that are estimated (every class block of a
    multinomial fit)."""
    _, responses = coefficient_vector(fit)
    return np.tile(~aliased_mask(fit), 1 if responses is None else len(responses))


def _multinomial_information(WZ: np.ndarray, Z: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """MNLogit's information: block (j, l) is Z' W diag(p_j (δ_jl − p_l)) Z over non-reference
    classes j, l (``WZ``: the design rows times their prior weights)."""
    free = probs[:, 1:]
    blocks = [[(WZ * (free[:, j] * ((j == k) - free[:, k]))[:, None]).T @ Z
               for k in range(free.shape[1])] for j in range(free.shape[1])]
    return np.block(blocks)


def vcov_frame(fit: DNNFit) -> pd.DataFrame:
    """``fit.vcov()``: labelled by term (multinomial: by response and term)."""
    require_glm(fit, "vcov()")
    _, responses = coefficient_vector(fit)
    names = coefficient_names(fit)
    index = (pd.Index(names, name="term") if responses is None else
             pd.MultiIndex.from_product([responses, names], names=["response", "term"]))
    return pd.DataFrame(vcov_matrix(fit), index=index, columns=index)


def check_level(level: float) -> float:
    """``level`` if it is a probability strictly between 0 and 1, else an error."""
    if not isinstance(level, (int, float)) or isinstance(level, bool) or not 0 < level < 1:
        raise OptionError(f"the confidence level must be a number between 0 and 1 (e.g. 0.95); "
                          f"got {level!r}.")
    return float(level)


def quantile(fit: DNNFit, level: float) -> float:
    """The two-sided Wald quantile: t on df.residual for gaussian, z otherwise."""
    upper = (1 + check_level(level)) / 2
    return float(stats.t.ppf(upper, df_residual(fit)) if uses_t(fit) else stats.norm.ppf(upper))


def tidy_frame(fit: DNNFit, conf_level: float = 0.95) -> pd.DataFrame:
    """broom's coefficient table; NaN inference columns where Wald theory does not apply."""
    check_level(conf_level)
    estimate, responses = coefficient_vector(fit)
    names = coefficient_names(fit)
    frame = pd.DataFrame({"term": names * (1 if responses is None else len(responses)),
                          "estimate": estimate})
    if responses is not None:
        frame.insert(0, "response", np.repeat(responses, len(names)))
    columns = ["std.error", "statistic", "p.value", "conf.low", "conf.high"]
    frame[columns] = np.nan
    if wald_applies(fit) and has_covariance(fit):
        frame[columns] = _wald_columns(fit, estimate, conf_level)
    return frame


def _wald_columns(fit: DNNFit, estimate: np.ndarray, conf_level: float) -> np.ndarray:
    """Standard error, statistic, two-sided p-value and interval of each coefficient."""
    se = np.sqrt(np.diag(vcov_matrix(fit)))
    statistic = estimate / se
    p_value = 2 * (stats.t.sf(np.abs(statistic), df_residual(fit)) if uses_t(fit)
                   else stats.norm.sf(np.abs(statistic)))
    q = quantile(fit, conf_level)
    return np.column_stack([se, statistic, p_value, estimate - q * se, estimate + q * se])


def confint_frame(fit: DNNFit, level: float = 0.95) -> pd.DataFrame:
    """Wald intervals, one row per coefficient, columns named as R's (``2.5 %``, ``97.5 %``)."""
    require_glm(fit, "confint()")
    require_unpenalised(fit, "confint()")
    require_single_response(fit, "confint()")
    require_covariance(fit)
    tidy = tidy_frame(fit, level)
    keys = ["response", "term"] if "response" in tidy else ["term"]
    lower, upper = f"{100 * (1 - level) / 2:g} %", f"{100 * (1 + level) / 2:g} %"
    return (tidy.set_index(keys)[["conf.low", "conf.high"]]
            .rename(columns={"conf.low": lower, "conf.high": upper}))


def n_coefficients(fit: DNNFit) -> int:
    """Free coefficients: the design's columns that are not aliased, per free output (R's
    ``rank``)."""
    return (len(coefficient_names(fit)) - n_aliased(fit)) * fit.family.free_outputs


def loglik(fit: DNNFit) -> float:
    """The log-likelihood at the fitted means (R's ``logLik``, with prior weights as R's
    families' ``aic``; rows of weight 0 are left out, as ``logLik.lm`` does); NaN for a quasi
    family, which has no likelihood."""
    r, kind = fit.record, fit.family.kind
    if not kind.has_likelihood:
        return float("nan")
    if not fit.has_training_data and fit.saved_inference is not None:
        return fit.saved_inference.loglik  # saved with the model (computed with its weights)
    if fit.options.weights is not None or fit.family.counts:
        fit.training_data()  # a loaded weighted fit: the clear error, not a wrong number
    if kind.extra_parameters and (r.deviance <= 0 or _interpolates(fit)):
        return math.inf  # the dispersion's MLE is 0: an unbounded likelihood (R: Inf)
    if not fit.has_training_data and not np.isnan(_loglik_from_deviance(fit)):
        return _loglik_from_deviance(fit)
    X, y, _ = fit.training_data()  # a loaded fit: the clear error, not a wrong number
    priors = fit.priors
    mu = fit.family.mean(fit.link_of(X, priors.offset))
    return fit.family.loglik(y, mu, priors.weights, r.deviance, priors.trials)


def _interpolates(fit: DNNFit) -> bool:
    """Whether a GLM has no residual degrees of freedom: its fitted values are the data, and
    a deviance above 0 is rounding error (R's AIC of such a fit is that rounding's)."""
    from .summary import residual_df_of  # summary.py imports this module

    return residual_df_of(fit)[0] == 0


def _loglik_from_deviance(fit: DNNFit) -> float:
    """An unweighted loaded fit without its rows: the log-likelihood where the deviance and
    the number of rows determine it (gaussian; 0/1 classes, whose saturated likelihood is 1),
    else NaN."""
    r, fam = fit.record, fit.family
    if fam.standardised:
        n = r.n_obs * fit.topology.n_outputs
        return -n / 2 * (math.log(2 * math.pi * r.deviance / n) + 1)
    return -r.deviance / 2 if fam.is_classification else float("nan")


def loglik_df(fit: DNNFit) -> int:
    """Parameters counted by ``logLik``: the coefficients, plus the dispersion of a family
    whose likelihood has one (gaussian, Gamma, inverse Gaussian) and an estimated θ
    (``glm.nb``), as R counts them."""
    require_glm(fit, "the log-likelihood's degrees of freedom (AIC, BIC)")
    require_unpenalised(fit, "the log-likelihood's degrees of freedom (AIC, BIC)")
    return n_coefficients(fit) + fit.family.extra_parameters * fit.topology.n_outputs


def aic(fit: DNNFit) -> float:
    """−2 logLik + 2 df (R's ``AIC``)."""
    return -2 * loglik(fit) + 2 * loglik_df(fit)


def bic(fit: DNNFit) -> float:
    """−2 logLik + log(n) df (R's ``BIC``), n the rows the log-likelihood counts
    (:func:`loglik_nobs`)."""
    return -2 * loglik(fit) + math.log(loglik_nobs(fit)) * loglik_df(fit)


def loglik_nobs(fit: DNNFit) -> int:
    """The rows R's ``BIC`` counts, ``attr(logLik(g), "nobs")``: every row, of prior weight 0
    or not, as ``logLik.glm`` counts them; a family whose log-likelihood here is
    ``logLik.lm``'s (gaussian: R's glm would give -Inf, log(0) of the zero weights) leaves
    them out, as ``BIC(lm(...))`` does.  A family that counts otherwise says how (Cox: the
    events, as ``logLik.coxph``); NaN when that needs the training rows a loaded model lacks."""
    counter = fit.family.kind.loglik_nobs
    if counter is not None:
        if not fit.has_training_data:
            return math.nan
        _, y, _ = fit.training_data()
        return counter(y, fit.priors.weights)
    if fit.family.kind.loglik_drops_zero_weights:
        return fit.record.n_obs
    return fit.record.n_obs + fit.record.n_zero_weight


def signif_stars(p_values: pd.Series) -> list[str]:
    """R's significance codes for each p-value."""
    cuts = [(0.001, "***"), (0.01, "**"), (0.05, "*"), (0.1, ".")]
    return ["" if pd.isna(p) else next((s for c, s in cuts if p < c), " ") for p in p_values]


INTERVALS = ("none", "confidence", "prediction")


def check_interval_request(fit: DNNFit, type: str, interval: str) -> None:
    """Refuse interval and standard-error requests that have no delta-method meaning."""
    if interval not in INTERVALS:
        raise OptionError(f"interval must be one of {list(INTERVALS)}; got {interval!r}.")
    if type not in ("response", "link"):
        raise OptionError(f"intervals and se_fit are given for type='response' or type='link'; "
                          f"got type={type!r}.")
    if fit.family.kind.several_classes:
        raise OptionError("intervals and se_fit are not offered for the multinomial family "
                          "(each class probability depends on every class's coefficients); "
                          "use a binomial fit per class, or predict(type='prob').")
    require_glm(fit, "predict(interval=..., se_fit=True)")
    require_unpenalised(fit, "predict(interval=..., se_fit=True)")
    require_single_response(fit, "predict(interval=..., se_fit=True)")


def prediction_frame(fit: DNNFit, X: tuple[np.ndarray, np.ndarray | None], ok: np.ndarray,
                     index: pd.Index, type: str, interval: str, level: float,
                     se_fit: bool) -> pd.DataFrame:
    """``X`` is the design rows and their offset.  ``fit``, optionally ``lwr``/``upr`` (the link-scale Wald interval transformed by the
    inverse link, so it stays inside the response's range) and ``se_fit`` (link scale)."""
    eta, se = link_and_se(fit, *X)
    scale = (lambda v: v) if type == "link" else _inverse_link(fit)
    columns = {"fit": scale(eta)}
    if interval == "confidence":
        q = quantile(fit, level)
        columns["lwr"], columns["upr"] = scale(eta - q * se), scale(eta + q * se)
    if se_fit:
        columns["se_fit"] = se
    out = pd.DataFrame(np.nan, index=index, columns=list(columns))
    for name, values in columns.items():
        out.loc[ok, name] = values
    return out


def link_and_se(fit: DNNFit, X: np.ndarray,
                offset: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The linear predictor of standardised design rows ``X`` (with their ``offset``) from the
    coefficients, and its standard error (aliased columns contribute nothing, as
    ``predict.lm``)."""
    kept = ~aliased_mask(fit)
    Z = raw_design(fit, X)[:, kept]
    eta = Z @ coefficient_vector(fit)[0][kept] + (0 if offset is None else offset)
    se = np.sqrt(np.einsum("ij,jk,ik->i", Z, vcov_matrix(fit)[np.ix_(kept, kept)], Z))
    return eta, se


def _inverse_link(fit: DNNFit) -> Callable[[np.ndarray], np.ndarray]:
    """The inverse link on the user's scale."""
    return fit.family.link_fn.inverse


def information_criteria(fit: DNNFit) -> dict[str, float]:
    """glance()'s likelihood columns, NaN where a number is not defined for this fit."""
    from .summary import deviance_table, residual_df_of  # summary.py imports this module

    df_resid, _ = residual_df_of(fit)
    null_df = deviance_table(fit, df_resid)["df"].iloc[0]
    # Without its training rows (and no saved inference) a poisson, weighted or counts fit's
    # likelihood is unknown.
    weighted = fit.options.weights is not None or fit.family.counts
    known = (fit.has_training_data or has_covariance(fit)
             or (not np.isnan(_loglik_from_deviance(fit)) and not weighted))
    ll = loglik(fit) if known else np.nan
    criteria = wald_applies(fit) and not np.isnan(ll)
    return {"logLik": ll, "AIC": aic(fit) if criteria else np.nan,
            "BIC": bic(fit) if criteria else np.nan,
            "df.null": int(null_df), "df.residual": np.nan if df_resid is None else df_resid,
            **parameter_columns(fit, ll)}


def parameter_columns(fit: DNNFit, ll: float) -> dict[str, float]:
    """The family's own parameter as ``glm.nb`` reports it: its value, and when estimated its
    standard error and 2 × the log-likelihood (``theta``, ``SE.theta``, ``twologlik``)."""
    spec, fam = fit.family.kind.parameter, fit.family
    if spec is None:
        return {}
    out = {spec.name: fam.parameter}
    if fam.estimates_parameter:
        out.update({f"SE.{spec.name}": fam.parameter_se, "twologlik": 2 * ll})
    return out


def coefficient_tables(fit: DNNFit) -> tuple[dict[str, pd.DataFrame], list[str],
                                             dict[str, str]]:
    """summary()'s glm-style coefficient table and test lines for a GLM, with any note and
    the table's caption (R's "Coefficients: (k not defined because of singularities)")."""
    if fit.topology.layers:
        return {}, [], {}
    tidy = tidy_frame(fit)
    letter = "t" if uses_t(fit) else "z"
    table = pd.DataFrame({"Estimate": tidy["estimate"].to_numpy(),
                          "Std. Error": tidy["std.error"].to_numpy(),
                          f"{letter} value": tidy["statistic"].to_numpy(),
                          f"Pr(>|{letter}|)": tidy["p.value"].to_numpy(),
                          "": signif_stars(tidy["p.value"])},
                         index=_row_labels(tidy))
    if fit.family.kind.survival:  # summary.coxph's hazard ratios
        table.insert(1, "exp(coef)", np.exp(tidy["estimate"].to_numpy()))
    defined = tidy["std.error"][tidy["estimate"].notna()]
    notes = [] if not np.isnan(defined).all() else [_no_se_reason(fit)]
    tests = [("Signif. codes", SIGNIF_LEGEND), ("Dispersion parameter", _dispersion_text(fit))]
    criteria = information_criteria(fit)
    aic_value = criteria["AIC"]
    if not np.isnan(aic_value):
        tests.append(("AIC", f"{aic_value:.5g}".replace("inf", "Inf")))  # R's -Inf
    tests += _parameter_lines(fit, criteria)
    k = n_aliased(fit)
    captions = ({"coefficients": f"Coefficients: ({k} not defined because of singularities)"}
                if k else {})
    return {"coefficients": table, "tests": items_table(tests)}, notes, captions


def _parameter_lines(fit: DNNFit, criteria: dict[str, float]) -> list[tuple[str, str]]:
    """summary.negbin's lines: Theta, its Std. Err. and 2 x log-likelihood (when estimated)."""
    spec = fit.family.kind.parameter
    if spec is None:
        return []
    value = criteria[spec.name]
    lines = [(spec.name, f"{value:.5g}" + ("" if fit.family.estimates_parameter else
                                           " (given)"))]
    if fit.family.estimates_parameter:
        lines += [(f"Std. Err. of {spec.name}", f"{criteria['SE.' + spec.name]:.5g}"),
                  ("2 x log-likelihood", f"{criteria['twologlik']:.3f}")]
    return lines


def _row_labels(tidy: pd.DataFrame) -> pd.Index:
    if "response" in tidy:
        return pd.Index([f"{r}:{t}" for r, t in zip(tidy["response"], tidy["term"])])
    return pd.Index(tidy["term"].to_list())


def _dispersion_text(fit: DNNFit) -> str:
    if not wald_applies(fit):
        return "NA"
    if uses_t(fit):
        value = dispersion(fit)
        shown = "NaN" if np.isnan(value) else f"{value:.6g}"
        return (f"{shown} ({fit.family.label} family, estimated: Pearson's chi-squared / "
                "df.residual)")
    return f"1 ({fit.family.label} family, taken to be 1)"


def _no_se_reason(fit: DNNFit) -> str:
    if fit.options.penalty > 0:
        return (f"No standard errors, tests or intervals: with a penalty (lambda = "
                f"{fit.options.penalty:g}) the estimates are shrunken and the Wald standard "
                "errors do not apply. Refit with penalty=0 for GLM inference.")
    if not has_covariance(fit):
        return ("No standard errors, tests or intervals: this model was loaded from a file and "
                "holds no training data. Refit it with dnn() on its data.")
    if not wald_applies(fit):
        return ("No standard errors, tests or intervals: they are computed for one response; "
                "fit each response on its own.")
    return identified_vcov(fit)[1]


def response_scale_se(fit: DNNFit, mean: np.ndarray, se_link: np.ndarray) -> np.ndarray:
    """R's ``predict.glm(type = "response", se.fit = TRUE)``: the link-scale standard error
    times |dμ/dη| at the predicted mean (the delta method)."""
    eta = fit.family.link_fn.fun(mean)
    return se_link * np.abs(fit.family.mu_eta(eta))
