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
from dlstat.errors import DataError, OptionError  # noqa: E402
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
