# %% [markdown]
# # 10. Transfer learning: a CNN's features for new classes with few labels
#
# A convolutional network trained on many images learns filters (edges, textures, shapes) that
# are useful beyond its own classes.  *Transfer learning* keeps those layers and trains only a
# new head for a new task: **feature extraction** freezes the kept layers, **fine-tuning**
# trains them further (slowly).  Nothing can be downloaded here, so the "large data set" is
# Fashion-MNIST's classes 0–4 (T-shirt, trouser, pullover, dress, coat) and the new task is
# classes 5–9 (sandal, shirt, sneaker, bag, ankle boot) with only a few labelled images.
#
# In dlstat a network starts from another with three options of `dnn()` and the estimators:
#
# | option | meaning |
# |---|---|
# | `base=` | the network to start from: a fit, a fitted estimator, a model file or a Keras model |
# | `upto=` | how much of it is kept: a layer kind (`"flatten"`: up to its last flatten), a count, or `"output"` (all of it) |
# | `freeze=` | `True`: the kept layers are not trained (feature extraction); `False`: they are (fine-tuning); a number: the first layers |
#
# Frozen layers get no gradient step, no penalty and no max-norm, and a frozen batch
# normalisation uses its stored statistics (as Keras's `trainable=False`).  The new network
# reads its inputs standardised as the base's were.  By default this vignette uses all the data
# (several minutes on two cores); `DLSTAT_VIGNETTE_N=2000` runs a quick subset.

# %%
import logging
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import dlstat as dl

logging.getLogger("tensorflow").setLevel(logging.ERROR)
FIGURES = tempfile.mkdtemp(prefix="dlstat-vignette-")  # figures go here, never into the repo

N_TRAIN = int(os.environ.get("DLSTAT_VIGNETTE_N", 60_000))
FULL = N_TRAIN >= 60_000
BASE_EPOCHS, FEW_EPOCHS = (5, 40) if FULL else (2, 20)
SIZES = (10, 50, 100) if FULL else (10, 30)
print(f"using {N_TRAIN} training images" + ("" if FULL else " (a subset)"))

images, labels = dl.datasets.fashion_mnist("train", n=N_TRAIN)
test_images, test_labels = dl.datasets.fashion_mnist("test", n=10_000 if FULL else 1000)


def classes(X, y, wanted):
    """Images (scaled to 0-1) and class codes of the classes ``wanted``."""
    codes = np.asarray(y.codes)
    keep = np.isin(codes, wanted)
    return X[keep] / 255.0, codes[keep]


X_old, y_old = classes(images, labels, [0, 1, 2, 3, 4])
X_new, y_new = classes(images, labels, [5, 6, 7, 8, 9])
X_test, y_test = classes(test_images, test_labels, [5, 6, 7, 8, 9])
print("old classes:", len(y_old), "images; new classes:", len(y_new), "images (we pretend",
      "only a few are labelled);", len(y_test), "test images of the new classes")

# %% [markdown]
# ## The base: a CNN on classes 0–4

# %%
CONV = [dl.conv2d(16, 3), dl.maxpool(2), dl.conv2d(32, 3), dl.maxpool(2), dl.flatten()]
cnn = dl.DNNClassifier(architecture=[*CONV, dl.dense(64)], epochs=BASE_EPOCHS, batch_size=64,
                       seed=1, verbose=0).fit(X_old, y_old)
old_test = classes(test_images, test_labels, [0, 1, 2, 3, 4])
print(f"base CNN, test accuracy on classes 0-4: {cnn.score(*old_test):.3f}")

# %% [markdown]
# ## Feature extraction: a new head on the frozen convolutional part
#
# `upto="flatten"` keeps the reshape, both convolutions and poolings and the flatten (800
# features per image); `hidden=(32,)` adds a new dense layer; the family adds a new softmax
# output for the five new classes.  The summary's architecture shows the kept layers with 0
# trained parameters, and a note says where they came from.

# %%
def few(n_per_class, seed=0):
    """``n_per_class`` labelled images of each new class."""
    rng = np.random.default_rng([seed, n_per_class])
    rows = np.concatenate([rng.choice(np.flatnonzero(y_new == c), n_per_class, replace=False)
                           for c in range(5, 10)])
    return X_new[rows], y_new[rows]


X_few, y_few = few(SIZES[0])
head = dl.DNNClassifier(base=cnn, upto="flatten", hidden=(32,), epochs=FEW_EPOCHS, seed=2,
                        verbose=0).fit(X_few, y_few)
summary = head.model_.summary()
print(summary.tables["architecture"])
print(next(note for note in summary.notes if "start from" in note))
for key in ("conv1/kernel", "conv3/kernel", "conv3/bias"):  # frozen: bit for bit the base's
    assert np.array_equal(head.model_.params[key], cnn.model_.params[key]), key

# %% [markdown]
# What the head sees are the base's features: `dl.base_features(cnn, X, upto="flatten")`
# runs the kept layers (in NumPy) and gives 800 numbers per image.  The new head is an
# ordinary dense network on them: its softmax, computed here by hand from its weights, is
# `predict_proba`.  (With `hidden=()` the head is a GLM on these features; `tests/test_transfer.py`
# checks that it equals the GLM fitted to the extracted features.)

# %%
features = dl.base_features(cnn, X_few, upto="flatten")
print("features per image:", features.shape[1])
P = {k: v[0] for k, v in head.model_.params.items()}
hidden = np.maximum(features @ P["dense6/kernel"] + P["dense6/bias"], 0.0)
eta = hidden @ P["output/kernel"] + P["output/bias"]
by_hand = np.exp(eta - eta.max(1, keepdims=True))
by_hand /= by_hand.sum(1, keepdims=True)
assert np.allclose(by_hand, head.predict_proba(X_few), atol=1e-8)

# %% [markdown]
# ## Fine-tuning
#
# Keras's recipe: first train the new head on frozen features (above), then unfreeze and
# train everything a little with a small learning rate.  In dlstat the second step starts
# from the first fit: `upto="output"` keeps its whole network (new head included) and
# `freeze=False` trains every layer.

# %%
tuned = dl.DNNClassifier(base=head, upto="output", freeze=False, hidden=(),
                         learning_rate=1e-4, epochs=FEW_EPOCHS // 2, seed=3,
                         verbose=0).fit(X_few, y_few)
print(f"{SIZES[0]} labels per class: feature extraction {head.score(X_test, y_test):.3f}, "
      f"then fine-tuned {tuned.score(X_test, y_test):.3f}")

# %% [markdown]
# ## Few labels: transfer against training from scratch
#
# The same architecture (the CNN's convolutional part and a dense(32) head) trained from
# scratch on the same few images, with the same epochs and seed.

# %%
rows = []
for n in SIZES:
    X_n, y_n = few(n)
    settings = dict(epochs=FEW_EPOCHS, seed=2, verbose=0)
    transfer = dl.DNNClassifier(base=cnn, upto="flatten", hidden=(32,), **settings)
    scratch = dl.DNNClassifier(architecture=[*CONV, dl.dense(32)], **settings)
    rows.append({"labels per class": n,
                 "transfer": transfer.fit(X_n, y_n).score(X_test, y_test),
                 "from scratch": scratch.fit(X_n, y_n).score(X_test, y_test)})
table = pd.DataFrame(rows).set_index("labels per class")
print(table.round(3))
assert (table > 0.5).all().all()  # both far above chance (0.2) even with 10 labels per class

fig, ax = plt.subplots(figsize=(5, 3.5))
table.plot(ax=ax, marker="o")
ax.set_xscale("log")
ax.set_xticks(list(SIZES), [str(n) for n in SIZES])
ax.set_ylabel("test accuracy, classes 5-9")
ax.set_title("Transfer from classes 0-4 vs from scratch")
fig.tight_layout()
fig.savefig(os.path.join(FIGURES, "transfer_few_labels.png"), dpi=100)
print("figure:", os.path.join(FIGURES, "transfer_few_labels.png"))

# %% [markdown]
# How much the base helps depends on how well it was trained and how close the tasks are.  In
# one run of `benchmarks/bench_transfer.py` (a base CNN trained on 10,000 images of classes 0–4
# for 3 epochs; three draws of the labelled images per size; every 5–9 test image) the
# transferred head was ahead of training from scratch with 50 and 100 labels per class (0.920
# vs 0.911, 0.928 vs 0.924) and level with 10 (0.819 vs 0.822, with a draw-to-draw sd of 0.03):
# classes 5–9 (footwear, a bag, a shirt) are easy to tell apart even for a network that
# learns its own filters from 50 images, and the base's filters were learned on tops and
# trousers.  On the quick subset this vignette uses in the tests the base sees only about
# 1,000 images and the comparison can go either way.  The transferred fit trains only its
# head (no gradient flows into the convolutions), so it is also the faster of the two; it saves and
# loads like any other fit (`head.model_.save(path)`), the base's kept weights included.
