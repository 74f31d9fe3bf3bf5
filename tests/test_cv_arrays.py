"""``cv_dnn()`` on data that maps names to arrays (issue 10): the folds split the observations
of every array, each fold's design (array standardisation, tabular columns) is learned on its
training rows, and all folds train as one stack whose networks equal their solo fits.

``compare()`` and ``dnn_path()`` keep refusing arrays (a GLM on raw pixels, and the path's
per-input weight norms, have no meaning for a convolution); that refusal is in
``test_array_inputs.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dlstat as dl
from dlstat.errors import DataError

TINY_CNN = [dl.conv2d(2, 3), dl.maxpool(4), dl.flatten(), dl.dense(8)]
OPTS = dict(architecture=TINY_CNN, epochs=2, batch_size=16, seed=3, verbose=0)


@pytest.fixture(scope="module")
def fashion():
    try:
        X, y = dl.datasets.fashion_mnist(n=600)
    except (FileNotFoundError, DataError) as err:  # Debian's dataset-fashion-mnist not there
        pytest.skip(f"Fashion-MNIST is not installed: {err}")
    return {"label": y, "image": X}


@pytest.fixture(scope="module")
def cv_fashion(fashion):
    return dl.cv_dnn("label ~ image", fashion, folds=3, **OPTS)


def test_cv_of_a_cnn_equals_each_fold_trained_alone(fashion, cv_fashion):
    """Each fold's network, trained in the stack of three, gives the held-out probabilities
    and metrics of the same network fitted alone on that fold's training images (the M = 1
    convolution path differs from the stacked one by ~1e-6)."""
    cv = cv_fashion
    assert len(cv.fits) == 3 and cv.family.name == "multinomial"
    assert cv.predictions.shape == (600, 10)
    assert cv.fold_ids.notna().all() and sorted(cv.fold_ids.unique()) == [0, 1, 2]
    for k in range(3):
        test = np.flatnonzero(cv.fold_ids.to_numpy() == k)
        train = np.setdiff1d(np.arange(600), test)
        alone = dl.dnn("label ~ image", {"label": fashion["label"][train],
                                         "image": fashion["image"][train]}, **OPTS)
        prob = alone.predict({"image": fashion["image"][test]}, type="prob").to_numpy()
        np.testing.assert_allclose(cv.predictions.iloc[test].to_numpy(), prob, atol=1e-4)
        row = cv.metrics.iloc[k]
        assert row["n_train"] == len(train) and row["n_test"] == len(test)
        truth = np.asarray(fashion["label"][test])
        accuracy = (alone.predict({"image": fashion["image"][test]}, type="class").to_numpy()
                    == truth).mean()
        assert row["accuracy"] == pytest.approx(accuracy, abs=1e-9)
        assert cv.fits[k].spec.array_center == pytest.approx(alone.spec.array_center)
    assert cv.metrics["accuracy"].mean() > 0.15  # chance is 0.1; two epochs of a 2-filter net


def test_the_same_seed_gives_the_same_cv_numbers(fashion, cv_fashion):
    again = dl.cv_dnn("label ~ image", fashion, folds=3, **OPTS)
    pd.testing.assert_frame_equal(again.metrics, cv_fashion.metrics)
    pd.testing.assert_frame_equal(again.predictions, cv_fashion.predictions)


def test_stratified_folds_and_given_fold_ids_split_the_images(fashion):
    sub = {"label": fashion["label"][:300], "image": fashion["image"][:300]}
    strat = dl.cv_dnn("label ~ image", sub, folds=3, stratify="label",
                      **{**OPTS, "epochs": 1})
    counts = pd.crosstab(strat.fold_ids.to_numpy(), np.asarray(sub["label"]))
    assert (counts.max(axis=0) - counts.min(axis=0)).max() <= 1  # every class split evenly
    foldid = np.arange(300) % 3 + 1
    given = dl.cv_dnn("label ~ image", sub, foldid=foldid, **{**OPTS, "epochs": 1})
    np.testing.assert_array_equal(given.fold_ids.to_numpy(), foldid - 1)


def test_cross_val_score_and_cv_dnn_cross_validate_a_cnn_on_the_same_folds(fashion):
    """scikit-learn's route (an estimator with an architecture) and dlstat's (a formula over
    a mapping) on the same stratified folds: the same held-out counts, both above chance."""
    from sklearn.model_selection import cross_val_score

    X, y = fashion["image"][:300] / 255.0, np.asarray(fashion["label"][:300])
    splitter = dl.stratified_kfold(3, y, seed=2)
    small = [dl.conv2d(6, 3), dl.maxpool(2), dl.flatten(), dl.dense(24)]
    clf = dl.DNNClassifier(architecture=small, epochs=6, seed=1, verbose=0)
    scores = cross_val_score(clf, X, y, cv=splitter)
    foldid = np.empty(300, np.int64)
    for k, (_, test) in enumerate(splitter.split(X, y)):
        foldid[test] = k + 1
    cv = dl.cv_dnn("label ~ image", {"label": y, "image": X}, foldid=foldid,
                   architecture=small, epochs=6, seed=1, verbose=0)
    assert scores.shape == (3,) and scores.min() > 0.4  # chance is 0.1
    assert cv.metrics["accuracy"].min() > 0.4
    assert list(cv.metrics["n_test"]) == [int((foldid == k).sum()) for k in (1, 2, 3)]


def mixed(n: int = 90, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    image = rng.normal(size=(n, 6, 6))
    age = rng.normal(size=n)
    y = image[:, 2:4, 2:4].mean((1, 2)) + age + 0.1 * rng.normal(size=n)
    return {"y": y, "image": image, "age": age}


def test_an_image_with_covariates_cross_validates_and_missing_images_are_left_out():
    data = mixed()
    data["image"][5, 0, 0] = np.nan
    arch = [dl.conv2d(2, 3), dl.global_avgpool()]
    with pytest.warns(UserWarning, match="1 observation.* missing values in 'image'"):
        cv = dl.cv_dnn("y ~ image + age", data, folds=3, architecture=arch, epochs=3, seed=1,
                       verbose=0)
    assert len(cv.predictions) == 90 and np.isnan(cv.predictions[5])
    assert pd.isna(cv.fold_ids[5]) and cv.fold_ids.drop(5).notna().all()
    assert cv.metrics["n_test"].sum() == 89
    assert cv.fits[0].topology.layers[0].joined == 1  # age joins after the convolution
    assert "rmse" in cv.summary_table.index


def test_a_cv_mapping_without_an_array_is_its_data_frame():
    data = {k: v for k, v in mixed().items() if k != "image"}
    opts = dict(hidden=(2,), epochs=2, seed=1, verbose=0, folds=3)
    got = dl.cv_dnn("y ~ age", data, **opts)
    want = dl.cv_dnn("y ~ age", pd.DataFrame(data), **opts)
    pd.testing.assert_frame_equal(got.metrics, want.metrics)


@pytest.mark.parametrize("change,kwargs,words", [
    (lambda d: {**d, "age": d["age"][:-1]}, {}, "same length"),
    (lambda d: d, {"foldid": np.arange(89) % 3}, r"one fold per observation of data \(90\)"),
    (lambda d: d, {"stratify": "sex"}, "stratify='sex' is not a column"),
    (lambda d: {**d, "image": d["image"].astype(str)}, {}, "must hold numbers"),
])
def test_mistaken_array_cv_input_is_refused_naming_the_problem(change, kwargs, words):
    with pytest.raises(DataError, match=words):
        dl.cv_dnn("y ~ image + age", change(mixed()), folds=3,
                  architecture=[dl.conv2d(1, 3), dl.flatten()], epochs=1, verbose=0, **kwargs)


def test_folds_whose_factor_levels_differ_are_refused_before_training():
    data = mixed(60)
    data["site"] = np.where(np.arange(60) == 0, "rare", "common")
    with pytest.raises(DataError, match="tabular designs have different widths"):
        dl.cv_dnn("y ~ image + site", data, folds=3,
                  architecture=[dl.conv2d(1, 3), dl.flatten()], epochs=1, verbose=0)
