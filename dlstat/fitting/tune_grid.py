"""The configurations ``tune_dnn()`` tries: a grid's combinations or random draws from it,
each value checked against the options table, and how the configurations form stacks.

Whether an option can be tuned, whether configurations differing in it share a stack, and
which of its values is simpler all come from the table (``Option.tune``, ``Option.simpler``).
"""

from __future__ import annotations

import difflib
import itertools
import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import DlstatError, OptionError, OptionTypeError
from ..options import (
    APART,
    DNN,
    IN_STACK,
    LARGER,
    LAYERS,
    NUMBER,
    OPTIONS,
    WHOLE,
    WIDTHS,
    Option,
    option,
    options_for,
)

MAX_CONFIGURATIONS = 10_000  # every one trains once per fold: a larger grid is a mistake
LOG = "log"  # the third item of a range drawn uniformly on the log scale


def tunable() -> list[str]:
    """The options tune_dnn() can vary, in table order."""
    return [o.name for o in options_for(DNN) if o.tune]


def configurations(grid: Any, n_random: int | None, seed: int,
                   fixed: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The configurations to try: every combination of ``grid``'s values, or ``n_random``
    draws from its lists and ``(low, high[, "log"])`` ranges (reproducible from ``seed``).
    Each is a dict of the tuned options only; duplicates are tried once."""
    if grid is None:
        raise OptionError("tune_dnn() needs grid=, the values to try, e.g. grid={'learning_rate'"
                          ": [0.01, 0.001], 'dropout': [0, 0.2]}.")
    entries = {name: _entry(name, values, n_random is not None, fixed)
               for name, values in grid.items()}
    if n_random is None:
        size = math.prod(len(v) for v in entries.values())
        if size > MAX_CONFIGURATIONS:
            raise OptionError(f"the grid has {size:,} combinations, more than "
                              f"{MAX_CONFIGURATIONS:,}; use fewer values, or draw some with "
                              "n_random=.")
        combos = [dict(zip(entries, values)) for values in itertools.product(*entries.values())]
    else:
        rng = np.random.default_rng([seed, 24])
        combos = [{name: _draw(rng, option(name), entry) for name, entry in entries.items()}
                  for _ in range(int(n_random))]
    unique: dict[str, dict[str, Any]] = {}
    for combo in combos:
        unique.setdefault(repr(sorted(combo.items())), combo)
    return list(unique.values())


def _entry(name: str, values: Any, random: bool, fixed: Mapping[str, Any]) -> Any:
    """A grid entry checked: a list of valid values, or (with n_random) a range."""
    row = _tunable_row(name)
    if name in fixed:
        raise OptionError(f"{name} is both in grid and given as a fixed option ({name}="
                          f"{fixed[name]!r}); give it in one place only.")
    if _is_range(row, values):
        if not random:
            raise OptionError(f"grid entry {name} = {values!r} is a range, which only n_random= "
                              f"draws from; give a list of values such as "
                              f"[{values[0]!r}, {values[1]!r}], or pass n_random=.")
        low, high = values[0], values[1]
        for end in (low, high):
            _check_value(row, end)
        if not low < high or (len(values) == 3 and (values[2] != LOG or low <= 0)):
            raise OptionError(f"grid entry {name}: range {values!r} must be (low, high) with low < "
                              f"high, or (low, high, 'log') with 0 < low < high.")
        return tuple(values)
    one_value = row.kind in (WIDTHS, LAYERS) and isinstance(values, tuple)  # e.g. (32, 16)
    if one_value or isinstance(values, (str, bytes, Mapping)) or not hasattr(values,
                                                                            "__iter__"):
        raise OptionTypeError(f"grid entry {name} must be a list of values to try, e.g. "
                              f"{{{name!r}: [{row.default!r}, ...]}}; got {values!r}"
                              f"{f' (one value: write [{values!r}])' if one_value else ''}.")
    items = list(itertools.islice(values, MAX_CONFIGURATIONS + 1))  # never an endless list
    if len(items) > MAX_CONFIGURATIONS:
        raise OptionError(f"grid entry {name} has more than {MAX_CONFIGURATIONS:,} values; give "
                          "fewer, or a (low, high) range with n_random=.")
    if not items:
        raise OptionError(f"grid entry {name} is empty; give at least one value to try.")
    for value in items:
        _check_value(row, value)
    return items


def _tunable_row(name: Any) -> Option:
    known = {o.name for o in OPTIONS}
    if not isinstance(name, str) or name not in known:
        hint = difflib.get_close_matches(str(name), tunable(), n=1)
        raise OptionTypeError(f"grid names an unknown option {name!r}"
                              f"{f' (did you mean {hint[0]!r}?)' if hint else ''}; options "
                              f"tune_dnn() can tune are {tunable()}.")
    if name not in tunable():
        raise OptionError(f"{name} cannot be tuned (it is not a setting of the network's "
                          f"training); give it as a fixed option, tune_dnn(..., {name}=...). "
                          f"Tunable options are {tunable()}.")
    return option(name)


def _check_value(row: Option, value: Any) -> None:
    value = _plain(value)
    try:
        row.check(value)
    except DlstatError as exc:
        raise type(exc)(f"grid entry {row.name}, value {value!r}: {exc} Remove it from the grid "
                        "or change it.") from None


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python number the options table checks."""
    return value.item() if isinstance(value, np.generic) else value


def _is_range(row: Option, values: Any) -> bool:
    return (row.kind in (NUMBER, WHOLE) and isinstance(values, tuple)
            and len(values) in (2, 3)
            and all(isinstance(v, numbers.Real) and not isinstance(v, bool)
                    for v in values[:2]))


def _draw(rng: np.random.Generator, row: Option, entry: Any) -> Any:
    if isinstance(entry, list):
        return _plain(entry[int(rng.integers(len(entry)))])
    low, high = float(entry[0]), float(entry[1])
    if len(entry) == 3:  # log-uniform
        value = float(np.exp(rng.uniform(np.log(low), np.log(high))))
    else:
        value = float(rng.uniform(low, high))
    return int(round(value)) if row.kind == WHOLE else value


def stack_key(config: Mapping[str, Any]) -> str:
    """Configurations with the same key train in one stack: they differ only in options the
    engine takes per network (``Option.tune == IN_STACK``)."""
    return repr(sorted((name, value) for name, value in config.items()
                       if option(name).tune == APART))


def simplicity(config: Mapping[str, Any]) -> tuple[float, ...]:
    """A sort key, smallest = simplest: each tuned option with a direction
    (``Option.simpler``), in table order — fewest hidden units, then most dropout, most
    penalty, smallest max-norm, fewest epochs."""
    key = []
    for row in options_for(DNN):
        if row.name in config and row.simpler:
            size = _size(row, config[row.name])
            key.append(-size if row.simpler == LARGER else size)
    return tuple(key)


def _size(row: Option, value: Any) -> float:
    """A value's size: a width tuple's units (None: no hidden layer), None as no limit."""
    if row.kind == WIDTHS:
        widths = () if value is None else (value,) if isinstance(value, numbers.Real) else value
        return float(sum(widths))
    return math.inf if value is None else float(value)


__all__ = ["IN_STACK", "configurations", "simplicity", "stack_key", "tunable"]
