"""A fitted family: the family kind and link a model uses, and the encoding it learned from
the training response (classes, the gaussian response's centre and scale, binomial counts).
Every family-specific number is asked of the kind (``kinds.py``) or the link (``links.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError, ResponseError
from . import survival
from .kinds import FAMILIES, FAMILY_KINDS, FamilyKind
from .links import LINKS, Link
from .metrics import class_metrics, regression_metrics
from .response import (
    check_counts,
    codes,
    is_proportion,
    numeric,
    plain,
    proportions,
    response_levels,
    valid_levels,
)

_NEWTON_STEPS = 100
# The options that fix a family's own parameter (theta=, var_power=)
PARAMETER_NAMES = tuple(dict.fromkeys(k.parameter.name for k in FAMILY_KINDS.values()
                                      if k.parameter is not None))


def given_parameters(options: Any) -> dict[str, Any]:
    """The values of the parameter options in ``options`` (a ``FitOptions``), by name."""
    return {name: getattr(options, name, None) for name in PARAMETER_NAMES}


@dataclass(frozen=True)
class LossKey:
    """What the engine's loss depends on: hashable, part of a traced graph's key."""

    family: str
    link: str
    ties: str = ""  # a survival family's ties method

    def row_loss(self, ops, y, eta, parameter=None):
        """Unit deviance / 2 per row, summed over outputs (``ops``: NumPy or TensorFlow;
        ``parameter``: the family's own parameter, per network, for a family that has one)."""
        return FAMILY_KINDS[self.family].half_deviance(ops, y, eta, self.link, parameter)

    def batch_loss(self, ops, y, eta, w, parameter=None):
        """The loss of a batch of rows (the last axis) with weights ``w`` and their sum: the
        weighted mean of the row losses, or a set-level loss (Cox's negative log partial
        likelihood, risk sets within the batch) divided by the weights' sum."""
        return self.batch_losses(ops, y, eta, (w,), parameter)[0]

    def batch_losses(self, ops, y, eta, weights, parameter=None):
        """:meth:`batch_loss` for each of several weightings of the same rows (training and
        validation), the row losses computed once."""
        kind = FAMILY_KINDS[self.family]
        rows = None if kind.set_loss is not None else self.row_loss(ops, y, eta, parameter)
        out = []
        for w in weights:
            total_weight = ops.sum(w)
            total = (kind.set_loss(ops, y, eta, w, self.ties) if rows is None
                     else ops.sum(rows * w))
            out.append((total / ops.maximum(total_weight, 1e-12), total_weight))
        return out


@dataclass
class Family:
    """A fitted family: the encoding learned from the training response."""

    name: str
    outputs: list[str]
    levels: list[Any] | None = None
    y_center: np.ndarray = field(default_factory=lambda: np.zeros(1))
    y_scale: np.ndarray = field(default_factory=lambda: np.ones(1))
    counts: bool = False  # binomial cbind(successes, failures): proportions, trials as weights
    link: str = ""  # "" = the family's default link
    ties: str = ""  # a survival family's ties method ("" = its default)
    # a survival family's Breslow baseline: distinct event times and cumulative hazard there
    baseline: tuple[np.ndarray, np.ndarray] | None = None
    # a survival family's training mean of η: a Cox model's η is identified up to a constant,
    # so η is reported centred there (coxph's centred linear predictor; at hidden=() ~ 0)
    eta_center: float = 0.0
    # The kind's own parameter (θ, the variance power), given or estimated with its standard
    # error (NaN when given); None for a family without one.
    parameter: float | None = None
    parameter_se: float = float("nan")
    parameter_given: bool = True

    def __post_init__(self) -> None:
        self.link = self.link or self.kind.default_link
        self.ties = self.ties or (self.kind.ties[0] if self.kind.ties else "")

    @property
    def kind(self) -> FamilyKind:
        return FAMILY_KINDS[self.name]

    @property
    def link_fn(self) -> Link:
        return LINKS[self.link]

    @property
    def loss(self) -> LossKey:
        return LossKey(self.name, self.link, self.ties)

    @property
    def standardised(self) -> bool:
        """Whether the network trains on a standardised response (gaussian, identity link)."""
        return self.kind.standardises and self.link == "identity"

    @property
    def n_outputs(self) -> int:
        if self.kind.survival:  # time and status: one linear predictor
            return 1
        return len(self.levels) if self.kind.several_classes else len(self.outputs)

    @property
    def free_outputs(self) -> int:
        """Outputs that vary freely: K softmax outputs sum to one (K − 1 free)."""
        return self.n_outputs - int(self.kind.several_classes)

    @property
    def output_names(self) -> list[str]:
        """A name per network output: the classes of a multinomial, else the responses."""
        if self.kind.survival:
            return [f"Surv({', '.join(self.outputs)})"]
        return [str(v) for v in (self.levels if self.kind.several_classes else self.outputs)]

    @property
    def penalty_scale(self) -> float:
        """The engine trains gaussian networks on standardised y, so a penalty given on
        glmnet's scale is divided by sd(y) there (glmnet does the same)."""
        return float(np.mean(self.y_scale)) if self.standardised else 1.0

    @property
    def is_classification(self) -> bool:
        return self.kind.classes

    @property
    def label(self) -> str:
        """As R's ``summary.glm`` names the family (``Gamma``, ``quasipoisson``,
        ``Negative Binomial(1.2749)``)."""
        spec = self.kind.parameter
        return self.kind.label if spec is None or self.parameter is None else \
            spec.label(self.parameter)

    @property
    def estimates_parameter(self) -> bool:
        """Whether the fit estimates the kind's parameter by maximum likelihood (not given)."""
        return self.kind.parameter is not None and not self.parameter_given

    @property
    def extra_parameters(self) -> int:
        """Parameters ``logLik`` counts beyond the coefficients: the dispersion of a family
        whose likelihood has one, and an estimated θ (``glm.nb``: rank + 1)."""
        return self.kind.extra_parameters + int(self.estimates_parameter)

    def with_parameter(self, value: float, se: float = float("nan")) -> Family:
        """This family at the kind's parameter ``value`` (estimated, with its ``se``)."""
        return replace(self, parameter=float(value), parameter_se=float(se))

    def provisional(self) -> Family:
        """This family, at a provisional value of the kind's parameter when it has none yet
        (starting values of an estimate)."""
        if self.kind.parameter is None or self.parameter is not None:
            return self
        return self.with_parameter(self.kind.parameter.example)

    def loglik(self, y: np.ndarray, mu: np.ndarray, w: np.ndarray, deviance: float,
               trials: np.ndarray | None) -> float:
        """The log-likelihood at means ``mu`` (the kind's, at this family's parameter)."""
        return float(self.kind.loglik(y, mu, w, deviance, trials, *self._args))

    @property
    def _args(self) -> tuple:
        return self.kind.parameter_args(self.parameter)

    # -- encoding -----------------------------------------------------------------------------
    def encode(self, response: pd.DataFrame) -> np.ndarray:
        """The training target: standardised values (gaussian), 0/1 or proportions (binomial),
        one-hot (multinomial) or the values, shape [n, n_outputs] (a survival response: its
        time and status, [n, 2])."""
        if self.kind.survival:
            return survival.surv_frame(response).to_numpy(dtype=np.float64)
        if not self.kind.classes:
            return (numeric(response, self.name) - self.y_center) / self.y_scale
        if self.counts:
            return proportions(response)[:, None]
        y = response.iloc[:, 0]
        if not self.kind.several_classes and is_proportion(y):  # 0/1 or proportions
            return y.to_numpy(dtype=np.float64)[:, None]
        found = codes(y, self.levels or [])
        if not self.kind.several_classes:
            return (found == 1).astype(np.float64)[:, None]
        return np.eye(len(self.levels or []))[found]

    def trials(self, response: pd.DataFrame) -> np.ndarray:
        """Each row's number of trials (binomial counts: successes + failures), else ones: the
        factor a counts response multiplies into the prior weights, as R's glm does."""
        if not self.counts:
            return np.ones(len(response))
        return numeric(response, self.name).sum(axis=1)

    def encode_offset(self, offset: np.ndarray) -> np.ndarray:
        """An offset on the user's link scale as the network's output sees it, [n, outputs]
        (a standardised response: divided by sd(y))."""
        column = np.asarray(offset, dtype=np.float64).reshape(-1, 1)
        if self.standardised:
            return column / self.y_scale
        return np.repeat(column, self.n_outputs, axis=1)

    def mean(self, eta: np.ndarray) -> np.ndarray:
        """Inverse link: network output (link scale) → mean on the response scale."""
        return self.link_fn.inverse(self.link_scale(eta))

    def link_scale(self, eta: np.ndarray) -> np.ndarray:
        """The linear predictor on the user's scale (a standardised response: unstandardised;
        a survival family's: centred at its training mean)."""
        if self.kind.survival:
            return eta - self.eta_center
        return eta * self.y_scale + self.y_center if self.standardised else eta

    def mu_eta(self, eta_user: np.ndarray) -> np.ndarray:
        """dμ/dη at the user-scale linear predictor."""
        return self.link_fn.mu_eta(eta_user)

    def variance(self, mu: np.ndarray) -> np.ndarray:
        """The variance function V(μ)."""
        return self.kind.variance(mu, *self._args)

    def natural(self, Y: np.ndarray) -> np.ndarray:
        """Encoded targets back on the natural scale (a standardised response: unstandardised)."""
        return Y * self.y_scale + self.y_center if self.standardised else Y

    def encode_target(self, y: np.ndarray) -> np.ndarray:
        """Natural-scale targets (from ``target``) encoded for the engine."""
        return (y - self.y_center) / self.y_scale if self.standardised else y

    def target(self, response: pd.DataFrame) -> np.ndarray:
        """The response on its natural scale for deviance and metrics, [n, n_outputs]."""
        return self.natural(self.encode(response))

    # -- deviance and the null model ----------------------------------------------------------
    def deviance(self, y: np.ndarray, mu: np.ndarray, weights: np.ndarray | None = None) -> float:
        """The (weighted) deviance of means ``mu``: Σ w·d, or −2 log partial likelihood."""
        w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
        if self.kind.set_loss is not None:
            return survival.deviance(y, self.link_fn.fun(mu), w, self.ties)
        return float(w @ self.deviance_rows(y, mu))

    def deviance_rows(self, y: np.ndarray, mu: np.ndarray) -> np.ndarray:
        """Unit deviance per row (summed over outputs), as R's ``family()$dev.resids``."""
        return self.kind.deviance_rows(y, mu, self.parameter)

    def unit_deviances(self, y: np.ndarray, mu: np.ndarray) -> np.ndarray:
        """Unit deviance per row and output."""
        return self.kind.unit_deviances(y, mu, self.parameter)

    def null_mean(self, y: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """The intercept-only maximum-likelihood mean, [n_outputs]: the weighted mean of y
        (the score equation of a constant mean, whatever the link)."""
        return np.average(y, axis=0, weights=weights)

    def mean_at_zero_link(self) -> np.ndarray:
        """The mean at a zero linear predictor, R's null model without an intercept
        (identity 0, logit 1/2, log 1, softmax 1/K), [n_outputs]."""
        with np.errstate(divide="ignore"):
            return self.link_fn.inverse(np.zeros((1, self.n_outputs)))[0]

    def null_means(self, y: np.ndarray, weights: np.ndarray | None = None,
                   offset: np.ndarray | None = None, intercept: bool = True) -> np.ndarray:
        """The null model's means per row, [n, outputs]: the intercept-only GLM with the
        prior weights and the offset (user's link scale), as R's null deviance uses.  With an
        offset and no intercept the null model is the offset alone, as in R."""
        if offset is None:
            null = self.null_mean(y, weights) if intercept else self.mean_at_zero_link()
            return np.broadcast_to(null, (len(y), self.n_outputs))
        if self.kind.several_classes:
            raise OptionError("an offset is not defined for the multinomial family (one linear "
                              "predictor per class); drop the offset or use family='binomial'.")
        o = np.repeat(np.asarray(offset, dtype=np.float64).reshape(-1, 1), self.n_outputs,
                      axis=1)
        if not intercept:
            return self.link_fn.inverse(o)
        w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
        b = np.array([self._null_intercept(y[:, j], w, o[:, j]) for j in range(y.shape[1])])
        return self.link_fn.inverse(o + b)

    def _null_intercept(self, y: np.ndarray, w: np.ndarray, o: np.ndarray) -> float:
        """The intercept b maximising the likelihood of g⁻¹(b + o): Fisher scoring."""
        link = self.link_fn
        start = np.clip(np.average(y, weights=w), 1e-6, None)
        if self.kind.classes:
            start = min(start, 1 - 1e-6)
        b = float(link.fun(np.array([start]))[0] - np.average(o, weights=w))
        for _ in range(_NEWTON_STEPS):
            eta = b + o
            mu, d = link.inverse(eta), link.mu_eta(eta)
            v = self.variance(mu)
            step = float(w @ ((y - mu) * d / v)) / max(float(w @ (d * d / v)), 1e-300)
            b += step
            if abs(step) < 1e-12 * (1 + abs(b)):
                break
        return b

    def null_score(self, y_encoded: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """−∂(loss)/∂η per row and output at the null fit, [n, outputs]: w·(y − ȳ_w) (the
        canonical links' score at the intercept-only fit), or the family's own score at η = 0
        (Cox: w times the martingale residuals)."""
        w = np.asarray(weights, dtype=np.float64)
        if self.kind.score_rows is not None:
            eta = np.zeros(len(y_encoded))
            return self.kind.score_rows(y_encoded, eta, w, self.ties)[:, None]
        null = np.average(y_encoded, axis=0, weights=w)
        return w[:, None] * (y_encoded - null)

    def null_link(self, y_encoded: np.ndarray, weights: np.ndarray | None = None,
                  offset: np.ndarray | None = None) -> np.ndarray:
        """The intercept-only fit on the network's output scale (to initialise the output bias;
        ``offset`` on that scale, [n, outputs], is taken out first: an approximation).  A
        survival family has no intercept: 0."""
        if self.kind.survival:
            return np.zeros(self.n_outputs)
        if offset is not None:
            shifted = y_encoded - offset if self.link == "identity" else y_encoded
            base = self.null_link(shifted, weights)
            return base if self.link == "identity" else base - np.average(offset, axis=0,
                                                                          weights=weights)
        m = np.average(y_encoded, axis=0, weights=weights)
        if self.standardised or self.link == "identity":
            return m
        if self.kind.several_classes:
            logp = np.log(np.clip(m, 1e-6, 1))
            return logp - logp.mean()
        lo, hi = (1e-6, 1 - 1e-6) if self.kind.classes else (1e-6, np.inf)
        with np.errstate(divide="ignore", invalid="ignore"):
            eta = self.link_fn.fun(np.clip(m, lo, hi))
        return np.where(np.isfinite(eta), eta, 0.0)

    @property
    def learns_from_fit(self) -> bool:
        """Whether :meth:`learned_from_fit` learns anything (a survival family's baseline)."""
        return self.kind.survival

    def learned_from_fit(self, y: np.ndarray, eta: np.ndarray, weights: np.ndarray) -> Family:
        """The family as a fit keeps it, with what it learns from the fitted linear predictor
        on the training rows: a survival family's baseline cumulative hazard (Breslow's, or
        Efron's with Efron ties, as ``survfit.coxph``); itself otherwise."""
        if not self.kind.survival:
            return self
        used = np.asarray(weights) > 0
        learned = replace(self, eta_center=float(np.average(eta[used, 0],
                                                            weights=weights[used])))
        learned.baseline = survival.baseline_hazard(y, learned.link_scale(eta), weights,
                                                    self.ties)
        return learned

    def survival_at(self, eta: np.ndarray, times: np.ndarray) -> np.ndarray:
        """A survival family's S(t | η) = exp(−H₀(t)·exp(η)), [n, len(times)]."""
        if self.baseline is None:
            raise OptionError("this survival model holds no baseline hazard (a model file "
                              "from before it was kept); refit it to predict survival.")
        cumhaz = survival.cumulative_hazard_at(*self.baseline, times)
        return np.exp(-np.outer(np.exp(np.asarray(eta, dtype=np.float64).reshape(-1)),
                                cumhaz))

    # -- metrics ------------------------------------------------------------------------------
    def metrics(self, y: np.ndarray, mu: np.ndarray,
                weights: np.ndarray | None = None) -> dict[str, float]:
        """Family metrics of predictions ``mu`` against targets ``y`` (natural scale).

        With ``weights`` (prior weights, times trials for binomial counts) every metric is the
        weighted one: the deviance is R's sum of w·d; means, RMSE, MAE and R² are weighted
        means (R²: 1 − Σw·r² / Σw·(y − ȳ_w)², as ``summary.lm``); classification metrics are
        those of the trials, each row counting w times (scikit-learn's ``sample_weight``)."""
        w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
        if self.kind.set_loss is not None:
            return survival.survival_metrics(y, self.link_fn.fun(mu), w, self.ties)
        dev = self.deviance_rows(y, mu)
        total = max(float(w.sum()), 1e-300)
        out: dict[str, float] = {"deviance": float(w @ dev), "mean_deviance": float(w @ dev)
                                 / total}
        if not self.kind.classes:
            return {**out, **regression_metrics(y, mu, w)}
        if not self.kind.several_classes:  # each row: w·y successes and w·(1 − y) failures
            p = mu[:, 0]
            probs = np.column_stack([1 - p, p])
            probs, truth = np.vstack([probs, probs]), np.repeat([1, 0], len(y))
            w = np.concatenate([w * y[:, 0], w * (1 - y[:, 0])])
        else:
            probs, truth = mu, y.argmax(axis=1)
        if not np.isfinite(probs).all():
            return {**out, **{k: float("nan") for k in ("accuracy", "log_loss", "brier",
                                                        "auc")}}
        return {**out, **class_metrics(probs, truth, w, not self.kind.several_classes)}

    @property
    def main_metric(self) -> str:
        if self.kind.survival:
            return "concordance"
        return "accuracy" if self.is_classification else "rmse"

    # -- persistence --------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "link": self.link,
            "counts": self.counts,
            "outputs": self.outputs,
            "levels": [plain(v) for v in self.levels] if self.levels is not None else None,
            "y_center": self.y_center.tolist(),
            "y_scale": self.y_scale.tolist(),
            **({"ties": self.ties, "eta_center": self.eta_center} if self.ties else {}),
            **({} if self.baseline is None else
               {"baseline": [self.baseline[0].tolist(), self.baseline[1].tolist()]}),
            "parameter": self.parameter,
            "parameter_se": None if np.isnan(self.parameter_se) else self.parameter_se,
            "parameter_given": self.parameter_given,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Family:
        """The family stored in a model file, checked to be one ``make_family`` could build
        (a ``ValueError`` says what is inconsistent)."""
        name, outputs, levels = d["name"], d["outputs"], d["levels"]
        if name not in FAMILIES:
            raise ValueError(f"family {name!r} is not one of {list(FAMILIES)}")
        kind = FAMILY_KINDS[name]
        link = d.get("link", kind.default_link)
        if link not in kind.links:
            raise ValueError(f"family {name!r} cannot have link {str(link)[:50]!r}")
        if not (isinstance(outputs, list) and outputs and len(outputs) <= 100_000
                and all(isinstance(o, str) for o in outputs)):
            raise ValueError("the family's outputs are not a list of response names")
        if kind.classes != (levels is not None) or (
                kind.classes and not valid_levels(kind.several_classes, levels)):
            raise ValueError(f"family {name!r} cannot have levels {str(levels)[:200]}")
        center = np.asarray(d["y_center"], dtype=np.float64).reshape(-1)
        scale = np.asarray(d["y_scale"], dtype=np.float64).reshape(-1)
        standardised = kind.standardises and link == "identity"
        sizes_ok = not standardised or len(center) == len(scale) == len(outputs)
        if not (sizes_ok and np.isfinite(center).all() and np.isfinite(scale).all()
                and (scale > 0).all()):
            raise ValueError("the family's response centre or scale is not finite and positive")
        counts = d.get("counts", False)
        if counts not in (False, True) or (counts and not kind.counts):
            raise ValueError(f"family {name!r} cannot hold binomial counts ({counts!r})")
        ties = d.get("ties", "")
        if ties not in ("", *kind.ties):
            raise ValueError(f"family {name!r} cannot have ties {str(ties)[:50]!r}")
        if kind.survival and len(outputs) != 2:
            raise ValueError("a survival family's outputs are its time and status columns")
        parameter, se = d.get("parameter"), d.get("parameter_se")
        given = d.get("parameter_given", True)
        if (kind.parameter is None) != (parameter is None) or given not in (False, True) or (
                parameter is not None and not _valid_number(parameter)) or (
                se is not None and not _valid_number(se)):
            raise ValueError(f"family {name!r} cannot have the parameter {str(parameter)[:50]} "
                             f"(standard error {str(se)[:50]})")
        return cls(name=name, outputs=list(outputs), levels=levels, y_center=center,
                   y_scale=scale, counts=bool(counts), link=link,
                   parameter=None if parameter is None else float(parameter),
                   parameter_se=float("nan") if se is None else float(se),
                   parameter_given=bool(given), ties=ties,
                   baseline=survival.baseline_from_json(d.get("baseline")),
                   eta_center=survival.finite_from_json(d.get("eta_center", 0.0),
                                                        "eta_center"))


def _valid_number(value: Any) -> bool:
    """A finite positive number (a family parameter or its standard error in a model file)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and bool(np.isfinite(value)) and value > 0)


def check_family(family: Any, link: str | None = None,
                 parameters: Mapping[str, Any] | None = None) -> tuple[str, str | None]:
    """A family name (and link) from ``family=``: a name, or a spec such as R's
    ``poisson(link = "log")`` handed over as ``{"family": ..., "link": ...}``.
    ``parameters`` maps the options that fix a family's own parameter (``theta``,
    ``var_power``) to their values: one given to a family without it is refused, as is a
    family whose parameter must be given and is not."""
    if isinstance(family, dict):
        family, link = family.get("family"), family.get("link") or link
    if not isinstance(family, str) or family not in FAMILIES:
        raise OptionError(
            f"family must be one of {list(FAMILIES)}; got {family!r}. Pick the one that suits "
            "the response (gaussian for numbers, binomial for two classes, multinomial for "
            "three or more, poisson for counts, gamma or inverse_gaussian for positive "
            "skewed values; quasipoisson/quasibinomial estimate the dispersion).")
    kind = FAMILY_KINDS[family]
    if link is not None and link not in kind.links:
        raise OptionError(f"link={link!r} is not a link of family {family!r}; its links are "
                          f"{list(kind.links)} (the first is the default).")
    _check_parameters(kind, parameters or {})
    return family, link


def _check_survival(kind: FamilyKind, response: pd.DataFrame, ties: str | None) -> None:
    """A Surv() response goes with a survival family and back; ``ties`` with a survival
    family only."""
    surv = bool(response.attrs.get("survival"))
    survival_names = [k.name for k in FAMILY_KINDS.values() if k.survival]
    if kind.survival and not surv:
        raise ResponseError(
            f"family={kind.name!r} needs a Surv(time, status) response, as in "
            f"'Surv(time, status) ~ x'; got {[str(c) for c in response.columns]}.")
    if surv and not kind.survival:
        raise ResponseError(
            f"a Surv(time, status) response needs family {survival_names} (or family=None); "
            f"got family={kind.name!r}.")
    if ties is not None and ties not in kind.ties:
        allowed = (f"its ties are {list(kind.ties)}" if kind.ties else
                   f"ties is for family {survival_names} only; leave it None")
        raise OptionError(f"ties={ties!r} does not apply to family {kind.name!r}: {allowed}.")
def _check_parameters(kind: FamilyKind, parameters: Mapping[str, Any]) -> None:
    own = kind.parameter.name if kind.parameter is not None else None
    for name, value in parameters.items():
        if value is not None and name != own:
            owners = [k.name for k in FAMILY_KINDS.values()
                      if k.parameter is not None and k.parameter.name == name]
            raise OptionError(
                f"{name}={value!r} is a parameter of family {' or '.join(map(repr, owners))}; "
                f"family={kind.name!r} does not use it. Leave {name} out, or use "
                f"family={owners[0]!r}.")
    if own is not None and parameters.get(own) is None and not kind.parameter.estimable:
        raise OptionError(
            f"family={kind.name!r} needs {own}= (e.g. {own}={kind.parameter.example:g}); it is "
            "not estimated from the data.")


def make_family(family: Any, response: pd.DataFrame, levels: list[Any] | None = None,
                intercept: bool = True, weights: np.ndarray | None = None,
                link: str | None = None,
                parameters: Mapping[str, Any] | None = None,
                ties: str | None = None) -> tuple[Family, str | None]:
    """Check ``family`` against the response (choosing one when ``None``) and learn its encoding.

    ``levels`` fixes the classes (cross-validation uses the full data's classes in every fold);
    prior ``weights`` weight a gaussian response's centre and scale; ``link`` overrides the
    family's default link; ``parameters`` the options fixing a family's own parameter
    (see :func:`check_family`; a parameter not given is estimated when the model is fitted);
    ``ties`` is a survival family's ties method.
    Returns the family and, when it was chosen automatically, a sentence saying why.
    """
    from .response import infer

    reason = None
    if family is None:
        family, reason = infer(response)
    name, link = check_family(family, link, parameters)
    kind = FAMILY_KINDS[name]
    outputs = [str(c) for c in response.columns]
    _check_survival(kind, response, ties)
    if kind.survival:
        return Family(name, outputs, link=link or "", ties=ties or ""), reason
    if not kind.classes:
        y = numeric(response, name)
        problem = kind.accepts(y[np.isfinite(y)])
        if problem:
            raise ResponseError(
                f"family={name!r} needs {problem} in response {outputs}. Use another family "
                "(gaussian takes any number) or transform the response.")
        fam = Family(name, outputs, link=link or "")
        if kind.parameter is not None:
            given = (parameters or {}).get(kind.parameter.name)
            fam.parameter = None if given is None else float(given)
            fam.parameter_given = given is not None
        if fam.standardised:
            # Without an intercept the model must not gain one through centring y.
            mean = np.average(y, axis=0, weights=weights)
            center = mean if intercept else np.zeros(y.shape[1])
            scale = np.sqrt(np.average((y - mean) ** 2, axis=0, weights=weights))
            fam.y_center, fam.y_scale = center, np.where(scale > 0, scale, 1.0)
        return fam, reason
    if kind.counts and response.shape[1] == 2:
        check_counts(response, name)
        return Family(name, outputs[:1], [0, 1], counts=True, link=link or ""), reason
    if response.shape[1] != 1:
        raise ResponseError(
            f"family={name!r} takes one response column; got {outputs}. Use cbind() with "
            "family='gaussian' or 'poisson' (several responses), or cbind(successes, "
            "failures) with family='binomial'."
        )
    two = not kind.several_classes
    if two and levels is None and is_proportion(response.iloc[:, 0]):
        levels = [0, 1]
    if levels is None:
        levels = response_levels(response.iloc[:, 0])
    if two and len(levels) != 2:
        raise ResponseError(
            f"family={name!r} needs a response with two classes; {outputs[0]!r} has "
            f"{len(levels)}: {levels[:10]}. Use family='multinomial' for more than two classes."
        )
    if not two and len(levels) < 2:
        raise ResponseError(
            f"family={name!r} needs at least two classes; {outputs[0]!r} has {levels}."
        )
    return Family(name, outputs, levels, link=link or ""), reason
