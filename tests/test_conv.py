"""Convolution, pooling and flatten layers and array inputs (issue 10, first slice).

The NumPy/graph/Keras agreement of every layer kind is in ``test_layers.py``; here: shape
arithmetic against Keras, refusals, Keras's Glorot fans, the stacked trainer, and a small CNN on
Fashion-MNIST through ``DNNClassifier`` and ``cross_val_score``.
"""

from __future__ import annotations

import numpy as np
import pytest

import dlstat as dl
from dlstat import architecture as A
from dlstat.engine import Topology, forward, init_params
from dlstat.engine.layers import plan
from dlstat.errors import DataError, OptionError


@pytest.fixture(scope="module")
def keras():
    from dlstat.engine.graph import tf_module

    tf_module()
    import keras

    return keras


# (input shape, our spec, the Keras layer's class name and arguments)
SHAPE_CASES = [
    ((11, 9, 2), A.conv2d(3, 3), "Conv2D", dict(filters=3, kernel_size=3)),
    ((11, 9, 2), A.conv2d(3, (4, 2), strides=(3, 2), padding="same"), "Conv2D",
     dict(filters=3, kernel_size=(4, 2), strides=(3, 2), padding="same")),
    ((12, 10, 1), A.conv2d(2, 3, dilation=(2, 3)), "Conv2D",
     dict(filters=2, kernel_size=3, dilation_rate=(2, 3))),
    ((12, 10, 1), A.conv2d(2, 2, dilation=2, padding="same"), "Conv2D",
     dict(filters=2, kernel_size=2, dilation_rate=2, padding="same")),
    ((17, 3), A.conv1d(4, 5, strides=3), "Conv1D", dict(filters=4, kernel_size=5, strides=3)),
    ((17, 3), A.conv1d(4, 4, padding="same", dilation=3), "Conv1D",
     dict(filters=4, kernel_size=4, padding="same", dilation_rate=3)),
    ((11, 9, 2), A.maxpool(3, strides=2), "MaxPooling2D", dict(pool_size=3, strides=2)),
    ((11, 9, 2), A.maxpool((2, 3), padding="same"), "MaxPooling2D",
     dict(pool_size=(2, 3), padding="same")),
    ((11, 9, 2), A.avgpool(4, strides=3, padding="same"), "AveragePooling2D",
     dict(pool_size=4, strides=3, padding="same")),
    ((17, 3), A.maxpool(4, padding="same"), "MaxPooling1D", dict(pool_size=4, padding="same")),
    ((17, 3), A.avgpool(3, strides=1), "AveragePooling1D", dict(pool_size=3, strides=1)),
    ((11, 9, 2), A.global_avgpool(), "GlobalAveragePooling2D", {}),
    ((17, 3), A.flatten(), "Flatten", {}),
]


@pytest.mark.parametrize("in_shape,spec,keras_name,kwargs", SHAPE_CASES)
def test_output_shapes_match_keras_on_random_inputs(keras, in_shape, spec, keras_name, kwargs):
    topology = Topology(int(np.prod(in_shape)), (A.reshape(in_shape), spec, A.flatten()), 1)
    ours = plan(topology)[1].out_shape
    x = np.random.default_rng(0).normal(size=(2, *in_shape)).astype(np.float32)
    theirs = getattr(keras.layers, keras_name)(**kwargs)(x).shape[1:]
    assert ours == tuple(theirs)


@pytest.mark.parametrize("n_inputs,layers,shown", [
    (25, (A.reshape((5, 5, 1)), A.conv2d(2, 7)), ["conv2d", "[5, 5, 1]", "[-1, -1]"]),
    (36, (A.reshape((6, 6, 1)), A.conv2d(2, 3, dilation=3)), ["conv2d", "dilation [3, 3]"]),
    (32, (A.reshape((4, 4, 2)), A.maxpool(5)), ["maxpool", "[4, 4, 2]"]),
    (18, (A.reshape((9, 2)), A.conv2d(2, 3)), ["conv2d", "conv1d"]),
    (18, (A.reshape((9, 2)), A.maxpool((2, 2))), ["maxpool", "spatial dimensions (1)"]),
    (32, (A.reshape((4, 4, 2)), A.dense(3)), ["dense", "[4, 4, 2]", "flatten()"]),
    (32, (A.conv2d(2, 3),), ["conv2d", "[32]", "reshape"]),
    (32, (A.reshape((5, 7)),), ["reshape([5, 7])", "35", "[32]"]),
])
def test_shapes_that_do_not_fit_are_refused_before_training(n_inputs, layers, shown):
    with pytest.raises(OptionError) as info:
        plan(Topology(n_inputs, layers, 1))
    for text in shown:
        assert text in str(info.value)


@pytest.mark.parametrize("make,shown", [
    (lambda: A.conv2d(0, 3), "positive whole"),
    (lambda: A.conv2d(4, (3, 3, 3)), "kernel_size=(3, 3, 3)"),
    (lambda: A.conv1d(4, (3, 3)), "kernel_size=(3, 3)"),
    (lambda: A.conv2d(4, 3, padding="full"), "padding='full'"),
    (lambda: A.conv2d(4, 3, strides=2, dilation=2), "not both"),
    (lambda: A.conv2d(4, 2.5), "kernel_size=2.5"),
    (lambda: A.conv2d(4, True), "kernel_size=True"),
    (lambda: A.maxpool(0), "pool_size=0"),
    (lambda: A.avgpool((2, 2), strides=(1, 1, 1)), "same length"),
    (lambda: A.conv2d(4, 3, activation="softmax"), "'softmax'"),
    (lambda: A.reshape(()), "shape=()"),
])
def test_bad_layer_arguments_name_the_value(make, shown):
    with pytest.raises(OptionError) as info:
        make()
    assert shown in str(info.value)


def test_specs_round_trip_through_json():
    layers = (A.reshape((8, 8, 1)), A.conv2d(4, (3, 2), strides=(2, 1), padding="same"),
              A.conv1d(3, 2, dilation=2), A.maxpool(2), A.avgpool((2, 3), strides=1),
              A.flatten(), A.global_avgpool())
    assert A.from_json(A.to_json(layers)) == layers


def test_conv_kernels_start_glorot_uniform_with_keras_fans():
    """Keras counts a kernel's fans times its receptive field (kh * kw)."""
    topology = Topology(10 * 10 * 3, (A.reshape((10, 10, 3)), A.conv2d(16, 5), A.flatten()), 1)
    kernel = init_params(topology, np.array([0]), np.zeros(1))["conv1/kernel"]
    assert kernel.shape == (1, 5, 5, 3, 16)
    limit = np.sqrt(6.0 / (5 * 5 * 3 + 5 * 5 * 16))
    assert limit * 0.95 < np.abs(kernel).max() <= limit


def test_a_stack_of_three_cnns_equals_each_trained_alone():
    from dlstat.engine import StackJob, train_stack

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 36))
    Y = (X[:, :6].sum(1, keepdims=True) > 0).astype(float)
    rows = [rng.permutation(60)[:size] for size in (25, 40, 50)]  # each network its own rows
    layers = (A.reshape((6, 6, 1)), A.conv2d(3, 3, padding="same"), A.batchnorm(),
              A.dropout(0.2), A.maxpool(2), A.conv2d(2, 2), A.flatten(), A.dense(4, "tanh"))
    settings = dict(penalty=[0.0, 0.01, 0.1], mixture=[0.0, 0.5, 1.0],
                    learning_rate=[0.01, 0.005, 0.02], seeds=[1, 2, 3])

    def train(networks: list[int]):
        weights = np.zeros((len(networks), 60))
        for i, m in enumerate(networks):
            weights[i, rows[m]] = 1.0
        chosen = {name: np.array(values)[networks] for name, values in settings.items()}
        return train_stack(StackJob(
            topology=Topology(36, layers, 1), family="binomial", X=X, Y=Y,
            train_weights=weights, val_weights=1.0 - weights, output_bias=np.zeros(1),
            optimizer="adam", epochs=6, batch_size=8, **chosen))

    stack = train([0, 1, 2])
    for m in range(3):
        alone = train([m])
        # float32 batched kernels round alike only to ~1e-6 (dense networks too, as in
        # test_engine's stack-vs-alone test), hence its tolerance
        for key, value in stack.params.items():
            np.testing.assert_allclose(value[m], alone.params[key][0], atol=1e-5, err_msg=key)
        for got, want in ((stack.loss, alone.loss), (stack.val_loss, alone.val_loss)):
            np.testing.assert_allclose(got[:, m], want[:, 0], atol=1e-5)


@pytest.fixture(scope="module")
def fashion():
    X, y = dl.datasets.fashion_mnist(n=400)
    Xt, yt = dl.datasets.fashion_mnist("test", n=300)
    return X / 255.0, np.asarray(y), Xt / 255.0, np.asarray(yt)


SMALL_CNN = [dl.conv2d(6, 3), dl.maxpool(2), dl.flatten(), dl.dense(24)]


@pytest.fixture(scope="module")
def cnn(fashion):
    X, y, _, _ = fashion
    X_before = X.copy()
    clf = dl.DNNClassifier(architecture=SMALL_CNN, epochs=12, seed=1, verbose=0).fit(X, y)
    np.testing.assert_array_equal(X, X_before)  # the user's array is not modified
    return clf


def test_a_small_cnn_learns_fashion_mnist(cnn, fashion):
    _, _, Xt, yt = fashion
    assert cnn.input_shape_ == (28, 28, 1)
    assert cnn.score(Xt, yt) > 0.6  # chance is 0.1
    assert cnn.score(Xt[..., None], yt) == cnn.score(Xt, yt)  # [n, h, w, 1] reads the same


def test_a_fitted_cnn_saves_loads_and_exports_to_keras(cnn, fashion, tmp_path):
    _, _, Xt, _ = fashion
    rows = Xt[:20].reshape(20, -1)
    frame = cnn._x_frame(rows)
    expected = cnn.model_.predict(frame, type="prob").to_numpy()
    np.testing.assert_allclose(cnn.predict_proba(Xt[:20]), expected)
    cnn.model_.save(str(tmp_path / "cnn.dlstat"))
    loaded = dl.load(str(tmp_path / "cnn.dlstat"))
    np.testing.assert_array_equal(loaded.predict(frame, type="prob").to_numpy(), expected)
    exported = cnn.model_.keras_model(rows.astype(np.float32), training=False).numpy()
    np.testing.assert_allclose(exported, expected, atol=1e-5)


def test_predicting_many_images_uses_the_graph_with_the_numpy_numbers(cnn, fashion,
                                                                     monkeypatch):
    """Past GRAPH_FORWARD_VALUES predict() runs the compiled forward (float32, seconds rather
    than the float64 NumPy forward's minutes on 10,000 images): the same probabilities to
    float32 precision, and the same numbers on every call."""
    from dlstat.engine import network
    from dlstat.engine.graph import forward_in_graph

    _, _, Xt, _ = fashion
    numpy_probs = cnn.predict_proba(Xt)  # 300 images: below the threshold, NumPy
    calls = []
    monkeypatch.setattr(network, "GRAPH_FORWARD_VALUES", 1000)
    monkeypatch.setattr("dlstat.engine.graph.forward_in_graph",
                        lambda *a: calls.append(1) or forward_in_graph(*a))
    graph_probs = cnn.predict_proba(Xt)
    assert calls == [1]
    np.testing.assert_allclose(graph_probs, numpy_probs, atol=1e-5)
    np.testing.assert_array_equal(cnn.predict_proba(Xt), graph_probs)


def test_a_cnn_cross_validates_with_cross_val_score(fashion):
    from sklearn.model_selection import cross_val_score

    X, y, _, _ = fashion
    clf = dl.DNNClassifier(architecture=SMALL_CNN, epochs=6, seed=1, verbose=0)
    scores = cross_val_score(clf, X[:300], y[:300], cv=3)
    assert scores.shape == (3,) and scores.min() > 0.4


def test_array_input_needs_an_architecture_that_starts_with_a_convolution(fashion):
    X, y, _, _ = fashion
    with pytest.raises(OptionError, match=r"\[400, 28, 28\].*conv2d"):
        dl.DNNClassifier(hidden=(8,), epochs=1, verbose=0).fit(X, y)
    with pytest.raises(OptionError, match="flatten"):
        dl.DNNClassifier(architecture=[dl.conv2d(2, 3), dl.dense(4)], epochs=1,
                         verbose=0).fit(X, y)


def test_prediction_arrays_of_another_shape_are_refused(cnn, fashion):
    _, _, Xt, _ = fashion
    with pytest.raises(DataError, match=r"\[28, 28, 1\].*\[5, 14, 56\]"):
        cnn.predict(Xt[:5].reshape(5, 14, 56))
    flat = dl.DNNClassifier(hidden=(4,), epochs=1, verbose=0).fit(Xt[:40].reshape(40, -1),
                                                                   np.arange(40) % 2)
    with pytest.raises(DataError, match=r"matrix.*\[3, 28, 28\]"):
        flat.predict(Xt[:3])


def test_sequences_fit_a_regressor_with_conv1d():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(120, 12, 2))
    y = X[:, 3:6, 0].sum(1) - X[:, 8:, 1].mean(1)
    arch = [dl.conv1d(4, 3, padding="same"), dl.global_avgpool(), dl.dense(8)]
    reg = dl.DNNRegressor(architecture=arch, epochs=30, learning_rate=0.01, seed=0,
                          verbose=0).fit(X, y)
    assert reg.input_shape_ == (12, 2)
    assert reg.predict(X).shape == (120,) and np.isfinite(reg.predict(X)).all()


def test_max_norm_bounds_each_filter(fashion):
    X, y, _, _ = fashion
    clf = dl.DNNClassifier(architecture=[dl.conv2d(4, 3), dl.flatten()], max_norm=0.5,
                           learning_rate=0.05, epochs=2, seed=0, verbose=0).fit(X[:100], y[:100])
    kernel = clf.model_.params["conv1/kernel"][0]
    norms = np.sqrt((kernel ** 2).sum(axis=(0, 1, 2)))
    assert norms.max() <= 0.5 + 1e-5


def test_dnn_reads_pixel_columns_as_an_image_through_reshape():
    import pandas as pd

    rng = np.random.default_rng(0)
    data = pd.DataFrame(rng.normal(size=(80, 16)), columns=[f"p{j}" for j in range(16)])
    data["y"] = data.p0 + data.p5 - data.p10
    fit = dl.dnn("y ~ .", data, architecture=[dl.reshape((4, 4, 1)), dl.conv2d(3, 2),
                                              dl.maxpool(2), dl.flatten(), dl.dense(4)],
                 epochs=3, verbose=0)
    assert "conv2d(3, (2, 2), relu)" in str(fit.summary())
    tidy = fit.tidy()  # a kernel's weights belong to no one column: one row per kernel
    assert list(tidy.term) == ["conv1/kernel", "dense4/kernel", "output/kernel"]
    assert np.isfinite(fit.predict(data)).all()


def test_an_array_with_an_empty_dimension_is_refused():
    with pytest.raises(DataError, match=r"\[10, 0, 5\]"):
        dl.DNNClassifier(architecture=[dl.conv1d(2, 1), dl.flatten()], verbose=0).fit(
            np.zeros((10, 0, 5)), np.arange(10) % 2)


def test_cv_dnn_trains_every_fold_of_a_cnn_in_one_call():
    import pandas as pd

    rng = np.random.default_rng(1)
    data = pd.DataFrame(rng.normal(size=(60, 16)), columns=[f"p{j}" for j in range(16)])
    data["y"] = data.p0 - data.p15
    cnn = [dl.reshape((4, 4, 1)), dl.conv2d(2, 2), dl.flatten()]
    cv = dl.cv_dnn("y ~ .", data, folds=3, architecture=cnn, epochs=2, verbose=0)
    assert len(cv.metrics) == 3 and len(cv.fits) == 3
    assert all(fit.topology.layers[1] == dl.conv2d(2, 2) for fit in cv.fits)
    assert np.isfinite(np.asarray(cv.predictions, dtype=float)).all()


# A single network convolves with a plain tf.nn.convolution, a stack with vectorized_map;
# pooling folds the stack into the rows.  Both must give a network the same numbers.
FAST_PATH_CASES = [
    ((9, 8, 2), (A.conv2d(3, 3, padding="same"), A.maxpool(2, padding="same"),
                 A.conv2d(2, (2, 3), strides=(2, 1)), A.avgpool(2, strides=1))),
    ((10, 10, 1), (A.conv2d(2, 3, dilation=2), A.avgpool(3, padding="same"),
                   A.conv2d(2, 2, activation="tanh"))),
    ((13, 3), (A.conv1d(4, 3, strides=2, padding="same"), A.maxpool(2),
               A.conv1d(2, 2, dilation=2), A.avgpool(2, padding="same"))),
]


@pytest.mark.parametrize("in_shape,layers", FAST_PATH_CASES, ids=["2d", "2d-dilated", "1d"])
def test_a_single_network_convolves_as_it_does_in_a_stack(in_shape, layers):
    from dlstat.engine.graph import tf_module
    from dlstat.engine.layers import StackContext, tf_forward

    tf = tf_module()
    topology = Topology(int(np.prod(in_shape)), (A.reshape(in_shape), *layers, A.flatten()), 2)
    placed = plan(topology)
    rng = np.random.default_rng(5)
    params = {k: rng.normal(scale=0.6, size=v.shape)
              for k, v in init_params(topology, np.arange(3), np.zeros(2)).items()}
    X = rng.normal(size=(1, 17, topology.n_inputs))

    @tf.function
    def run(P, h):
        return tf_forward(tf, placed, P, h, StackContext(False))

    def as_tf(P):
        return {k: tf.constant(v, tf.float32) for k, v in P.items()}

    stacked = run(as_tf(params), tf.constant(X, tf.float32)).numpy()
    assert stacked.shape == (3, 17, 2)
    for m in range(3):
        alone = run(as_tf({k: v[m:m + 1] for k, v in params.items()}), tf.constant(X, tf.float32))
        np.testing.assert_allclose(alone.numpy()[0], stacked[m], rtol=1e-5, atol=1e-5)
        expected = forward({k: v[m:m + 1] for k, v in params.items()}, topology, X[0])
        np.testing.assert_allclose(stacked[m], expected, rtol=1e-4, atol=1e-4)


def test_the_numpy_forward_goes_through_rows_in_chunks(monkeypatch):
    """Prediction holds a bounded number of values per layer at once (a CNN over 60,000 images
    would not fit in memory), with the same numbers as in one piece."""
    from dlstat.engine import convolution, layers

    hidden = (A.reshape((12, 12, 2)), A.conv2d(4, 3), A.batchnorm(), A.maxpool(2),
              A.avgpool(2, strides=1), A.flatten(), A.dense(3))
    topology = Topology(288, hidden, 2)
    params = init_params(topology, np.array([3]), np.zeros(2))
    X = np.random.default_rng(2).normal(size=(50, 288))
    whole = forward(params, topology, X)
    chunks = []
    for kind in (convolution.ConvKind, layers.BatchNormKind, layers.DenseKind):
        monkeypatch.setattr(kind, "numpy_forward", lambda self, p, P, h, f=kind.numpy_forward:
                            chunks.append((p.kind.name, len(h))) or f(self, p, P, h))
    # The convolution's windows are the largest: 10 * 10 positions * 9 * 2 values per row.
    monkeypatch.setattr(layers, "_NUMPY_CHUNK_VALUES", 10 * 10 * 9 * 2 * 7)
    np.testing.assert_allclose(forward(params, topology, X), whole, rtol=1e-12, atol=1e-12)
    assert [rows for name, rows in chunks if name == "conv"] == [7] * 7 + [1]
    assert [rows for name, rows in chunks if name == "bn"] == [7] * 7 + [1]


def test_measuring_a_large_cnn_uses_the_graph_with_the_numpy_numbers(monkeypatch):
    """Past GRAPH_FORWARD_VALUES a fit's deviance and metrics come from the compiled forward
    (float32), which gives the NumPy forward's numbers to float32 precision."""
    from dlstat.engine import forward_auto, network
    from dlstat.engine.graph import forward_in_graph

    hidden = (A.reshape((10, 10, 1)), A.conv2d(4, 3), A.batchnorm(), A.maxpool(2),
              A.flatten(), A.dense(5, "tanh"))
    topology = Topology(100, hidden, 3)
    params = init_params(topology, np.array([4]), np.zeros(3))
    X = np.random.default_rng(5).normal(size=(2100, 100))
    exact = forward(params, topology, X)
    np.testing.assert_allclose(forward_in_graph(params, topology, X), exact, atol=2e-5)
    calls = []
    monkeypatch.setattr(network, "GRAPH_FORWARD_VALUES", 1000)
    monkeypatch.setattr("dlstat.engine.graph.forward_in_graph",
                        lambda *a: calls.append(1) or forward_in_graph(*a))
    np.testing.assert_allclose(forward_auto(params, topology, X), exact, atol=2e-5)
    assert calls == [1]
    monkeypatch.setattr(network, "GRAPH_FORWARD_VALUES", 10 ** 12)
    np.testing.assert_array_equal(forward_auto(params, topology, X), exact)
    assert calls == [1]
