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
from scipy import stats
from scipy.special import gammaln

from ..errors import DataError, OptionError
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
    single = fit.family.name == "multinomial" or fit.topology.n_outputs == 1
    return not fit.topology.layers and fit.options.penalty == 0 and single


def require_single_response(fit: DNNFit, what: str) -> None:
    """Refuse ``what`` for several gaussian/poisson responses fitted together."""
    if fit.family.name != "multinomial" and fit.topology.n_outputs > 1:
        raise OptionError(
            f"{what} is defined for one response; this fit has {fit.topology.n_outputs} "
            f"({', '.join(fit.family.outputs)}). Fit each response on its own for inference.")


def uses_t(fit: DNNFit) -> bool:
    """Gaussian fits estimate the dispersion, so their tests are t tests (as ``summary.lm``)."""
    return fit.family.name == "gaussian"


def dispersion(fit: DNNFit) -> float:
    """Gaussian: deviance / df.residual (as ``summary.glm``); binomial, poisson, multinomial: 1."""
    if fit.family.name != "gaussian":
        return 1.0
    return fit.record.deviance / df_residual(fit)


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
    raw = X_standardised * fit.spec.scale + fit.spec.center
    return np.column_stack([np.ones(len(raw)), raw]) if fit.spec.intercept else raw


def coefficient_vector(fit: DNNFit) -> tuple[np.ndarray, list[str] | None]:
    """The coefficients as one vector (multinomial: the contrasts of each non-reference class
    with the first, class after class, as MNLogit) and the response of each block."""
    coef = fit.coef()
    if isinstance(coef, pd.Series):
        return coef.to_numpy(), None
    if fit.family.name == "multinomial":
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
    """What a model file keeps of a GLM's inference (None for networks and penalised fits)."""
    if not fit.has_training_data:
        return fit.saved_inference
    if not wald_applies(fit):
        return None
    try:
        vcov = vcov_matrix(fit)
    except np.linalg.LinAlgError:  # aliased columns: no covariance to keep
        return None
    except DataError:  # a column on a scale float64 cannot hold: none either
        return None
    usable = np.isfinite(vcov).all() and (np.diag(vcov) > 0).all()
    return SavedInference(vcov, loglik(fit)) if usable else None


def vcov_matrix(fit: DNNFit) -> np.ndarray:
    """The inverse information matrix at the fitted means, times the dispersion."""
    require_glm(fit, "vcov()")
    require_unpenalised(fit, "vcov()")
    require_single_response(fit, "vcov()")
    check_inference_range(fit.spec)
    if not fit.has_training_data and fit.saved_inference is not None:
        return fit.saved_inference.vcov.copy()
    X, _, _ = fit.training_data()
    Z = raw_design(fit, X)
    priors = fit.priors
    mu = fit.family.mean(fit.link_of(X, priors.offset))
    name = fit.family.name
    if name == "multinomial":
        information = _multinomial_information(Z * priors.weights[:, None], Z, mu)
    else:  # the working weights of IRLS at the optimum, times the prior weights
        weights = {"gaussian": np.ones(len(Z)), "binomial": mu[:, 0] * (1 - mu[:, 0]),
                   "poisson": mu[:, 0]}[name] * priors.weights
        information = (Z * weights[:, None]).T @ Z
    return np.linalg.inv(information) * dispersion(fit)


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
    """Free coefficients: the design's columns per free output."""
    free = fit.topology.n_outputs - (1 if fit.family.name == "multinomial" else 0)
    return len(coefficient_names(fit)) * free


def loglik(fit: DNNFit) -> float:
    """The log-likelihood at the fitted means (R's ``logLik``, with prior weights as R's
    families' ``aic``; rows of weight 0 are left out, as ``logLik.lm`` does)."""
    r, name = fit.record, fit.family.name
    if not fit.has_training_data and fit.saved_inference is not None:
        return fit.saved_inference.loglik  # saved with the model (computed with its weights)
    if fit.options.weights is not None or fit.family.counts:
        fit.training_data()  # a loaded weighted fit: the clear error, not a wrong number
    if name == "gaussian":
        n = r.n_obs * fit.topology.n_outputs
        w = fit.priors.weights
        log_w = float(np.log(w[w > 0]).sum()) * fit.topology.n_outputs
        return -n / 2 * (math.log(2 * math.pi * r.deviance / n) + 1) + log_w / 2
    if name == "multinomial" or (name == "binomial" and not fit.has_training_data):
        return -r.deviance / 2  # 0/1 responses: the saturated likelihood is 1 (unweighted)
    X, y, _ = fit.training_data()
    priors = fit.priors
    mu = fit.family.mean(fit.link_of(X, priors.offset))
    if name == "binomial":
        return _binomial_loglik(y[:, 0], mu[:, 0], priors.weights, priors.trials)
    return float(priors.weights @ (y * np.log(mu) - mu - gammaln(y + 1)).sum(axis=1))


def _binomial_loglik(y: np.ndarray, mu: np.ndarray, weights: np.ndarray,
                     trials: np.ndarray | None) -> float:
    """R's ``binomial()$aic`` / −2: Σ (w/m) log dbinom(round(m·y), round(m), mu) with m the
    trials of a counts response, else the weights."""
    m = weights if trials is None else trials
    used = m > 0
    factor = weights[used] / m[used]
    n = np.round(m[used])
    return float(factor @ stats.binom.logpmf(np.round(m[used] * y[used]), n, mu[used]))


def loglik_df(fit: DNNFit) -> int:
    """Parameters counted by ``logLik``: the coefficients (plus the variance, gaussian)."""
    require_glm(fit, "the log-likelihood's degrees of freedom (AIC, BIC)")
    require_unpenalised(fit, "the log-likelihood's degrees of freedom (AIC, BIC)")
    return n_coefficients(fit) + (fit.topology.n_outputs if fit.family.name == "gaussian" else 0)


def aic(fit: DNNFit) -> float:
    """−2 logLik + 2 df (R's ``AIC``)."""
    return -2 * loglik(fit) + 2 * loglik_df(fit)


def bic(fit: DNNFit) -> float:
    """−2 logLik + log(n) df (R's ``BIC``)."""
    return -2 * loglik(fit) + math.log(fit.record.n_obs) * loglik_df(fit)


def signif_stars(p_values: pd.Series) -> list[str]:
    """R's significance codes for each p-value."""
    cuts = [(0.001, "***"), (0.01, "**"), (0.05, "*"), (0.1, ".")]
    return ["" if pd.isna(p) else next((s for c, s in cuts if p < c), " ") for p in p_values]


INTERVALS = ("none", "confidence")


def check_interval_request(fit: DNNFit, type: str, interval: str) -> None:
    """Refuse interval and standard-error requests that have no delta-method meaning."""
    if interval not in INTERVALS:
        raise OptionError(f"interval must be one of {list(INTERVALS)}; got {interval!r}. "
                          "Prediction intervals for new observations are not offered.")
    if type not in ("response", "link"):
        raise OptionError(f"intervals and se_fit are given for type='response' or type='link'; "
                          f"got type={type!r}.")
    if fit.family.name == "multinomial":
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
    X, offset = X
    Z = raw_design(fit, X)
    eta = Z @ coefficient_vector(fit)[0] + (0 if offset is None else offset)
    se = np.sqrt(np.einsum("ij,jk,ik->i", Z, vcov_matrix(fit), Z))
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


def _inverse_link(fit: DNNFit) -> Callable[[np.ndarray], np.ndarray]:
    """The inverse link on the user's scale (gaussian: identity, unstandardised)."""
    return {"gaussian": lambda v: v, "binomial": lambda v: 1 / (1 + np.exp(-v)),
            "poisson": np.exp}[fit.family.name]


def information_criteria(fit: DNNFit) -> dict[str, float]:
    """glance()'s likelihood columns, NaN where a number is not defined for this fit."""
    from .summary import deviance_table, residual_df_of  # summary.py imports this module

    df_resid, _ = residual_df_of(fit)
    null_df = deviance_table(fit, df_resid)["df"].iloc[0]
    # Without its training rows (and no saved inference) a poisson, weighted or counts fit's
    # likelihood is unknown.
    weighted = fit.options.weights is not None or fit.family.counts
    known = (fit.has_training_data or has_covariance(fit)
             or (fit.family.name != "poisson" and not weighted))
    ll = loglik(fit) if known else np.nan
    criteria = wald_applies(fit) and not np.isnan(ll)
    return {"logLik": ll, "AIC": aic(fit) if criteria else np.nan,
            "BIC": bic(fit) if criteria else np.nan,
            "df.null": int(null_df), "df.residual": np.nan if df_resid is None else df_resid}


def coefficient_tables(fit: DNNFit) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """summary()'s glm-style coefficient table and test lines for a GLM, with any note."""
    if fit.topology.layers:
        return {}, []
    tidy = tidy_frame(fit)
    letter = "t" if uses_t(fit) else "z"
    table = pd.DataFrame({"Estimate": tidy["estimate"].to_numpy(),
                          "Std. Error": tidy["std.error"].to_numpy(),
                          f"{letter} value": tidy["statistic"].to_numpy(),
                          f"Pr(>|{letter}|)": tidy["p.value"].to_numpy(),
                          "": signif_stars(tidy["p.value"])},
                         index=_row_labels(tidy))
    notes = [] if not np.isnan(tidy["std.error"]).all() else [_no_se_reason(fit)]
    tests = [("Signif. codes", SIGNIF_LEGEND), ("Dispersion parameter", _dispersion_text(fit))]
    aic_value = information_criteria(fit)["AIC"]
    if not np.isnan(aic_value):
        tests.append(("AIC", f"{aic_value:.5g}"))
    return {"coefficients": table, "tests": items_table(tests)}, notes


def _row_labels(tidy: pd.DataFrame) -> pd.Index:
    if "response" in tidy:
        return pd.Index([f"{r}:{t}" for r, t in zip(tidy["response"], tidy["term"])])
    return pd.Index(tidy["term"].to_list())


def _dispersion_text(fit: DNNFit) -> str:
    if not wald_applies(fit):
        return "NA"
    if uses_t(fit):
        return f"{dispersion(fit):.6g} (gaussian family, estimated: deviance / df.residual)"
    return f"1 ({fit.family.name} family, taken to be 1)"


def _no_se_reason(fit: DNNFit) -> str:
    if fit.options.penalty > 0:
        return (f"No standard errors, tests or intervals: with a penalty (lambda = "
                f"{fit.options.penalty:g}) the estimates are shrunken and the Wald standard "
                "errors do not apply. Refit with penalty=0 for GLM inference.")
    if not has_covariance(fit):
        return ("No standard errors, tests or intervals: this model was loaded from a file and "
                "holds no training data. Refit it with dnn() on its data.")
    return ("No standard errors, tests or intervals: they are computed for one response; fit "
            "each response on its own.")


def response_scale_se(fit: DNNFit, mean: np.ndarray, se_link: np.ndarray) -> np.ndarray:
    """R's ``predict.glm(type = "response", se.fit = TRUE)``: the link-scale standard error
    times |dμ/dη| at the predicted mean (the delta method)."""
    derivative = {"gaussian": np.ones_like(mean), "binomial": mean * (1 - mean),
                  "poisson": mean}[fit.family.name]
    return se_link * np.abs(derivative)
