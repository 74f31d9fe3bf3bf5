"""Model files: one ``.npz`` archive holding a JSON spec (formula, levels, scaling, family,
architecture, options, fit record) and the weights as plain arrays.

Loading never unpickles and trusts nothing: a lab shares model files, and a file may have been
edited.  Sizes are read from the archive's headers and checked before anything is allocated,
the spec is vetted as strictly as a typed formula (``formula/stored.py``), every weight must
have exactly the shape the architecture implies, and the design is replayed once on a probe
row.  Anything else is refused with :class:`ModelFileError` before a formula is evaluated.
This module builds plain parts; ``results/fit.py`` turns them into a ``DNNFit``.
"""

from __future__ import annotations

import json
import math
import warnings
import zipfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import architecture
from ..engine.layers import param_defs
from ..engine.network import Params, Topology
from ..errors import DlstatError, ModelFileError
from ..families import Family
from ..fitting.resolve import resolve_options
from ..formula import DesignSpec
from ..formula.arrays import ArraySpec
from ..formula.stored import design_from_file
from ..options import FitOptions
from .record import FitRecord

FORMAT = "dlstat-model"
VERSION = 1
_SPEC_KEY = "__dlstat_spec__"
MAX_SPEC_BYTES = 64 * 2**20
MAX_WEIGHT_BYTES = 8 * 2**30
MAX_RATIO = 1100  # deflate cannot compress more than ~1032:1; a header claiming more lies
MAX_UNITS = 1_000_000
_NOT_STORED = ("layers", "architecture", "validation", "test", "base", "upto", "freeze",
               "client")
_LAYERS = architecture.SPEC_TABLE


@dataclass
class SavedInference:
    """A GLM's covariance (original coefficient scale) and log-likelihood at the fit, kept in
    the file because the training rows they need are not."""

    vcov: np.ndarray
    loglik: float


@dataclass
class ModelParts:
    """Everything a model file holds, vetted."""

    spec: DesignSpec
    family: Family
    topology: Topology
    params: Params
    options: FitOptions
    history: pd.DataFrame
    record: FitRecord
    call: str
    inference: SavedInference | None = None


def write(parts: ModelParts, path: str | Path) -> None:
    """Write ``parts`` to ``path`` (any name; ``.dlstat`` is a good suffix)."""
    # The base of a transferred fit is not stored: its kept weights are the fit's own.
    opts = {f.name: getattr(parts.options, f.name) for f in fields(parts.options)
            if f.name not in _NOT_STORED}
    spec = {
        "format": FORMAT,
        "version": VERSION,
        "call": parts.call,
        "design": parts.spec.to_json(),
        "family": parts.family.to_json(),
        "topology": {"n_inputs": parts.topology.n_inputs,
                     "n_outputs": parts.topology.n_outputs,
                     "output_bias": parts.topology.output_bias,
                     "layers": architecture.to_json(parts.topology.layers),
                     "frozen": list(parts.topology.frozen)},
        "options": opts,
        "record": asdict(parts.record),
        "history": parts.history.to_dict(orient="list"),
    }
    if parts.inference is not None:
        spec["inference"] = {"vcov": parts.inference.vcov.tolist(),
                             "loglik": float(parts.inference.loglik)}
    blob = np.frombuffer(json.dumps(spec, allow_nan=True).encode("utf-8"), dtype=np.uint8)
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **{_SPEC_KEY: blob}, **parts.params)


def read(path: str | Path) -> ModelParts:
    """Read and vet a model written by ``fit.save()`` (in Python or R)."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"no model file at {str(path)!r}; check the path.")
    try:
        with zipfile.ZipFile(path) as archive:
            members = _members(archive, path.stat().st_size, str(path))
            spec = _spec(archive, members.pop(_SPEC_KEY), str(path))
            parts = _parts(spec, str(path))
            parts.params = _weights(archive, members, parts.topology, str(path))
            _check_aliased_weights(parts, str(path))
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError) as exc:
        raise ModelFileError(
            f"{str(path)!r} is not a dlstat model file, or it is damaged "
            f"({type(exc).__name__}: {exc}). Model files are written by fit.save() / "
            "save_dnn()."
        ) from None
    _probe(parts.spec, str(path))
    return parts


def _members(archive: zipfile.ZipFile, file_size: int, where: str) -> dict[str, zipfile.ZipInfo]:
    """The archive's arrays by name, refusing sizes the file cannot hold."""
    members: dict[str, zipfile.ZipInfo] = {}
    claimed = 0
    for info in archive.infolist():
        name = info.filename[:-4] if info.filename.endswith(".npy") else None
        if name is None or name in members or info.compress_size > file_size or \
                info.file_size > MAX_RATIO * info.compress_size + 2**20:
            raise ModelFileError(f"{where!r} holds an unexpected or oversized member "
                                 f"{info.filename[:80]!r}; it is not a dlstat model file.")
        members[name] = info
        claimed += info.file_size
    if _SPEC_KEY not in members:
        raise ModelFileError(f"{where!r} is not a dlstat model file (no dlstat spec inside).")
    if claimed > MAX_WEIGHT_BYTES or members[_SPEC_KEY].file_size > MAX_SPEC_BYTES:
        raise ModelFileError(f"{where!r} claims {claimed} bytes of arrays, more than a dlstat "
                             f"model file holds ({MAX_WEIGHT_BYTES}).")
    return members


def _array(archive: zipfile.ZipFile, info: zipfile.ZipInfo, shape: tuple[int, ...] | None,
           kind: str, where: str) -> np.ndarray:
    """One array, its header checked against ``shape`` and ``kind`` before it is read."""
    with archive.open(info) as fh:
        version = np.lib.format.read_magic(fh)
        header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                  else np.lib.format.read_array_header_2_0)
        found, _, dtype = header(fh, max_header_size=10_000)
        size = fh.tell() + math.prod(found) * dtype.itemsize
    name = info.filename[:-4]
    if dtype.kind != kind or dtype.hasobject or (shape is not None and found != shape) or \
            size != info.file_size or len(found) > 5:  # a 2-D kernel with its stack axis
        raise ModelFileError(
            f"array {name[:60]!r} in {where!r} has shape {found} and type {dtype}; the model "
            f"needs {shape or 'a byte string'} of {'numbers' if kind == 'f' else 'bytes'}.")
    with archive.open(info) as fh:
        return np.lib.format.read_array(fh, allow_pickle=False)


def _spec(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> dict[str, Any]:
    raw = _array(archive, info, None, "u", where)
    if raw.ndim != 1 or raw.dtype != np.uint8:
        raise ModelFileError(f"the spec inside {where!r} is not a byte string.")
    try:
        spec = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError, RecursionError) as exc:
        raise ModelFileError(f"the spec inside {where!r} is damaged: {exc}.") from None
    if not isinstance(spec, dict) or spec.get("format") != FORMAT or \
            not isinstance(spec.get("version"), int) or spec["version"] > VERSION:
        found = spec.get("format") if isinstance(spec, dict) else None
        version = spec.get("version") if isinstance(spec, dict) else None
        raise ModelFileError(
            f"{where!r} has format {found!r} version {version!r}; this dlstat reads "
            f"{FORMAT!r} up to version {VERSION}. Upgrade dlstat."
        )
    return spec


def _parts(spec: dict[str, Any], where: str) -> ModelParts:
    """Every part of the spec, vetted; weights are read afterwards."""
    try:
        design = design_from_file(spec["design"])
        family = Family.from_json(spec["family"])
        topology = _topology(spec["topology"], design, family)
        options = _options(spec["options"], topology)
        record = _record(spec["record"])
        history = _history(spec["history"])
        call = spec["call"]
        if not isinstance(call, str) or len(call) > 100_000:
            raise ValueError("the call is not text")
        _check_aliased(record.aliased, design, topology)
        inference = _inference(spec.get("inference"), design, family, topology,
                               len(record.aliased))
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, DlstatError) as exc:
        raise ModelFileError(f"the model file {where!r} is incomplete or inconsistent: "
                             f"{type(exc).__name__}: {exc}.") from None
    return ModelParts(design, family, topology, {}, options, history, record, call, inference)


def _check_aliased(aliased: Any, design: DesignSpec, topology: Topology) -> None:
    """The aliased columns of a GLM: distinct design positions in increasing order (none
    for a network)."""
    if not isinstance(aliased, list) or not all(
            isinstance(j, int) and not isinstance(j, bool) for j in aliased) or \
            aliased != sorted(set(aliased)) or (aliased and (
                aliased[0] < 0 or aliased[-1] >= design.n_columns or topology.layers)):
        raise ValueError(f"the aliased columns {str(aliased)[:80]} are not distinct columns "
                         "of a GLM's design")


def _inference(d: Any, design: DesignSpec, family: Family, topology: Topology,
               n_aliased: int = 0) -> SavedInference | None:
    """The saved covariance: a finite, symmetric matrix with a positive diagonal, one row per
    coefficient of a GLM that is not aliased (none for a network), and a finite
    log-likelihood."""
    if d is None:
        return None
    if topology.layers or not isinstance(d, dict) or set(d) != {"vcov", "loglik"}:
        raise ValueError("the saved inference is not a GLM's covariance and log-likelihood")
    free = family.free_outputs
    size = (design.n_columns + int(design.intercept) - n_aliased) * free
    rows = d["vcov"]
    if not (isinstance(rows, list) and len(rows) == size and all(
            isinstance(r, list) and len(r) == size and
            all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in r)
            for r in rows)) or not isinstance(d["loglik"], (int, float)):
        raise ValueError(f"the saved covariance is not a {size} x {size} matrix of numbers")
    vcov = np.array(rows, dtype=np.float64).reshape(size, size)
    if not (np.isfinite(vcov).all() and
            np.abs(vcov - vcov.T).max() <= 1e-8 * np.abs(vcov).max() and (np.diag(vcov) > 0).all() and math.isfinite(d["loglik"])):
        raise ValueError("the saved covariance is not finite and symmetric with a positive "
                         "diagonal, or the log-likelihood is not finite")
    return SavedInference(vcov, float(d["loglik"]))


def _topology(d: dict[str, Any], design: DesignSpec, family: Family) -> Topology:
    if not isinstance(d["layers"], list) or len(d["layers"]) > 1000:
        raise ValueError("the layers are not a list")
    layers = tuple(_layer(item) for item in d["layers"])
    if d["n_inputs"] != design.n_columns or d["n_outputs"] != family.n_outputs or \
            d["output_bias"] is not design.intercept:
        raise ValueError(
            f"the network takes {d['n_inputs']!r} inputs and gives {d['n_outputs']!r} outputs, "
            f"but the design has {design.n_columns} columns and the family "
            f"{family.n_outputs} outputs")
    frozen = d.get("frozen", [])  # absent in files written before transfer learning
    if not isinstance(frozen, list) or frozen != list(range(len(frozen))) or \
            len(frozen) > len(layers):
        raise ValueError(f"the frozen layers {str(frozen)[:80]} are not the first layers")
    return Topology(design.n_columns, layers, family.n_outputs, design.intercept,
                    tuple(frozen))


def _layer(item: Any) -> architecture.Layer:
    if not isinstance(item, dict) or item.get("kind") not in _LAYERS:
        raise ValueError(f"layer {str(item)[:80]} is not one of {sorted(_LAYERS)}")
    args = {k: v for k, v in item.items() if k != "kind"}
    row = _LAYERS[item["kind"]]
    width = row.width
    if width and not (isinstance(args.get(width), int) and args[width] <= MAX_UNITS):
        raise ValueError(f"{item['kind']} layer width {args.get(width)!r} is not 1 to "
                         f"{MAX_UNITS}")
    if row.nested and row.nested in args:
        args[row.nested] = _layer(args[row.nested])
    return row.from_fields(**args)


def _options(d: dict[str, Any], topology: Topology) -> FitOptions:
    known = {f.name for f in fields(FitOptions)} - set(_NOT_STORED)
    if not isinstance(d, dict) or not set(d) <= known:
        raise ValueError(f"unknown options {sorted(set(d) - known)[:10]}")
    options = FitOptions(**d)
    # The stored options are checked as typed ones; validation data is not stored, so a
    # stand-in lets early_stopping pass the check.
    options.validation = None if options.early_stopping is None else 0.5
    resolve_options(options)
    options.validation = None
    options.layers = topology.layers
    return options


def _record(d: dict[str, Any]) -> FitRecord:
    record = FitRecord(**d)
    whole = (record.n_obs, record.n_dropped, record.n_validation, record.epochs_run,
             record.best_epoch, record.n_zero_weight)
    if not all(isinstance(v, int) and v >= 0 for v in whole) or not all(
            isinstance(v, (int, float)) for v in (record.deviance, record.null_deviance)):
        raise ValueError("the fit record's counts or deviances are not numbers")
    if not isinstance(record.notes, list) or not all(isinstance(n, str) for n in record.notes):
        raise ValueError("the fit record's notes are not text")
    if not isinstance(record.metrics, dict) or not all(
            isinstance(m, dict) and all(isinstance(v, (int, float)) for v in m.values())
            for m in record.metrics.values()):
        raise ValueError("the fit record's metrics are not numbers")
    return record


def _history(d: dict[str, Any]) -> pd.DataFrame:
    if not isinstance(d, dict) or not set(d) <= {"epoch", "loss", "val_loss"} or not all(
            isinstance(v, list) and all(isinstance(x, (int, float)) for x in v)
            for v in d.values()):
        raise ValueError("the training history is not columns of numbers")
    return pd.DataFrame(d)


def _expected_shapes(topology: Topology) -> dict[str, tuple[int, ...]]:
    """The shape of every weight array a network of ``topology`` has (a stack of one)."""
    return {key: (1, *d.shape) for key, d in param_defs(topology).items()}


def _weights(archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo],
             topology: Topology, where: str) -> Params:
    expected = _expected_shapes(topology)
    if set(members) != set(expected):
        odd = sorted(set(members) ^ set(expected))[:6]
        raise ModelFileError(f"the weights in {where!r} do not match the architecture "
                             f"(missing or extra: {odd}); the file is damaged or was edited.")
    params = {}
    for name, shape in expected.items():
        values = _array(archive, members[name], shape, "f", where).astype(np.float64)
        if not np.isfinite(values).all():
            raise ModelFileError(f"weights {name!r} in {where!r} are not all finite.")
        params[name] = values
    return params


def _check_aliased_weights(parts: ModelParts, where: str) -> None:
    """An aliased column was left out of the fit: its weights are zero."""
    aliased = parts.record.aliased
    if aliased and np.any(parts.params[parts.topology.input_kernel()][:, aliased] != 0):
        raise ModelFileError(f"the weights in {where!r} give aliased columns {aliased[:10]} "
                             "a weight; the file is damaged or was edited.")


def _probe(spec: DesignSpec, where: str) -> None:
    """Replay the (vetted) design on one made-up row: its columns must be the stored ones."""
    row = {v: [spec.levels[v][0] if spec.levels.get(v) else
               pd.Timestamp(0) if spec.kinds.get(v) == "date" else 1.0] for v in spec.variables}
    data = {**row, spec.name: np.zeros((1, *spec.shape))} if isinstance(spec, ArraySpec) else \
        pd.DataFrame(row)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spec.design(data, unseen="na", what="the model file's probe row")
    except Exception as exc:  # any failure to replay a vetted spec means it is inconsistent
        raise ModelFileError(f"the design stored in {where!r} is inconsistent: "
                             f"{type(exc).__name__}: {exc}") from None
