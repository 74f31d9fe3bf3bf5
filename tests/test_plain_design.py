"""The bulk design of plain terms (dlstat/formula/plain.py) equals formulaic's: same columns,
names, intercept and values, on the fitted rows and on new data — for numeric columns, their
products, and factors of every kind, with odd names, missing values and unseen levels."""

import numpy as np
import pandas as pd
import pytest
from conftest import run_python

import dlstat.formula.design as design
from dlstat.formula.design import build_design
from dlstat.formula.inputs import learn_levels
from dlstat.formula.parse import parse_formula
from dlstat.formula.plain import column_arrays, plain_layout

FORMULAS = [
    "y ~ .", "y ~ a + b", "y ~ b + a - 1", "y ~ 0 + b + a", "y ~ (a + b + n) - b",
    "y ~ a + g", "y ~ 0 + g + h", "y ~ 0 + a + h + g", "y ~ - 1 + a + g", "y ~ a + 0 + k",
    "y ~ g + h + k + f + s + `q.r`", "y ~ (a + b + n)^2", "y ~ (a + b + `x.y` + n)^3",
    "y ~ (a + b + `x.y` + n + `my col`)^5", "y ~ a*b*n", "y ~ a:b + g", "y ~ . - g",
    "y ~ (a + b)^2 + g - a:b", "y ~ n + a:n + `my col`", "y ~ a/b", "y ~ b:a + a:b:n + a",
    "y ~ 0 + k + g", "y ~ (0 + a) + g",
]


def mixed(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "a": rng.normal(size=n), "b": rng.normal(size=n),
        "n": rng.integers(-3, 4, size=n), "x.y": rng.normal(size=n),
        "my col": rng.normal(size=n).astype(np.float32),
        "g": rng.choice(["u", "v", "w"], size=n).astype(object),
        "h": pd.Categorical(rng.integers(1, 4, size=n), categories=[3, 1, 2]),
        "k": rng.integers(0, 2, size=n).astype(bool),
        "f": pd.Categorical(rng.choice([1.5, 2.0], size=n)),
        "s": pd.array(rng.choice(["lo", "mid", "hi"], size=n), dtype="string"),
        "q.r": pd.Categorical(rng.choice(["a b", "c"], size=n)),
        "y": rng.normal(size=n),
    })


def both_routes(formula, data, monkeypatch, new=None, **kw):
    """The design by the bulk route and by formulaic (the bulk route switched off), and each
    spec's replay on ``new``."""
    fast = build_design(formula, data, **kw)
    fast_new = None if new is None else fast.spec.design(new, unseen="na")
    with monkeypatch.context() as patch:
        patch.setattr(design, "plain_layout", lambda *args, **kwargs: None)
        slow = build_design(formula, data, **kw)
        slow_new = None if new is None else slow.spec.design(new, unseen="na")
    return fast, slow, fast_new, slow_new


@pytest.mark.parametrize("formula", FORMULAS)
def test_bulk_design_equals_formulaic(formula, monkeypatch):
    data, new = mixed(), mixed(25, seed=1)
    parsed = parse_formula(formula, list(data.columns))
    assert plain_layout(parsed.tree, parsed.variables,
                        learn_levels(data, parsed)) is not None  # the bulk route runs
    fast, slow, fast_new, slow_new = both_routes(formula, data, monkeypatch, new)
    assert fast.spec.columns == slow.spec.columns
    assert fast.spec.intercept == slow.spec.intercept
    assert fast.spec.levels == slow.spec.levels
    np.testing.assert_allclose(fast.X, slow.X, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(fast_new[1], slow_new[1])
    np.testing.assert_allclose(fast_new[0], slow_new[0], rtol=1e-12, atol=1e-12)


def test_missing_values_unseen_levels_and_a_level_only_in_dropped_rows(monkeypatch):
    data, new = mixed(), mixed(25, seed=1)
    data.loc[3, "a"] = np.nan
    data.loc[5, "g"] = None
    data["g"] = data["g"].where(data.index != 7, "only-in-a-dropped-row")
    data.loc[7, "b"] = np.nan
    data.loc[8, "n"] = 0  # ints cannot be missing; a float column can
    new.loc[0, "g"] = "unseen"
    new.loc[1, "b"] = np.nan
    with pytest.warns(UserWarning):
        fast, slow, fast_new, slow_new = both_routes("y ~ a + b + g + n + a:n", data,
                                                     monkeypatch, new)
    assert fast.n_dropped == slow.n_dropped == 3
    assert "only-in-a-dropped-row" not in fast.spec.levels["g"]
    assert fast.spec.columns == slow.spec.columns
    np.testing.assert_allclose(fast.X, slow.X, rtol=1e-12, atol=1e-12)
    assert not fast_new[1][0] and not fast_new[1][1]
    np.testing.assert_array_equal(fast_new[1], slow_new[1])
    np.testing.assert_allclose(fast_new[0], slow_new[0], rtol=1e-12, atol=1e-12)


def test_a_dropped_first_level_changes_the_reference_as_formulaic_does(monkeypatch):
    data = mixed()
    data["g"] = data["g"].where(data.index != 0, "aaa")  # the first level, in one row
    data.loc[0, "a"] = np.nan
    with pytest.warns(UserWarning):
        fast, slow, _, _ = both_routes("y ~ a + g", data, monkeypatch)
    assert fast.spec.columns == slow.spec.columns == ["a", "g[T.v]", "g[T.w]"]
    np.testing.assert_allclose(fast.X, slow.X, rtol=1e-12, atol=1e-12)


def test_a_factor_inside_an_interaction_goes_to_formulaic():
    data = mixed()
    parsed = parse_formula("y ~ a:g + b", list(data.columns))
    levels = learn_levels(data, parsed)
    assert plain_layout(parsed.tree, parsed.variables, levels) is None
    parsed = parse_formula("y ~ log(a) + b", list(data.columns))
    assert plain_layout(parsed.tree, parsed.variables, {}) is None


def test_weighted_unstandardised_and_no_intercept_designs_agree(monkeypatch):
    data = mixed()
    w = np.linspace(0.5, 2.0, len(data))
    for kw in ({"weights": w}, {"standardise": False}, {"center_inputs": None}):
        fast, slow, _, _ = both_routes("y ~ 0 + a + g + a:n", data, monkeypatch, **kw)
        np.testing.assert_allclose(fast.X, slow.X, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(fast.spec.center, slow.spec.center, rtol=1e-12, atol=1e-15)


def test_the_caller_frame_is_untouched():
    data = mixed()
    before = data.copy()
    build_design("y ~ .", data).spec.design(data)
    pd.testing.assert_frame_equal(data, before)


@pytest.mark.parametrize("private", [True, False])
def test_column_arrays_by_either_route(private, monkeypatch):
    data = mixed()
    if not private:
        monkeypatch.setattr(pd.DataFrame, "_iter_column_arrays", None, raising=False)
    arrays = column_arrays(data, ["n", "a", "my col"])
    for name, values in zip(["n", "a", "my col"], arrays):
        np.testing.assert_array_equal(values, data[name].to_numpy())
        assert values.dtype == data[name].dtype


def test_forty_thousand_gene_columns_build_and_replay_in_a_subprocess():
    """``y ~ .`` over 40,000 columns (quadratic before: minutes) gives the standardised data
    matrix itself; the subprocess's time limit turns a hang into a failure."""
    proc = run_python("""
        import numpy as np, pandas as pd
        from dlstat.formula import build_design
        rng = np.random.default_rng(0)
        genes = rng.normal(size=(50, 40_000))
        frame = pd.DataFrame(genes, columns=[f"ENSG{j:011d}.{j % 7}" for j in range(40_000)])
        frame["y"] = rng.normal(size=50)
        d = build_design("y ~ .", frame)
        expected = (genes - genes.mean(axis=0)) / genes.std(axis=0)
        assert d.spec.columns == list(frame.columns[:-1])
        np.testing.assert_allclose(d.X, expected, rtol=1e-10, atol=1e-10)
        X, ok = d.spec.design(frame.iloc[::-1])
        np.testing.assert_allclose(X, expected[::-1], rtol=1e-10, atol=1e-10)
        print("ok", ok.all())
    """, timeout=60)
    assert proc.stdout.split()[-2:] == ["ok", "True"]


def test_a_thousand_two_level_factors_are_coded_as_formulaic_codes_them(monkeypatch):
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 2, size=(80, 1_000))
    data = pd.DataFrame({f"V{j}": pd.Categorical.from_codes(codes[:, j], ["A", "G"])
                         for j in range(1_000)})
    data["y"] = rng.normal(size=80)
    fast, slow, fast_new, slow_new = both_routes("y ~ .", data, monkeypatch, data.iloc[:10])
    assert fast.spec.columns == slow.spec.columns == [f"V{j}[T.G]" for j in range(1_000)]
    np.testing.assert_allclose(fast.X, slow.X, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fast_new[0], slow_new[0], rtol=1e-12, atol=1e-12)


def test_factors_sharing_levels_share_no_mistakes(monkeypatch):
    """Columns with the same levels in other orders, or equal levels of other types (1 and
    1.0 and True), are coded each as its own, as formulaic codes them."""
    n = 40
    rng = np.random.default_rng(5)
    data = pd.DataFrame({
        "first_g": np.where(np.arange(n) % 3 == 0, "G", "A").astype(object),
        "first_a": np.where(np.arange(n) % 3 == 1, "G", "A").astype(object),
        "ints": pd.Categorical(np.arange(n) % 2), "floats": pd.Categorical(np.arange(n) % 2 * 1.0),
        "flags": np.arange(n) % 2 == 1, "objects": (np.arange(n) % 2).astype(object),
        "ordered": pd.Categorical(np.where(np.arange(n) % 4 == 0, "lo", "hi"),
                                  categories=["lo", "hi"], ordered=True),
        "y": rng.normal(size=n),
    })
    fast, slow, fast_new, slow_new = both_routes("y ~ .", data, monkeypatch, data.iloc[::-1])
    assert fast.spec.columns == slow.spec.columns == [
        "first_g[T.G]", "first_a[T.G]", "ints[T.1]", "floats[T.1.0]", "flags[T.True]",
        "objects[T.1]", "ordered[T.hi]"]
    np.testing.assert_allclose(fast.X, slow.X, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fast_new[0], slow_new[0], rtol=1e-12, atol=1e-12)


def test_extreme_scales_standardise_alike_by_both_routes(monkeypatch):
    """A column on a 1e200 scale (its variance overflows float64) and one on a 1e-200 scale
    are standardised without overflow by the bulk route as by formulaic, to the same numbers,
    on the fitted rows and on new data."""
    data, new = mixed(), mixed(25, seed=1)
    for frame in (data, new):
        frame["a"] *= 1e200
        frame["b"] *= 1e-200
    fast, slow, fast_new, slow_new = both_routes("y ~ a + b + g + a:n", data, monkeypatch, new)
    assert np.isfinite(fast.X).all()
    np.testing.assert_allclose(fast.X.std(axis=0), 1.0, rtol=1e-10)
    np.testing.assert_array_equal(fast.X, slow.X)
    np.testing.assert_array_equal(fast.spec.scale, slow.spec.scale)
    np.testing.assert_array_equal(fast.spec.center, slow.spec.center)
    assert fast_new[1].all()
    np.testing.assert_array_equal(fast_new[0], slow_new[0])


@pytest.mark.parametrize("route", ["bulk", "formulaic"])
def test_both_routes_check_kinds_and_match_levels_kind_for_kind(route, monkeypatch):
    """A logical factor refuses 0/1 numbers by either route, and with no kind to check (mixed
    values) the number 1 is still not the level True: an unseen level, never a silent NA."""
    from dlstat.errors import DataError, UnseenLevelError

    if route == "formulaic":
        monkeypatch.setattr(design, "plain_layout", lambda *args, **kwargs: None)
    data = mixed()
    spec = build_design("y ~ a + k", data).spec
    assert spec.kinds["k"] == "logical"
    with pytest.raises(DataError, match="'k' of newdata holds numbers"):
        spec.design(data.assign(k=data["k"].astype(int)))
    mixed_values = data["k"].astype(object)
    mixed_values.iloc[0] = 1
    with pytest.raises(UnseenLevelError, match="'k'.*not seen"):
        spec.design(data.assign(k=mixed_values))
    with pytest.warns(UserWarning, match="unseen"):
        X, ok = spec.design(data.assign(k=mixed_values), unseen="na")
    assert not ok[0] and ok[1:].all()
