"""Hostile model files: everything read from a file is vetted as strictly as a typed formula,
and a tampered or inconsistent file is refused with ModelFileError before anything in it is
evaluated (``dl.load`` is also what R's ``load_dnn()`` calls)."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

import dlstat as dl
from dlstat.errors import ModelFileError

SPEC = "__dlstat_spec__.npy"
FORMULA = "Species ~ poly(Sepal.Length, 2) + bs(Sepal.Width, df=4) + factor(g) + scale(x)"


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    iris = dl.datasets.load("iris")
    iris["g"] = np.tile(["a", "b", "c"], 50)
    iris["x"] = np.arange(150.0)
    fit = dl.dnn(FORMULA, iris, hidden=(4,), batchnorm=True, epochs=2, seed=1, verbose=0)
    path = tmp_path_factory.mktemp("safety") / "good.dlstat"
    fit.save(path)
    return path, iris


def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _spec(path) -> dict:
    return json.loads(np.load(io.BytesIO(_members(path)[SPEC])).tobytes())


def _write(path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, blob in members.items():
            z.writestr(name, blob)


def _npy(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


def _tampered(model, tmp_path, edit) -> str:
    path, _ = model
    spec = _spec(path)
    edit(spec)
    members = _members(path)
    members[SPEC] = _npy(np.frombuffer(json.dumps(spec).encode(), dtype=np.uint8))
    out = tmp_path / "tampered.dlstat"
    _write(out, members)
    return str(out)


def test_the_untampered_file_loads_and_predicts(model):
    path, iris = model
    assert dl.load(path).predict(iris, type="class").notna().all()


MARKER = "dlstat_pwned"
CODE = f"__import__('os').system('touch {MARKER}')"


def _set_rhs(text):
    return lambda s: s["design"].update(rhs=text)


EDITS = {
    "code in the right-hand side": _set_rhs(f"I({CODE}) + scale(x)"),
    "code appended to the right-hand side": lambda s: s["design"].update(
        rhs=s["design"]["rhs"] + f" + I({CODE})"),
    "a name evaluated as attribute access": _set_rhs("x.__class__"),
    "code in the formula text": lambda s: s["design"].update(formula=f"Species ~ I({CODE})"),
    "code as a column name": lambda s: (s["design"]["variables"].append(CODE),
                                        s["design"].update(rhs=s["design"]["rhs"] + " + `"
                                                           + CODE + "`")),
    "a backquote in a column name": lambda s: s["design"]["variables"].__setitem__(0, "a`b"),
    "code in a level": lambda s: s["design"]["levels"]["g"].append({"__reduce__": CODE}),
    "repeated levels": lambda s: s["design"]["levels"]["g"].append("a"),
    "text in a transform's state": lambda s: s["design"]["transform_state"].update(
        {"scale(x)": {"center": CODE, "scale": 1.0, "ddof": 1}}),
    "state for a transform the formula lacks": lambda s: s["design"]["transform_state"].update(
        {f"I({CODE})": {"center": 1.0}}),
    "a huge power": _set_rhs("I(x ** 9 ** 9 ** 9)"),
    "a huge poly degree": _set_rhs("poly(`Sepal.Length`, 1000000000)"),
    "fewer scales than columns": lambda s: s["design"]["scale"].pop(),
    "a zero scale": lambda s: s["design"]["scale"].__setitem__(0, 0.0),
    "a column list the design does not give": lambda s: s["design"]["columns"].__setitem__(
        0, "poly(Sepal_Length, 2)[9]"),
    "an unknown family": lambda s: s["family"].update(name="os.system"),
    "binomial with three levels": lambda s: s["family"].update(name="binomial"),
    "an unknown layer": lambda s: s["topology"]["layers"].append({"kind": "lambda"}),
    "an unknown activation": lambda s: s["topology"]["layers"][0].update(activation="eval"),
    "an absurd layer width": lambda s: s["topology"]["layers"][0].update(units=10**12),
    "inputs that disagree with the design": lambda s: s["topology"].update(n_inputs=3),
    "an unknown option": lambda s: s["options"].update(__class__="x"),
    "an invalid option": lambda s: s["options"].update(unseen="exec"),
    "text as a count": lambda s: s["record"].update(n_obs="many"),
    "a foreign history column": lambda s: s["history"].update(code=[CODE]),
    "no design": lambda s: s.pop("design"),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_a_tampered_spec_is_refused_before_anything_runs(model, tmp_path, monkeypatch, edit):
    monkeypatch.chdir(tmp_path)
    bad = _tampered(model, tmp_path, EDITS[edit])
    with pytest.raises(ModelFileError):
        dl.load(bad).predict(model[1])
    assert not (tmp_path / MARKER).exists()


def _with_weights(model, tmp_path, change) -> str:
    members = _members(model[0])
    change(members)
    out = tmp_path / "weights.dlstat"
    _write(out, members)
    return str(out)


def _header_only(shape) -> bytes:
    """An .npy header claiming ``shape`` followed by a few bytes of data."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False,
                                               "shape": shape})
    return buf.getvalue() + b"\0" * 64


WEIGHT_EDITS = {
    "a weight of the wrong shape": lambda m: m.update(
        {"output/kernel.npy": _npy(np.zeros((1, 5, 3)))}),
    "a missing weight": lambda m: m.pop("output/bias.npy"),
    "an extra array": lambda m: m.update({"extra.npy": _npy(np.zeros(3))}),
    "non-finite weights": lambda m: m.update(
        {"output/bias.npy": _npy(np.full((1, 1, 3), np.nan))}),
    "weights as text": lambda m: m.update({"output/bias.npy": _npy(np.array([["a"] * 3]))}),
    "a pickled object": lambda m: m.update(
        {"output/bias.npy": _npy(np.array([{"x": 1}], dtype=object), allow_pickle=True)}),
    "a header claiming 10^12 rows": lambda m: m.update(
        {"dense0/kernel.npy": _header_only((10**12, 4))}),
    "a spec claiming 10^12 bytes": lambda m: m.update({SPEC: _header_only((10**12,))}),
    "a member that is not an array": lambda m: m.update({"notes.txt": b"hello"}),
}


@pytest.mark.parametrize("edit", list(WEIGHT_EDITS))
def test_tampered_weights_are_refused_without_allocating(model, tmp_path, edit):
    bad = _with_weights(model, tmp_path, WEIGHT_EDITS[edit])
    with pytest.raises(ModelFileError):
        dl.load(bad)


def test_a_zip_member_claiming_a_huge_size_is_refused(model, tmp_path):
    data = bytearray(model[0].read_bytes())
    # the central directory's uncompressed size of the first member: claim 4 GB
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24:cd + 28] = (2**32 - 1).to_bytes(4, "little")
    bad = tmp_path / "bomb.dlstat"
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelFileError):
        dl.load(bad)


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9, 0.99])
def test_truncated_archives_are_refused(model, tmp_path, cut):
    blob = model[0].read_bytes()
    bad = tmp_path / "cut.dlstat"
    bad.write_bytes(blob[: int(len(blob) * cut)])
    with pytest.raises(ModelFileError):
        dl.load(bad)


def test_garbage_is_refused(tmp_path):
    bad = tmp_path / "garbage.dlstat"
    bad.write_bytes(np.random.default_rng(1).bytes(5000))
    with pytest.raises(ModelFileError):
        dl.load(bad)
    bad.write_bytes(b"PK\x03\x04" + b"\xff" * 200)
    with pytest.raises(ModelFileError):
        dl.load(bad)


def test_legitimate_formulas_round_trip(tmp_path):
    mt = dl.datasets.load("mtcars")
    mt["odd name"] = mt["qsec"]
    for formula in ["mpg ~ (wt + hp + qsec + drat)^4", "mpg ~ I(wt^2) + I(2^wt) + log(hp)",
                    "mpg ~ .", "mpg ~ poly(wt, degree=2, raw=TRUE) + `odd name`",
                    "log(mpg) ~ wt * factor(am) + center(disp)"]:
        fit = dl.dnn(formula, mt, hidden=(), optimizer="lbfgs", verbose=0)
        fit.save(tmp_path / "m.dlstat")
        back = dl.load(tmp_path / "m.dlstat")
        np.testing.assert_allclose(back.predict(mt).to_numpy(), fit.predict(mt).to_numpy(),
                                   rtol=1e-12)


def test_results_fit_and_persistence_import_no_cycle():
    import ast
    import pathlib

    source = pathlib.Path(dl.__file__).parent / "results" / "persistence.py"
    imported = {node.module for node in ast.walk(ast.parse(source.read_text()))
                if isinstance(node, ast.ImportFrom)}
    assert not any(m and m.endswith("fit") for m in imported)


# ------------------------------------------ a file may not ask for more memory than it holds


def _traced_peak(action) -> int:
    """The peak of memory traced while ``action()`` runs (NumPy's arrays are traced)."""
    import tracemalloc

    tracemalloc.start()
    try:
        action()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def _refused(path):
    def action():
        with pytest.raises(ModelFileError) as info:
            dl.load(path)
        return info

    return action


def test_an_inflated_file_is_refused_before_anything_is_allocated(model, tmp_path):
    from conftest import inflated_model

    bomb = inflated_model(model[0], tmp_path / "bomb.dlstat")  # 1e6 x 128 float16 zeros
    size = (tmp_path / "bomb.dlstat").stat().st_size
    assert size < 400_000
    peak = _traced_peak(_refused(bomb))
    assert peak < 20 * 2**20  # the file asks for 1.3 GB once widened to float64
    with pytest.raises(ModelFileError, match=r"is \d+ KiB, but its members unpack to 2\d\d MiB; "
                                             r"a model file may ask dlstat for at most 16 times"
                                             r" its size plus 64 MiB .*zip -0"):
        dl.load(bomb)


def test_weights_widened_to_float64_count_against_the_budget(model, tmp_path):
    from conftest import inflated_model

    bomb = inflated_model(model[0], tmp_path / "wide.dlstat", widths=(1_000_000, 8))
    # 34 MB of float16 unpacked is within the allowance; as float64 it is 137 MB
    peak = _traced_peak(_refused(bomb))
    assert peak < 20 * 2**20
    with pytest.raises(ModelFileError, match=r"is \d+\.\d KiB, but its arrays would take 137 "
                                             "MiB of memory once read"):
        dl.load(bomb)


def test_an_inflated_base_file_is_refused(model, tmp_path):
    from conftest import inflated_model

    bomb = inflated_model(model[0], tmp_path / "bomb.dlstat")
    with pytest.raises(ModelFileError, match="unpack to"):
        dl.dnn(FORMULA, model[1], base=bomb, verbose=0)
    with pytest.raises(ModelFileError, match="unpack to"):
        dl.base_features(bomb, model[1])


def test_a_saved_file_of_zeros_is_stored_so_that_it_always_loads(model, tmp_path, monkeypatch):
    from dlstat.results import archive

    monkeypatch.setattr(archive, "BUDGET_ALLOWANCE", 0)  # the budget is 16 x the file's size
    fit = dl.dnn("mpg ~ wt", dl.datasets.load("mtcars"), hidden=(200, 200), epochs=1,
                 verbose=0)
    for value in fit.params.values():
        value[...] = 0.0
    path = tmp_path / "zeros.dlstat"
    fit.save(path)
    with zipfile.ZipFile(path) as z:
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_STORED}
    back = dl.load(path)
    for key, value in fit.params.items():
        np.testing.assert_array_equal(back.params[key], value)
    deflated = tmp_path / "deflated.dlstat"
    _write(deflated, _members(path))  # the same arrays, compressed: over the budget
    with pytest.raises(ModelFileError, match="unpack to"):
        dl.load(deflated)


# -------------------------------------------------------- saving: atomic, and clear refusals


def test_a_failed_overwrite_leaves_the_old_file_intact(model, tmp_path, python_runner):
    """A file-size limit stops the write halfway: the old model must survive unchanged and no
    temporary file may be left behind."""
    old = tmp_path / "model.dlstat"
    dl.load(model[0]).save(old)
    before = old.read_bytes()
    mt = dl.datasets.load("mtcars")
    big = dl.dnn("mpg ~ wt + hp", mt, hidden=(64, 64), epochs=1, verbose=0)
    big.save(tmp_path / "big.dlstat")
    assert (tmp_path / "big.dlstat").stat().st_size > 3 * len(before)
    out = python_runner(f"""
        import resource
        import dlstat as dl
        fit = dl.load({str(tmp_path / 'big.dlstat')!r})
        limit = {2 * len(before)}
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        try:
            fit.save({str(old)!r})
        except dl.ModelFileError as exc:
            print("refused:", exc)
    """)
    assert "refused:" in out.stdout and "File too large" in out.stdout
    assert "the file already there is unchanged" in out.stdout
    assert old.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.dlstat", "model.dlstat"]
    np.testing.assert_array_equal(dl.load(old).predict(model[1], type="prob"),
                                  dl.load(model[0]).predict(model[1], type="prob"))


def test_a_writer_failing_halfway_leaves_the_old_file_intact(model, tmp_path, monkeypatch):
    old = tmp_path / "model.dlstat"
    dl.load(model[0]).save(old)
    before = old.read_bytes()

    def full_disk(fh, **arrays):
        fh.write(b"PK\x03\x04 half a model")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", full_disk)
    with pytest.raises(ModelFileError, match=r"No space left on device \(the file already "
                                             r"there is unchanged\)"):
        dl.load(model[0]).save(old)
    assert old.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.dlstat"]


def test_saving_keeps_permissions_and_writes_through_a_link(model, tmp_path):
    import os
    import stat

    target = tmp_path / "real.dlstat"
    dl.load(model[0]).save(target)
    target.chmod(0o640)
    link = tmp_path / "link.dlstat"
    link.symlink_to(target)
    dl.load(model[0]).save(link)
    assert link.is_symlink() and stat.S_IMODE(os.stat(target).st_mode) == 0o640


@pytest.mark.parametrize("where,message", [
    (lambda d: d, "it is a directory. Give a file name"),
    (lambda d: d / "no" / "such" / "m.dlstat", "there is no directory"),
    (lambda d: "/proc/dlstat-model.dlstat", "cannot create a file in '/proc'"),
])
def test_saving_where_a_file_cannot_be_written_is_a_clear_error(model, tmp_path, where,
                                                                 message):
    with pytest.raises(ModelFileError, match=message):
        dl.load(model[0]).save(where(tmp_path))


def test_saving_to_a_pipe_is_refused_not_blocked(model, tmp_path, python_runner):
    import os

    os.mkfifo(tmp_path / "pipe")  # opening it to write would wait for a reader forever
    out = python_runner(f"""
        import dlstat as dl
        try:
            dl.load({str(model[0])!r}).save({str(tmp_path / 'pipe')!r})
        except dl.ModelFileError as exc:
            print("refused:", exc)
    """, timeout=60)
    assert "refused:" in out.stdout and "not a regular file" in out.stdout
