# %% [markdown]
# # 9. Recurrent networks: RNN, LSTM and GRU on a real series, and the vanishing gradient
#
# A recurrent layer reads a sequence one step at a time and carries a state: the simple RNN of
# the course, `h_t = tanh(x_t W + h_{t-1} U + b)`; the LSTM, whose input, forget and output
# gates decide what the cell state keeps; the GRU, with an update and a reset gate.  In dlstat
# they are layer specs like `dl.dense`: `dl.rnn(16)`, `dl.lstm(16)`, `dl.gru(16)`, and the
# estimators take sequences as arrays `[n, T, p]`.
#
# The data: R's `sunspot.year`, the yearly mean number of sunspots 1700–1988, shipped with
# dlstat as `dl.datasets.sunspot_year()`.  Each year is forecast from the `T` years before it.
# Two baselines come first, as the course's good practice asks: the naive forecast (next year
# = this year) and a linear autoregression AR(T), which is a network without hidden layers.
#
# The test run uses fewer epochs and a shorter memory task (`DLSTAT_VIGNETTE_N`, as in
# vignette 6); unset it for the full run (a few minutes on two cores).

# %%
import logging
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np

import dlstat as dl

logging.getLogger("tensorflow").setLevel(logging.ERROR)  # silence TF's retracing notices
FIGURES = tempfile.mkdtemp(prefix="dlstat-vignette-")  # figures go here, never into the repo
SMALL = "DLSTAT_VIGNETTE_N" in os.environ
EPOCHS = 60 if SMALL else 200
print("a short run (DLSTAT_VIGNETTE_N is set)" if SMALL else "the full run")

# %% [markdown]
# ## The series, cut into windows
#
# `dl.datasets.series_windows(series, steps=T)` turns the series into windows `X [n, T, 1]` and
# next-year targets `y [n]`, split in time order: the last 20% of the years are the test part,
# and no training window ever sees a test year (a test window's inputs may reach back into the
# training years — those values are known by then).

# %%
sunspots = dl.datasets.sunspot_year().set_index("year")["sunspots"]
STEPS = 12
w = dl.datasets.series_windows(sunspots, steps=STEPS, test=0.2)
print(f"{len(sunspots)} years; train targets {w.t_train[0]}–{w.t_train[-1]} "
      f"({len(w.y_train)}), test targets {w.t_test[0]}–{w.t_test[-1]} ({len(w.y_test)})")
assert w.t_train.max() < w.t_test.min()
assert w.X_train.shape == (len(w.y_train), STEPS, 1)


def rmse(pred: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(pred) - w.y_test) ** 2)))


# %% [markdown]
# ## Two baselines: the last value, and a linear AR(12)
#
# `hidden=()` with `optimizer="lbfgs"` is least squares on the twelve lagged values — the
# AR(12) model fitted by ordinary least squares, as `np.linalg.lstsq` fits it.

# %%
naive = rmse(w.X_test[:, -1, 0])
flat_train, flat_test = w.X_train.reshape(len(w.X_train), -1), w.X_test.reshape(len(w.X_test), -1)
ar = dl.DNNRegressor(hidden=(), optimizer="lbfgs", verbose=0).fit(flat_train, w.y_train)
design = np.column_stack([np.ones(len(flat_train)), flat_train])
beta = np.linalg.lstsq(design, w.y_train, rcond=None)[0]
ols = np.column_stack([np.ones(len(flat_test)), flat_test]) @ beta
np.testing.assert_allclose(ar.predict(flat_test), ols, rtol=1e-4, atol=1e-3)
errors = {"naive (last value)": naive, "AR(12), linear": rmse(ar.predict(flat_test))}
print({k: round(v, 2) for k, v in errors.items()})
assert errors["AR(12), linear"] < naive

# %% [markdown]
# ## RNN, LSTM and GRU
#
# The same options for the three: 16 units, Adam with learning rate 0.01, mini-batches of 32.
# The estimators standardise each input column and the target on the training rows, as
# `dnn()` does.

# %%
forecasts = {}
for name, layer in (("simple RNN", dl.rnn(16)), ("LSTM", dl.lstm(16)), ("GRU", dl.gru(16))):
    reg = dl.DNNRegressor(architecture=[layer], learning_rate=0.01, epochs=EPOCHS, seed=1,
                          verbose=0).fit(w.X_train, w.y_train)
    forecasts[name] = reg.predict(w.X_test)
    errors[name] = rmse(forecasts[name])
print({k: round(v, 2) for k, v in errors.items()})
best = min(("simple RNN", "LSTM", "GRU"), key=errors.get)
assert errors[best] < naive, errors  # a recurrent network beats the naive forecast

fig, ax = plt.subplots(figsize=(8, 3.5))
ax.plot(w.t_test, w.y_test, color="black", label="observed")
ax.plot(w.t_test, ar.predict(flat_test), ls="--", label=f"AR(12): {errors['AR(12), linear']:.1f}")
for name, pred in forecasts.items():
    ax.plot(w.t_test, pred, label=f"{name}: {errors[name]:.1f}")
ax.set(xlabel="year", ylabel="sunspots", title="One-year-ahead forecasts (test RMSE)")
ax.legend(fontsize=8)
fig.savefig(os.path.join(FIGURES, "sunspot_forecasts.png"), dpi=100, bbox_inches="tight")
print("figure:", os.path.join(FIGURES, "sunspot_forecasts.png"))

# %% [markdown]
# All the networks beat the naive forecast by far, and they are close to the linear AR(12): on
# 222 training years a linear filter is a strong baseline, and a recurrent network earns its
# keep on longer series and on patterns a linear filter cannot hold.  What the gates buy is
# memory, which the next section measures.
#
# ## The vanishing gradient: remembering the first value
#
# In a simple RNN the gradient that reaches step 1 from the loss at step T is a product of T
# Jacobians `diag(tanh') U`; it shrinks geometrically, so the network cannot learn to use
# what it saw long ago.  The LSTM's cell state is updated additively (`c_t = f c_{t-1} + i g`),
# and the GRU's state likewise, so the gradient can survive many steps.
#
# The task: a sequence of T noise values; the class is whether the *first* value is positive.
# Everything after the first step is noise, so the network must carry one number across T
# steps.  Chance is 0.5.

# %%
rng = np.random.default_rng(0)
LENGTHS = (5, 40) if SMALL else (5, 20, 40, 60)
memory, networks = {"simple RNN": [], "LSTM": []}, {}
for steps in LENGTHS:
    X, Xt = rng.normal(size=(1000, steps, 1)), rng.normal(size=(500, steps, 1))
    y, yt = (X[:, 0, 0] > 0).astype(int), (Xt[:, 0, 0] > 0).astype(int)
    for name, layer in (("simple RNN", dl.rnn(8)), ("LSTM", dl.lstm(8))):
        networks[name] = dl.DNNClassifier(architecture=[layer], learning_rate=0.01,
                                          batch_size=64, epochs=20, seed=1,
                                          verbose=0).fit(X, y)
        memory[name].append(networks[name].score(Xt, yt))
    print(f"T={steps:3d}: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in memory.items()))
assert min(memory["simple RNN"][0], memory["LSTM"][0]) > 0.9  # a short memory: both learn it
assert memory["simple RNN"][-1] < 0.7 < memory["LSTM"][-1]  # a long one: only the LSTM

# %% [markdown]
# Why: the gradient of each network's output with respect to each input step, on the longest
# sequences (through the Keras export of the fitted networks).  The simple RNN's gradient
# falls by orders of magnitude going back in time, so its first steps barely move the loss
# and it learned to ignore them; the LSTM's gradient at step 1 is its largest.

# %%
import tensorflow as tf  # noqa: E402  (the Keras export has loaded it already)

inputs = tf.constant(Xt[:200].reshape(200, -1), tf.float32)
gradients = {}
for name, clf in networks.items():
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        output = clf.model_.keras_model(inputs, training=False)
    gradients[name] = np.sqrt(np.mean(tape.gradient(output, inputs).numpy() ** 2, axis=0))
    print(f"{name}: |d output / d x_t| at t=1 {gradients[name][0]:.2e}, "
          f"at t=T {gradients[name][-1]:.2e}")
ratio = {name: g[0] / g[-1] for name, g in gradients.items()}
assert ratio["LSTM"] > 10 * ratio["simple RNN"], ratio

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for name, acc in memory.items():
    axes[0].plot(LENGTHS, acc, marker="o", label=name)
axes[0].axhline(0.5, color="grey", ls=":", label="chance")
axes[0].set(xlabel="sequence length T", ylabel="test accuracy",
            title="Remember the first value")
for name, g in gradients.items():
    axes[1].semilogy(np.arange(1, len(g) + 1), g, label=name)
axes[1].set(xlabel="input step t", ylabel="RMS gradient",
            title=f"Gradient of the output w.r.t. x_t (T={LENGTHS[-1]})")
for ax in axes:
    ax.legend(fontsize=8)
fig.savefig(os.path.join(FIGURES, "vanishing_gradient.png"), dpi=100, bbox_inches="tight")
print("figure:", os.path.join(FIGURES, "vanishing_gradient.png"))

# %% [markdown]
# The GRU gates its state too; at its Keras start (update gate near 0.5) it forgets half of
# its state each step, so on this task it needs more epochs than the LSTM, whose forget gate
# starts near 0.73 (bias one).  Everything here also runs from R with the same layer names.
