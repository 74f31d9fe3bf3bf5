"""The layer table: every layer kind and every activation gives the same outputs through the
NumPy forward (prediction), the stacked TensorFlow forward (the training graph, inference mode)
and the Keras export, on random inputs and random weights."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from dlstat import architecture as A
from dlstat.engine import Topology, forward, init_params
from dlstat.engine.activations import ACTIVATION_TABLE
from dlstat.engine.layers import LAYER_TABLE, StackContext, param_defs, plan, tf_forward

N_INPUTS = 4

# (id, hidden layers, outputs): every activation in a dense layer and on its own, then mixed
# stacks with batch normalisation (on the inputs too), dropout, no dense layer, and a GLM.
CASES = [(f"dense-{name}", (A.dense(5, name), A.activation(name)), 2) for name in ACTIVATION_TABLE]
CASES += [
    ("bn-stack", (A.dense(6, "linear"), A.batchnorm(0.8, 1e-2), A.activation("elu"),
                  A.dropout(0.3), A.dense(3, "tanh")), 1),
    ("bn-on-inputs", (A.batchnorm(), A.dense(5, "selu"), A.dropout(0.5), A.batchnorm()), 3),
    ("no-dense", (A.dropout(0.2), A.activation("sigmoid")), 2),
    ("glm", (), 3),
]

# Convolution, pooling, reshape and flatten (n_inputs, hidden layers, outputs): 2-D and 1-D,
# padding, strides, dilation, channel-wise batch normalisation and dropout after them.
CONV_CASES = [
    ("conv2d-bn-maxpool", 72, (A.reshape((6, 6, 2)), A.conv2d(4, 3, padding="same",
                                                             activation="tanh"),
                               A.batchnorm(0.8, 1e-2), A.activation("relu"), A.maxpool(2),
                               A.dropout(0.2), A.flatten(), A.dense(3)), 2),
    ("conv2d-strided-dilated-avgpool", 49, (A.reshape((7, 7, 1)),
                                            A.conv2d(3, (3, 2), strides=(2, 1),
                                                     activation="elu"),
                                            A.conv2d(2, 2, dilation=2, padding="same"),
                                            A.avgpool(2, strides=1, padding="same"),
                                            A.global_avgpool()), 3),
    ("conv1d-sequence", 27, (A.reshape((9, 3)), A.conv1d(4, 3, dilation=2, padding="same",
                                                         activation="selu"),
                             A.batchnorm(), A.maxpool(3, strides=2, padding="same"),
                             A.conv1d(2, 2, strides=2, activation="linear"),
                             A.avgpool(2, padding="same"), A.flatten(), A.dense(2)), 2),
    ("global-avgpool-1d", 10, (A.reshape((5, 2)), A.global_avgpool()), 2),
    # an image plus 3 tabular inputs that join after flattening (mixed inputs)
    ("conv2d-joined-tabular", 39, (A.reshape((6, 6, 1), joined=3), A.conv2d(2, 3),
                                   A.maxpool(2), A.flatten(), A.dense(4)), 2),
    ("gap-joined-tabular", 22, (A.reshape((10, 2), joined=2), A.conv1d(3, 2),
                                A.global_avgpool(), A.batchnorm()), 1),
]

# Recurrent layers and embeddings (issue 10): every cell, all states or the last, both
# directions with each merge, batch normalisation and dropout after them, codes first.
RECURRENT_CASES = [
    ("rnn-sequences-bn", 18, (A.reshape((6, 3)), A.rnn(4, return_sequences=True),
                              A.batchnorm(0.8, 1e-2), A.dropout(0.2), A.rnn(3, "relu")), 2),
    ("lstm-stack", 18, (A.reshape((6, 3)), A.lstm(5, return_sequences=True),
                        A.lstm(3, "elu", "tanh"), A.dense(2)), 2),
    ("gru-sequences-flatten", 12, (A.reshape((4, 3)), A.gru(3, return_sequences=True),
                                   A.flatten()), 1),
    ("gru-gates", 12, (A.reshape((6, 2)), A.gru(4, "selu", "sigmoid")), 3),
    ("bidirectional-concat-sum", 15, (A.reshape((5, 3)),
                                      A.bidirectional(A.lstm(3, return_sequences=True)),
                                      A.bidirectional(A.gru(2), merge="sum")), 2),
    ("bidirectional-mul-ave", 10, (A.reshape((5, 2)),
                                   A.bidirectional(A.rnn(3, return_sequences=True), "mul"),
                                   A.bidirectional(A.rnn(2), "ave")), 1),
    ("embedding-lstm", 7, (A.embedding(5, 3), A.lstm(4)), 2),
    ("embedding-gap", 7, (A.embedding(6, 2), A.global_avgpool()), 2),
    # longer than cells.UNROLL_STEPS: scanned over time instead of unrolled
    ("gru-lstm-scanned", 40, (A.reshape((40, 1)), A.bidirectional(A.gru(2, return_sequences=True)),
                              A.lstm(2)), 1),
]


def random_params(topology: Topology, seed: int) -> dict[str, np.ndarray]:
    """Random weights for one network; batch-norm moving statistics far from (0, 1)."""
    rng = np.random.default_rng(seed)
    params = init_params(topology, np.array([seed]), np.zeros(topology.n_outputs))
    for name, d in param_defs(topology).items():
        if name.endswith("moving_var"):
            params[name] = rng.uniform(0.3, 3.0, size=(1, *d.shape))
        elif name.endswith("moving_mean"):
            params[name] = rng.normal(scale=2.0, size=(1, *d.shape))
        else:
            params[name] = rng.normal(scale=0.7, size=(1, *d.shape))
    return params


@pytest.fixture(scope="module")
def tf():
    from dlstat.engine.graph import tf_module

    return tf_module()


@pytest.fixture(scope="module")
def keras(tf):
    import keras

    return keras


def graph_forward(tf, topology, params, X):
    """The training graph's stacked forward in inference mode, traced as the trainer is."""
    placed = plan(topology)

    @tf.function
    def run(P, h):
        return tf_forward(tf, placed, P, h, StackContext(False))

    P = {k: tf.constant(v, tf.float32) for k, v in params.items()}
    return run(P, tf.constant(X[None], tf.float32)).numpy()[0]


def keras_forward(topology, params, X):
    from dlstat.engine.keras_export import to_keras
    from dlstat.families import LINKS

    fit = SimpleNamespace(
        params=params, topology=topology,
        spec=SimpleNamespace(scale=np.ones(topology.n_inputs), center=np.zeros(topology.n_inputs)),
        family=SimpleNamespace(name="link-scale", link_fn=LINKS["identity"], standardised=False))
    model = to_keras(fit)
    X = X.astype(np.float32)
    if len(model.inputs) == 2:  # an array input and tabular inputs joined after flattening
        split = model.inputs[0].shape[-1]
        return model([X[:, :split], X[:, split:]], training=False).numpy(), model
    return model(X, training=False).numpy(), model


def test_every_layer_kind_and_activation_is_covered():
    kinds = {layer.kind for _, layers, _ in CASES for layer in layers} | {"output"}
    kinds |= {layer.kind for _, _, layers, _ in CONV_CASES + RECURRENT_CASES for layer in layers}
    kinds |= {p.layer.kind for _, n, layers, k in CONV_CASES for p in plan(Topology(n, layers, k))}
    kinds |= {layer.layer.kind for _, _, layers, _ in RECURRENT_CASES for layer in layers
              if isinstance(layer, A.Bidirectional)}
    assert kinds == set(LAYER_TABLE)
    used = {getattr(layer, "activation", getattr(layer, "name", None))
            for _, layers, _ in CASES for layer in layers}
    assert set(A.ACTIVATIONS) <= used
    assert tuple(ACTIVATION_TABLE) == A.ACTIVATIONS  # the specs and the table list the same


ALL_CASES = [(name, N_INPUTS, layers, k) for name, layers, k in CASES] + CONV_CASES + \
    RECURRENT_CASES


def random_inputs(topology: Topology, rows: int) -> np.ndarray:
    """Random values, or random codes when the network starts with an embedding."""
    rng = np.random.default_rng(1)
    first = topology.layers[0] if topology.layers else None
    if isinstance(first, A.Embedding):
        return rng.integers(0, first.input_dim, size=(rows, topology.n_inputs)).astype(float)
    return rng.normal(scale=1.5, size=(rows, topology.n_inputs))


@pytest.mark.parametrize("name,n_inputs,layers,k", ALL_CASES, ids=[c[0] for c in ALL_CASES])
def test_numpy_graph_and_keras_forwards_agree(tf, keras, name, n_inputs, layers, k):
    topology = Topology(n_inputs, layers, k)
    X = random_inputs(topology, 64)
    for seed in (3, 4):
        params = random_params(topology, seed)
        expected = forward(params, topology, X)
        assert expected.shape == (64, k) and np.isfinite(expected).all()
        np.testing.assert_allclose(graph_forward(tf, topology, params, X), expected,
                                   rtol=1e-5, atol=1e-5, err_msg=f"{name}: graph")
        exported, _ = keras_forward(topology, params, X)
        np.testing.assert_allclose(exported, expected, rtol=1e-5, atol=1e-5,
                                   err_msg=f"{name}: keras")


def test_keras_layer_names_follow_the_parameter_keys(tf, keras):
    layers = (A.dense(6, "linear"), A.batchnorm(), A.activation("relu"), A.dropout(0.1))
    topology = Topology(N_INPUTS, layers, 1)
    _, model = keras_forward(topology, random_params(topology, 0), np.zeros((2, N_INPUTS)))
    assert [layer.name for layer in model.layers] == ["standardise", "dense0", "bn1", "act2",
                                                      "dropout3", "output"]


def test_parameter_keys_and_shapes_are_the_saved_ones():
    """Model files store weights under these keys; they must never change."""
    topology = Topology(3, (A.dense(4), A.batchnorm(), A.dropout(0.2), A.dense(2)), 5,
                        output_bias=False)
    shapes = {k: v.shape for k, v in init_params(topology, np.array([1, 2]), np.zeros(5)).items()}
    assert shapes == {
        "dense0/kernel": (2, 3, 4), "dense0/bias": (2, 1, 4), "bn1/gamma": (2, 1, 4),
        "bn1/beta": (2, 1, 4), "bn1/moving_mean": (2, 1, 4), "bn1/moving_var": (2, 1, 4),
        "dense3/kernel": (2, 4, 2), "dense3/bias": (2, 1, 2), "output/kernel": (2, 2, 5),
        "output/bias": (2, 1, 5)}
    defs = param_defs(topology)
    assert {n for n, d in defs.items() if d.penalised} == {"dense0/kernel", "dense3/kernel",
                                                           "output/kernel"}
    assert {n for n, d in defs.items() if not d.trainable} == {
        "bn1/moving_mean", "bn1/moving_var", "output/bias"}
    assert topology.input_kernel() == "dense0/kernel"
    assert topology.n_parameters() == 3 * 4 + 4 + 2 * 4 + 4 * 2 + 2 + 2 * 5


def test_a_glm_starts_at_the_null_model_and_its_input_kernel_is_the_output():
    topology = Topology(3, (), 1)
    params = init_params(topology, np.array([7]), np.array([0.25]))
    assert topology.input_kernel() == "output/kernel"
    assert (params["output/kernel"] == 0).all() and (params["output/bias"] == 0.25).all()
