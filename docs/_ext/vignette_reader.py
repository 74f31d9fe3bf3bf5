"""Read a ``# %%`` vignette as a notebook whose saved figures also appear on the page.

The vignettes save their figures into a temporary directory and close them (they run as
scripts in the tests).  A hidden first cell makes ``Figure.savefig`` display the figure too,
so each figure shows up in the executed page right below the code that made it.
"""

from __future__ import annotations

import jupytext
import nbformat
from sphinx.application import Sphinx

SHOW_SAVED_FIGURES = """\
import matplotlib.figure
from IPython.display import display

_savefig = matplotlib.figure.Figure.savefig


def _show_and_save(figure, *args, **kwargs):
    display(figure)
    return _savefig(figure, *args, **kwargs)


matplotlib.figure.Figure.savefig = _show_and_save
"""


def reads(text: str) -> nbformat.NotebookNode:
    """The notebook of a percent-format script, with the figure-showing cell first.

    Parameters
    ----------
    text : str
        The script's source.

    Returns
    -------
    nbformat.NotebookNode
        A version-4 notebook with a Python 3 kernel.
    """
    notebook = jupytext.reads(text, fmt="py:percent")
    hidden = nbformat.v4.new_code_cell(SHOW_SAVED_FIGURES, metadata={"tags": ["remove-cell"]})
    notebook.cells.insert(0, hidden)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    return notebook


def setup(app: Sphinx) -> dict[str, bool]:
    """Nothing to register: ``conf.nb_custom_formats`` names :func:`reads`."""
    return {"parallel_read_safe": True}
