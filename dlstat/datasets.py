"""Small example tables from R's ``datasets`` package, and Fashion-MNIST.

The tables are R's own data, exported with ``Rscript dlstat/data/export_from_R.R`` (R 4.2.2):

* column names are exactly R's (``Sepal.Length``, ``Solar.R``, ...);
* factors are :class:`pandas.Categorical` with R's level order (ordered factors stay ordered);
* R integer columns are ``int64`` (``Int64`` when they hold NA), R doubles are ``float64`` --
  so ``mtcars$cyl`` and ``InsectSprays$count`` are ``float64``, as in R;
* NA stays missing (``airquality``: 37 NA in ``Ozone``, 7 in ``Solar.R``);
* meaningful row names become the index: ``mtcars`` is indexed by ``model`` (car name) and
  ``swiss`` by ``province``; ``df.reset_index()`` turns them into an ordinary first column.
  Tables whose R row names are just ``1..n`` get a default ``RangeIndex``.

Every call returns a fresh copy, so mutating one frame never changes the next one.

>>> from dlstat import datasets
>>> datasets.load("iris").shape
(150, 5)
>>> datasets.mtcars().index.name
'model'
"""

from __future__ import annotations

import difflib
import functools
import gzip
import json
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError, DatasetError, OptionError, OptionTypeError

DATA_DIR = Path(__file__).resolve().with_name("data")
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
_FASHION_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


@functools.lru_cache(maxsize=1)
def _meta() -> dict[str, dict]:
    file = DATA_DIR / "_meta.json"
    try:
        return json.loads(file.read_text(encoding="utf-8"))["datasets"]
    except FileNotFoundError:
        raise DatasetError(
            f"dlstat's data index {str(file)!r} is missing; the installation is incomplete: "
            "reinstall dlstat (its package data must include dlstat/data/*.csv and *.json)"
        ) from None


def available() -> list[str]:
    """Names of the built-in tables, sorted (plain code-point order: "InsectSprays" < "airquality").

    Returns
    -------
    list of str
        Names accepted by :func:`load`, spelled as in R (``"ToothGrowth"``).
    """
    return sorted(_meta())


def _spec(name: str) -> dict:
    if not isinstance(name, str):
        raise OptionTypeError(
            f"data set name must be a string, got {type(name).__name__} {name!r}; "
            f"use one of {available()}"
        )
    meta = _meta()
    if name in meta:
        return meta[name]
    names = available()
    lower = {n.lower(): n for n in names}
    close = difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=0.6)
    hint = f"did you mean {lower[close[0]]!r}? " if close else ""
    raise DatasetError(
        f"unknown data set {name!r}; {hint}available data sets: {', '.join(names)} "
        "(names are case-sensitive, as in R)"
    )


@functools.cache
def _read(name: str) -> pd.DataFrame:
    spec = _spec(name)
    columns = spec["columns"]
    index = spec["index"]
    file = DATA_DIR / spec["file"]
    dtypes: dict[str, str] = {"factor": "object", "integer": "Int64", "double": "float64"}
    dtype = {c["name"]: dtypes[c["type"]] for c in columns}
    if index is not None:
        dtype[index] = "str"
    try:
        df = pd.read_csv(file, dtype=dtype, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise DatasetError(
            f"data file {str(file)!r} of data set {name!r} is missing; reinstall dlstat "
            "(its package data must include dlstat/data/*.csv)"
        ) from None
    expected = ([index] if index is not None else []) + [c["name"] for c in columns]
    if list(df.columns) != expected or len(df) != spec["nrow"]:
        raise DataError(
            f"data file {str(file)!r} is damaged: got {len(df)} rows and columns "
            f"{list(df.columns)}, expected {spec['nrow']} rows and {expected}; reinstall dlstat"
        )
    for col in columns:
        name_, kind = col["name"], col["type"]
        if kind == "factor":
            values = df[name_]
            cat = pd.Categorical(values, categories=col["levels"], ordered=col["ordered"])
            bad = values.notna() & pd.isna(cat)
            if bad.any():
                raise DataError(
                    f"data file {str(file)!r} is damaged: column {name_!r} holds "
                    f"{sorted(set(values[bad]))}, not among the levels {col['levels']}; "
                    "reinstall dlstat"
                )
            df[name_] = cat
        elif kind == "integer" and not df[name_].hasnans:
            df[name_] = df[name_].astype("int64")
    if index is not None:
        df = df.set_index(index)
    return df


def load(name: str) -> pd.DataFrame:
    """Load a built-in table from R's ``datasets`` package.

    Parameters
    ----------
    name : str
        The R name, case-sensitive: one of :func:`available` (e.g. ``"mtcars"``, ``"iris"``,
        ``"ToothGrowth"``).

    Returns
    -------
    pandas.DataFrame
        A fresh copy (mutating it does not affect later loads).  Factors are categorical with
        R's level order; ``mtcars`` is indexed by ``model`` and ``swiss`` by ``province``.

    Raises
    ------
    DatasetError
        If `name` is unknown; the message lists the available names and the closest one.
    """
    _spec(name)  # validate before the cache sees the name
    return _read(name).copy(deep=True)


def describe(name: str) -> str:
    """One line describing a built-in table: size, R title and a typical model.

    Parameters
    ----------
    name : str
        One of :func:`available`.

    Returns
    -------
    str
        E.g. ``"iris: 150 rows x 5 columns -- Edgar Anderson's Iris Data; multinomial ..."``.
    """
    spec = _spec(name)
    index = f" (index {spec['index']!r})" if spec["index"] else ""
    return (f"{name}: {spec['nrow']} rows \u00d7 {spec['ncol']} columns{index} \u2014 "
            f"{spec['title']} (R datasets); {spec['hint']}")


def _loader(name: str, pyname: str) -> Callable[[], pd.DataFrame]:
    def loader() -> pd.DataFrame:
        return load(name)

    loader.__name__ = loader.__qualname__ = pyname
    loader.__doc__ = (f"R's ``{name}`` table: same as ``load({name!r})``.\n\n"
                      "Returns\n-------\npandas.DataFrame\n"
                      "    A fresh copy; see :func:`describe`.\n")
    return loader


mtcars = _loader("mtcars", "mtcars")
iris = _loader("iris", "iris")
tooth_growth = _loader("ToothGrowth", "tooth_growth")
airquality = _loader("airquality", "airquality")
warpbreaks = _loader("warpbreaks", "warpbreaks")
esoph = _loader("esoph", "esoph")
insect_sprays = _loader("InsectSprays", "insect_sprays")
faithful = _loader("faithful", "faithful")
trees = _loader("trees", "trees")
swiss = _loader("swiss", "swiss")
plant_growth = _loader("PlantGrowth", "plant_growth")
infert = _loader("infert", "infert")
sunspot_year = _loader("sunspot.year", "sunspot_year")


# --------------------------------------------------------------------------- Fashion-MNIST


def _read_idx(file: Path, magic: int, n: int | None, shape: tuple[int, ...]) -> np.ndarray:
    """Read the first `n` items (all if None) of a gzipped IDX file of unsigned bytes."""
    ndim = magic & 0xFF

    def damaged(problem: str) -> DataError:
        return DataError(
            f"Fashion-MNIST file {str(file)!r} is damaged: {problem}; delete it and reinstall "
            "the files (apt-get install --reinstall dataset-fashion-mnist) or pass path= "
            "a directory with intact copies"
        )

    try:
        with gzip.open(file, "rb") as fh:
            header = fh.read(4 + 4 * ndim)
            if len(header) < 4 + 4 * ndim:
                raise damaged(f"header is {len(header)} bytes, expected {4 + 4 * ndim}")
            got_magic, *dims = struct.unpack(f">{1 + ndim}I", header)
            if got_magic != magic:
                raise damaged(f"magic number is {got_magic}, expected {magic}")
            if tuple(dims[1:]) != shape:
                raise damaged(f"item shape is {tuple(dims[1:])}, expected {shape}")
            count = dims[0]
            if n is not None and n > count:
                raise OptionError(f"n={n} exceeds the {count} items in {str(file)!r}; "
                                  f"pass n <= {count} or n=None")
            take = count if n is None else n
            out = np.empty((take, *shape), dtype=np.uint8)
            view, got = memoryview(out.reshape(-1)), 0  # 1-D uint8: byte view
            while got < view.nbytes:
                k = fh.readinto(view[got:])
                if not k:
                    raise damaged(f"data ends after {got} of {view.nbytes} bytes "
                                  f"(header announces {count} items)")
                got += k
            if n is None and fh.read(1):
                raise damaged(f"data is longer than the {count} items the header announces")
    except (OSError, EOFError, zlib.error) as exc:
        raise damaged(f"{type(exc).__name__}: {exc}") from exc
    return out


def fashion_mnist(
    kind: str = "train",
    path: str | os.PathLike[str] | None = None,
    n: int | None = None,
    flatten: bool = False,
    as_frame: bool = False,
) -> tuple[np.ndarray, pd.Categorical] | pd.DataFrame:
    """Read Fashion-MNIST (Zalando's 28x28 grey clothing images, 10 classes) from IDX files.

    Parameters
    ----------
    kind : {"train", "test"}
        The 60000-image training set or the 10000-image test set.
    path : str or path-like, optional
        Directory holding ``train-images-idx3-ubyte.gz`` and the other three files.  Default:
        ``$DLSTAT_FASHION_MNIST`` if set, else ``/usr/share/datasets/fashion-mnist`` (Debian's
        ``dataset-fashion-mnist`` package).
    n : int, optional
        Read only the first `n` images (fast: the rest of the stream is not decompressed).
    flatten : bool
        Return images as ``[n, 784]`` instead of ``[n, 28, 28]``.
    as_frame : bool
        Return one DataFrame with ``uint8`` columns ``pixel1`` .. ``pixel784`` (raw 0-255,
        row-major) and a categorical ``label`` column.

    Returns
    -------
    (images, labels) or pandas.DataFrame
        `images` is a ``uint8`` array (0-255); `labels` is a :class:`pandas.Categorical` whose
        categories are ``dlstat.datasets.FASHION_MNIST_CLASSES`` (code 0 = "T-shirt/top" .. 9 = "Ankle boot").

    Raises
    ------
    DatasetError
        If the directory or a file is absent.
    DataError
        If a file is damaged (bad gzip stream, magic number, shape or length).
    """
    if kind not in _FASHION_FILES:
        raise OptionError(f"kind must be 'train' or 'test', got {kind!r}")
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer))):
        raise OptionTypeError(f"n must be an int or None, got {type(n).__name__} {n!r}")
    if n is not None and n < 0:
        raise OptionError(f"n must be >= 0, got {n}; pass n=None to read every image")
    if path is not None:
        directory, source = Path(path).expanduser(), "path="
    elif os.environ.get("DLSTAT_FASHION_MNIST"):
        directory = Path(os.environ["DLSTAT_FASHION_MNIST"]).expanduser()
        source = "$DLSTAT_FASHION_MNIST"
    else:
        directory, source = FASHION_MNIST_DIR, "the default directory"
    files = [directory / f for f in _FASHION_FILES[kind]]
    for file in files:
        if not file.is_file():
            raise DatasetError(
                f"Fashion-MNIST {kind} file {file.name!r} not found in {str(directory)!r} "
                f"(from {source}); install Debian's dataset-fashion-mnist package "
                "(apt-get install dataset-fashion-mnist) or pass path= a directory holding "
                "the four *-ubyte.gz files (or set DLSTAT_FASHION_MNIST)"
            )
    images = _read_idx(files[0], 2051, n, (28, 28))
    codes = _read_idx(files[1], 2049, n, ())
    if len(images) != len(codes):
        raise DataError(f"Fashion-MNIST {kind} files disagree: {len(images)} images but "
                        f"{len(codes)} labels in {str(directory)!r}; reinstall the files")
    if codes.size and codes.max() >= len(FASHION_MNIST_CLASSES):
        raise DataError(f"Fashion-MNIST file {str(files[1])!r} is damaged: label "
                        f"{int(codes.max())} is not in 0..9; reinstall the files")
    labels = pd.Categorical.from_codes(codes.astype(np.int8),
                                       categories=list(FASHION_MNIST_CLASSES))
    if as_frame:
        columns = [f"pixel{i}" for i in range(1, 28 * 28 + 1)]
        frame = pd.DataFrame(images.reshape(len(images), -1), columns=columns, copy=False)
        frame["label"] = labels
        return frame
    return (images.reshape(len(images), -1) if flatten else images), labels


# --------------------------------------------------------------------------- sequences


@dataclass(frozen=True)
class SeriesWindows:
    """A series cut into windows ``X [n, steps, 1]`` and next-step targets ``y [n]``, split in
    time order: every training target comes before every test target.  ``t_train`` and
    ``t_test`` are the targets' times (the series' index, or positions)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    t_train: np.ndarray
    t_test: np.ndarray


def series_windows(series: Any, steps: int, test: float = 0.2) -> SeriesWindows:
    """Windows of ``steps`` consecutive values and the value after each, for forecasting.

    Parameters
    ----------
    series : 1-D array-like or pandas.Series
        Equally spaced values in time order, without missing values.
    steps : int
        The window length ``T``: each target is predicted from the ``T`` values before it.
    test : float, default 0.2
        The fraction of targets, the latest ones, held out as the test part.  A test window's
        inputs may reach back into the training period (those values are known by then); no
        training window sees a test target.

    Returns
    -------
    SeriesWindows
        ``X_train [n, steps, 1]``, ``y_train [n]``, ``X_test``, ``y_test`` and the targets'
        times; the arrays go straight to ``dl.DNNRegressor(architecture=[dl.lstm(8)])``.

    >>> w = series_windows(sunspot_year().set_index("year")["sunspots"], steps=10)
    >>> w.X_train.shape, w.t_test[0]
    ((223, 10, 1), 1933)
    """
    times = np.asarray(series.index) if isinstance(series, pd.Series) else None
    values = np.asarray(series, dtype=np.float64) if _is_numeric(series) else None
    if values is None or values.ndim != 1 or not np.isfinite(values).all():
        raise DataError("series_windows() needs a 1-D series of finite numbers in time order; "
                        f"got {_shown(series)}. Fill or drop missing values first.")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise OptionError(f"series_windows() needs steps a whole number >= 1; got {steps!r}.")
    if isinstance(test, bool) or not isinstance(test, (int, float)) or not 0 <= test < 1:
        raise OptionError(f"series_windows() needs test a fraction in [0, 1); got {test!r}.")
    n = len(values) - steps
    n_test = int(round(test * n))
    if n - n_test < 1:
        raise DataError(f"series_windows() got {len(values)} values: with steps={steps} and "
                        f"test={test} no training window is left. Use fewer steps.")
    X = np.lib.stride_tricks.sliding_window_view(values, steps)[:n, :, None].copy()
    y, t = values[steps:], (times if times is not None else np.arange(len(values)))[steps:]
    cut = n - n_test
    return SeriesWindows(X[:cut], y[:cut], X[cut:], y[cut:], t[:cut], t[cut:])


def _is_numeric(series: Any) -> bool:
    try:
        return np.asarray(series).dtype.kind in "biuf"
    except (TypeError, ValueError):
        return False


def _shown(series: Any) -> str:
    array = np.asarray(series, dtype=object)
    return f"{type(series).__name__} of shape {list(array.shape)}"


from .sequence_datasets import (  # noqa: E402  (sequence data sets live in their own module)
    SPLICE_CLASSES,
    TF_MOTIF,
    TF_SEED,
    TFBinding,
    splice,
    tf_binding,
)

__all__ = [
    "SPLICE_CLASSES", "TFBinding", "TF_MOTIF", "TF_SEED", "splice", "tf_binding",
    "FASHION_MNIST_CLASSES", "airquality", "available", "describe", "esoph", "faithful",
    "fashion_mnist", "infert", "insect_sprays", "iris", "load", "mtcars", "plant_growth",
    "swiss", "tooth_growth", "trees", "warpbreaks",
    "SeriesWindows", "series_windows", "sunspot_year",
]
