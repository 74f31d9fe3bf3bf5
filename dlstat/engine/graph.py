"""The stacked trainer: M same-shaped networks trained in one compiled TensorFlow graph.

Weights carry a leading stack axis (``[M, in, out]``) and every dense layer is a batched matmul.
The whole epoch loop runs inside one ``tf.function``: shuffling permutes row indices in the
graph, each network sees its own training rows (padded to one shape, pads weighted 0), and early
stopping, best-weight restore and divergence checks are per network.  Randomness (shuffles,
dropout masks) comes from a counter-based integer hash of (network seed, counter, position), so
a network's numbers do not depend on the other networks in its stack and repeat exactly.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from .job import SIMD_ROWS, TENSOR_ALIGNMENT, StackJob, StackResult, aligned_empty
from .layers import StackContext, param_defs, plan, tf_forward
from .network import Params, init_params
from .optimizers import UpdateSettings

_CACHE: dict[Any, Any] = {}
_EPOCH_LISTENERS: list[Callable[[int, np.ndarray, np.ndarray], None]] = []


def tf_module():
    """Import TensorFlow once, quietly and deterministically."""
    if not os.environ.get("TF_CPP_MIN_LOG_LEVEL"):  # a level the user set is kept
        # Hides TensorFlow's start-up notices (oneDNN, CPU features, absl); errors still show.
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    try:
        tf = _import_quietly(os.environ["TF_CPP_MIN_LOG_LEVEL"] not in ("0", "1"))
    except ImportError as exc:
        from ..errors import DlstatError

        raise DlstatError(
            f"training needs TensorFlow >= 2.16, which could not be imported ({exc}). Install "
            "it with: pip install 'dlstat[cpu]' (or 'dlstat[gpu]', or the tensorflow wheel)."
        ) from None

    if not getattr(tf_module, "_configured", False):
        # No global op-determinism switch: it would make a user's unseeded Keras code fail in
        # the same process, and the engine needs none (no TF random ops; CPU kernels repeat).
        # Each configuration is traced once by design; TensorFlow's "retracing" advice is noise.
        tf.get_logger().setLevel("ERROR")
        tf_module._configured = True  # type: ignore[attr-defined]
    return tf


# Start-up notices TensorFlow >= 2.21 writes from C++ whatever TF_CPP_MIN_LOG_LEVEL says: absl's
# preamble, info/warning lines, and the failed CUDA probe of a machine without a GPU.
_START_UP_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\)|[IW]\d{4} |E\d{4} .*cuInit)")


def _import_quietly(quiet: bool):
    """``import tensorflow`` and its device set-up, with its start-up notices dropped from
    file descriptor 2 when ``quiet`` (every other line written meanwhile is passed on)."""
    if not quiet or "tensorflow" in sys.modules:
        import tensorflow as tf

        return tf
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()  # the CUDA probe happens here, not at import
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().decode(errors="replace").splitlines(True)
                    if not _START_UP_NOISE.match(line)]
            sys.stderr.write("".join(kept))
    return tf


def train_first_order(job: StackJob) -> StackResult:
    """Train ``job`` with a first-order optimizer (everything but L-BFGS)."""
    tf = tf_module()
    params0 = init_params(job.topology, job.seeds, job.output_bias, job.initial)
    names = sorted(params0)
    least = job.row_lengths or (0, 0)
    idx, w = _padded_rows(job.train_weights, job.batch_size, job.train_repeats, least[0])
    if job.val_weights is not None:
        vidx, vw = _padded_rows(job.val_weights, None, at_least=least[1])
    else:
        vidx, vw = np.zeros((job.size, 1), np.int32), np.zeros((job.size, 1))
    batch = idx.shape[1] if job.batch_size is None else min(job.batch_size, idx.shape[1])
    fn = _compiled(job, tuple(names))
    if job.on_epoch is not None:
        _EPOCH_LISTENERS.append(job.on_epoch)
    try:
        out = _call(tf, fn, job, names, params0, (idx, w, vidx, vw, batch))
    finally:
        if job.on_epoch is not None:
            _EPOCH_LISTENERS.pop()
    params, loss, val_loss, epochs_run, best_epoch, diverged = out
    has_val = job.val_weights is not None
    return StackResult(
        params={k: v.numpy().astype(np.float64) for k, v in zip(names, params)},
        loss=loss.numpy().astype(np.float64),
        val_loss=val_loss.numpy().astype(np.float64) if has_val else None,
        epochs_run=epochs_run.numpy(),
        best_epoch=best_epoch.numpy() if has_val else np.zeros(job.size, np.int32),
        diverged=diverged.numpy().astype(bool),
    )


def _call(tf, fn, job: StackJob, names: list[str], params0, rows):
    """Run the traced function on the job's tensors (float32 in the graph)."""
    idx, w, vidx, vw, batch = rows
    dtype = tf.float32
    with without_graph_rewrites(tf):
        return fn(
            float32_tensor(tf, job.X), float32_tensor(tf, job.Y),
            float32_tensor(tf, job.offsets()), tf.constant(idx), float32_tensor(tf, w),
            tf.constant(vidx), float32_tensor(tf, vw),
            [tf.constant(params0[k], dtype) for k in names],
            tf.constant(job.penalty, dtype), tf.constant(job.mixture, dtype),
            tf.constant(job.learning_rate, dtype), tf.constant(job.seeds, tf.int64),
            tf.constant(job.epochs, tf.int32), tf.constant(job.patience or 0, tf.int32),
            tf.constant(batch, tf.int32), tf.constant(job.max_norm, dtype),
            tf.constant(job.learning_rate_decay, tf.float64),
            tf.constant(job.family_parameters(), dtype),
            *(tf.constant(v, dtype) for v in job.dropout_tensors()),
        )


@contextlib.contextmanager
def without_graph_rewrites(tf):
    """Run the engine's functions without TensorFlow's graph rewrites (Grappler), in this
    thread only: on these graphs the rewrites gain nothing per epoch (measured: dense and
    convolutional, ``benchmarks/README.md``) and cost a fifth of a second per configuration
    (1.5 s for a CNN) on the first call of every process.  A user's own TensorFlow code in the
    same process keeps its rewrites."""
    try:
        from tensorflow.python.eager import context

        options = context.context().function_call_options
        saved, config = tf.compat.v1.ConfigProto(), tf.compat.v1.ConfigProto()
        saved.ParseFromString(options.config_proto_serialized)
        config.CopyFrom(saved)
        config.graph_options.rewrite_options.disable_meta_optimizer = True
        options.config_proto_serialized = config
    except (ImportError, AttributeError):  # another TensorFlow's internals: rewrites stay on
        yield
        return
    try:
        yield
    finally:
        options.config_proto_serialized = saved


def float32_tensor(tf, a: np.ndarray):
    """``a`` as a float32 tensor on memory of its own or, when ``a`` already is an aligned
    float32 array (``job.engine_rows``), on ``a``'s memory.  ``tf.constant`` would make two
    copies (a large design would cost three times its size); the engine never writes its
    inputs, so sharing is safe."""
    a = np.asarray(a)
    shareable = (a.dtype == np.float32 and a.flags.c_contiguous and a.flags.writeable
                 and a.ctypes.data % TENSOR_ALIGNMENT == 0)
    if not shareable:
        out = aligned_empty(a.shape, np.float32)
        np.copyto(out, a, casting="same_kind")
        a = out
    return tf.experimental.dlpack.from_dlpack(a.__dlpack__())


def _padded_rows(weights: np.ndarray, batch_size: int | None,
                 repeats: np.ndarray | None = None,
                 at_least: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Per-network row indices (a row listed as often as ``repeats`` says) and weights, padded
    to one length (a multiple of the batch), at least ``at_least`` rows."""
    rows = [np.flatnonzero(wm > 0) for wm in weights]
    if repeats is not None:
        rows = [np.repeat(r, repeats[m, r].astype(np.int64)) for m, r in enumerate(rows)]
    longest = max(1, at_least, max(len(r) for r in rows))
    # A full batch (and the validation rows) in whole SIMD packets: see training.simd_rows.
    length = -(-longest // SIMD_ROWS) * SIMD_ROWS if batch_size is None else \
        math.ceil(longest / batch_size) * batch_size
    idx = np.zeros((len(rows), length), np.int32)
    w = np.zeros((len(rows), length))
    for m, r in enumerate(rows):
        idx[m, : len(r)] = r
        w[m, : len(r)] = weights[m, r]
    return idx, float32_weights(w)


LARGEST_WEIGHT = 2.0**64  # float32 sums of weight x row loss stay far from its 3.4e38


def float32_weights(w: np.ndarray) -> np.ndarray:
    """Each network's row weights ``w[m]`` times the power of two that brings its largest to at
    most ``LARGEST_WEIGHT`` (weights already there are untouched).  Every use of the weights in
    training is a weighted mean, which a power of two leaves exactly as it was: prior weights
    of 1e100 train as in float64, where float32 would make them infinite."""
    top = w.max(axis=1, initial=0.0)
    shift = np.zeros(len(w), dtype=np.int64)
    big = top > LARGEST_WEIGHT
    shift[big] = np.ceil(np.log2(top[big] / LARGEST_WEIGHT)).astype(np.int64)
    return np.ldexp(w, -shift[:, None]) if big.any() else w


def _report_epoch(epoch, loss, val_loss) -> None:
    """Called from inside the traced loop once per epoch: tell the current job's listener."""
    if _EPOCH_LISTENERS:
        _EPOCH_LISTENERS[-1](int(epoch), np.asarray(loss), np.asarray(val_loss))


def _compiled(job: StackJob, names: tuple[str, ...]):
    """The training function for this job's static configuration, traced once and cached.

    The cache key is everything the trace reads, taken from the same values the trace is
    built from (:func:`trace_spec`): the full run configuration (every layer placed with its
    input and output shapes) and the input signature.  A run that reports its epochs calls
    back into Python, which a SavedModel cannot hold: it is cached in this process only.
    """
    reports = job.on_epoch is not None
    spec = trace_spec(job, names)
    if (spec, reports) not in _CACHE:
        from .cache import cached_function

        if reports:
            _CACHE[spec, reports] = _build(spec, _report_epoch)
        else:
            _CACHE[spec, reports] = cached_function(tf_module(), spec, lambda: _build(spec))
    return _CACHE[spec, reports]


def solo_path(job: StackJob) -> bool:
    """Whether ``job`` trains on the single-network path: exactly one network (a Python value
    of the job, so part of the cache key; a chunk of a stack is never of size one) and layers
    whose forward runs without the stack axis."""
    return job.size == 1 and all(p.kind.solo for p in plan(job.topology))


PERMUTED_ROWS_BYTES = 1 << 25  # 32 MB of float32 design: above it, a batch is gathered per step


def permutes_rows(job: StackJob) -> bool:
    """Whether the single-network path permutes the whole design once per epoch (a second
    copy of it for the epoch) rather than gathering each batch: up to ``PERMUTED_ROWS_BYTES``.
    The rows and the numbers are the same either way; part of the cache key."""
    return solo_path(job) and job.X.size * 4 <= PERMUTED_ROWS_BYTES


def has_penalty(job: StackJob) -> bool:
    """Whether any network of ``job`` is penalised (part of the cache key: an unpenalised
    job's graph has no penalty terms)."""
    return bool(np.any(np.asarray(job.penalty) > 0))


def has_l1(job: StackJob) -> bool:
    """Whether any penalised network of ``job`` has an L1 part (part of the cache key: without
    one, the L1 step, whose threshold would be exactly zero, is left out of the graph)."""
    return bool(np.any((np.asarray(job.penalty) > 0) & (np.asarray(job.mixture) > 0)))


def has_l2(job: StackJob) -> bool:
    """Whether any penalised network of ``job`` has an L2 part (part of the cache key: without
    one, the L2 part's gradient, exact zeros, is left out of the graph)."""
    return bool(np.any((np.asarray(job.penalty) > 0) & (np.asarray(job.mixture) < 1)))


def trace_spec(job: StackJob, names: tuple[str, ...]) -> tuple[Any, tuple]:
    """What tracing this job's run depends on, and nothing else: its run configuration (without
    an epoch reporter) and its input signature as ``(shape, dtype)`` pairs (``None``: any size).
    Both the trace and the cache key are made from it, so two different graphs never share a
    key."""
    from .training import RunConfig

    defs = param_defs(job.topology)
    first_kernel = job.topology.input_kernel()
    # A frozen kernel is neither updated nor penalised (its penalty would be a constant).
    updates = tuple(UpdateSettings(defs[n].penalised and defs[n].trainable,
                                   job.group_inputs and n == first_kernel,
                                   job.uses_max_norm) for n in names)
    cfg = RunConfig(tuple(plan(traced_topology(job))), names,
                    tuple(defs[n].trainable for n in names),
                    updates, job.family, None, solo_path(job), job.offset is not None,
                    job.optimizer, has_penalty(job), permutes_rows(job),
                    job.dropout is not None, bool(np.all(job.seeds == job.seeds[0])),
                    has_l1(job), has_l2(job))
    # Every dimension is left open so one trace serves all data sizes and stack sizes; each
    # parameter keeps its rank.
    matrix, vector, scalar = (None, None), (None,), ()
    real, index, seed = "float32", "int32", "int64"
    signature = (
        (matrix, real), (matrix, real), (matrix, real), (matrix, index), (matrix, real),
        (matrix, index), (matrix, real),
        tuple(((None,) * (1 + len(defs[n].shape)), real) for n in names),
        (vector, real), (vector, real), (vector, real), (vector, seed), (scalar, index),
        (scalar, index), (scalar, index), (vector, real), (vector, "float64"), (vector, real),
        (vector, real), (vector, real),
    )
    return cfg, signature


RATE_PLACEHOLDER = 0.5  # a dropout layer's rate in the trace when each network has its own


def traced_topology(job: StackJob):
    """The topology the trace is built from: with per-network dropout rates (``job.dropout``)
    every dropout layer holds one placeholder rate, so that the rates are the graph's inputs
    and a stack with new rates reuses the trace."""
    if job.dropout is None:
        return job.topology
    from dataclasses import replace

    from .layers import LAYER_TABLE

    layers = tuple(replace(layer, rate=RATE_PLACEHOLDER)
                   if LAYER_TABLE[layer.kind].per_network_rate else layer
                   for layer in job.topology.layers)
    return replace(job.topology, layers=layers)


def _build(spec: tuple[Any, tuple], report_epoch=None):
    """Trace the training run of ``spec`` (:func:`trace_spec`)."""
    from dataclasses import replace

    from .training import make_run

    tf = tf_module()
    cfg, signature = spec

    def tensor_spec(entry):
        if len(entry) == 2 and isinstance(entry[1], str):  # one tensor: (shape, dtype)
            return tf.TensorSpec(entry[0], getattr(tf, entry[1]))
        return [tensor_spec(e) for e in entry]  # the parameters: one spec each

    return tf.function(make_run(replace(cfg, report_epoch=report_epoch)),
                       input_signature=[tensor_spec(e) for e in signature])


def forward_in_graph(params: Params, topology, X: np.ndarray, batch: int = 1024) -> np.ndarray:
    """Link-scale outputs ``[n, k]`` of the first network in ``params`` by the compiled
    TensorFlow forward in float32 (inference mode), ``batch`` rows at a time."""
    tf = tf_module()
    placed = plan(topology)
    P = {k: tf.constant(v[:1], tf.float32) for k, v in params.items()}
    width = int(np.shape(X)[1])

    @tf.function(input_signature=[tf.TensorSpec([None, width], tf.float32)])
    def run(h):
        return tf_forward(tf, placed, P, h[None], StackContext(False))[0]

    with without_graph_rewrites(tf):
        parts = [run(tf.constant(X[i:i + batch], tf.float32)).numpy()
                 for i in range(0, len(X), batch)]
    return np.concatenate(parts).astype(np.float64) if parts else np.zeros((0, topology.n_outputs))
