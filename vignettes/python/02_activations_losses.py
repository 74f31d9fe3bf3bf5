# %% [markdown]
# # 2. Activations, softmax and loss functions
#
# A unit of a neural network computes a weighted sum of its inputs, `z = b + w·x`, and passes it
# through an *activation* function.  The output layer turns the last hidden layer into the
# prediction, and the *loss* measures how far the predictions are from the truth.  This
# vignette computes the course's worked examples by hand with NumPy and then shows which loss
# dlstat minimises:
#
# * the activations linear, sigmoid, ReLU and tanh (and why deep sigmoid stacks learn slowly);
# * softmax, which turns a vector of scores into class probabilities;
# * mean squared error for numbers and cross-entropy for classes — and how both are the
#   deviance of a GLM family, halved.

# %%
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import statsmodels.api as sm

import dlstat as dl

FIGURES = tempfile.mkdtemp(prefix="dlstat-vignette-")  # figures go here, never into the repo

# %% [markdown]
# ## Activation functions
#
# | name | formula | range |
# |---|---|---|
# | linear | z | (−∞, ∞) |
# | sigmoid | 1 / (1 + e^(−z)) | (0, 1) |
# | ReLU | max(0, z) | [0, ∞) |
# | tanh | (e^z − e^(−z)) / (e^z + e^(−z)) | (−1, 1) |

# %%
def linear(z):
    return z


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def relu(z):
    return np.maximum(0.0, z)


def tanh(z):
    return np.tanh(z)


activations = {"linear": linear, "sigmoid": sigmoid, "ReLU": relu, "tanh": tanh}

z = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
print(pd.DataFrame({name: f(z) for name, f in activations.items()}, index=pd.Index(z, name="z"))
      .round(4))

assert sigmoid(0.0) == 0.5 and relu(-3.0) == 0.0 and relu(3.0) == 3.0
assert np.isclose(tanh(1.0), 2 * sigmoid(2.0) - 1)  # tanh is a rescaled sigmoid

# %%
grid = np.linspace(-4, 4, 401)
fig, axes = plt.subplots(1, 4, figsize=(13, 3), sharex=True)
for ax, (name, f) in zip(axes, activations.items()):
    ax.plot(grid, f(grid))
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_title(name)
    ax.set_xlabel("z")
fig.tight_layout()
fig.savefig(os.path.join(FIGURES, "activations.png"), dpi=80)
plt.close(fig)
print("figure saved in", FIGURES)

# %% [markdown]
# ### Vanishing gradients
#
# Backpropagation multiplies the derivatives of the activations layer by layer (the chain
# rule).  The sigmoid's derivative σ'(z) = σ(z)(1 − σ(z)) is at most 0.25, so after ten
# sigmoid layers a gradient has shrunk by a factor of at least 4¹⁰ ≈ 10⁶: the first layers
# hardly learn.  ReLU's derivative is exactly 1 for positive inputs, which is why it is the
# default activation of deep networks (and of dlstat: `activation="relu"`).

# %%
d_sigmoid = sigmoid(grid) * (1 - sigmoid(grid))
d_relu = (grid > 0).astype(float)
print(f"largest derivative: sigmoid {d_sigmoid.max():.3f}, ReLU {d_relu.max():.0f}")
for layers in (1, 5, 10):
    print(f"{layers:2d} sigmoid layers: gradient shrinks by at least {0.25 ** layers:.1e}")
assert np.isclose(d_sigmoid.max(), 0.25)

# %% [markdown]
# ## Softmax
#
# For K classes the output layer has K units with scores z₁ … z_K; softmax turns them into
# probabilities: softmax(z)ₖ = e^(zₖ) / Σⱼ e^(zⱼ).  They are positive and sum to one, and
# the largest score gets the largest probability.  Subtracting max(z) first changes nothing
# mathematically but keeps e^z from overflowing.

# %%
def softmax(scores):
    scores = np.asarray(scores, dtype=float)
    e = np.exp(scores - scores.max())
    return e / e.sum()


scores = [0.02, 0.16, 0.10, 0.13, 0.99]
probs = softmax(scores)
print(pd.DataFrame({"score": scores, "probability": probs})
      .to_string(index=False, formatters={"score": "{:.2f}".format,
                                          "probability": "{:.7f}".format}))
print("sum:", probs.sum())

expected = [0.1431069, 0.1646121, 0.1550259, 0.1597471, 0.3775080]
assert np.allclose(probs, expected, atol=1e-6), probs
assert np.isclose(probs.sum(), 1.0)

# %% [markdown]
# In dlstat a multinomial network ends in exactly this softmax: `predict(type="link")`
# returns the scores (one column per class) and `predict(type="prob")` their softmax.  Here on
# `iris`, three species from four measurements:

# %%
iris = dl.datasets.load("iris")
iris_fit = dl.dnn("Species ~ .", data=iris, hidden=(), optimizer="lbfgs", penalty=0.01)
scores_iris = iris_fit.predict(iris, type="link")
probs_iris = iris_fit.predict(iris, type="prob")
by_hand = np.vstack([softmax(row) for row in scores_iris.to_numpy()])
print(pd.concat({"scores (link)": scores_iris.iloc[[0, 50, 100]].round(3),
                 "softmax": probs_iris.iloc[[0, 50, 100]].round(4)}, axis=1))
assert np.allclose(by_hand, probs_iris.to_numpy(), atol=1e-10)

# %% [markdown]
# ## Mean squared error
#
# For a numeric response the usual loss is the mean squared error,
# MSE = (1/n) Σᵢ (yᵢ − ŷᵢ)².  The course's worked example:

# %%
actual = np.array([56, 67, 149, 117, 29, 23, 64, 57, 36, 56])
predicted = np.array([67, 50, 148, 99, 9, 42, 28, 39, 7, 23])
errors = actual - predicted
table = pd.DataFrame({"actual": actual, "predicted": predicted, "error": errors,
                      "squared error": errors ** 2})
print(table.to_string(index=False))
total = int((errors ** 2).sum())
mse = total / len(actual)
print(f"\ntotal squared error = {total}, MSE = {mse}")
assert total == 5046
assert mse == 504.6

# %% [markdown]
# ### The gaussian deviance is the sum of squared errors
#
# The deviance of the gaussian family is Σ (yᵢ − μᵢ)², so for the worked example it is 5046 and
# the mean deviance is the MSE.  statsmodels' GLM families compute it the same way:

# %%
dev = sm.families.Gaussian().deviance(actual.astype(float), predicted.astype(float))
print("gaussian deviance:", dev, " mean deviance:", dev / len(actual))
assert dev == 5046 and dev / len(actual) == 504.6

# %% [markdown]
# ### What a dlstat fit minimises
#
# Every dlstat network is trained on **mean deviance / 2** (plus the penalty, if any).  For the
# gaussian family that is MSE / 2 — but on the *standardised* response scale: dlstat
# centres y and divides it by its standard deviation before training (predictions are mapped
# back), so the loss is MSE / (2·sd(y)²) with sd the population standard deviation.
# `fit.record.deviance` is on the original scale: the residual sum of squares.
#
# A linear model fitted with L-BFGS makes this exact, because the last entry of
# `fit.history` is the loss at the final weights:

# %%
mtcars = dl.datasets.load("mtcars")
lm_fit = dl.dnn("mpg ~ wt + hp", data=mtcars, hidden=(), optimizer="lbfgs")
y = mtcars["mpg"].to_numpy()
fitted = lm_fit.fitted().to_numpy()
mse_fit = np.mean((y - fitted) ** 2)
sd_y = y.std(ddof=0)
n = lm_fit.record.n_obs
print(f"MSE of the fitted values:              {mse_fit:.6f}")
print(f"fit.record.deviance / n:               {lm_fit.record.deviance / n:.6f}")
print(f"final training loss (fit.history):     {lm_fit.history['loss'].iloc[-1]:.6f}")
print(f"MSE / (2 sd(y)^2):                     {mse_fit / (2 * sd_y ** 2):.6f}")
assert np.isclose(lm_fit.record.deviance / n, mse_fit, rtol=1e-10)
assert np.isclose(lm_fit.history["loss"].iloc[-1], mse_fit / (2 * sd_y ** 2), rtol=1e-6)

# %% [markdown]
# And the least-squares fit is `lm()`'s: compare with NumPy's solution of the normal equations.

# %%
X = np.column_stack([np.ones(len(mtcars)), mtcars["wt"], mtcars["hp"]])
beta, *_ = np.linalg.lstsq(X, y, rcond=None)
print(pd.DataFrame({"dlstat": lm_fit.coef(), "least squares": beta}))
assert np.allclose(lm_fit.coef().to_numpy(), beta, rtol=1e-6)

# %% [markdown]
# The same holds for a network with hidden layers: `record.deviance / n` is the MSE of its
# fitted values.  Its last history entry is the loss averaged over the last epoch's updates
# (here full batch: measured just before the final step), so it matches only approximately.

# %%
net = dl.dnn("mpg ~ wt + hp", data=mtcars, hidden=(8,), batch_size=None,
             learning_rate=0.01, epochs=300, seed=1)
mse_net = np.mean((y - net.fitted().to_numpy()) ** 2)
last_loss = net.history["loss"].iloc[-1]
print(f"network: MSE {mse_net:.4f} = deviance/n {net.record.deviance / n:.4f}; "
      f"MSE/(2 sd^2) {mse_net / (2 * sd_y ** 2):.5f} vs last training loss {last_loss:.5f}")
assert np.isclose(net.record.deviance / n, mse_net, rtol=1e-10)
assert np.isclose(last_loss, mse_net / (2 * sd_y ** 2), rtol=0.02)

# %% [markdown]
# ## Cross-entropy for classes
#
# For classes the loss is the cross-entropy (log loss): minus the mean log-probability given to
# the true class, −(1/n) Σᵢ log p̂ᵢ,yᵢ.  For two classes that is
# −(1/n) Σ [yᵢ log pᵢ + (1 − yᵢ) log(1 − pᵢ)], and the binomial deviance is
# −2 Σ [yᵢ log pᵢ + (1 − yᵢ) log(1 − pᵢ)]: **cross-entropy = mean binomial deviance / 2**.
# (Likewise for K classes with the multinomial deviance.)

# %%
logit_fit = dl.dnn("am ~ wt + hp", data=mtcars, hidden=(), optimizer="lbfgs")
p = logit_fit.fitted().to_numpy()
am = mtcars["am"].to_numpy()
cross_entropy = -np.mean(am * np.log(p) + (1 - am) * np.log(1 - p))
mean_dev = logit_fit.record.deviance / logit_fit.record.n_obs
print(f"cross-entropy by hand:           {cross_entropy:.6f}")
print(f"mean binomial deviance / 2:      {mean_dev / 2:.6f}")
print(f"log_loss in the fit's metrics:   {logit_fit.record.metrics['train']['log_loss']:.6f}")
print(f"final training loss:             {logit_fit.history['loss'].iloc[-1]:.6f}")
assert np.isclose(cross_entropy, mean_dev / 2, rtol=1e-8)
assert np.isclose(cross_entropy, logit_fit.record.metrics["train"]["log_loss"], rtol=1e-8)
assert np.isclose(cross_entropy, logit_fit.history["loss"].iloc[-1], rtol=1e-6)

# %% [markdown]
# The multinomial case on `iris` (the penalised fit above, so the loss also carries the L2
# term; the history records the data part only):

# %%
truth = pd.get_dummies(iris["Species"]).to_numpy(float)
ce_iris = -np.mean(np.log((probs_iris.to_numpy() * truth).sum(axis=1)))
print(f"iris: cross-entropy {ce_iris:.6f}, mean multinomial deviance / 2 "
      f"{iris_fit.record.deviance / (2 * len(iris)):.6f}")
assert np.isclose(ce_iris, iris_fit.record.deviance / (2 * len(iris)), rtol=1e-8)

# %% [markdown]
# ## Take-aways
#
# * Activations add the non-linearity; ReLU keeps gradients alive in deep stacks.
# * Softmax turns K scores into K probabilities; a multinomial dlstat network ends in it.
# * MSE and cross-entropy are the gaussian and binomial/multinomial deviances divided by n
#   (and by 2): training a dlstat network is minimising a GLM's deviance, which is why
#   `hidden=()` reproduces `glm()` exactly.
