"""Attributions (integrated gradients, saliency, gradient × input) and the first convolution's
filters, on a simulated binding set: a 12-base motif planted in the bound half of random
sequences."""

import numpy as np
import pandas as pd
import pytest

import dlstat as dl
from dlstat.errors import DataError, OptionError

MOTIF = "TGACTCAGCGTA"
N, L, W = 600, 50, len(MOTIF)


def onehot(codes):
    """A local one-hot helper (the test does not depend on dl.onehot)."""
    return np.eye(4)[codes]


@pytest.fixture(scope="module")
def binding():
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 4, (N, L))
    y = np.arange(N) % 2
    where = rng.integers(0, L - W + 1, N)
    for i in np.flatnonzero(y == 1):
        codes[i, where[i]:where[i] + W] = ["ACGT".index(c) for c in MOTIF]
    X = onehot(codes)
    train = np.arange(N) < 480
    # smooth activations and an average pool: integrated gradients' trapezoid rule then errs
    # by O(1/m²) (ReLU and max-pool kinks make it O(1/m))
    fit = dl.dnn("label ~ seq", {"label": y[train], "seq": X[train]}, family="binomial",
                 architecture=[dl.conv1d(16, W, activation="tanh"), dl.global_avgpool(),
                               dl.dense(8, activation="tanh")],
                 epochs=30, optimizer="adam", learning_rate=0.01, verbose=0, seed=1)
    return fit, X, y, where, ~train


def top_window_overlap(values, where):
    """Share of rows whose W-base window of largest summed attribution overlaps the motif."""
    per_position = values.sum(axis=2)
    windows = np.stack([per_position[:, j:j + W].sum(axis=1) for j in range(L - W + 1)], 1)
    return float(np.mean(np.abs(windows.argmax(axis=1) - where) < W))


def test_cnn_learns_the_motif(binding):
    fit, X, y, _, held = binding
    p = fit.predict({"seq": X[held]}).to_numpy().ravel()
    assert np.mean((p > 0.5) == y[held]) >= 0.9


@pytest.mark.parametrize("method", ["integrated_gradients", "gradient_x_input", "saliency"])
def test_top_window_overlaps_the_motif(binding, method):
    fit, X, y, where, held = binding
    bound = held & (y == 1)
    a = fit.attributions({"seq": X[bound]}, method=method, target=1)
    assert a.values.shape == (bound.sum(), L, 4)
    values = np.abs(a.values) if method == "saliency" else a.values
    rate = top_window_overlap(values, where[bound])
    print(f"{method}: top window overlaps the motif in {rate:.1%} of bound sequences")
    if method != "saliency":  # the brief's bar is for integrated gradients; saliency reported
        assert rate >= 0.9


def test_integrated_gradients_completeness(binding):
    fit, X, _, _, held = binding
    a = fit.attributions({"seq": X[held]})  # default target: the predicted class
    c = a.completeness
    # f(x), f(0) recomputed independently: the NumPy forward of predict()
    p1 = fit.predict({"seq": X[held]}).to_numpy().ravel()
    p0 = fit.predict({"seq": np.zeros((1, L, 4))}).to_numpy().ravel()[0]
    predicted = (p1 > 0.5).astype(int)
    np.testing.assert_allclose(c["output"], np.where(predicted, p1, 1 - p1), atol=1e-6)
    np.testing.assert_allclose(c["baseline_output"], np.where(predicted, p0, 1 - p0), atol=1e-6)
    assert list(a.target) == [str(v) for v in predicted]
    sums = a.values.reshape(len(a.values), -1).sum(axis=1)
    gap = c["output"] - c["baseline_output"]
    rel = np.abs(sums - gap) / np.abs(gap)
    print(f"completeness: max relative error {rel.max():.2e} over {len(rel)} rows (m=50)")
    assert rel.max() < 0.01


def test_saliency_is_the_gradient_on_the_input_scale(binding):
    fit, X, _, _, _ = binding
    x = X[:2].copy()
    a = fit.attributions({"seq": x}, method="saliency", target=1, scale="link")
    eps, (i, j) = 1e-4, (3, 1)
    up, down = x.copy(), x.copy()
    up[:, i, j] += eps
    down[:, i, j] -= eps
    lp = lambda z: fit.predict({"seq": z}, type="link").to_numpy().ravel()
    np.testing.assert_allclose(a.values[:, i, j], (lp(up) - lp(down)) / (2 * eps), rtol=1e-4)
    g = fit.attributions({"seq": x}, method="gradient_x_input", target=1, scale="link")
    np.testing.assert_allclose(g.values, a.values * x)


def test_tidy_plot_and_filters(binding):
    fit, X, _, _, _ = binding
    a = fit.attributions({"seq": X[:3]}, method="gradient_x_input")
    t = a.tidy()
    assert list(t.columns) == ["row", "position", "channel", "value"] and len(t) == 3 * L * 4
    np.testing.assert_allclose(t["value"].to_numpy(), a.values.reshape(-1))
    assert a.plot(1).axes[0].patches  # letters drawn
    f = fit.filters()
    assert f.pwm.shape == (16, W, 4)
    np.testing.assert_allclose(f.pwm.sum(axis=-1), 1.0)
    kernel = next(v for k, v in fit.params.items() if k.endswith("/kernel") and v.ndim == 4)
    np.testing.assert_allclose(f.weights, np.moveaxis(kernel[0], -1, 0) / fit.spec.array_scale)
    assert len(f.tidy()) == 16 * W * 4
    assert len(f.plot([0, 1]).axes[0].patches) > 0


def test_tabular_attributions_and_bad_requests():
    rng = np.random.default_rng(0)
    d = pd.DataFrame({"x1": rng.normal(5, 2, 200), "x2": rng.normal(size=200)})
    d["y"] = 3 + 2 * d.x1 - d.x2 + rng.normal(size=200)
    fit = dl.dnn("y ~ x1 + x2", d, hidden=(), optimizer="lbfgs", verbose=0)
    a = fit.attributions(d.iloc[:5], method="saliency")
    assert a.values.shape == (5, 2)
    # a linear model's gradient on the input scale is its coefficients
    np.testing.assert_allclose(a.values, np.tile(fit.coef()[["x1", "x2"]], (5, 1)), rtol=1e-5)
    ig = fit.attributions(d.iloc[:5], baseline="mean")
    np.testing.assert_allclose(ig.values.sum(axis=1),
                               fit.predict(d.iloc[:5]) - d.y.mean(), atol=1e-3)
    with pytest.raises(OptionError, match="method"):
        fit.attributions(d, method="shap")
    with pytest.raises(OptionError, match="target"):
        fit.attributions(d, target="z")
    with pytest.raises(DataError, match="baseline"):
        fit.attributions(d, baseline=[1.0])
    with pytest.raises(OptionError, match="convolution"):
        fit.filters()


def letter_boxes(ax):
    """(letter, bottom, top, centre x) of every letter patch drawn on ``ax``, the letter read
    back from its colour (WebLogo's DNA colours)."""
    from matplotlib.colors import to_rgba

    from dlstat.results.logos import LETTER_COLOURS

    by_colour = {to_rgba(c): letter for letter, c in LETTER_COLOURS.items() if letter != "U"}
    boxes = []
    for patch in ax.patches:
        box = patch.get_path().get_extents()
        boxes.append((by_colour[tuple(patch.get_facecolor())], box.y0, box.y1,
                      (box.x0 + box.x1) / 2))
    return sorted(boxes, key=lambda b: (round(b[3]), b[1]))


def test_a_logo_stacks_letters_to_their_heights():
    """Positive values stack upwards from zero with the largest on top, negative ones
    downwards; each letter's box is exactly as tall as its value."""
    import matplotlib.pyplot as plt

    from dlstat.results.logos import draw_logo

    fig, ax = plt.subplots()
    draw_logo(ax, np.array([[0.5, -0.2, 0.3, 0.0], [0.0, 0.0, 1.0, 0.0]]))
    got = letter_boxes(ax)
    want = [("C", -0.2, 0.0, 0), ("G", 0.0, 0.3, 0), ("A", 0.3, 0.8, 0), ("G", 0.0, 1.0, 1)]
    assert [b[0] for b in got] == [w[0] for w in want]
    np.testing.assert_allclose([b[1:] for b in got], [w[1:] for w in want], atol=1e-9)
    plt.close(fig)


def test_filter_logos_are_pwm_times_information_content():
    """A filter whose weights are log-probabilities has those probabilities as its PWM, the
    information content 2 − entropy (bits), and logo letters of height pwm × information."""
    import matplotlib.pyplot as plt

    from dlstat.results.logos import Filters

    probs = np.array([[0.7, 0.1, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25], [0.0, 0.5, 0.5, 0.0]])
    weights = np.log(np.clip(probs, 1e-12, None))[None] + 3.0  # a shift the softmax ignores
    f = Filters(weights, "conv1d")
    np.testing.assert_allclose(f.pwm[0], probs, atol=1e-9)
    bits = [2 + 0.7 * np.log2(0.7) + 0.3 * np.log2(0.1), 0.0, 1.0]
    np.testing.assert_allclose(f.information[0], bits, atol=1e-9)
    fig = f.plot([0], ncols=1)
    heights = {(round(x), letter): top - bottom
               for letter, bottom, top, x in letter_boxes(fig.axes[0])}
    want = {(j, "ACGT"[c]): f.pwm[0, j, c] * f.information[0, j] for j in range(3)
            for c in range(4)}
    assert {k for k, h in want.items() if h > 1e-6} <= heights.keys() <= want.keys()
    np.testing.assert_allclose([heights[k] for k in heights], [want[k] for k in heights],
                               atol=1e-9)
    np.testing.assert_allclose(heights[(0, "A")], 0.7 * bits[0], atol=1e-9)
    plt.close(fig)
