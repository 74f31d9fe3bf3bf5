"""Calibration of classifiers: the reliability curve and the expected calibration error
against a hand computation."""

from __future__ import annotations

import numpy as np
import pytest

import dlstat as dl
from dlstat.errors import OptionError

GLM = dict(hidden=(), penalty=0, optimizer="lbfgs", verbose=0)


def _hand_ece(p: np.ndarray, hit: np.ndarray, bins: int) -> float:
    """Guo et al.'s ECE written out: equal-width bins [k/M, (k+1)/M), the last one closed."""
    total = 0.0
    for k in range(bins):
        low, high = k / bins, (k + 1) / bins
        inside = (p >= low) & ((p < high) if k < bins - 1 else (p <= high))
        if inside.any():
            total += inside.sum() / len(p) * abs(hit[inside].mean() - p[inside].mean())
    return total


def test_binomial_ece_and_curve_by_hand():
    mt = dl.datasets.load("mtcars")
    fit = dl.dnn("am ~ wt + hp", mt, **GLM)
    result = fit.calibration(bins=5)
    p = fit.predict(mt).to_numpy()
    y = mt["am"].to_numpy(dtype=float)
    assert result.ece == pytest.approx(_hand_ece(p, y, 5), rel=1e-12)
    curve = result.tidy()
    assert curve["n"].sum() == 32 and result.rows == "training"
    first = p < 0.2
    assert curve.iloc[0]["predicted"] == pytest.approx(p[first].mean())
    assert curve.iloc[0]["observed"] == pytest.approx(y[first].mean())
    assert result.glance().loc[0, "ece"] == result.ece
    assert result.mce == pytest.approx(curve["gap"].abs().max())


@pytest.mark.filterwarnings("ignore:fitted probabilities numerically")  # setosa separates
def test_multinomial_top_label_ece_on_test_rows():
    iris = dl.datasets.load("iris")
    train, test = iris.iloc[::2], iris.iloc[1::2]
    fit = dl.dnn("Species ~ Sepal.Length + Sepal.Width", train, test=test, **GLM)
    result = fit.calibration()
    probs = fit.predict(test, type="prob").to_numpy()
    hit = (probs.argmax(axis=1) == test["Species"].cat.codes.to_numpy()).astype(float)
    assert result.rows == "test" and result.predicted == "top-label confidence"
    assert result.ece == pytest.approx(_hand_ece(probs.max(axis=1), hit, 10), rel=1e-12)
    assert fit.summary().tables["calibration"].loc["Expected calibration error", "value"] == \
        pytest.approx(result.ece)
    assert result.plot() is not None


def test_quantile_bins_hold_equal_counts_and_refusals():
    mt = dl.datasets.load("mtcars")
    fit = dl.dnn("am ~ wt + hp", mt, **GLM)
    curve = fit.calibration(bins=4, strategy="quantile").tidy()
    assert curve["n"].tolist() == [8, 8, 8, 8]
    with pytest.raises(OptionError, match="strategy must be one of"):
        fit.calibration(strategy="width")
    with pytest.raises(OptionError, match="bins must be"):
        fit.calibration(bins=0)
    with pytest.raises(OptionError, match="classifier"):
        dl.dnn("mpg ~ wt", mt, **GLM).calibration()
    assert "calibration" not in dl.dnn("mpg ~ wt", mt, **GLM).summary().tables
