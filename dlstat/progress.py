"""Progress bars: one rule for every fitting function.

With ``verbose >= 1`` work shows a ``tqdm.auto`` bar (text in a terminal, a widget in a
notebook) once it has run for ``DELAY_SECONDS``, so quick fits print nothing; ``verbose=0`` is
silent.  As tqdm does by default, no bar is drawn when the output is not a terminal (logs,
pipes, CI).  Training bars count epochs and show the mean training and validation loss of the
networks still training.
"""

from __future__ import annotations

from typing import Any

import numpy as np

DELAY_SECONDS = 3.0
MIN_INTERVAL = 0.1  # seconds between redraws (tqdm's default)


def progress_bar(verbose: int, total: int, desc: str, unit: str = "it") -> Any | None:
    """A tqdm bar for ``total`` steps of ``desc``, or None when nothing is to be shown."""
    if not verbose:
        return None
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, unit=unit, delay=DELAY_SECONDS, disable=None,
               leave=False, dynamic_ncols=True, mininterval=MIN_INTERVAL)
    if bar.disable:  # not a terminal: nothing will be drawn
        bar.close()
        return None
    return bar


class EpochProgress:
    """A training bar updated by the engine once per epoch (``job.on_epoch``)."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar

    @classmethod
    def start(cls, verbose: int, epochs: int, networks: int = 1,
              expected_seconds: float = float("inf")) -> EpochProgress | None:
        """The bar for up to ``epochs`` epochs, or None when no bar is to be shown.

        Work expected to end before the bar's delay shows none, so the engine can run its
        cached graph (a graph that reports epochs cannot be cached on disk).
        """
        if expected_seconds < DELAY_SECONDS:
            return None
        desc = "training" if networks == 1 else f"training {networks} networks"
        bar = progress_bar(verbose, epochs, desc, unit="epoch")
        return None if bar is None else cls(bar)

    def __call__(self, epoch: int, loss: np.ndarray, val_loss: np.ndarray) -> None:
        """Show epoch ``epoch`` (1-based) with the networks' mean losses."""
        shown = {"loss": _mean(loss), "val_loss": _mean(val_loss)}
        self.bar.set_postfix({k: f"{v:.4g}" for k, v in shown.items() if v is not None},
                             refresh=False)
        self.bar.update(epoch - self.bar.n)

    def close(self) -> None:
        self.bar.close()


def _mean(values: np.ndarray) -> float | None:
    """Mean over the networks that report a value (stopped networks report NaN)."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    return float(finite.mean()) if finite.size else None
