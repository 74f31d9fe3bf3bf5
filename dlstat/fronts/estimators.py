"""scikit-learn estimators: :class:`DNNRegressor` and :class:`DNNClassifier`.

Both are thin wrappers around :func:`dlstat.dnn`, so a network fitted through scikit-learn is
the very network ``dnn()`` fits with the same options (same design standardisation, same
initialisation, same seed, same training loop).  They work in two modes:

* ``formula=None`` (the default, scikit-learn style): ``fit(X, y)`` with array-likes.  ``X`` is
  validated as a numeric matrix and given the columns ``x0 … x{p-1}``; the response is ``y``
  (or ``y0 … y{k-1}`` combined with ``cbind()`` for a 2-D ``y`` in the regressor) and the model
  is ``dnn("y ~ .", frame)``.
* ``formula="y ~ ..."``: ``fit(df)`` takes a data frame holding the response and the predictors
  (``y`` is ignored) and ``predict(df)`` takes a data frame; factors, transforms and missing
  values are handled as ``dnn()`` handles them (rows that cannot be predicted give NaN).

The fitted :class:`~dlstat.DNNFit` is ``model_`` (``summary()``, ``tidy()``, ``plot()`` …).
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..errors import DataError, OptionError
from ..families.response import class_family
from ..options import CLASSIFIER, REGRESSOR, option, options_for
from .arrays import array_of, as_rows, base_row_shape, row_shape, with_reshape

# The options passed through to dnn(); tests/test_options.py holds the explicit signatures
# below (scikit-learn reads them) to the options table.
_DNN_OPTIONS = tuple(o.name for o in options_for(CLASSIFIER))
_PARAMS_DOC = """
    Parameters
    ----------
    formula : str or None, default=None
        None: ``fit(X, y)`` with arrays (the model is ``y ~ .`` on columns ``x0, x1, …``).
        A formula such as ``"mpg ~ wt + factor(cyl)"``: ``fit(df)`` and ``predict(df)`` take
        data frames and ``y`` is ignored.
    hidden, activation, architecture, dropout, batchnorm, penalty, mixture, max_norm,
    optimizer, learning_rate, learning_rate_decay, batch_size, epochs, validation,
    early_stopping, seed, verbose, base, upto, freeze
        As in :func:`dlstat.dnn`, with the same defaults.  ``seed=None`` is a fixed seed, so
        fitting twice gives the same network.
"""


class _DNNBase(BaseEstimator):
    """Storage of the options and the fitting/prediction plumbing shared by both estimators."""

    def __init__(self, formula=None, *, hidden=(32, 16), activation="relu", architecture=None,
                 dropout=0.0, batchnorm=False, penalty=0.0, mixture=0.0, max_norm=None,
                 optimizer="adam", learning_rate=None, learning_rate_decay=1.0,
                 batch_size=32, epochs=None, validation=None, early_stopping=None, seed=None,
                 verbose=1, base=None, upto=None, freeze=True):
        self.formula = formula
        self.hidden = hidden
        self.activation = activation
        self.architecture = architecture
        self.dropout = dropout
        self.batchnorm = batchnorm
        self.penalty = penalty
        self.mixture = mixture
        self.max_norm = max_norm
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.learning_rate_decay = learning_rate_decay
        self.batch_size = batch_size
        self.epochs = epochs
        self.validation = validation
        self.early_stopping = early_stopping
        self.seed = seed
        self.verbose = verbose
        self.base = base
        self.upto = upto
        self.freeze = freeze

    # -- tags ---------------------------------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.formula is not None:
            # A data frame carries the response, factors and missing values (dnn() handles them).
            tags.target_tags.required = False
            tags.input_tags.categorical = True
            tags.input_tags.string = True
            tags.input_tags.allow_nan = True
        return tags

    # -- fitting ------------------------------------------------------------------------------
    def _options(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _DNN_OPTIONS}

    def _fit_dnn(self, formula: str, data: pd.DataFrame, family: str,
                 input_shape: tuple[int, ...] | None = None, sample_weight: Any = None,
                 family_options: dict[str, Any] | None = None):
        options = self._options()
        # the regressor's link and family parameters (theta, var_power), when given
        options.update({k: v for k, v in (family_options or {}).items() if v is not None})
        if sample_weight is not None:  # dnn()'s prior weights, checked there
            options["weights"] = _sample_weights(sample_weight, len(data))
        if input_shape is not None and self.base is None:
            # Image or sequence rows: the network reads them back (a base's layers already do).
            options["architecture"] = with_reshape(self.architecture, input_shape)
        model = self._train(formula, data, {"family": family, **options})
        self.model_ = model
        self.n_iter_ = int(model.record.epochs_run)
        return model

    def _train(self, formula: str, data: pd.DataFrame, options: dict[str, Any]):
        """The fitted network of ``formula`` on ``data`` with ``options``."""
        from ..fitting.dnn import dnn

        return dnn(formula, data, **options)

    def _check_frame(self, X: Any, what: str) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            raise ValueError(
                f"{type(self).__name__}(formula={self.formula!r}).{what}() takes a pandas "
                f"DataFrame holding the formula's columns; got {type(X).__name__}. Use "
                "formula=None to work with arrays."
            )
        return X

    def _set_formula_features(self) -> None:
        names = list(self.model_.spec.variables)
        self.n_features_in_ = len(names)
        self.feature_names_in_ = np.asarray(names, dtype=object)

    # -- arrays <-> data frames ---------------------------------------------------------------
    @staticmethod
    def _x_frame(X: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])

    def _design_input(self, X: Any, what: str):
        """Validated input for prediction: a data frame the fitted model can read."""
        check_is_fitted(self)
        if self.formula is not None:
            return self._check_frame(X, what)
        X = validate_data(self, self._prediction_rows(X), reset=False, dtype=np.float64)
        return self._x_frame(X)

    def _fit_rows(self, X: Any) -> Any:
        """At fit: an image or sequence array as rows; ``input_shape_`` keeps its row shape
        (None for a matrix)."""
        array = array_of(X)
        owner = type(self).__name__
        if array is not None and self.base is not None:
            self.input_shape_ = base_row_shape(array, self.base, self.upto, owner)
        else:
            self.input_shape_ = None if array is None else row_shape(array, self.architecture,
                                                                     owner)
        return X if array is None else array.reshape(len(array), -1)

    def _prediction_rows(self, X: Any) -> Any:
        array = array_of(X)
        if array is None:
            return X
        if getattr(self, "input_shape_", None) is None:
            raise DataError(f"{type(self).__name__} was fitted on a matrix [n, p]; it received "
                            f"an array of shape {list(array.shape)}. Pass a 2-D array.")
        return as_rows(array, self.input_shape_, type(self).__name__)

    # -- scoring in formula mode --------------------------------------------------------------
    def _formula_truth(self, X: pd.DataFrame) -> pd.DataFrame:
        """The response columns of ``X`` as the model sees them (transform applied)."""
        spec = self.model_.spec
        missing = [c for c in spec.response_columns if c not in X.columns]
        if missing:
            raise ValueError(
                f"score() needs y, or a data frame holding the response column(s) {missing} of "
                f"formula {self.formula!r}."
            )
        return spec.response(X)

    def _formula_score(self, X, y, sample_weight, metric) -> float:
        X = self._check_frame(X, "score")
        pred = self.predict(X)
        if y is None:
            truth = self._formula_truth(X)
            y = truth.iloc[:, 0] if truth.shape[1] == 1 else truth
        y = y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else np.asarray(y)
        ok = ~_missing_rows(pred) & ~_missing_rows(y)
        if not ok.any():
            raise ValueError("score(): no row has both an observed response and a prediction.")
        sw = None if sample_weight is None else np.asarray(sample_weight)[ok]
        return float(metric(y[ok], pred[ok], sample_weight=sw))


def _sample_weights(sample_weight: Any, n_rows: int) -> np.ndarray:
    """``sample_weight`` as a float vector of one weight per row (a copy; never the caller's
    array), or a ``ValueError`` naming the shape expected."""
    try:
        weights = np.array(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"sample_weight must be numbers, one per row; got "
                        f"{str(sample_weight)[:80]!r}.") from None
    if weights.shape != (n_rows,):
        raise DataError(f"sample_weight must have shape ({n_rows},), one weight per row of X; "
                        f"got shape {weights.shape}. Pass a 1-D array as long as X.")
    return weights


def _missing_rows(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    missing = pd.isna(a)
    return missing.any(axis=1) if a.ndim == 2 else missing


class DNNRegressor(RegressorMixin, _DNNBase):
    __doc__ = """A neural-network regressor fitted by :func:`dlstat.dnn` (scikit-learn API).

    Gaussian (the default, ``R^2`` score), Poisson (``family="poisson"``, counts), Gamma,
    inverse Gaussian or quasi-Poisson responses; a 2-D ``y`` fits several responses at once
    (``cbind``).
    """ + _PARAMS_DOC + """    family : {"gaussian", "poisson", "negative_binomial", "gamma", "inverse_gaussian", \
"tweedie", "quasipoisson"}, default="gaussian"
    link : str or None, default=None
        The link function (one of the family's); None: the family's default, as R's.
    theta : float or None, default=None
        The negative binomial's θ, fixed; None: estimated by maximum likelihood (glm.nb).
    var_power : float or None, default=None
        The Tweedie family's variance power, between 1 and 2 (needed with "tweedie").

    Attributes
    ----------
    model_ : DNNFit
        The fitted model (``summary()``, ``tidy()``, ``glance()``, ``plot()``, ``save()`` …).
    n_features_in_, feature_names_in_ : the inputs seen in ``fit``.
    n_iter_ : int
        Epochs run.
    n_outputs_ : int
        Number of responses.
    """

    def __init__(self, formula=None, *, family="gaussian", link=None, theta=None,
                 var_power=None, hidden=(32, 16),
                 activation="relu",
                 architecture=None, dropout=0.0, batchnorm=False, penalty=0.0, mixture=0.0,
                 max_norm=None, optimizer="adam", learning_rate=None, learning_rate_decay=1.0,
                 batch_size=32, epochs=None, validation=None, early_stopping=None, seed=None,
                 verbose=1, base=None, upto=None, freeze=True):
        super().__init__(
            formula, hidden=hidden, activation=activation, architecture=architecture,
            dropout=dropout, batchnorm=batchnorm, penalty=penalty, mixture=mixture,
            max_norm=max_norm, optimizer=optimizer, learning_rate=learning_rate,
            learning_rate_decay=learning_rate_decay, batch_size=batch_size, epochs=epochs,
            validation=validation, early_stopping=early_stopping, seed=seed, verbose=verbose,
            base=base, upto=upto, freeze=freeze)
        self.family = family
        self.link = link
        self.theta = theta
        self.var_power = var_power

    def _family_options(self) -> dict[str, Any]:
        return {"link": self.link, "theta": self.theta, "var_power": self.var_power}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y=None, sample_weight=None):
        """Fit the network; returns ``self``.  With a formula, ``X`` is a data frame and ``y``
        is ignored.  ``sample_weight`` (one non-negative number per row) are dnn()'s prior
        weights: a row of weight 2 counts as that row twice."""
        families = option("family", REGRESSOR).allowed
        if not isinstance(self.family, str) or self.family not in families:
            raise OptionError(f"DNNRegressor's family must be {' or '.join(map(repr, families))}"
                              f"; got {self.family!r}. Use DNNClassifier for classes.")
        if self.formula is not None:
            self._fit_dnn(self.formula, self._check_frame(X, "fit"), self.family,
                          sample_weight=sample_weight, family_options=self._family_options())
            self._set_formula_features()
            self.n_outputs_ = len(self.model_.spec.response_columns)
            self._y_2d_ = self.n_outputs_ > 1
            return self
        X, y = validate_data(self, self._fit_rows(X), y, multi_output=True, y_numeric=True,
                             dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        Y = y.reshape(len(y), -1)
        frame = self._x_frame(X)
        if y.ndim == 2:
            names = [f"y{k}" for k in range(Y.shape[1])]
            formula = f"cbind({', '.join(names)}) ~ ."
        else:
            names, formula = ["y"], "y ~ ."
        for k, name in enumerate(names):
            frame[name] = Y[:, k]
        self._fit_dnn(formula, frame, self.family, self.input_shape_, sample_weight,
                      family_options=self._family_options())
        self.n_outputs_ = Y.shape[1]
        self._y_2d_ = y.ndim == 2  # a column vector y gives column-vector predictions
        return self

    def predict(self, X):
        """Predicted means: shape ``(n,)``, or ``(n, k)`` for a 2-D ``y``/``cbind()``."""
        frame = self._design_input(X, "predict")
        out = self.model_.predict(frame).to_numpy(dtype=np.float64)
        if self._y_2d_ and out.ndim == 1:
            out = out[:, None]
        return out

    def score(self, X, y=None, sample_weight=None):
        """``R^2`` of the predictions.  With a formula, ``y`` defaults to the response column(s)
        of ``X``; rows without a prediction or a response are left out."""
        if self.formula is None:
            return super().score(X, y, sample_weight=sample_weight)
        return self._formula_score(X, y, sample_weight, r2_score)


class DNNClassifier(ClassifierMixin, _DNNBase):
    __doc__ = """A neural-network classifier fitted by :func:`dlstat.dnn` (scikit-learn API).

    Two classes fit ``family="binomial"``, more fit ``family="multinomial"``.  Labels may be of
    any type (strings, numbers, booleans); ``predict`` returns them, ``predict_proba`` has one
    column per class in ``classes_`` order and ``decision_function`` is the link scale (the
    logit of the second class for two classes, one column per class otherwise).
    """ + _PARAMS_DOC + """
    Attributes
    ----------
    classes_ : ndarray
        The class labels, sorted (with a formula: the response's levels in their order).
    model_ : DNNFit
        The fitted model (``summary()``, ``tidy()``, ``glance()``, ``plot()``, ``save()`` …).
    n_features_in_, feature_names_in_ : the inputs seen in ``fit``.
    n_iter_ : int
        Epochs run.
    """

    def fit(self, X, y=None, sample_weight=None):
        """Fit the network; returns ``self``.  With a formula, ``X`` is a data frame and ``y``
        is ignored.  ``sample_weight`` (one non-negative number per row) are dnn()'s prior
        weights: a row of weight 2 counts as that row twice."""
        if self.formula is not None:
            return self._fit_formula(self._check_frame(X, "fit"), sample_weight)
        X, y = validate_data(self, self._fit_rows(X), y, dtype=np.float64)
        check_classification_targets(y)
        classes, codes = np.unique(y, return_inverse=True)
        _require_two_classes(classes)
        frame = self._x_frame(X)
        # Codes 0..K-1 as a factor: the family's levels follow classes_ exactly.
        frame["y"] = pd.Categorical.from_codes(codes.ravel(), categories=range(len(classes)))
        self._fit_dnn("y ~ .", frame, class_family(len(classes)), self.input_shape_,
                      sample_weight)
        self.classes_ = classes
        return self

    def _fit_formula(self, data: pd.DataFrame, sample_weight: Any = None):
        from ..formula import parse_formula

        parsed = parse_formula(self.formula, [str(c) for c in data.columns])
        if len(parsed.response_columns) != 1 or parsed.response_transform:
            raise ValueError(f"DNNClassifier needs one class column left of '~'; formula "
                             f"{self.formula!r} has another response.")
        observed = pd.unique(data[parsed.response_columns[0]].dropna())
        _require_two_classes(observed)
        model = self._fit_dnn(self.formula, data, class_family(len(observed)),
                              sample_weight=sample_weight)
        self.classes_ = np.asarray(model.family.levels)
        self._set_formula_features()
        return self

    def predict_proba(self, X):
        """Class probabilities, shape ``(n, n_classes)``, columns in ``classes_`` order."""
        frame = self._design_input(X, "predict_proba")
        return self.model_.predict(frame, type="prob").to_numpy(dtype=np.float64)

    def predict(self, X):
        """Predicted labels (the most probable class), of the type of ``classes_``."""
        probs = self.predict_proba(X)
        missing = np.isnan(probs).any(axis=1)
        labels = self.classes_[np.nan_to_num(probs, nan=0.0).argmax(axis=1)]
        if missing.any():  # only with a formula: rows that cannot be predicted
            labels = labels.astype(object)
            labels[missing] = np.nan
        return labels

    def decision_function(self, X):
        """Link-scale scores: the logit of ``classes_[1]`` (two classes, shape ``(n,)``) or one
        softmax score per class (shape ``(n, n_classes)``)."""
        frame = self._design_input(X, "decision_function")
        eta = self.model_.predict(frame, type="link").to_numpy(dtype=np.float64)
        return eta[:, 0] if eta.ndim == 2 and len(self.classes_) == 2 else eta

    def score(self, X, y=None, sample_weight=None):
        """Accuracy.  With a formula, ``y`` defaults to the response column of ``X``; rows
        without a prediction or a response are left out."""
        if self.formula is None:
            return super().score(X, y, sample_weight=sample_weight)
        return self._formula_score(X, y, sample_weight, accuracy_score)


def _require_two_classes(classes) -> None:
    if len(classes) < 2:
        raise ValueError(
            f"DNNClassifier needs at least two classes to learn; the response has "
            f"{'one class' if len(classes) == 1 else 'no class'} ({list(classes)}). Check the "
            "labels, or predict a constant without a model."
        )


# The tuning parameters of the CV estimators, before the network's own (and their defaults).
_TUNING = (("grid", None), ("n_random", None), ("folds", 5), ("choice", "best"))
DEFAULT_GRID = {"learning_rate": [0.003, 0.01, 0.03], "penalty": [0.0, 0.01]}
_TUNING_DOC = """
    grid : dict or None, default=None
        As :func:`dlstat.tune_dnn`'s: option names mapped to the values to try (an option
        in it replaces the parameter of that name).  None: ``{"learning_rate": [0.003, 0.01,
        0.03], "penalty": [0, 0.01]}``.
    n_random : int or None, default=None
        Draw this many configurations from ``grid`` (lists and ranges) instead.
    folds : int, default=5
        Folds of the cross-validation inside ``fit``.
    choice : {"best", "1se"}, default="best"
        The configuration refitted on all the rows: the best mean held-out deviance, or the
        simplest within one standard error of it.
"""
_CV_ATTRIBUTES = """
    Attributes
    ----------
    best_params_ : dict
        The tuned options of the configuration refitted (``choice``).
    cv_results_ : dict of ndarray
        One entry per column of the tuning table (tuned options, ``<metric>_mean``,
        ``<metric>_se``) and ``params`` (each configuration's options).
    tuning_ : TuneResult
        The whole tuning result (``plot()``, ``cv(i)``, ``summary()``).
    model_ : DNNFit
        The chosen configuration fitted on all the rows.
"""


class _Tuning:
    """Cross-validated tuning inside ``fit``: :func:`dlstat.tune_dnn` over ``grid``, then the
    chosen configuration refitted on all the rows (as ``LogisticRegressionCV``)."""

    def _train(self, formula: str, data: pd.DataFrame, options: dict[str, Any]):
        from ..fitting.tune import tune_dnn

        grid = DEFAULT_GRID if self.grid is None else self.grid
        if self.choice not in ("best", "1se"):
            raise OptionError(f"choice must be 'best' or '1se'; got {self.choice!r}.")
        if len(data) < self.folds:  # scikit-learn's words for it
            raise DataError(f"{type(self).__name__} cross-validates in {self.folds} folds, "
                            f"which needs at least {self.folds} rows; got n_samples="
                            f"{len(data)}. Pass more rows, or fewer folds.")
        fixed = {k: v for k, v in options.items() if not isinstance(grid, dict) or k not in grid}
        tuning = tune_dnn(formula, data, grid=grid, n_random=self.n_random, folds=self.folds,
                          **fixed)
        self.tuning_ = tuning
        self.best_params_ = tuning.best_params if self.choice == "best" else tuning.params_1se
        self.cv_results_ = {**{c: tuning.table[c].to_numpy() for c in tuning.table.columns},
                            "params": [dict(c) for c in tuning.configurations]}
        return tuning.refit(self.choice)


def _with_tuning(base: type) -> Any:
    """``base.__init__`` with the tuning parameters in front of the network's (scikit-learn
    reads an estimator's parameters from its ``__init__`` signature)."""
    own = inspect.signature(base.__init__)
    params = list(own.parameters.values())
    tuning = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
              for name, default in _TUNING]
    signature = own.replace(parameters=[*params[:2], *tuning, *params[2:]])

    def __init__(self, formula=None, **kwargs):
        for name, default in _TUNING:
            setattr(self, name, kwargs.pop(name, default))
        base.__init__(self, formula, **kwargs)

    __init__.__signature__ = signature
    return __init__


class DNNRegressorCV(_Tuning, DNNRegressor):
    __doc__ = """:class:`DNNRegressor` whose options are tuned by cross-validation in ``fit``
    (:func:`dlstat.tune_dnn`, every configuration × fold in as few stacks as shapes allow),
    then refitted on all the rows.

    Parameters
    ----------""" + _TUNING_DOC + """    others
        As :class:`DNNRegressor`.
""" + _CV_ATTRIBUTES
    __init__ = _with_tuning(DNNRegressor)


class DNNClassifierCV(_Tuning, DNNClassifier):
    __doc__ = """:class:`DNNClassifier` whose options are tuned by cross-validation in
    ``fit`` (:func:`dlstat.tune_dnn`), then refitted on all the rows.

    Parameters
    ----------""" + _TUNING_DOC + """    others
        As :class:`DNNClassifier`.
""" + _CV_ATTRIBUTES
    __init__ = _with_tuning(DNNClassifier)


__all__ = ["DNNClassifier", "DNNClassifierCV", "DNNRegressor", "DNNRegressorCV"]
