"""The one result protocol: every result's summary() is a Summary of DataFrames and numbered
notes, with tidy(), glance(), augment() and plot(); every number is recomputed here from the
result's raw data."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import dlstat as dl  # noqa: E402
from dlstat.errors import DataError, OptionError, OptionTypeError  # noqa: E402
from dlstat.results.protocol import Summary, format_number  # noqa: E402

from conftest import run_python  # noqa: E402

QUIET = dict(verbose=0, seed=1)


@pytest.fixture(scope="module")
def mtcars() -> pd.DataFrame:
    return dl.datasets.load("mtcars")


@pytest.fixture(scope="module")
def glm_fit(mtcars):
    return dl.dnn("mpg ~ wt + hp", mtcars, hidden=(), optimizer="lbfgs", **QUIET)


@pytest.fixture(scope="module")
def net_fit(mtcars):
    return dl.dnn("mpg ~ wt + hp", mtcars, hidden=(4,), epochs=5, **QUIET)


def _assert_protocol_text(summary: Summary) -> None:
    """text() shows the title, the call, every table's caption and every numbered note."""
    text = summary.text()
    assert text.startswith(summary.title)
    assert summary.call in text
    for name in summary.tables:
        if summary.layouts.get(name) != "deviance":
            assert f"{summary.caption(name)}:" in text, name
    for i, note in enumerate(summary.notes, 1):
        assert f"[{i}] {note}" in text
    assert str(summary) == text == repr(summary)


def _assert_html_numbers(summary: Summary, name: str) -> None:
    """The HTML holds the same tables, with the same printed numbers."""
    page = summary._repr_html_()
    assert page.count("<table") == len(summary.tables)
    assert summary.caption(name) in page
    for value in summary.tables[name].select_dtypes("number").to_numpy().ravel():
        if np.isfinite(value) and not float(value).is_integer():
            assert format_number(value) in page, value


# ------------------------------------------------------------------------------------ Summary
def test_summary_text_takes_the_callers_call():
    s = Summary("Title", "f(x=1)", {"t": pd.DataFrame({"a": [1.5]})}, ["first", "second"])
    text = s.text(call="f(x = 1)")
    assert "f(x = 1)" in text and "f(x=1)" not in text
    assert "[1] first" in text and "[2] second" in text
    assert "T:" in text and "1.5" in text


def test_summary_refuses_an_unknown_layout():
    with pytest.raises(OptionError, match="items.*got 'fancy'"):
        Summary("T", "c", {"t": pd.DataFrame()}, layouts={"t": "fancy"})


def test_summary_refuses_tables_it_cannot_print():
    with pytest.raises(OptionTypeError, match="table 't'.*DataFrame; got list"):
        Summary("T", "c", {"t": [1, 2]})
    with pytest.raises(OptionError, match="layout 'deviance'.*\\['df'\\]"):
        Summary("T", "c", {"d": pd.DataFrame({"deviance": [1.0]})}, layouts={"d": "deviance"})


def test_summary_html_escapes_what_it_shows():
    hostile = "<script>alert(1)</script>"
    s = Summary(hostile, hostile, {"t": pd.DataFrame({"term": [hostile]})}, [hostile])
    page = s._repr_html_()
    assert "<script>" not in page and page.count("&lt;script&gt;") == 4


def test_import_dlstat_protocol_stays_light():
    proc = run_python("""
        import sys
        import dlstat
        from dlstat.results import protocol, summary
        heavy = [m for m in ("tensorflow", "matplotlib", "rpy2") if m in sys.modules]
        print(heavy)
    """)
    assert proc.stdout.strip() == "[]"


# ------------------------------------------------------------------------------------ DNNFit
def test_fit_summary_prints_deviance_as_summary_glm(glm_fit, mtcars):
    s = glm_fit.summary()
    y = mtcars["mpg"].to_numpy()
    null = float(((y - y.mean()) ** 2).sum())
    dev = s.tables["deviance"]
    assert dev.loc["Null", "deviance"] == pytest.approx(null)
    assert dev.loc["Null", "df"] == len(y) - 1
    assert dev.loc["Residual", "df"] == len(y) - 3  # statsmodels' ols df_resid for wt + hp
    text = s.text()
    assert f"    Null deviance: {null:.6g}  on 31  degrees of freedom" in text
    assert f"Residual deviance: {glm_fit.record.deviance:.6g}  on 29  degrees of freedom" in text
    assert "rows-1" not in text


def test_fit_summary_says_why_a_network_has_no_residual_df(net_fit):
    s = net_fit.summary()
    assert pd.isna(s.tables["deviance"].loc["Residual", "df"])
    text = s.text()
    residual = next(line for line in text.splitlines() if "Residual deviance" in line)
    assert "degrees of freedom" not in residual
    why = [n for n in s.notes if "no degrees of freedom" in n]
    assert len(why) == 1 and "hidden layers" in why[0] and "17 parameters" in why[0]


def test_fit_summary_penalised_glm_has_no_residual_df(mtcars):
    fit = dl.dnn("mpg ~ wt + hp", mtcars, hidden=(), optimizer="lbfgs", penalty=0.1, **QUIET)
    s = fit.summary()
    assert pd.isna(s.tables["deviance"].loc["Residual", "df"])
    assert any("lambda = 0.1" in n for n in s.notes)


def test_fit_summary_protocol(net_fit):
    s = net_fit.summary()
    assert isinstance(s, Summary)
    assert list(s.tables) == ["model", "architecture", "training", "fit", "deviance"]
    assert all(isinstance(t, pd.DataFrame) for t in s.tables.values())
    _assert_protocol_text(s)
    _assert_html_numbers(s, "fit")
    assert net_fit._repr_html_() == s._repr_html_()


def test_fit_augment_needs_data(net_fit):
    with pytest.raises(DataError, match="pass the data frame"):
        net_fit.augment()


def test_fit_plot_is_a_figure(net_fit):
    fig = net_fit.plot()
    assert isinstance(fig, Figure)
    assert fig.axes[0].get_xlabel() == "epoch"
    plt.close(fig)


# ------------------------------------------------------------------------------------ CVResult
@pytest.fixture(scope="module")
def cv_with_test(mtcars):
    train, test = mtcars.iloc[:26], mtcars.iloc[26:]
    return dl.cv_dnn("mpg ~ wt + hp", train, folds=4, hidden=(4,), epochs=10, test=test,
                     **QUIET), train, test


def test_cv_summary_tables_recomputed_from_the_folds(cv_with_test):
    cv, train, _ = cv_with_test
    s = cv.summary()
    assert list(s.tables) == ["design", "metrics", "folds", "test", "prediction"]
    table = s.tables["metrics"]
    assert list(table.columns) == ["mean", "sd", "se"]
    for metric in ("mean_deviance", "rmse", "r_squared"):
        values = cv.metrics[metric].to_numpy()
        assert table.loc[metric, "mean"] == pytest.approx(values.mean())
        assert table.loc[metric, "se"] == pytest.approx(values.std(ddof=1) / np.sqrt(4))
    assert s.tables["design"].loc["Observations", "value"] == len(train)
    assert s.tables["folds"]["n_test"].sum() == len(train)
    _assert_protocol_text(s)
    _assert_html_numbers(s, "metrics")
    assert s.title == "4-fold cross-validation" and repr(cv) == s.text()


def test_cv_reports_the_test_set(cv_with_test):
    cv, _, test = cv_with_test
    y = test["mpg"].to_numpy()
    rmse = [np.sqrt(np.mean((fit.predict(test).to_numpy() - y) ** 2)) for fit in cv.fits]
    table = cv.summary().tables["test"]
    assert table.loc["rmse", "mean"] == pytest.approx(np.mean(rmse))
    assert table.loc["rmse", "se"] == pytest.approx(np.std(rmse, ddof=1) / 2)
    assert "Test set" in cv.summary().text()
    tidy = cv.tidy()
    assert list(tidy.columns) == ["metric", "mean", "sd", "se", "test_mean", "test_sd",
                                  "test_se"]
    assert tidy.set_index("metric").loc["rmse", "test_mean"] == pytest.approx(np.mean(rmse))
    assert cv.glance()["test_rmse"].iloc[0] == pytest.approx(np.mean(rmse))


def test_cv_tidy_glance_augment_plot(cv_with_test, mtcars):
    cv, train, _ = cv_with_test
    tidy = cv.tidy()
    assert list(tidy["metric"]) == list(cv.summary_table.index)
    glance = cv.glance()
    assert len(glance) == 1
    assert glance.loc[0, "folds"] == 4 and glance.loc[0, "nobs"] == 26
    assert glance.loc[0, "rmse_se"] == pytest.approx(cv.summary_table.loc["rmse", "se"])
    before = train.copy()
    aug = cv.augment(train)
    pd.testing.assert_frame_equal(train, before)
    assert list(aug.columns) == list(train.columns) + [".fitted", ".fold"]
    np.testing.assert_allclose(aug[".fitted"], cv.predictions)
    assert list(aug[".fold"]) == list(cv.fold_ids + 1)
    assert set(aug[".fold"]) == set(cv.metrics["fold"])
    assert list(cv.augment().columns) == [".fitted", ".fold"]
    with pytest.raises(DataError, match="26 rows.*got a frame of 32 rows"):
        cv.augment(mtcars)
    fig = cv.plot("rmse")
    assert isinstance(fig, Figure)
    assert fig.axes[0].get_xlabel() == "fold" and fig.axes[0].get_ylabel() == "rmse"
    plt.close(fig)
    with pytest.raises(OptionError, match="got 'accuracy'"):
        cv.plot("accuracy")


def test_cv_without_test_has_no_test_parts(mtcars):
    cv = dl.cv_dnn("am ~ wt", mtcars, folds=3, hidden=(), epochs=5, **QUIET)
    assert "test" not in cv.summary().tables
    assert not [c for c in cv.tidy().columns if c.startswith("test_")]
    assert not [c for c in cv.glance().columns if c.startswith("test_")]
    assert list(cv.augment().columns) == [".fitted", ".fold"]


# ---------------------------------------------------------------------------------- PathResult
@pytest.fixture(scope="module")
def path_with_test(mtcars):
    train, test = mtcars.iloc[:26], mtcars.iloc[26:]
    path = dl.dnn_path("mpg ~ wt + hp + qsec", train, hidden=(), optimizer="lbfgs",
                       n_penalties=6, folds=3, test=test, **QUIET)
    return path, train, test


def test_path_summary_tables_recomputed_from_the_fits(path_with_test):
    path, _, _ = path_with_test
    s = path.summary()
    assert list(s.tables) == ["path", "chosen", "test"]
    shown = s.tables["path"]
    assert list(shown.columns) == ["Df", "%Dev", "Lambda", "CV mean", "CV SE"]
    for i, fit in enumerate(path.fits):
        explained = 1 - fit.record.deviance / fit.record.null_deviance
        assert shown["%Dev"].iloc[i] == pytest.approx(100 * explained)
        kernel = fit.params["output/kernel"][0]
        assert shown["Df"].iloc[i] == int((np.abs(kernel).sum(axis=1) > 0).sum())
        assert shown["Lambda"].iloc[i] == fit.options.penalty
    cvm, cvse, lam = (path.table[c].to_numpy() for c in ("cv_mean", "cv_se", "penalty"))
    best = int(np.argmin(cvm))
    chosen = s.tables["chosen"]
    assert chosen.loc["penalty_min", "penalty"] == lam[best]
    assert chosen.loc["penalty_1se", "penalty"] == lam[cvm <= cvm[best] + cvse[best]].max()
    assert chosen.loc["penalty_min", "cv_se"] == cvse[best]
    _assert_protocol_text(s)
    _assert_html_numbers(s, "chosen")
    assert s.text().count("penalty_1se") >= 1 and repr(path) == s.text()


def test_path_reports_the_test_set(path_with_test):
    path, _, test = path_with_test
    y = test["mpg"].to_numpy()
    rmse = [np.sqrt(np.mean((fit.predict(test).to_numpy() - y) ** 2)) for fit in path.fits]
    np.testing.assert_allclose(path.summary().tables["test"]["test_rmse"], rmse)
    np.testing.assert_allclose(path.tidy()["test_rmse"], rmse)
    glance = path.glance()
    best = list(path.table["penalty"]).index(path.penalty_min)
    assert glance.loc[0, "test_rmse_min"] == pytest.approx(rmse[best])
    assert "test_mean_deviance_1se" in glance


def test_path_tidy_glance_plot(path_with_test):
    path, train, _ = path_with_test
    tidy = path.tidy()
    assert len(tidy) == 6
    assert list(tidy.columns[:9]) == ["penalty", "df", "dev_explained", "train_deviance",
                                      "cv_mean", "cv_se", "rmse_mean", "rmse_se",
                                      "weight_norm"]
    glance = path.glance()
    assert len(glance) == 1
    assert list(glance.columns[:6]) == ["family", "n_penalties", "penalty_min", "penalty_1se",
                                        "cv_mean_min", "cv_se_min"]
    assert glance.loc[0, "cv_mean_min"] == path.table["cv_mean"].min()
    with pytest.raises(OptionError, match="augment\\(\\) is not defined for a PathResult"):
        path.augment(train)
    for kind, n_axes, ylabel in (("both", 2, "CV mean deviance"), ("cv", 1, "CV mean deviance"),
                                 ("terms", 1, "input weight norm")):
        fig = path.plot(kind)
        assert isinstance(fig, Figure) and len(fig.axes) == n_axes
        assert fig.axes[0].get_ylabel() == ylabel
        plt.close(fig)
    with pytest.raises(OptionError, match="got 'lasso'"):
        path.plot("lasso")


# ---------------------------------------------------------------------------------- Comparison
@pytest.fixture(scope="module")
def comparison_with_test(mtcars):
    train, test = mtcars.iloc[:26], mtcars.iloc[26:]
    comp = dl.compare("mpg ~ wt + hp", train, folds=4, hidden=(4,), epochs=10, test=test,
                      **QUIET)
    return comp, train, test


def test_comparison_summary_tables_recomputed_from_the_folds(comparison_with_test):
    comp, _, _ = comparison_with_test
    s = comp.summary()
    assert list(s.tables) == ["design", "metrics", "differences", "test", "choice"]
    f = comp.folds
    metrics = s.tables["metrics"]
    assert list(metrics.index) == ["null", "glm", "dnn"]
    for model in metrics.index:
        values = f.loc[f["model"] == model, "rmse"].to_numpy()
        assert metrics.loc[model, "rmse_mean"] == pytest.approx(values.mean())
        assert metrics.loc[model, "rmse_se"] == pytest.approx(values.std(ddof=1) / 2)
    wide = f.pivot(index="fold", columns="model", values="mean_deviance")
    d = (wide["dnn"] - wide["glm"]).to_numpy()
    diff = s.tables["differences"].set_index(["model", "metric"]).loc[("dnn", "mean_deviance")]
    assert diff["difference"] == pytest.approx(d.mean())
    assert diff["t"] == pytest.approx(d.mean() / (d.std(ddof=1) / 2))
    best = f.groupby("model")["mean_deviance"].mean().idxmin()
    assert s.tables["choice"].loc["Best mean held-out deviance", "value"] == best
    _assert_protocol_text(s)
    _assert_html_numbers(s, "differences")
    assert f"Best mean held-out deviance: {best}" in s.text() and repr(comp) == s.text()


def test_comparison_reports_the_test_set(comparison_with_test, mtcars):
    comp, train, test = comparison_with_test
    y = test["mpg"].to_numpy()
    # the GLM of each fold, refitted by least squares on that fold's training rows
    fold = comp.folds.loc[comp.folds["model"] == "glm", "fold"].to_numpy()
    assert list(fold) == [1, 2, 3, 4]
    ids = dl.cv_dnn("mpg ~ wt + hp", train, folds=4, hidden=(), epochs=1, **QUIET).fold_ids
    rmse = []
    for k in range(4):
        rows = train[(ids != k).to_numpy()]
        X = np.column_stack([np.ones(len(rows)), rows[["wt", "hp"]]])
        beta = np.linalg.lstsq(X, rows["mpg"], rcond=None)[0]
        mu = np.column_stack([np.ones(len(test)), test[["wt", "hp"]]]) @ beta
        rmse.append(np.sqrt(np.mean((mu - y) ** 2)))
    table = comp.summary().tables["test"]
    assert table.loc["glm", "rmse_mean"] == pytest.approx(np.mean(rmse), rel=1e-6)
    assert table.loc["glm", "rmse_se"] == pytest.approx(np.std(rmse, ddof=1) / 2, rel=1e-6)
    assert "Test set" in comp.summary().text()
    tidy = comp.tidy().set_index(["model", "metric"])
    assert tidy.loc[("glm", "rmse"), "test_mean"] == pytest.approx(np.mean(rmse), rel=1e-6)
    assert comp.glance().loc[0, "test_winner"] == comp.winner(test=True)


def test_comparison_tidy_glance_plot(comparison_with_test):
    comp, train, _ = comparison_with_test
    tidy = comp.tidy()
    assert list(tidy.columns) == ["model", "metric", "mean", "se", "test_mean", "test_se"]
    assert len(tidy) == 3 * len(comp.metric_names)
    glance = comp.glance()
    assert glance.to_dict("records") == [{"family": "gaussian", "folds": 4, "models": 3,
                                          "winner": comp.winner(),
                                          "test_winner": comp.winner(test=True)}]
    with pytest.raises(OptionError, match="not defined for a Comparison"):
        comp.augment(train)
    fig = comp.plot("rmse")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["null", "glm", "dnn"]
    assert ax.get_ylabel() == "held-out rmse (mean ± SE)"
    plt.close(fig)
    with pytest.raises(OptionError, match="got 'deviance'"):
        comp.plot("deviance")


def test_comparison_without_test_refuses_a_test_winner(mtcars):
    comp = dl.compare("mpg ~ wt", mtcars, folds=3, hidden=(), epochs=5, **QUIET)
    assert comp.test is None and "test" not in comp.summary().tables
    assert list(comp.glance().columns) == ["family", "folds", "models", "winner"]
    assert list(comp.tidy().columns) == ["model", "metric", "mean", "se"]
    with pytest.raises(OptionError, match="needs a test set.*test=<data frame>"):
        comp.winner(test=True)
