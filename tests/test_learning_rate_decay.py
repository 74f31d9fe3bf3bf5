"""``learning_rate_decay``: epoch e steps at ``learning_rate * decay**e`` (all optimizers but
L-BFGS), the same for every network of a stack."""

from __future__ import annotations

import numpy as np
import pytest

import dlstat as dl

MTCARS = dl.datasets.load("mtcars")
# Full-batch SGD: one step per epoch over every row, so the row order (each epoch's shuffle)
# cannot matter and a decayed epoch is an ordinary epoch at the smaller rate.
SGD = dict(hidden=(4,), optimizer="sgd", batch_size=None, seed=3, verbose=0)


def test_a_decayed_epoch_steps_at_the_smaller_rate():
    decayed = dl.dnn("mpg ~ wt + hp", MTCARS, learning_rate=0.1, learning_rate_decay=0.5,
                     epochs=2, **SGD)
    first = dl.dnn("mpg ~ wt + hp", MTCARS, learning_rate=0.1, epochs=1, **SGD)
    # the second epoch, continued from the first at half the rate
    second = dl.dnn("mpg ~ wt + hp", MTCARS, base=first, upto="output", freeze=False,
                    learning_rate=0.05, epochs=1, **{**SGD, "hidden": ()})
    for key, value in second.params.items():
        np.testing.assert_allclose(decayed.params[key], value, rtol=1e-5, atol=1e-6)
    undecayed = dl.dnn("mpg ~ wt + hp", MTCARS, learning_rate=0.1, epochs=2, **SGD)
    assert not np.allclose(decayed.params["output/kernel"], undecayed.params["output/kernel"])


def test_no_decay_is_the_default():
    options = dict(hidden=(4,), epochs=3, seed=1, verbose=0)
    np.testing.assert_array_equal(
        dl.dnn("mpg ~ wt", MTCARS, learning_rate_decay=1.0, **options).predict(),
        dl.dnn("mpg ~ wt", MTCARS, **options).predict())


@pytest.mark.parametrize("value", [0, 1.5, -0.1])
def test_a_decay_outside_0_1_is_refused(value):
    with pytest.raises(dl.OptionError, match="learning_rate_decay"):
        dl.dnn("mpg ~ wt", MTCARS, learning_rate_decay=value, epochs=1, verbose=0)


def test_the_classifier_takes_the_decay():
    X, y = MTCARS[["wt", "hp"]].to_numpy(), MTCARS.am.to_numpy()
    clf = dl.DNNClassifier(hidden=(4,), learning_rate_decay=0.8, epochs=3, verbose=0).fit(X, y)
    assert clf.get_params()["learning_rate_decay"] == 0.8
    assert "learning_rate_decay=0.8" in clf.model_.call
