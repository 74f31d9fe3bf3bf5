"""Hand a fitted network out as a plain Keras model (imports TensorFlow)."""

from __future__ import annotations

import numpy as np

from .layers import joined_inputs, plan


def to_keras(fit):
    """A Keras model from raw design columns to predictions on the response scale.

    A ``keras.Sequential`` over the design columns; a network whose tabular inputs join its
    array part after flattening (``reshape(..., joined=)``) is a functional model with two
    inputs, the array's values (flattened rows) and the tabular columns.
    """
    from .graph import tf_module

    tf_module()
    import keras

    topo, spec, fam = fit.topology, fit.spec, fit.family
    one = {k: v[0] for k, v in fit.params.items()}
    placed = plan(topo, output_activation=fam.link_fn.keras)
    pairs = [(keras.layers.Rescaling(1.0 / spec.scale, offset=-spec.center / spec.scale,
                                     name="standardise"), None)]  # (the Sequential's)
    pairs += [p.kind.keras(keras, p, one) for p in placed]
    for (layer, _), p in zip(pairs[1:], placed):
        layer.trainable = not p.frozen  # a transferred fit's frozen layers stay frozen
    if fam.standardised:
        pairs.append((keras.layers.Rescaling(fam.y_scale, offset=fam.y_center,
                                             name="response"), None))
    if joined_inputs(topo):
        return _two_inputs(keras, fit, placed, pairs)
    model = keras.Sequential([layer for layer, _ in pairs], name="dlstat")
    model.build((None, topo.n_inputs))
    for layer, w in pairs:
        _set(layer, w)
    return model


def _two_inputs(keras, fit, placed, pairs):
    """The functional model: the array part and the tabular part standardised apart; the
    join layer concatenates them after flattening."""
    topo, spec = fit.topology, fit.spec
    split = topo.n_inputs - joined_inputs(topo)
    inputs = [keras.Input((split,), name="array"),
              keras.Input((topo.n_inputs - split,), name="tabular")]
    x, side = (keras.layers.Rescaling(1.0 / spec.scale[part], name=name,
                                      offset=-spec.center[part] / spec.scale[part])(tensor)
               for tensor, part, name in zip(inputs, (slice(None, split), slice(split, None)),
                                             ("standardise", "standardise_tabular")))
    kinds = [p.layer.kind for p in placed] + [None] * (len(pairs) - 1 - len(placed))
    for (layer, w), kind in zip(pairs[1:], kinds):
        x = layer([x, side]) if kind == "join" else layer(x)
        _set(layer, w)
    return keras.Model(inputs, x, name="dlstat")


def _set(layer, weights) -> None:
    if weights is not None:
        layer.set_weights([np.asarray(a, dtype=np.float32) for a in weights])
