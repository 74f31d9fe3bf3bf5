"""The modelling generics R users type without thinking, for ``DNNFit``: residuals of every
type (as R's ``residuals.glm``), the model matrix with R's column names (as ``model.matrix``)
and the formula rules of R's ``update.formula``."""

from __future__ import annotations

import re
from dataclasses import fields
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import FormulaError, OptionError
from ..options import FitOptions

if TYPE_CHECKING:
    from .fit import DNNFit

INTERCEPT = "(Intercept)"


# --------------------------------------------------------------------------- residuals


def residuals(fit: DNNFit, type: str = "deviance") -> pd.Series | pd.DataFrame:
    """One residual per training row (a column per output), as R's ``residuals.glm``.

    With μ the fitted mean (offset included) and w the prior weight (times the trials of a
    ``cbind`` counts response): ``deviance``: sign(y − μ)·√(w·unit deviance); ``pearson``:
    (y − μ)·√w/√V(μ); ``working``: (y − μ)/(dμ/dη); ``response``: y − μ.  A multinomial fit
    has only ``response`` residuals (one column per class: the 0/1 indicator minus its
    probability, as ``nnet::multinom``); the others are defined for one-parameter families
    and are refused.
    """
    kind = fit.family.kind
    if type not in kind.residual_types:
        raise OptionError(f"type must be one of {list(kind.residual_types)} for family "
                          f"{kind.name!r}; got {type!r}.")
    X, y, index = fit.training_data()
    priors = fit.priors
    eta = fit.family.link_scale(fit.link_of(X, priors.offset))
    if kind.residuals is not None:  # not a GLM's (Cox: martingale, deviance)
        return pd.Series(kind.residuals(type, y, eta[:, 0], priors.weights, fit.family.ties),
                         index=index, name=type)
    mu = fit.family.link_fn.inverse(eta)
    if fit.family.kind.several_classes:
        if type != "response":
            raise OptionError(
                f"residuals(type={type!r}) is defined for one-parameter families (gaussian, "
                "binomial, poisson, ...); a multinomial response has one residual per class. "
                "Use type='response' (indicator minus probability, a column per class).")
        return pd.DataFrame(y - mu, index=index, columns=fit.family.output_names)
    values = residual_values(fit.family, type, y, mu, eta, priors.weights)
    if values.shape[1] == 1:
        return pd.Series(values[:, 0], index=index, name=type)
    return pd.DataFrame(values, index=index, columns=[str(c) for c in fit.family.outputs])


def residual_values(family, type: str, y: np.ndarray, mu: np.ndarray, eta: np.ndarray,
                    weights: np.ndarray) -> np.ndarray:
    """Residuals of one type on the natural scale, [n, outputs] (``eta`` on the user's link
    scale, ``weights`` the prior weights times any trials)."""
    raw = y - mu
    w = np.asarray(weights, dtype=np.float64)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        if type == "response":
            return raw
        if type == "working":
            return raw / family.mu_eta(eta)
        if type == "deviance":
            unit = family.unit_deviances(y, mu)
            return np.sign(raw) * np.sqrt(np.maximum(w * unit, 0))
        return raw * np.sqrt(w) / np.sqrt(family.variance(mu))


# --------------------------------------------------------------------------- model matrix


def model_matrix(fit: DNNFit, data: pd.DataFrame | None = None) -> pd.DataFrame:
    """The design on the user's scale with R's column names (``spec.names``, intercept
    first), for the training rows or the complete rows of ``data`` (as ``model.matrix``)."""
    if data is None:
        X, _, index = fit.training_data()
    else:
        X, ok = fit.spec.design(data, unseen=fit.options.unseen, what="data")
        index = data.index[ok]
    raw = X * fit.spec.scale + fit.spec.center
    frame = pd.DataFrame(raw, index=index, columns=fit.spec.names)
    if fit.spec.intercept:
        frame.insert(0, INTERCEPT, 1.0)
    return frame


def model_matrix_assign(fit: DNNFit) -> list[int]:
    """R's ``assign`` attribute: the term (1, 2, ... in the formula's order; 0 for the
    intercept) each column of :func:`model_matrix` belongs to."""
    terms = fit.spec.terms()
    numbers = {term: i for i, term in enumerate(dict.fromkeys(terms), start=1)}
    return [0] * int(fit.spec.intercept) + [numbers[t] for t in terms]


# --------------------------------------------------------------------------- update


_DOT = re.compile(r"(?<![\w.`])\.(?![\w.`])")


def updated_formula(old: str, new: str | None) -> str:
    """R's ``update.formula``: ``.`` on the left of ``new`` is the old response, on the right
    the old right-hand side (in parentheses); ``~ rhs`` keeps the old response."""
    if new is None:
        return old
    if not isinstance(new, str) or "~" not in new:
        raise FormulaError(f"the new formula must be text with a '~', e.g. '. ~ . + hp' or "
                           f"'~ . - wt'; got {new!r}.")
    old_lhs, old_rhs = (s.strip() for s in old.split("~", 1))
    lhs, rhs = (s.strip() for s in new.split("~", 1))
    lhs = _DOT.sub(lambda _: old_lhs, lhs) if lhs else old_lhs
    rhs = _DOT.sub(lambda _: f"({old_rhs})", rhs)
    return f"{lhs} ~ {rhs}"


def updated_options(options: FitOptions, changes: dict[str, Any]) -> dict[str, Any]:
    """The options the fit was made with (those differing from the defaults), with ``changes``
    applied, as keyword arguments for ``dnn()``."""
    defaults = FitOptions()
    given = {}
    for f in fields(options):
        value = getattr(options, f.name)
        if f.name == "layers" or value is getattr(defaults, f.name):
            continue
        if isinstance(value, pd.DataFrame) or value != getattr(defaults, f.name):
            given[f.name] = value
    if "architecture" in given and set(changes) & {"hidden", "activation", "dropout",
                                                     "batchnorm"}:
        given.pop("architecture")  # a shorthand in changes replaces the layer list
    return {**given, **changes}
