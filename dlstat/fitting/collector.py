"""Python's cyclic garbage collector paused during a call that allocates many small objects.

With TensorFlow imported the heap holds some 400,000 objects, and every full collection walks
all of them.  A path over a wide design (formula terms, design columns and fits by the tens of
thousands) sets off many: in ``bench_wide_path.py`` they took 1.2 s of 6 s (200 x 5,000) and
3.4 s of 18 s (200 x 20,000).  Paused, the cycles made meanwhile are collected afterwards, as
usual; reference counting frees everything else at once, as always.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def collector_paused(function: F) -> F:
    """``function`` run with the cyclic collector off (and back on, as it was, after)."""

    @functools.wraps(function)
    def paused(*args: Any, **kwargs: Any) -> Any:
        if not gc.isenabled():
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()

    return paused  # type: ignore[return-value]
