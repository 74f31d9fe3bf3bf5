"""The design of a formula made only of numeric columns, built without formulaic.

``y ~ .`` on a wide numeric frame (784 pixel columns, say) is the commonest large design, and
formulaic builds it through a pandas frame of its own: seconds of work and two extra copies of
the data.  When every term of the right-hand side is a plain column (``a + b - c``, ``0 + a``,
``(a + b + c) - 1``, the ``.`` expansion), the design is just those columns in formulaic's order,
so it is copied straight into one float64 matrix.  Anything else (transforms, factors,
interactions, powers) goes to formulaic; ``tests/test_plain_design.py`` checks that both give
the same columns and values.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

_ALLOWED = re.compile(r"[\w\s+\-()]*")
_GROUP = re.compile(r"^\s*\(([^()\-]*)\)(.*)$", re.S)  # a leading all-'+' group, as '.' expands
_TOKEN = re.compile(r"[+-]|[^\s+\-]+")


def plain_columns(rhs: str, variables: list[str]) -> tuple[list[str], bool] | None:
    """The design columns and whether there is an intercept, when ``rhs`` adds and removes
    plain ``variables`` only (and ``1``/``0`` for the intercept); else ``None``."""
    if not _ALLOWED.fullmatch(rhs):
        return None
    group = _GROUP.match(rhs)
    text = f"{group.group(1)} {group.group(2)}" if group else rhs
    if "(" in text or ")" in text:
        return None
    known = set(variables)
    columns: list[str] = []
    intercept, sign, expect_term = True, "+", True
    for i, token in enumerate(_TOKEN.findall(text)):
        if token in ("+", "-"):
            if expect_term and not (i == 0 and token == "-"):  # only '- 1 + a' may lead
                return None
            sign, expect_term = token, True
            continue
        if not expect_term:
            return None
        if token == "1":
            intercept = sign == "+"
        elif token == "0" and sign == "+":
            intercept = False
        elif token.isidentifier() and token in known:
            if sign == "+" and token not in columns:
                columns.append(token)
            elif sign == "-" and token in columns:
                columns.remove(token)
        else:
            return None
        expect_term = False
    if expect_term or not columns:
        return None
    return columns, intercept


def plain_matrix(frame: pd.DataFrame, columns: list[str], block: int = 128) -> np.ndarray | None:
    """``frame[columns]`` as one new float64 matrix, or ``None`` when a column is not a plain
    number (a factor: formulaic codes it).  The columns are separate arrays and the matrix is
    row-major, so the copy is a transpose: done ``block`` rows at a time through a small
    column-major buffer (contiguous reads, one cache-sized transposed write), four times as
    fast as stacking column slices and without a temporary copy of the whole."""
    if not all(is_plain_number(frame[c].dtype) for c in columns):
        return None
    values = [frame[c].to_numpy() for c in columns]
    n = len(frame)
    X = np.empty((n, len(columns)), dtype=np.float64)
    buffer = np.empty((len(columns), min(block, n)), dtype=np.float64)
    for start in range(0, n, block):
        stop = min(n, start + block)
        part = buffer[:, : stop - start]
        for j, v in enumerate(values):
            part[j] = v[start:stop]
        X[start:stop] = part.T
    return X


def is_plain_number(dtype) -> bool:
    """A NumPy boolean, integer or float dtype (not a categorical's codes, not nullable)."""
    return isinstance(dtype, np.dtype) and dtype.kind in "biuf"
