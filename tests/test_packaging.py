"""What ``pip install dlstat`` gives: TensorFlow as a regular dependency, the extras, one version.

``pip install dlstat`` alone must fit a network, so TensorFlow is a requirement (the regular
wheel; the CPU-only wheel is documented in docs/getting_started.md).  The Python package, the R
package and the changelog carry the same version.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import dlstat

REPO = Path(__file__).resolve().parents[1]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~ ;]", r, maxsplit=1)[0].lower() for r in requirements}


def test_tensorflow_is_a_regular_dependency():
    names = _names(PROJECT["dependencies"])
    assert "tensorflow" in names, "pip install dlstat alone must train: tensorflow is required"
    assert {"keras", "numpy", "pandas", "formulaic", "statsmodels"} <= names


def test_the_extras():
    extras = PROJECT["optional-dependencies"]
    assert {"r", "dask", "docs", "dev"} <= set(extras)
    assert "rpy2" in _names(extras["r"])
    assert extras["dask"] == ["dask>=2024.8", "distributed>=2024.8"]
    assert {"sphinx", "pydata-sphinx-theme", "numpydoc", "myst-nb", "ipykernel", "rpy2",
            "selenium"} <= _names(extras["docs"])


def test_one_version_everywhere():
    assert PROJECT["version"] == dlstat.__version__
    description = (REPO / "DESCRIPTION").read_text(encoding="utf-8")
    assert re.search(rf"^Version: {re.escape(dlstat.__version__)}$", description, re.M)
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{dlstat.__version__}]" in changelog


def test_the_command_line_is_installed():
    assert PROJECT["scripts"]["dlstat"] == "dlstat.fronts.cli:main"


def test_no_tracked_file_holds_merge_conflict_markers():
    """A merge left unresolved (both sides kept with git's markers) must not land."""
    import subprocess

    found = subprocess.run(["git", "grep", "-n", "-E", "^(<{7} |={7}$|>{7} )", "--", "."],
                           cwd=REPO, capture_output=True, text=True)
    if found.returncode not in (0, 1):
        pytest.skip("not a git checkout")
    assert found.stdout == "", found.stdout
