"""R's layer specs: ``conv2d(16, 3)`` in R is ``dlstat.conv2d(16, 3)`` here.

Every R layer function (``R/layers.R``) is made by one factory that sends its name and
arguments to the ``"layer"`` endpoint; :func:`layer_from_call` calls the Python constructor of
the same name, so a new layer in :mod:`dlstat.architecture` needs one line in R and nothing
here.  R keeps the built spec as plain data (its JSON form, :func:`layer_to_r`), marked
``{"__dlstat__": "layer", "spec": {...}}``; :func:`architecture_from_r` reads a list of those
back when R fits.
"""

from __future__ import annotations

import inspect
from typing import Any

from .. import architecture
from ..errors import OptionError, OptionTypeError

LAYER_MARK = "layer"


def layer_from_call(name: str, names: list[str] | None, values: list[Any] | None) -> Any:
    """The layer ``name(...)`` with R's arguments: positional where ``names[i]`` is empty.

    R's whole-number doubles become ints and R vectors (lists) tuples; arguments that are
    layer specs from R (``bidirectional(lstm(8))``) are read back as layers.
    """
    constructor = _constructor(name)
    names = list(names or [])
    values = [_argument(v) for v in (values or [])]
    if any(isinstance(v, float) and v != v for v in values):
        raise OptionError(f"{name}() received NA (or NaN) for an argument; give a value, e.g. "
                          f"{name}{_arguments(constructor)}.")
    if len(names) != len(values):
        raise OptionTypeError(f"{name}() received {len(values)} arguments but {len(names)} "
                              "names; call it from the dlstat R package.")
    positional = [v for n, v in zip(names, values) if not n]
    keywords = {n: v for n, v in zip(names, values) if n}
    try:
        inspect.signature(constructor).bind(*positional, **keywords)
    except TypeError as exc:
        raise OptionTypeError(f"{name}() does not take these arguments ({exc}); its arguments "
                              f"are {name}{_arguments(constructor)}.") from None
    return constructor(*positional, **keywords)


def layer_to_r(layer: Any) -> dict[str, Any]:
    """A layer spec as R keeps it: the marked JSON form and its one-line description."""
    return {"__dlstat__": LAYER_MARK, "spec": architecture.to_json((layer,))[0],
            "text": architecture.describe(layer)}


def architecture_from_r(value: Any) -> Any:
    """``architecture=`` from R: a list whose layer specs (marked dicts) become layers.

    Anything else is passed on unchanged, so :func:`dlstat.architecture.resolve` words the
    error (and Python layer objects made through reticulate keep working).
    """
    if _is_layer(value):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return value
    return [_layer(v) if _is_layer(v) else v for v in value]


def _constructor(name: Any) -> Any:
    """The public layer constructor ``dlstat.architecture.<name>`` (annotated to return one)."""
    layer_types = {t.__name__ for t in architecture.LAYER_TYPES} | {"Layer"}
    function = getattr(architecture, name, None) if isinstance(name, str) and \
        name.isidentifier() and not name.startswith("_") else None
    returns = getattr(function, "__annotations__", {}).get("return")
    returns = getattr(returns, "__name__", returns)
    if not inspect.isfunction(function) or str(returns) not in layer_types:
        known = sorted(n for n, f in vars(architecture).items() if inspect.isfunction(f)
                       and not n.startswith("_")
                       and str(f.__annotations__.get("return")) in layer_types)
        raise OptionError(f"the dlstat Python package has no layer {name!r}; its layers are "
                          f"{known}. Upgrade the Python package (install_dlstat()) if the R "
                          "package is newer.")
    return function


def _arguments(constructor: Any) -> str:
    """``(units, activation = "relu")``: a constructor's arguments as R would write them."""
    parts = [p.name if p.default is inspect.Parameter.empty else f"{p.name} = {p.default!r}"
             for p in inspect.signature(constructor).parameters.values()]
    return f"({', '.join(parts)})"


def _argument(value: Any) -> Any:
    if _is_layer(value):
        return _layer(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return tuple(_argument(v) for v in value)
    return value


def _is_layer(value: Any) -> bool:
    return isinstance(value, dict) and value.get("__dlstat__") == LAYER_MARK


def _layer(value: dict[str, Any]) -> Any:
    spec = value.get("spec")
    try:
        return architecture.from_json([spec])[0]
    except (KeyError, TypeError, AttributeError):
        raise OptionTypeError(f"architecture holds a layer spec this dlstat Python package "
                              f"cannot read ({spec!r}); make layers with the R functions "
                              "dense(), conv2d(), ... of the same dlstat version.") from None


__all__ = ["LAYER_MARK", "architecture_from_r", "layer_from_call", "layer_to_r"]
