# %% [markdown]
# # 1. The perceptron, XOR, and why a network without hidden layers is a GLM
#
# A single-layer perceptron draws one straight line (a hyperplane) through the input space and
# puts one class on each side.  That is enough for AND and OR, but not for XOR
# (exclusive or: 00 → 0, 01 → 1, 10 → 1, 11 → 0), whose two classes sit on opposite corners of
# the unit square.  One hidden layer with a non-linear activation bends the decision boundary
# and solves it.
#
# In dlstat a network with `hidden=()` has no hidden layer: its output is a linear predictor
# passed through the family's inverse link.  For a 0/1 response that is exactly logistic
# regression, a GLM — the smooth cousin of the perceptron.  This vignette shows
#
# 1. `hidden=()` solving AND and OR but failing on XOR;
# 2. `hidden=(4,)` with a sigmoid (or tanh) activation solving XOR;
# 3. `hidden=(), optimizer="lbfgs"` reproducing statsmodels' logistic GLM coefficient for
#    coefficient on `mtcars` (`am ~ wt + hp`).
#
# Run it as a script (`python vignettes/python/01_perceptron_xor.py`) or open it as a notebook
# in Jupyter (with jupytext) or VS Code: every `# %%` line starts a cell.

# %%
import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf

import dlstat as dl

# %% [markdown]
# ## The truth tables
#
# Four rows are too few to train anything sensibly, so each row of the truth table is copied
# 50 times and the inputs get a little Gaussian jitter (sd 0.05).  The labels stay exact.

# %%
rng = np.random.default_rng(2024)
corners = pd.DataFrame({"x1": [0, 0, 1, 1], "x2": [0, 1, 0, 1]})
gates = corners.assign(AND=corners.x1 & corners.x2,
                       OR=corners.x1 | corners.x2,
                       XOR=corners.x1 ^ corners.x2)
print(gates.to_string(index=False))

copies = 50
data = pd.concat([gates] * copies, ignore_index=True)
data[["x1", "x2"]] = data[["x1", "x2"]] + rng.normal(scale=0.05, size=(len(data), 2))
print(f"\n{len(data)} training rows ({copies} jittered copies of each corner)")


def accuracy(fit, response):
    """Share of training rows whose predicted class equals the truth."""
    predicted = fit.predict(data, type="class").astype(int)
    return float((predicted == data[response]).mean())


# %% [markdown]
# ## AND and OR: a single layer is enough
#
# `hidden=()` is logistic regression.  `optimizer="lbfgs"` fits it by full-batch quasi-Newton
# steps, like `glm()`.  The classes of AND and OR are linearly separable, so the fit drives the
# coefficients large (R's `glm()` would warn "fitted probabilities numerically 0 or 1
# occurred") and classifies every row correctly.

# %%
for gate in ("AND", "OR"):
    fit = dl.dnn(f"{gate} ~ x1 + x2", data=data, hidden=(), optimizer="lbfgs", epochs=200)
    acc = accuracy(fit, gate)
    print(f"{gate}: accuracy {acc:.3f}; coefficients {fit.coef().round(2).to_dict()}")
    assert acc == 1.0, f"{gate} is linearly separable; the GLM should classify it perfectly"

# %% [markdown]
# ## XOR: a single layer fails
#
# No straight line separates {01, 10} from {00, 11}.  The best a linear predictor can do is
# get three of the four corners right (accuracy 0.75); the maximum-likelihood fit does worse
# still and sits near the null model, predicting about 0.5 everywhere.

# %%
glm_xor = dl.dnn("XOR ~ x1 + x2", data=data, hidden=(), optimizer="lbfgs")
acc_glm = accuracy(glm_xor, "XOR")
print(f"XOR with hidden=(): accuracy {acc_glm:.3f}")
print(f"deviance explained: {100 * glm_xor.dev_explained:.2f}%")
print(glm_xor.coef().round(3))
assert acc_glm <= 0.75, "a linear decision boundary cannot separate XOR"
assert glm_xor.dev_explained < 0.05, "the logistic GLM should explain almost nothing of XOR"

# %% [markdown]
# ## XOR: one hidden layer succeeds
#
# Four sigmoid units in one hidden layer are enough.  The hidden units learn intermediate
# features (roughly "x1 OR x2" and "x1 AND x2"), and the output layer combines them linearly:
# XOR = OR and not AND.
#
# Optimisation settings: Adam with a learning rate of 0.05 (the default 0.001 is tuned for big
# data and needs many more epochs here), mini-batches of 32, 200 epochs.  dlstat fixes the
# seed by default, so the result below repeats exactly.

# %%
xor_net = dl.dnn("XOR ~ x1 + x2", data=data, hidden=(4,), activation="sigmoid",
                 learning_rate=0.05, epochs=200, seed=1)
acc_net = accuracy(xor_net, "XOR")
print(xor_net.summary())
print(f"\nXOR with hidden=(4,), sigmoid: accuracy {acc_net:.3f}")
assert acc_net == 1.0, "one hidden layer of 4 sigmoid units should solve XOR"

probs = xor_net.predict(corners, type="response")
print(pd.DataFrame({"x1": corners.x1, "x2": corners.x2, "P(XOR = 1)": probs.round(3)})
      .to_string(index=False))
assert (probs.round().astype(int) == gates.XOR).all()

# %% [markdown]
# tanh works as well:

# %%
xor_tanh = dl.dnn("XOR ~ x1 + x2", data=data, hidden=(4,), activation="tanh",
                  learning_rate=0.05, epochs=200, seed=1)
acc_tanh = accuracy(xor_tanh, "XOR")
print(f"XOR with hidden=(4,), tanh: accuracy {acc_tanh:.3f}")
assert acc_tanh == 1.0

# %% [markdown]
# ### How many hidden units?
#
# Two hidden units are enough in principle, but with so few units gradient descent often gets
# stuck in a poor local minimum where one corner is misclassified (accuracy 0.75).  Four units
# give the optimiser room.  Running each architecture from several seeds shows the difference;
# this is worth remembering whenever a network "does not learn": try other seeds and a wider
# layer before concluding that the problem is hard.

# %%
seeds = range(6)
runs = []
for hidden in [(2,), (4,)]:
    for seed in seeds:
        fit = dl.dnn("XOR ~ x1 + x2", data=data, hidden=hidden, activation="sigmoid",
                     learning_rate=0.05, epochs=200, seed=seed)
        runs.append({"hidden": str(hidden), "seed": seed, "accuracy": accuracy(fit, "XOR")})
runs = pd.DataFrame(runs)
table = runs.pivot(index="seed", columns="hidden", values="accuracy")
print(table)
print("\nruns reaching accuracy 1:")
print((table == 1.0).sum())
assert (table["(4,)"] == 1.0).all(), "hidden=(4,) should solve XOR from every seed tried"

# %% [markdown]
# ## `hidden=()` is the GLM
#
# dlstat trains every family on its deviance (loss = mean deviance / 2), and without hidden
# layers the network's output is `η = b + Xβ` with the logit link: the binomial GLM.
# With `optimizer="lbfgs"` the optimum is found to numerical precision, so the coefficients
# agree with statsmodels' iteratively reweighted least squares.
#
# The data: `mtcars`, transmission (`am`, 0 = automatic, 1 = manual) from weight and horse
# power, the same model as R's `glm(am ~ wt + hp, family = binomial, data = mtcars)`.

# %%
mtcars = dl.datasets.load("mtcars")

glm_dl = dl.dnn("am ~ wt + hp", data=mtcars, hidden=(), optimizer="lbfgs")
glm_sm = smf.glm("am ~ wt + hp", data=mtcars, family=sm.families.Binomial()).fit()

sm_coef = glm_sm.params.rename({"Intercept": "(Intercept)"})  # R's name for it, as dlstat
both = pd.DataFrame({"dlstat": glm_dl.coef(), "statsmodels": sm_coef})
both["difference"] = both["dlstat"] - both["statsmodels"]
print(both.to_string(float_format=lambda v: f"{v:.8f}"))
print(f"\nresidual deviance: dlstat {glm_dl.record.deviance:.6f}, "
      f"statsmodels {glm_sm.deviance:.6f}")
print(f"null deviance:     dlstat {glm_dl.record.null_deviance:.6f}, "
      f"statsmodels {glm_sm.null_deviance:.6f}")

# glm(am ~ wt + hp, binomial, mtcars) in R: (Intercept) 18.86630, wt -8.08348, hp 0.03626
assert np.allclose(both["dlstat"], both["statsmodels"], rtol=1e-5, atol=1e-6)
assert np.allclose(glm_dl.coef().to_numpy(), [18.86630, -8.08348, 0.03626], atol=1e-4)
assert abs(glm_dl.record.deviance - glm_sm.deviance) < 1e-6

# %% [markdown]
# The fitted probabilities agree as well, row by row:

# %%
p_dl = glm_dl.predict(mtcars, type="response")
p_sm = glm_sm.predict(mtcars)
print(f"largest difference in fitted probability: {np.abs(p_dl - p_sm).max():.2e}")
assert np.abs(p_dl - p_sm).max() < 1e-6

# %% [markdown]
# ## Take-aways
#
# * A network without hidden layers is a (generalised) linear model; `hidden=()` in dlstat *is*
#   `glm()`, to the last printed digit with `optimizer="lbfgs"`.
# * Linear models separate AND and OR but not XOR; one hidden layer with a non-linear
#   activation does.
# * Training a small network is a non-convex problem: a wider hidden layer and a second seed
#   are cheap insurance.
