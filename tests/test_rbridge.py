"""The R boundary: the codec (dlstat/fronts/rcodec.py), the endpoint table both bridges call
(dlstat/fronts/rbridge.py, used by the R package through reticulate) and rpy2's transport
(dlstat/fronts/rpy2_bridge.py: R objects from Python; skipped without rpy2)."""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dlstat.fronts import rbridge
from dlstat.errors import DataError
from dlstat.fronts.rbridge import options_from_r
from dlstat.fronts.rcodec import NA_INTEGER, column_from_r, frame_from_r, frame_to_r

R_NA_REAL = struct.unpack("<d", bytes.fromhex("a20700000000f07f"))[0]  # R's NA_real_


def ints(values) -> bytearray:
    return bytearray(np.asarray(values, dtype=np.int32).tobytes())


def doubles(values) -> bytearray:
    return bytearray(np.asarray(values, dtype=np.float64).tobytes())


def call(name: str, *args):
    """Endpoint ``name`` as R calls it; its value (the call must succeed)."""
    res = rbridge.rcall(name, *args)
    assert res["ok"], res
    return res["value"]


def roundtrip(frame: pd.DataFrame) -> pd.DataFrame:
    """pandas → spec (as sent to R) → pandas (as R would send it back)."""
    spec = frame_to_r(frame)
    back = dict(spec)
    back["rownames"] = spec["rownames"]
    return frame_from_r(back)


# --------------------------------------------------------------------------- R → pandas


def test_columns_from_r_have_the_right_dtypes_and_na():
    spec = {
        "names": ["num", "int", "int_na", "lgl", "lgl_na", "chr", "fac", "ord", "date"],
        "nrow": 3,
        "columns": [
            {"type": "double", "data": doubles([1.5, R_NA_REAL, -3.0])},
            {"type": "integer", "data": ints([1, 2, 3])},
            {"type": "integer", "data": ints([1, NA_INTEGER, 3])},
            {"type": "logical", "data": ints([1, 0, 1])},
            {"type": "logical", "data": ints([1, NA_INTEGER, 0])},
            {"type": "character", "data": ints([0, -1, 1]), "levels": ["a", "b"]},
            {"type": "factor", "data": ints([0, -1, 1]), "levels": ["z", "a", "m"],
             "ordered": False},
            {"type": "factor", "data": ints([0, 2, -1]), "levels": ["lo", "mid", "hi"],
             "ordered": True},
            {"type": "Date", "data": doubles([18262.0, R_NA_REAL, -1.0])},
        ],
        "rownames": None,
    }
    df = frame_from_r(spec)
    assert list(df.columns) == spec["names"]
    assert isinstance(df.index, pd.RangeIndex)
    assert df["num"].dtype == np.float64 and df["num"].isna().tolist() == [False, True, False]
    with np.errstate(all="raise"):  # R's NA (a signalling NaN) became a quiet NaN
        (df["num"] * 2).sum()
    assert df["int"].dtype == np.int64
    assert str(df["int_na"].dtype) == "Int64" and df["int_na"].isna().sum() == 1
    assert df["lgl"].dtype == bool
    assert str(df["lgl_na"].dtype) == "boolean" and df["lgl_na"].isna().sum() == 1
    assert df["chr"].tolist()[0] == "a" and pd.isna(df["chr"].iloc[1])
    assert not isinstance(df["chr"].dtype, pd.CategoricalDtype)
    assert list(df["fac"].cat.categories) == ["z", "a", "m"] and not df["fac"].cat.ordered
    assert df["fac"].isna().tolist() == [False, True, False]
    assert df["ord"].cat.ordered and list(df["ord"].cat.categories) == ["lo", "mid", "hi"]
    assert df["ord"].tolist()[:2] == ["lo", "hi"]
    assert pd.api.types.is_datetime64_dtype(df["date"])
    assert df["date"].iloc[0] == pd.Timestamp("2020-01-01")
    assert df["date"].iloc[2] == pd.Timestamp("1969-12-31") and pd.isna(df["date"].iloc[1])


def test_row_names_become_a_string_index():
    spec = {"names": ["x"], "nrow": 2, "columns": [{"type": "double", "data": doubles([1, 2])}],
            "rownames": {"type": "character", "data": ints([0, 1]), "levels": ["r1", "r2"]}}
    assert frame_from_r(spec).index.tolist() == ["r1", "r2"]
    spec["rownames"] = {"type": "integer", "data": ints([5, 10])}
    assert frame_from_r(spec).index.tolist() == ["5", "10"]


def test_posixct_keeps_its_time_zone():
    col = {"type": "POSIXct", "data": doubles([0.0, R_NA_REAL]), "tz": "Europe/Paris"}
    values = pd.Series(column_from_r(col))
    assert str(values.dt.tz) == "Europe/Paris"
    assert values.iloc[0] == pd.Timestamp("1970-01-01 01:00", tz="Europe/Paris")
    assert pd.isna(values.iloc[1])


def test_unknown_column_type_names_the_supported_ones():
    with pytest.raises(DataError, match="numeric, integer, logical, character"):
        column_from_r({"type": "complex", "data": b""})


# --------------------------------------------------------------------------- pandas → R


def test_round_trip_through_specs_keeps_types_levels_na_and_index():
    df = pd.DataFrame({
        "num": [1.5, np.nan, -3.0],
        "int": np.array([1, 2, 3], dtype=np.int64),
        "int_na": pd.array([1, None, 3], dtype="Int64"),
        "lgl": [True, False, True],
        "lgl_na": pd.array([True, None, False], dtype="boolean"),
        "chr": pd.array(["a", None, "b"], dtype=object),
        "fac": pd.Categorical(["z", None, "a"], categories=["z", "a", "m"]),
        "ord": pd.Categorical(["lo", "hi", None], categories=["lo", "mid", "hi"], ordered=True),
        "date": pd.to_datetime(["2020-01-01", None, "1969-12-31"]),
    }, index=pd.Index(["a", "b", "c"]))
    back = roundtrip(df)
    assert back.index.tolist() == ["a", "b", "c"]
    assert list(back.columns) == list(df.columns)
    for col in df.columns:
        assert back[col].isna().tolist() == df[col].isna().tolist(), col
    assert back["int"].dtype == np.int64 and str(back["int_na"].dtype) == "Int64"
    assert back["lgl"].dtype == bool and str(back["lgl_na"].dtype) == "boolean"
    assert list(back["fac"].cat.categories) == ["z", "a", "m"]
    assert back["ord"].cat.ordered
    assert back["date"].iloc[2] == pd.Timestamp("1969-12-31")
    np.testing.assert_array_equal(back["num"].to_numpy(), df["num"].to_numpy())


def test_specs_for_r_describe_the_index():
    s = pd.Series([0.5, 0.25], index=pd.Index([3, 7]), name="p")
    spec = frame_to_r(s)
    assert spec["series"] and spec["names"] == ["p"] and spec["rownames_kind"] == "position"
    assert frame_to_r(pd.DataFrame({"a": [1]}))["rownames"] is None
    cat = frame_to_r(pd.Series(pd.Categorical([1, 0], categories=[0, 1])))
    assert cat["columns"][0]["levels"] == ["0", "1"]
    logical_levels = frame_to_r(pd.Series(pd.Categorical([True], categories=[False, True])))
    assert logical_levels["columns"][0]["levels"] == ["FALSE", "TRUE"]


def test_large_integers_travel_as_doubles():
    spec = frame_to_r(pd.DataFrame({"big": np.array([1, 2**40], dtype=np.int64)}))
    assert spec["columns"][0]["type"] == "double"


def test_no_numpy_objects_cross_the_boundary():
    df = pd.DataFrame({"x": [1.0, 2.0], "g": pd.Categorical(["a", "b"])})

    def plain(value):
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return value is None or type(value) in (str, int, float, bool, bytearray)

    assert plain(frame_to_r(df))


# --------------------------------------------------------------------------- options


def test_options_from_r_convert_r_values():
    frame = frame_to_r(pd.DataFrame({"x": [1.0]}))
    got = options_from_r({"hidden": [32.0, 16.0], "seed": 1.0, "epochs": 2.5, "penalty": 0.1,
                          "validation": frame, "penalties": 0.5,
                          "models": {"a": {"hidden": None, "batch_size": 8.0}}})
    assert got["hidden"] == (32, 16)
    assert got["seed"] == 1 and isinstance(got["seed"], int)
    assert got["epochs"] == 2.5  # left for dlstat's own check to refuse
    assert isinstance(got["validation"], pd.DataFrame)
    assert got["penalties"] == [0.5]
    assert got["models"] == {"a": {"hidden": (), "batch_size": 8}}
    assert options_from_r({"hidden": None})["hidden"] == ()
    assert options_from_r({"hidden": []})["hidden"] == ()
    assert options_from_r({"hidden": 4.0})["hidden"] == (4,)
    assert options_from_r(None) == {}


# --------------------------------------------------------------------------- calls


def test_rcall_returns_errors_as_data_without_a_traceback():
    spec = frame_to_r(pd.DataFrame({"y": [1.0, 2.0, 3.0], "x": [1.0, 2.0, 4.0]}))
    res = rbridge.rcall("fit", "y ~ nope", spec, {})
    assert res["ok"] is False and res["dlstat"] is True
    assert res["type"] == "FormulaError"
    assert "nope" in res["message"] and "Traceback" not in res["message"]
    res = rbridge.rcall("fit", "y ~ x", spec, {"hidden": "a"})
    assert res["ok"] is False and "hidden" in res["message"]
    assert rbridge.rcall("no_such_function")["ok"] is False


def test_rcall_fits_predicts_and_passes_warnings(tmp_path):
    data = pd.DataFrame({"y": [1.0, 2.0, 2.5, 4.0, 5.5, np.nan],
                         "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]},
                        index=pd.Index(list("abcdef")))
    spec = frame_to_r(data)
    res = rbridge.rcall("fit", "y ~ x", spec, {"hidden": [], "optimizer": "lbfgs"})
    assert res["ok"], res
    assert any("missing" in w or "NA" in w or "dropped" in w for w in res["warnings"])
    model = res["value"]
    info = call("describe", model)
    assert info["glm"] and info["family"] == "gaussian" and info["n_obs"] == 5
    assert info["history"]["__dlstat__"] == "frame"
    pred = frame_from_r(call("predict", model, spec))
    assert pred.index.tolist() == list("abcdef")
    expected = model.predict(data)
    np.testing.assert_allclose(pred.iloc[:, 0].to_numpy(), expected.to_numpy())
    coef = frame_from_r(call("coef", model))
    assert coef["term"].tolist() == ["(Intercept)", "x"]
    added = frame_from_r(call("augment", model, spec))
    assert list(added.columns) == [".fitted", ".resid"]
    path = str(tmp_path / "m.dlstat")
    call("save", model, path)
    import dlstat

    again = dlstat.load(path)
    np.testing.assert_allclose(again.predict(data).to_numpy(), expected.to_numpy())


def test_partition_returns_positions():
    spec = frame_to_r(pd.DataFrame({"g": pd.Categorical(list("ab") * 10)}))
    parts = call("partition", spec, {"stratify": "g", "seed": 1.0})
    rows = [frame_from_r(parts[k]).iloc[:, 0].tolist() for k in ("train", "validation", "test")]
    assert sorted(sum(rows, [])) == list(range(20))


# --------------------------------------------------------------------------- rpy2

rpy2_missing = importlib.util.find_spec("rpy2") is None


@pytest.fixture(scope="module")
def r():
    if rpy2_missing:
        pytest.skip("rpy2 is not installed (pip install 'dlstat[r]')")
    try:
        import rpy2.robjects as ro
    except Exception as exc:  # R itself missing or broken
        pytest.skip(f"rpy2 cannot start R: {exc}")
    from dlstat.fronts import rpy2_bridge

    return ro, rpy2_bridge


R_FRAME = """data.frame(num = c(1.5, NA, -3), int = c(1L, NA, 3L), lgl = c(TRUE, NA, FALSE),
  chr = c("a", NA, "b"), fac = factor(c("z", NA, "a"), levels = c("z", "a", "m")),
  ord = factor(c("lo", "hi", NA), levels = c("lo", "mid", "hi"), ordered = TRUE),
  date = as.Date(c("2020-01-01", NA, "1969-12-31")), stringsAsFactors = FALSE,
  row.names = c("r1", "r2", "r3"))"""


def test_rpy2_data_frames_round_trip(r):
    ro, rb = r
    frame = ro.r(R_FRAME)
    df = rb.r_to_pandas(frame)
    assert df.index.tolist() == ["r1", "r2", "r3"]
    assert str(df["int"].dtype) == "Int64" and str(df["lgl"].dtype) == "boolean"
    assert list(df["fac"].cat.categories) == ["z", "a", "m"] and df["ord"].cat.ordered
    assert pd.api.types.is_datetime64_dtype(df["date"])
    assert df.isna().sum().tolist() == [1, 1, 1, 1, 1, 1, 1]
    back = rb.pandas_to_r(df)
    ro.globalenv["back_"] = back
    ro.globalenv["orig_"] = frame
    assert ro.r("identical(back_, orig_)")[0]
    plain = ro.r("data.frame(x = 1:3)")
    assert isinstance(rb.r_to_pandas(plain).index, pd.RangeIndex)
    assert rb.r_to_pandas(plain)["x"].dtype == np.int64


def test_rpy2_pandas_to_r_keeps_pandas_types(r):
    ro, rb = r
    df = pd.DataFrame({"g": pd.Categorical(["b", "a", None], categories=["b", "a"]),
                       "n": pd.array([1, None, 3], dtype="Int64"),
                       "s": ["x", None, "z"]})
    ro.globalenv["p_"] = rb.pandas_to_r(df)
    assert list(ro.r("levels(p_$g)")) == ["b", "a"]
    assert list(ro.r("sapply(p_, function(x) sum(is.na(x)))")) == [1, 1, 1]
    assert list(ro.r("class(p_$n)")) == ["integer"]
    assert list(ro.r("class(p_$s)")) == ["character"]


def test_rpy2_formula_text(r):
    ro, rb = r
    assert rb.r_formula(ro.r("y ~ x + factor(g)")) == "y ~ x + factor(g)"
    assert rb.r_formula("y ~ .") == "y ~ ."


def test_rpy2_expose_lets_r_code_call_dlstat(r):
    ro, rb = r
    rb.expose()
    ro.r("fit_ <- dnn(mpg ~ wt + hp, data = mtcars, hidden = c(), optimizer = 'lbfgs')")
    assert list(ro.r("class(fit_)")) == ["dlstat_rpy2_fit"]
    coef_r = np.asarray(ro.r("coef(fit_)"))
    coef_glm = np.asarray(ro.r("coef(lm(mpg ~ wt + hp, data = mtcars))"))
    np.testing.assert_allclose(coef_r, coef_glm, rtol=1e-5)
    pred = ro.r("predict(fit_, mtcars[c('Fiat 128', 'Valiant'), ])")
    assert list(pred.names) == ["Fiat 128", "Valiant"]
    assert "Call:" in str(ro.r("capture.output(summary(fit_))"))
    ro.r("ir_ <- dnn(Species ~ ., data = iris, hidden = 3, epochs = 3, seed = 1)")
    cls = ro.r("predict(ir_, iris[c(1, 51, 101), ], type = 'class')")
    assert list(ro.r("levels")(cls)) == ["setosa", "versicolor", "virginica"]
    prob = ro.r("predict(ir_, iris[c(1, 51), ], type = 'prob')")
    assert list(prob.names) == ["setosa", "versicolor", "virginica"]
    ro.r("cv_ <- cv_dnn(mpg ~ wt, data = mtcars, folds = 4, hidden = c(), optimizer = 'lbfgs',"
         " seed = 1)")
    assert sorted(set(ro.r("cv_$fold_ids"))) == [1, 2, 3, 4]
    assert list(ro.r("names(cv_$predictions)"))[:1] == ["Mazda RX4"]
    ro.r("cv2_ <- cv_dnn(mpg ~ wt, data = mtcars, foldid = rep(1:2, 16), hidden = c(),"
         " optimizer = 'lbfgs')")
    assert list(ro.r("cv2_$fold_ids[1:4]")) == [1, 2, 1, 2]
    parts = ro.r("p_ <- partition(iris, seed = 1); sapply(p_, nrow)")
    assert list(parts) == [90, 30, 30]
    assert list(ro.r("class(p_$test$Species)")) == ["factor"]
    cmp = ro.r("cmp_ <- compare(mpg ~ wt, data = mtcars, folds = 3, hidden = c(),"
               " optimizer = 'lbfgs', seed = 1); cmp_$winner")
    assert cmp[0] in ("glm", "dnn")
    assert list(ro.r("unique(cmp_$folds$model)")) == ["null", "glm", "dnn"]
    ro.r("path_ <- dnn_path(mpg ~ wt + hp, data = mtcars, hidden = c(), optimizer = 'lbfgs',"
         " n_penalties = 3, folds = 3, seed = 1)")
    assert ro.r("nrow(path_$table)")[0] == 3
    assert ro.r("path_$penalty_min %in% path_$table$penalty")[0]
    assert list(ro.r("class(refit(path_, 'min'))")) == ["dlstat_rpy2_fit"]
    assert "penalty_min" in "".join(ro.r("capture.output(print(path_))"))
    msg = ro.r("tryCatch(dnn(mpg ~ nope, data = mtcars), error = function(e) "
               "c(class(e)[1], conditionMessage(e)))")
    assert msg[0] == "dlstat_error" and "nope" in msg[1] and "Traceback" not in msg[1]


# --------------------------------------------------------------------------- one bridge


def test_every_endpoint_converts_each_argument_it_accepts():
    import inspect

    for name, endpoint in rbridge.ENDPOINTS.items():
        params = inspect.signature(endpoint.function).parameters.values()
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        assert len(endpoint.arguments) == len(positional), name
    res = rbridge.rcall("roundtrip", frame_to_r(pd.DataFrame({"x": [1.0]})), "extra")
    assert res["ok"] is False and "differ in version" in res["message"]


def test_an_empty_r_list_of_options_is_no_options():
    assert options_from_r([]) == {}
    assert options_from_r({"models": {"a": []}}) == {"models": {"a": {}}}


def test_fold_ids_shift_in_one_place():
    from dlstat.fronts.rcodec import shift_folds

    ints_na = pd.Series(pd.array([0, None, 2], dtype="Int64"))
    assert shift_folds(ints_na, to_r=True).tolist() == [1, pd.NA, 3]
    np.testing.assert_array_equal(shift_folds(np.array([1.0, 2.0]), to_r=False), [0.0, 1.0])
    labels = np.array(["a", "b"], dtype=object)
    assert shift_folds(labels, to_r=False) is labels
    foldid = {"type": "integer", "data": ints([1, 2, NA_INTEGER])}
    got = options_from_r({"foldid": foldid})["foldid"]
    assert got[:2].tolist() == [0, 1] and pd.isna(got[2])


def test_the_r_codec_ships_with_the_python_package():
    from dlstat.fronts.rcodec import r_codec_file

    path = r_codec_file()
    assert path.name == "convert.R" and ".encode_frame <- function" in path.read_text()
    repo_copy = Path(__file__).resolve().parent.parent / "R" / "convert.R"
    assert path.read_bytes() == repo_copy.read_bytes()
    import tomllib

    pyproject = tomllib.loads((repo_copy.parent.parent / "pyproject.toml").read_text())
    assert "fronts/convert.R" in pyproject["tool"]["setuptools"]["package-data"]["dlstat"]


def test_a_built_wheel_holds_the_r_codec(tmp_path):
    import subprocess
    import sys
    import zipfile

    root = Path(__file__).resolve().parent.parent
    # pyproject needs setuptools>=77 (SPDX license), which pip fetches for an isolated build.
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                            str(tmp_path), str(root)], capture_output=True, text=True)
    if built.returncode != 0:
        pytest.skip(f"cannot build a wheel here (offline?): {built.stderr[-300:]}")
    wheel = next(tmp_path.glob("dlstat-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read("dlstat/fronts/convert.R")
    assert shipped == (root / "R" / "convert.R").read_bytes()  # the file, not a link


# --------------------------------------------------------------------------- R notation


@pytest.mark.parametrize(("python", "r"), [
    ("got hidden=(32, 16)", "got hidden = c(32, 16)"),
    ("pass n=None to read every image", "pass n = NULL to read every image"),
    ("batchnorm must be True or False; got 'yes'.", 'batchnorm must be TRUE or FALSE; got "yes".'),
    ("columns are ['a', 'b'].", 'columns are c("a", "b").'),
    ("a tuple such as (32, 16), or () for none", "a vector such as c(32, 16), or c() for none"),
    ("use dl.dense(32)", "use dense(32)"),
    ("got nan and -inf", "got NaN and -Inf"),
    ("got penalties=['a']", 'got penalties = c("a")'),
])
def test_python_spellings_become_r_spellings(python, r):
    from dlstat.fronts.rnotation import r_notation

    assert r_notation(python) == r


@pytest.mark.parametrize("prose", [
    "dropout rate must be a number in [0, 1); got 1.5.",
    "mixture must be in [0, 1].",
    "None of the rows is complete; R's model.frame() doesn't drop them.",
    "n <= 10000 and a == b",
    "use factor(cyl) (1 level)",
])
def test_prose_and_intervals_stay_as_they_are(prose):
    from dlstat.fronts.rnotation import r_notation

    assert r_notation(prose) == prose


def test_quoted_text_is_never_rewritten_inside():
    from dlstat.fronts.rnotation import r_notation

    assert r_notation("formula 'y ~ I(x == True)' failed") == 'formula "y ~ I(x == True)" failed'
    assert r_notation("""got 'say "hi"'""") == 'got "say \\"hi\\""'


def test_rcall_words_errors_and_warnings_in_r_notation():
    spec = frame_to_r(pd.DataFrame({"y": [1.0, 2.0, 3.0], "x": [1.0, 2.0, 4.0]}))
    res = rbridge.rcall("fit", "y ~ x", spec, {"batchnorm": "yes"})
    assert res["message"] == 'batchnorm must be TRUE or FALSE; got "yes".'


def test_progress_bars_follow_the_r_console(monkeypatch):
    """verbose=1 draws tqdm's bar (on stderr) when R is interactive, nothing in scripts and
    logs, and verbose=0 never draws."""
    import io as _io
    import sys

    import dlstat.progress

    # A bar appears only for work longer than its delay; this quick work shows it at once.
    monkeypatch.setattr(dlstat.progress, "DELAY_SECONDS", 0.0)
    data = frame_to_r(pd.DataFrame({"y": np.arange(12.0), "x": np.arange(12.0) ** 0.5}))
    opts = {"folds": 3.0, "hidden": [], "optimizer": "lbfgs", "epochs": 5.0}

    def stderr_of(interactive: bool, verbose: float) -> str:
        captured = _io.StringIO()
        monkeypatch.setattr(sys, "stderr", captured)
        rbridge.r_session(interactive)
        try:
            assert rbridge.rcall("cv", "y ~ x", data, {**opts, "verbose": verbose})["ok"]
        finally:
            rbridge.r_session(False)
            monkeypatch.undo()
        return captured.getvalue()

    assert "fold designs" in stderr_of(True, 1.0)
    assert stderr_of(False, 1.0) == ""
    assert stderr_of(True, 0.0) == ""


def test_rpy2_uses_the_r_packages_codec_and_endpoints(r):
    import inspect

    ro, rb = r
    source = inspect.getsource(rb)
    assert "writeBin" not in source and "readBin" not in source  # no second R codec
    fresh = ro.r("new.env()")
    ro.r["sys.source"](str(rb.r_codec_file()), envir=fresh)  # R/convert.R (tested above)
    same = ro.r("function(a, b) identical(deparse(a$.encode_column), deparse(b$.encode_column))")
    assert same(rb._codec(), fresh)[0]
    rb.expose()
    ro.r("sfit_ <- dnn(mpg ~ wt, data = mtcars, hidden = c(), optimizer = 'lbfgs')")
    tables = ro.r("summary(sfit_)$tables")
    fit = rb._py(ro.r("sfit_$handle"))
    assert list(tables.names) == list(fit.summary().tables)
    text = "".join(ro.r("capture.output(print(summary(sfit_)))"))
    assert "dnn(formula = mpg ~ wt" in text and "hidden = c()" in text
