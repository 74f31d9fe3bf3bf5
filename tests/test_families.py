"""Families: deviance against statsmodels, metrics against scikit-learn, the automatic choice
of family and the refusal of responses that do not suit a family."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from sklearn import metrics as skm

import dlstat as dl
from dlstat.errors import DlstatError, OptionError, ResponseError
from dlstat.families import make_family

RNG = np.random.default_rng(42)
N = 200


def frame(**cols) -> pd.DataFrame:
    return pd.DataFrame(cols)


@pytest.fixture(scope="module")
def gaussian_data():
    y = RNG.normal(3.0, 2.0, size=N)
    mu = y + RNG.normal(0, 1.0, size=N)
    return y, mu


@pytest.fixture(scope="module")
def binary_data():
    y = RNG.integers(0, 2, size=N).astype(float)
    p = np.clip(0.3 + 0.4 * y + RNG.normal(0, 0.2, size=N), 0.01, 0.99)
    p[:20] = np.round(p[:20], 1)  # ties, as real scores have
    return y, p


@pytest.fixture(scope="module")
def count_data():
    mu = np.exp(RNG.normal(1.0, 0.7, size=N))
    y = RNG.poisson(mu).astype(float)
    assert (y == 0).any()
    return y, mu


@pytest.fixture(scope="module")
def multi_data():
    labels = np.array(["a", "b", "c"])
    codes = RNG.integers(0, 3, size=N)
    logits = RNG.normal(size=(N, 3)) + 1.5 * np.eye(3)[codes]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return labels[codes], codes, p


# --------------------------------------------------------------------------------------------
# deviance
# --------------------------------------------------------------------------------------------
def test_gaussian_deviance(gaussian_data):
    y, mu = gaussian_data
    fam, _ = make_family("gaussian", frame(y=y))
    rows = fam.deviance_rows(y[:, None], mu[:, None])
    sm_fam = sm.families.Gaussian()
    np.testing.assert_allclose(rows.sum(), sm_fam.deviance(y, mu), rtol=1e-12)
    np.testing.assert_allclose(rows, sm_fam.resid_dev(y, mu) ** 2, rtol=1e-10, atol=1e-12)


def test_binomial_deviance(binary_data):
    y, p = binary_data
    fam, _ = make_family("binomial", frame(y=y))
    rows = fam.deviance_rows(y[:, None], p[:, None])
    sm_fam = sm.families.Binomial()
    np.testing.assert_allclose(rows.sum(), sm_fam.deviance(y, p), rtol=1e-10)
    np.testing.assert_allclose(rows, sm_fam.resid_dev(y, p) ** 2, rtol=1e-8, atol=1e-12)


def test_poisson_deviance(count_data):
    y, mu = count_data
    fam, _ = make_family("poisson", frame(y=y))
    rows = fam.deviance_rows(y[:, None], mu[:, None])
    sm_fam = sm.families.Poisson()
    np.testing.assert_allclose(rows.sum(), sm_fam.deviance(y, mu), rtol=1e-10)
    np.testing.assert_allclose(rows, sm_fam.resid_dev(y, mu) ** 2, rtol=1e-8, atol=1e-12)


def test_multinomial_deviance_is_minus_twice_the_log_likelihood(multi_data):
    labels, codes, p = multi_data
    fam, _ = make_family("multinomial", frame(y=labels))
    Y = fam.encode(frame(y=labels))
    rows = fam.deviance_rows(Y, p)
    np.testing.assert_allclose(rows, -2 * np.log(p[np.arange(N), codes]), rtol=1e-12)
    np.testing.assert_allclose(rows.sum(), 2 * N * skm.log_loss(codes, p), rtol=1e-10)


def test_deviance_of_a_perfect_fit_is_zero(count_data):
    y, _ = count_data
    fam, _ = make_family("poisson", frame(y=y))
    np.testing.assert_allclose(fam.deviance_rows(y[:, None], np.maximum(y, 1e-300)[:, None]),
                               0.0, atol=1e-9)


def test_gaussian_multi_response_deviance_sums_outputs(gaussian_data):
    y, mu = gaussian_data
    fam, _ = make_family("gaussian", frame(a=y, b=2 * y))
    rows = fam.deviance_rows(np.column_stack([y, 2 * y]), np.column_stack([mu, 2 * mu]))
    np.testing.assert_allclose(rows, 5 * (y - mu) ** 2, rtol=1e-12)


# --------------------------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------------------------
def test_binomial_metrics(binary_data):
    y, p = binary_data
    fam, _ = make_family("binomial", frame(y=y))
    m = fam.metrics(y[:, None], p[:, None])
    np.testing.assert_allclose(m["auc"], skm.roc_auc_score(y, p), rtol=1e-12)
    np.testing.assert_allclose(m["log_loss"], skm.log_loss(y, p), rtol=1e-10)
    np.testing.assert_allclose(m["accuracy"], skm.accuracy_score(y, p > 0.5), rtol=1e-12)
    np.testing.assert_allclose(m["deviance"], 2 * N * skm.log_loss(y, p), rtol=1e-10)
    np.testing.assert_allclose(m["mean_deviance"], m["deviance"] / N, rtol=1e-12)


def test_binomial_brier_is_the_usual_binary_brier_score(binary_data):
    """For two classes the Brier score is mean((p - y)^2), in [0, 1] (Brier 1950 as used by
    scikit-learn, mlr3 and yardstick), not the two-column sum, which is twice as large."""
    y, p = binary_data
    fam, _ = make_family("binomial", frame(y=y))
    m = fam.metrics(y[:, None], p[:, None])
    np.testing.assert_allclose(m["brier"], np.mean((p - y) ** 2), rtol=1e-12)
    np.testing.assert_allclose(m["brier"], skm.brier_score_loss(y, p), rtol=1e-12)


def test_multinomial_metrics(multi_data):
    labels, codes, p = multi_data
    fam, _ = make_family("multinomial", frame(y=labels))
    m = fam.metrics(fam.encode(frame(y=labels)), p)
    np.testing.assert_allclose(m["auc"], skm.roc_auc_score(codes, p, multi_class="ovr",
                                                           average="macro"), rtol=1e-12)
    np.testing.assert_allclose(m["log_loss"], skm.log_loss(codes, p), rtol=1e-10)
    np.testing.assert_allclose(m["accuracy"], skm.accuracy_score(codes, p.argmax(1)), rtol=1e-12)
    # Multi-class Brier: summed over classes (scikit-learn's default for several classes).
    np.testing.assert_allclose(m["brier"], ((p - np.eye(3)[codes]) ** 2).sum(1).mean(),
                               rtol=1e-12)
    np.testing.assert_allclose(m["brier"], skm.brier_score_loss(codes, p, labels=[0, 1, 2]),
                               rtol=1e-12)


def test_gaussian_metrics(gaussian_data):
    y, mu = gaussian_data
    fam, _ = make_family("gaussian", frame(y=y))
    m = fam.metrics(y[:, None], mu[:, None])
    np.testing.assert_allclose(m["rmse"], np.sqrt(skm.mean_squared_error(y, mu)), rtol=1e-12)
    np.testing.assert_allclose(m["mae"], skm.mean_absolute_error(y, mu), rtol=1e-12)
    np.testing.assert_allclose(m["r_squared"], skm.r2_score(y, mu), rtol=1e-12)
    np.testing.assert_allclose(m["deviance"], ((y - mu) ** 2).sum(), rtol=1e-12)


def test_gaussian_multi_response_r_squared_averages_outputs(gaussian_data):
    y, mu = gaussian_data
    Y = np.column_stack([y, y**2])
    MU = np.column_stack([mu, y**2 + RNG.normal(size=N)])
    fam, _ = make_family("gaussian", frame(a=Y[:, 0], b=Y[:, 1]))
    m = fam.metrics(Y, MU)
    np.testing.assert_allclose(m["r_squared"], skm.r2_score(Y, MU), rtol=1e-12)
    np.testing.assert_allclose(m["rmse"], np.sqrt(skm.mean_squared_error(Y, MU)), rtol=1e-12)


def test_poisson_metrics(count_data):
    y, mu = count_data
    fam, _ = make_family("poisson", frame(y=y))
    m = fam.metrics(y[:, None], mu[:, None])
    np.testing.assert_allclose(m["rmse"], np.sqrt(skm.mean_squared_error(y, mu)), rtol=1e-12)
    np.testing.assert_allclose(m["r_squared"], skm.r2_score(y, mu), rtol=1e-12)
    np.testing.assert_allclose(m["deviance"], sm.families.Poisson().deviance(y, mu), rtol=1e-10)


def test_auc_with_one_class_is_nan():
    fam, _ = make_family("binomial", frame(y=[0.0, 1.0]))
    m = fam.metrics(np.ones((4, 1)), np.array([[0.2], [0.4], [0.6], [0.8]]))
    assert np.isnan(m["auc"])


# --------------------------------------------------------------------------------------------
# encoding and links
# --------------------------------------------------------------------------------------------
def test_inverse_links():
    eta = np.linspace(-3, 3, 7)[:, None]
    fam, _ = make_family("binomial", frame(y=["a", "b"] * 4))
    np.testing.assert_allclose(fam.mean(eta), 1 / (1 + np.exp(-eta)), rtol=1e-12)
    fam, _ = make_family("poisson", frame(y=[1.0, 2.0, 3.0]))
    np.testing.assert_allclose(fam.mean(eta), np.exp(eta), rtol=1e-12)
    fam, _ = make_family("multinomial", frame(y=list("abc")))
    E = np.column_stack([eta[:, 0], -eta[:, 0], 0 * eta[:, 0]])
    P = fam.mean(E)
    np.testing.assert_allclose(P.sum(1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(P, np.exp(E) / np.exp(E).sum(1, keepdims=True), rtol=1e-12)


def test_class_levels_keep_categorical_order_and_first_is_reference():
    y = pd.Categorical(["yes", "no", "yes", "no"], categories=["yes", "no"])
    fam, _ = make_family("binomial", frame(y=y))
    assert fam.levels == ["yes", "no"]
    np.testing.assert_array_equal(fam.encode(frame(y=y))[:, 0], [0, 1, 0, 1])
    fam, _ = make_family(None, frame(y=["b", "a", "b", "a"]))
    assert fam.levels == ["a", "b"]


def test_gaussian_response_is_standardised_for_training(gaussian_data):
    y, _ = gaussian_data
    fam, _ = make_family("gaussian", frame(y=y))
    Y = fam.encode(frame(y=y))
    np.testing.assert_allclose(Y.mean(), 0.0, atol=1e-12)
    np.testing.assert_allclose(Y.std(), 1.0, rtol=1e-12)
    np.testing.assert_allclose(fam.mean(Y), y[:, None], rtol=1e-12)


# --------------------------------------------------------------------------------------------
# the family chosen from the response
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("y,expected", [
    (np.array([1.5, 2.0, 3.7, 0.2]), "gaussian"),
    (np.array([0.0, 1.0, 1.0, 0.0]), "binomial"),
    (np.array([0, 1, 1, 0]), "binomial"),
    (np.array([True, False, True, False]), "binomial"),
    (np.array(["a", "b", "a", "b"], dtype=object), "binomial"),
    (pd.Categorical(["x", "y", "z", "x"]), "multinomial"),
    (np.array(["a", "b", "c", "a"], dtype=object), "multinomial"),
    (np.array([0, 3, 1, 7]), "gaussian"),
])
def test_family_is_chosen_from_the_response(y, expected):
    fam, reason = make_family(None, frame(y=y))
    assert fam.name == expected
    assert reason and expected in reason and "'y'" in reason


def test_cbind_chooses_gaussian():
    fam, reason = make_family(None, frame(a=[1.0, 2.0, 3.0], b=[3.0, 1.0, 2.0]))
    assert fam.name == "gaussian" and fam.n_outputs == 2 and "gaussian" in reason


def test_explicit_family_gives_no_reason():
    fam, reason = make_family("poisson", frame(y=[1.0, 2.0, 0.0]))
    assert fam.name == "poisson" and reason is None


@pytest.fixture(scope="module")
def auto_fits():
    """Tiny GLM fits (L-BFGS, no hidden layers) with the family left to dlstat."""
    mt = dl.datasets.load("mtcars")
    iris = dl.datasets.load("iris")
    kw = dict(hidden=(), optimizer="lbfgs", epochs=50)
    return {
        "gaussian": dl.dnn("mpg ~ wt", mt, **kw),
        "binomial": dl.dnn("am ~ wt", mt, **kw),
        "multinomial": dl.dnn("Species ~ Sepal.Width", iris, **kw),
        "explicit": dl.dnn("carb ~ wt", mt, family="poisson", **kw),
    }


@pytest.mark.parametrize("name", ["gaussian", "binomial", "multinomial"])
def test_note_says_the_family_was_chosen(auto_fits, name):
    fit = auto_fits[name]
    assert fit.family.name == name
    notes = [n for n in fit.record.notes if "family chosen from the response" in n]
    assert len(notes) == 1 and name in notes[0]
    assert "family chosen from the response" in str(fit.summary())


def test_no_such_note_when_family_is_given(auto_fits):
    fit = auto_fits["explicit"]
    assert fit.family.name == "poisson"
    assert not any("family chosen" in n for n in fit.record.notes)


# --------------------------------------------------------------------------------------------
# responses that do not suit the family
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("family,cols,match", [
    ("binomial", dict(y=["a", "b", "c", "a"]), "two classes"),
    ("binomial", dict(y=[1.0, 2.0, 3.0, 4.0]), "two classes"),
    ("poisson", dict(y=[1.0, -2.0, 3.0, 0.0]), "non-negative"),
    ("poisson", dict(y=["a", "b", "c", "a"]), "numeric"),
    ("gaussian", dict(y=["a", "b", "c", "a"]), "numeric"),
    ("multinomial", dict(y=["a", "a", "a", "a"]), "two classes"),
    ("multinomial", dict(a=["u", "v", "u", "v"], b=["u", "v", "v", "u"]), "one response"),
    # Two columns are cbind(successes, failures) (issue 9); three are refused.
    ("binomial", dict(a=[0.0, 1.0, 1.0, 0.0], b=[1.0, 0.0, 1.0, 0.0], c=[1.0, 1, 1, 1]),
     "one response"),
    ("binomial", dict(a=[0.0, -1.0, 1.0, 0.0], b=[1.0, 0.0, 1.0, 0.0]), "non-negative"),
])
def test_wrong_response_for_family_is_a_response_error(family, cols, match):
    with pytest.raises(ResponseError, match=match):
        make_family(family, frame(**cols))


def test_many_valued_numeric_response_is_not_a_class_response():
    with pytest.raises(ResponseError):
        make_family("multinomial", frame(y=np.arange(30, dtype=float)))


def test_response_error_through_dnn():
    df = pd.DataFrame({"y": ["a", "b", "c"] * 5, "x": np.arange(15.0)})
    with pytest.raises(ResponseError, match="binomial"):
        dl.dnn("y ~ x", df, family="binomial")
    with pytest.raises(ResponseError):
        dl.dnn("y ~ x", df, family="gaussian")
    counts = pd.DataFrame({"y": np.arange(15.0) - 3, "x": np.arange(15.0)})
    with pytest.raises(ResponseError, match="poisson"):
        dl.dnn("y ~ x", counts, family="poisson")


def test_response_error_is_a_dlstat_and_value_error():
    assert issubclass(ResponseError, DlstatError) and issubclass(ResponseError, ValueError)


def test_unknown_family_is_an_option_error():
    with pytest.raises(OptionError, match="weibull"):
        make_family("weibull", frame(y=[1.0, 2.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(OptionError, match="weibull"):
            dl.dnn("y ~ x", pd.DataFrame({"y": [1.0, 2.0, 3.0], "x": [1.0, 2.0, 4.0]}),
                   family="weibull")


def test_unknown_class_in_new_response_is_a_response_error():
    fam, _ = make_family("binomial", frame(y=["a", "b", "a"]))
    with pytest.raises(ResponseError, match="'c'"):
        fam.encode(frame(y=["a", "c"]))
