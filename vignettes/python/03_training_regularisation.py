# %% [markdown]
# # 3. Training a network: optimizers, batches, and regularisation
#
# Training is gradient descent on the loss: a forward pass computes the predictions, back-
# propagation (the chain rule) computes the gradient ∂E/∂w of the loss with respect to every
# weight, and the optimizer takes a step, in the simplest case w ← w − lr·∂E/∂w.  One *epoch*
# is one pass over the training data.  This vignette shows, with dlstat doing the work,
#
# 1. the optimizers SGD, momentum, Nesterov, Adagrad, Adadelta, RMSProp and Adam on one data
#    set, with their loss curves (`fit.history`);
# 2. full-batch against mini-batch gradient descent;
# 3. over- and under-fitting read from training against validation loss, on a
#    train / validation / test partition (`dl.partition`);
# 4. the regularisers of the course: an L2 penalty, dropout, batch normalisation, max-norm
#    constraints and early stopping.

# %%
import logging
import os
import tempfile
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import dlstat as dl

# TensorFlow warns about "retracing" when a script trains several differently configured
# networks; each configuration is compiled once on purpose, so the warning is a false alarm.
logging.getLogger("tensorflow").setLevel(logging.ERROR)
FIGURES = tempfile.mkdtemp(prefix="dlstat-vignette-")  # figures go here, never into the repo

# %% [markdown]
# ## The data
#
# A simulated regression with a non-linear truth, y = sin(2·x1) + x2²/2 + x3/2 + noise
# (sd 0.3), and nine further inputs that carry no signal at all: 12 inputs for 500 rows.
# `dl.partition` splits it into 60% training, 20% validation and 20% test rows.

# %%
rng = np.random.default_rng(3)
n, p = 500, 12
data = pd.DataFrame({f"x{j}": rng.normal(size=n) for j in range(1, p + 1)})
data["y"] = (np.sin(2 * data.x1) + data.x2 ** 2 / 2 + 0.5 * data.x3
             + rng.normal(scale=0.3, size=n))

parts = dl.partition(data, validation=0.2, test=0.2, seed=1)
train, valid, test = parts
print(parts)
assert (len(train), len(valid), len(test)) == (300, 100, 100)
assert not set(train.index) & set(valid.index) and not set(valid.index) & set(test.index)

# %% [markdown]
# ## Optimizers
#
# Every optimizer below starts from the same initial weights (same seed) and sees the
# mini-batches in the same order; only the update rule differs:
#
# * **sgd**: w ← w − lr·g.
# * **momentum**: a velocity accumulates past gradients, v ← 0.9·v + g; w ← w − lr·v.
# * **nesterov**: momentum with a look-ahead step.
# * **adagrad**: each weight's step is divided by the root of its summed squared gradients.
# * **adadelta**: like Adagrad with decaying averages, and a step size that adapts itself
#   (learning rate 1 by default).
# * **rmsprop**: divides by a moving root-mean-square of recent gradients.
# * **adam**: momentum and RMSProp combined, with bias correction; dlstat's default.
#
# Each uses dlstat's default learning rate for it (0.01 for SGD and its momentum variants and
# Adagrad, 1 for Adadelta, 0.001 for RMSProp and Adam).  The loss is mean deviance / 2 on the
# standardised response, so predicting the mean everywhere scores 0.5.

# %%
optimizers = ["sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam"]
curves, rows = {}, []
for name in optimizers:
    start = time.perf_counter()
    fit = dl.dnn("y ~ .", data=train, hidden=(32, 16), optimizer=name, epochs=60, seed=1)
    seconds = time.perf_counter() - start
    curves[name] = fit.history.set_index("epoch")["loss"]
    rows.append({"optimizer": name, "learning rate": fit.options.lr,
                 "first-epoch loss": curves[name].iloc[0],
                 "final loss": curves[name].iloc[-1],
                 "R² (train)": fit.record.metrics["train"]["r_squared"],
                 "seconds": seconds})
optimizer_table = pd.DataFrame(rows).set_index("optimizer")
print(optimizer_table.round(4))

fig, ax = plt.subplots(figsize=(7, 4))
for name, curve in curves.items():
    ax.plot(curve.index, curve, label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (mean deviance / 2)")
ax.set_yscale("log")
ax.legend()
fig.savefig(os.path.join(FIGURES, "optimizers.png"), dpi=80)
plt.close(fig)

# Every optimizer learns: the loss falls well below the null model's 0.5.
assert (optimizer_table["final loss"] < optimizer_table["first-epoch loss"]).all()
assert (optimizer_table["final loss"] < 0.25).all(), optimizer_table["final loss"]

# %% [markdown]
# Which optimizer is best is hard to predict and depends on the learning rate as much as on the
# rule; Adam is a robust default.  Plain SGD with a small learning rate is the slowest here.

# %% [markdown]
# ## Full batch against mini-batches
#
# Full-batch gradient descent (`batch_size=None`) computes the gradient on all training rows
# and takes **one step per epoch**.  Mini-batch gradient descent takes one step per batch of
# (typically 16–32) rows: with 300 rows and batches of 32 that is 10 steps per epoch, each
# noisier but much cheaper.  Stochastic gradient descent in the strict sense is
# `batch_size=1`.  With the same number of epochs, mini-batches get much further:

# %%
rows = []
for batch_size in (None, 32, 8):
    start = time.perf_counter()
    fit = dl.dnn("y ~ .", data=train, hidden=(32, 16), batch_size=batch_size, epochs=60,
                 seed=1)
    steps = 1 if batch_size is None else int(np.ceil(len(train) / batch_size))
    rows.append({"batch_size": "full (None)" if batch_size is None else batch_size,
                 "steps per epoch": steps, "final loss": fit.history["loss"].iloc[-1],
                 "seconds": time.perf_counter() - start})
batch_table = pd.DataFrame(rows).set_index("batch_size")
print(batch_table.round(4))
assert batch_table["final loss"].iloc[1] < batch_table["final loss"].iloc[0]
assert batch_table["final loss"].iloc[2] < batch_table["final loss"].iloc[0]

# %% [markdown]
# Full-batch training can still get there, with a larger learning rate and more epochs (each
# epoch is cheap):

# %%
full = dl.dnn("y ~ .", data=train, hidden=(32, 16), batch_size=None, learning_rate=0.01,
              epochs=400, seed=1)
print(f"full batch, lr 0.01, 400 epochs: final loss {full.history['loss'].iloc[-1]:.4f}")
assert full.history["loss"].iloc[-1] < batch_table["final loss"].iloc[0]

# %% [markdown]
# ## Over- and under-fitting: training against validation loss
#
# Pass the validation frame as `validation=` (it is used to watch the fit, never to train) and
# the test frame as `test=` (only evaluated).  A big network (two layers of 64 units, about
# 5,000 weights for 300 rows) trained long enough memorises the training rows: its training
# deviance goes to zero while the validation deviance, after an early minimum, climbs again.
# That gap is **over-fitting**.  A network held back too hard (here by a huge penalty) has
# high training *and* validation deviance: **under-fitting**.

# %%
common = dict(hidden=(64, 64), epochs=150, validation=valid, test=test, seed=1)


def deviances(fit):
    """Mean deviance (here: mean squared error) on the three parts."""
    m = fit.record.metrics
    return {part: m[part]["mean_deviance"] for part in ("train", "validation", "test")}


overfit = dl.dnn("y ~ .", data=train, **common)
underfit = dl.dnn("y ~ .", data=train, penalty=1.0, **common)
table = pd.DataFrame({"big network": deviances(overfit),
                      "penalty = 1": deviances(underfit)}).T
print(table.round(3))

h = overfit.history
print(f"\nbig network: validation loss is lowest at epoch {h['val_loss'].idxmin() + 1} "
      f"({h['val_loss'].min():.3f}) and ends at {h['val_loss'].iloc[-1]:.3f}")

fig = overfit.plot()  # training and validation loss by epoch
fig.savefig(os.path.join(FIGURES, "overfitting.png"), dpi=80)
plt.close(fig)

over, under = table.loc["big network"], table.loc["penalty = 1"]
assert over["train"] < 0.1 * over["validation"], "the big network should over-fit"
assert h["val_loss"].iloc[-1] > h["val_loss"].min() * 1.1, "validation loss should rise again"
assert under["train"] > 10 * over["train"], "the heavily penalised network under-fits"
assert under["train"] > 0.8 * under["validation"], "under-fitting: no train/validation gap"

# %% [markdown]
# ## Regularisation
#
# Each of the following changes one thing about the big network:
#
# * **L2 penalty** (`penalty=λ`, `mixture=0`): adds λ/2·‖w‖² to the loss (glmnet's scale;
#   biases are not penalised), shrinking the weights.  `mixture=1` would give the lasso.
# * **dropout** (`dropout=0.3`): at every training step 30% of the hidden units are removed
#   at random (and the rest scaled up), so no unit can rely on particular others.
# * **batch normalisation** (`batchnorm=True`): each hidden layer's linear outputs are
#   standardised over the mini-batch before the activation.
# * **max-norm** (`max_norm=1`): after every step, each unit's incoming weight vector is
#   rescaled to norm at most 1.
# * **early stopping** (`early_stopping=10`): stop when the validation loss has not improved
#   for 10 epochs and keep the weights of the best epoch.

# %%
regularisers = {
    "none": {},
    "L2 (penalty 0.05)": dict(penalty=0.05, mixture=0),
    "dropout 0.3": dict(dropout=0.3),
    "batchnorm": dict(batchnorm=True),
    "max_norm 1": dict(max_norm=1.0),
    "early stopping": dict(early_stopping=10),
}
fits = {"none": overfit}
for name, extra in regularisers.items():
    if name not in fits:
        fits[name] = dl.dnn("y ~ .", data=train, **common, **extra)
reg_table = pd.DataFrame({name: {**deviances(f), "epochs run": f.record.epochs_run}
                          for name, f in fits.items()}).T
reg_table["epochs run"] = reg_table["epochs run"].astype(int)
reg_table["gap"] = reg_table["validation"] - reg_table["train"]
print(reg_table.round(3))

# Every regulariser narrows the gap and improves on the unregularised validation deviance.
for name in regularisers:
    if name != "none":
        assert reg_table.loc[name, "validation"] < reg_table.loc["none", "validation"], name
        assert reg_table.loc[name, "gap"] < reg_table.loc["none", "gap"], name

fig, ax = plt.subplots(figsize=(7, 4))
for name, f in fits.items():
    ax.plot(f.history["epoch"], f.history["val_loss"], label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("validation loss")
ax.legend()
fig.savefig(os.path.join(FIGURES, "regularisers.png"), dpi=80)
plt.close(fig)

# %% [markdown]
# The L2 penalty shrinks the weights, which is how it limits the network's flexibility:

# %%
def weight_norm(fit):
    return np.sqrt(sum((w ** 2).sum() for k, w in fit.params.items() if k.endswith("kernel")))


print(f"norm of all weights: none {weight_norm(fits['none']):.1f}, "
      f"L2 {weight_norm(fits['L2 (penalty 0.05)']):.1f}")
assert weight_norm(fits["L2 (penalty 0.05)"]) < weight_norm(fits["none"])

# %% [markdown]
# ### Early stopping
#
# The summary reports where training stopped and which epoch's weights were kept.  The model
# keeps the weights with the lowest validation loss, so its validation deviance is the
# minimum of the curve.

# %%
early = fits["early stopping"]
print(early.summary())
best, ran = early.record.best_epoch, early.record.epochs_run
print(f"\nstopped after {ran} of 150 epochs; best epoch {best}")
assert ran < 150 and best == ran - 10
assert f"best epoch {best}" in str(early.summary())
assert np.isclose(early.history["val_loss"].min(), early.history["val_loss"].iloc[best - 1])

# %% [markdown]
# ## Training, validation, test
#
# The training set fits the weights; the validation set chooses between models (here: the
# regulariser); the test set, untouched until now, estimates how well the chosen model will do
# on new data.  Choosing by *test* deviance would make the test estimate optimistic.

# %%
chosen = reg_table["validation"].idxmin()
print(f"chosen by validation deviance: {chosen}")
print(f"its test mean squared error: {reg_table.loc[chosen, 'test']:.3f} "
      f"(noise variance alone: {0.3 ** 2:.3f})")
print(f"the unregularised network's:   {reg_table.loc['none', 'test']:.3f}")
assert chosen != "none"
assert reg_table.loc[chosen, "test"] < reg_table.loc["none", "test"]

# %% [markdown]
# ## Take-aways
#
# * Optimizers differ in how they turn gradients into steps; Adam is a good default, but the
#   learning rate matters as much as the rule.
# * Mini-batches give many cheap, noisy steps per epoch; full batch gives one exact step.
# * A growing gap between training and validation loss is over-fitting; high loss on both is
#   under-fitting.  Penalties, dropout, batch normalisation, max-norm and early stopping all
#   narrow the gap.  Choose with the validation set, report the test set.
