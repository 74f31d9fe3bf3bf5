"""The stacked trainer's per-step shortcuts keep every number bit for bit (issue 23: on a wide
first layer the element-wise work per step, not the matmul, took the time).

- the L2 part's gradient is written out as the gradient tape derives it;
- the L1 step (the L2 gradient) is left out of the graph when no network has an L1 (L2) part;
- a full-size select is skipped when every network takes the step (or none improved).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")


def _job(mixture, train_weights, epochs=6, seeds=None, **extra):
    from dlstat.architecture import Dense
    from dlstat.engine import StackJob, Topology

    rng = np.random.default_rng(3)
    n, p = 64, 40  # wider than tall, as the genomics designs
    X = rng.normal(size=(n, p))
    Y = (X[:, :1] - X[:, 1:2] + rng.normal(size=(n, 1)) > 0).astype(float)
    M = len(train_weights)
    return StackJob(topology=Topology(p, (Dense(8, "relu"),), 1), family="binomial", X=X, Y=Y,
                    train_weights=np.asarray(train_weights, float),
                    penalty=np.full(M, 0.05), mixture=np.asarray(mixture, float),
                    learning_rate=np.full(M, 0.01),
                    seeds=np.arange(1, M + 1) if seeds is None else np.asarray(seeds),
                    output_bias=np.zeros(1), epochs=epochs, batch_size=16, **extra)


def _same(a, b, m_a, m_b):
    for k in a.params:
        np.testing.assert_array_equal(a.params[k][m_a], b.params[k][m_b], err_msg=k)
    assert a.epochs_run[m_a] == b.epochs_run[m_b]
    ran = a.epochs_run[m_a]  # a stack's history is as long as its longest run
    np.testing.assert_array_equal(a.loss[:ran, m_a], b.loss[:ran, m_b])


def test_written_out_l2_gradient_equals_the_tapes_bit_for_bit():
    import tensorflow as tf

    from dlstat.engine.optimizers import UpdateSettings
    from dlstat.engine.training import RunConfig, with_l2_gradients

    rng = np.random.default_rng(0)
    P = [tf.constant(rng.normal(size=(3, 1, 5)), tf.float32),  # a bias: not penalised
         tf.constant(rng.normal(size=(3, 7, 5)), tf.float32)]
    data_grads = [tf.constant(rng.normal(size=p.shape), tf.float32) for p in P]
    penalty = tf.constant([0.3, 1.7, 1e-3], tf.float32)
    mixture = tf.constant([0.0, 0.25, 0.9], tf.float32)
    cfg = RunConfig((), ("b", "k"), (True, True),
                    (UpdateSettings(False, False, False), UpdateSettings(True, False, False)),
                    None)
    with tf.GradientTape() as tape:  # the L2 term as the trainer put it in the loss before
        tape.watch(P)
        l2 = 0.5 * penalty * (1 - mixture) * tf.reduce_sum(tf.square(P[1]), [1, 2])
        total = tf.reduce_sum(l2 + tf.reduce_sum(P[0] * data_grads[0], [1, 2])
                              + tf.reduce_sum(P[1] * data_grads[1], [1, 2]))
    taped = tape.gradient(total, P)
    written = with_l2_gradients(cfg, P, data_grads, penalty, mixture)
    for t, w in zip(taped, written):
        np.testing.assert_array_equal(t.numpy(), w.numpy())


@pytest.mark.parametrize("alone, beside, flag", [
    ([0.0, 0.0], [0.0, 1.0], "has_l1"),  # ridge: no L1 step
    ([1.0, 1.0], [1.0, 0.0], "has_l2"),  # lasso: no L2 gradient
])
def test_a_penalty_part_no_network_has_is_left_out_with_the_same_numbers(alone, beside, flag):
    """A ridge (lasso) network trains to the same bits in a stack whose graph has the L1 step
    (the L2 gradient) for a network beside it and in one whose graph leaves it out."""
    from dlstat.engine import graph, train_stack

    rows = np.ones((2, 64))
    without, with_it = _job(alone, rows), _job(beside, rows)
    assert not getattr(graph, flag)(without) and getattr(graph, flag)(with_it)
    _same(train_stack(without), train_stack(with_it), 0, 0)


def test_a_network_skipping_steps_leaves_the_others_bits_unchanged():
    """Network 0 trains to the same bits beside a network that takes every step (the select
    is skipped) and beside one that skips steps (its rows end before the last batch, so the
    select runs), with early stopping (best weights kept by the same select); and the network
    that skips steps, to the same bits whether the stack's other network takes them or not."""
    from dlstat.engine import train_stack

    full = np.ones(64)
    short = np.r_[np.ones(20), np.zeros(44)]  # 2 batches of 16 rows, then nothing
    val = np.r_[np.zeros(48), np.ones(16)]
    a = train_stack(_job([0.5, 0.5], np.stack([full, full]), epochs=12,
                         val_weights=np.stack([val, val]), patience=3))
    b = train_stack(_job([0.5, 0.5], np.stack([full, short]), epochs=12,
                         val_weights=np.stack([val, val]), patience=3))
    _same(a, b, 0, 0)
    np.testing.assert_array_equal(a.val_loss[:a.epochs_run[0], 0], b.val_loss[:a.epochs_run[0], 0])
    assert a.best_epoch[0] == b.best_epoch[0]
    c = train_stack(_job([0.5, 0.5], np.stack([short, short]), epochs=12, seeds=[2, 3],
                         val_weights=np.stack([val, val]), patience=3))
    _same(b, c, 1, 0)
    assert b.best_epoch[1] == c.best_epoch[0]
