"""Tests for dlstat.datasets: R's tables and the Fashion-MNIST reader."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dlstat import datasets
from dlstat.errors import DataError, DatasetError, DlstatError, OptionError, OptionTypeError

SHAPES = {
    "mtcars": (32, 11), "iris": (150, 5), "ToothGrowth": (60, 3), "airquality": (153, 6),
    "warpbreaks": (54, 3), "esoph": (88, 5), "InsectSprays": (72, 2), "faithful": (272, 2),
    "trees": (31, 3), "swiss": (47, 6), "PlantGrowth": (30, 2), "infert": (248, 8),
    "sunspot.year": (289, 2),
}
LEVELS = {
    ("iris", "Species"): ["setosa", "versicolor", "virginica"],
    ("ToothGrowth", "supp"): ["OJ", "VC"],
    ("warpbreaks", "wool"): ["A", "B"],
    ("warpbreaks", "tension"): ["L", "M", "H"],
    ("InsectSprays", "spray"): ["A", "B", "C", "D", "E", "F"],
    ("PlantGrowth", "group"): ["ctrl", "trt1", "trt2"],
    ("infert", "education"): ["0-5yrs", "6-11yrs", "12+ yrs"],
    ("esoph", "agegp"): ["25-34", "35-44", "45-54", "55-64", "65-74", "75+"],
    ("esoph", "alcgp"): ["0-39g/day", "40-79", "80-119", "120+"],
    ("esoph", "tobgp"): ["0-9g/day", "10-19", "20-29", "30+"],
}
CONVENIENCE = {
    "mtcars": datasets.mtcars, "iris": datasets.iris, "ToothGrowth": datasets.tooth_growth,
    "airquality": datasets.airquality, "warpbreaks": datasets.warpbreaks,
    "esoph": datasets.esoph, "InsectSprays": datasets.insect_sprays,
    "faithful": datasets.faithful, "trees": datasets.trees, "swiss": datasets.swiss,
    "PlantGrowth": datasets.plant_growth, "infert": datasets.infert,
    "sunspot.year": datasets.sunspot_year,
}
FMNIST = Path("/usr/share/datasets/fashion-mnist")
needs_fmnist = pytest.mark.skipif(
    not (FMNIST / "train-labels-idx1-ubyte.gz").is_file(),
    reason="Debian's dataset-fashion-mnist is not installed",
)


# ------------------------------------------------------------------------------- R tables


def test_available_is_sorted_and_complete() -> None:
    names = datasets.available()
    assert names == sorted(names)
    assert set(names) == set(SHAPES)


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_shape_and_convenience_function(name: str) -> None:
    df = datasets.load(name)
    assert isinstance(df, pd.DataFrame)
    assert df.shape == SHAPES[name]
    pd.testing.assert_frame_equal(CONVENIENCE[name](), df)
    line = datasets.describe(name)
    assert "\n" not in line
    assert f"{SHAPES[name][0]} rows" in line and f"{SHAPES[name][1]} columns" in line


def test_column_names_and_dtypes_follow_r() -> None:
    iris = datasets.iris()
    assert list(iris.columns) == ["Sepal.Length", "Sepal.Width", "Petal.Length",
                                  "Petal.Width", "Species"]
    assert (iris.dtypes.iloc[:4] == np.float64).all()
    swiss = datasets.swiss()
    assert swiss["Examination"].dtype == np.int64  # R integer
    assert swiss["Fertility"].dtype == np.float64  # R double
    assert datasets.insect_sprays()["count"].dtype == np.float64  # double in R too
    assert datasets.infert()["stratum"].dtype == np.int64


def test_row_names_become_named_index() -> None:
    mt = datasets.mtcars()
    assert mt.index.name == "model"
    assert mt.index[0] == "Mazda RX4" and mt.index[-1] == "Volvo 142E"
    assert mt.loc["Mazda RX4", "mpg"] == 21.0
    assert mt["mpg"].mean() == pytest.approx(20.090625)
    assert set(mt["am"]) == {0.0, 1.0}
    assert datasets.swiss().index.name == "province"
    assert isinstance(datasets.iris().index, pd.RangeIndex)


def test_values_are_exact() -> None:
    assert datasets.mtcars().loc["Mazda RX4 Wag", "wt"] == 2.875
    assert datasets.faithful()["eruptions"].iloc[0] == 3.6
    assert datasets.swiss().loc["Courtelary", "Catholic"] == 9.96


@pytest.mark.parametrize(("name", "column"), sorted(LEVELS))
def test_factor_levels_in_r_order(name: str, column: str) -> None:
    col = datasets.load(name)[column]
    assert isinstance(col.dtype, pd.CategoricalDtype)
    assert list(col.cat.categories) == LEVELS[(name, column)]
    assert col.cat.ordered == (name == "esoph")
    assert col.notna().all()


def test_airquality_keeps_missing_values() -> None:
    aq = datasets.airquality()
    assert aq["Ozone"].dtype == "Int64"
    assert aq["Ozone"].isna().sum() == 37
    assert aq["Solar.R"].isna().sum() == 7
    assert aq["Temp"].dtype == np.int64
    assert aq["Wind"].dtype == np.float64


def test_infert_is_binary() -> None:
    assert set(datasets.infert()["case"]) == {0.0, 1.0}


def test_loads_are_independent_copies() -> None:
    first = datasets.load("iris")
    first.loc[0, "Sepal.Length"] = -1.0
    first["Species"] = first["Species"].cat.rename_categories(["a", "b", "c"])
    first["extra"] = 1
    mt = datasets.mtcars()
    mt.index = range(32)
    second = datasets.load("iris")
    assert second.loc[0, "Sepal.Length"] == 5.1
    assert list(second["Species"].cat.categories) == ["setosa", "versicolor", "virginica"]
    assert "extra" not in second
    assert datasets.mtcars().index[0] == "Mazda RX4"


def test_unknown_name_lists_available_and_suggests() -> None:
    with pytest.raises(DatasetError) as info:
        datasets.load("mtcar")
    msg = str(info.value)
    assert "'mtcar'" in msg and "did you mean 'mtcars'" in msg
    assert all(name in msg for name in SHAPES)
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, DlstatError)
    with pytest.raises(DatasetError, match="did you mean 'ToothGrowth'"):
        datasets.load("toothgrowth")
    with pytest.raises(DatasetError, match="unknown data set 'zzzz'"):
        datasets.describe("zzzz")
    with pytest.raises(OptionTypeError, match="string"):
        datasets.load(["iris"])  # type: ignore[arg-type]


def test_package_data_is_small() -> None:
    files = list(datasets.DATA_DIR.glob("*.csv")) + list(datasets.DATA_DIR.glob("*.json"))
    assert len(files) == len(SHAPES) + 1
    assert sum(f.stat().st_size for f in files) < 1_000_000


# -------------------------------------------------------------------------- Fashion-MNIST


def _write_idx(file: Path, magic: int, dims: tuple[int, ...], data: bytes) -> None:
    with gzip.open(file, "wb") as fh:
        fh.write(struct.pack(f">{1 + len(dims)}I", magic, *dims) + data)


def _fake_fmnist(directory: Path, n: int = 3, kind: str = "train") -> np.ndarray:
    prefix = "train" if kind == "train" else "t10k"
    images = np.arange(n * 784, dtype=np.uint32).reshape(n, 28, 28) % 256
    _write_idx(directory / f"{prefix}-images-idx3-ubyte.gz", 2051, (n, 28, 28),
               images.astype(np.uint8).tobytes())
    _write_idx(directory / f"{prefix}-labels-idx1-ubyte.gz", 2049, (n,),
               bytes(i % 10 for i in range(n)))
    return images.astype(np.uint8)


def test_fake_files_round_trip(tmp_path: Path) -> None:
    expected = _fake_fmnist(tmp_path, 12, kind="test")
    images, labels = datasets.fashion_mnist("test", path=tmp_path)
    np.testing.assert_array_equal(images, expected)
    assert list(labels.codes) == [i % 10 for i in range(12)]
    assert list(labels.categories) == list(datasets.FASHION_MNIST_CLASSES)
    images, labels = datasets.fashion_mnist("test", path=str(tmp_path), n=2)
    assert images.shape == (2, 28, 28) and len(labels) == 2


@needs_fmnist
def test_fashion_mnist_header_counts_and_first_label() -> None:
    images, labels = datasets.fashion_mnist("train")
    assert images.shape == (60000, 28, 28) and len(labels) == 60000
    assert labels.codes[0] == 9 and labels[0] == "Ankle boot"
    images, labels = datasets.fashion_mnist("test")
    assert images.shape == (10000, 28, 28) and len(labels) == 10000
    assert images.dtype == np.uint8
    assert images.min() == 0 and images.max() == 255
    assert sorted(pd.Series(labels).value_counts()) == [1000] * 10


@needs_fmnist
def test_fashion_mnist_small_n_labels_and_pixels() -> None:
    images, labels = datasets.fashion_mnist(n=5)
    assert images.shape == (5, 28, 28) and images.dtype == np.uint8
    assert isinstance(labels, pd.Categorical)
    assert list(labels.categories) == list(datasets.FASHION_MNIST_CLASSES)
    assert datasets.FASHION_MNIST_CLASSES[0] == "T-shirt/top"
    assert datasets.FASHION_MNIST_CLASSES[9] == "Ankle boot"
    assert labels[0] == "Ankle boot"
    assert 0 <= images.min() and images.max() <= 255 and images.max() > 0
    assert datasets.fashion_mnist(n=0)[0].shape == (0, 28, 28)


@needs_fmnist
def test_fashion_mnist_flatten_and_frame() -> None:
    images, _ = datasets.fashion_mnist("test", n=7)
    flat, _ = datasets.fashion_mnist("test", n=7, flatten=True)
    assert flat.shape == (7, 784)
    np.testing.assert_array_equal(flat, images.reshape(7, 784))
    frame = datasets.fashion_mnist("test", n=7, as_frame=True)
    assert isinstance(frame, pd.DataFrame) and frame.shape == (7, 785)
    assert list(frame.columns[:2]) == ["pixel1", "pixel2"] and frame.columns[783] == "pixel784"
    assert frame.columns[-1] == "label"
    assert (frame.dtypes.iloc[:784] == np.uint8).all()
    assert isinstance(frame["label"].dtype, pd.CategoricalDtype)
    np.testing.assert_array_equal(frame.iloc[:, :784].to_numpy(), flat)


@needs_fmnist
def test_fashion_mnist_env_var(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DLSTAT_FASHION_MNIST", str(FMNIST))
    assert len(datasets.fashion_mnist(n=3)[1]) == 3
    monkeypatch.setenv("DLSTAT_FASHION_MNIST", str(tmp_path))
    with pytest.raises(DatasetError, match="DLSTAT_FASHION_MNIST"):
        datasets.fashion_mnist(n=3)


def test_missing_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(DatasetError) as info:
        datasets.fashion_mnist(path=missing)
    msg = str(info.value)
    assert str(missing) in msg
    assert "apt-get install dataset-fashion-mnist" in msg and "path=" in msg
    assert isinstance(info.value, FileNotFoundError)


def test_bad_options(tmp_path: Path) -> None:
    _fake_fmnist(tmp_path, 3)
    with pytest.raises(OptionError, match="'validation'"):
        datasets.fashion_mnist("validation", path=tmp_path)
    with pytest.raises(OptionError, match="n=4 exceeds the 3"):
        datasets.fashion_mnist(path=tmp_path, n=4)
    with pytest.raises(OptionError, match="n must be >= 0"):
        datasets.fashion_mnist(path=tmp_path, n=-1)
    with pytest.raises(OptionTypeError, match="n must be an int"):
        datasets.fashion_mnist(path=tmp_path, n=2.5)  # type: ignore[arg-type]


def test_damaged_files(tmp_path: Path) -> None:
    _fake_fmnist(tmp_path, 3)
    images = tmp_path / "train-images-idx3-ubyte.gz"
    labels = tmp_path / "train-labels-idx1-ubyte.gz"

    images.write_bytes(b"this is not gzip data at all")
    with pytest.raises(DataError, match="damaged.*BadGzipFile"):
        datasets.fashion_mnist(path=tmp_path)

    _write_idx(images, 2049, (3, 28, 28), bytes(3 * 784))  # label magic on the image file
    with pytest.raises(DataError, match="magic number is 2049, expected 2051"):
        datasets.fashion_mnist(path=tmp_path)

    _write_idx(images, 2051, (3, 28, 27), bytes(3 * 784))
    with pytest.raises(DataError, match=r"shape is \(28, 27\)"):
        datasets.fashion_mnist(path=tmp_path)

    _write_idx(images, 2051, (60000, 28, 28), bytes(10 * 784))  # truncated
    with pytest.raises(DataError, match="data ends after 7840"):
        datasets.fashion_mnist(path=tmp_path)

    good = gzip.compress(struct.pack(">4I", 2051, 3, 28, 28) + bytes(3 * 784))
    images.write_bytes(good[: len(good) // 2])  # cut gzip stream
    with pytest.raises(DataError, match="damaged"):
        datasets.fashion_mnist(path=tmp_path)

    _fake_fmnist(tmp_path, 3)
    _write_idx(labels, 2049, (3,), bytes([0, 1, 12]))
    with pytest.raises(DataError, match="label 12 is not in 0..9"):
        datasets.fashion_mnist(path=tmp_path)

    _write_idx(labels, 2049, (2,), bytes([0, 1]))
    with pytest.raises(DataError, match="3 images but 2 labels"):
        datasets.fashion_mnist(path=tmp_path)
