"""The family table: each response family is defined once — its links, variance function,
unit deviance (one definition for NumPy and the engine's TensorFlow loss), log-likelihood,
dispersion, the responses it accepts and its GLM baseline.  Nothing outside this table
branches on a family's name: code asks the fitted family's kind.

Adding a family is one entry here plus its tests against R.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import survival
from .links import LINKS, Link
from .ops import numpy_ops

_EPS = 1e-15
_MU_FLOOR = 1e-10


def _xlogy_ratio(ops, y, mu):
    """y·log(y/μ), 0 where y = 0."""
    positive = y > 0
    safe_y = ops.where(positive, y, ops.ones_like(y))
    return ops.where(positive, y * ops.log(safe_y / mu), ops.zeros_like(y))


def _xlogx(ops, v):
    positive = v > 0
    return ops.where(positive, v * ops.log(ops.where(positive, v, ops.ones_like(v))),
                     ops.zeros_like(v))


# -- unit deviances, per output (R's family()$dev.resids without the weights) ----------------

def _gaussian_dev(ops, y, mu):
    return ops.square(y - mu)


def _binomial_dev(ops, y, mu):
    p = ops.minimum(ops.maximum(mu, _EPS), 1 - _EPS)
    return 2 * (_xlogx(ops, y) + _xlogx(ops, 1 - y) - y * ops.log(p) - (1 - y) * ops.log1p(-p))


def _multinomial_dev(ops, y, mu):
    return -2 * y * ops.log(ops.minimum(ops.maximum(mu, _EPS), 1.0))


def _poisson_dev(ops, y, mu):
    return 2 * (_xlogy_ratio(ops, y, mu) - (y - mu))


def _gamma_dev(ops, y, mu):
    ratio = ops.where(y > 0, y / mu, ops.ones_like(y))
    return -2 * (ops.log(ratio) - (y - mu) / mu)


def _inverse_gaussian_dev(ops, y, mu):
    return ops.square(y - mu) / (y * ops.square(mu))


def _negative_binomial_dev(ops, y, mu, theta):
    """R's ``negative.binomial(theta)$dev.resids``."""
    return 2 * (y * ops.log(ops.maximum(y, ops.ones_like(y)) / mu)
                - (y + theta) * ops.log((y + theta) / (mu + theta)))


def _tweedie_dev(ops, y, mu, p):
    """statsmodels' ``Tweedie(var_power=p)`` unit deviance (statmod's ``tweedie``), 1 < p < 2."""
    return 2 * (ops.pow(y, 2 - p) / ((1 - p) * (2 - p)) - y * ops.pow(mu, 1 - p) / (1 - p)
                + ops.pow(mu, 2 - p) / (2 - p))


# -- half unit deviances on the link scale for canonical links (numerically stable; summed
# over outputs; the engine's loss, equal to the generic form up to a constant in η) ---------

def _gaussian_identity(ops, y, eta):
    return 0.5 * ops.sum(ops.square(y - eta))


def _binomial_logit(ops, y, eta):
    return ops.sum(ops.softplus(eta) - y * eta)


def _multinomial_softmax(ops, y, eta):
    return ops.logsumexp(eta) - ops.sum(y * eta)


def _poisson_log(ops, y, eta):
    return ops.sum(ops.exp(eta) - y * eta - y + _xlogx(ops, y))


# -- log-likelihoods (R's family()$aic as logLik; rows of weight 0 contribute nothing) -------

def _gaussian_loglik(y, mu, w, deviance, trials):
    used = w > 0
    n = used.sum() * y.shape[1]
    log_w = float(np.log(w[used]).sum()) * y.shape[1]
    return -n / 2 * (np.log(2 * np.pi * deviance / n) + 1) + log_w / 2


def _binomial_loglik(y, mu, w, deviance, trials):
    """Σ (w/m) log dbinom(round(m·y), round(m), μ), m the trials of a counts response, else
    the weights (R's ``binomial()$aic`` / −2)."""
    from scipy import stats

    m = w if trials is None else trials
    used = m > 0
    factor = w[used] / m[used]
    n = np.round(m[used])
    return float(factor @ stats.binom.logpmf(np.round(m[used] * y[used, 0]), n, mu[used, 0]))


def _multinomial_loglik(y, mu, w, deviance, trials):
    return float(w @ (y * np.log(np.clip(mu, _EPS, 1))).sum(axis=1))


def _poisson_loglik(y, mu, w, deviance, trials):
    from scipy.special import gammaln

    return float(w @ (y * np.log(mu) - mu - gammaln(y + 1)).sum(axis=1))


def _gamma_loglik(y, mu, w, deviance, trials):
    """R's ``Gamma()$aic``: the dispersion at deviance / Σw (its maximum-likelihood
    approximation), shape 1/φ and scale μφ."""
    from scipy import stats

    disp = deviance / w.sum()
    used = w > 0
    return float(w[used] @ stats.gamma.logpdf(y[used, 0], 1 / disp, scale=mu[used, 0] * disp))


def _partial_loglik(y, mu, w, deviance, trials):
    """Cox: the log partial likelihood, −deviance / 2 (``coxph``'s ``loglik[2]``)."""
    return -deviance / 2


def _no_unit_deviance(ops, y, mu):
    raise TypeError("the Cox partial likelihood is not a sum over rows: use the family's "
                    "set_loss / deviance")


def _inverse_gaussian_loglik(y, mu, w, deviance, trials):
    """R's ``inverse.gaussian()$aic``: Σw (log(2πφ) + 1) + 3 Σ w log y + 2, φ = deviance / Σw,
    as a log-likelihood (its "+ 2" counts the dispersion)."""
    disp = deviance / w.sum()
    used = w > 0
    aic = w.sum() * (np.log(disp * 2 * np.pi) + 1) + 3 * float(w[used] @ np.log(y[used, 0])) + 2
    return 1 - aic / 2


def _negative_binomial_loglik(y, mu, w, deviance, trials, theta):
    from .theta import negbin_loglik

    return negbin_loglik(y[:, 0], mu[:, 0], w, theta)


# -- responses each family accepts ------------------------------------------------------------

def _any_number(y):
    return None


def _non_negative(y):
    return None if (y >= 0).all() else f"non-negative values; the minimum is {y.min():g}"


def _positive(y):
    return None if (y > 0).all() else f"positive values; the minimum is {y.min():g}"


def _proportion(y):
    return None if ((y >= 0) & (y <= 1)).all() else "values in [0, 1]"


@dataclass(frozen=True)
class FamilyParameter:
    """A family's own parameter (the negative binomial's θ, the Tweedie variance power): the
    option that gives it, and how it is estimated when not given.  The engine receives it per
    network as a tensor (``StackJob.family_parameter``), so a new value never retraces."""

    name: str  # the option that fixes it (theta=, var_power=)
    label: Callable[[float], str]  # the family's name at a value, as R's family()$family
    estimate: Callable[..., tuple[float, float, str]] | None = None  # (y, μ, w) -> value, SE,
    # warning by maximum likelihood given the means; None: the option must be given
    example: float = 1.5  # a valid value, for tests of the table
    statsmodels: Callable[[float], dict[str, float]] = dict  # the statsmodels family's keywords

    @property
    def estimable(self) -> bool:
        return self.estimate is not None


@dataclass(frozen=True)
class FamilyKind:
    """One response family: everything a fit, its inference and its baselines need to know."""

    name: str
    links: tuple[str, ...]  # the links it takes; the first is R's default
    variance: Callable[[np.ndarray], np.ndarray]  # V(μ)
    unit_deviance: Callable[[Any, Any, Any], Any]  # (ops, y, μ) -> per output
    loglik: Callable[..., float] | None  # None: a quasi family (no likelihood, no AIC)
    classes: bool = False  # a factor response: binomial (two classes) or multinomial
    several_classes: bool = False  # the response is one-hot over K classes (softmax)
    counts: bool = False  # accepts cbind(successes, failures)
    estimates_dispersion: bool = False  # summary.glm: φ from Pearson's χ², t tests
    extra_parameters: int = 0  # counted by logLik beyond the coefficients (the dispersion)
    accepts: Callable[[np.ndarray], str | None] = _any_number  # None, or what it needs
    canonical: dict[str, Callable[[Any, Any, Any], Any]] = field(default_factory=dict)
    statsmodels: str | None = None  # the statsmodels family of the GLM baseline
    summary_name: str = ""  # as summary.glm names it ("Gamma", "quasipoisson")
    standardises: bool = False  # trains on (y − ȳ)/sd(y) (an identity link only)
    positive_mean: bool = False  # μ > 0 (the training loss floors μ instead of failing)
    # logLik.lm's convention: rows of prior weight 0 are not observations of the likelihood,
    # so BIC's n leaves them out (R's logLik.glm counts every row)
    loglik_drops_zero_weights: bool = False
    # A loss over a set of rows, not a sum over rows (Cox's partial likelihood):
    # (ops, y, η, w, ties) -> the negative log-likelihood of each set; the engine takes its
    # batch loss from it, and NumPy the deviance (twice it).
    set_loss: Callable[..., Any] | None = None
    # A Surv(time, status) response: two columns, one linear predictor, no intercept, a
    # ties method (the first of ``ties`` is the default), risk and survival predictions.
    survival: bool = False
    ties: tuple[str, ...] = ()
    # The observed information of a likelihood that is not a GLM's, (Z, y, η, w, ties) -> [p, p]
    # (Cox: the partial likelihood's); None: the GLM's Fisher information from the working
    # weights.
    information: Callable[..., np.ndarray] | None = None
    # The residual types it offers; ``residuals`` (type, y, η, w, ties) -> [n] computes them
    # when they are not a GLM's (R's residuals.glm types from μ).
    residual_types: tuple[str, ...] = ("deviance", "pearson", "working", "response")
    residuals: Callable[..., np.ndarray] | None = None
    # compare()'s GLM baseline when it is not statsmodels' GLM: (train, new, ties) -> means
    # (train = (Z, y, weights, offset), new = (Z, offset)); and the score per row at η = 0
    # that dnn_path's largest penalty reads, (y, η, w, ties) -> [n]
    glm_means: Callable[..., np.ndarray] | None = None
    # the observations BIC counts, (y, w) -> n, when not the rows (Cox: the events)
    loglik_nobs: Callable[[np.ndarray, np.ndarray], int] | None = None
    score_rows: Callable[..., np.ndarray] | None = None
    # A parameter of the variance (θ, p): the functions above then take it as their last
    # argument; None for one-parameter families
    parameter: FamilyParameter | None = None

    def parameter_args(self, value) -> tuple:
        """The trailing arguments of this kind's functions: its parameter's ``value``, or none."""
        if self.parameter is None:
            return ()
        if value is None:
            raise ValueError(f"family {self.name!r} needs its {self.parameter.name}")
        return (value,)

    def has_working_response(self, link: str) -> bool:
        """Whether a penalised linear fit at ``link`` is glmnet's problem, solvable by IRLS's
        working response and weights: one linear predictor per row whose loss is the unit
        deviance / 2 at a canonical link (not a set loss, no softmax, no own parameter)."""
        return (link in self.canonical and not self.several_classes and self.set_loss is None
                and self.parameter is None)

    @property
    def default_link(self) -> str:
        return self.links[0]

    def link(self, name: str | None) -> Link:
        return LINKS[name or self.default_link]

    def half_deviance(self, ops, y, eta, link: str, parameter=None):
        """The engine's loss per row: the unit deviance / 2 summed over outputs, from η.
        A canonical link has a stable closed form; other links go through μ = g⁻¹(η)."""
        if link in self.canonical:
            return self.canonical[link](ops, y, eta)
        mu = LINKS[link].inverse_ops(ops, eta)
        if self.positive_mean:  # an inverse link's η ≤ 0: a large loss, not NaN, so that a
            mu = ops.maximum(mu, _MU_FLOOR)  # line search backs off (R halves the step)
        return 0.5 * ops.sum(self.unit_deviance(ops, y, mu, *self.parameter_args(parameter)))

    def deviance_rows(self, y: np.ndarray, mu: np.ndarray, parameter=None) -> np.ndarray:
        """Unit deviance per row, summed over outputs (R's ``dev.resids`` with unit weights)."""
        return self.unit_deviances(y, mu, parameter).sum(axis=-1)

    def unit_deviances(self, y: np.ndarray, mu: np.ndarray, parameter=None) -> np.ndarray:
        """Unit deviance per row and output."""
        ops = numpy_ops()
        with ops.errstate():
            return np.asarray(self.unit_deviance(ops, y, mu, *self.parameter_args(parameter)))

    @property
    def has_likelihood(self) -> bool:
        return self.loglik is not None

    @property
    def label(self) -> str:
        return self.summary_name or self.name


def _negative_binomial_label(theta: float) -> str:
    """As ``MASS::negative.binomial(theta)$family``: θ rounded to 4 decimals."""
    return f"Negative Binomial({round(theta, 4):.7g})"


def _estimate_theta(y, mu, w):
    from .theta import theta_ml

    return theta_ml(y, mu, w)


_BINOMIAL_LINKS = ("logit", "probit", "cloglog", "log")

FAMILY_KINDS: dict[str, FamilyKind] = {kind.name: kind for kind in [
    FamilyKind("gaussian", ("identity", "log", "inverse"), lambda mu: np.ones_like(mu),
               _gaussian_dev, _gaussian_loglik, estimates_dispersion=True, extra_parameters=1,
               canonical={"identity": _gaussian_identity}, statsmodels="Gaussian",
               standardises=True, loglik_drops_zero_weights=True),
    FamilyKind("binomial", _BINOMIAL_LINKS, lambda mu: mu * (1 - mu), _binomial_dev,
               _binomial_loglik, classes=True, counts=True, accepts=_proportion,
               canonical={"logit": _binomial_logit}, statsmodels="Binomial"),
    FamilyKind("multinomial", ("softmax",), lambda mu: mu * (1 - mu), _multinomial_dev,
               _multinomial_loglik, classes=True, several_classes=True,
               canonical={"softmax": _multinomial_softmax}),
    FamilyKind("poisson", ("log", "identity", "sqrt"), lambda mu: mu, _poisson_dev,
               _poisson_loglik, accepts=_non_negative, canonical={"log": _poisson_log},
               statsmodels="Poisson", positive_mean=True),
    FamilyKind("gamma", ("inverse", "log", "identity"), lambda mu: mu**2, _gamma_dev,
               _gamma_loglik, estimates_dispersion=True, extra_parameters=1,
               accepts=_positive, statsmodels="Gamma", summary_name="Gamma",
               positive_mean=True),
    FamilyKind("inverse_gaussian", ("1/mu^2", "inverse", "identity", "log"),
               lambda mu: mu**3, _inverse_gaussian_dev, _inverse_gaussian_loglik,
               estimates_dispersion=True, extra_parameters=1, accepts=_positive,
               statsmodels="InverseGaussian", summary_name="inverse.gaussian",
               positive_mean=True),
    FamilyKind("negative_binomial", ("log", "sqrt", "identity"),
               lambda mu, theta: mu + mu**2 / theta, _negative_binomial_dev,
               _negative_binomial_loglik, accepts=_non_negative, statsmodels="NegativeBinomial",
               positive_mean=True,
               parameter=FamilyParameter("theta", _negative_binomial_label,
                                         _estimate_theta, example=2.0,
                                         statsmodels=lambda theta: {"alpha": 1 / theta})),
    FamilyKind("tweedie", ("log", "identity", "sqrt"), lambda mu, p: mu**p, _tweedie_dev, None,
               estimates_dispersion=True, accepts=_non_negative, statsmodels="Tweedie",
               positive_mean=True, parameter=FamilyParameter(
                   "var_power", lambda p: f"Tweedie(var_power = {p:g})", example=1.5,
                   statsmodels=lambda p: {"var_power": p})),
    FamilyKind("quasipoisson", ("log", "identity", "sqrt"), lambda mu: mu, _poisson_dev, None,
               estimates_dispersion=True, accepts=_non_negative,
               canonical={"log": _poisson_log}, statsmodels="Poisson", positive_mean=True),
    FamilyKind("quasibinomial", _BINOMIAL_LINKS, lambda mu: mu * (1 - mu), _binomial_dev, None,
               classes=True, counts=True, estimates_dispersion=True, accepts=_proportion,
               canonical={"logit": _binomial_logit}, statsmodels="Binomial"),
    FamilyKind("cox", ("log",), lambda mu: mu, _no_unit_deviance, _partial_loglik,
               set_loss=survival.set_loss, survival=True, ties=survival.TIES,
               information=survival.information,
               residual_types=survival.RESIDUAL_TYPES, residuals=survival.residuals,
               glm_means=survival.linear_means, score_rows=survival.score_rows,
               loglik_nobs=survival.n_events),
]}

FAMILIES = tuple(FAMILY_KINDS)
LINK_NAMES = tuple(dict.fromkeys(name for kind in FAMILY_KINDS.values() for name in kind.links))
TIES_NAMES = tuple(dict.fromkeys(name for kind in FAMILY_KINDS.values() for name in kind.ties))


def family_kind(name: str) -> FamilyKind:
    return FAMILY_KINDS[name]
