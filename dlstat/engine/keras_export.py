"""Hand a fitted network out as a plain Keras model (imports TensorFlow)."""

from __future__ import annotations

import numpy as np

from .layers import plan

_INVERSE_LINK = {"identity": "linear", "logit": "sigmoid", "softmax": "softmax",
                 "log": "exponential"}


def to_keras(fit):
    """A ``keras.Sequential`` from raw design columns to predictions on the response scale."""
    from .graph import tf_module

    tf_module()
    import keras

    topo, spec, fam = fit.topology, fit.spec, fit.family
    one = {k: v[0] for k, v in fit.params.items()}
    layers = [keras.layers.Rescaling(1.0 / spec.scale, offset=-spec.center / spec.scale,
                                     name="standardise")]
    weights: list[list | None] = [None]
    for placed in plan(topo, output_activation=_INVERSE_LINK[fam.link]):
        layer, w = placed.kind.keras(keras, placed, one)
        layer.trainable = not placed.frozen  # a transferred fit's frozen layers stay frozen
        layers.append(layer)
        weights.append(w)
    if fam.name == "gaussian":
        layers.append(keras.layers.Rescaling(fam.y_scale, offset=fam.y_center, name="response"))
        weights.append(None)
    model = keras.Sequential(layers, name="dlstat")
    model.build((None, topo.n_inputs))
    for layer, w in zip(model.layers, weights):
        if w is not None:
            layer.set_weights([np.asarray(a, dtype=np.float32) for a in w])
    return model
