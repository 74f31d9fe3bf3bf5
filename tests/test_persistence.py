"""Model files: save → load in a fresh process predicts identically, files hold no pickle,
anything that is not a model file is refused; and ``import dlstat`` stays light."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest

import dlstat as dl
from dlstat.errors import DataError, ModelFileError

# Executed both here and in the fresh process, so both predict on the very same frames.
DATA_CODE = """
import numpy as np
import pandas as pd
import dlstat as dl

iris_new = dl.datasets.load("iris").sample(frac=1.0, random_state=5)
iris_new.index = [f"p{i}" for i in range(len(iris_new))]
iris_new.loc["p3", "Sepal.Width"] = np.nan
cars_new = dl.datasets.load("mtcars")
cars_new["trans"] = np.where(cars_new["am"] == 1, "manual", "auto").astype(object)
cars_new["engine"] = pd.Categorical(np.where(cars_new["vs"] == 1, "straight", "V"),
                                    categories=["V", "straight"])
cars_new["heavy"] = cars_new["wt"] > 3.3
cars_new.loc[cars_new.index[4], "hp"] = np.nan
"""

MODELS = {
    # name: (formula, frame, options, predict types)
    "multinomial": ("Species ~ poly(Sepal.Length, 2) + bs(Sepal.Width, df=4) + Petal.Length",
                    "iris_new", dict(hidden=(8,), epochs=10, seed=1), ("prob", "class", "link")),
    "gaussian": ("mpg ~ scale(hp) + log(wt) + factor(cyl) + engine + heavy + trans",
                 "cars_new", dict(hidden=(8,), epochs=10, seed=2), ("response", "link")),
    "batchnorm": ("mpg ~ wt + hp + qsec", "cars_new",
                  dict(hidden=(6,), batchnorm=True, dropout=0.2, epochs=10, seed=4),
                  ("response",)),
    "binomial_glm": ("trans ~ wt + hp + engine", "cars_new",
                     dict(hidden=(), optimizer="lbfgs"), ("response", "class", "prob")),
}


def _frames() -> dict:
    ns: dict = {}
    exec(DATA_CODE, ns)  # noqa: S102 - our own constant test code
    return ns


def _as_array(pred) -> np.ndarray:
    if isinstance(pred.dtype if isinstance(pred, pd.Series) else None, pd.CategoricalDtype):
        return np.asarray(pred.cat.codes, dtype=np.float64)
    return np.asarray(pred, dtype=np.float64)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Fit each model, save it and record its predictions in this process."""
    folder = tmp_path_factory.mktemp("models")
    frames = _frames()
    out = {}
    for name, (formula, frame, options, types) in MODELS.items():
        with pytest.warns(UserWarning):  # the NA rows are dropped when fitting
            fit = dl.dnn(formula, frames[frame], **options)
        path = folder / f"{name}.dlstat"
        fit.save(str(path))
        preds = {t: fit.predict(frames[frame], type=t) for t in types}
        out[name] = (fit, path, preds)
    return folder, frames, out


def test_load_in_a_fresh_process_predicts_identically(saved, python_runner):
    folder, frames, fits = saved
    script = DATA_CODE + f"""
import json, sys
folder = {str(folder)!r}
models = {json.dumps({k: (v[1], list(v[3])) for k, v in MODELS.items()})}
report = {{}}
for name, (frame, types) in models.items():
    fit = dl.load(f"{{folder}}/{{name}}.dlstat")
    data = globals()[frame]
    for t in types:
        p = fit.predict(data, type=t)
        if isinstance(getattr(p, "dtype", None), pd.CategoricalDtype):
            report[f"{{name}}.{{t}}.levels"] = [str(c) for c in p.cat.categories]
            values = np.asarray(p.cat.codes, dtype=np.float64)
        else:
            values = np.asarray(p, dtype=np.float64)
            report[f"{{name}}.{{t}}.columns"] = (list(map(str, p.columns))
                                                 if isinstance(p, pd.DataFrame) else str(p.name))
        np.save(f"{{folder}}/{{name}}.{{t}}.npy", values, allow_pickle=False)
        report[f"{{name}}.{{t}}.index"] = list(map(str, p.index))
report["tensorflow"] = any(m.split(".")[0] in ("tensorflow", "keras") for m in sys.modules)
print(json.dumps(report))
"""
    proc = python_runner(script)
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    for name, (fit, _, preds) in fits.items():
        for t, p in preds.items():
            theirs = np.load(folder / f"{name}.{t}.npy", allow_pickle=False)
            np.testing.assert_array_equal(theirs, _as_array(p), err_msg=f"{name} {t}")
            assert report[f"{name}.{t}.index"] == list(map(str, p.index))
            if isinstance(p.dtype if isinstance(p, pd.Series) else None, pd.CategoricalDtype):
                assert report[f"{name}.{t}.levels"] == [str(c) for c in p.cat.categories]
            elif isinstance(p, pd.DataFrame):
                assert report[f"{name}.{t}.columns"] == list(map(str, p.columns))
            else:
                assert report[f"{name}.{t}.columns"] == str(p.name)
    # loading a model and predicting needs no TensorFlow
    assert report["tensorflow"] is False


def test_loaded_model_keeps_its_record(saved):
    _, frames, fits = saved
    for name, (fit, path, _) in fits.items():
        again = dl.load(path)
        assert again.call == fit.call
        assert again.family.name == fit.family.name
        assert again.family.levels == fit.family.levels
        assert again.spec.columns == fit.spec.columns
        assert again.record.deviance == fit.record.deviance
        assert again.record.n_dropped == fit.record.n_dropped == 1
        assert again.record.notes == fit.record.notes
        pd.testing.assert_frame_equal(again.history, fit.history, check_dtype=False)
        _assert_same_summary(again, fit)
        for k in fit.params:
            np.testing.assert_array_equal(again.params[k], fit.params[k])


def _assert_same_summary(loaded, fit) -> None:
    """The same summary: a loaded GLM keeps its standard errors (the file holds its
    covariance, issue 9)."""
    assert str(loaded.summary()) == str(fit.summary())
    mine, theirs = loaded.summary(), fit.summary()
    for name, table in theirs.tables.items():
        pd.testing.assert_frame_equal(mine.tables[name], table)


def test_loaded_glm_keeps_its_coefficients(saved):
    fit, path, _ = saved[2]["binomial_glm"]
    pd.testing.assert_series_equal(dl.load(path).coef(), fit.coef())


def test_loaded_model_needs_new_data_to_predict(saved):
    _, path, _ = saved[2]["gaussian"]
    with pytest.raises(DataError):
        dl.load(path).predict()


def test_unseen_levels_after_loading(saved):
    _, frames, fits = saved
    _, path, _ = fits["gaussian"]
    new = frames["cars_new"].iloc[:3].copy()
    new["trans"] = ["auto", "cvt", "manual"]
    from dlstat.errors import UnseenLevelError

    with pytest.raises(UnseenLevelError, match="cvt"):
        dl.load(path).predict(new)


# --------------------------------------------------------------------------------------------
# no pickle in model files
# --------------------------------------------------------------------------------------------
def test_model_file_holds_no_pickle(saved):
    for name, (fit, path, _) in saved[2].items():
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}  # would raise on a pickle
        assert arrays and all(a.dtype != object for a in arrays.values())
        with zipfile.ZipFile(path) as z:
            for member in z.namelist():
                assert member.endswith(".npy")
                head = z.read(member)[:200]
                assert b"'descr': '|O'" not in head and b"'descr': 'O'" not in head


def test_save_accepts_a_path_object(saved, tmp_path):
    fit, _, _ = saved[2]["binomial_glm"]
    target = tmp_path / "model.npz"
    fit.save(target)
    assert dl.load(str(target)).spec.formula == fit.spec.formula


# --------------------------------------------------------------------------------------------
# not model files
# --------------------------------------------------------------------------------------------
def test_text_file_is_not_a_model(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("y ~ x\nthis is not a model\n")
    with pytest.raises(ModelFileError):
        dl.load(path)


def test_plain_npz_is_not_a_model(tmp_path):
    path = tmp_path / "arrays.npz"
    np.savez(path, a=np.arange(3.0), b=np.eye(2))
    with pytest.raises(ModelFileError, match="not a dlstat model"):
        dl.load(path)


def test_npz_with_a_pickled_object_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "evil.npz"
    marker = tmp_path / "unpickled"

    class Boom:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    np.savez(path, __dlstat_spec__=np.array([Boom()], dtype=object))
    with pytest.raises(ModelFileError):
        dl.load(path)
    assert not marker.exists()


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ModelFileError):
        dl.load(tmp_path / "absent.dlstat")
    with pytest.raises(ModelFileError):
        dl.load(tmp_path)


def test_truncated_model_file(saved, tmp_path):
    _, path, _ = saved[2]["gaussian"]
    data = path.read_bytes()
    bad = tmp_path / "truncated.dlstat"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError):
        dl.load(bad)


def _spec_file(tmp_path, spec_text: str, params=None):
    path = tmp_path / "spec.dlstat"
    blob = np.frombuffer(spec_text.encode("utf-8"), dtype=np.uint8)
    with open(path, "wb") as fh:
        np.savez_compressed(fh, __dlstat_spec__=blob, **(params or {}))
    return path


@pytest.mark.parametrize("spec_text", [
    "not json at all {",
    json.dumps({"format": "something-else", "version": 1}),
    json.dumps({"format": "dlstat-model", "version": 999}),
    json.dumps({"format": "dlstat-model", "version": 1}),  # everything else missing
])
def test_damaged_or_foreign_specs(tmp_path, spec_text):
    with pytest.raises(ModelFileError):
        dl.load(_spec_file(tmp_path, spec_text))


def test_model_file_error_is_a_dlstat_error():
    assert issubclass(ModelFileError, dl.DlstatError)


# --------------------------------------------------------------------------------------------
# import dlstat stays light
# --------------------------------------------------------------------------------------------
def test_import_dlstat_does_not_import_tensorflow(python_runner):
    proc = python_runner("""
        import sys
        import dlstat
        heavy = ("tensorflow", "keras")
        after_import = sorted({m.split(".")[0] for m in sys.modules} & set(heavy))
        dlstat.dnn, dlstat.load, dlstat.DNNFit  # lazy attributes resolve without TF too
        dlstat.datasets.load("iris")
        after_attrs = sorted({m.split(".")[0] for m in sys.modules} & set(heavy))
        print(after_import, after_attrs)
    """)
    assert proc.stdout.strip() == "[] []"
