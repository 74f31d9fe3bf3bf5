"""What R's modelling generics (``vcov``, ``confint``, ``logLik``, ``anova``, ``predict`` with
``se.fit``) receive from a fit, shaped as R returns them: labelled matrices, the parts of a
``logLik`` object, an analysis-of-deviance table.  Served by the endpoint table in
:mod:`dlstat.fronts.rbridge`; every number comes from the results layer."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..errors import OptionError
from .rcodec import frame_to_r

# The results' inference modules import SciPy, so they are imported when first needed: the
# bridge starts with the R session.


def _labels(index: pd.Index) -> list[str]:
    """Row labels as summary() prints them (a multinomial's ``class:term``)."""
    if isinstance(index, pd.MultiIndex):
        return [":".join(map(str, t)) for t in index]
    return [str(v) for v in index]


def vcov(model: Any) -> dict[str, Any]:
    """``vcov()``: the covariance with one label per coefficient on both sides."""
    v = model.vcov()
    labels = _labels(v.index)
    return frame_to_r(pd.DataFrame(v.to_numpy(), index=labels, columns=labels))


def confint(model: Any, level: float = 0.95) -> dict[str, Any]:
    """``confint()``: Wald intervals, one labelled row per coefficient."""
    c = model.confint(level=level)
    return frame_to_r(pd.DataFrame(c.to_numpy(), index=_labels(c.index), columns=c.columns))


def loglik(model: Any) -> dict[str, Any]:
    """The parts of R's ``logLik`` object: the value, its degrees of freedom (``None`` with
    the reason where they are not defined, e.g. a network with hidden layers) and ``nobs``
    (the rows ``BIC`` counts, as ``logLik.glm``'s)."""
    from ..results import inference

    try:
        df, why = inference.loglik_df(model), ""
    except OptionError as exc:
        df, why = None, str(exc)
    return {"value": float(model.loglik()), "df": df, "nobs": inference.loglik_nobs(model),
            "why": why}


def anova_table(models: list, test: str = "Chisq") -> dict[str, Any]:
    """``anova(fit0, fit1, test=)``: the table (rows numbered from 1 in R) and the formulas."""
    from ..results.anova import anova

    result = anova(*models, test=test)
    return {"table": frame_to_r(result.table.reset_index(drop=True)),
            "formulas": list(result.formulas)}


def model_matrix(model: Any, data: pd.DataFrame | None = None) -> dict[str, Any]:
    """``model.matrix()``: the matrix (R's column names) and its ``assign`` attribute."""
    from ..results.generics import model_matrix_assign

    return {"frame": frame_to_r(model.model_matrix(data)),
            "assign": model_matrix_assign(model)}


def predict_with_se(model: Any, newdata: pd.DataFrame | None, type: str = "response",
                    unseen: str | None = None, interval: str = "none",
                    level: float = 0.95) -> dict[str, Any]:
    """``predict(se.fit = TRUE, interval = ...)``: ``fit`` (``lwr``, ``upr``), ``se_fit`` on
    ``type``'s scale as ``predict.glm`` gives it, and the residual scale (√dispersion)."""
    from ..results import inference

    if model.bootstrap is not None and model.topology.layers and interval != "none":
        # A bootstrapped network's interval is the replicates' percentiles; it has no se.fit.
        frame = model.predict(newdata, type=type, unseen=unseen, interval=interval, level=level)
        return {"frame": frame_to_r(frame), "residual_scale": float("nan")}
    frame = model.predict(newdata, type=type, unseen=unseen, interval=interval, level=level,
                          se_fit=True)
    if type == "response":
        frame["se_fit"] = inference.response_scale_se(model, frame["fit"].to_numpy(),
                                                      frame["se_fit"].to_numpy())
    return {"frame": frame_to_r(frame),
            "residual_scale": float(inference.dispersion(model)) ** 0.5}


def predict_interval(model: Any, newdata: Any, type: str = "response",
                     unseen: str | None = None, level: float = 0.95,
                     method: str | None = None, weights: Any = None) -> dict[str, Any]:
    """``predict(interval = "prediction")`` and ``predict(type = "set")`` of a fit or, with
    ``type`` and ``interval`` alike, a cross-validation (CV+): the frame and how it was
    made."""
    if type == "set":
        frame = model.predict(newdata, type="set", unseen=unseen, level=level,
                              **({} if method is None else {"method": method}))
    elif hasattr(model, "fits"):  # a cross-validation: CV+
        frame = model.predict(newdata, type=type, interval="prediction", level=level,
                              unseen=unseen, weights=weights)
    else:
        frame = model.predict(newdata, type=type, unseen=unseen, interval="prediction",
                              level=level, method=method, weights=weights)
    return {"frame": frame_to_r(frame), "method": str(frame.attrs.get("method", ""))}
