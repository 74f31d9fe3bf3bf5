"""Model files: one ``.npz`` archive holding a JSON spec (formula, levels, scaling, family,
architecture, options, fit record) and the weights as plain arrays.  Loading never unpickles."""

from __future__ import annotations

import json
import zipfile
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from .. import architecture
from ..engine.network import Topology
from ..errors import ModelFileError
from ..families import Family
from .fit import DNNFit, FitRecord
from ..formula import DesignSpec
from ..options import FitOptions

FORMAT = "dlstat-model"
VERSION = 1
_SPEC_KEY = "__dlstat_spec__"


def save(fit: DNNFit, path: str | Path) -> None:
    """Write ``fit`` to ``path`` (any name; ``.dlstat`` is a good suffix)."""
    opts = {k: v for k, v in asdict(fit.options).items()
            if k not in ("layers", "architecture", "validation", "test")}
    spec = {
        "format": FORMAT,
        "version": VERSION,
        "call": fit.call,
        "design": fit.spec.to_json(),
        "family": fit.family.to_json(),
        "topology": {"n_inputs": fit.topology.n_inputs, "n_outputs": fit.topology.n_outputs,
                     "output_bias": fit.topology.output_bias,
                     "layers": architecture.to_json(fit.topology.layers)},
        "options": opts,
        "record": asdict(fit.record),
        "history": fit.history.to_dict(orient="list"),
    }
    blob = np.frombuffer(json.dumps(spec, allow_nan=True).encode("utf-8"), dtype=np.uint8)
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **{_SPEC_KEY: blob}, **fit.params)


def load(path: str | Path) -> DNNFit:
    """Read a model written by ``fit.save()`` (in Python or R)."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"no model file at {str(path)!r}; check the path.")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise ModelFileError(
            f"{str(path)!r} is not a dlstat model file ({type(exc).__name__}: {exc}). Model files "
            "are written by fit.save() / save_dnn()."
        ) from None
    if _SPEC_KEY not in arrays:
        raise ModelFileError(f"{str(path)!r} is a NumPy archive but not a dlstat model file "
                             "(no dlstat spec inside).")
    try:
        spec = json.loads(arrays.pop(_SPEC_KEY).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"the spec inside {str(path)!r} is damaged: {exc}.") from None
    if spec.get("format") != FORMAT or spec.get("version", 0) > VERSION:
        raise ModelFileError(
            f"{str(path)!r} has format {spec.get('format')!r} version {spec.get('version')!r}; "
            f"this dlstat reads {FORMAT!r} up to version {VERSION}. Upgrade dlstat."
        )
    try:
        topo = spec["topology"]
        topology = Topology(topo["n_inputs"], architecture.from_json(topo["layers"]),
                            topo["n_outputs"], topo["output_bias"])
        options = FitOptions(**spec["options"])
        options.layers = topology.layers
        return DNNFit(
            spec=DesignSpec.from_json(spec["design"]),
            family=Family.from_json(spec["family"]),
            topology=topology,
            params={k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()},
            options=options,
            history=pd.DataFrame(spec["history"]),
            record=FitRecord(**spec["record"]),
            call=spec["call"],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"the model file {str(path)!r} is incomplete or damaged: "
                             f"{type(exc).__name__}: {exc}.") from None
