"""Hostile model files for the Python and R tests: small files whose headers ask dlstat to
allocate far more memory than they hold (TensorFlow-free).  It lives beside the R tests, which
import it through reticulate (and R CMD build keeps it); conftest.py loads it for pytest.

``inflated_model(good, out)`` keeps the spec of the model file ``good`` (a network of any
inputs and outputs) but gives it dense layers of ``widths`` and weights of zeros in ``dtype``,
deflated: with the default widths (1e6, 128) in float16 a 0.26 MB file asks for 1.3 GB.
"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np

SPEC = "__dlstat_spec__.npy"


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def inflated_model(good: str, out: str, widths=(1_000_000, 128), dtype: str = "float16") -> str:
    """A copy of the model file ``good`` at ``out`` with dense layers of ``widths`` whose
    weights are zeros of ``dtype``; returns ``out``."""
    from dlstat import architecture
    from dlstat.engine.layers import param_defs
    from dlstat.engine.network import Topology

    with zipfile.ZipFile(good) as z:
        spec = json.loads(np.load(io.BytesIO(z.read(SPEC))).tobytes())
    top = spec["topology"]
    top["layers"] = [{"kind": "dense", "units": int(w), "activation": "relu"} for w in widths]
    top["frozen"] = []
    topology = Topology(top["n_inputs"], tuple(architecture.dense(int(w)) for w in widths),
                        top["n_outputs"], top["output_bias"])
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr(SPEC, _npy(np.frombuffer(json.dumps(spec).encode(), dtype=np.uint8)))
        for key, d in param_defs(topology).items():
            z.writestr(key + ".npy", _npy(np.zeros((1, *d.shape), dtype=dtype)))
    return str(out)
