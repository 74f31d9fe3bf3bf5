"""``DNNFit``: a fitted network that behaves like a fitted ``glm``."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from ..engine.network import Params, Topology, forward_auto
from ..errors import DataError, OptionError
from ..families import Family
from ..families.survival import check_times
from ..formula import DesignSpec
from ..options import FitOptions
from .bootstrap import Replicates
from .persistence import ModelParts, SavedInference, read, write
from .protocol import Result, Summary
from .record import FitRecord, HeldRows, RowPriors

PREDICT_TYPES = ("response", "link", "class", "prob", "set", "risk", "survival")
SURVIVAL_TYPES = ("risk", "survival")  # a survival family's (predict.coxph's names)


class DNNFit(Result):
    """A fitted neural network: ``predict``, ``summary``, ``tidy``, ``glance``, ``augment``,
    ``plot``, ``keras_model``, ``save``, and the generics of R's ``glm`` objects (``fitted``,
    ``residuals``, ``model_matrix``, ``update``, ``formula``, ``nobs``, ``loglik``; for a GLM
    also ``coef``, ``vcov``, ``confint``, ``aic``, ``bic``).  Built by :func:`dlstat.dnn`.

    Attributes
    ----------
    call : str
        The call as it would be typed.
    family : Family
        The response family (link, deviance, metrics).
    options : FitOptions
        The options the network was trained with.
    history : pandas.DataFrame
        Loss (and validation loss) by epoch.
    record : FitRecord
        Training facts: epochs run, deviance, null deviance, observations.
    bootstrap : Replicates or None
        The replicates of ``dnn(..., bootstrap=B)``.

    Examples
    --------
    >>> import dlstat as dl
    >>> fit = dl.dnn("mpg ~ wt", dl.datasets.load("mtcars"), hidden=(), optimizer="lbfgs",
    ...              verbose=0)
    >>> fit.nobs()
    32
    >>> list(fit.glance().columns[:3])
    ['family', 'nobs', 'n_parameters']
    """

    bootstrap: Replicates | None = None  # set by dnn(..., bootstrap=B)
    training_frame: pd.DataFrame | None = None  # the training rows' input variables, as given

    def __init__(self, spec: DesignSpec, family: Family, topology: Topology, params: Params,
                 options: FitOptions, history: pd.DataFrame, record: FitRecord,
                 call: str, train_X: np.ndarray | None = None,
                 train_index: pd.Index | None = None, train_Y: np.ndarray | None = None,
                 train_priors: RowPriors | None = None,
                 saved_inference: SavedInference | None = None) -> None:
        self.spec = spec
        self.family = family
        self.topology = topology
        self.params = params
        self.options = options
        self.history = history
        self.record = record
        self.call = call
        self._train_X = train_X
        self._train_index = train_index
        self._train_Y = train_Y
        self._train_priors = train_priors
        self.saved_inference = saved_inference
        # validation and test rows, for conformal intervals and calibration (set by dnn())
        self.held_rows: dict[str, HeldRows] = {}

    # -- prediction ---------------------------------------------------------------------------
    def predict(self, newdata: pd.DataFrame | None = None, type: str = "response",
                unseen: str | None = None, interval: str = "none", level: float = 0.95,
                se_fit: bool = False, method: str | None = None,
                weights: Any = None, times: Any = None) -> pd.Series | pd.DataFrame:
        """Predictions for ``newdata`` (default: the training rows), aligned to its index.

        ``type``: ``"response"`` (mean on the response scale), ``"link"`` (linear predictor),
        ``"class"`` (predicted level) or ``"prob"`` (class probabilities, one column a level).
        Rows that cannot be predicted (missing values; unseen levels with ``unseen="na"``) are
        NA; nothing is dropped or reordered.
        A model with an offset (``offset(expr)`` terms, ``offset=``) evaluates it from
        ``newdata``, which must hold its columns; both ``"link"`` and ``"response"`` include it,
        as R's ``predict.glm``.

        For a network fitted with ``bootstrap=B``, ``interval="confidence"`` returns ``fit``
        (the full-data network's prediction), ``lwr`` and ``upr``: the percentile interval of
        the B replicates' predictions.
        For a GLM (``hidden=()``, no penalty), ``interval="confidence"`` returns a DataFrame
        with ``fit``, ``lwr`` and ``upr``: the Wald interval at ``level`` on the link scale,
        transformed to ``type``'s scale (the delta method, as R users do with
        ``predict(..., se.fit=TRUE)``); ``se_fit=True`` adds ``se_fit``, the link-scale
        standard error.

        ``interval="prediction"`` gives ``fit``, ``lwr``, ``upr``: an interval at ``level`` for
        a new observation of the response (``attrs["method"]`` says how it was made;
        ``dlstat.results.prediction``).  ``method`` chooses it (default: from what the fit
        holds): ``"lm"`` for a gaussian GLM (R's ``predict.lm`` interval; ``weights``, a
        column of ``newdata`` or one number per row, are the new rows' prior weights, as
        R's), ``"jackknife+ab"`` with ``bootstrap=B``, ``"split"`` (split conformal) with
        validation rows.  For a classifier ``type="set"`` gives the conformal set of classes
        at ``level``: one logical column per class.

        A Cox model (``family="cox"``): ``"link"`` is the linear predictor (centred at the
        training means, as ``predict.coxph``'s ``"lp"``), ``"risk"`` (or ``"response"``) its
        exponential, and ``"survival"`` with ``times=[t1, ...]`` the survival probability at
        each time (a column per time) from the baseline cumulative hazard, as
        ``survfit(coxph_fit, newdata)``.
        """
        if type not in PREDICT_TYPES:
            raise OptionError(f"type must be one of {list(PREDICT_TYPES)}; got {type!r}.")
        if type in SURVIVAL_TYPES and not self.family.kind.survival:
            raise OptionError(f"type={type!r} is for a survival model (family='cox' with a "
                              f"Surv(time, status) response); this model's family is "
                              f"{self.family.name!r}. Use type='response'.")
        if (times is None) == (type == "survival"):
            raise OptionError("times= goes with type='survival' (the times at which to give "
                              "the survival probability, e.g. times=[100, 365]), and only "
                              f"with it; got type={type!r} and times={times!r}.")
        if self.family.kind.survival and (type == "set" or interval == "prediction"):
            raise OptionError("a Cox model predicts a relative risk, not a response value: it "
                              "has no prediction interval or set. Use type='survival' with "
                              "times= for survival probabilities.")
        if type == "set" or interval == "prediction":
            from . import prediction

            if se_fit:
                raise OptionError("se_fit is given with interval='confidence' or 'none'; a "
                                  "prediction interval or set has no standard error.")
            if type == "set":
                if interval not in ("none", "prediction"):
                    raise OptionError(f"type='set' is a conformal prediction set; "
                                      f"interval={interval!r} does not go with it.")
                return prediction.set_frame(self, newdata, unseen, level, method)
            return prediction.interval_frame(self, newdata, type, unseen, level, method,
                                             weights)
        if method is not None or weights is not None:
            raise OptionError("method= and weights= belong to interval='prediction' or "
                              f"type='set'; got interval={interval!r}, type={type!r}.")
        if interval != "none" or se_fit:
            return self._predict_with_se(newdata, type, unseen, interval, level, bool(se_fit))
        if type in ("class", "prob") and not self.family.is_classification:
            raise OptionError(
                f"type={type!r} needs a classification family (binomial or multinomial); this "
                f"model's family is {self.family.name!r}. Use type='response'."
            )
        eta, ok, index = self._link(newdata, unseen or self.options.unseen)
        if type == "survival":
            return self._survival(eta, ok, index, times)
        return self._shape(eta, ok, index, type)

    def _survival(self, eta: np.ndarray, ok: np.ndarray, index: pd.Index, times: Any):
        """S(t | x) = exp(−H₀(t)·exp(η)) at each of ``times``: a column per time."""
        at = check_times(times)
        full = np.full((len(ok), len(at)), np.nan)
        full[ok] = self.family.survival_at(self.family.link_scale(eta), at)
        return pd.DataFrame(full, index=index, columns=[f"{t:g}" for t in at])

    @property
    def has_training_data(self) -> bool:
        """Whether the fit holds its training rows (a model loaded from a file does not)."""
        return self._train_X is not None and self._train_Y is not None

    def training_data(self) -> tuple[np.ndarray, np.ndarray, pd.Index]:
        """The training rows: standardised design, natural-scale response and row labels."""
        if not self.has_training_data:
            raise DataError("this model was loaded from a file and holds no training data, "
                            "which standard errors, tests and intervals need (a model file "
                            "keeps only the weights). Refit the model with dnn() on its data.")
        return self._train_X, self.family.natural(self._train_Y), self._train_index

    @property
    def priors(self) -> RowPriors:
        """The training rows' prior weights (times binomial trials), offset and trials; unit
        weights for a fit without them."""
        if self._train_priors is not None:
            return self._train_priors
        return RowPriors(np.ones(0 if self._train_X is None else len(self._train_X)))

    def link_of(self, X: np.ndarray, offset: np.ndarray | None = None) -> np.ndarray:
        """The network's output (link scale, standardised for gaussian) for design rows ``X``
        with their ``offset`` (user's link scale; ``None``: none)."""
        eta = forward_auto(self.params, self.topology, X)
        return eta if offset is None else eta + self.family.encode_offset(offset)

    def _link(self, newdata: pd.DataFrame | None, unseen: str):
        if newdata is None:
            if self._train_X is None:
                raise DataError("this model was loaded from a file and holds no training data; "
                                "pass newdata to predict().")
            X, ok, index = self._train_X, np.ones(len(self._train_X), bool), self._train_index
            offset = self.priors.offset
        else:
            X, ok = self.spec.design(newdata, unseen=unseen)
            index = newdata.index if isinstance(newdata, pd.DataFrame) else pd.RangeIndex(len(ok))
            offset = self.spec.offset(newdata, ok)
        return self.link_of(X, offset), ok, index

    def _predict_with_se(self, newdata: pd.DataFrame | None, type: str, unseen: str | None,
                         interval: str, level: float, se_fit: bool) -> pd.DataFrame:
        from . import inference

        if (self.bootstrap is not None and self.topology.layers and interval == "confidence"
                and not se_fit):
            from .bootstrap import prediction_interval_frame

            return prediction_interval_frame(self, *self._design_rows(newdata, unseen), type,
                                             level)
        inference.check_interval_request(self, type, interval)
        inference.require_covariance(self)
        return inference.prediction_frame(self, *self._design_rows(newdata, unseen), type,
                                          interval, level, se_fit)

    def _design_rows(self, newdata: pd.DataFrame | None,
                     unseen: str | None) -> tuple[tuple[np.ndarray, np.ndarray | None],
                                                  np.ndarray, pd.Index]:
        """Standardised rows of ``newdata`` (default: the training rows) with their offset,
        the rows' mask and index."""
        if newdata is None:
            X, _, index = self.training_data()
            return (X, self.priors.offset), np.ones(len(X), bool), index
        X, ok = self.spec.design(newdata, unseen=unseen or self.options.unseen)
        return (X, self.spec.offset(newdata, ok)), ok, newdata.index

    def _shape(self, eta: np.ndarray, ok: np.ndarray, index: pd.Index, type: str):
        fam = self.family
        full = np.full((len(ok), eta.shape[1]), np.nan)
        if type == "link":
            full[ok] = fam.link_scale(eta)
            cols = fam.output_names
        else:
            full[ok] = fam.mean(eta)
            cols = fam.output_names
            if fam.is_classification:
                probs = (full if fam.kind.several_classes
                         else np.column_stack([1 - full[:, 0], full[:, 0]]))
                if type == "class":
                    codes = np.where(ok, np.nan_to_num(probs).argmax(axis=1), -1)
                    cat = pd.Categorical.from_codes(codes, categories=fam.levels)
                    return pd.Series(cat, index=index, name=fam.outputs[0])
                if type == "prob" or fam.kind.several_classes:
                    return pd.DataFrame(probs, index=index, columns=[str(v) for v in fam.levels])
        if full.shape[1] == 1:
            return pd.Series(full[:, 0], index=index, name=str(cols[0]))
        return pd.DataFrame(full, index=index, columns=[str(c) for c in cols])

    def fitted(self) -> pd.Series | pd.DataFrame:
        """Fitted means for the training rows (as R's ``fitted()``)."""
        return self.predict()

    def residuals(self, type: str = "deviance") -> pd.Series | pd.DataFrame:
        """One residual per training row, as R's ``residuals.glm``: ``"deviance"`` (the
        default), ``"pearson"``, ``"working"`` or ``"response"`` (a multinomial fit: only
        ``"response"``, one column per class)."""
        from .generics import residuals

        return residuals(self, type)

    @property
    def formula(self) -> str:
        """The formula the model was fitted with, as given."""
        return self.spec.formula

    def model_matrix(self, data: pd.DataFrame | None = None) -> pd.DataFrame:
        """The design on the user's scale with R's column names and the ``(Intercept)``
        column, for the training rows or the complete rows of ``data`` (R's
        ``model.matrix``)."""
        from .generics import model_matrix

        return model_matrix(self, data)

    def update(self, data: pd.DataFrame, formula: str | None = None,
               **changes: Any) -> DNNFit:
        """Refit on ``data`` with a changed formula and options, as R's ``update()``:
        ``". ~ . + hp"`` keeps the response and adds ``hp`` (``.`` on the left is the old
        response, on the right the old right-hand side); options not in ``changes`` are the
        ones this fit was made with.  A fit keeps only its design, so ``data`` is needed."""
        from ..fitting.dnn import dnn
        from .generics import updated_formula, updated_options

        return dnn(updated_formula(self.formula, formula), data,
                   **updated_options(self.options, changes))

    # -- broom-style tables -------------------------------------------------------------------
    def tidy(self, conf_level: float = 0.95) -> pd.DataFrame:
        """One row per parameter group.

        Without hidden layers the network is a GLM: one row per coefficient on the original
        scale of the design with broom's columns ``term, estimate, std.error, statistic,
        p.value, conf.low, conf.high`` (Wald, at ``conf_level``; see :meth:`confint`).  A
        multinomial fit has one block per non-reference class (column ``response``), the
        contrasts with the first class, as statsmodels' MNLogit.  With a penalty the inference
        columns are NaN: Wald standard errors do not apply to shrunken estimates.  Otherwise
        one row per design column with the norm of its outgoing first-layer weights
        (``norm``, on the standardised scale) and how many of them are non-zero — the inputs
        the network uses.
        """
        if not self.topology.layers:
            from .inference import tidy_frame

            return tidy_frame(self, conf_level)
        W = self.params[self.topology.input_kernel()][0]
        if W.ndim != 2 or W.shape[0] != self.spec.n_columns:
            return self._kernel_norms()  # inputs read as images or sequences
        rows = [{"layer": "input", "term": t, "column": c,
                 "norm": float(np.linalg.norm(W[j])), "nonzero": int((W[j] != 0).sum())}
                for j, (t, c) in enumerate(zip(self.spec.terms(), self.spec.names))]
        return pd.DataFrame(rows) if rows else pd.DataFrame(
            columns=["layer", "term", "column", "norm", "nonzero"])

    def _kernel_norms(self) -> pd.DataFrame:
        """One row per kernel (a convolution's weights do not belong to one input column)."""
        rows = [{"layer": key.split("/")[0], "term": key, "column": "",
                 "norm": float(np.linalg.norm(self.params[key][0])),
                 "nonzero": int((self.params[key][0] != 0).sum())}
                for key in self.topology.penalised_keys()]
        return pd.DataFrame(rows)

    def _glm_coefficients(self) -> pd.DataFrame:
        W = self.params[self.topology.output_key("kernel")][0]  # standardised inputs, link scale
        b = self.params[self.topology.output_key("bias")][0, 0]
        yscale = self.family.y_scale if self.family.standardised else np.ones(W.shape[1])
        ycenter = self.family.y_center if self.family.standardised else np.zeros(W.shape[1])
        slope = W / self.spec.scale[:, None] * yscale
        intercept = (b - (self.spec.center / self.spec.scale) @ W) * yscale + ycenter
        slope[self.record.aliased] = np.nan  # left out of the fit: R's NA coefficients
        outs = self.family.output_names
        rows = []
        for k, out in enumerate(outs):
            if self.spec.intercept:
                rows.append({"response": str(out), "term": "(Intercept)",
                             "estimate": intercept[k]})
            rows += [{"response": str(out), "term": c, "estimate": slope[j, k]}
                     for j, c in enumerate(self.spec.names)]
        frame = pd.DataFrame(rows)
        return frame.drop(columns="response") if len(outs) == 1 else frame

    def coef(self) -> pd.Series | pd.DataFrame:
        """GLM coefficients (only for networks without hidden layers); NaN for a column left
        out as a linear combination of the columns before it (R's NA, "not defined because
        of singularities")."""
        if self.topology.layers:
            raise OptionError("coef() is defined for networks without hidden layers (a GLM); "
                              "use tidy() for a network's input weights.")
        t = self._glm_coefficients()
        if "response" in t:
            wide = t.pivot(index="term", columns="response", values="estimate")
            return wide.loc[t["term"].unique(), t["response"].unique()]
        return pd.Series(t["estimate"].to_numpy(), index=t["term"], name="estimate")

    # -- inference (a GLM: hidden=()) ---------------------------------------------------------
    def vcov(self) -> pd.DataFrame:
        """The covariance of the coefficients on their original scale (R's ``vcov``): the
        inverse information matrix at the fitted means, times the dispersion (gaussian:
        deviance / df.residual; binomial, poisson: 1; multinomial: MNLogit's, one block per
        non-reference class).  Exact at the optimum (``optimizer="lbfgs"``); needs the training
        rows and an unpenalised fit without hidden layers."""
        from .inference import vcov_frame

        return vcov_frame(self)

    def confint(self, level: float = 0.95) -> pd.DataFrame:
        """Wald confidence intervals of the coefficients: t quantiles on df.residual for
        gaussian (as R's ``confint.lm``), normal quantiles otherwise (as R's
        ``confint.default``; R 4.2's ``confint()`` of a binomial or poisson ``glm`` profiles
        the likelihood instead, which gives slightly different, asymmetric intervals)."""
        from .inference import confint_frame

        return confint_frame(self, level)

    def loglik(self) -> float:
        """The log-likelihood at the fitted values (R's ``logLik``)."""
        from .inference import loglik

        return loglik(self)

    def aic(self) -> float:
        """Akaike's criterion, −2 logLik + 2 df (R's ``AIC``); a GLM without penalty only."""
        from .inference import aic

        return aic(self)

    def bic(self) -> float:
        """Schwarz's criterion, −2 logLik + log(n) df (R's ``BIC``); a GLM without penalty."""
        from .inference import bic

        return bic(self)

    def nobs(self) -> int:
        """The number of training rows used (R's ``nobs``)."""
        return self.record.n_obs

    def coef_table(self) -> pd.DataFrame:
        """:meth:`coef` as a long table: ``term``, ``estimate`` (and ``response``, one block
        per output or class: every class of a multinomial fit, as R's ``coef()`` shows)."""
        self.coef()  # the error for a network with hidden layers
        return self._glm_coefficients()

    def glance(self) -> pd.DataFrame:
        """One row of model-level statistics (broom's ``glance``)."""
        r = self.record
        row: dict[str, Any] = {
            "family": self.family.name, "nobs": r.n_obs, "n_parameters":
            self.topology.n_parameters(), "deviance": r.deviance,
            "null_deviance": r.null_deviance, "dev_explained": self.dev_explained,
            "epochs": r.epochs_run, "best_epoch": r.best_epoch or None,
        }
        row.update(self._likelihood_columns())
        for part, values in r.metrics.items():
            for k, v in values.items():
                if k not in ("deviance",):
                    row[f"{part}_{k}"] = v
        return pd.DataFrame([row])

    def _likelihood_columns(self) -> dict[str, Any]:
        """R's ``logLik``, ``AIC``, ``BIC``, ``df.null``, ``df.residual``; NaN where undefined
        (a network, a penalised fit, a loaded poisson fit without its training rows)."""
        from .inference import information_criteria

        return information_criteria(self)

    def augment(self, data: pd.DataFrame | None = None) -> pd.DataFrame:
        """A copy of ``data`` with ``.fitted`` (and ``.resid``, ``.pred_class``, ``.prob_*``)."""
        if data is None:
            raise DataError("augment() needs the data (a fit keeps only its design matrix); "
                            "pass the data frame, e.g. fit.augment(data).")
        if not isinstance(data, pd.DataFrame):
            raise DataError(f"augment() adds columns to a data frame; got "
                            f"{type(data).__name__}. For data with arrays use "
                            "fit.predict(data), which returns one value per observation.")
        out = data.copy()
        fitted = self.predict(data)
        if self.family.is_classification:
            out[".pred_class"] = self.predict(data, type="class").to_numpy()
            probs = self.predict(data, type="prob")
            for c in probs.columns:
                out[f".prob_{c}"] = probs[c].to_numpy()
            return out
        if isinstance(fitted, pd.Series):
            out[".fitted"] = fitted.to_numpy()
            col = self.spec.response_columns[0]
            if col in data and self.spec.response_transform is None:
                out[".resid"] = pd.to_numeric(data[col], errors="coerce").to_numpy() - \
                    fitted.to_numpy()
        else:
            for c in fitted.columns:
                out[f".fitted_{c}"] = fitted[c].to_numpy()
        return out

    @property
    def dev_explained(self) -> float:
        r = self.record
        return 1 - r.deviance / r.null_deviance if r.null_deviance > 0 else float("nan")

    # -- display ------------------------------------------------------------------------------
    # -- inference (a network: bootstrap=B) ---------------------------------------------------
    def effects(self, level: float = 0.95, per: str = "variable", variables: Any = None,
                by: Any = None, newdata: pd.DataFrame | None = None, hypothesis: Any = None,
                equivalence: Any = None):
        """Average marginal effects on the response scale, as marginaleffects'
        ``avg_slopes``/``avg_comparisons``: one row per input variable (numeric: the average
        derivative through every column built from it; factor: each level's average contrast
        with the reference, the rest at observed values), per class for a multinomial fit.
        ``variables`` chooses them, ``by`` averages per group of a column, ``newdata`` gives
        the rows to average over (default: the training rows), ``hypothesis`` (a number,
        ``"pairwise"``, ``"reference"``, ``"sequential"`` or an equation such as
        ``"b1 - b2 = 0"``) tests functions of the rows, ``equivalence=(low, high)`` adds the
        two one-sided tests.  Inference: the delta method for a GLM (``hidden=()``), the
        bootstrap for a network (``dnn(..., bootstrap=B)``), NaN otherwise.
        ``per="column"``: the table per design column.  See ``dlstat.results.variable_effects``
        and ``dlstat.results.effects``."""
        from .effects import effects

        return effects(self, level, per, variables, by, newdata, hypothesis, equivalence)

    def importance(self, newdata: pd.DataFrame | None = None, level: float = 0.95):
        """Permutation importance per formula term: the increase of the mean deviance when the
        term's columns are permuted, on each bootstrap replicate's out-of-bag rows (or on
        ``newdata``), with its bootstrap uncertainty."""
        from .effects import importance

        return importance(self, newdata, level)

    def partial_dependence(self, term: str, kind: str = "pdp", grid: int = 20,
                           level: float = 0.95):
        """Partial dependence (``kind="pdp"``), individual curves (``"ice"``) or accumulated
        local effects (``"ale"``) of a design column or factor, with bootstrap percentile
        bands; ``.plot()`` draws it.  See ``dlstat.results.dependence``."""
        from .dependence import partial_dependence

        return partial_dependence(self, term, kind, grid, level)

    def attributions(self, newdata: Any, method: str = "integrated_gradients",
                     target: Any = None, scale: str = "response", baseline: Any = None,
                     steps: int = 50):
        """Attributions of the output for ``target`` (a class name or index; default each
        row's predicted class) on ``scale`` (``"response"``: probability or mean; ``"link"``)
        to each input value of ``newdata``: ``method="integrated_gradients"`` (from
        ``baseline``, default zeros, trapezoid rule on ``steps`` intervals),
        ``"saliency"`` (the gradient) or ``"gradient_x_input"``; ``.values`` has the input's
        shape.  See ``dlstat.results.attributions``."""
        from .attributions import attributions

        return attributions(self, newdata, method, target, scale, baseline, steps)

    def filters(self):
        """The first convolution's filters as position weight matrices (``.plot()``: logos).
        See ``dlstat.results.logos``."""
        from .logos import filters

        return filters(self)

    def calibration(self, newdata: pd.DataFrame | None = None, bins: int = 10,
                    strategy: str = "uniform"):
        """A classifier's reliability curve and expected calibration error, on ``newdata``
        (else the test rows, else the validation rows, else the training rows), in ``bins``
        equal-width (``"uniform"``) or equal-count (``"quantile"``) bins; ``.plot()`` draws
        the reliability diagram.  See ``dlstat.results.calibration``."""
        from .calibration import calibration

        return calibration(self, newdata, bins, strategy)

    def summary(self) -> Summary:
        """An lm-style summary: tables first (``.tables``), text when printed, HTML in notebooks."""
        from .summary import fit_summary

        return fit_summary(self)

    def __repr__(self) -> str:
        r = self.record
        return (f"<DNNFit {self.spec.formula!r}: {self.family.name}, "
                f"{self.topology.n_parameters()} parameters, {r.n_obs} obs, "
                f"deviance {r.deviance:.4g} ({100 * self.dev_explained:.1f}% explained)>")

    def plot(self, ax=None):
        """Training (and validation) loss by epoch; returns the matplotlib Figure."""
        from .plots import plot_history

        return plot_history(self.history, ax=ax, title=self.spec.formula)

    @property
    def keras_model(self):
        """A plain Keras model computing the same predictions from the raw design matrix
        (``fit.design_matrix(data)``)."""
        from ..engine.keras_export import to_keras

        return to_keras(self)

    def design_matrix(self, data: pd.DataFrame) -> pd.DataFrame:
        """The unstandardised design matrix of ``data`` (complete rows), as the model sees it."""
        X, ok = self.spec.design(data, unseen=self.options.unseen)
        raw = X * self.spec.scale + self.spec.center
        return pd.DataFrame(raw, index=data.index[ok], columns=self.spec.names)

    def save(self, path: str, drop_bootstrap: bool = False) -> None:
        """Write the model to one file (JSON spec + weights; no pickle); a GLM's covariance
        and log-likelihood go with it, so the loaded model keeps its standard errors.

        A model file holds one network: a fit with bootstrap replicates is refused unless
        ``drop_bootstrap=True``, which writes the full-data network alone.  Writing is atomic
        (a temporary file beside ``path``, renamed over it): a failed save leaves a file
        already at ``path`` unchanged.  A ``path`` that is a directory, or whose directory is
        missing or not writable, raises :class:`ModelFileError`."""
        from .inference import inference_to_save

        if self.bootstrap is not None and drop_bootstrap is not True:
            raise OptionError(
                f"this fit holds {self.bootstrap.size} bootstrap replicates, which a model file "
                "does not keep (their intervals also need the training rows, which a file never "
                "holds). Save the full-data network alone with save(path, drop_bootstrap=True), "
                "or refit without bootstrap= before saving.")
        options = dataclasses.replace(self.options, bootstrap=None)
        write(ModelParts(self.spec, self.family, self.topology, self.params, options,
                         self.history, self.record, self.call, inference_to_save(self)), path)


def load(path: str) -> DNNFit:
    """Read a model written by ``fit.save()`` (in Python or R's ``save_dnn()``).

    A damaged or edited file is refused before anything in it is evaluated: the file is
    checked as strictly as a typed formula, and its sizes before anything is decompressed or
    allocated (a file may ask for at most 16 times its size plus 64 MiB of memory).

    Parameters
    ----------
    path : str
        The model file.

    Returns
    -------
    DNNFit
        The fit, ready to ``predict()`` and ``summary()`` (without its training data).

    Raises
    ------
    ModelFileError
        A file that is not a dlstat model, or one that was damaged or edited.

    Examples
    --------
    >>> import os, tempfile
    >>> import dlstat as dl
    >>> mtcars = dl.datasets.load("mtcars")
    >>> fit = dl.dnn("mpg ~ wt", mtcars, hidden=(), optimizer="lbfgs", verbose=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "mpg.dlstat")
    >>> fit.save(path)
    >>> bool((dl.load(path).predict(mtcars) == fit.predict(mtcars)).all())
    True
    """
    p = read(path)
    return DNNFit(p.spec, p.family, p.topology, p.params, p.options, p.history, p.record,
                  p.call, saved_inference=p.inference)
