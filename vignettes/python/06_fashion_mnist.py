# %% [markdown]
# # 6. Fashion-MNIST: a softmax network on 784 pixels
#
# Fashion-MNIST (Zalando, 2017) has 60,000 training and 10,000 test images of clothing,
# 28 × 28 grey levels (0 = white background … 255 = black), in ten classes:
#
# | code | class | code | class |
# |---|---|---|---|
# | 0 | T-shirt/top | 5 | Sandal |
# | 1 | Trouser | 6 | Shirt |
# | 2 | Pullover | 7 | Sneaker |
# | 3 | Dress | 8 | Bag |
# | 4 | Coat | 9 | Ankle boot |
#
# The course's R lab prints the pixel matrix of an ankle boot and trains a softmax network
# with Keras.  Here the same with dlstat: the images become a data frame with one column per
# pixel, and the model is the formula `label ~ .` — a multinomial family, whose output layer is
# the softmax of vignette 2.
#
# The data come from Debian's `dataset-fashion-mnist` package
# (`/usr/share/datasets/fashion-mnist`; set `DLSTAT_FASHION_MNIST` to use another directory).
# By default this vignette uses all the data (a few minutes on a laptop CPU).  For a quick look
# set `DLSTAT_VIGNETTE_N`, e.g. `DLSTAT_VIGNETTE_N=2000` reads the first 2000 training and 500
# test images.

# %%
import logging
import os
import tempfile
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import dlstat as dl

logging.getLogger("tensorflow").setLevel(logging.ERROR)  # silence TF's retracing notices
FIGURES = tempfile.mkdtemp(prefix="dlstat-vignette-")  # figures go here, never into the repo

N_TRAIN = int(os.environ.get("DLSTAT_VIGNETTE_N", 60_000))
N_TEST = min(10_000, max(N_TRAIN // 4, 100))
FULL = N_TRAIN >= 60_000
print(f"using {N_TRAIN} training and {N_TEST} test images"
      + ("" if FULL else " (a subset: set DLSTAT_VIGNETTE_N=60000 or unset it for all)"))

timings = {}

# %% [markdown]
# ## One image as a matrix of numbers
#
# `dl.datasets.fashion_mnist()` returns the images as a `uint8` array `[n, 28, 28]` and the
# labels as a categorical with the class names.  The first ankle boot (label 9):

# %%
start = time.perf_counter()
images, labels = dl.datasets.fashion_mnist("train", n=N_TRAIN)
timings["read images (arrays)"] = time.perf_counter() - start
print(images.shape, images.dtype, "pixel range", images.min(), "–", images.max())

boot = int(np.flatnonzero(labels.codes == 9)[0])
print(f"\nimage {boot}: label {labels.codes[boot]} = {labels[boot]}\n")
with np.printoptions(linewidth=200):
    print(images[boot])

assert images.shape == (N_TRAIN, 28, 28) and images.dtype == np.uint8
assert labels[boot] == "Ankle boot" and list(labels.categories)[9] == "Ankle boot"
assert images[boot].max() > 200 and images[boot, 0, 0] == 0  # dark boot, white corner

# %%
fig, axes = plt.subplots(2, 5, figsize=(10, 4.5))
for code, ax in enumerate(axes.ravel()):
    i = int(np.flatnonzero(labels.codes == code)[0])
    ax.imshow(images[i], cmap="Greys")
    ax.set_title(f"{code}: {labels[i]}", fontsize=9)
    ax.axis("off")
fig.tight_layout()
fig.savefig(os.path.join(FIGURES, "fashion_examples.png"), dpi=80)
plt.close(fig)

# %% [markdown]
# ## The data as a data frame
#
# With `as_frame=True` each image is one row: 784 columns `pixel1` … `pixel784` (row by row)
# and a categorical `label`.  The official test file is the test set; a stratified fifth of the
# training file is held out for validation with `dl.partition` (`test=0`: no third part).
#
# No rescaling is needed: like `glmnet`, dlstat standardises every input column itself
# (the Keras lab divides by 255 for the same reason).

# %%
start = time.perf_counter()
train_all = dl.datasets.fashion_mnist("train", n=N_TRAIN, as_frame=True)
test = dl.datasets.fashion_mnist("test", n=N_TEST, as_frame=True)
train, valid, _ = dl.partition(train_all, validation=0.2, test=0, stratify="label", seed=1)
timings["read data frames + partition"] = time.perf_counter() - start
print(train_all.shape, "→ train", train.shape, "validation", valid.shape, "test", test.shape)
print(train["label"].value_counts().sort_index())

assert train_all.shape == (N_TRAIN, 785)
assert len(train) + len(valid) == N_TRAIN
# Stratified: every class has (nearly) the same share in both parts.
shares = pd.DataFrame({"train": train["label"].value_counts(normalize=True),
                       "validation": valid["label"].value_counts(normalize=True)})
assert (shares["train"] - shares["validation"]).abs().max() < 0.01

# %% [markdown]
# ## The simpler model first: softmax regression
#
# Following Zou et al. (2019), start with the simplest sensible model: multinomial logistic
# regression on the pixels (`hidden=()`, 785 × 10 weights), trained with Adam on mini-batches
# and stopped early on the validation set.

# %%
start = time.perf_counter()
softmax_glm = dl.dnn("label ~ .", data=train, hidden=(), batch_size=128, epochs=30,
                     validation=valid, early_stopping=3, test=test, penalty=1e-4)
timings["fit softmax regression"] = time.perf_counter() - start
glm_acc = softmax_glm.record.metrics["test"]["accuracy"]
print(f"softmax regression: test accuracy {glm_acc:.4f} "
      f"({softmax_glm.record.epochs_run} epochs, {timings['fit softmax regression']:.1f} s)")

# %% [markdown]
# ## A softmax network
#
# Two hidden ReLU layers of 256 and 128 units (about 235,000 weights), the regularisers of
# vignette 3 — dropout of 20% after each hidden layer and a small L2 penalty — mini-batches
# of 128, Adam, and early stopping with a patience of 5 epochs on the validation loss.

# %%
start = time.perf_counter()
net = dl.dnn("label ~ .", data=train, hidden=(256, 128), dropout=0.2, penalty=1e-4,
             batch_size=128, epochs=40, validation=valid, early_stopping=5, test=test, seed=1)
timings["fit network"] = time.perf_counter() - start
print(net.summary())

fig = net.plot()
fig.savefig(os.path.join(FIGURES, "fashion_history.png"), dpi=80)
plt.close(fig)

assert net.family.name == "multinomial" and len(net.family.levels) == 10
assert net.topology.n_parameters() == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
assert 1 <= net.record.best_epoch <= net.record.epochs_run

# %% [markdown]
# ## Test accuracy and the confusion matrix
#
# `predict(type="class")` gives the most probable class of every test image; cross-tabulating
# it against the truth gives the confusion matrix (rows: truth, columns: prediction).

# %%
start = time.perf_counter()
predicted = net.predict(test, type="class")
timings["predict test set"] = time.perf_counter() - start
confusion = pd.crosstab(test["label"], predicted, rownames=["truth"], colnames=["predicted"])
with pd.option_context("display.width", 200, "display.max_columns", 20):
    print(confusion)

accuracy = float((predicted == test["label"]).mean())
per_class = pd.Series(np.diag(confusion) / confusion.sum(axis=1).to_numpy(),
                      index=confusion.index, name="accuracy")
print("\naccuracy per class:")
print(per_class.round(3).sort_values())
print(f"\ntest accuracy: network {accuracy:.4f}, softmax regression {glm_acc:.4f}")
print("published MLP (256-128-100, all 60,000 training images): 0.883")

off = confusion.to_numpy().copy()
np.fill_diagonal(off, 0)
i, j = np.unravel_index(off.argmax(), off.shape)
print(f"most frequent confusion: {confusion.index[i]} predicted as {confusion.columns[j]} "
      f"({off[i, j]} images)")

assert np.isclose(accuracy, net.record.metrics["test"]["accuracy"])
assert confusion.to_numpy().sum() == N_TEST
if FULL:
    assert accuracy > 0.87, "close to the published MLP's 0.883 on the full data"
    assert accuracy > glm_acc
else:
    assert accuracy > 0.70, "a subset should still reach well above chance (0.10)"
# Shirts are the hardest class (they look like T-shirts, pullovers and coats).
assert per_class["Shirt"] < accuracy

# %% [markdown]
# ## Timings
#
# 784 pixel columns go through the formula machinery (`label ~ .`): the design matrix is built
# and standardised column by column, which for the full 60,000 rows takes a few seconds — small
# next to training.

# %%
start = time.perf_counter()
design = net.design_matrix(train)  # the 784 standardised-then-restored pixel columns
timings["design matrix via formula"] = time.perf_counter() - start
print(f"design matrix: {design.shape[0]} rows × {design.shape[1]} columns\n")
assert design.shape == (len(train), 784)

for step, seconds in timings.items():
    print(f"{step:32s} {seconds:7.2f} s")

# %% [markdown]
# ## Take-aways
#
# * An image is a matrix of numbers; flattened to 784 columns it fits the formula interface.
# * A network with two hidden layers beats softmax regression (the GLM) clearly on images,
#   and on the full data comes close to the published MLP's 0.883; convolutional networks do
#   better still (0.916, 0.934 with batch normalisation), since they use the 2-D structure of
#   the pixels that a dense network ignores.
# * The confusion matrix shows *which* classes are mixed up: shirts with T-shirts, pullovers
#   and coats.
