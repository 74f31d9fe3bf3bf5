"""Tests for dlstat.fronts.estimators: DNNRegressor and DNNClassifier under scikit-learn.

Every network here has one hidden layer of 16 units (``SMALL``) so that TensorFlow traces few
training graphs (one per family); the whole file runs in well under two minutes on 2 cores.
"""

from __future__ import annotations

import dataclasses
import inspect
import pickle
import warnings
from functools import partial

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.datasets import make_blobs, make_regression
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import NotFittedError, check_is_fitted

import dlstat as dl
from dlstat.fronts.estimators import DNNClassifier, DNNRegressor
from dlstat.options import FitOptions

# Small and quick, yet enough for check_regressors_train (R^2 > 0.5) and
# check_classifiers_train (accuracy > 0.83).
SMALL = dict(hidden=(16,), learning_rate=0.01, epochs=50)


def _check_name(check) -> str:
    while isinstance(check, partial):
        check = check.func
    return getattr(check, "__name__", repr(check))


# -- scikit-learn's own estimator checks ------------------------------------------------------
# One expected failure: sample weights are exactly repeated rows in the objective, but the
# engine trains in float32, so a weighted and a repeated fit agree to about 1e-7 relative, not
# to the check's rtol of 1e-7 (tests/test_weights.py holds the equivalence at float32 precision).
FLOAT32 = {"check_sample_weight_equivalence_on_dense_data":
           "float32 training: weighted and repeated fits agree to ~1e-7 relative only"}


@parametrize_with_checks([DNNRegressor(**SMALL), DNNClassifier(**SMALL)],
                         expected_failed_checks=lambda estimator: FLOAT32)
def test_sklearn_estimator_checks(estimator, check, monkeypatch):
    if _check_name(check) == "check_array_api_input":
        # The check skips itself unless this variable is set; with it, it runs (NumPy inputs
        # under array-API dispatch must give the same results).
        monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    check(estimator)


# -- the estimators are dnn() ------------------------------------------------------------------
@pytest.mark.parametrize("cls", [DNNRegressor, DNNClassifier])
def test_defaults_are_dnn_defaults(cls):
    est = cls()
    defaults = {f.name: f.default for f in dataclasses.fields(FitOptions)}
    params = est.get_params()
    for name, value in params.items():
        if name == "formula":
            assert value is None
        elif name == "family":
            assert value == "gaussian"
        else:
            assert value == defaults[name], name
    # __init__ only stores its arguments (keyword-only apart from the formula)
    sig = inspect.signature(cls.__init__)
    assert [p for p in sig.parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD][1:] == \
        [sig.parameters["formula"]]
    assert not hasattr(est, "model_")


def _regression(n=120, p=3, seed=0):
    X, y = make_regression(n_samples=n, n_features=p, noise=5.0, random_state=seed)
    return X, y


def test_regressor_is_dnn_on_a_frame():
    X, y = _regression()
    est = DNNRegressor(**SMALL, penalty=0.01).fit(X, y)
    frame = pd.DataFrame(X, columns=["x0", "x1", "x2"]).assign(y=y)
    fit = dl.dnn("y ~ .", frame, **SMALL, penalty=0.01)
    np.testing.assert_array_equal(est.predict(X), fit.predict(frame).to_numpy())
    assert isinstance(est.model_, dl.DNNFit)
    assert est.model_.family.name == "gaussian"
    assert est.n_features_in_ == 3
    assert est.n_iter_ == 50
    assert est.score(X, y) > 0.9


def test_validation_and_early_stopping_pass_through():
    X, y = _regression(n=100)
    est = DNNRegressor(**SMALL, validation=0.2, early_stopping=3).fit(X, y)
    assert est.model_.record.n_validation == 20
    assert est.model_.record.n_obs == 80
    assert 1 <= est.n_iter_ <= 50
    assert "val_loss" in est.model_.history


def test_regressor_two_dimensional_y_and_poisson():
    X, y = _regression()
    Y = np.column_stack([y, -2 * y + 1])
    est = DNNRegressor(**SMALL).fit(X, Y)
    assert est.predict(X).shape == (len(X), 2) and est.n_outputs_ == 2
    assert est.model_.spec.response_columns == ["y0", "y1"]
    assert est.predict(X).dtype == np.float64
    # a column vector stays a column vector and gives the 1-D fit's numbers
    col = DNNRegressor(**SMALL).fit(X, y[:, None]).predict(X)
    assert col.shape == (len(X), 1)
    np.testing.assert_allclose(col[:, 0], DNNRegressor(**SMALL).fit(X, y).predict(X))
    counts = np.random.default_rng(1).poisson(np.exp(0.3 * X[:, 0] + 1))
    pois = DNNRegressor(family="poisson", **SMALL).fit(X, counts)
    assert pois.model_.family.name == "poisson"
    assert (pois.predict(X) > 0).all()


def test_classifier_labels_keep_their_type():
    X, y = make_blobs(n_samples=90, centers=3, random_state=0)
    names = np.array(["setosa", "versicolor", "virginica"], dtype=object)[y]
    clf = DNNClassifier(**SMALL).fit(X, names)
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    pred = clf.predict(X)
    assert pred.dtype == object and set(pred) <= set(clf.classes_)
    assert clf.score(X, names) > 0.9
    proba = clf.predict_proba(X)
    assert proba.shape == (90, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], pred)
    np.testing.assert_array_equal(clf.classes_[clf.decision_function(X).argmax(axis=1)], pred)
    assert clf.model_.family.name == "multinomial"

    # two classes: binomial, decision_function is the logit of classes_[1]
    Xb, yb = X[y < 2], np.where(y[y < 2] == 1, "yes", "no")
    binary = DNNClassifier(**SMALL).fit(Xb, yb)
    assert binary.model_.family.name == "binomial"
    assert list(binary.classes_) == ["no", "yes"]
    logit = binary.decision_function(Xb)
    assert logit.shape == (len(Xb),)
    np.testing.assert_allclose(binary.predict_proba(Xb)[:, 1], 1 / (1 + np.exp(-logit)))
    np.testing.assert_array_equal(binary.predict(Xb), np.where(logit > 0, "yes", "no"))

    # integer labels come back as integers, in classes_ order
    ints = np.array([10, 20, 30])[y]
    clf_int = DNNClassifier(**SMALL).fit(X, ints)
    np.testing.assert_array_equal(clf_int.classes_, [10, 20, 30])
    assert clf_int.predict(X).dtype == ints.dtype


def test_classifier_refuses_one_class_and_continuous_targets():
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match="class"):
        DNNClassifier(**SMALL).fit(X, np.ones(20))
    with pytest.raises(ValueError, match="Unknown label type"):
        DNNClassifier(**SMALL).fit(X, np.linspace(0, 1, 20))


def test_bad_options_fail_at_fit_not_init():
    X, y = _regression(n=30)
    est = DNNRegressor(hidden="wide", family="binomial")  # stored without complaint
    with pytest.raises(ValueError, match="gaussian' or 'poisson"):
        est.fit(X, y)
    with pytest.raises(TypeError, match="hidden"):
        est.set_params(family="gaussian").fit(X, y)
    with pytest.raises(ValueError, match="early_stopping"):
        DNNRegressor(early_stopping=5).fit(X, y)


def test_not_fitted():
    with pytest.raises(NotFittedError):
        DNNRegressor().predict(np.zeros((2, 2)))
    with pytest.raises(NotFittedError):
        DNNClassifier().predict_proba(np.zeros((2, 2)))


# -- scikit-learn machinery --------------------------------------------------------------------
def test_pipeline_with_scaler():
    X, y = _regression()
    X = X * [1, 100, 1e4] + [0, 50, -3e3]
    pipe = Pipeline([("scale", StandardScaler()), ("dnn", DNNRegressor(**SMALL))]).fit(X, y)
    assert pipe.score(X, y) > 0.9
    assert pipe.named_steps["dnn"].n_features_in_ == 3


def test_grid_search_over_penalty():
    X, y = _regression()
    y = (y - y.mean()) / y.std()  # the penalty's scale does not then depend on sd(y)
    grid = GridSearchCV(DNNRegressor(**SMALL), {"penalty": [0.0, 0.01, 10.0]}, cv=3).fit(X, y)
    assert grid.best_params_["penalty"] in (0.0, 0.01)
    scores = grid.cv_results_["mean_test_score"]
    assert scores[2] < min(scores[:2])  # a huge penalty shrinks the network to the mean
    assert grid.best_estimator_.penalty == grid.best_params_["penalty"]
    assert grid.best_estimator_.predict(X[:5]).shape == (5,)


def test_clone_gives_an_unfitted_copy_with_the_same_options():
    est = DNNClassifier("Species ~ .", **SMALL, penalty=0.1).fit(dl.datasets.load("iris"))
    copy = clone(est)
    assert copy.get_params() == est.get_params()
    with pytest.raises(NotFittedError):
        check_is_fitted(copy)
    assert is_classifier(copy) and is_regressor(DNNRegressor())


def test_cross_val_score_in_two_processes():
    X, y = make_blobs(n_samples=120, centers=2, cluster_std=3.0, random_state=1)
    clf = DNNClassifier(**SMALL)
    serial = cross_val_score(clf, X, y, cv=3)
    parallel = cross_val_score(clf, X, y, cv=3, n_jobs=2)
    assert serial.mean() > 0.7
    # seed=None is a fixed seed: the worker processes fit the same networks
    np.testing.assert_allclose(parallel, serial)


def test_pickle_and_joblib_round_trip(tmp_path):
    X, y = _regression()
    est = DNNRegressor(**SMALL).fit(X, y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    joblib.dump(est, tmp_path / "est.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "est.joblib").predict(X), est.predict(X))


# -- formula mode ------------------------------------------------------------------------------
def test_formula_classifier_on_iris():
    iris = dl.datasets.load("iris")
    clf = DNNClassifier("Species ~ .", **SMALL)
    assert clf.fit(iris) is clf
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    assert list(clf.feature_names_in_) == ["Sepal.Length", "Sepal.Width", "Petal.Length",
                                           "Petal.Width"]
    fit = dl.dnn("Species ~ .", iris, **SMALL)
    np.testing.assert_array_equal(clf.predict_proba(iris),
                                  fit.predict(iris, type="prob").to_numpy())
    np.testing.assert_array_equal(clf.predict(iris), fit.predict(iris, type="class").to_numpy())
    assert clf.score(iris) > 0.9  # y defaults to the response column
    assert clf.score(iris.drop(columns="Species"), iris["Species"]) == clf.score(iris)
    # predictors only: the response column is not needed to predict
    assert len(clf.predict(iris.drop(columns="Species"))) == 150
    # stratified folds when y is given (fit ignores it); plain folds when it is not
    scores = cross_val_score(clf, iris, iris["Species"], cv=3)
    assert scores.min() > 0.8
    shuffled = cross_val_score(clf, iris, cv=KFold(3, shuffle=True, random_state=0))
    assert shuffled.min() > 0.8
    with pytest.raises(ValueError, match="DataFrame"):
        clf.fit(iris.to_numpy())
    with pytest.raises(ValueError, match="DataFrame"):
        clf.predict(iris.iloc[:, :4].to_numpy())


def test_formula_regressor_with_factors_and_missing_values():
    cars = dl.datasets.load("mtcars")
    reg = DNNRegressor("mpg ~ wt + hp + factor(cyl)", **SMALL).fit(cars, y=None)
    assert reg.score(cars) > 0.5
    assert list(reg.feature_names_in_) == ["wt", "hp", "cyl"]
    new = cars.iloc[:4].copy()
    new.iloc[1, new.columns.get_loc("wt")] = np.nan
    pred = reg.predict(new)
    assert pred.shape == (4,) and np.isnan(pred[1]) and np.isfinite(pred[[0, 2, 3]]).all()
    assert np.isfinite(reg.score(new))  # the row without a prediction is left out
    # a pipeline step can carry a formula too, and survives pickling
    again = pickle.loads(pickle.dumps(make_pipeline(reg)))
    np.testing.assert_array_equal(again.predict(cars), reg.predict(cars))

    air = dl.datasets.load("airquality")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # rows with NA are dropped (na_action)
        ozone = DNNRegressor("log(Ozone) ~ Temp + Wind", **SMALL).fit(air)
    assert ozone.model_.record.n_dropped == 37
    assert np.isnan(ozone.predict(air)).sum() == 0  # Temp and Wind are complete
    assert ozone.score(air) > 0.3  # scored on log(Ozone), rows with Ozone missing left out


def test_formula_classifier_needs_a_class_response():
    iris = dl.datasets.load("iris")
    with pytest.raises(ValueError, match="class"):
        DNNClassifier("Species ~ .", **SMALL).fit(iris[iris.Species == "setosa"])
    with pytest.raises(ValueError, match="one class column"):
        DNNClassifier("cbind(Sepal.Length, Sepal.Width) ~ Species", **SMALL).fit(iris)
    # a 0/1 or a small-integer response is a set of classes, not a number
    cars = dl.datasets.load("mtcars")
    clf = DNNClassifier("cyl ~ mpg + wt", **SMALL).fit(cars)
    assert clf.model_.family.name == "multinomial"
    np.testing.assert_array_equal(clf.classes_, [4.0, 6.0, 8.0])
    assert set(clf.predict(cars)) <= {4.0, 6.0, 8.0}
