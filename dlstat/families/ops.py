"""The array operations a family's formulas are written in, for NumPy and for TensorFlow.

A link's inverse and a family's unit deviance are written once, against ``ops``; the same
definition then computes the deviance of a fit in NumPy (float64) and the training loss inside
the engine's graph (TensorFlow), so the two cannot drift apart.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

import numpy as np


def _numpy_ops() -> SimpleNamespace:
    from scipy import special

    def where(cond, a, b):
        return np.where(cond, a, b)

    def searchsorted(sorted_values, values, side):
        flat_s = sorted_values.reshape(-1, sorted_values.shape[-1])
        flat_v = values.reshape(-1, values.shape[-1])
        found = [np.searchsorted(s, v, side=side) for s, v in zip(flat_s, flat_v)]
        return np.stack(found).reshape(values.shape)

    def cumsum(x, exclusive=False, reverse=False):
        x = np.flip(x, -1) if reverse else x
        out = np.cumsum(x, axis=-1)
        out = out - x if exclusive else out
        return np.flip(out, -1) if reverse else out

    return SimpleNamespace(
        log=np.log, exp=np.exp, log1p=np.log1p, expm1=np.expm1, sqrt=np.sqrt,
        square=np.square, abs=np.abs, sign=np.sign, tanh=np.tanh, erfc=special.erfc,
        lgamma=special.gammaln, softplus=lambda x: np.logaddexp(0.0, x),
        sigmoid=special.expit, where=where, maximum=np.maximum, minimum=np.minimum,
        ones_like=np.ones_like, zeros_like=np.zeros_like, pow=np.power,
        logsumexp=lambda x: special.logsumexp(x, axis=-1),
        sum=lambda x: np.sum(x, axis=-1), softmax=lambda x: special.softmax(x, axis=-1),
        errstate=lambda: np.errstate(divide="ignore", invalid="ignore", over="ignore"),
        # along the last axis, batched over the leading ones (the Cox partial likelihood)
        argsort=lambda x: np.argsort(x, axis=-1, kind="stable"),
        take=lambda x, i: np.take_along_axis(x, i, -1), searchsorted=searchsorted,
        cumsum=cumsum, max=lambda x: np.max(x, axis=-1, keepdims=True),
        stop_gradient=lambda x: x)


def _tf_ops() -> SimpleNamespace:
    import contextlib

    import tensorflow as tf

    return SimpleNamespace(
        log=tf.math.log, exp=tf.exp, log1p=tf.math.log1p, expm1=tf.math.expm1,
        sqrt=tf.sqrt, square=tf.square, abs=tf.abs, sign=tf.sign, tanh=tf.tanh,
        erfc=tf.math.erfc, lgamma=tf.math.lgamma, softplus=tf.nn.softplus,
        sigmoid=tf.sigmoid, where=tf.where, maximum=tf.maximum, minimum=tf.minimum,
        ones_like=tf.ones_like, zeros_like=tf.zeros_like, pow=tf.pow,
        logsumexp=lambda x: tf.reduce_logsumexp(x, -1),
        sum=lambda x: tf.reduce_sum(x, -1), softmax=lambda x: tf.nn.softmax(x, -1),
        errstate=contextlib.nullcontext,
        argsort=lambda x: tf.argsort(x, axis=-1, stable=True),
        take=lambda x, i: tf.gather(x, i, batch_dims=len(x.shape) - 1),
        searchsorted=lambda s, v, side: tf.searchsorted(s, v, side=side),
        cumsum=lambda x, exclusive=False, reverse=False: tf.cumsum(x, -1, exclusive, reverse),
        max=lambda x: tf.reduce_max(x, -1, keepdims=True), stop_gradient=tf.stop_gradient)


@functools.cache
def numpy_ops() -> SimpleNamespace:
    """NumPy's operations (SciPy's special functions; imported on first use)."""
    return _numpy_ops()


@functools.cache
def tf_ops() -> SimpleNamespace:
    """TensorFlow's operations (only the engine calls this: it imports TensorFlow)."""
    return _tf_ops()
