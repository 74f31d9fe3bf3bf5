"""The terms of a right-hand side (dlstat/formula/terms.py): expanded as formulaic expands them,
counted before they exist (so a formula asking for millions is refused without making one),
and handed to formulaic nested so that its sums cost n log n, not n²."""

from __future__ import annotations

import random
from math import comb

import numpy as np
import pandas as pd
import pytest
from formulaic import Formula, model_matrix

import dlstat as dl
import dlstat.formula.limits as limits
import dlstat.formula.terms as terms
from dlstat.errors import FormulaError
from dlstat.formula import build_design, parse_formula
from dlstat.formula.terms import expand_terms, group_long_sums, read_rhs, term_bound
from dlstat.formula.tokens import tokenize

COLUMNS = ["a", "b", "c", "d", "e"]
MTCARS = dl.datasets.load("mtcars")


def formulaic_terms(rhs: str) -> list[str]:
    return [str(t) for t in Formula(rhs)]


def dlstat_terms(rhs: str) -> list[str] | None:
    found = expand_terms(read_rhs(tokenize(rhs)), frozenset(COLUMNS))
    if found is None:
        return None
    return ["1"] * found.intercept + [":".join(t) for t in found.terms]


def random_rhs(rng: random.Random, depth: int = 0) -> str:
    if depth > 3 or rng.random() < 0.3:
        return rng.choice(["0", "1"]) if rng.random() < 0.08 else rng.choice(COLUMNS)
    op = rng.choice(["+", "+", "-", ":", "*", "/", "**"])
    if op == "**":
        return f"({random_rhs(rng, depth + 1)} + {random_rhs(rng, depth + 1)})**{rng.randint(1, 3)}"
    text = f"{random_rhs(rng, depth + 1)} {op} {random_rhs(rng, depth + 1)}"
    return f"({text})" if rng.random() < 0.5 else text


@pytest.mark.parametrize("rhs", [
    "a + b:a + c*d", "(a + b + c)**2 - a:b", "0 + a", "a + 0", "(a + 0)", "- 1 + a", "a - 0",
    "-a + b", "a - -b", "a/(b + c)", "(a + b)/c", "(a + b):(c + d)", "a*b*c - a:b:c",
    "(a + b + c + d)**3", "b:a + a:b + a", "a:a", "(a + b:c)**2", "1 + 0 + a", "0 + 1 + a",
])
def test_terms_and_their_order_are_formulaic_s(rhs):
    assert dlstat_terms(rhs) == formulaic_terms(rhs)


def test_random_formulas_expand_as_formulaic_expands_them_and_the_bound_holds():
    rng = random.Random(20240521)
    compared = 0
    for _ in range(600):
        rhs = random_rhs(rng)
        if rng.random() < 0.3:
            rhs = rng.choice(["- ", "0 + ", "1 + ", "-1 + "]) + rhs
        try:
            expected = formulaic_terms(rhs)
        except Exception:  # formulaic refuses it (a literal where a term must be)
            continue
        assert term_bound(read_rhs(tokenize(rhs)), 10**9) + 1 >= len(expected), rhs
        got = dlstat_terms(rhs)
        if got is not None:
            assert got == expected, rhs
            compared += 1
    assert compared > 300


def test_what_formulaic_must_build_is_left_to_it():
    assert dlstat_terms("log(a) + b") is None
    assert dlstat_terms("(a + 1)**2") is None  # a product with a literal
    assert dlstat_terms("a + 2") is None


@pytest.mark.parametrize("rhs, count", [
    ("(" + " + ".join(f"x{j}" for j in range(60)) + ")**6", sum(comb(60, j) for j in range(1, 7))),
    ("(a + b + c)**2", 6), ("a*b*c*d", 15), ("(a + b)*(c + d + e)", 11), ("a/(b + c)", 3),
    ("(a + b):(c + d)", 4), ("a + b - a", 3), ("log(a) + poly(b, 3)", 2),
])
def test_terms_are_counted_from_the_structure(rhs, count):
    assert term_bound(read_rhs(tokenize(rhs)), 10**12) == count


def test_a_bound_above_the_limit_stops_counting():
    text = "(" + " + ".join(f"x{j}" for j in range(5_000)) + ")**2500"
    tree = read_rhs(tokenize(text, max_chars=len(text)))
    assert term_bound(tree, 100) == 101


def test_powers_over_the_limit_are_refused_before_any_term_is_made(monkeypatch):
    """``(.)^6`` over 60 columns makes 55 million terms: refused from the count alone."""
    def never(*args, **kwargs):
        raise AssertionError("a term was made")

    for name in ("_power_terms", "_products", "expand_terms"):
        monkeypatch.setattr(terms, name, never)
    monkeypatch.setattr(limits, "_expanded", never)
    cols = ["y"] + [f"x{j}" for j in range(60)]
    star = "y ~ " + "*".join(cols[1:19])  # 262,143 terms
    for formula in ["y ~ (.)^6", star, "y ~ (x0 + x1 + x2 + x3 + x4 + x5):(.)^4"]:
        with pytest.raises(FormulaError, match="more than 100,000 terms"):
            parse_formula(formula, cols)


def test_a_star_chain_is_counted_too():
    cols = ["y"] + [f"x{j}" for j in range(17)]
    with pytest.raises(FormulaError, match="more than 100,000 terms"):
        parse_formula("y ~ " + "*".join(cols[1:]), cols)  # 131,071 terms
    parse_formula("y ~ " + "*".join(cols[1:12]), cols)  # 2,047 terms


def test_power_six_on_mtcars_is_built_in_bulk_as_formulaic_builds_it():
    d = build_design("mpg ~ (.)^6", MTCARS)
    rhs = parse_formula("mpg ~ (.)^6", list(MTCARS.columns)).rhs
    ref = model_matrix(group_long_sums(rhs), MTCARS).drop(columns="Intercept")
    assert d.spec.columns == list(ref.columns) and len(d.spec.columns) == 847
    np.testing.assert_allclose(d.X * d.spec.scale + d.spec.center, ref.to_numpy(float),
                               rtol=1e-10, atol=1e-8)
    assert d.spec._layout is not None  # the stored text (its powers written out) replays in bulk
    X, ok = d.spec.design(MTCARS)
    assert ok.all()
    np.testing.assert_allclose(X, d.X, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("rhs", [
    " + ".join(f"x{j}" for j in range(40)),
    "(" + " + ".join(f"x{j}" for j in range(40)) + ") - x3 + 0 + log(x1) + x2:x5",
    "x0 - x1 + " + " + ".join(f"x{j}:x{j + 1}" for j in range(30)) + " - 1 + x1",
    "`odd name` + " + " + ".join(f"poly(x{j}, 2)" for j in range(20)),
])
def test_long_sums_are_nested_without_changing_the_terms(rhs):
    grouped = group_long_sums(rhs)
    assert grouped != rhs and grouped.count("(") > rhs.count("(")
    assert formulaic_terms(grouped) == formulaic_terms(rhs)


def test_short_sums_are_left_as_written():
    rhs = "a + b + log(c) + d:e"
    assert group_long_sums(rhs) == rhs


def test_nested_sums_build_the_same_design_through_formulaic():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(30, 25)), columns=[f"x{j}" for j in range(25)])
    frame["g"] = rng.choice(["p", "q"], size=30)
    rhs = " + ".join(f"x{j}:g" for j in range(25)) + " + log(x0 ** 2)"
    flat = model_matrix(rhs, frame)
    nested = model_matrix(group_long_sums(rhs), frame)
    assert list(nested.columns) == list(flat.columns)
    np.testing.assert_array_equal(nested.to_numpy(), flat.to_numpy())


@pytest.mark.parametrize("formula", ["y ~ a *", "y ~ a :", "y ~ a /", "y ~ a**", "y ~ -",
                                     "y ~ ()", "y ~ *a", "y ~ a b", "y ~ (a + b)**2.5", "y ~ ^1"])
def test_what_is_not_a_sum_of_terms_is_a_formula_error(formula):
    with pytest.raises(FormulaError, match="cannot be read as a sum of terms"):
        parse_formula(formula, ["y", "a", "b"])
