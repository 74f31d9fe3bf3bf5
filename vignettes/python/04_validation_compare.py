# %% [markdown]
# # 4. Cross-validation, and always comparing against simpler models
#
# A single train/validation split wastes data and gives a noisy estimate.  **k-fold
# cross-validation** deals the rows into k non-overlapping folds, trains k models — each on
# k − 1 folds — and scores each on the fold it did not see; the k held-out scores are averaged,
# and their spread gives a standard error (sd / √k).
#
# Zou et al. (2019, *A primer on deep learning in genomics*) give advice that applies far
# beyond genomics: most problems do not need very deep networks; beware of impressive accuracy
# that comes from class imbalance; and **always compare against simpler models on the same
# data**.  `dl.compare` does exactly that: the null model (intercept only), the GLM and one or
# more networks are fitted on the same folds, so their scores can be compared fold by fold
# (paired differences).
#
# This vignette uses `dl.cv_dnn` and `dl.compare` on
#
# 1. `mtcars` (k-fold CV of one network, mean ± SE);
# 2. simulated data with a **linear** truth — the GLM should win or tie;
# 3. simulated data with a **non-linear** truth — the network should win;
# 4. an imbalanced binary outcome, where the null model's accuracy is already high.

# %%
import logging
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import dlstat as dl

# TensorFlow warns about "retracing" when a script trains several differently shaped networks;
# each configuration is compiled once on purpose, so the warning is a false alarm here.
logging.getLogger("tensorflow").setLevel(logging.ERROR)
FIGURES = tempfile.mkdtemp(prefix="dlstat-vignette-")  # figures go here, never into the repo

# %% [markdown]
# ## k-fold cross-validation of one network
#
# `dl.cv_dnn` takes the same formula and options as `dl.dnn`, plus `folds=`.  All k networks
# train together in one call.  Every fold's preprocessing (factor levels, standardisation) is
# learned on its training rows only, so nothing leaks from the held-out fold.

# %%
mtcars = dl.datasets.load("mtcars")
cv = dl.cv_dnn("mpg ~ wt + hp + factor(cyl)", data=mtcars, folds=5, hidden=(16,),
               epochs=200, learning_rate=0.01, seed=1)
print(cv)
print()
print(cv.metrics[["fold", "n_train", "n_test", "mean_deviance", "rmse"]].round(3)
      .to_string(index=False))

summary = cv.summary_table
mean_mse, se_mse = summary.loc["mean_deviance", ["mean", "se"]]
print(f"\nheld-out mean squared error: {mean_mse:.2f} ± {se_mse:.2f} (SE)")

# The folds are non-overlapping and together cover every row once.
assert cv.fold_ids.notna().all() and cv.fold_ids.nunique() == 5
assert (cv.metrics["n_test"].sum() == len(mtcars))
assert np.isclose(mean_mse, cv.metrics["mean_deviance"].mean())
assert np.isclose(se_mse, cv.metrics["mean_deviance"].std(ddof=1) / np.sqrt(5))

# Out-of-fold predictions: every car predicted by the network that did not see it.
oof = cv.predictions
assert oof.notna().all()
assert np.isclose(np.mean((mtcars["mpg"] - oof) ** 2),
                  np.average(cv.metrics["mean_deviance"], weights=cv.metrics["n_test"]))

fig = cv.plot("rmse")
fig.savefig(os.path.join(FIGURES, "cv_folds.png"), dpi=80)
plt.close(fig)

# %% [markdown]
# ## A linear truth: the GLM wins or ties
#
# 400 rows, five inputs, y = 1 + 2·x1 − x2 + 0.5·x3 + noise (sd 1); x4 and x5 are noise.
# The GLM (here ordinary least squares) is the right model.  A network can at best match it,
# and with finite data it pays for its extra flexibility with variance.

# %%
rng = np.random.default_rng(7)
n = 400
sim = pd.DataFrame({f"x{j}": rng.normal(size=n) for j in range(1, 6)})
sim["linear"] = 1 + 2 * sim.x1 - sim.x2 + 0.5 * sim.x3 + rng.normal(scale=1.0, size=n)
sim["nonlinear"] = (np.sin(2 * sim.x1) + sim.x2 ** 2 / 2 + 0.5 * sim.x1 * sim.x3
                    + rng.normal(scale=0.3, size=n))

net_options = dict(epochs=150, learning_rate=0.01, seed=1)
models = {"dnn (8)": dict(hidden=(8,)), "dnn (32, 16) + L2": dict(hidden=(32, 16), penalty=0.01)}

linear_cmp = dl.compare("linear ~ x1 + x2 + x3 + x4 + x5", data=sim, folds=5, models=models,
                        **net_options)
print(linear_cmp)

# %% [markdown]
# `table` holds mean and SE per model; `differences` the paired differences from the GLM
# (each fold's network score minus the GLM's score on the same fold), with their SE and
# t = difference / SE.  No network is better than the GLM by more than noise:

# %%
d_lin = linear_cmp.differences
d_lin = d_lin[d_lin["metric"] == "mean_deviance"].set_index("model")
print(d_lin.round(4))
assert linear_cmp.winner("mean_deviance") == "glm"
nets = [m for m in models]
assert (d_lin.loc[nets, "t"] > -2).all(), "no network should beat the true linear model"
assert d_lin.loc["null", "t"] > 5, "the GLM should clearly beat the null model"

# %% [markdown]
# ## A non-linear truth: the network wins
#
# Same inputs, y = sin(2·x1) + x2²/2 + x1·x3/2 + noise (sd 0.3).  A GLM with main effects
# cannot represent the sine, the square or the interaction and explains almost nothing; the
# networks learn them.

# %%
nonlinear_cmp = dl.compare("nonlinear ~ x1 + x2 + x3 + x4 + x5", data=sim, folds=5,
                           models=models, **net_options)
print(nonlinear_cmp)

table = nonlinear_cmp.table
print("\nheld-out R² (mean ± SE):")
print(table["r_squared"].round(3))
d_non = nonlinear_cmp.differences
d_non = d_non[d_non["metric"] == "mean_deviance"].set_index("model")
assert nonlinear_cmp.winner("mean_deviance") in nets
assert (d_non.loc[nets, "t"] < -3).all(), "every network should beat the GLM clearly"
assert table.loc[nets, ("r_squared", "mean")].min() > 0.6
assert table.loc["glm", ("r_squared", "mean")] < 0.2

fig = nonlinear_cmp.plot("mean_deviance")
fig.savefig(os.path.join(FIGURES, "compare_nonlinear.png"), dpi=80)
plt.close(fig)

# %% [markdown]
# ## Class imbalance: compare with the null model too
#
# A binary outcome with about one case in seven.  A classifier that always says "no" is right
# about 86% of the time, so an accuracy of 0.9 is not impressive by itself.  The null model in
# the comparison makes that visible; the deviance and the AUC (0.5 for the null model) show
# what the inputs really add.  `stratify=` keeps the proportion of cases equal in every fold.

# %%
eta = -2.5 + 1.5 * sim.x1 + 1.0 * sim.x2
sim["case"] = rng.random(n) < 1 / (1 + np.exp(-eta))
print(f"share of cases: {sim['case'].mean():.3f}")

imbalanced = dl.compare("case ~ x1 + x2 + x3 + x4 + x5", data=sim, folds=5, stratify="case",
                        hidden=(8,), penalty=0.01, **net_options)
print(imbalanced)
acc = imbalanced.table["accuracy"]["mean"]
auc = imbalanced.table["auc"]["mean"]
print(f"\naccuracy: null {acc['null']:.3f}, glm {acc['glm']:.3f}, dnn {acc['dnn']:.3f}")
print(f"AUC:      null {auc['null']:.3f}, glm {auc['glm']:.3f}, dnn {auc['dnn']:.3f}")
assert acc["null"] > 0.8, "the null model is already 'accurate' on imbalanced data"
assert auc["null"] == 0.5
assert auc["glm"] > 0.8 and acc["glm"] - acc["null"] < 0.1

# %% [markdown]
# ## Take-aways
#
# * k-fold cross-validation estimates held-out performance with a standard error; report
#   both (`cv.summary_table`).
# * Compare a network with the null model and the GLM **on the same folds**
#   (`dl.compare`) and look at the paired differences: a network is worth its complexity only
#   when it beats the GLM by clearly more than the SE.
# * With a linear truth the GLM wins or ties; with a non-linear truth the network wins.
# * On imbalanced classes, accuracy alone flatters every model; the null model's row puts it
#   in perspective.
