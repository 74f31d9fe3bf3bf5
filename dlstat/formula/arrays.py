"""Formulas over data that maps names to arrays: ``label ~ image + age + sex``.

``data`` may be a mapping (a ``dict``) of names to columns (1-D arrays, Series,
Categoricals), data frames (their columns) and at most one *array input* (a NumPy array of two
or more dimensions: images ``[n, h, w(, c)]``, sequences ``[n, T(, p)]``).  The array is a
name in the formula and nothing else: it may appear only as a term of its own (or through
``.``); the rest of the formula is the tabular formula, vetted and designed as always.

The design row of an observation is its array's values (C order, standardised with one mean
and one standard deviation, so that every position keeps the scale a filter sees everywhere)
followed by the tabular design columns; :class:`ArraySpec` replays that on new data and is
saved in model files.  The network reads the array part back with a ``reshape`` layer and
joins the tabular part after flattening (``reshape(..., joined=)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, FormulaError
from .design import DesignSpec
from .scaling import standardise_columns
from .tokens import Token, render, tokenize

MAX_ARRAY_RANK = 4  # values per row: [h, w, c] at most (plus the row axis)


@dataclass
class ArrayData:
    """A mapping split into its tabular columns (a frame, index 0..n-1) and its arrays."""

    frame: pd.DataFrame
    arrays: dict[str, np.ndarray]

    @classmethod
    def of(cls, data: Mapping, what: str = "data") -> ArrayData:
        """Split ``data``; refuse what cannot be a column or an array input, saying why."""
        columns: dict[str, Any] = {}
        arrays: dict[str, np.ndarray] = {}
        for name, value in data.items():
            if not isinstance(name, str) or not name:
                raise DataError(f"{what} names must be non-empty strings; got {name!r}.")
            if isinstance(value, pd.DataFrame):
                for column in value.columns:
                    _add(columns, arrays, str(column), value[column], what, name)
                continue
            _add(columns, arrays, name, value, what, None)
        lengths = {n: len(v) for n, v in [*columns.items(), *arrays.items()]}
        if len(set(lengths.values())) > 1:
            raise DataError(f"every entry of {what} needs one value (or array) per "
                            f"observation; got lengths {lengths}. Give arrays and columns of "
                            "the same length n.")
        n = next(iter(lengths.values()), 0)
        frame = pd.DataFrame({k: _column(v) for k, v in columns.items()},
                             index=pd.RangeIndex(n))
        return cls(frame, arrays)


def _add(columns: dict, arrays: dict, name: str, value: Any, what: str,
         frame_name: str | None) -> None:
    if name in columns or name in arrays:
        inside = f" (a column of the data frame {frame_name!r})" if frame_name else ""
        raise DataError(f"{what} has two entries named {name!r}{inside}; rename one of them.")
    if isinstance(value, (pd.Series, pd.Categorical, pd.Index, pd.api.extensions.ExtensionArray)):
        columns[name] = value
        return
    values = np.asarray(value) if isinstance(value, (list, tuple, np.ndarray)) else None
    if values is None or values.ndim == 0:
        raise DataError(f"{what}[{name!r}] must be a column (a 1-D array, list, Series or "
                        f"Categorical) or an array [n, ...]; got {type(value).__name__}.")
    if values.ndim == 1:
        columns[name] = values
        return
    if values.dtype.kind not in "biuf" or values.ndim > MAX_ARRAY_RANK:
        raise DataError(f"{what}[{name!r}] is an array of shape {list(values.shape)} and dtype "
                        f"{values.dtype}; an array input must hold numbers (bool, int or float) "
                        f"with 2 to {MAX_ARRAY_RANK} dimensions [n, ...]. Convert it with "
                        "numpy.asarray(x, dtype=float).")
    arrays[name] = values


def _column(values: Any) -> Any:
    return values.reset_index(drop=True) if isinstance(values, pd.Series) else values


# --------------------------------------------------------------------------- the formula


def split_formula(formula: str, arrays: Mapping[str, np.ndarray]) -> tuple[str, str | None]:
    """The tabular formula and the array term of ``formula`` (``None``: it uses no array).

    An array name may stand only as a term of its own on the right-hand side
    (``y ~ image + age``), or be included by ``.``; inside a call, an interaction, a power or
    after ``-`` it is refused, as is an array as the response.
    """
    tokens = tokenize(formula)
    tildes = [i for i, t in enumerate(tokens) if t.kind == "OP" and t.text == "~"]
    if len(tildes) != 1:
        return formula, None  # the tabular parser words this error
    tilde = tildes[0]
    named = [i for i, t in enumerate(tokens) if t.kind == "NAME" and t.text in arrays]
    for i in named:
        _check_array_term(tokens, i, tilde, formula, arrays[tokens[i].text])
    used = {tokens[i].text for i in named}
    if any(t.kind == "DOT" for t in tokens[tilde + 1:]):
        used |= set(arrays)
    if len(used) > 1:
        raise FormulaError(f"formula {formula!r} uses the arrays {sorted(used)}; a model takes "
                           "one array input (an image or a sequence) plus tabular columns.")
    keep = _without_terms(tokens, set(named), tilde)
    return render(keep), next(iter(used), None)


def _check_array_term(tokens: list[Token], i: int, tilde: int, formula: str,
                      array: np.ndarray) -> None:
    name = tokens[i].text
    before = tokens[i - 1] if i > 0 else None
    after = tokens[i + 1] if i + 1 < len(tokens) else None
    alone = i > tilde and before is not None and before.kind == "OP" and \
        before.text in ("~", "+") and (after is None or (after.kind == "OP" and
                                                         after.text in ("+", "-")))
    if alone:
        return
    where = "the response" if i < tilde else "inside a transform, interaction, power or '-'"
    raise FormulaError(
        f"{name!r} is an array input (shape {list(array.shape)}), not a column, so it cannot "
        f"be {where} in formula {formula!r}. Write it as a term of its own, e.g. "
        f"'y ~ {name} + age'; transform the array before passing it."
    )


def _without_terms(tokens: list[Token], drop: set[int], tilde: int) -> list[Token]:
    """``tokens`` without the array terms (and one ``+`` each); ``1`` if nothing is left."""
    keep: list[Token] = []
    skip_plus = False
    for i, tok in enumerate(tokens):
        if i in drop:
            if keep and keep[-1].kind == "OP" and keep[-1].text == "+":
                keep.pop()
            else:
                skip_plus = True
            continue
        if skip_plus and tok.kind == "OP" and tok.text == "+":
            skip_plus = False
            continue
        skip_plus = False
        keep.append(tok)
    if keep[-1].kind == "OP" and keep[-1].text == "~":
        keep.append(Token("NUMBER", "1", keep[-1].pos + 1))
    return keep


# --------------------------------------------------------------------------- the design


@dataclass
class ArraySpec:
    """A design spec for an array input plus tabular columns (duck-types ``DesignSpec``).

    ``shape`` is each observation's array shape as given at fit time; ``array_center`` and
    ``array_scale`` standardise every value of the array; ``tabular`` is the tabular design.
    """

    formula: str
    name: str
    shape: tuple[int, ...]
    array_center: float
    array_scale: float
    tabular: DesignSpec

    @classmethod
    def learn(cls, formula: str, name: str, array: np.ndarray, rows: np.ndarray,
              tabular: DesignSpec, standardise: bool = True) -> ArraySpec:
        """The spec of a fit: the array's mean and sd over its training ``rows`` (0 and 1
        without ``standardise``: integer codes for an embedding)."""
        shape = tuple(int(s) for s in array.shape[1:])
        if not standardise:
            return cls(formula, name, shape, 0.0, 1.0, tabular)
        values = array[rows].astype(np.float64).reshape(-1, 1)
        if not values.size:
            return cls(formula, name, shape, 0.0, 1.0, tabular)
        scaled = standardise_columns(values)  # one column: every value of the array
        return cls(formula, name, shape, float(scaled.center[0]), float(scaled.scale[0]),
                   tabular)

    def __getattr__(self, attr: str) -> Any:
        # variables, levels, response_columns, intercept …: the tabular design's
        if attr.startswith("__") or attr == "tabular":
            raise AttributeError(attr)
        return getattr(self.tabular, attr)

    @property
    def width(self) -> int:
        """Values per observation in the array part."""
        return int(np.prod(self.shape))

    @property
    def columns(self) -> list[str]:
        index = np.indices(self.shape).reshape(len(self.shape), -1).T
        return [f"{self.name}[{','.join(map(str, i))}]" for i in index] + self.tabular.columns

    @property
    def display_columns(self) -> list[str]:
        return self.columns[: self.width] + self.tabular.display_columns

    @property
    def names(self) -> list[str]:
        return self.columns[: self.width] + self.tabular.names

    @property
    def n_columns(self) -> int:
        return self.width + self.tabular.n_columns

    @property
    def center(self) -> np.ndarray:
        return np.concatenate([np.full(self.width, self.array_center), self.tabular.center])

    @property
    def scale(self) -> np.ndarray:
        return np.concatenate([np.full(self.width, self.array_scale), self.tabular.scale])

    def terms(self) -> list[str]:
        return [self.name] * self.width + self.tabular.terms()

    def response(self, data: Any) -> pd.DataFrame:
        return self.tabular.response(self._split(data, "data").frame)

    def array_rows(self, array: np.ndarray, what: str) -> np.ndarray:
        """``array``'s rows as standardised design values, its shape checked."""
        given = tuple(array.shape[1:])
        if given != self.shape and given != (*self.shape, 1) and \
                (self.shape[-1] != 1 or given != self.shape[:-1]):
            raise DataError(
                f"the model was fitted on {self.name!r} arrays of shape [n, "
                f"{', '.join(map(str, self.shape))}]; {what}[{self.name!r}] has shape "
                f"{list(array.shape)}. Pass arrays of the fitted shape."
            )
        return (array.reshape(len(array), -1).astype(np.float64) - self.array_center) / \
            self.array_scale

    def design(self, data: Any, unseen: str = "error",
               what: str = "newdata") -> tuple[np.ndarray, np.ndarray]:
        """Standardised design rows ``[array values, tabular columns]`` and the mask of
        observations that could be built (a missing array value leaves a row out)."""
        parts = self._split(data, what)
        X_tab, ok = self.tabular.design(parts.frame, unseen=unseen, what=what)
        rows = self.array_rows(parts.arrays[self.name], what)
        finite = np.isfinite(rows).all(axis=1)
        keep = finite[ok]
        ok &= finite
        return np.hstack([rows[ok], X_tab[keep]]), ok

    def _split(self, data: Any, what: str) -> ArrayData:
        if not isinstance(data, Mapping) or isinstance(data, pd.DataFrame):
            raise DataError(f"{what} must map names to arrays and columns, as the data this "
                            f"model was fitted on (its formula uses the array {self.name!r}); "
                            f"got {type(data).__name__}. Pass e.g. "
                            f"{{{self.name!r}: X, ...}}.")
        parts = ArrayData.of(data, what)
        if self.name not in parts.arrays:
            raise DataError(f"{what} lacks the array {self.name!r} the model was fitted on; "
                            f"add it (an array [n, {', '.join(map(str, self.shape))}]).")
        return parts

    def to_json(self) -> dict[str, Any]:
        return {**self.tabular.to_json(), "formula": self.formula,
                "tabular_formula": self.tabular.formula,
                "array": {"name": self.name, "shape": list(self.shape),
                          "center": self.array_center, "scale": self.array_scale}}


__all__ = ["ArrayData", "ArraySpec", "split_formula"]
