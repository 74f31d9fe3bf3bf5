"""The one result protocol: every result's summary is a :class:`Summary` (tables + notes).

A :class:`Summary` is data first: ordered DataFrames and notes.  :meth:`Summary.text` is the
only printer of those numbers — Python's ``print()``, notebooks (via the same tables in HTML)
and the R package (which passes its own call in R notation) all show what it renders.
Every result type derives from :class:`Result`, which gives it ``__repr__`` and HTML through its
summary and says clearly when ``augment()`` has no meaning for it.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import OptionError, OptionTypeError

LAYOUTS = ("table", "items", "deviance")
REQUIRED_COLUMNS = {"table": (), "items": ("value",), "deviance": ("deviance", "df")}


def format_number(value: float) -> str:
    """How every table prints a float: four significant digits, as R's default print."""
    return f"{value:.4g}"


@dataclass
class Summary:
    """A result's summary: a title, the call, named tables (the numbers) and notes.

    Parameters
    ----------
    title
        The first line printed, e.g. ``"5-fold cross-validation"``.
    call
        The call that made the result, in Python notation.
    tables
        Ordered tables; each is printed under its caption.
    notes
        Caveats, numbered when printed.
    captions
        Heading printed above a table (default: the table's name, capitalised).
    layouts
        How a table prints: ``"table"`` (default, a grid), ``"items"`` (an ``item``-indexed
        table with one ``value`` column, printed ``item: value``) or ``"deviance"`` (rows
        ``Null``/``Residual`` with ``deviance``, ``df`` and optionally ``dev_explained``,
        printed as R's ``summary.glm``).
    """

    title: str
    call: str
    tables: dict[str, pd.DataFrame]
    notes: list[str] = field(default_factory=list)
    captions: dict[str, str] = field(default_factory=dict)
    layouts: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, layout in self.layouts.items():
            if layout not in LAYOUTS:
                raise OptionError(f"layout of table {name!r} must be one of {list(LAYOUTS)}; "
                                  f"got {layout!r}.")
        for name, table in self.tables.items():
            if not isinstance(table, pd.DataFrame):
                raise OptionTypeError(f"table {name!r} of a Summary must be a pandas DataFrame; "
                                      f"got {type(table).__name__}.")
            layout = self.layouts.get(name, "table")
            missing = [c for c in REQUIRED_COLUMNS[layout] if c not in table.columns]
            if missing:
                raise OptionError(f"table {name!r} has layout {layout!r}, which needs columns "
                                  f"{missing}; its columns are {list(table.columns)}.")

    def caption(self, name: str) -> str:
        """The heading of table ``name``."""
        return self.captions.get(name, name.replace("_", " ").capitalize())

    def text(self, call: str | None = None) -> str:
        """The printed summary; ``call`` replaces the Python call (R passes its own)."""
        out = [self.title, "", "Call:", f"  {self.call if call is None else call}"]
        for name, table in self.tables.items():
            layout = self.layouts.get(name, "table")
            body = _RENDER[layout](table)
            heading = [] if layout == "deviance" else [_heading(self.caption(name))]
            out += ["", *heading, body]
        if self.notes:
            out += ["", "Notes:"] + [f"[{i}] {n}" for i, n in enumerate(self.notes, 1)]
        return "\n".join(out)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        parts = [f"<h4>{html.escape(self.title)}</h4><pre>{html.escape(self.call)}</pre>"]
        for name, table in self.tables.items():
            parts.append(f"<h5>{html.escape(self.caption(name))}</h5>"
                         f"{table.to_html(float_format=format_number, na_rep='NA')}")
        if self.notes:
            items = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
            parts.append(f"<h5>Notes</h5><ol>{items}</ol>")
        return "\n".join(parts)


def _heading(caption: str) -> str:
    """A caption with its colon, unless it has one already (R's "Coefficients: (1 not defined
    because of singularities)")."""
    return caption if ":" in caption else f"{caption}:"


def _grid(table: pd.DataFrame) -> str:
    show_index = not isinstance(table.index, pd.RangeIndex)
    return table.to_string(index=show_index, float_format=format_number, na_rep="NA")


def _items(table: pd.DataFrame) -> str:
    width = max((len(str(i)) for i in table.index), default=0)
    return "\n".join(f"{str(i) + ':':<{width + 1}} {_cell(v)}" for i, v in table["value"].items())


def _cell(value: Any) -> str:
    return format_number(value) if isinstance(value, float) else str(value)


def _deviance(table: pd.DataFrame) -> str:
    """R's ``print.summary.glm`` lines: ``Null deviance: 1126.05  on 31  degrees of freedom``."""
    labels = [f"{name} deviance:" for name in table.index]
    width = max(len(label) for label in labels)
    values = deviance_texts(table["deviance"].tolist())
    lines = []
    for label, value, df in zip(labels, values, table["df"]):
        line = f"{label:>{width}} {value}"
        if df is not None and not pd.isna(df):
            line += f"  on {int(df)}  degrees of freedom"
        lines.append(line)
    for i, explained in enumerate(table.get("dev_explained", [])):
        if not pd.isna(explained):
            lines[i] += f"  ({100 * explained:.2f}% of deviance explained)"
    return "\n".join(lines)


def deviance_texts(values: list[float]) -> list[str]:
    """Deviances to six significant digits, right-aligned (as ``summary.glm`` aligns them)."""
    texts = [f"{v:.6g}" if not math.isnan(v) else "NA" for v in values]
    width = max(map(len, texts), default=0)
    return [t.rjust(width) for t in texts]


_RENDER = {"table": _grid, "items": _items, "deviance": _deviance}


def items_table(rows: list[tuple[str, Any]]) -> pd.DataFrame:
    """An ``item``/``value`` table (printed ``item: value``)."""
    return pd.DataFrame(rows, columns=["item", "value"]).set_index("item")


class Result:
    """The shared part of every result: ``summary()``, ``tidy()``, ``glance()``, ``augment()``,
    ``plot()``; ``repr`` and notebook HTML come from the summary."""

    def summary(self) -> Summary:
        """The result's tables and notes (text when printed, HTML in notebooks)."""
        raise NotImplementedError

    def tidy(self) -> pd.DataFrame:
        """One row per estimate (broom's ``tidy``)."""
        raise NotImplementedError

    def glance(self) -> pd.DataFrame:
        """One row of result-level statistics (broom's ``glance``)."""
        raise NotImplementedError

    def augment(self, data: pd.DataFrame | None = None) -> pd.DataFrame:
        """The data with per-row values beside it, where the result has them."""
        raise OptionError(f"augment() is not defined for a {type(self).__name__}: it holds no "
                          "prediction for each row of the data. Use tidy() or glance(), or "
                          "augment() of a fitted model.")

    def plot(self, *args: Any, **kwargs: Any):
        """The result's standard plot; returns a matplotlib Figure."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.summary().text()

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


def mean_sd_se(values: pd.DataFrame) -> pd.DataFrame:
    """Per column: mean, sd and standard error sd/√n over the rows (cv.glmnet's sd/√k)."""
    sd = values.std(ddof=1)
    return pd.DataFrame({"mean": values.mean(), "sd": sd, "se": sd / math.sqrt(len(values))})


def check_metric(metric: str, allowed: list[str]) -> str:
    """``metric`` if it is one of ``allowed``, else an error naming them."""
    if metric not in allowed:
        raise OptionError(f"metric must be one of {allowed}; got {metric!r}.")
    return metric


def new_figure(ax=None, figsize: tuple[float, float] = (6, 4), ncols: int = 1):
    """A Figure and its Axes (``ax``'s when given; ``ncols`` side by side); matplotlib is
    imported only here, when a plot is drawn."""
    if ax is not None:
        return ax.figure, ax
    import matplotlib.pyplot as plt

    return plt.subplots(ncols=ncols, figsize=figsize)
