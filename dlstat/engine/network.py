"""The network's parameters and its forward pass in NumPy (no TensorFlow).

Parameters are a dict of arrays with a leading stack axis ``M``, keyed as the layer table
(``layers.py``) names them: ``dense0/kernel [M, in, out]``, ``dense0/bias [M, 1, out]``,
``bn1/gamma`` …, ``output/kernel``.  Initial values come from NumPy generators seeded per
network, so a network's start does not depend on which other networks share its stack.
Prediction runs here, in float64, which keeps ``predict()`` free of TensorFlow's import time and
identical across processes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .layers import ParamDef, Topology, numpy_forward, param_defs, plan

Params = dict[str, np.ndarray]


def init_params(topology: Topology, seeds: np.ndarray, output_bias: np.ndarray,
                initial: Params | None = None) -> Params:
    """Initial parameters for ``len(seeds)`` networks; ``output_bias`` is [M, k] or [k].

    Each randomly initialised parameter draws from its own stream ``[seed, j]`` (``j`` counts
    the random parameters before it), so adding a layer never shifts another's start.
    ``initial`` (keys without the stack axis, e.g. a pretrained base's weights) replaces the
    start of the parameters it names in every network; the streams are counted as without it,
    so a transferred head starts where the same head trained from scratch starts.
    """
    params: Params = {}
    stream = 0
    for d in param_defs(topology).values():
        if d.init in _RANDOM_INIT:
            params[d.name] = _RANDOM_INIT[d.init](d, seeds, stream)
            stream += 1
        elif d.init == "output_bias":
            params[d.name] = _output_bias(d, len(seeds), output_bias)
        else:
            params[d.name] = _CONSTANT_INIT[d.init](len(seeds), d.shape)
    if not topology.layers:
        params[topology.input_kernel()][:] = 0.0  # a GLM starts at the null model
    for name, values in (initial or {}).items():
        params[name] = np.broadcast_to(np.asarray(values, np.float64),
                                       params[name].shape).copy()
    return params


def _glorot(d: ParamDef, seeds: np.ndarray, stream: int) -> np.ndarray:
    """Glorot-uniform (Keras's default): on tabular data it trained better at equal epochs
    than He initialisation in our benchmark (held-out RMSE 0.635 vs 0.718).  A convolution
    kernel ``[k(h), (kw,) in, out]`` has fans times its receptive field, as Keras counts."""
    receptive = int(np.prod(d.shape[:-2]))
    fan_in, fan_out = d.shape[-2] * receptive, d.shape[-1] * receptive
    limit = float(np.sqrt(6.0 / (max(fan_in, 1) + max(fan_out, 1))))
    values = np.empty((len(seeds), *d.shape))
    for m, seed in enumerate(seeds):
        values[m] = np.random.default_rng([int(seed), stream]).uniform(-limit, limit, d.shape)
    return values


def _orthogonal(d: ParamDef, seeds: np.ndarray, stream: int) -> np.ndarray:
    """Orthogonal (Keras's default for recurrent kernels): the Q of a Gaussian matrix's QR,
    signs fixed by R's diagonal, transposed when wider than tall."""
    rows, cols = int(np.prod(d.shape[:-1])), d.shape[-1]
    values = np.empty((len(seeds), *d.shape))
    for m, seed in enumerate(seeds):
        gaussian = np.random.default_rng([int(seed), stream]).normal(
            size=(max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(gaussian)
        q = q * np.sign(np.diag(r))
        values[m] = (q.T if rows < cols else q).reshape(d.shape)
    return values


def _small_uniform(d: ParamDef, seeds: np.ndarray, stream: int) -> np.ndarray:
    """Uniform on (-0.05, 0.05), Keras's start for an embedding."""
    values = np.empty((len(seeds), *d.shape))
    for m, seed in enumerate(seeds):
        values[m] = np.random.default_rng([int(seed), stream]).uniform(-0.05, 0.05, d.shape)
    return values


def _forget_bias(M: int, shape: tuple[int, ...]) -> np.ndarray:
    """An LSTM's bias: zeros but ones for the forget gate (Keras's ``unit_forget_bias``)."""
    bias = np.zeros((M, *shape))
    units = shape[-1] // 4
    bias[..., units : 2 * units] = 1.0
    return bias


_RANDOM_INIT: dict[str, Callable[[ParamDef, np.ndarray, int], np.ndarray]] = {
    "glorot": _glorot, "orthogonal": _orthogonal, "embedding_uniform": _small_uniform,
}


def _output_bias(d: ParamDef, M: int, output_bias: np.ndarray) -> np.ndarray:
    bias = np.zeros((M, *d.shape))
    if d.trainable:  # a fixed (absent) output bias stays at zero
        bias += np.broadcast_to(np.asarray(output_bias, dtype=np.float64).reshape(-1, *d.shape),
                                bias.shape)
    return bias


_CONSTANT_INIT: dict[str, Callable[[int, tuple[int, ...]], np.ndarray]] = {
    "zeros": lambda M, shape: np.zeros((M, *shape)),
    "ones": lambda M, shape: np.ones((M, *shape)),
    "forget_bias": _forget_bias,
}


def select(params: Params, m: int) -> Params:
    """The parameters of network ``m`` of a stack, keeping a stack axis of one."""
    return {k: v[m : m + 1] for k, v in params.items()}


def forward(params: Params, topology: Topology, X: np.ndarray,
            offset: np.ndarray | None = None) -> np.ndarray:
    """Link-scale outputs [n, k] of the first network in ``params`` (inference mode), with
    ``offset`` (``[n, k]`` or ``[n, 1]``, on the output's scale) added to the linear predictor."""
    one = {k: v[0] for k, v in params.items()}
    eta = numpy_forward(plan(topology), one, np.asarray(X, dtype=np.float64))
    return eta if offset is None else eta + offset


# Above this many values held by the NumPy forward (rows × the widest layer's values per row),
# the forward runs in TensorFlow's compiled graph when TensorFlow is installed: a CNN's float64
# NumPy forward over 10,000 images takes half a minute, the graph's a second or two.  At about
# 1,500 Fashion-MNIST images for a 32-filter convolution; a dense network's never in practice.
GRAPH_FORWARD_VALUES = 1 << 25


def forward_auto(params: Params, topology: Topology, X: np.ndarray) -> np.ndarray:
    """``forward`` for predictions and for measuring a fit: the NumPy forward (float64, no
    TensorFlow) where it is cheap, else TensorFlow's compiled one (float32; its outputs agree
    with NumPy's to float32 rounding).  Which one runs depends only on the model and the
    number of rows, so the same call always gives the same numbers."""
    placed = plan(topology)
    values = len(X) * max(p.kind.numpy_row_values(p) for p in placed)
    if values <= GRAPH_FORWARD_VALUES or not _tensorflow_installed():
        return forward(params, topology, X)
    from .graph import forward_in_graph

    return forward_in_graph(params, topology, X)


def _tensorflow_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("tensorflow") is not None


__all__ = ["Params", "Topology", "forward", "init_params", "forward_auto", "select"]
