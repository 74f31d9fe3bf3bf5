"""A formula cannot hang the process: constants are floats, large powers are expanded by
dlstat (or refused with a stated limit), and degrees, df, lengths, nesting and number
literals the data cannot support are refused before any work."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import run_python

import dlstat as dl
from dlstat.errors import FormulaError, OptionError
from dlstat.formula import build_design, parse_formula
from dlstat.formula.limits import (
    BUDGET_VARIABLE,
    MAX_DESIGN_COLUMNS,
    MAX_FORMULAIC_TERMS,
    MAX_TERMS,
)
from dlstat.formula.parse import MAX_STORED_RHS_CHARS, vet_rendered_rhs

MTCARS = dl.datasets.load("mtcars")
TEN = "(wt + hp + qsec + drat + disp + cyl + am + gear + carb + vs)"


def test_tenth_power_of_ten_columns_builds_in_a_subprocess_with_a_timeout():
    proc = run_python(f"""
        import dlstat as dl
        from dlstat.formula import build_design
        d = build_design("mpg ~ {TEN}^10", dl.datasets.load("mtcars"))
        print(d.X.shape[1])
    """, timeout=90)
    assert proc.stdout.split()[-1] == "1023"


@pytest.mark.parametrize("power", [4, 5])
def test_expanded_powers_equal_formulaic_expansion(power):
    from formulaic import model_matrix

    d = build_design(f"mpg ~ (wt + hp + log(qsec) + am + drat)^{power}", MTCARS)
    ref = model_matrix(f"(wt + hp + log(qsec) + am + drat)**{power}", MTCARS)
    ref = ref.drop(columns="Intercept")
    assert d.spec.columns == list(ref.columns)
    raw = d.X * d.spec.scale + d.spec.center
    np.testing.assert_allclose(raw, ref.to_numpy(float), rtol=1e-10, atol=1e-9)


def test_a_power_beyond_the_number_of_terms_adds_nothing():
    a = parse_formula("y ~ (a + b:c)^50", ["y", "a", "b", "c"]).rhs
    assert a == parse_formula("y ~ (a + b:c)^2", ["y", "a", "b", "c"]).rhs


def test_too_many_terms_are_refused_with_the_limit():
    cols = [f"x{j}" for j in range(60)]
    with pytest.raises(FormulaError, match=f"at most {MAX_TERMS:,}"):
        parse_formula("y ~ (" + " + ".join(cols) + ")^4", ["y"] + cols)
    with pytest.raises(FormulaError, match="compound terms"):
        parse_formula("y ~ (a:b + c + d + e)^4", list("yabcde"))
    with pytest.raises(FormulaError, match="whole number"):
        parse_formula("y ~ (a + b)^x", list("yabx"))


def test_huge_integer_powers_fail_at_once_in_a_subprocess():
    proc = run_python("""
        import dlstat as dl
        from dlstat.errors import FormulaError
        from dlstat.formula import build_design
        mt = dl.datasets.load("mtcars")
        for f in ["mpg ~ I(9**9**9)", "mpg ~ I(9^9^9)", "mpg ~ I((2 + 3)**9**9)",
                  "mpg ~ log(9**9**9)", "mpg ~ wt + I(wt * 9**9**9)"]:
            try:
                build_design(f, mt)
            except FormulaError:
                print("refused")
    """, timeout=60)
    assert proc.stdout.split() == ["refused"] * 5


def test_constants_in_powers_are_floats_and_ordinary_powers_keep_their_names():
    rhs = parse_formula("y ~ I(9^9^9) + I(x^2) + I(2^x)", ["y", "x"]).rhs
    assert rhs == "I(9.0 ** 9.0 ** 9) + I(x ** 2) + I(2.0 ** x)"
    d = build_design("mpg ~ I(wt^2)", MTCARS)
    assert d.spec.columns == ["I(wt ** 2)"]


@pytest.mark.parametrize("formula, message", [
    ("mpg ~ poly(wt, 50)", "unique points"),
    ("mpg ~ poly(am, 2)", "unique points"),
    ("mpg ~ bs(wt, df=1e9)", "from 1 to 1000"),
    ("mpg ~ bs(wt, df=40)", "unique points"),
    ("mpg ~ bs(wt, df=2)", "at least the degree"),
    ("mpg ~ poly(wt, 2.5)", "whole number"),
    ("mpg ~ poly(wt, degree=wt)", "must be a number"),
])
def test_degrees_and_df_the_data_cannot_support_are_refused_first(formula, message,
                                                                  monkeypatch):
    import formulaic

    def no_work(*args, **kwargs):
        raise AssertionError("formulaic was called")

    monkeypatch.setattr(formulaic, "model_matrix", no_work)
    with pytest.raises(FormulaError, match=message):
        build_design(formula, MTCARS)


def test_long_deep_or_huge_literal_formulas_are_refused():
    cols = ["y", "x"]
    with pytest.raises(FormulaError, match="longer than"):
        parse_formula("y ~ " + " + ".join(["x"] * 10_000), cols)
    with pytest.raises(FormulaError, match="nest deeper"):
        parse_formula("y ~ " + "(" * 60 + "x" + ")" * 60, cols)
    with pytest.raises(FormulaError, match="more than 32 characters"):
        parse_formula("y ~ I(x + " + "9" * 5000 + ")", cols)


def test_valid_poly_and_bs_still_work():
    d = build_design("mpg ~ poly(wt, 3) + bs(hp, df=5, degree=3)", MTCARS)
    assert d.X.shape == (32, 8)
    small = pd.DataFrame({"y": np.arange(6.0), "x": [1.0, 2, 3, 1, 2, 3]})
    assert build_design("y ~ poly(x, 2)", small).X.shape == (6, 2)


@pytest.fixture()
def no_formulaic(monkeypatch):
    """formulaic refuses to run: what is refused must be refused before it."""
    import formulaic

    def no_work(*args, **kwargs):
        raise AssertionError("formulaic was called")

    monkeypatch.setattr(formulaic, "model_matrix", no_work)


def test_more_terms_than_formulaic_builds_quickly_are_refused_first(no_formulaic):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.uniform(1, 2, size=(20, 141)), columns=[f"x{j}" for j in range(141)])
    frame["y"] = rng.normal(size=20)
    items = ["log(x0)"] + [f"x{j}" for j in range(1, 141)]
    with pytest.raises(FormulaError, match=f"at most {MAX_FORMULAIC_TERMS:,} such terms"):
        build_design("y ~ (" + " + ".join(items) + ")^2", frame)  # 10,011 terms


def test_more_design_columns_than_a_model_file_holds_are_refused_first(no_formulaic):
    levels = [f"L{j}" for j in range(400)]
    frame = pd.DataFrame({"g": levels, "h": levels[::-1], "y": np.arange(400.0)})
    with pytest.raises(FormulaError, match=f"more than {MAX_DESIGN_COLUMNS:,} design columns"):
        build_design("y ~ g:h", frame)  # 160,000 columns


def test_a_design_over_the_memory_budget_is_refused_naming_its_size(monkeypatch, no_formulaic):
    fit = build_design("mpg ~ .", MTCARS)
    monkeypatch.setenv(BUDGET_VARIABLE, "1000")
    for formula in ["mpg ~ .", "mpg ~ log(wt) + C(cyl)"]:
        with pytest.raises(FormulaError, match=f"32 rows x .* columns.*{BUDGET_VARIABLE}"):
            build_design(formula, MTCARS)
    with pytest.raises(FormulaError, match="32 rows x 10 columns"):
        fit.spec.design(MTCARS)
    monkeypatch.setenv(BUDGET_VARIABLE, "2560")  # exactly 32 x 10 float64
    build_design("mpg ~ .", MTCARS)
    monkeypatch.setenv(BUDGET_VARIABLE, "lots")
    with pytest.raises(OptionError, match=BUDGET_VARIABLE):
        build_design("mpg ~ .", MTCARS)


def test_a_model_file_holds_the_right_hand_side_of_the_widest_design():
    genes = [f"ENSG{j:011d}.{j % 13}" for j in range(MAX_DESIGN_COLUMNS)]
    parsed = parse_formula("y ~ .", ["y", *genes])
    assert len(parsed.rhs) <= MAX_STORED_RHS_CHARS
    vet_rendered_rhs(parsed.rhs, parsed.variables)


def test_the_model_file_limit_is_the_design_limit():
    from dlstat.formula import stored

    assert stored.MAX_COLUMNS == MAX_DESIGN_COLUMNS


def test_design_columns_are_bounded_before_formulaic_counts_them():
    from dlstat.formula.limits import column_bound

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"g": rng.choice(list("abc"), 40), "h": rng.choice(list("pqrs"), 40),
                          "k": rng.choice([1, 2], 40), "x": rng.uniform(1, 2, 40),
                          "z": rng.uniform(1, 2, 40), "y": rng.normal(size=40)})
    formula = "y ~ g:h + poly(x, 3) + bs(z, df=5) + factor(k) + x + log(z):g"
    parsed = parse_formula(formula, list(frame.columns))
    levels = {"g": list("abc"), "h": list("pqrs"), "k": [1, 2]}
    bound = column_bound(parsed.tree, levels, MAX_DESIGN_COLUMNS)
    assert bound == 12 + 3 + 5 + 2 + 1 + 3
    assert build_design(formula, frame).X.shape[1] <= bound
