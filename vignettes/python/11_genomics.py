# %% [markdown]
# # 11. Genomics: sequences, splice junctions, what a CNN looked at, and wide expression data
#
# Zou et al.'s primer on deep learning in genomics (*Nature Genetics*, 2019) ends on two pieces
# of advice: compare a network against simpler models on the same data, and look at what it
# learned, because a network is harder to interpret than a statistical model.  This vignette
# follows both on DNA:
#
# 1. sequences become arrays with `dl.onehot` (and k-mer codes with `dl.kmer_codes`);
# 2. on the primate splice-junction data (`dl.datasets.splice()`, R's `mlbench::DNA`) a GLM, a
#    dense network and a 1-D CNN are cross-validated on the same folds, then scored on the
#    StatLog project's test set next to its published accuracies;
# 3. on a simulated transcription-factor binding set with a planted 12-base motif
#    (`dl.datasets.tf_binding()`), integrated gradients (`fit.attributions`) point at the motif
#    and the first convolution's filters (`fit.filters`) spell it;
# 4. a wide "expression" data set (many more genes than samples) gets a lasso path
#    (`dl.dnn_path(hidden=(), mixture=1)`), and we read off which genes enter first.
#
# The splice data need R with Debian's `r-cran-mlbench`.

# %%
import logging
import os
import tempfile
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import dlstat as dl

logging.getLogger("tensorflow").setLevel(logging.ERROR)  # retracing notes: several networks
FIGURES = tempfile.mkdtemp(prefix="dlstat-vignette-")  # figures go here, never into the repo
# The tests and the documentation build set DLSTAT_VIGNETTE_N for short runs: 3 CV folds, not 5.
FOLDS = 3 if os.environ.get("DLSTAT_VIGNETTE_N") else 5
print("figures in", FIGURES)

# %% [markdown]
# ## Sequences as arrays
#
# A convolution reads a sequence of length L as an `[L, 4]` matrix: one row per base, one
# column per letter of the alphabet (A, C, G, T), a 1 in the column of the base.  IUPAC
# ambiguity codes spread the 1 over the bases they stand for (R = A or G: 0.5 and 0.5;
# N: 0.25 each), and `length=` pads short sequences with zero rows (or trims long ones).
# `"ACGU"` (RNA), `"protein"` (20 amino acids) or any string of letters are other alphabets.

# %%
x = dl.onehot(["ACGTN", "gattR"], length=6)
print(x.shape)
print(pd.DataFrame(x[1], columns=list("ACGT"), index=list("GATTR") + ["pad"]))
assert x.shape == (2, 6, 4) and x.dtype == np.float32
assert x[1, 4].tolist() == [0.5, 0.0, 0.5, 0.0] and x[1, 5].sum() == 0
# k-mer codes (AAA = 0 … TTT = 63) feed an embedding layer instead of a one-hot input
print(dl.kmer_codes(["ACGTA"], k=3))

# %% [markdown]
# ## Splice junctions: a GLM, a dense network and a CNN
#
# 3,186 primate sequences of 60 bases, each around a possible splice junction (between bases
# 30 and 31): an exon–intron boundary (`ei`, a donor site), an intron–exon boundary (`ie`, an
# acceptor site) or neither (`n`).  The StatLog project trained on 2,000 of them and tested on
# the other 1,186.  mlbench does not record which rows were which, but its first 2,000 rows
# have exactly the class counts of StatLog's training set (464 `ei`, 485 `ie`, 1,051 `n`), so
# we use rows 1–2,000 for training and rows 2,001–3,186 as the test set.

# %%
splice = dl.datasets.splice()
X = dl.onehot(splice["sequence"])
cls = splice["Class"].to_numpy()
train = np.arange(len(splice)) < 2000
print(X.shape)
print(pd.crosstab(pd.Series(np.where(train, "train", "test"), name="rows"),
                  pd.Series(cls, name="Class")))
assert pd.Series(cls[train]).value_counts()[["ei", "ie", "n"]].tolist() == [464, 485, 1051]

# The consensus at the junction: donors (ei) start the intron with GT, acceptors (ie) end it
# with AG.
bases = splice["sequence"].str
print("share of 'GT' at bases 31-32:",
      (bases[30:32] == "GT").groupby(splice["Class"], observed=True).mean().round(3).to_dict())
print("share of 'AG' at bases 29-30:",
      (bases[28:30] == "AG").groupby(splice["Class"], observed=True).mean().round(3).to_dict())

# %% [markdown]
# Three models of `Class ~ seq`, where `seq` is the `[n, 60, 4]` one-hot array:
#
# * **GLM**: `hidden=()` is multinomial logistic regression on the 240 indicators (StatLog's
#   *LogDisc* used the same information: 180 binary indicators).  The classes are nearly
#   separable on so many indicators, so a small ridge penalty (`penalty=0.01`) keeps the
#   coefficients finite; L-BFGS fits it exactly.
# * **dense**: the 240 indicators into 32 ReLU units.
# * **CNN**: 32 filters of width 9 slide along the sequence (`conv1d`), a max-pool halves the
#   positions, then 32 dense units.
#
# All three are cross-validated on the *same* stratified folds of the training rows (`foldid=`;
# five folds, three in the short run), so their held-out accuracies are paired.

# %%
MODELS = {
    "GLM": dict(hidden=(), optimizer="lbfgs", penalty=0.01),
    "dense": dict(architecture=[dl.flatten(), dl.dense(32)], epochs=30),
    "CNN": dict(architecture=[dl.conv1d(32, 9), dl.maxpool(2), dl.flatten(), dl.dense(32)],
                epochs=20),
}
data = {"Class": cls[train], "seq": X[train]}
folds = dl.stratified_kfold(FOLDS, cls[train], seed=1)
foldid = np.empty(train.sum(), dtype=np.int64)
for k, (_, held) in enumerate(folds.split(X[train], cls[train])):
    foldid[held] = k + 1

cv_acc = {}
for name, options in MODELS.items():
    start = time.perf_counter()
    cv = dl.cv_dnn("Class ~ seq", data, foldid=foldid, seed=1, verbose=0, **options)
    cv_acc[name] = cv.metrics["accuracy"].to_numpy()
    seconds = time.perf_counter() - start
    print(f"{name:>5}: CV accuracy {cv_acc[name].mean():.3f} ± "
          f"{cv_acc[name].std(ddof=1) / np.sqrt(FOLDS):.3f} (SE)  [{seconds:.0f} s]")
per_fold = pd.DataFrame(cv_acc, index=pd.Index(range(1, FOLDS + 1), name="fold"))
print(per_fold.round(3))
gain = per_fold["CNN"] - per_fold["GLM"]
print(f"CNN − GLM, paired over the folds: {gain.mean():+.3f} ± "
      f"{gain.std(ddof=1) / np.sqrt(FOLDS):.3f}")
assert per_fold["CNN"].mean() > per_fold["GLM"].mean()

# %% [markdown]
# Now each model is fitted on all 2,000 training rows and scored once on the 1,186 test rows,
# beside the test accuracies StatLog published for logistic discrimination, back-propagation
# and an RBF network (Michie, Spiegelhalter and Taylor, *Machine Learning, Neural and
# Statistical Classification*, 1994).

# %%
fits, test_acc = {}, {}
for name, options in MODELS.items():
    fits[name] = dl.dnn("Class ~ seq", data, seed=1, verbose=0, **options)
    guess = fits[name].predict({"seq": X[~train]}, type="class").to_numpy().ravel()
    test_acc[f"dlstat {name}"] = float(np.mean(guess == cls[~train]))
statlog = {"StatLog LogDisc": 0.939, "StatLog BackProp": 0.912, "StatLog RBF": 0.959}
table = pd.Series({**statlog, **test_acc}, name="test accuracy").round(3)
print(table.to_string())
assert test_acc["dlstat CNN"] > 0.93 and test_acc["dlstat GLM"] > 0.9

# %% [markdown]
# ## What the CNN looked at: a planted motif
#
# `dl.datasets.tf_binding()` simulates the primer's tutorial task: 2,000 random sequences of
# 50 bases (seed 2019); in the bound half a 12-base motif, `CGACCGAACTCC`, is planted at a
# random position.  A CNN with 16 filters of the motif's width finds it; the question is
# whether we can *see* that it did.

# %%
tf = dl.datasets.tf_binding()
Xb = dl.onehot(tf.sequences)
yb = tf.labels
fit_rows = np.arange(len(yb)) < 1600
held = ~fit_rows
W = len(tf.motif)
# smooth activations and an average pool make integrated gradients' path integral accurate
cnn = dl.dnn("bound ~ seq", {"bound": yb[fit_rows], "seq": Xb[fit_rows]}, family="binomial",
             architecture=[dl.conv1d(16, W, activation="tanh"), dl.global_avgpool(),
                           dl.dense(8, activation="tanh")],
             epochs=30, optimizer="adam", learning_rate=0.01, seed=1, verbose=0)
p = cnn.predict({"seq": Xb[held]}).to_numpy().ravel()
binding_accuracy = float(np.mean((p > 0.5) == yb[held]))
print(f"held-out accuracy: {binding_accuracy:.3f}")
assert binding_accuracy > 0.9

# %% [markdown]
# **Integrated gradients** attribute each prediction to the input's cells: the gradient of the
# predicted probability, averaged along the straight path from an all-zero baseline to the
# sequence, times the input.  The attributions of a sequence add up to its prediction minus the
# baseline's (*completeness*).  For every bound held-out sequence we find the 12-base window
# with the largest summed attribution and check whether it overlaps the planted motif.

# %%
bound = held & (yb == 1)
ig = cnn.attributions({"seq": Xb[bound]}, method="integrated_gradients", target=1)
print(ig.values.shape)
per_base = ig.values.sum(axis=2)
windows = np.stack([per_base[:, j:j + W].sum(axis=1) for j in range(per_base.shape[1] - W + 1)],
                   axis=1)
top = windows.argmax(axis=1)
overlap = float(np.mean(np.abs(top - tf.positions[bound]) < W))
exact = float(np.mean(top == tf.positions[bound]))
print(f"top window overlaps the motif in {overlap:.1%} of {bound.sum()} bound sequences "
      f"(starts exactly on it in {exact:.1%})")
gap = ig.completeness["output"] - ig.completeness["baseline_output"]
sums = ig.values.reshape(len(ig.values), -1).sum(axis=1)
completeness_error = float(np.max(np.abs(sums - gap) / np.abs(gap)))
print(f"completeness: largest relative error {completeness_error:.2e}")
assert overlap >= 0.9 and completeness_error < 0.01

row = 0
fig = ig.plot(row)
start = tf.positions[bound][row]
fig.axes[0].axvspan(start - 0.5, start + W - 0.5, color="grey", alpha=0.15)
fig.axes[0].set_title("integrated gradients of one bound sequence (motif shaded)")
fig.savefig(os.path.join(FIGURES, "attributions_logo.png"), dpi=80)
plt.close(fig)

# %% [markdown]
# `fit.filters()` turns the first convolution's kernels into position weight matrices (the
# softmax of each position's weights over A, C, G, T) with their information content.  The
# filter that matches the motif best, at its best shift, spells most of it.

# %%
filt = cnn.filters()
print(filt.summary())
consensus = ["".join("ACGT"[i] for i in pwm.argmax(axis=1)) for pwm in filt.pwm]


def matches(word: str, motif: str) -> tuple[int, int]:
    """Most letters of `word` equal to `motif` at any shift (word and motif slide past each
    other by up to half the motif), and that shift."""
    best = (0, 0)
    for shift in range(-(len(motif) // 2), len(motif) // 2 + 1):
        same = sum(word[i] == motif[i + shift] for i in range(len(word))
                   if 0 <= i + shift < len(motif))
        best = max(best, (same, shift))
    return best


scores = [matches(c, tf.motif) for c in consensus]
best = int(np.argmax([s[0] for s in scores]))
print(f"motif     {tf.motif}")
print(f"filter {best:>2} {consensus[best]}  ({scores[best][0]} of {W} letters at shift "
      f"{scores[best][1]})")
assert scores[best][0] >= W // 2
fig = filt.plot([best], ncols=1)
fig.savefig(os.path.join(FIGURES, "filter_logo.png"), dpi=80)
plt.close(fig)

# %% [markdown]
# ## Wide data: a lasso path over genes
#
# Expression data have far more genes than samples.  We simulate 200 samples of 2,000 genes
# where only five genes (`g4`, `g18`, `g43`, `g77`, `g99`) move the log-odds of a binary
# phenotype, and run the lasso path (`hidden=()`, `mixture=1`) with 5-fold cross-validation,
# as `cv.glmnet` would.  At `hidden=()` the path is solved as glmnet solves it (strong rules,
# warm starts, Newton steps on the active genes): the same coefficients and the same
# `lambda.min` / `lambda.1se` as `cv.glmnet` on the same folds, in a few seconds.

# %%
GENES, SAMPLES = 2000, 200
TRUE_GENES = {"g4": 2.0, "g18": -2.0, "g43": 1.5, "g77": -1.5, "g99": 1.5}
rng = np.random.default_rng(23)
expr = pd.DataFrame(rng.normal(size=(SAMPLES, GENES)),
                    columns=[f"g{j}" for j in range(1, GENES + 1)])
eta = sum(beta * expr[g] for g, beta in TRUE_GENES.items())
expr["case"] = (rng.random(SAMPLES) < 1 / (1 + np.exp(-eta))).astype(int)
start = time.perf_counter()
path = dl.dnn_path("case ~ .", expr, hidden=(), mixture=1, family="binomial", folds=5,
                   n_penalties=30, optimizer="lbfgs", seed=1, verbose=0)
print(f"path of {GENES} genes: {time.perf_counter() - start:.0f} s")
print(path)

# %% [markdown]
# `path.term_norms` is the coefficient path: the size of each gene's coefficient at each
# penalty (rows, largest penalty first).  A gene *enters* at the first penalty where its
# coefficient is non-zero; the genes kept at `penalty_1se` (the largest penalty within one
# standard error of the best CV deviance) are the lasso's selection.

# %%
norms = path.term_norms
entered = norms > 0
order = entered.idxmax()[entered.any()].sort_values(ascending=False)  # penalty at entry
print("first ten genes to enter (penalty at entry):")
print(order.head(10).round(4).to_string())
at_1se = norms.loc[path.penalty_1se]
selected = sorted(at_1se.index[at_1se > 0], key=lambda g: int(g[1:]))
print(f"genes kept at penalty_1se = {path.penalty_1se:.4f}: {selected}")
last_true = order[list(TRUE_GENES)].min()  # the penalty at which the last true gene enters
noise_before = int((order.drop(list(TRUE_GENES)) >= last_true).sum())
print(f"true genes enter at penalties {order[list(TRUE_GENES)].round(4).to_dict()}; "
      f"noise genes entered by then: {noise_before}")
assert set(TRUE_GENES) <= set(selected)

# %% [markdown]
# ## What we saw
#
# * `dl.onehot` turns sequences (with IUPAC codes, padding and other alphabets) into the
#   `[n, L, 4]` arrays a `conv1d` reads; a formula names the array like any other term.
# * On the splice junctions the CNN has the best cross-validated accuracy of the three on the
#   same folds; on StatLog's test set all three sit in the range of StatLog's classifiers (the
#   table above), and the GLM on one-hot bases is StatLog's logistic discrimination again.
# * Integrated gradients point at the planted motif in nearly every bound sequence, their
#   attributions add up to the prediction minus the baseline's, and one filter of the first
#   convolution spells much of the motif.
# * On wide data, the lasso path at `hidden=()` is `cv.glmnet`: all five true genes are kept
#   at `penalty_1se`, together with a few noise genes (printed above).
