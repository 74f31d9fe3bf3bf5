"""The fitted-model object: predict, summary, broom-style tables, history, plot, Keras export,
and the promise that the caller's data is never modified."""

from __future__ import annotations

import copy
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import dlstat as dl  # noqa: E402
from dlstat.errors import OptionError, UnseenLevelError  # noqa: E402


# --------------------------------------------------------------------------------------------
# fits shared by the module (each configuration is traced once)
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cars() -> pd.DataFrame:
    mt = dl.datasets.load("mtcars")
    mt["trans"] = np.where(mt["am"] == 1, "manual", "auto").astype(object)
    mt["engine"] = pd.Categorical(np.where(mt["vs"] == 1, "straight", "V"),
                                  categories=["V", "straight"])
    return mt


@pytest.fixture(scope="module")
def cars_copy(cars) -> pd.DataFrame:
    return copy.deepcopy(cars)


@pytest.fixture(scope="module")
def reg_fit(cars, cars_copy):  # the copy is taken before any fit
    return dl.dnn("mpg ~ wt + hp + factor(cyl) + engine", cars, hidden=(8,), epochs=30, seed=1)


@pytest.fixture(scope="module")
def bin_fit(cars, cars_copy):
    return dl.dnn("trans ~ wt + hp + engine", cars, hidden=(4,), epochs=30, seed=2)


@pytest.fixture(scope="module")
def iris() -> pd.DataFrame:
    return dl.datasets.load("iris")


@pytest.fixture(scope="module")
def iris_copy(iris) -> pd.DataFrame:
    return copy.deepcopy(iris)


@pytest.fixture(scope="module")
def multi_fit(iris, iris_copy):
    return dl.dnn("Species ~ .", iris, hidden=(8,), epochs=20, seed=3, validation=0.2)


@pytest.fixture(scope="module")
def na_cars(cars) -> pd.DataFrame:
    df = cars.copy()
    df.loc[df.index[[2, 7]], "wt"] = np.nan
    df.loc[df.index[11], "engine"] = np.nan
    return df


IRIS_LEVELS = ["setosa", "versicolor", "virginica"]


# --------------------------------------------------------------------------------------------
# predict
# --------------------------------------------------------------------------------------------
def test_response_predictions_gaussian(reg_fit, cars):
    p = reg_fit.predict(cars)
    assert isinstance(p, pd.Series) and p.name == "mpg"
    assert p.index.equals(cars.index)
    assert np.isfinite(p).all()
    np.testing.assert_allclose(reg_fit.predict(cars, type="link"), p, rtol=1e-12)


def test_response_predictions_binomial_are_probabilities_of_the_second_level(bin_fit, cars):
    p = bin_fit.predict(cars)
    assert isinstance(p, pd.Series) and p.index.equals(cars.index)
    assert ((p > 0) & (p < 1)).all()
    prob = bin_fit.predict(cars, type="prob")
    np.testing.assert_allclose(prob["manual"], p, rtol=1e-12)
    link = bin_fit.predict(cars, type="link")
    np.testing.assert_allclose(1 / (1 + np.exp(-link)), p, rtol=1e-10)


def test_class_predictions_binomial(bin_fit, cars):
    cls = bin_fit.predict(cars, type="class")
    assert isinstance(cls.dtype, pd.CategoricalDtype)
    assert list(cls.cat.categories) == ["auto", "manual"]
    assert cls.index.equals(cars.index)
    prob = bin_fit.predict(cars, type="prob")
    expected = np.where(prob["manual"] > 0.5, "manual", "auto")
    assert list(cls.astype(str)) == list(expected)


def test_prob_predictions_binomial(bin_fit, cars):
    prob = bin_fit.predict(cars, type="prob")
    assert list(prob.columns) == ["auto", "manual"]
    assert prob.shape == (len(cars), 2)
    np.testing.assert_allclose(prob.sum(axis=1), 1.0, rtol=1e-12)


def test_prob_and_class_predictions_multinomial(multi_fit, iris):
    prob = multi_fit.predict(iris, type="prob")
    assert list(prob.columns) == IRIS_LEVELS
    assert prob.shape == (150, 3) and prob.index.equals(iris.index)
    np.testing.assert_allclose(prob.sum(axis=1), 1.0, rtol=1e-12)
    cls = multi_fit.predict(iris, type="class")
    assert list(cls.cat.categories) == IRIS_LEVELS
    assert cls.name == "Species"
    assert list(cls.astype(str)) == [IRIS_LEVELS[j] for j in prob.to_numpy().argmax(1)]
    resp = multi_fit.predict(iris)
    assert list(resp.columns) == IRIS_LEVELS
    np.testing.assert_allclose(resp.to_numpy(), prob.to_numpy())


def test_link_predictions_multinomial(multi_fit, iris):
    link = multi_fit.predict(iris, type="link")
    assert list(link.columns) == IRIS_LEVELS and link.shape == (150, 3)
    e = np.exp(link.to_numpy() - link.to_numpy().max(1, keepdims=True))
    np.testing.assert_allclose(e / e.sum(1, keepdims=True),
                               multi_fit.predict(iris, type="prob").to_numpy(), rtol=1e-10)


def test_class_types_need_a_classification_family(reg_fit, cars):
    for t in ("class", "prob"):
        with pytest.raises(OptionError, match=t):
            reg_fit.predict(cars, type=t)
    with pytest.raises(OptionError, match="'bogus'"):
        reg_fit.predict(cars, type="bogus")


def test_predict_without_the_response_column(bin_fit, cars):
    p = bin_fit.predict(cars.drop(columns=["trans", "am"]))
    np.testing.assert_allclose(p, bin_fit.predict(cars))


def test_na_rows_predict_nan_and_nothing_is_dropped_or_reordered(bin_fit, na_cars):
    shuffled = na_cars.sample(frac=1.0, random_state=7)
    bad = shuffled["wt"].isna() | shuffled["engine"].isna()
    assert bad.sum() == 3
    p = bin_fit.predict(shuffled)
    assert p.index.equals(shuffled.index)
    assert p.isna().to_numpy().tolist() == bad.to_numpy().tolist()
    full = bin_fit.predict(na_cars.fillna({"wt": 3.0, "engine": "V"}))
    np.testing.assert_allclose(p[~bad], full[p[~bad].index])
    cls = bin_fit.predict(shuffled, type="class")
    assert cls.index.equals(shuffled.index)
    assert cls.isna().to_numpy().tolist() == bad.to_numpy().tolist()
    prob = bin_fit.predict(shuffled, type="prob")
    assert prob.index.equals(shuffled.index)
    assert prob.isna().all(axis=1).to_numpy().tolist() == bad.to_numpy().tolist()
    link = bin_fit.predict(shuffled, type="link")
    assert link.isna().to_numpy().tolist() == bad.to_numpy().tolist()


def test_na_rows_multinomial(multi_fit, iris):
    df = iris.copy()
    df.index = [f"plant{i}" for i in range(150)]
    df.loc["plant4", "Petal.Width"] = np.nan
    p = multi_fit.predict(df, type="prob")
    assert p.index.equals(df.index)
    assert p.isna().any(axis=1).sum() == 1 and p.loc["plant4"].isna().all()


def test_non_finite_transform_at_predict_gives_nan(cars):
    fit = dl.dnn("mpg ~ log(wt) + hp", cars, hidden=(), optimizer="lbfgs")
    new = cars.iloc[:3].copy()
    new["wt"] = [2.5, -1.0, 3.0]
    with pytest.warns(UserWarning, match="non-finite"):
        p = fit.predict(new)
    assert p.index.equals(new.index)
    assert p.isna().tolist() == [False, True, False]


def test_unseen_level_at_predict(bin_fit, cars):
    new = cars.iloc[:5].copy()
    new["engine"] = new["engine"].cat.add_categories("rotary")
    new.loc[new.index[1], "engine"] = "rotary"
    with pytest.raises(UnseenLevelError) as err:
        bin_fit.predict(new)
    assert "'engine'" in str(err.value) and "rotary" in str(err.value)
    with pytest.warns(UserWarning, match="rotary"):
        p = bin_fit.predict(new, unseen="na")
    assert p.index.equals(new.index)
    assert p.isna().tolist() == [False, True, False, False, False]
    np.testing.assert_allclose(p.dropna(), bin_fit.predict(cars.iloc[:5]).drop(new.index[1]))


def test_unseen_level_of_a_factor_of_a_number(reg_fit, cars):
    new = cars.iloc[:3].copy()
    new["cyl"] = [4.0, 5.0, 8.0]
    with pytest.raises(UnseenLevelError, match="cyl"):
        reg_fit.predict(new)


def test_unseen_option_given_at_fit_time_applies_to_predict(cars):
    fit = dl.dnn("mpg ~ wt + trans", cars, hidden=(), optimizer="lbfgs", unseen="na")
    new = cars.iloc[:3].copy()
    new["trans"] = ["auto", "cvt", "manual"]
    with pytest.warns(UserWarning, match="cvt"):
        p = fit.predict(new)
    assert p.isna().tolist() == [False, True, False]
    with pytest.raises(UnseenLevelError):
        fit.predict(new, unseen="error")


def test_validation_and_test_frames_are_measured(cars):
    from sklearn.metrics import roc_auc_score

    train, valid, test = cars.iloc[:20], cars.iloc[20:26], cars.iloc[26:]
    fit = dl.dnn("trans ~ wt + hp", train, hidden=(4,), epochs=5, seed=2, validation=valid,
                 test=test)
    assert fit.record.n_obs == 20 and fit.record.n_validation == 6
    assert fit.fitted().index.equals(train.index)
    for part, frame in (("validation", valid), ("test", test)):
        p = fit.predict(frame).to_numpy()
        y = (frame["trans"] == "manual").to_numpy(float)
        m = fit.record.metrics[part]
        if 0 < y.sum() < len(y):
            np.testing.assert_allclose(m["auc"], roc_auc_score(y, p), rtol=1e-12)
        np.testing.assert_allclose(m["accuracy"], np.mean((p > 0.5) == (y == 1)), rtol=1e-12)
        np.testing.assert_allclose(m["log_loss"], -np.mean(y * np.log(p) + (1 - y) *
                                                           np.log1p(-p)), rtol=1e-9)
    assert "test_accuracy" in fit.glance().columns
    assert "validation" in fit.summary().tables["fit"].index


def test_fitted_follows_the_training_rows(reg_fit, multi_fit, iris, cars):
    f = reg_fit.fitted()
    assert f.index.equals(cars.index)
    np.testing.assert_allclose(f, reg_fit.predict(cars))
    # with a validation fraction the fitted rows are the training rows, in data order
    fm = multi_fit.fitted()
    assert len(fm) == 150 - multi_fit.record.n_validation == multi_fit.record.n_obs
    pos = [iris.index.get_loc(i) for i in fm.index]
    assert pos == sorted(pos)


def test_fit_with_na_rows(na_cars):
    with pytest.warns(UserWarning, match="3 row"):
        fit = dl.dnn("trans ~ wt + hp + engine", na_cars, hidden=(4,), epochs=5, seed=2)
    assert fit.record.n_dropped == 3 and fit.record.n_obs == len(na_cars) - 3
    assert fit.fitted().index.equals(na_cars.dropna(subset=["wt", "engine"]).index)
    text = str(fit.summary())
    assert "Observations dropped (NA): 3" in text
    assert "3 observation(s) deleted due to missingness" in text


# --------------------------------------------------------------------------------------------
# summary and display
# --------------------------------------------------------------------------------------------
def test_summary_text(reg_fit):
    text = str(reg_fit.summary())
    assert reg_fit.call in text
    assert "dnn('mpg ~ wt + hp + factor(cyl) + engine'" in text
    assert "gaussian" in text and "identity" in text
    assert "Architecture" in text and "dense(8, relu)" in text
    assert "Observations used:" in text and "32" in text
    assert "deviance" in text.lower()
    assert f"{reg_fit.record.deviance:.6g}" in text
    assert f"{reg_fit.record.null_deviance:.6g}" in text
    assert "Notes:" in text and "family chosen from the response" in text
    assert repr(reg_fit.summary()) == text


def test_summary_tables(reg_fit):
    s = reg_fit.summary()
    assert set(s.tables) >= {"model", "architecture", "training", "fit"}
    arch = s.tables["architecture"]
    assert arch["parameters"].sum() == reg_fit.topology.n_parameters()
    assert "train" in s.tables["fit"].index


def test_summary_html(multi_fit):
    html = multi_fit.summary()._repr_html_()
    assert "<table" in html and "</table>" in html
    assert "dnn(&#x27;Species ~ .&#x27;" in html or "dnn('Species ~ .'" in html
    assert "multinomial" in html and "Notes" in html


def test_repr(bin_fit):
    r = repr(bin_fit)
    assert "trans ~ wt + hp + engine" in r and "binomial" in r


# --------------------------------------------------------------------------------------------
# tidy / glance / augment / history / plot
# --------------------------------------------------------------------------------------------
def test_tidy_of_a_network(reg_fit):
    t = reg_fit.tidy()
    inputs = t[t["layer"] == "input"]
    assert len(inputs) == reg_fit.spec.n_columns
    assert {"term", "norm"} <= set(t.columns)
    assert (inputs["norm"] >= 0).all()
    W = reg_fit.params["dense0/kernel"][0]
    np.testing.assert_allclose(inputs["norm"].to_numpy(), np.linalg.norm(W, axis=1))
    assert sum("cyl" in str(term) for term in inputs["term"]) == 2


def test_coef_of_a_network_is_refused(reg_fit):
    with pytest.raises(OptionError):
        reg_fit.coef()


def test_glance(multi_fit):
    g = multi_fit.glance()
    assert g.shape[0] == 1
    row = g.iloc[0]
    assert row["family"] == "multinomial"
    assert row["nobs"] == multi_fit.record.n_obs == 120
    np.testing.assert_allclose(row["dev_explained"],
                               1 - row["deviance"] / row["null_deviance"])
    assert {"train_accuracy", "validation_accuracy", "train_auc", "validation_log_loss"} <= \
        set(g.columns)
    assert row["epochs"] == 20


def test_augment_gaussian(reg_fit, cars):
    a = reg_fit.augment(cars)
    assert a.shape == (len(cars), cars.shape[1] + 2)
    assert a.index.equals(cars.index)
    np.testing.assert_allclose(a[".fitted"], reg_fit.predict(cars))
    np.testing.assert_allclose(a[".resid"], cars["mpg"] - a[".fitted"])
    pd.testing.assert_frame_equal(a[cars.columns], cars)


def test_augment_classification(multi_fit, iris):
    a = multi_fit.augment(iris)
    assert a.shape == (150, iris.shape[1] + 1 + 3)
    assert [c for c in a.columns if c.startswith(".prob_")] == [f".prob_{v}" for v in
                                                                 IRIS_LEVELS]
    assert list(a[".pred_class"].astype(str)) == \
        list(multi_fit.predict(iris, type="class").astype(str))


def test_history(multi_fit, reg_fit):
    h = multi_fit.history
    assert list(h.columns) == ["epoch", "loss", "val_loss"]
    assert len(h) == multi_fit.record.epochs_run == 20
    assert h["epoch"].tolist() == list(range(1, 21))
    assert np.isfinite(h[["loss", "val_loss"]].to_numpy()).all()
    assert list(reg_fit.history.columns) == ["epoch", "loss"]


def test_plot_returns_a_figure(multi_fit, reg_fit):
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    fig = multi_fit.plot()
    assert isinstance(fig, Figure)
    assert len(fig.axes[0].lines) == 2  # training and validation
    fig2 = reg_fit.plot()
    assert isinstance(fig2, Figure) and len(fig2.axes[0].lines) == 1
    _, ax = plt.subplots()
    assert reg_fit.plot(ax=ax) is ax.figure
    plt.close("all")


# --------------------------------------------------------------------------------------------
# Keras export
# --------------------------------------------------------------------------------------------
def _keras_matches(fit, data, type_="response"):
    D = fit.design_matrix(data)
    assert list(D.columns) == fit.spec.names
    out = fit.keras_model.predict(D.to_numpy(np.float32), verbose=0)
    ref = fit.predict(data, type=type_)
    ref = ref.loc[D.index]
    ref = ref.to_numpy().reshape(len(D), -1)
    np.testing.assert_allclose(out, ref, atol=1e-4, rtol=1e-4)


def test_keras_model_gaussian(reg_fit, cars):
    _keras_matches(reg_fit, cars)


def test_keras_model_binomial(bin_fit, na_cars):
    _keras_matches(bin_fit, na_cars)  # design_matrix keeps the complete rows only


def test_keras_model_multinomial(multi_fit, iris):
    _keras_matches(multi_fit, iris, "prob")


def test_keras_model_with_batchnorm_and_dropout(cars):
    fit = dl.dnn("mpg ~ wt + hp + qsec", cars, hidden=(6,), batchnorm=True, dropout=0.2,
                 epochs=10, seed=4)
    _keras_matches(fit, cars)


# --------------------------------------------------------------------------------------------
# the caller's data is never modified
# --------------------------------------------------------------------------------------------
def test_data_is_never_modified(reg_fit, bin_fit, multi_fit, cars, cars_copy, iris, iris_copy,
                                na_cars):
    na_before = copy.deepcopy(na_cars)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fit in (reg_fit, bin_fit):
            fit.predict(cars)
            fit.augment(cars)
            fit.design_matrix(cars)
            fit.predict(na_cars)
        bin_fit.predict(na_cars, type="class")
        multi_fit.predict(iris, type="prob")
        multi_fit.augment(iris)
        dl.dnn("trans ~ wt + engine", na_cars, hidden=(4,), epochs=2, validation=0.25,
               test=cars.iloc[:8])
    pd.testing.assert_frame_equal(cars, cars_copy)
    pd.testing.assert_frame_equal(iris, iris_copy)
    pd.testing.assert_frame_equal(na_cars, na_before)
