"""Recurrent layers, embeddings and sequence data (issue 10, recurrent slice).

The NumPy/graph/Keras-export agreement of every kind is in ``test_layers.py``; here: each kind
against Keras's own layer given the same weights, output shapes, initialisers, the stacked
trainer, cross-validation, save/load and export, penalties, sequence data and hostile input.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dlstat as dl
from dlstat import architecture as A
from dlstat.engine import Topology, init_params
from dlstat.engine.layers import param_defs, plan
from dlstat.engine.recurrent import MAX_SEQUENCE_LENGTH
from dlstat.errors import DataError, ModelFileError, OptionError, OptionTypeError

T, P = 7, 3


@pytest.fixture(scope="module")
def keras():
    from dlstat.engine.graph import tf_module

    tf_module()
    import keras

    return keras


def keras_twin(keras, spec):
    """Keras's own layer for ``spec``, built independently of dlstat's export."""
    def cell(s):
        options = dict(activation=s.activation, return_sequences=s.return_sequences)
        if s.kind == "rnn":
            return keras.layers.SimpleRNN(s.units, **options)
        layer_type = keras.layers.LSTM if s.kind == "lstm" else keras.layers.GRU
        return layer_type(s.units, recurrent_activation=s.recurrent_activation, **options)

    if isinstance(spec, A.Embedding):
        return keras.layers.Embedding(spec.input_dim, spec.output_dim)
    if isinstance(spec, A.Bidirectional):
        return keras.layers.Bidirectional(cell(spec.layer), merge_mode=spec.merge)
    return cell(spec)


def our_weights_for_keras(placed, params):
    """Our parameters in Keras's order: kernel, recurrent kernel, bias (forward, backward)."""
    sides = ["forward_", "backward_"] if placed.layer.kind == "bidirectional" else [""]
    if placed.layer.kind == "embedding":
        return [params[placed.key("embeddings")][0]]
    out = []
    for side in sides:
        bias = params[placed.key(f"{side}bias")][0]
        out += [params[placed.key(f"{side}kernel")][0],
                params[placed.key(f"{side}recurrent_kernel")][0],
                bias if bias.shape[0] == 2 else bias[0]]
    return out


TWIN_CASES = [A.rnn(4), A.rnn(3, "relu", return_sequences=True), A.lstm(5),
              A.lstm(4, "elu", "tanh", return_sequences=True), A.gru(4),
              A.gru(3, "selu", return_sequences=True), A.bidirectional(A.lstm(3)),
              A.bidirectional(A.gru(2, return_sequences=True), "ave"),
              A.bidirectional(A.rnn(3), "mul"), A.embedding(6, 4)]


@pytest.mark.parametrize("spec", TWIN_CASES, ids=A.describe)
def test_each_kind_matches_keras_own_layer_given_the_same_weights(keras, spec):
    codes = isinstance(spec, A.Embedding)
    layers = (spec,) if codes else (A.reshape((T, P)), spec)
    topology = Topology(T if codes else T * P, (*layers, A.flatten()), 1)
    placed = plan(topology)[len(layers) - 1]
    rng = np.random.default_rng(2)
    params = {k: rng.normal(scale=0.6, size=v.shape)
              for k, v in init_params(topology, np.array([1]), np.zeros(1)).items()}
    x = rng.integers(0, 6, size=(9, T)).astype(float) if codes else rng.normal(size=(9, T, P))
    ours = placed.kind.numpy_forward(placed, {k: v[0] for k, v in params.items()}, x)
    twin = keras_twin(keras, spec)
    twin.build((None, *x.shape[1:]))
    twin.set_weights([w.astype(np.float32) for w in our_weights_for_keras(placed, params)])
    theirs = np.asarray(twin(x.astype(np.int32 if codes else np.float32)))
    assert ours.shape == theirs.shape == (9, *placed.out_shape)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("spec,shape", [
    (A.lstm(6), (6,)), (A.lstm(6, return_sequences=True), (T, 6)),
    (A.gru(2, return_sequences=True), (T, 2)), (A.rnn(5), (5,)),
    (A.bidirectional(A.lstm(4)), (8,)), (A.bidirectional(A.gru(3, return_sequences=True)),
                                          (T, 6)),
    (A.bidirectional(A.rnn(3), "sum"), (3,)),
])
def test_output_shapes_follow_units_and_return_sequences(spec, shape):
    topology = Topology(T * P, (A.reshape((T, P)), spec, A.flatten()), 1)
    assert plan(topology)[1].out_shape == shape


def test_parameter_keys_shapes_and_what_is_penalised():
    layers = (A.embedding(10, 3), A.bidirectional(A.gru(4, return_sequences=True)), A.lstm(2))
    defs = param_defs(Topology(T, layers, 1))
    shapes = {k: d.shape for k, d in defs.items()}
    assert shapes["embedding0/embeddings"] == (10, 3)
    assert shapes["bidir1/forward_kernel"] == (3, 12)
    assert shapes["bidir1/backward_recurrent_kernel"] == (4, 12)
    assert shapes["bidir1/forward_bias"] == (2, 12)  # GRU: input and recurrent bias
    assert shapes["lstm2/kernel"] == (8, 8) and shapes["lstm2/bias"] == (1, 8)
    penalised = {k for k, d in defs.items() if d.penalised}
    assert penalised == {"bidir1/forward_kernel", "bidir1/forward_recurrent_kernel",
                         "bidir1/backward_kernel", "bidir1/backward_recurrent_kernel",
                         "lstm2/kernel", "lstm2/recurrent_kernel", "output/kernel"}


def test_initialisers_are_keras_and_a_network_starts_the_same_in_any_stack():
    topology = Topology(T * P, (A.reshape((T, P)), A.lstm(5), A.dense(2)), 1)
    alone = init_params(topology, np.array([11]), np.zeros(1))
    stacked = init_params(topology, np.array([4, 11]), np.zeros(1))
    for key, value in alone.items():
        np.testing.assert_array_equal(stacked[key][1], value[0])
    recurrent = alone["lstm1/recurrent_kernel"][0]  # [5, 20]: orthonormal rows
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(5), atol=1e-12)
    limit = np.sqrt(6.0 / (P + 20))
    assert limit * 0.9 < np.abs(alone["lstm1/kernel"]).max() <= limit
    bias = alone["lstm1/bias"][0, 0]
    assert (bias[5:10] == 1).all() and (np.delete(bias, range(5, 10)) == 0).all()
    table = init_params(Topology(T, (A.embedding(50, 8), A.flatten()), 1), np.array([0]),
                        np.zeros(1))["embedding0/embeddings"]
    assert 0.045 < np.abs(table).max() <= 0.05


def test_a_stack_of_three_recurrent_networks_equals_each_trained_alone():
    from dlstat.engine import StackJob, train_stack

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 6 * 2))
    Y = (X[:, :4].sum(1, keepdims=True) > 0).astype(float)
    masks = np.zeros((3, 50))  # each network trains on its own rows, validates on the rest
    for m, size in enumerate((20, 35, 45)):
        masks[m, rng.permutation(50)[:size]] = 1.0
    layers = (A.reshape((6, 2)), A.bidirectional(A.gru(3, return_sequences=True)),
              A.batchnorm(), A.dropout(0.2), A.lstm(4), A.dense(3, "tanh"))
    per_network = {"penalty": np.array([0.0, 0.01, 0.1]), "mixture": np.array([0.0, 0.5, 1.0]),
                   "learning_rate": np.array([0.01, 0.005, 0.02]), "seeds": np.array([1, 2, 3])}

    def train(networks: list[int]):
        return train_stack(StackJob(
            topology=Topology(12, layers, 1), family="binomial", X=X, Y=Y,
            train_weights=masks[networks], val_weights=1.0 - masks[networks],
            output_bias=np.zeros(1), optimizer="adam", epochs=4, batch_size=8, max_norm=3.0,
            **{name: values[networks] for name, values in per_network.items()}))

    stack = train([0, 1, 2])
    for m in range(3):
        alone = train([m])
        for key, value in stack.params.items():
            np.testing.assert_allclose(value[m], alone.params[key][0], atol=1e-5, err_msg=key)
        np.testing.assert_allclose(stack.val_loss[:, m], alone.val_loss[:, 0], atol=1e-5)


def sequences(n: int = 90, seed: int = 0):
    """Sequences whose class is the sign of the sum of their first three values."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, T, 2))
    return X, (X[:, :3, 0].sum(1) > 0).astype(int)


@pytest.fixture(scope="module")
def lstm_classifier():
    X, y = sequences()
    before = X.copy()
    clf = dl.DNNClassifier(architecture=[dl.lstm(6), dl.dense(4)], learning_rate=0.02,
                           epochs=25, seed=1, verbose=0).fit(X, y)
    np.testing.assert_array_equal(X, before)  # the user's array is not modified
    return clf


def test_an_lstm_classifier_learns_from_sequences(lstm_classifier):
    X, y = sequences(seed=5)
    assert lstm_classifier.input_shape_ == (T, 2)
    assert lstm_classifier.score(X, y) > 0.7  # chance is about 0.5
    assert "lstm(6)" in str(lstm_classifier.model_.summary())


def test_a_fitted_lstm_saves_loads_and_exports_to_keras(lstm_classifier, tmp_path):
    X, _ = sequences(20, seed=6)
    rows = X.reshape(20, -1)
    expected = lstm_classifier.predict_proba(X)
    lstm_classifier.model_.save(str(tmp_path / "lstm.dlstat"))
    loaded = dl.load(str(tmp_path / "lstm.dlstat"))
    frame = lstm_classifier._x_frame(rows)
    np.testing.assert_array_equal(loaded.predict(frame, type="prob").to_numpy(), expected)
    exported = lstm_classifier.model_.keras_model(rows.astype(np.float32), training=False)
    np.testing.assert_allclose(np.asarray(exported)[:, 0], expected[:, 1], atol=1e-5)


def test_prediction_sequences_of_another_shape_are_refused(lstm_classifier):
    X, _ = sequences(5)
    with pytest.raises(DataError, match=r"\[7, 2\].*\[5, 2, 7\]"):
        lstm_classifier.predict(X.transpose(0, 2, 1))


def test_nan_in_sequences_is_refused_at_fit_and_predict(lstm_classifier):
    X, y = sequences(30)
    X[4, 2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        dl.DNNClassifier(architecture=[dl.gru(2)], epochs=1, verbose=0).fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        lstm_classifier.predict(X)


def test_an_lstm_classifier_cross_validates_with_cross_val_score():
    from sklearn.model_selection import cross_val_score

    X, y = sequences(60)
    clf = dl.DNNClassifier(architecture=[dl.gru(4)], learning_rate=0.02, epochs=4, seed=1,
                           verbose=0)
    scores = cross_val_score(clf, X, y, cv=3)
    assert scores.shape == (3,) and np.isfinite(scores).all()


def test_cv_dnn_folds_equal_networks_fitted_alone_on_their_training_rows():
    X, y = sequences(45)
    data = pd.DataFrame(X.reshape(45, -1), columns=[f"x{j}" for j in range(T * 2)])
    data["y"] = y
    options = dict(architecture=[dl.reshape((T, 2)), dl.lstm(3)], epochs=3, seed=4, verbose=0)
    cv = dl.cv_dnn("y ~ .", data, folds=3, **options)
    for k, fit in enumerate(cv.fits):
        alone = dl.dnn("y ~ .", data[(cv.fold_ids != k).to_numpy()], **options)
        for key, value in fit.params.items():
            np.testing.assert_allclose(value, alone.params[key], atol=1e-5, err_msg=key)


def codes_data(n: int = 80, seed: int = 0):
    """DNA-like codes 0..3; the class is whether base 2 ("G") comes first."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, size=(n, T))
    return codes, (codes[:, 0] == 2).astype(int)


@pytest.fixture(scope="module")
def embedding_classifier():
    codes, y = codes_data()
    return dl.DNNClassifier(architecture=[dl.embedding(4, 3), dl.bidirectional(dl.gru(4))],
                            learning_rate=0.03, epochs=30, seed=0, verbose=0).fit(codes, y)


def test_integer_codes_go_through_an_embedding_unstandardised(embedding_classifier, tmp_path):
    codes, y = codes_data(60, seed=1)
    fit = embedding_classifier.model_
    assert (fit.spec.center == 0).all() and (fit.spec.scale == 1).all()
    assert embedding_classifier.score(codes, y) > 0.8
    exported = fit.keras_model(codes.astype(np.float32), training=False)
    np.testing.assert_allclose(np.asarray(exported)[:, 0],
                               embedding_classifier.predict_proba(codes)[:, 1], atol=1e-5)
    fit.save(str(tmp_path / "codes.dlstat"))
    assert dl.load(str(tmp_path / "codes.dlstat")).topology == fit.topology


@pytest.mark.parametrize("change,shown", [(lambda c: c + 1, "4"), (lambda c: c - 1, "-1"),
                                          (lambda c: c + 0.5, r"\.5")])
def test_codes_outside_the_embedding_are_refused_at_fit_and_predict(embedding_classifier,
                                                                    change, shown):
    codes, y = codes_data(20)
    bad = change(codes.astype(float))
    with pytest.raises(DataError, match=rf"not codes of the embedding.*0 \.\. 3.*{shown}"):
        embedding_classifier.predict(bad)
    with pytest.raises(DataError, match=r"training data.*not codes"):
        dl.DNNClassifier(architecture=[dl.embedding(4, 2), dl.lstm(2)], epochs=1,
                         verbose=0).fit(bad, y)


def test_dnn_reads_code_columns_of_a_data_frame_through_an_embedding():
    codes, y = codes_data(40)
    data = pd.DataFrame(codes, columns=[f"b{j}" for j in range(T)]).assign(y=y)
    fit = dl.dnn("y ~ .", data, architecture=[dl.embedding(4, 2), dl.rnn(3)], epochs=2,
                 verbose=0)
    assert "embedding(4, 2)" in str(fit.summary())
    assert np.isfinite(fit.predict(data)).all()


def test_an_l1_penalty_zeroes_kernels_and_recurrent_kernels_but_not_embeddings():
    codes, y = codes_data(60)
    clf = dl.DNNClassifier(architecture=[dl.embedding(4, 2), dl.lstm(3)], penalty=5.0,
                           mixture=1.0, learning_rate=0.05, epochs=20, seed=0,
                           verbose=0).fit(codes, y)
    params = clf.model_.params
    assert (params["lstm1/kernel"] == 0).all() and (params["lstm1/recurrent_kernel"] == 0).all()
    assert (params["embedding0/embeddings"] != 0).all()


def test_max_norm_bounds_each_unit_of_both_kernels():
    X, y = sequences(40)
    clf = dl.DNNClassifier(architecture=[dl.rnn(4)], max_norm=0.3, learning_rate=0.1,
                           epochs=3, seed=0, verbose=0).fit(X, y)
    for key in ("rnn1/kernel", "rnn1/recurrent_kernel"):  # after the reshape
        norms = np.sqrt((clf.model_.params[key][0] ** 2).sum(axis=0))
        assert norms.max() <= 0.3 + 1e-5, key


@pytest.mark.parametrize("make,error,shown", [
    (lambda: A.lstm(10**6), OptionError, "units <= 4,096"),
    (lambda: A.gru(0), OptionError, "positive whole"),
    (lambda: A.rnn(4, return_sequences="yes"), OptionTypeError, "return_sequences"),
    (lambda: A.lstm(4, recurrent_activation="softmax"), OptionError, "'softmax'"),
    (lambda: A.bidirectional(A.dense(4)), OptionTypeError, "recurrent layer"),
    (lambda: A.bidirectional(A.lstm(4), merge="max"), OptionError, "merge='max'"),
    (lambda: A.embedding(10**9, 8), OptionError, "input_dim <= 1,000,000"),
    (lambda: A.embedding(20, 10**5), OptionError, "output_dim <= 4,096"),
])
def test_bad_recurrent_arguments_name_the_value_and_the_limit(make, error, shown):
    with pytest.raises(error) as info:
        make()
    assert shown in str(info.value)


@pytest.mark.parametrize("n_inputs,layers,shown", [
    (MAX_SEQUENCE_LENGTH + 1, (A.reshape((MAX_SEQUENCE_LENGTH + 1, 1)), A.lstm(2)),
     "at most 10,000 time steps"),
    (12, (A.lstm(2),), "[12]"),
    (12, (A.reshape((3, 2, 2)), A.gru(2)), "[3, 2, 2]"),
    (12, (A.reshape((6, 2)), A.embedding(5, 2)), "integer codes [T]"),
    (12, (A.dense(4), A.embedding(5, 2)), "must be the first layer"),
])
def test_sequence_shapes_that_do_not_fit_are_refused_before_training(n_inputs, layers, shown):
    with pytest.raises(OptionError) as info:
        A.code_input(layers)
        plan(Topology(n_inputs, layers, 1))
    assert shown in str(info.value)


@pytest.mark.parametrize("edit", [
    lambda layer: layer.update(units=10**9),
    lambda layer: layer.update(return_sequences="eval"),
    lambda layer: layer.update(kind="bidirectional", layer={"kind": "lambda"}, merge="concat"),
])
def test_a_tampered_recurrent_layer_in_a_model_file_is_refused(lstm_classifier, tmp_path,
                                                                edit):
    import io
    import json
    import zipfile

    path = tmp_path / "lstm.dlstat"
    lstm_classifier.model_.save(str(path))
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    name = "__dlstat_spec__.npy"
    spec = json.loads(np.load(io.BytesIO(members[name])).tobytes())
    edit(spec["topology"]["layers"][1])  # after the reshape
    buffer = io.BytesIO()
    np.save(buffer, np.frombuffer(json.dumps(spec).encode(), dtype=np.uint8))
    members[name] = buffer.getvalue()
    with zipfile.ZipFile(path, "w") as zf:
        for member, blob in members.items():
            zf.writestr(member, blob)
    with pytest.raises(ModelFileError):
        dl.load(str(path))


def test_series_windows_split_in_time_order_without_leakage():
    series = dl.datasets.sunspot_year().set_index("year")["sunspots"]
    w = dl.datasets.series_windows(series, steps=10, test=0.2)
    assert w.X_train.shape == (223, 10, 1) and w.X_test.shape == (56, 10, 1)
    assert w.t_train.max() < w.t_test.min() == 1933
    np.testing.assert_array_equal(w.X_test[0, :, 0], series.loc[1923:1932].to_numpy())
    assert w.y_test[0] == series.loc[1933] and w.y_train[-1] == series.loc[1932]
    np.testing.assert_array_equal(w.X_train[1:, -1, 0], w.y_train[:-1])


@pytest.mark.parametrize("series,steps,test,error", [
    ([1.0, np.nan, 3.0, 4.0], 1, 0.2, DataError), ([[1.0, 2.0]], 1, 0.2, DataError),
    (["a", "b", "c"], 1, 0.2, DataError), (np.arange(5.0), 0, 0.2, OptionError),
    (np.arange(5.0), 5, 0.2, DataError), (np.arange(5.0), 1, 1.0, OptionError),
])
def test_series_windows_refuses_what_it_cannot_cut(series, steps, test, error):
    with pytest.raises(error):
        dl.datasets.series_windows(series, steps, test)


def test_dnn_on_a_mapping_reads_a_code_array_unstandardised_and_checks_it():
    codes, y = codes_data(50)
    options = dict(architecture=[dl.embedding(4, 2), dl.lstm(3)], epochs=2, seed=3, verbose=0)
    fit = dl.dnn("y ~ seq", {"y": y, "seq": codes}, **options)
    assert fit.spec.array_center == 0.0 and fit.spec.array_scale == 1.0
    assert np.isfinite(fit.predict({"seq": codes[:5]}, type="response")).all()
    with pytest.raises(DataError, match="training data.*not codes"):
        dl.dnn("y ~ seq", {"y": y, "seq": codes + 1}, **options)
    with pytest.raises(DataError, match="not codes"):
        fit.predict({"seq": codes[:5] + 1})
