"""The Python vignettes (vignettes/python/NN_*.py) run top to bottom.

Each vignette asserts the course's claims as it goes (the XOR table, the softmax and MSE
worked examples, the GLM equivalences, ...), so a regression in dlstat makes its script exit
non-zero.  Every script runs in a fresh interpreter, from an empty working directory, with a
private temporary directory for its figures and a small Fashion-MNIST subset
(``DLSTAT_VIGNETTE_N``), so the whole module takes about two minutes on two cores.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
VIGNETTES = REPO / "vignettes" / "python"
SCRIPTS = sorted(VIGNETTES.glob("[0-9][0-9]_*.py"))
SMALL_N = "2000"  # Fashion-MNIST images: 2000 training, 500 test
TIMEOUT = 300  # seconds per script; a fresh interpreter imports TensorFlow (~8 s)


def test_vignettes_present():
    names = [s.name for s in SCRIPTS]
    numbers = [n[:2] for n in names]
    assert {"01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11"} <= set(numbers), names
    assert len(set(numbers)) == len(numbers), names  # one vignette per number


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_vignette_is_a_percent_notebook(script: Path):
    text = script.read_text(encoding="utf-8")
    assert text.startswith("# %% [markdown]"), "a vignette opens with a markdown cell"
    assert len(re.findall(r"^# %%$", text, flags=re.M)) >= 3, "code cells ('# %%')"
    assert "assert " in text, "a vignette checks its claims"
    assert "savefig(" not in text or "tempfile" in text, "figures only into a temp dir"


def test_readme_lists_every_vignette():
    readme = (VIGNETTES / "README.md").read_text(encoding="utf-8")
    for script in SCRIPTS:
        assert script.name in readme, f"{script.name} is missing from vignettes/python/README.md"


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_vignette_runs(script: Path, tmp_path: Path):
    workdir = tmp_path / "cwd"
    scratch = tmp_path / "tmp"
    workdir.mkdir()
    scratch.mkdir()
    env = dict(os.environ)
    env.update({
        "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "DLSTAT_VIGNETTE_N": SMALL_N,
        "PYTHONPATH": str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH")
                                   else ""),
        "TMPDIR": str(scratch),  # tempfile.mkdtemp() for figures lands here
    })
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(script)], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        pytest.fail(f"{script.name} failed (exit {proc.returncode}) after {seconds:.0f} s\n"
                    f"--- stdout (end) ---\n{proc.stdout[-6000:]}\n"
                    f"--- stderr (end) ---\n{proc.stderr[-6000:]}")
    assert proc.stdout.strip(), f"{script.name} printed nothing"
    assert list(workdir.iterdir()) == [], "a vignette must not write into its working directory"
    print(f"{script.name}: {seconds:.1f} s")


# The R vignettes (vignettes/*.Rmd, built and run by R CMD check in scripts/r-check.sh) that
# mirror Python vignettes: each Python topic has its R counterpart.
R_COUNTERPARTS = {"06": ["fashion-mnist.Rmd"], "07": ["inference.Rmd"],
                  "08": ["convolution.Rmd", "cnn-fashion-mnist.Rmd"], "09": ["recurrent.Rmd"],
                  "10": ["transfer.Rmd"],
                  "11": ["genomics.Rmd"]}


@pytest.mark.parametrize("number,names", R_COUNTERPARTS.items(), ids=list(R_COUNTERPARTS))
def test_r_vignettes_mirror_the_python_ones(number, names):
    assert any(s.name.startswith(number) for s in SCRIPTS)
    for name in names:
        text = (REPO / "vignettes" / name).read_text(encoding="utf-8")
        title = re.search(r'^title: "(.*)"$', text, flags=re.M).group(1)
        assert f"%\\VignetteIndexEntry{{{title}}}" in text, name
        assert "VignetteEngine{knitr::rmarkdown}" in text, name
        assert number < "08" or "stopifnot(" in text, f"{name} checks its claims"
        assert "library(dlstat)" in text, name
