"""The trainer's single-network path (a job of exactly one network, no stack axis) against the
stacked path: the same network's numbers to float32 rounding, for every optimizer and the
layers and options the path supports; and the determinism contract of stacks (a network's
numbers are bit-identical in any stack of two or more)."""

from __future__ import annotations

import numpy as np
import pytest

from dlstat.architecture import (
    BatchNorm,
    Dense,
    Dropout,
    avgpool,
    conv1d,
    conv2d,
    flatten,
    global_avgpool,
    maxpool,
    reshape,
)
from dlstat.engine import StackJob, Topology, train_stack
from dlstat.engine.graph import solo_path
from dlstat.engine.job import OPTIMIZERS

N = 70


def _data(outputs: int = 1):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(N, 4))
    Y = X[:, :1] - 0.5 * X[:, 1:2] ** 2 + 0.3 * rng.normal(size=(N, outputs))
    return X, Y


def _job(nets, layers=(Dense(6, "tanh"),), **options) -> StackJob:
    """A job of the networks ``nets`` (a count, or positions among three) and their rows."""
    nets = list(range(nets)) if isinstance(nets, int) else list(nets)
    X, Y = _data()
    rng = np.random.default_rng(5)
    tw = (rng.uniform(size=(3, N)) < 0.7) * rng.uniform(0.5, 2.0, size=(3, N))
    per_net = dict(penalty=np.array([0.01, 0.0, 0.1]), mixture=np.array([0.5, 0.0, 1.0]),
                   learning_rate=np.array([0.01, 0.005, 0.02]), seeds=np.array([4, 5, 6]))
    per_net = {k: v[nets] for k, v in per_net.items()}
    settings = dict(topology=Topology(4, layers, 1), family="gaussian", X=X, Y=Y,
                    output_bias=np.zeros(1), epochs=6, batch_size=16,
                    train_weights=tw[nets], val_weights=(tw[nets] == 0) * 1.0, patience=3)
    return StackJob(**{**settings, **per_net, **options})


def _assert_member(stack, m: int, alone, atol: float = 1e-5) -> None:
    for k in stack.params:
        np.testing.assert_allclose(stack.params[k][m], alone.params[k][0], atol=atol, err_msg=k)
    np.testing.assert_allclose(stack.loss[:, m], alone.loss[:, 0], atol=atol)
    np.testing.assert_allclose(stack.val_loss[:, m], alone.val_loss[:, 0], atol=atol)
    assert stack.epochs_run[m] == alone.epochs_run[0]
    assert stack.best_epoch[m] == alone.best_epoch[0]


def test_the_path_is_taken_for_one_network_of_supported_layers_only():
    assert solo_path(_job(1, (Dense(6, "relu"), BatchNorm(), Dropout(0.2))))
    assert not solo_path(_job(2))  # any stack of two or more: the stacked path
    conv = (reshape((4, 1)), conv1d(2, 2, activation="relu"), flatten())
    assert solo_path(_job(1, conv))  # convolution and pooling run without the stack axis too
    assert not solo_path(_job(2, conv))


@pytest.mark.parametrize("optimizer", [o for o in OPTIMIZERS if o != "lbfgs"])
def test_one_network_equals_itself_in_a_stack(optimizer):
    """Per optimizer, with an L1 part (network 0: penalty 0.01, mixture 0.5)."""
    stack = train_stack(_job(2, optimizer=optimizer))
    alone = train_stack(_job(1, optimizer=optimizer))
    assert alone.params["output/kernel"].shape == stack.params["output/kernel"][:1].shape
    _assert_member(stack, 0, alone)


@pytest.mark.parametrize("options", [
    dict(layers=(Dense(6, "relu"), BatchNorm(), Dropout(0.3), Dense(5, "tanh"))),
    dict(layers=(Dense(6, "relu"), Dropout(0.5)), optimizer="rmsprop"),
    dict(max_norm=0.5, group_inputs=True),
    dict(offset=np.linspace(-1, 1, N)[:, None]),
    dict(layers=(reshape((2, 2, 1)), conv2d(3, 2, padding="same", activation="relu"),
                 BatchNorm(), maxpool(2), flatten(), Dense(4, "tanh")), max_norm=0.8),
    dict(layers=(reshape((4, 1)), conv1d(3, 2, activation="tanh"), avgpool(2, padding="same"),
                 Dropout(0.2), global_avgpool())),
    dict(layers=(reshape((3, 1), joined=1), conv1d(2, 2), flatten(), Dense(3, "relu"))),
], ids=["batchnorm-dropout", "dropout-rmsprop", "max-norm-group-lasso", "offset", "conv2d",
        "conv1d-pooling", "conv-joined"])
def test_layers_and_options_agree_with_the_stack(options):
    stack = train_stack(_job(3, **options))
    for m in range(3):
        _assert_member(stack, m, train_stack(_job([m], **options)))


def test_one_network_repeats_exactly():
    first, second = train_stack(_job(1)), train_stack(_job(1))
    for k in first.params:
        np.testing.assert_array_equal(first.params[k], second.params[k])
    np.testing.assert_array_equal(first.loss, second.loss)


@pytest.mark.parametrize("layers", [(Dense(6, "tanh"),), (Dense(6), Dropout(0.3), Dense(3))])
def test_a_large_design_gathers_each_batch_with_the_same_numbers(monkeypatch, layers):
    """Above ``PERMUTED_ROWS_BYTES`` a step gathers its batch instead of slicing the epoch's
    permuted copy of the design: the same rows in the same order, so the same bits."""
    import dlstat.engine.graph as graph

    permuted = train_stack(_job(1, layers, offset=np.full((N, 1), 0.25)))
    monkeypatch.setattr(graph, "PERMUTED_ROWS_BYTES", 0)
    assert not graph.permutes_rows(_job(1, layers))
    gathered = train_stack(_job(1, layers, offset=np.full((N, 1), 0.25)))
    for k in permuted.params:
        np.testing.assert_array_equal(permuted.params[k], gathered.params[k])
    np.testing.assert_array_equal(permuted.loss, gathered.loss)
    np.testing.assert_array_equal(permuted.val_loss, gathered.val_loss)


def test_a_network_is_bit_identical_in_any_stack_of_two_or_more():
    """What chunking a stack (Dask, issue 12) relies on: no number depends on the stack size."""
    pair, triple = train_stack(_job(2)), train_stack(_job(3))
    for k in pair.params:
        np.testing.assert_array_equal(pair.params[k], triple.params[k][:2], err_msg=k)
    np.testing.assert_array_equal(pair.loss, triple.loss[:, :2])
    np.testing.assert_array_equal(pair.val_loss, triple.val_loss[:, :2])
