"""The formula layer: grammar, transforms, factor coding, NA handling, replay on new data and
safety.  None of these tests needs (or may import) TensorFlow."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.interpolate import BSpline

from dlstat.errors import DataError, DlstatError, FormulaError, UnseenLevelError
from dlstat.formula import build_design, parse_formula


# --------------------------------------------------------------------------------------------
# helpers and data
# --------------------------------------------------------------------------------------------
def raw_design(design) -> pd.DataFrame:
    """The unstandardised design matrix of a training ``Design``, named by display columns."""
    raw = design.X * design.spec.scale + design.spec.center
    return pd.DataFrame(raw, columns=design.spec.display_columns, index=design.rows)


def replay(spec, data, **kw):
    """``DesignSpec.design`` unstandardised: (matrix of complete rows, mask)."""
    X, ok = spec.design(data, **kw)
    return X * spec.scale + spec.center, ok


@pytest.fixture(scope="module")
def num() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 30
    return pd.DataFrame({
        "y": rng.normal(size=n),
        "y2": rng.normal(size=n),
        "x": rng.uniform(1, 5, size=n),
        "z": rng.normal(size=n),
        "w": rng.normal(size=n),
    })


@pytest.fixture(scope="module")
def mixed() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 24
    return pd.DataFrame({
        "y": rng.normal(size=n),
        "x": rng.normal(size=n),
        "g": np.array(["b", "c", "a"] * 8, dtype=object),  # sorted levels: a, b, c
        "flag": np.array([True, False, True, False] * 6),
        "cat": pd.Categorical(["hi", "lo", "mid"] * 8, categories=["lo", "mid", "hi"]),
        "cyl": np.array([4.0, 6.0, 8.0, 6.0] * 6),
    }, index=[f"r{i}" for i in range(n)])


@pytest.fixture(scope="module")
def rnames() -> pd.DataFrame:
    """Columns named as R names them (dots), plus odd names that need backquotes."""
    rng = np.random.default_rng(2)
    n = 20
    return pd.DataFrame({
        "Sepal.Length": rng.normal(5, 1, size=n),
        "Sepal.Width": rng.normal(3, 0.5, size=n),
        "my col": rng.normal(size=n),
        "x-1": rng.normal(size=n),
        "2nd": rng.normal(size=n),
        "if": rng.normal(size=n),
    })


# --------------------------------------------------------------------------------------------
# grammar
# --------------------------------------------------------------------------------------------
def test_plus_and_intercept(num):
    d = build_design("y ~ x + z", num)
    assert d.spec.columns == ["x", "z"]
    assert d.spec.intercept
    assert d.response.columns.tolist() == ["y"]
    np.testing.assert_allclose(raw_design(d).to_numpy(), num[["x", "z"]].to_numpy(), atol=1e-12)


@pytest.mark.parametrize("formula", ["y ~ x + z - 1", "y ~ 0 + x + z", "y ~ x + z + 0",
                                     "y ~ -1 + x + z"])
def test_removing_the_intercept(num, formula):
    d = build_design(formula, num, center_inputs=None)
    assert not d.spec.intercept
    assert d.spec.columns == ["x", "z"]
    # A model through the origin must not gain an intercept by centring its inputs
    # (center_inputs=None is what dnn() passes for a network without hidden layers).
    np.testing.assert_allclose(d.spec.center, 0.0)
    assert build_design("y ~ x + z", num, center_inputs=None).spec.center.any()


def test_minus_removes_a_term(num):
    d = build_design("y ~ x + z + w - z", num)
    assert d.spec.columns == ["x", "w"]


def test_dot_means_all_other_columns(num):
    d = build_design("y ~ .", num)
    assert d.spec.columns == ["y2", "x", "z", "w"]
    assert d.response.columns.tolist() == ["y"]


def test_dot_minus_a_column(num):
    d = build_design("y ~ . - y2", num)
    assert d.spec.columns == ["x", "z", "w"]


def test_colon_is_the_product(num):
    d = build_design("y ~ x:z", num)
    assert d.spec.columns == ["x:z"]
    np.testing.assert_allclose(raw_design(d)["x:z"], num.x * num.z, rtol=1e-12)


def test_star_expands_to_main_effects_and_interaction(num):
    d = build_design("y ~ x * z", num)
    assert d.spec.columns == ["x", "z", "x:z"]


@pytest.mark.parametrize("power", ["^", "**"])
def test_power_of_a_sum_gives_interactions_up_to_that_order(num, power):
    d = build_design(f"y ~ (x + z + w){power}2", num)
    assert sorted(d.spec.columns) == sorted(["x", "z", "w", "x:z", "x:w", "z:w"])


@pytest.mark.parametrize("inner", ["x^2", "x**2"])
def test_I_protects_arithmetic(num, inner):
    d = build_design(f"y ~ x + I({inner}) + I(x + z) + I(2 * x)", num)
    raw = raw_design(d)
    assert raw.shape[1] == 4
    np.testing.assert_allclose(raw.iloc[:, 1], num.x**2, rtol=1e-12)
    np.testing.assert_allclose(raw.iloc[:, 2], num.x + num.z, rtol=1e-12)
    np.testing.assert_allclose(raw.iloc[:, 3], 2 * num.x, rtol=1e-12)


@pytest.mark.parametrize("name,fn", [("log", np.log), ("log1p", np.log1p), ("exp", np.exp),
                                     ("sqrt", np.sqrt), ("abs", np.abs), ("log2", np.log2),
                                     ("log10", np.log10)])
def test_elementwise_transforms(num, name, fn):
    d = build_design(f"y ~ {name}(x)", num)
    assert d.spec.columns == [f"{name}(x)"]
    np.testing.assert_allclose(raw_design(d).iloc[:, 0], fn(num.x), rtol=1e-12)


def test_abs_of_negative_values(num):
    d = build_design("y ~ abs(z)", num)
    np.testing.assert_allclose(raw_design(d).iloc[:, 0], np.abs(num.z), rtol=1e-12)


def test_scale_and_center_as_in_R(num):
    d = build_design("y ~ scale(x) + center(z)", num)
    raw = raw_design(d)
    x, z = num.x.to_numpy(), num.z.to_numpy()
    # R's scale() divides by the sample standard deviation (n - 1).
    np.testing.assert_allclose(raw.iloc[:, 0], (x - x.mean()) / x.std(ddof=1), atol=1e-12)
    np.testing.assert_allclose(raw.iloc[:, 1], z - z.mean(), atol=1e-12)


def test_poly_is_orthogonal_as_in_R(num):
    d = build_design("y ~ poly(x, 3)", num)
    P = raw_design(d).to_numpy()
    assert P.shape == (len(num), 3)
    # R's poly(): orthonormal columns orthogonal to the constant, spanning x, x^2, x^3.
    np.testing.assert_allclose(P.T @ P, np.eye(3), atol=1e-10)
    np.testing.assert_allclose(P.sum(axis=0), 0.0, atol=1e-10)
    x = num.x.to_numpy()
    Q, R = np.linalg.qr(np.vander(x - x.mean(), 4, increasing=True))
    Q = Q * np.sign(np.diag(R))
    np.testing.assert_allclose(P, Q[:, 1:], atol=1e-10)


@pytest.mark.parametrize("formula", ["y ~ poly(x, degree=3, raw=TRUE)",
                                     "y ~ poly(x, 3, raw=True)"])
def test_raw_poly(num, formula):
    d = build_design(formula, num)
    x = num.x.to_numpy()
    np.testing.assert_allclose(raw_design(d).to_numpy(), np.column_stack([x, x**2, x**3]),
                               rtol=1e-10)


def test_bs_matches_R_definition(num):
    d = build_design("y ~ bs(x, df=5)", num)
    raw = raw_design(d).to_numpy()
    x = num.x.to_numpy()
    # R: cubic B-spline, df - degree = 2 interior knots at quantiles, no intercept column.
    knots = np.r_[[x.min()] * 4, np.quantile(x, [1 / 3, 2 / 3]), [x.max()] * 4]
    B = BSpline.design_matrix(x, knots, 3).toarray()[:, 1:]
    np.testing.assert_allclose(raw, B, atol=1e-10)
    assert all("extrapolation" not in c for c in d.spec.display_columns)


def test_bs_extrapolates_at_prediction(num):
    d = build_design("y ~ bs(x, df=4)", num)
    new = pd.DataFrame({"x": [num.x.min() - 1.0, num.x.max() + 1.0]})
    X, ok = replay(d.spec, new)
    assert ok.all() and np.isfinite(X).all()


def test_transforms_replay_training_state_on_new_data(num):
    d = build_design("y ~ poly(x, 2) + bs(z, df=4) + scale(w) + center(x)", num)
    X, ok = d.spec.design(num.iloc[3:9])
    assert ok.all()
    # The subset is built with the training data's state, not re-learned on six rows.
    np.testing.assert_allclose(X, d.X[3:9], atol=1e-10)


def test_cbind_response(num):
    d = build_design("cbind(y, y2) ~ .", num)
    assert d.response.columns.tolist() == ["y", "y2"]
    assert d.spec.response_columns == ["y", "y2"]
    assert d.spec.columns == ["x", "z", "w"]  # both responses left out of '.'


def test_cbind_naming_a_column_twice_is_refused(num):
    with pytest.raises(FormulaError):
        build_design("cbind(y, y) ~ x", num)


def test_transformed_response(num):
    d = build_design("log(x) ~ z", num)
    np.testing.assert_allclose(d.response.iloc[:, 0], np.log(num.x), rtol=1e-12)
    assert d.spec.response_transform == "log"


def test_R_names_with_dots(rnames):
    d = build_design("Sepal.Length ~ Sepal.Width + I(Sepal.Width^2)", rnames)
    assert d.response.columns.tolist() == ["Sepal.Length"]
    raw = raw_design(d)
    np.testing.assert_allclose(raw.iloc[:, 0], rnames["Sepal.Width"], rtol=1e-12)
    np.testing.assert_allclose(raw.iloc[:, 1], rnames["Sepal.Width"] ** 2, rtol=1e-12)
    d = build_design("Sepal.Length ~ .", rnames)
    assert d.spec.n_columns == 5


def test_backquoted_odd_names(rnames):
    d = build_design("Sepal.Length ~ `my col` + `x-1` + log(abs(`2nd`)) + `if`", rnames)
    raw = raw_design(d)
    np.testing.assert_allclose(raw.iloc[:, 0], rnames["my col"], rtol=1e-12)
    np.testing.assert_allclose(raw.iloc[:, 1], rnames["x-1"], rtol=1e-12)
    np.testing.assert_allclose(raw.iloc[:, 2], np.log(np.abs(rnames["2nd"])), rtol=1e-12)
    np.testing.assert_allclose(raw.iloc[:, 3], rnames["if"], rtol=1e-12)
    assert set(d.spec.variables) == {"my col", "x-1", "2nd", "if"}


def test_odd_names_through_dot_and_interaction(rnames):
    d = build_design("`my col` ~ `x-1` * Sepal.Width", rnames)
    raw = raw_design(d)
    np.testing.assert_allclose(raw.iloc[:, 2], rnames["x-1"] * rnames["Sepal.Width"],
                               rtol=1e-12)


def test_unknown_column_is_a_formula_error_with_a_hint(num):
    with pytest.raises(FormulaError, match="'xx'.*Did you mean"):
        build_design("y ~ xx", num)


@pytest.mark.parametrize("formula", ["y x", "~ x", "y ~", "y ~ x ~ z", "y ~ (x + z",
                                     "y ~ x + z)", "y ~ x, z", "y ~ `x"])
def test_malformed_formulas(num, formula):
    with pytest.raises(FormulaError):
        build_design(formula, num)


def test_formula_must_be_a_string(num):
    with pytest.raises(FormulaError):
        build_design(["y ~ x"], num)  # type: ignore[arg-type]


def test_formula_error_is_a_dlstat_error_and_a_value_error():
    assert issubclass(FormulaError, DlstatError) and issubclass(FormulaError, ValueError)


# --------------------------------------------------------------------------------------------
# factors
# --------------------------------------------------------------------------------------------
def test_strings_are_treatment_coded_with_first_level_as_reference(mixed):
    d = build_design("y ~ g", mixed)
    assert d.spec.levels["g"] == ["a", "b", "c"]
    assert d.spec.display_columns == ["g[T.b]", "g[T.c]"]
    raw = raw_design(d)
    np.testing.assert_array_equal(raw["g[T.b]"], (mixed.g == "b").astype(float))
    np.testing.assert_array_equal(raw["g[T.c]"], (mixed.g == "c").astype(float))


def test_booleans_are_factors_with_false_as_reference(mixed):
    d = build_design("y ~ flag", mixed)
    assert d.spec.levels["flag"] == [False, True]
    assert len(d.spec.columns) == 1 and "True" in d.spec.columns[0]
    np.testing.assert_array_equal(raw_design(d).iloc[:, 0], mixed.flag.astype(float))


def test_categoricals_keep_their_category_order(mixed):
    d = build_design("y ~ cat", mixed)
    assert d.spec.levels["cat"] == ["lo", "mid", "hi"]
    assert d.spec.display_columns == ["cat[T.mid]", "cat[T.hi]"]
    raw = raw_design(d)
    np.testing.assert_array_equal(raw["cat[T.hi]"], (mixed.cat == "hi").astype(float))


def test_string_dtype_columns_are_factors(mixed):
    df = mixed.assign(g=mixed.g.astype("string"))
    d = build_design("y ~ g", df)
    assert d.spec.levels["g"] == ["a", "b", "c"]
    assert d.spec.n_columns == 2


@pytest.mark.parametrize("call", ["factor", "C"])
def test_factor_of_a_numeric_column(mixed, call):
    d = build_design(f"y ~ {call}(cyl)", mixed)
    assert [float(v) for v in d.spec.levels["cyl"]] == [4.0, 6.0, 8.0]
    assert d.spec.n_columns == 2  # reference level 4
    raw = raw_design(d).to_numpy()
    np.testing.assert_array_equal(raw[:, 0], (mixed.cyl == 6).astype(float))
    np.testing.assert_array_equal(raw[:, 1], (mixed.cyl == 8).astype(float))


def test_factor_takes_exactly_one_column(mixed):
    with pytest.raises(FormulaError):
        build_design("y ~ factor(cyl, x)", mixed)


def test_factor_interaction_with_numeric(mixed):
    d = build_design("y ~ x * g", mixed)
    assert d.spec.display_columns == ["x", "g[T.b]", "g[T.c]", "x:g[T.b]", "x:g[T.c]"]
    raw = raw_design(d)
    np.testing.assert_allclose(raw["x:g[T.c]"], mixed.x * (mixed.g == "c"), atol=1e-12)


def test_factor_without_intercept_gets_all_levels(mixed):
    d = build_design("y ~ g - 1", mixed)
    assert d.spec.n_columns == 3


def test_factor_response_is_left_for_the_family(mixed):
    d = build_design("g ~ x", mixed)
    assert d.response.columns.tolist() == ["g"]
    assert list(d.response["g"]) == list(mixed.g)


def test_levels_seen_only_in_dropped_rows_are_unused(mixed):
    df = mixed.copy()
    df.loc["r0", "g"] = "zzz"
    df.loc["r0", "x"] = np.nan
    with pytest.warns(UserWarning):
        d = build_design("y ~ x + g", df)
    assert d.spec.levels["g"] == ["a", "b", "c"]


# --------------------------------------------------------------------------------------------
# missing values
# --------------------------------------------------------------------------------------------
@pytest.fixture()
def with_na(mixed) -> pd.DataFrame:
    df = mixed.copy()
    df.loc["r1", "x"] = np.nan
    df.loc["r5", "g"] = None
    df.loc["r7", "y"] = np.nan
    df.loc["r9", "cat"] = np.nan
    return df


def test_na_omit_warns_and_counts(with_na):
    with pytest.warns(UserWarning, match="3 row"):
        d = build_design("y ~ x + g", with_na)
    assert d.n_dropped == 3
    assert len(d.X) == len(with_na) - 3
    assert list(d.rows) == [r for r in with_na.index if r not in ("r1", "r5", "r7")]
    assert any("3 observation" in n for n in d.notes)


def test_na_in_unused_columns_is_ignored(with_na):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = build_design("x ~ flag", with_na.drop(index="r1"))
    assert d.n_dropped == 0


def test_na_fail_raises_data_error_naming_columns(with_na):
    with pytest.raises(DataError, match="na_action='fail'") as err:
        build_design("y ~ x + g", with_na, na_action="fail")
    assert "'x'" in str(err.value) and "'g'" in str(err.value)


def test_all_rows_missing_is_a_data_error(num):
    df = num.assign(x=np.nan)
    with pytest.raises(DataError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build_design("y ~ x", df)


def test_non_frame_and_empty_frame_are_data_errors(num):
    with pytest.raises(DataError):
        build_design("y ~ x", num.to_numpy())  # type: ignore[arg-type]
    with pytest.raises(DataError):
        build_design("y ~ x", num.iloc[:0])


def test_non_finite_design_values_are_refused(num):
    df = num.assign(x=num.x - 3.0)  # log of negatives
    with pytest.raises(DataError, match="log"):
        build_design("y ~ log(x)", df)


# --------------------------------------------------------------------------------------------
# replay on new data: unseen levels, NA rows, row order
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def spec(mixed):
    return build_design("y ~ x + g + flag + cat", mixed).spec


def test_unseen_level_raises_naming_column_and_level(spec, mixed):
    new = mixed.iloc[:4].copy()
    new.loc["r2", "g"] = "zebra"
    with pytest.raises(UnseenLevelError) as err:
        spec.design(new)
    assert "'g'" in str(err.value) and "zebra" in str(err.value)


def test_unseen_category_of_a_categorical(spec, mixed):
    new = mixed.iloc[:3].copy()
    new["cat"] = pd.Categorical(["lo", "huge", "hi"])
    with pytest.raises(UnseenLevelError, match="huge"):
        spec.design(new)


def test_unseen_na_gives_na_rows_with_a_warning(spec, mixed):
    new = mixed.iloc[:6].copy()
    new.loc["r2", "g"] = "zebra"
    with pytest.warns(UserWarning, match="zebra"):
        X, ok = spec.design(new, unseen="na")
    assert ok.tolist() == [True, True, False, True, True, True]
    full, _ = spec.design(mixed.iloc[:6])
    np.testing.assert_allclose(X, full[ok], atol=1e-12)


def test_missing_values_in_new_data_are_flagged_not_dropped(spec, mixed):
    new = mixed.iloc[:6].copy()
    new.loc["r1", "x"] = np.nan
    new.loc["r4", "cat"] = np.nan
    X, ok = spec.design(new)
    assert ok.tolist() == [True, False, True, True, False, True]
    assert X.shape == (4, spec.n_columns)


def test_non_finite_transform_in_new_data_gives_an_na_row_with_a_warning(num):
    d = build_design("y ~ log(x) + z", num)
    new = num.iloc[:4].copy()
    new["x"] = [1.0, -1.0, 2.0, 0.0]  # log(-1) is NaN, log(0) is -inf
    with pytest.warns(UserWarning, match="non-finite"):
        X, ok = d.spec.design(new)
    assert ok.tolist() == [True, False, True, False]
    assert X.shape == (2, 2) and np.isfinite(X).all()


def test_replay_follows_the_new_rows_order(spec, mixed):
    shuffled = mixed.sample(frac=1.0, random_state=3)
    Xs, ok = spec.design(shuffled)
    X, _ = spec.design(mixed)
    assert ok.all()
    pos = [mixed.index.get_loc(i) for i in shuffled.index]
    np.testing.assert_allclose(Xs, X[pos], atol=1e-12)


def test_new_data_may_hold_fewer_levels_and_extra_columns(spec, mixed):
    new = mixed[mixed.g == "a"].assign(extra="hello").iloc[:3]
    X, ok = spec.design(new)
    assert ok.all() and X.shape == (3, spec.n_columns)


def test_new_data_lacking_a_column_is_a_data_error(spec, mixed):
    with pytest.raises(DataError, match="'g'"):
        spec.design(mixed.drop(columns="g"))


def test_new_data_may_lack_the_response(spec, mixed):
    X, ok = spec.design(mixed.drop(columns="y"))
    assert ok.all()


def test_spec_round_trips_through_json(mixed):
    import json

    from dlstat.formula import DesignSpec

    d = build_design("y ~ poly(x, 2) + bs(x, df=4) + g + flag + cat + factor(cyl)", mixed)
    again = DesignSpec.from_json(json.loads(json.dumps(d.spec.to_json())))
    X1, _ = d.spec.design(mixed)
    X2, _ = again.design(mixed)
    np.testing.assert_array_equal(X1, X2)


# --------------------------------------------------------------------------------------------
# the caller's data frame is never modified
# --------------------------------------------------------------------------------------------
def test_data_is_never_modified(with_na):
    before = copy.deepcopy(with_na)
    dtypes = with_na.dtypes.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = build_design("y ~ poly(x, 2) + g * flag + cat + factor(cyl) + scale(x)", with_na)
        d.spec.design(with_na)
        d.spec.design(with_na, unseen="na")
    pd.testing.assert_frame_equal(with_na, before)
    pd.testing.assert_series_equal(with_na.dtypes, dtypes)


# --------------------------------------------------------------------------------------------
# safety: nothing in a formula is ever run
# --------------------------------------------------------------------------------------------
UNSAFE = [
    'y ~ I(__import__("os").system("touch {m}"))',
    "y ~ I(__import__('os').system('touch {m}'))",
    '__import__("os").system("touch {m}") ~ x',
    'y ~ x + I(eval("__import__(\'os\').system(\'touch {m}\')"))',
    'y ~ I(exec("import os; os.system(\'touch {m}\')"))',
    'y ~ I(open("{m}", "w"))',
    "y ~ I(__import__(os).system(x))",
    "y ~ __import__(os)",
    "y ~ os.system(x)",
    "y ~ I(os.system(x))",
    "y ~ x.__class__",
    "y ~ I(x.__class__.__bases__)",
    "y ~ I(x).__class__",
    "y ~ x.real",
    "y ~ I(x.real)",
    "y ~ eval(x)",
    "y ~ exec(x)",
    "y ~ I(eval(x))",
    "y ~ compile(x)",
    "y ~ getattr(x, x)",
    "y ~ globals()",
    "y ~ vars(x)",
    "y ~ __builtins__",
    "y ~ _private",
    "y ~ lambda: x",
    "y ~ I(lambda x: x)",
    "y ~ I(x if x else z)",
    "y ~ I(x for x in z)",
    "y ~ foo(x)",
    "y ~ np.log(x)",
    "y ~ print(x)",
    "y ~ system(x)",
    "y ~ import os",
    'y ~ "x"',
    "y ~ 'x'",
    "y ~ {x}",
    "y ~ {'a': x}",
    "y ~ x[0]",
    "y ~ I(x)[0]",
    "y ~ [x, z]",
    "y ~ x; import os",
    "y ~ x @ z",
    "y ~ x $ z",
    "y ~ x | z",
    "y ~ x & z",
    "y ~ x < z",
    "y ~ !x",
    "y ~ log(x, base=z)",
    "y ~ poly(x, degree=__import__)",
    "y ~ bs(x, knots=x)",
    "y ~ x + degree=2",
]


@pytest.mark.parametrize("template", UNSAFE)
def test_unsafe_formulas_are_refused_before_anything_runs(num, tmp_path, template):
    marker = tmp_path / "marker"
    formula = template.replace("{m}", str(marker))
    # parse_formula only tokenises and vets: a refusal here happens before any evaluation.
    with pytest.raises(FormulaError):
        parse_formula(formula, [str(c) for c in num.columns])
    with pytest.raises(FormulaError):
        build_design(formula, num)
    assert not marker.exists()


def test_refusal_message_explains(num):
    with pytest.raises(FormulaError, match="never runs code"):
        build_design("y ~ x.__class__", num)


@pytest.mark.parametrize("payload", [
    "x` + I(__import__('os').system('touch {m}')) + `x",
    "` + I(__import__('os').system('touch {m}')) + `",
    "x` + I(open('{m}', 'w')) + `z",
])
def test_column_names_cannot_inject_code(num, tmp_path, payload):
    """Column names come from the data (e.g. a CSV header) and may be hostile: expanding '.'
    must never turn one into formula code."""
    marker = tmp_path / "marker"
    evil = payload.replace("{m}", str(marker))
    df = num[["y", "x", "z"]].copy()
    df[evil] = np.arange(len(df), dtype=float)
    try:
        d = build_design("y ~ .", df)
    except FormulaError:
        pass
    else:
        # Accepted: then the odd column must be a plain column of the design, nothing more.
        assert d.spec.n_columns == 3
        assert evil in d.spec.variables
    assert not marker.exists(), "a column name was executed as code"


def test_keywords_and_constants_in_transforms_are_allowed(num):
    d = build_design("y ~ poly(x, degree=2, raw=FALSE) + bs(z, df=4, degree=3)", num)
    assert d.spec.n_columns == 6


# --------------------------------------------------------------------------------------------
# no TensorFlow
# --------------------------------------------------------------------------------------------
def test_formula_layer_never_imports_tensorflow(python_runner):
    proc = python_runner("""
        import sys, warnings
        import numpy as np, pandas as pd
        from dlstat.formula import build_design
        from dlstat.families import make_family
        df = pd.DataFrame({"y": [1., 2, 3, 4, 5, 6], "x": [1., 3, 2, 5, 4, 6],
                           "g": list("ababab")})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            d = build_design("y ~ poly(x, 2) + g + log(x)", df)
            d.spec.design(df)
            make_family(None, d.response)
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras")))
    """)
    assert proc.stdout.strip() == "[]"


def test_constant_column_note_names_the_column_plainly(num):
    d = build_design("y ~ x + one", num.assign(one=1.0))
    notes = [n for n in d.notes if "constant" in n]
    assert notes == ["design column 'one' is constant in the training data."]


@pytest.mark.parametrize("formula", ["y ~ log(`if`)", "y ~ x + offset(`class`)"])
def test_a_column_named_as_a_python_keyword_inside_a_call_is_refused_clearly(formula):
    """formulaic evaluates it as the keyword: a FormulaError naming it, not a SyntaxError."""
    data = pd.DataFrame({"y": [1.0, 2.0, 3.0, 5.0], "x": [1.0, 3.0, 2.0, 4.0],
                         "if": [1.0, 2.0, 3.0, 4.0], "class": [0.1, 0.2, 0.3, 0.4]})
    with pytest.raises(FormulaError, match=r"Python keywords.*Rename"):
        build_design(formula, data)
