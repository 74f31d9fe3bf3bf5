"""Shared helpers for dlstat's tests.

Nothing here imports TensorFlow: the formula and family tests must run without it, and the
engine is imported lazily by the fixtures of the modules that train networks.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The on-disk graph cache is tested on its own (test_graph_cache.py); elsewhere it would only
# add save time to a fresh CI machine.
os.environ.setdefault("DLSTAT_GRAPH_CACHE", "0")
_LIBRARY_PATH = os.environ.get("LD_LIBRARY_PATH")


@pytest.fixture(autouse=True)
def _library_path_as_before_r():
    """Tests that start R through rpy2 themselves leave R's LD_LIBRARY_PATH behind; a Python
    process started later (a Dask worker, a CLI run) would then load the system's libpython."""
    yield
    from dlstat.fronts.rpy2_bridge import restore_library_path

    restore_library_path(_LIBRARY_PATH)


def require(module: str):
    """Import ``module``; skip when absent on a developer's machine, fail in CI (CI=true),
    where every optional part (R, rpy2, glmnet) is installed and must be tested."""
    if os.environ.get("CI", "").lower() == "true":
        return __import__(module)
    return pytest.importorskip(module)

REPO = Path(__file__).resolve().parents[1]


def r_spelling(name: str) -> str:
    """A coefficient name of statsmodels (patsy: ``C(cyl)[T.6.0]``, ``I(hp ** 2)``) in R's
    spelling, which dlstat uses (``factor(cyl)6``, ``I(hp^2)``), spaces dropped; a name
    already in R's spelling is returned as it is (less its spaces)."""
    name = name.replace("`", "").replace("C(", "factor(").replace(" ", "").replace("**", "^")
    name = re.sub(r"\[T\.(-?\d+)\.0\]", r"[T.\1]", name)
    name = re.sub(r"\[T\.([^\]]*)\]", r"\1", name)
    return "(Intercept)" if name in ("Intercept", "(Intercept)") else name


def run_python(code: str, timeout: float = 120.0, cwd: str | Path | None = None,
               ) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (the same venv python) with the repository on the
    path; fail the calling test with its output when it exits non-zero."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH")
                                     else "")
    env["MPLBACKEND"] = "Agg"
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, cwd=str(cwd or REPO), env=env)
    if proc.returncode != 0:
        pytest.fail(f"subprocess failed (exit {proc.returncode}):\nSTDOUT:\n{proc.stdout}\n"
                    f"STDERR:\n{proc.stderr[-4000:]}")
    return proc


@pytest.fixture(scope="session")
def python_runner():
    """``run_python`` as a fixture (for tests that prefer injection to an import)."""
    return run_python


def small_regression(n: int = 120, seed: int = 1, noise: float = 0.5) -> pd.DataFrame:
    """A small non-linear regression problem with four numeric predictors (two are noise)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({f"x{j}": rng.normal(size=n) for j in range(1, 5)})
    df["y"] = np.sin(df["x1"]) + 0.5 * df["x2"] + rng.normal(scale=noise, size=n)
    return df


@pytest.fixture(scope="session")
def regression_data() -> pd.DataFrame:
    return small_regression()


def edit_model_spec(path, out, edit) -> str:
    """A copy of the model file ``path`` at ``out`` whose JSON spec ``edit(spec)`` changed in
    place (how a colleague's edited or hostile model file is made in the tests)."""
    import io
    import json
    import zipfile

    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    spec = json.loads(np.load(io.BytesIO(members["__dlstat_spec__.npy"])).tobytes())
    edit(spec)
    buf = io.BytesIO()
    np.save(buf, np.frombuffer(json.dumps(spec).encode(), dtype=np.uint8))
    members["__dlstat_spec__.npy"] = buf.getvalue()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, blob in members.items():
            z.writestr(name, blob)
    return str(out)
