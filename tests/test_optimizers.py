"""Each optimizer's update rule against a reference on the same gradient sequence.

Where dlstat's rule is Keras's (sgd, momentum, nesterov, adadelta) the reference is Keras's own
optimizer with matching hyper-parameters.  Elsewhere dlstat places epsilon as the original
papers do and Keras does not, so the reference is the documented rule written in NumPy:
- adagrad, rmsprop: dlstat divides by ``sqrt(acc) + 1e-7``; Keras by ``sqrt(acc + epsilon)``
  (and Keras's Adagrad starts its accumulator at 0.1, dlstat's at 0);
- adam, adamw: dlstat adds epsilon to the bias-corrected ``sqrt(v_hat)`` (Kingma & Ba,
  Algorithm 1); Keras adds it before the correction.  dlstat's AdamW decays by
  ``learning_rate * penalty * (1 - mixture)`` (Loshchilov & Hutter), as Keras's
  ``weight_decay`` does.
The engine applies every rule to a stack of networks with their own learning rates; a network
whose step is masked out keeps its parameters and its optimizer state.
"""

from __future__ import annotations

import numpy as np
import pytest

SHAPE = (2, 3, 4)  # two networks of a stack, a 3 x 4 kernel each
LR = np.array([0.05, 0.01])
STEPS = 6


@pytest.fixture(scope="module")
def tf():
    from dlstat.engine.graph import tf_module

    return tf_module()


def gradients(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=SHAPE) for _ in range(STEPS)]


def start() -> np.ndarray:
    return np.random.default_rng(9).normal(size=SHAPE)


def dlstat_steps(tf, optimizer: str, grads, penalty=0.0, mixture=0.0, apply=None):
    """Parameters after each step of dlstat's rule, driven as the trainer drives it."""
    from dlstat.engine.optimizers import optimizer_step
    from dlstat.engine.training import next_decays, step_states

    f32 = tf.float32
    p = tf.constant(start(), f32)
    s1, s2 = tf.zeros_like(p), tf.zeros_like(p)
    decays = tf.ones([2, SHAPE[0]], tf.float64)  # beta ** t at t = 0
    mask = tf.constant(np.ones(SHAPE[0], bool) if apply is None else apply)
    lr = tf.constant(LR, f32)
    lam, alpha = tf.constant([penalty] * SHAPE[0], f32), tf.constant([mixture] * SHAPE[0], f32)
    masks = (tf.ones_like(p), tf.ones_like(p)) if penalty > 0 else ()  # decayed, shrunk
    out = []
    for g in grads:
        decays = next_decays(decays, mask, solo=False)
        state = step_states([3], decays, mask, lr, lam, alpha)[3]
        new, n1, n2, _ = optimizer_step(tf, optimizer, p, tf.constant(g, f32), s1, s2, state,
                                        *masks)
        p, s1, s2 = (tf.where(state.mask, a, b) for a, b in ((new, p), (n1, s1), (n2, s2)))
        out.append(p.numpy())
    return out


def keras_steps(optimizer_of, grads) -> list[np.ndarray]:
    """Each network through its own Keras optimizer (Keras has one learning rate per optimizer)."""
    import keras

    per_net = []
    for m, lr in enumerate(LR):
        opt = optimizer_of(keras, float(lr))
        var = keras.Variable(start()[m].astype(np.float32))
        steps = []
        for g in grads:
            opt.apply([g[m].astype(np.float32)], [var])
            steps.append(np.array(var.numpy()))
        per_net.append(steps)
    return [np.stack([per_net[m][s] for m in range(SHAPE[0])]) for s in range(STEPS)]


KERAS = {
    "sgd": lambda keras, lr: keras.optimizers.SGD(lr),
    "momentum": lambda keras, lr: keras.optimizers.SGD(lr, momentum=0.9),
    "nesterov": lambda keras, lr: keras.optimizers.SGD(lr, momentum=0.9, nesterov=True),
    "adadelta": lambda keras, lr: keras.optimizers.Adadelta(lr, rho=0.95, epsilon=1e-6),
}


@pytest.mark.parametrize("optimizer", sorted(KERAS))
def test_rule_equals_keras(tf, optimizer):
    grads = gradients()
    ours = dlstat_steps(tf, optimizer, grads)
    theirs = keras_steps(KERAS[optimizer], grads)
    for step, (a, b) in enumerate(zip(ours, theirs), 1):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=f"step {step}")
    assert not np.allclose(ours[-1], start())


def numpy_reference(optimizer: str, grads, decay: float = 0.0) -> list[np.ndarray]:
    """The documented rules, in float64 (decay: AdamW's decoupled weight decay)."""
    lr = LR[:, None, None]
    p, s1, s2 = start(), np.zeros(SHAPE), np.zeros(SHAPE)
    out = []
    for t, g in enumerate(grads, 1):
        if optimizer == "adagrad":
            s1 = s1 + g**2
            step = lr * g / (np.sqrt(s1) + 1e-7)
        elif optimizer == "rmsprop":
            s1 = 0.9 * s1 + 0.1 * g**2
            step = lr * g / (np.sqrt(s1) + 1e-7)
        else:  # adam, adamw
            s1 = 0.9 * s1 + 0.1 * g
            s2 = 0.999 * s2 + 0.001 * g**2
            m_hat, v_hat = s1 / (1 - 0.9**t), s2 / (1 - 0.999**t)
            step = lr * m_hat / (np.sqrt(v_hat) + 1e-7) + lr * decay * p
        p = p - step
        out.append(p)
    return out


@pytest.mark.parametrize("optimizer,penalty", [("adagrad", 0.0), ("rmsprop", 0.0),
                                               ("adam", 0.0), ("adamw", 0.0), ("adamw", 0.3)])
def test_rule_equals_the_documented_formula(tf, optimizer, penalty):
    grads = gradients(1)
    ours = dlstat_steps(tf, optimizer, grads, penalty=penalty, mixture=0.0)
    reference = numpy_reference(optimizer, grads, decay=penalty)
    for step, (a, b) in enumerate(zip(ours, reference), 1):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=f"step {step}")


def test_adamw_decay_changes_the_path():
    """The decay test above can fail: without decay the reference differs."""
    grads = gradients(1)
    assert not np.allclose(numpy_reference("adamw", grads, 0.3)[-1],
                           numpy_reference("adamw", grads, 0.0)[-1], atol=1e-4)


def test_l1_part_is_a_proximal_soft_threshold(tf):
    """SGD with a lasso penalty: a gradient step, then soft-thresholding by lr * lambda."""
    grads = gradients(2)
    ours = dlstat_steps(tf, "sgd", grads, penalty=2.0, mixture=1.0)
    p = start()
    lr = LR[:, None, None]
    for step, g in enumerate(grads):
        z = p - lr * g
        p = np.sign(z) * np.maximum(np.abs(z) - lr * 2.0, 0.0)
        np.testing.assert_allclose(ours[step], p, rtol=1e-5, atol=1e-6)
    assert (ours[-1] == 0).any()  # exact zeros


def test_a_masked_network_keeps_its_parameters_and_state(tf):
    grads = gradients(3)
    both = dlstat_steps(tf, "adam", grads)
    only_first = dlstat_steps(tf, "adam", grads, apply=np.array([True, False]))
    np.testing.assert_array_equal(only_first[-1][1], start()[1].astype(np.float32))
    np.testing.assert_array_equal(only_first[-1][0], both[-1][0])
