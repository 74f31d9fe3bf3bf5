"""dnn_path(): the penalty grid, cv.glmnet's choices, agreement with R's glmnet, input entry."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import dlstat as dl
from dlstat.fitting.path import choose

MTCARS = dl.datasets.load("mtcars")
GLM = {"hidden": (), "optimizer": "lbfgs", "seed": 1, "verbose": 0}


@pytest.fixture(scope="module")
def lasso_path():
    return dl.dnn_path("mpg ~ .", MTCARS, mixture=1.0, folds=5, **GLM)


def test_grid_descends_from_glmnet_lambda_max(lasso_path):
    lam = lasso_path.table["penalty"].to_numpy()
    assert len(lam) == 20 and np.all(np.diff(lam) < 0)
    # glmnet(as.matrix(mtcars[,-1]), mtcars$mpg)$lambda[1] == 5.146981
    assert lam[0] == pytest.approx(5.146981, rel=1e-5)
    # n = 32 > p = 10: glmnet's lambda.min.ratio is 1e-4
    assert lam[-1] / lam[0] == pytest.approx(1e-4)


def test_top_of_lasso_path_is_the_null_model(lasso_path):
    top = lasso_path.table.iloc[0]
    assert top["df"] == 0
    assert abs(top["dev_explained"]) < 1e-6
    assert lasso_path.table["df"].iloc[-1] == 10


def test_table_columns_and_printing(lasso_path):
    t = lasso_path.table
    for col in ("penalty", "df", "dev_explained", "train_deviance", "cv_mean", "cv_se",
                "rmse_mean", "rmse_se", "weight_norm"):
        assert col in t
    text = repr(lasso_path)
    assert "Df" in text and "%Dev" in text and "Lambda" in text and "penalty_1se" in text
    assert isinstance(lasso_path.plot(), matplotlib.figure.Figure)


def test_choices_follow_cv_glmnet(lasso_path):
    t = lasso_path.table
    i = int(t["cv_mean"].idxmin())
    assert lasso_path.penalty_min == t["penalty"][i]
    bound = t["cv_mean"][i] + t["cv_se"][i]
    assert lasso_path.penalty_1se == t.loc[t["cv_mean"] <= bound, "penalty"].max()
    assert lasso_path.penalty_1se >= lasso_path.penalty_min


def test_choose_on_a_constructed_table():
    table = pd.DataFrame({"penalty": [8.0, 4.0, 2.0, 1.0, 0.5],
                          "cv_mean": [10.0, 6.0, 5.2, 5.0, 5.5],
                          "cv_se": [1.0, 0.5, 0.4, 0.3, 0.3]})
    assert choose(table) == (1.0, 2.0)


def test_refit_returns_the_full_data_fit(lasso_path):
    fit = lasso_path.refit("1se")
    assert isinstance(fit, dl.DNNFit)
    assert fit.options.penalty == lasso_path.penalty_1se
    same = dl.dnn("mpg ~ .", MTCARS, penalty=lasso_path.penalty_1se, mixture=1.0, **GLM)
    np.testing.assert_allclose(fit.predict(MTCARS), same.predict(MTCARS), rtol=1e-6)
    assert lasso_path.refit("min").options.penalty == lasso_path.penalty_min
    with pytest.raises(dl.OptionError, match="not on the path"):
        lasso_path.refit(123.0)
    with pytest.raises(dl.OptionError):
        lasso_path.refit("best")


def test_user_grid_is_sorted_and_checked():
    p = dl.dnn_path("mpg ~ wt + hp", MTCARS, penalties=[0.1, 1.0, 0.5], folds=3, **GLM)
    assert p.table["penalty"].tolist() == [1.0, 0.5, 0.1]
    for bad in ([-1.0, 0.5], [np.inf], [np.nan], []):
        with pytest.raises(dl.OptionError, match="penalties"):
            dl.dnn_path("mpg ~ wt", MTCARS, penalties=bad, folds=3, **GLM)
    with pytest.raises(dl.OptionError, match="penalties="):
        dl.dnn_path("mpg ~ wt", MTCARS, penalty=0.1, **GLM)


def test_min_ratio_when_p_exceeds_n():
    rng = np.random.default_rng(0)
    wide = pd.DataFrame(rng.normal(size=(15, 20)), columns=[f"x{j}" for j in range(20)])
    wide["y"] = wide["x0"] + rng.normal(size=15)
    p = dl.dnn_path("y ~ .", wide, mixture=1.0, folds=3, n_penalties=5, **GLM)
    lam = p.table["penalty"].to_numpy()
    assert lam[-1] / lam[0] == pytest.approx(1e-2)


def test_full_data_and_fold_networks_train_in_two_engine_calls(monkeypatch):
    """One stack per kind, so the fold networks are not padded to the full data's rows."""
    import dlstat.fitting.blocks as blocks

    sizes, longest = [], []
    real = blocks.train_stack

    def counting(job):
        sizes.append(job.size)
        longest.append(int((job.train_weights > 0).sum(axis=1).max()))
        return real(job)

    monkeypatch.setattr(blocks, "train_stack", counting)
    dl.dnn_path("mpg ~ wt + hp", MTCARS, n_penalties=4, folds=3, **GLM)
    assert sizes == [4, 4 * 3]
    assert longest[0] == len(MTCARS) and longest[1] < len(MTCARS)


def test_validation_split_instead_of_folds():
    p = dl.dnn_path("mpg ~ wt + hp + qsec", MTCARS, n_penalties=5, folds=0, validation=0.25,
                    **GLM)
    assert p.table["cv_se"].isna().all()
    assert p.penalty_1se == p.penalty_min
    assert any("validation split" in n for n in p.notes)


def test_foldid_is_used():
    foldid = np.arange(len(MTCARS)) % 4
    a = dl.dnn_path("mpg ~ wt + hp", MTCARS, n_penalties=4, foldid=foldid, **GLM)
    # the same folds under other labels give the same path ...
    renamed = dl.dnn_path("mpg ~ wt + hp", MTCARS, n_penalties=4,
                          foldid=np.array(list("dcba"))[foldid], **GLM)
    pd.testing.assert_frame_equal(a.table, renamed.table)
    # ... and other folds another one, so the folds come from foldid
    other = dl.dnn_path("mpg ~ wt + hp", MTCARS, n_penalties=4,
                        foldid=np.arange(len(MTCARS)) // 8, **GLM)
    assert not np.allclose(a.table["cv_mean"], other.table["cv_mean"])


def test_true_inputs_enter_first_with_input_sparsity():
    rng = np.random.default_rng(1)
    n = 1000
    X = rng.normal(size=(n, 8))
    d = pd.DataFrame(X, columns=[f"x{j}" for j in range(1, 9)])
    d["y"] = np.sin(2 * X[:, 0]) + X[:, 1] ** 2 + 0.8 * X[:, 2] + 0.3 * rng.normal(size=n)
    p = dl.dnn_path("y ~ .", d, hidden=(16,), mixture=1.0, sparsity="inputs", n_penalties=12,
                    folds=3, epochs=60, learning_rate=0.01, batch_size=64, seed=1, verbose=0)
    assert p.table["df"].iloc[0] == 0
    first_three = set(p.entry["term"].iloc[:3])
    assert first_three == {"x1", "x2", "x3"}
    assert list(p.entry["order"]) == list(range(1, 9))
    assert set(p.term_norms.columns) == {f"x{j}" for j in range(1, 9)}
    assert "Entry order" in repr(p)


def test_input_sparsity_refuses_lbfgs():
    with pytest.raises(dl.OptionError, match="L-BFGS"):
        dl.dnn_path("mpg ~ wt", MTCARS, sparsity="inputs", mixture=1.0, **GLM)


# -- agreement with R's glmnet (Debian's r-cran-glmnet, through rpy2) --------------------------

@pytest.fixture(scope="module")
def r():
    from conftest import require

    require("rpy2")
    import rpy2.robjects as ro

    ro.r("suppressMessages(library(glmnet))")
    ro.r("X <- as.matrix(mtcars[, -1]); y <- mtcars$mpg;"
         "Xb <- as.matrix(mtcars[, c('mpg', 'wt', 'hp', 'disp', 'qsec')]); yb <- mtcars$am")
    return ro


CASES = [("gaussian", "mpg ~ .", "X", "y", [1.0, 0.3, 0.1, 0.03]),
         ("binomial", "am ~ mpg + wt + hp + disp + qsec", "Xb", "yb", [0.1, 0.03, 0.01])]


@pytest.mark.parametrize("mixture", [0.0, 0.5, 1.0], ids=["ridge", "elastic-net", "lasso"])
@pytest.mark.parametrize("family,formula,xr,yr,lams", CASES, ids=["gaussian", "binomial"])
def test_path_agrees_with_glmnet(r, family, formula, xr, yr, lams, mixture):
    p = dl.dnn_path(formula, MTCARS, penalties=lams, mixture=mixture, folds=3, family=family,
                    **GLM)
    r.globalenv["lams"] = r.FloatVector(lams)
    fitted = r.r(f"g <- glmnet({xr}, {yr}, family = '{family}', alpha = {mixture}, "
                 "lambda = lams, thresh = 1e-14, maxit = 1e6);"
                 f"as.vector(predict(g, {xr}, type = 'response'))")
    ref = np.array(fitted).reshape(-1, len(lams), order="F")
    zero_r = np.array(r.r("as.vector(as.matrix(coef(g))[-1, ] == 0)")).reshape(
        -1, len(lams), order="F")
    for i in range(len(lams)):
        mine = p.fits[i].predict(MTCARS).to_numpy()
        np.testing.assert_allclose(mine, ref[:, i], rtol=1e-2)
        if mixture > 0:
            zero_m = p.fits[i].coef().to_numpy()[1:] == 0
            assert (zero_m == zero_r[:, i].astype(bool)).all()
