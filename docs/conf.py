"""Sphinx configuration of the dlstat documentation site (built by ``bash scripts/docs.sh``)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(DOCS / "_ext"))

import dlstat  # noqa: E402

# The executed tutorials use the vignettes' own small-data switch (2000 Fashion-MNIST images,
# the short recurrent run), as tests/test_vignettes.py does; the kernels inherit it.
os.environ.setdefault("DLSTAT_VIGNETTE_N", "2000")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The kernels draw inline (PNG outputs on the page), whatever MPLBACKEND the shell had.
os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
os.environ.setdefault("DLSTAT_GRAPH_CACHE", "0")
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)

# The vignettes stay where the tests run them; each build copies them in as pages.
VIGNETTES = DOCS / "tutorials" / "vignettes"
VIGNETTES.mkdir(exist_ok=True)
for script in sorted((REPO / "vignettes" / "python").glob("[0-9][0-9]_*.py")):
    target = VIGNETTES / script.name
    if not target.exists() or target.read_bytes() != script.read_bytes():
        shutil.copyfile(script, target)

project = "dlstat"
author = "the dlstat developers"
copyright = "the dlstat developers"
release = version = dlstat.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_nb",
    "dlstat_options",
    "vignette_reader",
]

root_doc = "index"
exclude_patterns = ["_build", "_ext", "conf.py", "**.ipynb_checkpoints", "jupyter_execute"]
templates_path = ["_templates"]
html_static_path = []

html_theme = "pydata_sphinx_theme"
html_title = f"dlstat {version}"
html_theme_options = {
    "navbar_end": ["navbar-icon-links"],
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
html_show_sourcelink = False

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"  # numpydoc's sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

nitpicky = True
nitpick_ignore_regex = [
    # Types named in prose by numpydoc's "x : type" lines that live outside dlstat.
    (r"py:.*", r"(pandas|numpy|np|pd|matplotlib|sklearn|keras|tensorflow|scipy)\..*"),
]

# MyST-NB: the notebooks and the percent-format vignettes execute at build, cached by content.
nb_custom_formats = {".py": ["vignette_reader.reads", {}]}
nb_execution_mode = os.environ.get("DLSTAT_DOCS_EXECUTE", "cache")
nb_execution_cache_path = str(DOCS / "_build" / ".jupyter_cache")
nb_execution_timeout = 900
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
myst_enable_extensions = ["colon_fence", "dollarmath"]
# %%R cells are R, which the Python lexer of the notebook cannot colour.
suppress_warnings = ["mystnb.unknown_mime_type", "misc.highlighting_failure"]
