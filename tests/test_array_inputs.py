"""``dnn(formula, data)`` with ``data`` mapping names to arrays: an image or a sequence, alone
or with tabular covariates joined after the convolutional part (issue 10).

Covers the formula (array names as terms only), the design (array values then tabular
columns), the join in the layer table (stacked vs solo training, Keras export with two inputs),
predict's shape checks, save/load and hostile input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dlstat as dl
from dlstat import architecture as A
from dlstat.engine import Topology
from dlstat.errors import DataError, FormulaError, OptionError

N = 240
CNN = [dl.conv2d(3, 3), dl.maxpool(2), dl.flatten(), dl.dense(6)]


def mixed_data(n: int = N, seed: int = 0) -> dict:
    """An image whose centre brightness matters, plus age (effect 2) and sex (effect 1)."""
    rng = np.random.default_rng(seed)
    image = rng.normal(size=(n, 6, 6))
    age = rng.normal(50, 10, size=n)
    sex = pd.Categorical(rng.choice(["f", "m"], n), categories=["f", "m"])
    y = image[:, 2:4, 2:4].mean((1, 2)) + 2.0 * (age - 50) / 10 + 1.0 * (sex == "m") + \
        0.05 * rng.normal(size=n)
    return {"y": y, "image": image, "age": age, "sex": sex}


@pytest.fixture(scope="module")
def mixed_fit():
    return dl.dnn("y ~ image + age + sex", mixed_data(),
                  architecture=[dl.conv2d(2, 3), dl.global_avgpool()], optimizer="lbfgs",
                  epochs=300, seed=1, verbose=0)


def test_the_tabular_effects_of_a_mixed_network_are_recovered(mixed_fit):
    """No dense layer after the join: age and sex enter the output linearly, so their effects
    are the finite differences of the predictions, the same for every row."""
    data = mixed_data(60, seed=5)
    older = {**data, "age": data["age"] + 10}
    men = {**data, "sex": pd.Categorical(["m"] * 60, categories=["f", "m"])}
    women = {**data, "sex": pd.Categorical(["f"] * 60, categories=["f", "m"])}
    age_effect = mixed_fit.predict(older) - mixed_fit.predict(data)
    sex_effect = mixed_fit.predict(men) - mixed_fit.predict(women)
    np.testing.assert_allclose(age_effect, 2.0, atol=0.05)
    np.testing.assert_allclose(sex_effect, 1.0, atol=0.05)
    kinds = [p.layer.kind for p in mixed_fit.topology.placed()]
    assert kinds == ["reshape", "conv2d", "gap", "join", "output"] or \
        kinds == ["reshape", "conv2d", "global_avgpool", "join", "output"]
    assert mixed_fit.topology.layers[0] == A.reshape((6, 6, 1), joined=2)
    assert mixed_fit.dev_explained > 0.9


def test_a_mixed_fit_saves_loads_and_predicts_the_same(mixed_fit, tmp_path):
    data = mixed_data(30, seed=3)
    mixed_fit.save(tmp_path / "m.dlstat")
    same = dl.load(tmp_path / "m.dlstat")
    pd.testing.assert_series_equal(same.predict(data), mixed_fit.predict(data))
    assert same.spec.formula == "y ~ image + age + sex"
    assert "join(2 tabular)" in same.summary().text()


def test_keras_export_of_a_mixed_network_has_two_inputs_and_equals_numpy(mixed_fit):
    data = mixed_data(40, seed=4)
    model = mixed_fit.keras_model
    assert [t.shape[-1] for t in model.inputs] == [36, 2]
    frame = pd.DataFrame({"age": data["age"], "sex": data["sex"]})
    tab = mixed_fit.spec.tabular
    raw = tab.design(frame)[0] * tab.scale + tab.center  # the tabular design, unstandardised
    got = model([data["image"].reshape(40, -1).astype(np.float32), raw.astype(np.float32)],
                training=False).numpy()[:, 0]
    np.testing.assert_allclose(got, mixed_fit.predict(data), rtol=1e-4, atol=1e-4)


def test_a_stack_of_mixed_networks_equals_each_trained_alone():
    from dlstat.engine import StackJob, train_stack

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 27))  # a 5 x 5 image and 2 tabular columns
    Y = (X[:, :3].sum(1, keepdims=True) + X[:, 26:] > 0).astype(float)
    rows = [rng.permutation(50)[:size] for size in (20, 35)]
    layers = (A.reshape((5, 5, 1), joined=2), A.conv2d(2, 3), A.batchnorm(), A.flatten(),
              A.dropout(0.2), A.dense(3, "tanh"))

    def train(networks: list[int]):
        weights = np.zeros((len(networks), 50))
        for i, m in enumerate(networks):
            weights[i, rows[m]] = 1.0
        return train_stack(StackJob(
            topology=Topology(27, layers, 1), family="binomial", X=X, Y=Y,
            train_weights=weights, val_weights=1.0 - weights, output_bias=np.zeros(1),
            optimizer="adam", epochs=5, batch_size=8, penalty=np.array([0.0, 0.05])[networks],
            mixture=np.array([0.0, 1.0])[networks], learning_rate=np.full(len(networks), 0.01),
            seeds=np.array([1, 2])[networks]))

    stack = train([0, 1])
    for m in range(2):
        alone = train([m])
        for key, value in stack.params.items():
            np.testing.assert_allclose(value[m], alone.params[key][0], atol=1e-5, err_msg=key)
        np.testing.assert_allclose(stack.loss[:, m], alone.loss[:, 0], atol=1e-5)


def test_an_image_alone_classifies_and_predict_checks_shapes():
    rng = np.random.default_rng(2)
    image = rng.normal(size=(N, 8, 8))
    label = pd.Categorical(np.where(image[:, :4].mean((1, 2)) > 0, "top", "bottom"))
    data = {"label": label, "image": image}
    before = image.copy()
    fit = dl.dnn("label ~ image", data, architecture=CNN, epochs=40, seed=1, verbose=0)
    np.testing.assert_array_equal(image, before)  # nothing the user passed is changed
    assert set(data) == {"label", "image"}
    assert fit.family.name == "binomial"
    assert (fit.predict(data, type="class") == label).mean() > 0.85
    with_channel = {"image": image[:5, :, :, None]}
    pd.testing.assert_series_equal(fit.predict(with_channel), fit.predict({"image": image[:5]}))
    with pytest.raises(DataError, match=r"shape \[n, 8, 8\].*has shape \[5, 7, 8\]"):
        fit.predict({"image": image[:5, :7]})
    with pytest.raises(DataError, match="must map names to arrays"):
        fit.predict(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(DataError, match="lacks the array 'image'"):
        fit.predict({"img": image[:5]})
    with pytest.raises(DataError, match="augment.. adds columns to a data frame"):
        fit.augment(data)


def test_same_seed_same_numbers_and_missing_array_values_predict_na():
    data = mixed_data(80)
    opts = dict(architecture=CNN, epochs=3, seed=4, verbose=0)
    one = dl.dnn("y ~ image + age", data, **opts)
    two = dl.dnn("y ~ image + age", data, **opts)
    pd.testing.assert_series_equal(one.predict(data), two.predict(data))
    holey = {**data, "image": data["image"].copy()}
    holey["image"][3, 1, 1] = np.nan
    pred = one.predict(holey)
    assert np.isnan(pred[3]) and np.isfinite(pred.drop(3)).all()
    with pytest.warns(UserWarning, match="1 observation.* missing values in 'image'"):
        fit = dl.dnn("y ~ image + age", holey, **opts)
    assert fit.record.n_obs == 79
    with pytest.raises(DataError, match="na_action='fail'"):
        dl.dnn("y ~ image + age", holey, na_action="fail", **opts)


def test_sequences_gain_a_channel_and_validation_may_be_a_mapping():
    rng = np.random.default_rng(3)
    seq = rng.normal(size=(120, 12))
    y = seq[:, 3:6].sum(1)
    train = {"y": y[:90], "seq": seq[:90]}
    held = {"y": y[90:], "seq": seq[90:]}
    fit = dl.dnn("y ~ seq", train, architecture=[dl.conv1d(2, 3), dl.flatten()],
                 validation=held, epochs=5, seed=1, verbose=0)
    assert fit.topology.layers[0] == A.reshape((12, 1), joined=0)
    assert fit.record.n_validation == 30
    assert "validation" in fit.summary().tables["fit"].index


def test_a_dense_network_reads_an_array_as_columns():
    data = mixed_data(60)
    fit = dl.dnn("y ~ image + age", data, hidden=(3,), epochs=2, seed=1, verbose=0)
    assert fit.topology.n_inputs == 37 and fit.topology.layers == (A.dense(3),)
    tidy = fit.tidy()
    assert list(tidy["column"][:2]) == ["image[0,0]", "image[0,1]"]
    assert tidy["column"].iloc[-1] == "age" and set(tidy["term"][:36]) == {"image"}


def test_a_mapping_without_arrays_fits_as_its_data_frame():
    data = mixed_data(50)
    columns = {k: v for k, v in data.items() if k != "image"}
    opts = dict(hidden=(2,), epochs=3, seed=1, verbose=0)
    got = dl.dnn("y ~ age + sex", columns, **opts).predict(pd.DataFrame(columns))
    want = dl.dnn("y ~ age + sex", pd.DataFrame(columns), **opts).predict(pd.DataFrame(columns))
    pd.testing.assert_series_equal(got, want)
    frame_inside = {"image": data["image"], "covariates": pd.DataFrame(columns)}
    fit = dl.dnn("y ~ image + age", frame_inside, architecture=CNN, epochs=1, seed=1, verbose=0)
    assert fit.topology.layers[0].joined == 1


@pytest.mark.parametrize("formula,words", [
    ("y ~ log(image)", "cannot be inside a transform"),
    ("y ~ I(image * 2)", "cannot be inside a transform"),
    ("y ~ image:age", "cannot be inside a transform"),
    ("y ~ image * age", "cannot be inside a transform"),
    ("y ~ (image + age)^2", "cannot be inside a transform"),
    ("y ~ age - image", "cannot be inside a transform"),
    ("image ~ age", "cannot be the response"),
    ("y ~ image + other", "one array input"),
    ("y ~ .", "one array input"),
])
def test_arrays_only_stand_as_terms_of_their_own(formula, words):
    data = {**mixed_data(20), "other": np.zeros((20, 3, 3))}
    with pytest.raises(FormulaError, match=words):
        dl.dnn(formula, data, architecture=CNN, epochs=1, verbose=0)


@pytest.mark.parametrize("formula,tabular", [
    ("y ~ image", "y ~ 1"), ("y ~ image + age", "y ~ age"), ("y ~ age + image", "y ~ age"),
    ("y ~ age + image + sex", "y ~ age + sex"), ("y ~ image - 1", "y ~ - 1"),
    ("y ~ 0 + image + age", "y ~ 0 + age"), ("y ~ `image` + log(age)", "y ~ log(age)"),
    ("y ~ .", "y ~ ."),
])
def test_the_array_term_leaves_the_tabular_formula(formula, tabular):
    from dlstat.formula.arrays import split_formula

    assert split_formula(formula, {"image": np.zeros((2, 3, 3))}) == (tabular, "image")


def test_the_tabular_formula_stays_vetted():
    with pytest.raises(FormulaError, match="not a column"):
        dl.dnn("y ~ image + __import__", mixed_data(20), architecture=CNN, epochs=1,
               verbose=0)


@pytest.mark.parametrize("change,words", [
    (lambda d: {**d, "age": d["age"][:-1]}, "same length"),
    (lambda d: {**d, "image": d["image"].astype(object)}, "must hold numbers"),
    (lambda d: {**d, "image": np.full((20, 2, 2), "a")}, "must hold numbers"),
    (lambda d: {**d, "image": np.zeros((20, 2, 2, 2, 2))}, "2 to 4 dimensions"),
    (lambda d: {**d, "age": 3.0}, "must be a column"),
    (lambda d: {**d, 7: d["age"]}, "non-empty strings"),
    (lambda d: {**d, "covariates": pd.DataFrame({"age": d["age"]})}, "two entries named 'age'"),
])
def test_hostile_mappings_are_refused_naming_the_problem(change, words):
    with pytest.raises(DataError, match=words):
        dl.dnn("y ~ image + age", change(mixed_data(20)), architecture=CNN, epochs=1,
               verbose=0)


def test_test_data_as_a_mapping_is_refused_clearly():
    with pytest.raises(OptionError, match="test= with array inputs"):
        dl.dnn("y ~ image", mixed_data(20), architecture=CNN, test=mixed_data(5), verbose=0)


def test_r_sends_arrays_as_bytes_in_its_own_order_and_fits_them():
    """The Python half of the array transport (``R/convert.R`` is the other): R's
    column-major bytes plus ``dim`` read back with R's indexing, NA as NaN."""
    from dlstat.fronts import rbridge
    from dlstat.fronts.rcodec import NA_INTEGER, array_from_r, array_to_r, column_to_r

    values = np.arange(24, dtype=np.int32)
    values[5] = NA_INTEGER
    spec = {"type": "array", "storage": "integer", "dim": [2, 3, 4],
            "data": bytearray(values.tobytes())}
    array = array_from_r(spec)
    want = np.arange(24.0).reshape((2, 3, 4), order="F")
    want[1, 2, 0] = np.nan  # R's x[2, 3, 1] is its 6th value
    np.testing.assert_array_equal(array, want)
    back = array_from_r(array_to_r(array))
    np.testing.assert_array_equal(back, want)
    with pytest.raises(DataError, match="holds 24 values for dim"):
        array_from_r({**spec, "dim": [5, 5]})
    data = mixed_data(40)
    mapping = {"__dlstat__": "mapping", "names": ["y", "image", "age"],
               "values": [column_to_r(data["y"]), array_to_r(data["image"]),
                          column_to_r(data["age"])]}
    opts = {"architecture": CNN, "epochs": 2, "seed": 1, "verbose": 0}
    res = rbridge.rcall("fit", "y ~ image + age", mapping, opts)
    assert res["ok"], res
    direct = dl.dnn("y ~ image + age", {k: data[k] for k in ("y", "image", "age")}, **opts)
    pd.testing.assert_series_equal(res["value"].predict(data), direct.predict(data))


@pytest.mark.parametrize("function", ["compare", "dnn_path"])
def test_compare_and_path_say_arrays_reach_dnn_cv_dnn_and_the_estimators_only(function):
    rng = np.random.default_rng(0)
    data = {"y": rng.normal(size=20), "image": rng.normal(size=(20, 4, 4))}
    with pytest.raises(DataError, match=f"{function}\\(\\) takes a data frame; data maps names "
                                        "to arrays.*cross_val_score"):
        getattr(dl, function)("y ~ image", data)
