"""Vet a design spec read from a model file as strictly as a typed formula.

A model file is data from elsewhere: its formula text, right-hand side, column names, levels
and transform state could have been edited to run code when the design is replayed.  Nothing
is taken on trust: the formula is vetted again, the stored right-hand side must be exactly the
text dlstat's own vetting writes for it, transform state holds numbers only, and every size
agrees with every other.  Anything else is refused with :class:`ModelFileError` before
formulaic sees the spec.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import FormulaError, ModelFileError
from .arrays import MAX_ARRAY_RANK, ArraySpec, split_formula
from .design import DesignSpec
from .kinds import KINDS
from .parse import RESPONSE_FORMS, parse_formula, vet_rendered_rhs

MAX_COLUMNS = 100_000
MAX_LEVELS = 1_000_000
MAX_STATE_VALUES = 1_000_000
MAX_NAME_CHARS = 10_000
_SCALARS = (str, int, float, bool)
STATEFUL = ("poly", "bs", "scale", "center")  # the transforms that learn state from data


def design_from_file(d: Any) -> DesignSpec | ArraySpec:
    """The :class:`DesignSpec` (or :class:`ArraySpec`, for an array input) stored in a model
    file, or :class:`ModelFileError`."""
    if not isinstance(d, dict):
        _refuse("the design is not a JSON object")
    if "array" in d:
        return _array_design(d)
    formula, rhs = _text(d, "formula"), _text(d, "rhs")
    response = _names(d, "response_columns", MAX_COLUMNS)
    variables = _names(d, "variables", MAX_COLUMNS)
    columns = _names(d, "columns", MAX_COLUMNS)
    transform = d.get("response_transform")
    if transform is not None and transform not in RESPONSE_FORMS:
        _refuse(f"response transform {transform!r} is not one of {sorted(RESPONSE_FORMS)}")
    offsets = _check_formula(formula, rhs, response, transform, variables)
    if d.get("offsets", []) != offsets:
        _refuse(f"its offsets {str(d.get('offsets'))[:200]} are not the offset terms of "
                f"formula {formula!r}")
    _check_levels(d.get("levels"), variables)
    kinds = d.get("kinds", {})  # absent from files written before kinds were stored
    if not isinstance(kinds, dict) or not set(kinds) <= set(variables) or not all(
            k in KINDS for k in kinds.values()):
        _refuse(f"'kinds' must map columns of the formula to one of {list(KINDS)}")
    _check_state(d.get("transform_state"), rhs)
    if not isinstance(d.get("intercept"), bool):
        _refuse("'intercept' is not true or false")
    for key in ("center", "scale"):
        values = d.get(key)
        if not isinstance(values, list) or len(values) != len(columns) or not all(
                _finite(v) for v in values):
            _refuse(f"'{key}' is not {len(columns)} finite numbers (one per design column)")
    if not all(v > 0 for v in d["scale"]):
        _refuse("'scale' holds a value that is not positive")
    return DesignSpec.from_json(d)


def _array_design(d: dict) -> ArraySpec:
    """An array input's spec: its tabular design vetted as any, the array's name, shape and
    scaling checked, and the full formula must split into exactly that tabular formula."""
    info = d["array"]
    if not isinstance(info, dict) or set(info) != {"name", "shape", "center", "scale"}:
        _refuse("'array' is not an object with name, shape, center and scale")
    name, shape = info["name"], info["shape"]
    if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME_CHARS:
        _refuse("the array's name is not a name")
    if not isinstance(shape, list) or not 1 <= len(shape) <= MAX_ARRAY_RANK - 1 or not all(
            isinstance(s, int) and not isinstance(s, bool) and 1 <= s <= MAX_COLUMNS
            for s in shape) or math.prod(shape) > MAX_COLUMNS:
        _refuse(f"the array's shape {str(shape)[:60]} is not 1 to {MAX_ARRAY_RANK - 1} sizes")
    if not (_finite(info["center"]) and _finite(info["scale"]) and info["scale"] > 0):
        _refuse("the array's center and scale are not finite numbers (scale > 0)")
    formula, tabular_formula = _text(d, "formula"), _text(d, "tabular_formula")
    tabular = design_from_file({**{k: v for k, v in d.items()
                                   if k not in ("array", "tabular_formula")},
                                "formula": tabular_formula})
    try:
        split = split_formula(formula, {name: np.empty((0, *shape))})
    except FormulaError as exc:
        _refuse(f"its formula is not one dlstat would accept ({exc})")
    if split != (tabular.formula, name):
        _refuse(f"formula {formula!r} does not match its tabular part {tabular_formula!r}")
    return ArraySpec(formula, name, tuple(shape), float(info["center"]),
                     float(info["scale"]), tabular)


def _check_formula(formula: str, rhs: str, response: list[str], transform: str | None,
                   variables: list[str]) -> list[str]:
    """Vet the stored formula and right-hand side; return the formula's offset terms."""
    try:
        parsed = parse_formula(formula, response + variables)
        vet_rendered_rhs(rhs, variables)
    except FormulaError as exc:
        _refuse(f"its formula is not one dlstat would accept ({exc})")
    if parsed.response_columns != response or parsed.response_transform != transform:
        _refuse(f"the response {response} does not match formula {formula!r}")
    if not set(parsed.variables) <= set(variables):
        _refuse(f"formula {formula!r} uses columns not listed among {variables[:12]}")
    return parsed.offsets


def _check_levels(levels: Any, variables: list[str]) -> None:
    if not isinstance(levels, dict) or not set(levels) <= set(variables):
        _refuse("'levels' must map factor columns of the formula to their levels")
    total = 0
    for col, values in levels.items():
        ok = isinstance(values, list) and all(
            isinstance(v, _SCALARS) and (not isinstance(v, float) or math.isfinite(v))
            and (not isinstance(v, str) or len(v) <= MAX_NAME_CHARS) for v in values)
        if not ok or len(set(map(repr, values))) != len(values):
            _refuse(f"the levels of {col!r} are not distinct text or number values")
        total += len(values)
    if total > MAX_LEVELS:
        _refuse(f"it lists {total} factor levels (at most {MAX_LEVELS})")


def _check_state(state: Any, rhs: str) -> None:
    """Transform state: keyed by transforms of the right-hand side, holding numbers only."""
    if not isinstance(state, dict):
        _refuse("'transform_state' is not a JSON object")
    calls = sum(rhs.count(f"{name}(") for name in STATEFUL)
    if len(state) > calls:
        _refuse(f"it holds state for {len(state)} transforms; the formula has {calls}")
    for key, value in state.items():
        # formulaic keys state by its own spelling of the call (odd names sanitised)
        if not (isinstance(key, str) and key.split("(", 1)[0] in STATEFUL
                and len(key) <= len(rhs)):
            _refuse(f"transform state {str(key)[:60]!r} belongs to no transform of the formula")
        if _count_numbers(value) > MAX_STATE_VALUES:
            _refuse(f"the state of {key[:60]!r} is too large")


def _count_numbers(value: Any, depth: int = 0) -> int:
    if depth > 6:
        _refuse("transform state nests too deeply")
    if value is None or isinstance(value, bool) or _finite(value):
        return 1
    if isinstance(value, list):
        return sum(_count_numbers(v, depth + 1) for v in value) + 1
    if isinstance(value, dict) and all(isinstance(k, str) and k.isidentifier()
                                       or k == "__items__" for k in value):
        return sum(_count_numbers(v, depth + 1) for v in value.values()) + 1
    _refuse(f"transform state holds {type(value).__name__} {str(value)[:60]!r}, not numbers")
    return 0


def _text(d: dict, key: str) -> str:
    value = d.get(key)
    if not isinstance(value, str):
        _refuse(f"'{key}' is not text")
    return value


def _names(d: dict, key: str, limit: int) -> list[str]:
    value = d.get(key)
    if not isinstance(value, list) or len(value) > limit or not all(
            isinstance(v, str) and 0 < len(v) <= MAX_NAME_CHARS for v in value):
        _refuse(f"'{key}' is not a list of names")
    if len(set(value)) != len(value):
        _refuse(f"'{key}' names a column twice")
    return value


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _refuse(why: str) -> None:
    raise ModelFileError(f"the model file's design was refused: {why}. The file is damaged "
                         "or was edited; refit the model and save it again.")
