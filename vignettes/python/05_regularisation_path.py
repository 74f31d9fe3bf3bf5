# %% [markdown]
# # 5. Regularisation paths: the lasso for GLMs and input selection for networks
#
# An L1 penalty (the lasso) sets small coefficients to exactly zero, so it selects inputs.  How
# many it keeps depends on the penalty λ: at a large λ nothing enters the model, and as λ falls
# inputs enter one by one.  `dl.dnn_path` fits a whole grid of penalties at once (like R's
# `glmnet`) and scores each by k-fold cross-validation (like `cv.glmnet`), then picks
#
# * `penalty_min`: the penalty with the lowest CV mean deviance, and
# * `penalty_1se`: the largest penalty whose CV mean is within one standard error of that
#   minimum — a simpler model that is statistically as good.
#
# The penalty has glmnet's meaning: the loss is
# mean deviance / 2 + λ·((1 − α)/2·‖w‖² + α·‖w‖₁) with α = `mixture` (1 = lasso,
# 0 = ridge), biases unpenalised and inputs standardised.
#
# Part 1 is the lasso for a GLM on `mtcars`; part 2 uses `sparsity="inputs"`, a group penalty
# that lets a *network* select its inputs.

# %%
import logging
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.linear_model import Lasso

import dlstat as dl

# TensorFlow warns about "retracing" when a script trains several differently shaped networks;
# each configuration is compiled once on purpose, so the warning is a false alarm here.
logging.getLogger("tensorflow").setLevel(logging.ERROR)
FIGURES = tempfile.mkdtemp(prefix="dlstat-vignette-")  # figures go here, never into the repo

# %% [markdown]
# ## Part 1: the lasso path of a linear model
#
# `hidden=()` makes the network a GLM and `optimizer="lbfgs"` solves each penalised fit
# exactly (the L1 part is handled with bound constraints, so zeros are exact zeros).  The
# model: miles per gallon from all ten other columns of `mtcars`.  With 32 cars and ten
# correlated inputs, least squares over-fits; the lasso should keep a few.

# %%
mtcars = dl.datasets.load("mtcars")
path = dl.dnn_path("mpg ~ .", data=mtcars, hidden=(), optimizer="lbfgs", mixture=1,
                   folds=5, n_penalties=20)
print(path)

# %% [markdown]
# The printed table mirrors `print(glmnet_fit)`: `Df` is the number of inputs with a non-zero
# coefficient, `%Dev` the percentage of deviance explained on the training data, then the
# cross-validated mean deviance (here: mean squared error) and its SE.  The full table is
# `path.table`.

# %%
table = path.table
print(table[["penalty", "df", "dev_explained", "cv_mean", "cv_se"]].round(4).head(8))

# The grid starts at the smallest penalty that keeps every input out (glmnet's lambda.max).
assert table["df"].iloc[0] == 0 and table["df"].iloc[1] > 0
# Fewer inputs at larger penalties (the lasso path is monotone here).
assert table["df"].is_monotonic_increasing
assert path.penalty_1se >= path.penalty_min

# cv.glmnet's rule for penalty_1se, checked by hand:
i_min = table["cv_mean"].idxmin()
bound = table.loc[i_min, "cv_mean"] + table.loc[i_min, "cv_se"]
assert path.penalty_min == table.loc[i_min, "penalty"]
assert path.penalty_1se == table.loc[table["cv_mean"] <= bound, "penalty"].max()

# %% [markdown]
# ### The chosen models
#
# `path.refit("1se")` (or `"min"`) returns the model trained on all the data at that penalty,
# an ordinary dlstat fit with `coef()`, `summary()` and `predict()`.

# %%
fit_1se = path.refit("1se")
fit_min = path.refit("min")
coefs = pd.DataFrame({"lambda.min": fit_min.coef(), "lambda.1se": fit_1se.coef()})
print(f"penalty_min = {path.penalty_min:.4f}, penalty_1se = {path.penalty_1se:.4f}\n")
print(coefs.round(4))

kept = fit_1se.coef().drop("(Intercept)")
kept = sorted(kept.index[kept != 0])
print(f"\ninputs kept at penalty_1se: {kept}")
assert set(kept) == {"cyl", "hp", "wt"}, kept  # the classic mtcars answer
assert (fit_min.coef() != 0).sum() >= (fit_1se.coef() != 0).sum()

# %% [markdown]
# ### Checking the lasso against scikit-learn
#
# glmnet (and dlstat) standardise the inputs with their population SD, fit the lasso on that
# scale and report coefficients on the original scale.  scikit-learn's `Lasso` minimises the
# same objective, ‖y − Xb‖²/(2n) + α‖b‖₁, so with standardised inputs and α = λ it must give
# the same numbers:

# %%
X = mtcars.drop(columns="mpg")
center, scale = X.mean(), X.std(ddof=0)
for label, fit, lam in (("1se", fit_1se, path.penalty_1se), ("min", fit_min, path.penalty_min)):
    sk = Lasso(alpha=lam, tol=1e-12, max_iter=100_000).fit((X - center) / scale, mtcars["mpg"])
    ours = fit.coef().drop("(Intercept)")
    print(f"{label}: largest |dlstat − sklearn| = {np.abs(ours - sk.coef_ / scale).max():.2e}")
    assert np.allclose(ours, sk.coef_ / scale, atol=1e-6)

# %%
fig = path.plot()
fig.savefig(os.path.join(FIGURES, "lasso_path.png"), dpi=80)
plt.close(fig)

# %% [markdown]
# ## Part 2: which inputs does a network need?
#
# An ordinary L1 penalty on a network zeroes individual weights, but an input is only out of
# the network when *all* its outgoing first-layer weights are zero.  `sparsity="inputs"` turns
# the L1 part into a group penalty on each input's row of weights (the group lasso), so whole
# inputs leave or enter the network as the penalty changes — the network analogue of the
# lasso path.  (It needs a first-order optimizer such as Adam: L-BFGS cannot handle the group
# penalty.)
#
# Simulated data: 800 rows, eight inputs; y = sin(2·x1) + x2²/2 + x3/2 + noise, so only x1, x2
# and x3 matter — and the first two non-linearly, which a lasso GLM could not capture.

# %%
rng = np.random.default_rng(11)
n = 800
sim = pd.DataFrame({f"x{j}": rng.normal(size=n) for j in range(1, 9)})
sim["y"] = np.sin(2 * sim.x1) + sim.x2 ** 2 / 2 + 0.5 * sim.x3 + rng.normal(scale=0.3, size=n)

net_path = dl.dnn_path("y ~ .", data=sim, hidden=(16,), mixture=1, sparsity="inputs",
                       folds=5, n_penalties=20, epochs=100, learning_rate=0.01, seed=1)
print(net_path)

# %% [markdown]
# `path.entry` lists the penalty at which each input first enters; `path.term_norms` the norm of
# each input's weights along the path.  The three true inputs enter first, the noise inputs
# only at smaller penalties:

# %%
entry = net_path.entry
print(entry.round(5).to_string(index=False))
print()
print(net_path.term_norms.round(2).iloc[::2])

true_inputs = {"x1", "x2", "x3"}
assert set(entry["term"].iloc[:3]) == true_inputs, entry
first_noise = entry.loc[~entry["term"].isin(true_inputs), "entry_penalty"].max()
last_true = entry.loc[entry["term"].isin(true_inputs), "entry_penalty"].min()
assert last_true > first_noise, "every true input should enter before any noise input"

# %% [markdown]
# The network chosen by cross-validation, and what its inputs look like (`tidy()` gives the
# norm of each input's first-layer weights and how many are non-zero):

# %%
chosen = net_path.refit("1se")
print(chosen.tidy().round(3).to_string(index=False))
r2 = chosen.record.metrics["train"]["r_squared"]
print(f"\ntraining R² of the 1se network: {r2:.3f}")
norms = chosen.tidy().set_index("term")["norm"]
assert norms[list(true_inputs)].min() > norms.drop(list(true_inputs)).max()
assert r2 > 0.8

# %%
fig = net_path.plot()
fig.savefig(os.path.join(FIGURES, "input_path.png"), dpi=80)
plt.close(fig)
print("figures saved in", FIGURES)

# %% [markdown]
# ## Take-aways
#
# * `dl.dnn_path(..., hidden=(), optimizer="lbfgs", mixture=1)` is `cv.glmnet`: the same
#   penalty scale, the same λ grid and the same `lambda.min` / `lambda.1se` rule, and the same
#   coefficients as any exact lasso solver.
# * `penalty_1se` trades a little CV error for a simpler model (here the three inputs `cyl`,
#   `hp` and `wt`).
# * With `sparsity="inputs"` a network's inputs enter one by one as well, which shows which
#   inputs a non-linear model needs.
