"""Hand a fitted network out as a plain Keras model (imports TensorFlow)."""

from __future__ import annotations

import numpy as np

from ..architecture import Activation, BatchNorm, Dense, Dropout


def to_keras(fit):
    """A ``keras.Sequential`` from raw design columns to predictions on the response scale."""
    from .graph import tf_module

    tf_module()
    import keras

    P, topo, spec, fam = fit.params, fit.topology, fit.spec, fit.family
    layers = [keras.Input(shape=(topo.n_inputs,)),
              keras.layers.Rescaling(1.0 / spec.scale, offset=-spec.center / spec.scale,
                                     name="standardise")]
    weights = [None, None]
    for i, layer in enumerate(topo.layers):
        if isinstance(layer, Dense):
            layers.append(keras.layers.Dense(layer.units, activation=layer.activation,
                                             name=f"dense{i}"))
            weights.append([P[f"dense{i}/kernel"][0], P[f"dense{i}/bias"][0, 0]])
        elif isinstance(layer, BatchNorm):
            layers.append(keras.layers.BatchNormalization(epsilon=layer.epsilon,
                                                          momentum=layer.momentum, name=f"bn{i}"))
            weights.append([P[f"bn{i}/{k}"][0, 0] for k in
                            ("gamma", "beta", "moving_mean", "moving_var")])
        elif isinstance(layer, Activation):
            layers.append(keras.layers.Activation(layer.name, name=f"act{i}"))
            weights.append(None)
        elif isinstance(layer, Dropout):
            layers.append(keras.layers.Dropout(layer.rate, name=f"dropout{i}"))
            weights.append(None)
    inverse = {"identity": "linear", "logit": "sigmoid", "softmax": "softmax", "log": "exponential"}
    layers.append(keras.layers.Dense(topo.n_outputs, activation=inverse[fam.link],
                                     name="output"))
    weights.append([P["output/kernel"][0], P["output/bias"][0, 0]])
    if fam.name == "gaussian":
        layers.append(keras.layers.Rescaling(fam.y_scale, offset=fam.y_center, name="response"))
        weights.append(None)
    model = keras.Sequential(layers[1:], name="dlstat")
    model.build((None, topo.n_inputs))
    for layer, w in zip(model.layers, weights[1:]):
        if w is not None:
            layer.set_weights([np.asarray(a, dtype=np.float32) for a in w])
    return model
