"""Transfer learning (issue 10): a network that starts from a fitted dlstat network or a Keras
model (``base=``, ``upto=``, ``freeze=``), frozen layers inside the one traced training loop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import edit_model_spec

import dlstat as dl
from dlstat import architecture as A
from dlstat.engine import StackJob, Topology, train_stack
from dlstat.errors import DataError, ModelFileError, OptionError


@pytest.fixture(scope="module")
def keras():
    from dlstat.engine.graph import tf_module

    tf_module()
    import keras

    return keras


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(160, 3)), columns=["x1", "x2", "x3"])
    frame["y"] = np.sin(frame.x1) + frame.x2 * frame.x3 + rng.normal(scale=0.1, size=160)
    frame["z"] = np.cos(frame.x1) - frame.x2 + rng.normal(scale=0.1, size=160)
    frame["c"] = np.where(frame.x1 + frame.x3 + rng.normal(size=160) > 0, "hi", "lo")
    return frame


@pytest.fixture(scope="module")
def base(data):
    arch = [dl.dense(5, "linear"), dl.batchnorm(), dl.activation("tanh"), dl.dropout(0.1),
            dl.dense(4, "tanh")]
    return dl.dnn("y ~ x1 + x2 + x3", data, architecture=arch, epochs=4, seed=1, verbose=0)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 8, 8))
    return X, (X[:, :4].mean((1, 2)) > 0).astype(int), (X[:, 4:].mean((1, 2)) > 0).astype(int)


@pytest.fixture(scope="module")
def cnn(images):
    X, y, _ = images
    arch = [dl.conv2d(3, 3), dl.batchnorm(), dl.maxpool(2), dl.flatten(), dl.dense(6)]
    return dl.DNNClassifier(architecture=arch, epochs=3, seed=1, verbose=0).fit(X, y)


def _base_keys(fit, n_layers):
    return [d.name for p in fit.topology.placed()[:n_layers] for d in p.params]


# ------------------------------------------------------------------- frozen means unchanged


def test_frozen_layers_are_bit_unchanged_after_training(base, data):
    before = {k: v.copy() for k, v in base.params.items()}
    new = dl.dnn("z ~ x1 + x2 + x3", data, base=base, hidden=(3,), penalty=0.5, mixture=0.5,
                 max_norm=0.5, epochs=5, seed=2, verbose=0)
    keys = _base_keys(base, len(base.topology.layers))
    assert "bn1/moving_mean" in keys and "dense4/kernel" in keys
    for key in keys:  # kernels, biases, batch-norm scale, shift and moving statistics
        np.testing.assert_array_equal(new.params[key], base.params[key], err_msg=key)
    assert not np.array_equal(new.params["dense5/kernel"], new.params["dense5/kernel"] * 0)
    for key, value in before.items():  # the base itself is not modified
        np.testing.assert_array_equal(base.params[key], value)
    assert new.topology.frozen == (0, 1, 2, 3, 4)
    assert any("start from the dlstat fit 'y ~ x1 + x2 + x3' (frozen)" in n
               for n in new.record.notes)


def test_frozen_inputs_keep_the_base_standardisation(base, data):
    new = dl.dnn("z ~ x1 + x2 + x3", data.iloc[:40], base=base, hidden=(), epochs=1,
                 verbose=0)
    np.testing.assert_array_equal(new.spec.center, base.spec.center)
    np.testing.assert_array_equal(new.spec.scale, base.spec.scale)


def test_freeze_false_fine_tunes_and_a_count_freezes_the_first_layers(base, data):
    tuned = dl.dnn("z ~ x1 + x2 + x3", data, base=base, freeze=False, hidden=(),
                   epochs=3, seed=2, verbose=0)
    assert not np.array_equal(tuned.params["dense0/kernel"], base.params["dense0/kernel"])
    assert tuned.topology.frozen == ()
    partly = dl.dnn("z ~ x1 + x2 + x3", data, base=base, freeze=2, hidden=(), epochs=3,
                    seed=2, verbose=0)
    np.testing.assert_array_equal(partly.params["dense0/kernel"], base.params["dense0/kernel"])
    np.testing.assert_array_equal(partly.params["bn1/moving_var"], base.params["bn1/moving_var"])
    assert not np.array_equal(partly.params["dense4/kernel"], base.params["dense4/kernel"])


def test_upto_output_continues_the_base(base, data):
    """The whole fitted network, its output layer trained further: at a learning rate of ~0
    it stays the base (with freeze=False its batch norm would update its moving statistics)."""
    same = dl.dnn("y ~ x1 + x2 + x3", data, base=base, upto="output", hidden=(),
                  learning_rate=1e-12, epochs=1, verbose=0)
    np.testing.assert_allclose(same.predict(data), base.predict(data), atol=1e-5)
    np.testing.assert_allclose(same.params["output/kernel"], base.params["output/kernel"],
                               atol=1e-9)


def test_upto_picks_layers_by_kind_or_count(base):
    from dlstat.transfer import read_base

    assert read_base(base, "batchnorm").layers == base.topology.layers[:2]
    assert read_base(base, 3).layers == base.topology.layers[:3]
    assert read_base(base, -1).layers == base.topology.layers[:4]
    assert read_base(base, None, freeze=1).frozen == (0,)


# ------------------------------------------------------------- equals a GLM on the features


def test_a_head_on_frozen_features_is_the_glm_on_the_extracted_features(base, data):
    head = dl.dnn("z ~ x1 + x2 + x3", data, base=base, hidden=(), optimizer="lbfgs",
                  verbose=0)
    features = dl.base_features(base, data)
    assert features.shape == (160, 4)
    frame = pd.DataFrame(features, columns=["f0", "f1", "f2", "f3"]).assign(z=data.z)
    glm = dl.dnn("z ~ .", frame, hidden=(), optimizer="lbfgs", verbose=0)
    np.testing.assert_allclose(head.predict(data), glm.predict(frame), atol=1e-6)
    # and least squares itself (the gaussian GLM)
    design = np.column_stack([np.ones(160), features])
    coef, *_ = np.linalg.lstsq(design, data.z.to_numpy(), rcond=None)
    np.testing.assert_allclose(head.predict(data), design @ coef, atol=1e-6)


def test_a_binomial_head_on_frozen_features_is_statsmodels_logit(base, data):
    sm = pytest.importorskip("statsmodels.api")
    head = dl.dnn("c ~ x1 + x2 + x3", data, base=base, hidden=(), optimizer="lbfgs",
                  verbose=0)
    features = sm.add_constant(dl.base_features(base, data))
    ref = sm.GLM((data.c == "lo").astype(float), features,
                 family=sm.families.Binomial()).fit()
    np.testing.assert_allclose(head.predict(data, type="response"), ref.fittedvalues,
                               atol=1e-6)


# --------------------------------------------------------------------- stacks and CV


def test_a_stack_of_transfer_networks_equals_each_trained_alone(cnn):
    """Three heads on one frozen conv base (batch norm and dropout included) in one stack."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 64))
    Y = (X[:, :8].sum(1, keepdims=True) > 0).astype(float)
    rows = [rng.permutation(60)[:size] for size in (25, 40, 50)]
    kept = cnn.model_.topology.layers[:5]
    layers = (*kept, A.dropout(0.2), A.dense(4, "tanh"))
    initial = {k: cnn.model_.params[k][0] for k in _base_keys(cnn.model_, 5)}
    settings = dict(penalty=[0.0, 0.01, 0.1], mixture=[0.0, 0.5, 1.0],
                    learning_rate=[0.01, 0.005, 0.02], seeds=[1, 2, 3])

    def train(networks):
        weights = np.zeros((len(networks), 60))
        for i, m in enumerate(networks):
            weights[i, rows[m]] = 1.0
        chosen = {name: np.array(values)[networks] for name, values in settings.items()}
        return train_stack(StackJob(
            topology=Topology(64, layers, 1, frozen=(0, 1, 2, 3, 4)), family="binomial", X=X,
            Y=Y, train_weights=weights, val_weights=1.0 - weights, output_bias=np.zeros(1),
            optimizer="adam", epochs=4, batch_size=8, max_norm=1.0, initial=initial, **chosen))

    stack = train([0, 1, 2])
    for key, value in initial.items():
        np.testing.assert_array_equal(stack.params[key], np.broadcast_to(value, (3, *value.shape)))
    for m in range(3):
        alone = train([m])
        # A network alone convolves with tf.nn.convolution, a stack through vectorized_map:
        # float32 sums in another order (~1e-6 per forward), grown by 4 epochs to ~3e-5.
        for key, value in stack.params.items():
            np.testing.assert_allclose(value[m], alone.params[key][0], atol=1e-4, err_msg=key)
        np.testing.assert_allclose(stack.loss[:, m], alone.loss[:, 0], atol=1e-4)


def test_cv_of_a_new_head_is_one_engine_call(base, data, monkeypatch):
    import dlstat.fitting.blocks as blocks

    calls = []
    real = blocks.train_stack
    monkeypatch.setattr(blocks, "train_stack", lambda job: calls.append(job.size) or real(job))
    cv = dl.cv_dnn("z ~ x1 + x2 + x3", data, folds=3, base=base, hidden=(2,), epochs=2,
                   verbose=0)
    assert calls == [3]
    for fit in cv.fits:
        np.testing.assert_array_equal(fit.params["dense4/kernel"], base.params["dense4/kernel"])
        np.testing.assert_array_equal(fit.spec.center, base.spec.center)


# ---------------------------------------------------------------------- arrays and Keras


def test_an_estimator_transfers_a_cnns_convolutional_part(cnn, images):
    X, _, y2 = images
    new = dl.DNNClassifier(base=cnn, upto="flatten", hidden=(5,), epochs=2, seed=2,
                           verbose=0).fit(X, y2)
    for key in _base_keys(cnn.model_, 5):
        np.testing.assert_array_equal(new.model_.params[key], cnn.model_.params[key])
    assert new.predict(X).shape == (90,)
    features = dl.base_features(cnn, X, upto="flatten")
    assert features.shape == (90, 27)
    with pytest.raises(DataError, match=r"reads arrays \[n, 8, 8, 1\]"):
        dl.DNNClassifier(base=cnn, upto="flatten", epochs=1, verbose=0).fit(X[:, :6], y2)


@pytest.fixture(scope="module")
def keras_model(keras):
    """A small Keras CNN with known, non-trivial weights (batch norm statistics included)."""
    model = keras.Sequential([
        keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, activation="relu", name="c"),
        keras.layers.BatchNormalization(name="bn"), keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(), keras.layers.Dense(3, activation="tanh", name="d"),
        keras.layers.Dense(1, activation="sigmoid")])
    rng = np.random.default_rng(5)
    for layer in model.layers:
        layer.set_weights([rng.normal(size=w.shape).astype("float32") if i != 3 else
                           rng.uniform(0.5, 2.0, size=w.shape).astype("float32")
                           for i, w in enumerate(layer.get_weights())])
    return model


def test_a_keras_base_gives_keras_features_and_frozen_keras_weights(keras, keras_model, images):
    X, _, y2 = images
    inner = keras.Model(keras_model.inputs, keras_model.get_layer("d").output)
    want = inner.predict(X[..., None].astype("float32"), verbose=0)
    np.testing.assert_allclose(dl.base_features(keras_model, X), want, atol=1e-5)
    new = dl.DNNClassifier(base=keras_model, hidden=(), epochs=2, seed=2, verbose=0).fit(X, y2)
    kernel, bias = keras_model.get_layer("c").get_weights()
    np.testing.assert_array_equal(new.model_.params["conv1/kernel"][0], kernel)
    np.testing.assert_array_equal(new.model_.params["conv1/bias"][0].ravel(), bias)
    moving_var = keras_model.get_layer("bn").get_weights()[3]
    np.testing.assert_array_equal(new.model_.params["bn2/moving_var"][0].ravel(), moving_var)
    np.testing.assert_array_equal(new.model_.params["dense5/kernel"][0],
                                  keras_model.get_layer("d").get_weights()[0])
    assert any("the Keras model" in note for note in new.model_.record.notes)
    from dlstat.transfer import read_base

    assert read_base(keras_model, freeze=1).frozen == (0, 1)  # its reshape and the Conv2D
    assert read_base(keras_model, upto="maxpool").layers[-1].kind == "maxpool"
    pooled = dl.base_features(keras_model, X, upto="maxpool")  # images of features
    at_pool = keras.Model(keras_model.inputs, keras_model.layers[2].output)
    np.testing.assert_allclose(pooled, at_pool.predict(X[..., None].astype("float32"),
                                                       verbose=0), atol=1e-5)


def test_unsupported_keras_layers_are_refused_by_class_name(keras):
    model = keras.Sequential([keras.Input((6, 2)), keras.layers.LSTM(3),
                              keras.layers.Dense(1)])
    with pytest.raises(OptionError, match=r"'lstm\w*' is a LSTM"):
        dl.DNNRegressor(base=model, epochs=1, verbose=0).fit(np.zeros((4, 6, 2)), np.zeros(4))
    odd = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax"),
                            keras.layers.Dense(1)])
    with pytest.raises(OptionError, match=r"activation 'softmax'"):
        dl.base_features(odd, np.zeros((2, 4)))
    with pytest.raises(OptionError, match="'output' keeps a dlstat base"):
        dl.base_features(odd, np.zeros((2, 4)), upto="output")


# --------------------------------------------------------------------- files and mistakes


def test_a_transferred_fit_saves_and_loads_with_its_base_weights(base, data, tmp_path):
    new = dl.dnn("z ~ x1 + x2 + x3", data, base=base, hidden=(3,), epochs=2, seed=2,
                 verbose=0)
    path = tmp_path / "transfer.dlstat"
    new.save(path)
    back = dl.load(path)
    assert back.topology.frozen == new.topology.frozen
    np.testing.assert_array_equal(back.predict(data), new.predict(data))
    assert back.record.notes == new.record.notes
    again = dl.dnn("z ~ x1 + x2 + x3", data, base=str(path), upto=2, hidden=(), epochs=1,
                   verbose=0)  # a model file as the base
    np.testing.assert_array_equal(again.params["dense0/kernel"], base.params["dense0/kernel"])


def test_mismatched_inputs_and_outputs_are_clear_errors(base, data, cnn, images):
    with pytest.raises(DataError, match=r"reads \['x1', 'x2', 'x3'\].*2 design columns"):
        dl.dnn("z ~ x1 + x2", data, base=base, verbose=0)
    with pytest.raises(DataError, match=r"reads \['x1', 'x2', 'x3'\]"):
        dl.dnn("z ~ x3 + x2 + x1", data, base=base, verbose=0)  # same width, other order
    with pytest.raises(DataError, match=r"output layer of 1 unit.*needs 2"):
        dl.dnn("cbind(y, z) ~ x1 + x2 + x3", data, base=base, upto="output", hidden=(),
               verbose=0)
    with pytest.raises(DataError, match=r"reads rows of 3 values"):
        dl.DNNClassifier(base=base, epochs=1, verbose=0).fit(images[0], images[1])
    with pytest.raises(OptionError, match=r"upto='conv2d' names no layer.*'dense'"):
        dl.dnn("z ~ x1 + x2 + x3", data, base=base, upto="conv2d", verbose=0)
    with pytest.raises(OptionError, match=r"freeze must be .* from 0 to 5"):
        dl.dnn("z ~ x1 + x2 + x3", data, base=base, freeze=9, verbose=0)
    with pytest.raises(OptionError, match=r"no new layers can follow"):
        dl.dnn("y ~ x1 + x2 + x3", data, base=base, upto="output", hidden=(2,), verbose=0)
    with pytest.raises(OptionError, match=r"upto=2 given without a base"):
        dl.dnn("z ~ x1", data, upto=2, verbose=0)
    with pytest.raises(OptionError, match="is not fitted yet"):
        dl.dnn("z ~ x1", data, base=dl.DNNRegressor(), verbose=0)
    with pytest.raises(dl.DlstatError, match="base must be a fitted dlstat network"):
        dl.dnn("z ~ x1", data, base=[1, 2], verbose=0)


def test_lbfgs_accepts_a_frozen_batchnorm_but_not_a_trained_one(base, data):
    dl.dnn("z ~ x1 + x2 + x3", data, base=base, hidden=(), optimizer="lbfgs", epochs=5,
           verbose=0)
    with pytest.raises(OptionError, match="does not combine with dropout, batchnorm"):
        dl.dnn("z ~ x1 + x2 + x3", data, base=base, freeze=False, hidden=(),
               optimizer="lbfgs", verbose=0)


CODE = "__import__('os').system('touch /tmp/dlstat_transfer_pwned')"


@pytest.mark.parametrize("edit", [
    lambda s: s["topology"].update(frozen=[CODE]),
    lambda s: s["topology"].update(frozen=[3]),
    lambda s: s["topology"].update(frozen=list(range(9))),
    lambda s: s["design"].update(formula=f"y ~ I({CODE})"),
    lambda s: s["options"].update(base=CODE),
], ids=["code as frozen", "a gap in frozen", "more frozen than layers", "code in the formula",
        "a stored base"])
def test_a_hostile_base_file_is_refused_before_anything_runs(base, data, tmp_path, edit):
    good = tmp_path / "good.dlstat"
    base.save(good)
    bad = tmp_path / "bad.dlstat"
    edit_model_spec(good, bad, edit)
    with pytest.raises(ModelFileError):
        dl.dnn("z ~ x1 + x2 + x3", data, base=str(bad), verbose=0)
    import os

    assert not os.path.exists("/tmp/dlstat_transfer_pwned")


# ------------------------------------------------ Keras bases read exactly, or refused


def _hostile_keras_models(keras):
    """Models whose layers, read as a chain by class name, would give other features than
    Keras's own (each is refused, naming the layer)."""
    rng = np.random.default_rng(8)
    inputs = keras.Input((4,))
    shared = keras.layers.Dense(4, activation="tanh", name="shared")
    twice = keras.Model(inputs, keras.layers.Dense(1)(shared(shared(inputs))))

    inputs = keras.Input((4,))
    first = keras.layers.Dense(4, activation="tanh", name="first")(inputs)
    second = keras.layers.Dense(4, activation="tanh", name="second")(first)
    residual = keras.Model(inputs, keras.layers.Dense(1)(keras.ops.add(first, second)))

    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(3, activation="relu", name="unused_branch")(inputs)
    other = keras.layers.Dense(3, name="other")(inputs)
    merged = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Concatenate()(
        [hidden, other])))

    class SineDense(keras.layers.Dense):  # a subclass of Keras's Dense, renamed below
        def call(self, x):
            return keras.ops.sin(super().call(x))

    SineDense.__name__ = SineDense.__qualname__ = "Dense"
    subclass = keras.Sequential([keras.Input((4,)), SineDense(3, name="sine"),
                                 keras.layers.Dense(1)])

    class Lookalike(keras.layers.Layer):  # no Keras Dense at all, but named Dense
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units, self.activation = units, keras.activations.linear

        def build(self, shape):
            self.kernel = self.add_weight(shape=(shape[-1], self.units))
            self.bias = self.add_weight(shape=(self.units,))

        def call(self, x):
            return keras.ops.sin(x @ self.kernel + self.bias)

        def get_config(self):
            return {**super().get_config(), "units": self.units, "activation": "linear"}

    Lookalike.__name__ = Lookalike.__qualname__ = "Dense"
    lookalike = keras.Sequential([keras.Input((4,)), Lookalike(3, name="lookalike"),
                                  keras.layers.Dense(1)])
    squared = keras.Sequential([keras.Input((4,)), keras.layers.Dense(
        3, activation=lambda x: x ** 2, name="squared"), keras.layers.Dense(1)])

    inputs = keras.Input((4,))
    dropped = keras.layers.Dropout(0.5, name="always_drops")(
        keras.layers.Dense(3)(inputs), training=True)
    always = keras.Model(inputs, keras.layers.Dense(1)(dropped))

    class Custom(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(3)
            self.out = keras.layers.Dense(1)

        def call(self, x):
            return self.out(self.dense(x) * 2.0)

    custom = Custom()
    custom(np.zeros((1, 4)))
    models = {"a shared layer applied twice": (twice, "'shared' is applied more than once"),
              "a residual branch": (residual, r"called on 2 tensor"),
              "a merged branch": (merged, r"called on 2 tensor"),
              "a subclass named Dense": (subclass, r"'sine' is a subclass of Keras's Dense"),
              "a custom class named Dense": (lookalike, r"'lookalike' is a Dense \(test_"),
              "a lambda activation": (squared, r"'squared' uses activation '<lambda>'"),
              "a call argument": (always, r"'always_drops'.*\['training'\]"),
              "a subclassed model": (custom, "subclassed model")}
    for model, _ in models.values():
        for layer in model.layers:
            layer.set_weights([rng.normal(size=w.shape) for w in layer.get_weights()])
    return models


HOSTILE = ["a shared layer applied twice", "a residual branch", "a merged branch",
           "a subclass named Dense", "a custom class named Dense", "a lambda activation",
           "a call argument", "a subclassed model"]


@pytest.fixture(scope="module")
def hostile_keras(keras):
    return _hostile_keras_models(keras)


@pytest.mark.parametrize("case", HOSTILE)
def test_keras_models_that_cannot_be_read_exactly_are_refused(hostile_keras, case):
    model, message = hostile_keras[case]
    X = np.random.default_rng(1).normal(size=(6, 4))
    with pytest.raises(OptionError, match=message):
        dl.base_features(model, X)
    with pytest.raises(OptionError, match=message):
        dl.DNNRegressor(base=model, epochs=1, verbose=0).fit(X, X[:, 0])


def test_a_functional_keras_chain_gives_keras_features(keras):
    inputs = keras.Input((4,))
    h = keras.layers.Dense(5, name="d1")(inputs)
    h = keras.layers.BatchNormalization(name="bn")(h)
    h = keras.layers.Activation("silu", name="act")(h)
    h = keras.layers.Dropout(0.3)(h)
    h = keras.layers.Dense(3, activation="tanh", use_bias=False, name="d2")(h)
    model = keras.Model(inputs, keras.layers.Dense(1)(h))
    rng = np.random.default_rng(4)
    for layer in model.layers:
        layer.set_weights([rng.uniform(0.5, 2, size=w.shape) if "variance" in w.path else
                           rng.normal(size=w.shape) for w in layer.weights])
    X = rng.normal(size=(20, 4))
    want = keras.Model(inputs, model.get_layer("d2").output)(X.astype("float32"))
    np.testing.assert_allclose(dl.base_features(model, X), np.asarray(want), atol=1e-5)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_keras_weights_are_refused_naming_the_layer(keras, bad):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="broken"),
                              keras.layers.Dense(1)])
    kernel, bias = model.get_layer("broken").get_weights()
    kernel[1, 1] = bad
    model.get_layer("broken").set_weights([kernel, bias])
    with pytest.raises(OptionError, match=r"'broken' has 1 NaN or infinite value\(s\) in its "
                                          "kernel"):
        dl.DNNRegressor(base=model, epochs=1, verbose=0).fit(np.zeros((8, 3)), np.zeros(8))


def test_a_base_file_with_weights_beyond_float32_is_refused(base, data, tmp_path):
    from conftest import edit_model_weights

    good = tmp_path / "good.dlstat"
    base.save(good)
    bad = edit_model_weights(good, tmp_path / "huge.dlstat", "dense0/kernel",
                             lambda w: w * 1e300)
    assert np.abs(dl.load(bad).params["dense0/kernel"]).max() > 1e299  # prediction is fine
    with pytest.raises(OptionError, match=r"'dense0/kernel' of the dlstat fit .* beyond "
                                          "float32's range"):
        dl.dnn("z ~ x1 + x2 + x3", data, base=str(bad), epochs=1, verbose=0)
