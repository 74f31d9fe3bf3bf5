"""The exact elastic-net path solver (``dlstat/engine/glm_path.py``) behind dnn_path(hidden=(),
optimizer="lbfgs", mixture > 0): where it applies, and its answers against R's glmnet /
cv.glmnet (Debian's r-cran-glmnet through rpy2) to solver tolerance — coefficients, %
deviance explained, Df, the CV curve, lambda.min and lambda.1se — on wide designs (p > n) for
gaussian, binomial and poisson, with weights and an offset, at mixture 1 and 0.5."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dlstat as dl
from dlstat.architecture import Dense
from dlstat.engine import StackJob, Topology, glm_path

GLM = {"hidden": (), "optimizer": "lbfgs", "seed": 1, "verbose": 0}
N, P, FOLDS = 100, 400, 5  # wide: the strong rules and the KKT check both matter


def _wide(family: str, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, P)) * rng.uniform(0.5, 3, P) + rng.normal(0, 2, P)
    eta = (X[:, :6] / X[:, :6].std(axis=0)) @ np.array([0.6, -0.5, 0.4, 0.3, -0.3, 0.2])
    eta = eta - eta.mean()
    d = pd.DataFrame(X, columns=[f"g{j}" for j in range(P)])
    if family == "gaussian":
        d["y"] = 3 + eta + rng.standard_normal(N)
    elif family == "binomial":
        d["y"] = (rng.uniform(size=N) < 1 / (1 + np.exp(-1.5 * eta))).astype(float)
    else:
        d["t"] = rng.uniform(0.5, 2, N)
        d["y"] = rng.poisson(d["t"] * np.exp(0.5 + 0.5 * eta)).astype(float)
        d["lt"] = np.log(d["t"])
    d["w"] = rng.uniform(0.2, 2, N)
    return d


@pytest.fixture(scope="module")
def r():
    from conftest import require

    require("rpy2")
    import rpy2.robjects as ro

    ro.r("suppressMessages(library(glmnet))")
    return ro


def _glmnet(r, d: pd.DataFrame, family: str, lam: np.ndarray, mixture: float, weights: bool,
            offset: bool, foldid: np.ndarray):
    """cv.glmnet on the same columns, penalties and folds: coefficients [p + 1, L], %dev, df,
    cvm, cvsd, lambda.min, lambda.1se."""
    cols = [f"g{j}" for j in range(P)]
    r.globalenv["X"] = r.r.matrix(r.FloatVector(d[cols].to_numpy().ravel(order="F")), nrow=N)
    r.globalenv["y"] = r.FloatVector(d["y"].to_numpy())
    r.globalenv["w"] = r.FloatVector(d["w"].to_numpy() if weights else np.ones(N))
    r.globalenv["lam"] = r.FloatVector(lam)
    r.globalenv["fid"] = r.IntVector(foldid + 1)
    off = ", offset = log(off)" if offset else ""
    if offset:
        r.globalenv["off"] = r.FloatVector(d["t"].to_numpy())
    r.r(f"cv <- cv.glmnet(X, y, family = '{family}', alpha = {mixture}, weights = w, "
        f"lambda = lam, foldid = fid, thresh = 1e-14, maxit = 1e7{off})")
    coef = np.array(r.r("as.matrix(coef(cv$glmnet.fit))"))
    fit = r.r("cv$glmnet.fit")
    return dict(coef=coef, dev=np.array(fit.rx2("dev.ratio")), df=np.array(fit.rx2("df")),
                cvm=np.array(r.r("cv$cvm")), cvsd=np.array(r.r("cv$cvsd")),
                lambda_min=r.r("cv$lambda.min")[0], lambda_1se=r.r("cv$lambda.1se")[0])


def _objective(d: pd.DataFrame, family: str, mixture: float, weights: bool, offset: bool):
    """The penalised objective on the data's scale: the weighted mean negative log-likelihood
    (up to a constant) + λ (α Σ sd_j |β_j| + (1 − α)/2 Σ (sd_j β_j)²), sd_j weighted as glmnet."""
    X, y = d[[f"g{j}" for j in range(P)]].to_numpy(), d["y"].to_numpy()
    w = d["w"].to_numpy() if weights else np.ones(N)
    w = w / w.sum()
    sd = np.sqrt(w @ (X - w @ X) ** 2)
    o = d["lt"].to_numpy() if offset else 0.0

    def value(coef: np.ndarray, penalty: float) -> float:
        eta = coef[0] + X @ coef[1:] + o
        nll = np.logaddexp(0, eta) - y * eta if family == "binomial" else np.exp(eta) - y * eta
        b = coef[1:] * sd
        return float(w @ nll + penalty * (mixture * np.abs(b).sum()
                                          + (1 - mixture) / 2 * b @ b))

    return value


CASES = [
    ("binomial", 1.0, False, False),
    ("binomial", 0.5, True, False),
    ("gaussian", 1.0, True, False),
    ("gaussian", 0.5, False, False),
    ("poisson", 1.0, False, True),
    ("poisson", 0.5, True, True),
]


@pytest.mark.parametrize("family,mixture,weights,offset", CASES,
                         ids=[f"{f}-mixture{m:g}{'-weights' if w else ''}"
                              f"{'-offset' if o else ''}" for f, m, w, o in CASES])
def test_path_equals_cv_glmnet(r, family, mixture, weights, offset):
    d = _wide(family)
    # unequal folds (sizes and, with weights, total weights): cv.glmnet weighs each fold's mean
    foldid = np.minimum(np.arange(N) * FOLDS // (N + 7), FOLDS - 1)
    formula = "y ~ " + " + ".join(f"g{j}" for j in range(P)) + (" + offset(lt)" if offset
                                                                 else "")
    path = dl.dnn_path(formula, d, family=family, mixture=mixture, n_penalties=12,
                       foldid=foldid, weights="w" if weights else None, **GLM)
    lam = path.table["penalty"].to_numpy()
    ref = _glmnet(r, d, family, lam, mixture, weights, offset, foldid)
    L = ref["coef"].shape[1]  # glmnet may stop the path early when %dev saturates
    assert L >= 8
    objective = None if family == "gaussian" else _objective(d, family, mixture, weights,
                                                             offset)
    for i in range(L):
        mine = path.fits[i].coef().to_numpy()
        # Both are minimisers: a wide design's objective is flat to ~1e-12 along directions
        # that move single coefficients by ~1e-4 (glmnet's poisson IRLS stops a little
        # earlier), so the coefficients agree to 5e-4 of the largest and dlstat's objective
        # is glmnet's minimum or lower.
        scale = np.abs(ref["coef"][:, i]).max()
        np.testing.assert_allclose(mine, ref["coef"][:, i], rtol=0, atol=5e-4 * scale,
                                   err_msg=f"penalty {i}")
        if objective is not None:
            theirs = objective(ref["coef"][:, i], lam[i])
            assert objective(mine, lam[i]) <= theirs + 1e-12 * abs(theirs)
    np.testing.assert_allclose(path.table["dev_explained"][:L], ref["dev"], atol=1e-6)
    # at the largest penalty glmnet's rounding of lambda_max may let one column in; at the
    # smallest a coefficient of ~1e-6 on a flat direction may be in one solution only
    diff = path.table["df"].to_numpy()[1:L] - ref["df"][1:]
    assert (np.abs(diff) <= 1).all() and (diff == 0).mean() >= 0.8, diff
    assert path.table["df"].iloc[0] == 0
    np.testing.assert_allclose(path.table["cv_mean"][:L], ref["cvm"], rtol=1e-4)
    np.testing.assert_allclose(path.table["cv_se"][:L], ref["cvsd"], rtol=1e-3)
    if L == len(lam):
        assert path.penalty_min == pytest.approx(ref["lambda_min"], rel=1e-12)
        assert path.penalty_1se == pytest.approx(ref["lambda_1se"], rel=1e-12)


def test_the_solver_runs_instead_of_the_engine(monkeypatch):
    """The wide lasso path never reaches the engine, and the fit's coefficients are its."""
    import dlstat.fitting.blocks as blocks

    def refuse(job):
        raise AssertionError("the engine trained an elastic-net GLM")

    monkeypatch.setattr(blocks, "train_stack", refuse)
    d = _wide("binomial")
    path = dl.dnn_path("y ~ .", d.drop(columns="w"), family="binomial", mixture=1.0,
                       n_penalties=5, folds=3, **GLM)
    assert path.table["df"].iloc[0] == 0 and path.table["df"].iloc[-1] > 0


def _job(**changes) -> StackJob:
    rng = np.random.default_rng(0)
    settings = dict(topology=Topology(3, (), 1), family="binomial",
                    X=rng.normal(size=(20, 3)), Y=(rng.uniform(size=(20, 1)) < .5) * 1.0,
                    train_weights=np.ones((2, 20)), penalty=np.array([0.1, 0.05]),
                    mixture=np.array([1.0, 1.0]), learning_rate=np.ones(2),
                    seeds=np.array([1, 2]), output_bias=np.zeros((2, 1)), optimizer="lbfgs")
    return StackJob(**{**settings, **changes})


@pytest.mark.parametrize("changes,applies", [
    ({}, True),
    ({"family": "poisson"}, True),
    ({"family": "gaussian", "mixture": np.array([0.5, 0.2])}, True),
    ({"mixture": np.array([1.0, 0.0])}, False),  # a ridge network: no L1 part
    ({"penalty": np.array([0.1, 0.0])}, False),  # an unpenalised GLM: Fisher scoring's
    ({"optimizer": "adam"}, False),  # stochastic training: not a minimiser
    ({"topology": Topology(3, (Dense(4),), 1)}, False),  # hidden layers
    ({"family": "multinomial", "topology": Topology(3, (), 3), "Y": np.eye(3)[np.arange(20) % 3],
      "output_bias": np.zeros((2, 3))}, False),
    ({"family": "cox"}, False),  # a partial likelihood, no working response
    ({"family": "gamma"}, False),  # not at a canonical link
    ({"max_norm": 1.0}, False),
    ({"group_inputs": True}, False),
    ({"train_repeats": np.ones((2, 20), np.int64)}, False),
], ids=["binomial", "poisson", "gaussian-elastic-net", "ridge", "unpenalised", "adam",
        "hidden", "multinomial", "cox", "gamma-inverse", "max-norm", "group", "resample"])
def test_where_the_solver_applies(changes, applies):
    assert glm_path.solves(_job(**changes)) is applies


def test_a_client_is_not_used_and_says_so():
    """An exact GLM path is solved in this process: a cluster would only add transfers."""
    d = _wide("gaussian").drop(columns="w")
    path = dl.dnn_path("y ~ g0 + g1 + g2", d, mixture=1.0, n_penalties=4, folds=3,
                       client="tcp://127.0.0.1:9", **GLM)
    assert any("client= was not needed" in note for note in path.fits[0].record.notes)
