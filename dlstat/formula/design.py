"""Turn a vetted formula and a data frame into a standardised design matrix, and replay it.

This module and ``parse.py`` are the only code that knows about formulaic.  Everything learned
from the training data — factor levels, transform state (poly, bs, scale), column means and
standard deviations — lives in :class:`DesignSpec`, a plain-data object that is replayed on new
data and written to model files as JSON.
"""

from __future__ import annotations

import keyword
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, FormulaError, warn
from .inputs import (
    carried_columns,
    check_column_names,
    check_frame,
    learn_levels,
    offset_columns,
    typed_frame,
    typed_inputs,
)
from .kinds import check_kinds, kinds_of, kinds_of_levels, plain_value
from .limits import (
    MAX_DESIGN_COLUMNS,
    check_against_data,
    check_design_size,
    check_formulaic_terms,
    column_bound,
)
from .parse import (
    BS_EXTEND,
    MAX_STORED_RHS_CHARS,
    OFFSET_COLUMN,
    SURV,
    ParsedFormula,
    parse_formula,
)
from .plain import PlainLayout, missing_rows, plain_design, plain_layout, seen_levels, take_rows
from .rnames import r_names, split_interaction
from .scaling import standardise_columns
from .terms import Node, group_long_sums, read_rhs
from .tokens import tokenize

_SAFE_CONTEXT = {
    "log": np.log,
    "log1p": np.log1p,
    "log2": np.log2,
    "log10": np.log10,
    "exp": np.exp,
    "sqrt": np.sqrt,
    "abs": np.abs,
}


@dataclass
class DesignSpec:
    """Everything needed to rebuild the design matrix of a fitted model on new data."""

    formula: str
    rhs: str
    response_columns: list[str]
    response_transform: str | None
    variables: list[str]
    levels: dict[str, list[Any]]
    transform_state: dict[str, Any]
    columns: list[str]
    intercept: bool
    center: np.ndarray = field(repr=False)
    scale: np.ndarray = field(repr=False)
    offsets: list[str] = field(default_factory=list)  # vetted offset(expr) expressions
    kinds: dict[str, str] = field(default_factory=dict)  # each input column's kind at fit

    @property
    def n_columns(self) -> int:
        return len(self.columns)

    @property
    def display_columns(self) -> list[str]:
        """Design column names in formulaic's spelling, without dlstat's internal arguments
        and backquotes (``C(g)[T.b]``: the brackets mark a level); tables use :attr:`names`."""
        return [c.replace(BS_EXTEND, "").replace("`", "") for c in self.columns]

    @cached_property
    def names(self) -> list[str]:
        """The design columns named as R's ``model.matrix`` names them (``factor(g)b``,
        ``I(x^2)``): the labels of every coefficient and design column, in both languages."""
        return r_names([c.replace(BS_EXTEND, "") for c in self.columns], self.formula,
                       self.variables)

    def response(self, data: pd.DataFrame) -> pd.DataFrame:
        """The response of ``data`` as the model sees it (for scoring held-out rows)."""
        return response_frame(data, self.response_columns, self.response_transform,
                              strict=False)

    def terms(self) -> list[str]:
        """The formula term each design column belongs to, as R labels it
        (``C(g)[T.b]`` → ``factor(g)`` when the formula said ``factor(g)``)."""
        return r_names([_term_of(c.replace(BS_EXTEND, "")) for c in self.columns],
                       self.formula, self.variables)

    def design(
        self, data: pd.DataFrame, unseen: str = "error", what: str = "newdata"
    ) -> tuple[np.ndarray, np.ndarray]:
        """Standardised design rows for ``data`` and the mask of rows that could be built.

        Rows with a missing value (or, with ``unseen="na"``, an unseen level) are left out of
        the matrix and flagged ``False`` in the mask, so callers can return NA for them without
        dropping or reordering anything.
        """
        check_frame(data, what)
        present = set(data.columns.tolist())
        missing = [v for v in self.variables if v not in present]
        if OFFSET_COLUMN in missing:
            raise DataError(
                f"this model's offset was given as a vector (offset=[...]), so {what} must "
                f"carry it: add a column {OFFSET_COLUMN!r} holding each row's offset, or refit "
                "with offset='column' or an offset(...) term in the formula.")
        if missing:
            raise DataError(
                f"{what} lacks column(s) {missing} used by formula {self.formula!r}; "
                "add them (with the same names) before predicting."
            )
        check_kinds(data, self.kinds, what)
        check_design_size(len(data), len(self.columns), self.formula)
        frame, numeric = typed_inputs(data, self.variables, self.levels, self._layout,
                                      offset_columns(self.offsets), unseen=unseen, what=what)
        complete = frame.notna().all(axis=1).to_numpy() & ~missing_rows(numeric, len(frame))
        frame, numeric = take_rows(frame, numeric, np.flatnonzero(complete))
        X = self._matrix(frame, numeric)
        with np.errstate(over="ignore", invalid="ignore"):
            X = X - self.center  # one new matrix, scaled in place
            X /= self.scale
        # checked once standardised: a value near float64's limit overflows when centred
        finite = np.isfinite(X).all(axis=1)
        if self.offsets:
            finite &= np.isfinite(offset_values(self.offsets, frame))
        if not finite.all():
            warn(f"{int((~finite).sum())} row(s) of {what} give non-finite design values "
                 "(e.g. log of a non-positive number, or a value near float64's limit); "
                 "their predictions are NA.")
            idx = np.flatnonzero(complete)
            complete[idx[~finite]] = False
            X = X[finite]
        return X, complete

    def offset(self, data: pd.DataFrame, ok: np.ndarray) -> np.ndarray | None:
        """The summed offset terms for the rows ``ok`` of ``data`` (as ``design`` flags
        them), on the link scale; ``None`` when the formula has none."""
        if not self.offsets:
            return None
        read = offset_columns(self.offsets)  # only what the offset reads (not every column)
        frame = typed_frame(data, [v for v in self.variables if v in read], self.levels,
                            unseen="na", what="newdata")
        return offset_values(self.offsets, frame.iloc[np.flatnonzero(ok)])

    @cached_property
    def _tree(self) -> Node | None:
        """The right-hand side read once (``None`` for text the reader does not take)."""
        try:
            return read_rhs(tokenize(self.rhs.replace(BS_EXTEND, ""),
                                     max_chars=MAX_STORED_RHS_CHARS))
        except (FormulaError, ValueError):
            return None

    @cached_property
    def _layout(self) -> PlainLayout | None:
        """The plain layout of the design, when it gives exactly the fitted columns."""
        if self._tree is None:
            return None
        layout = plain_layout(self._tree, self.variables, self.levels)
        return layout if layout is not None and layout.columns == self.columns else None

    def _matrix(self, frame: pd.DataFrame, numeric: dict[str, np.ndarray]) -> np.ndarray:
        if self._layout is not None:
            return plain_design(self._layout, frame, numeric)
        from formulaic import ModelSpec

        if self._tree is not None:  # a model file could hold more than dlstat would build
            check_formulaic_terms(self._tree, self.formula)
        spec = ModelSpec(formula=group_long_sums(self.rhs, (BS_EXTEND,)),
                         transform_state=_state_from_json(self.transform_state))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mm = spec.get_model_matrix(frame, context=_SAFE_CONTEXT, na_action="ignore")
        cols = [c for c in mm.columns if c != "Intercept"]
        if cols != self.columns:
            raise DataError(
                f"new data produced design columns {cols} instead of {self.columns}; "
                "check that column types match the data the model was fitted on."
            )
        return np.asarray(mm[cols], dtype=np.float64).reshape(len(frame), len(cols))

    def to_json(self) -> dict[str, Any]:
        return {
            "formula": self.formula,
            "rhs": self.rhs,
            "response_columns": self.response_columns,
            "response_transform": self.response_transform,
            "variables": self.variables,
            "levels": {k: [plain_value(v) for v in vs] for k, vs in self.levels.items()},
            "transform_state": _state_to_json(self.transform_state),
            "columns": self.columns,
            "intercept": self.intercept,
            "center": self.center.tolist(),
            "scale": self.scale.tolist(),
            "offsets": list(self.offsets),
            "kinds": dict(self.kinds),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> DesignSpec:
        return cls(
            formula=d["formula"],
            rhs=d["rhs"],
            response_columns=list(d["response_columns"]),
            response_transform=d["response_transform"],
            variables=list(d["variables"]),
            levels={k: list(v) for k, v in d["levels"].items()},
            transform_state=d["transform_state"],
            columns=list(d["columns"]),
            intercept=bool(d["intercept"]),
            center=np.asarray(d["center"], dtype=np.float64),
            scale=np.asarray(d["scale"], dtype=np.float64),
            offsets=list(d.get("offsets", [])),
            kinds=dict(d["kinds"]) if "kinds" in d else kinds_of_levels(d["levels"]),
        )


@dataclass
class Design:
    """The result of building a design on training data."""

    spec: DesignSpec
    X: np.ndarray
    response: pd.DataFrame
    rows: pd.Index  # labels of the rows of ``data`` in X (may repeat: use positions)
    n_dropped: int
    notes: list[str]
    positions: np.ndarray  # positions of the rows of ``data`` in X
    offset: np.ndarray | None = None  # the summed offset terms of those rows (link scale)


@dataclass
class CompleteRows:
    """The rows of a data frame a formula can use (``na_action`` applied), by position."""

    positions: np.ndarray
    n_dropped: int
    notes: list[str]
    response: pd.DataFrame  # the response of those rows, as the model sees it


def complete_rows(formula: str, data: pd.DataFrame, na_action: str = "omit") -> CompleteRows:
    """Vet ``formula`` and find the rows of ``data`` with every used column present."""
    parsed, used, levels = _parse_on(formula, data)
    layout = plain_layout(parsed.tree, parsed.variables, levels)
    frame, numeric = typed_inputs(data, used, levels, layout, carried_columns(parsed),
                                  unseen="error", what="data")
    positions, n_dropped, notes = _complete(frame, numeric, used, na_action, formula)
    response = response_frame(frame.iloc[positions], parsed.response_columns,
                              parsed.response_transform)
    return CompleteRows(positions, n_dropped, notes, response)


def build_design(
    formula: str,
    data: pd.DataFrame,
    na_action: str = "omit",
    center_inputs: bool | None = True,
    weights: np.ndarray | None = None,
    standardise: bool = True,
) -> Design:
    """Vet ``formula``, build and standardise its design on ``data`` (never modified).

    Rows are addressed by position, so any index (duplicated, unsorted, not integers) gives
    the same design.  Inputs are centred unless ``center_inputs`` is ``None`` and the formula
    has no intercept (a GLM through the origin must not gain an intercept by centring).
    With prior ``weights`` (one per row of ``data``) the centre and scale are weighted, so a
    row of weight 2 standardises as two rows would, and a row of weight 0 not at all.
    ``standardise=False`` keeps the columns as they are (integer codes for an embedding)."""
    parsed, used, levels = _parse_on(formula, data)
    kinds = kinds_of(data, parsed.variables)
    layout = plain_layout(parsed.tree, parsed.variables, levels)  # None: formulaic
    frame, numeric = typed_inputs(data, used, levels, layout, carried_columns(parsed),
                                  unseen="error", what="data")
    rows, n_dropped, notes = _complete(frame, numeric, used, na_action, formula)
    # a copy of the inputs only when rows were dropped
    frame, numeric = take_rows(frame, numeric, rows)
    # Levels are learned again on the complete rows: a level seen only in dropped rows is unused.
    learned = {c: [v for v, seen in zip(lv, seen_levels(frame[c], len(lv))) if seen]
               for c, lv in levels.items()}
    if learned != levels:  # retyped only then: a second copy of a large frame costs memory
        frame = typed_frame(frame, list(frame.columns), learned, unseen="error", what="data")
        if layout is not None:  # the first level may be gone: the coding changes
            layout = plain_layout(parsed.tree, parsed.variables, learned)
    levels = learned
    distinct = {c.column: int(frame[c.column].nunique()) for c in parsed.transforms if c.column}
    n = len(frame)
    check_against_data(parsed.transforms, distinct, n, formula)
    if layout is not None:
        check_design_size(n, len(layout.columns), formula)
    else:
        check_formulaic_terms(parsed.tree, formula)
        check_design_size(n, column_bound(parsed.tree, levels, MAX_DESIGN_COLUMNS), formula,
                          exact=False)
    offset = _training_offset(parsed, frame)
    response = response_frame(frame, parsed.response_columns, parsed.response_transform)
    X, columns, intercept, state = _design_matrix(parsed, frame, numeric, layout)
    del frame, numeric  # the typed inputs are not needed beyond the matrix
    _check_finite_design(X, columns, formula)
    # A survival response: the design is R's model matrix without its intercept column
    # (coxph's), centred as coxph centres it (a constant is not identified).
    survival = parsed.response_transform == SURV
    intercept = intercept and not survival
    center = center_inputs if center_inputs is not None else (intercept or survival)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)[rows]
    if w is not None and not (w > 0).any():
        raise DataError("every complete row has weight 0, which leaves nothing to fit; give "
                        "some complete rows a positive weight.")
    # standardised in place: a million-row design without temporary copies (a copy only to
    # find the constant columns of a design kept as it is)
    scaled = standardise_columns(X if standardise else X.copy(), w, center)
    if standardise:
        mean, sd = scaled.center, scaled.scale
    else:
        mean, sd = np.zeros(X.shape[1]), np.ones(X.shape[1])
    spec = DesignSpec(
        formula=formula,
        rhs=parsed.rhs,
        response_columns=parsed.response_columns,
        response_transform=parsed.response_transform,
        variables=parsed.variables,
        levels=levels,
        transform_state=_state_to_json(state),
        columns=columns,
        intercept=intercept,
        center=mean,
        scale=sd,
        offsets=parsed.offsets,
        kinds=kinds,
    )
    for j in np.flatnonzero(scaled.constant):  # R's names made only for a constant column
        notes.append(f"design column {spec.names[j]!r} is constant in the training data.")
    return Design(spec, X, response, data.index[rows], n_dropped, notes, rows, offset)


def offset_values(offsets: list[str], frame: pd.DataFrame) -> np.ndarray:
    """The sum of vetted offset expressions evaluated on ``frame`` (one value per row)."""
    from formulaic import model_matrix

    total = " + ".join(f"({e})" for e in offsets)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        mm = model_matrix(f"0 + I({total})", frame, context=_SAFE_CONTEXT, na_action="ignore")
    return np.asarray(mm, dtype=np.float64).reshape(len(frame), -1).sum(axis=1)


def _training_offset(parsed: ParsedFormula, frame: pd.DataFrame) -> np.ndarray | None:
    """The training rows' offset, refused unless numeric and finite."""
    if not parsed.offsets:
        return None
    from formulaic.errors import FormulaicError

    try:
        offset = offset_values(parsed.offsets, frame)
    except SyntaxError:
        raise _keyword_columns_error(parsed) from None
    except (FormulaicError, ValueError, TypeError) as exc:
        raise DataError(f"the offset ({' + '.join(parsed.offsets)}) could not be computed: "
                        f"{str(exc)[:200]}. An offset needs numeric columns.") from None
    bad = int((~np.isfinite(offset)).sum())
    if bad:
        raise DataError(
            f"the offset ({' + '.join(parsed.offsets)}) is not finite for {bad} row(s) (e.g. "
            "log of zero); drop or fix those rows.")
    return offset


def _parse_on(formula: str, data: pd.DataFrame) -> tuple[ParsedFormula, list[str], dict]:
    """The vetted formula, the columns it uses and the levels of its factors in ``data``."""
    check_frame(data, "data")
    check_column_names(data, "data")
    parsed = parse_formula(formula, data.columns.tolist())
    used = list(dict.fromkeys(parsed.response_columns + parsed.variables))
    return parsed, used, learn_levels(data, parsed)


def _complete(frame: pd.DataFrame, numeric: dict[str, np.ndarray], used: list[str],
              na_action: str, formula: str) -> tuple[np.ndarray, int, list[str]]:
    """Positions of the complete rows of the typed inputs, how many were dropped and the
    note."""
    n_rows = len(frame)
    complete = frame.notna().all(axis=1).to_numpy() & ~missing_rows(numeric, n_rows)
    notes: list[str] = []
    n_dropped = int((~complete).sum())
    if n_dropped:
        if na_action == "fail":
            bad = [c for c in used if (pd.isna(numeric[c]).any() if c in numeric
                                       else frame[c].isna().any())]
            raise DataError(
                f"{n_dropped} row(s) have missing values in {bad} and na_action='fail'. "
                "Use na_action='omit' to drop them, or fill them in first."
            )
        warn(
            f"{n_dropped} row(s) with missing values were dropped (na_action='omit').")
        notes.append(f"{n_dropped} observation(s) deleted due to missingness.")
    if n_dropped == n_rows:
        raise DataError(
            f"no complete rows left to fit formula {formula!r} ({n_rows} rows given, all "
            "with a missing value in a used column). Fill in or drop the missing values."
        )
    return np.flatnonzero(complete), n_dropped, notes


def _design_matrix(parsed: ParsedFormula, frame: pd.DataFrame, numeric: dict[str, np.ndarray],
                   layout: PlainLayout | None) -> tuple[np.ndarray, list[str], bool, dict]:
    """The design (a new writable float64 matrix), its columns, whether it has an intercept,
    and formulaic's transform state: in bulk for plain terms, else by formulaic."""
    if layout is not None:
        return plain_design(layout, frame, numeric), layout.columns, layout.intercept, {}
    mm, state = _model_matrix(parsed, frame)
    columns = [c for c in mm.columns if c != "Intercept"]
    X = np.asarray(mm[columns], dtype=np.float64).reshape(len(frame), len(columns))
    if not (X.flags.writeable and X.flags.c_contiguous):
        # row-major as the bulk route's: the column means are then summed in the same
        # order, so both routes standardise to the same numbers, to the last bit
        X = X.copy(order="C")
    return X, columns, "Intercept" in mm.columns, state


def _model_matrix(parsed: ParsedFormula, frame: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    from formulaic import model_matrix
    from formulaic.errors import FormulaicError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mm = model_matrix(group_long_sums(parsed.rhs, (BS_EXTEND,)), frame,
                              context=_SAFE_CONTEXT, na_action="ignore")
    except SyntaxError:
        raise _keyword_columns_error(parsed) from None
    except (FormulaicError, ValueError, TypeError, ArithmeticError) as exc:
        raise FormulaError(
            f"formula {parsed.text!r} could not be built on the data: {exc}. Check the "
            "transforms' arguments and the column types."
        ) from None
    return mm, dict(mm.model_spec.transform_state)


def _keyword_columns_error(parsed: ParsedFormula) -> FormulaError:
    """formulaic evaluates a column named as a Python keyword (``if``, ``class``) inside a
    transform or an offset as that keyword: say which columns to rename."""
    names = [v for v in parsed.variables if keyword.iskeyword(v)]
    return FormulaError(
        f"formula {parsed.text!r} uses the column(s) {names}, named as Python keywords, inside "
        "a transform or an offset, where they cannot be evaluated. Rename them (e.g. "
        "data.rename(columns={'class': 'klass'})), or use them only on their own.")


def response_frame(frame: pd.DataFrame, columns: list[str], transform: str | None,
                   strict: bool = True) -> pd.DataFrame:
    """The response columns of ``frame`` as the model sees them (transform applied).

    ``strict`` (fitting) refuses a non-numeric or non-finite transformed response; scoring
    new rows leaves non-finite values for the metrics to show."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"the data lacks the response column(s) {missing}.")
    resp = frame[columns].copy()
    if not transform:
        return resp
    if transform == SURV:
        from ..families.survival import surv_frame

        return surv_frame(resp, strict)
    fn = _SAFE_CONTEXT[transform]
    col = columns[0]
    if strict and not pd.api.types.is_numeric_dtype(resp[col]):
        raise DataError(f"{transform}() needs a numeric response; column {col!r} is "
                        f"{resp[col].dtype}.")
    with np.errstate(all="ignore"):
        values = fn(resp[col].to_numpy(dtype=np.float64))
    if strict and not np.isfinite(values).all():
        raise DataError(
            f"{transform}({col}) is not finite for {int((~np.isfinite(values)).sum())} "
            "row(s); drop or fix those rows."
        )
    return pd.DataFrame({f"{transform}({col})": values}, index=resp.index)


def _check_finite_design(X: np.ndarray, columns: list[str], formula: str) -> None:
    bad = ~np.isfinite(X)
    if bad.any():
        cols = sorted({columns[j] for j in np.flatnonzero(bad.any(axis=0))})
        raise DataError(
            f"formula {formula!r} gives non-finite values in design column(s) {cols} for "
            f"{int(bad.any(axis=1).sum())} row(s) (e.g. log of zero or a negative number). "
            "Transform differently (log1p, sqrt) or drop those rows."
        )


def _term_of(column: str) -> str:
    """``g[T.a]:x`` → ``g:x``: drop level suffixes outside parentheses."""
    return ":".join(_strip_level(p) for p in split_interaction(column))


def _strip_level(part: str) -> str:
    depth = 0
    for i, ch in enumerate(part):
        if ch == "[" and depth == 0:
            return part[:i]
        depth += (ch == "(") - (ch == ")")
    return part


def _state_to_json(state: Any) -> Any:
    """Transform state with numpy scalars and non-string keys made JSON-safe (reversibly)."""
    if isinstance(state, dict):
        if all(isinstance(k, str) for k in state):
            return {k: _state_to_json(v) for k, v in state.items()}
        return {"__items__": [[plain_value(k), _state_to_json(v)] for k, v in state.items()]}
    if isinstance(state, (list, tuple)):
        return [_state_to_json(v) for v in state]
    if isinstance(state, np.ndarray):
        return state.tolist()
    return plain_value(state)


def _state_from_json(state: Any) -> Any:
    if isinstance(state, dict):
        if set(state) == {"__items__"}:
            return {k: _state_from_json(v) for k, v in state["__items__"]}
        return {k: _state_from_json(v) for k, v in state.items()}
    if isinstance(state, list):
        return [_state_from_json(v) for v in state]
    return state
