"""The formulaic-free design of plain numeric formulas (dlstat/formula/plain.py) equals
formulaic's: same columns, same intercept, same values, for fits and for new data."""

import numpy as np
import pandas as pd
import pytest
from formulaic import model_matrix

from dlstat.formula.design import build_design
from dlstat.formula.parse import parse_formula
from dlstat.formula.plain import plain_columns, plain_matrix

COLUMNS = ["a", "b", "c", "d_2"]
PLAIN = ["a + b", "(a + b + c)", "c + a", "a + b - 1", "0 + b + a", "a + a + b",
         "(a + b + c) - b", "b + a + 1", "- 1 + a", "(a + b) - 1", "a - b + c", "d_2 + a"]
NOT_PLAIN = ["log(a)", "a:b", "a*b", "a -", "+ a", "a b", "-(a + b)", "a + e", "1", "0",
             "0 + a + (b)", "a ** 2", "I(a + b)", "a + b - (c)", "(a - b)", "__import__"]


def frame(n=50, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.normal(size=(n, 4)), columns=COLUMNS)
    df["y"] = rng.normal(size=n)
    return df


@pytest.mark.parametrize("rhs", PLAIN)
def test_plain_columns_match_formulaic(rhs):
    df = frame()
    mm = model_matrix(rhs, df)
    columns, intercept = plain_columns(rhs, COLUMNS)
    assert columns == [c for c in mm.columns if c != "Intercept"]
    assert intercept == ("Intercept" in mm.columns)
    X = plain_matrix(df, columns, block=7)  # blocks that do not divide the rows
    np.testing.assert_array_equal(X, np.asarray(mm[columns], dtype=np.float64))
    assert X.flags.writeable and X.flags.c_contiguous


@pytest.mark.parametrize("rhs", NOT_PLAIN)
def test_anything_else_goes_to_formulaic(rhs):
    assert plain_columns(rhs, COLUMNS) is None


def test_a_factor_column_is_not_plain():
    df = frame()
    df["g"] = pd.Categorical(np.arange(len(df)) % 3)
    assert plain_matrix(df, ["a", "g"]) is None


@pytest.mark.parametrize("formula", ["y ~ .", "y ~ a + c - 1", "y ~ . - b"])
def test_design_equals_formulaic_route(formula, monkeypatch):
    """The whole standardised design, and new-data rows, as when formulaic builds them."""
    df = frame(200)
    fast = build_design(formula, df)
    import dlstat.formula.design as design

    monkeypatch.setattr(design, "plain_columns", lambda rhs, variables: None)
    slow = build_design(formula, df)
    assert fast.spec.columns == slow.spec.columns
    assert fast.spec.intercept == slow.spec.intercept
    np.testing.assert_allclose(fast.X, slow.X, rtol=0, atol=1e-13)
    new = frame(30, seed=1)
    slow_new, _ = slow.spec.design(new)
    monkeypatch.undo()
    fast_new, _ = fast.spec.design(new)
    np.testing.assert_allclose(fast_new, slow_new, rtol=0, atol=1e-13)


def test_the_caller_frame_is_untouched():
    df = frame()
    before = df.copy()
    build_design("y ~ .", df)
    pd.testing.assert_frame_equal(df, before)


def test_dot_expansion_is_plain():
    parsed = parse_formula("y ~ .", ["y", *COLUMNS])
    assert plain_columns(parsed.rhs, parsed.variables) == (COLUMNS, True)
