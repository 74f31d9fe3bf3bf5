"""Whether a network was trained to convergence, and what bootstrap inference does when not.

An under-fitted network gives biased effects, and the bootstrap replicates share that bias, so
their intervals are narrow around the wrong value: on y = sin(x1) + 0.5 x2^2 + x3 + N(0, 0.5^2)
(n = 200, hidden=(16,)), Adam at 100 epochs gave the effect of x1 as 0.62 against 0.45 and no
nominal 90% interval covered it (``benchmarks/bench_coverage.py``).  So bootstrap intervals are
refused (NaN, with the reason) when the full-data fit or more than
:data:`MAX_UNCONVERGED_SHARE` of its replicates (the median one) were still improving when
training ended.

A fit is *still improving* when it ran to its epoch limit and its training loss fell by more
than :data:`PLATEAU_TOLERANCE` (relative) over the last :data:`PLATEAU_WINDOW` of its epochs
(at least :data:`MIN_WINDOW`).  A fit that stopped before the limit (early stopping, or L-BFGS
meeting its tolerances) has converged.  Measured on that simulation: the loss fell 7% over the
last 10% of epochs at Adam's 100 (replicates: median 6.6%), 1.0% at 500 (median 1.9%;
x1 still 0.60), 0.7% with L-BFGS at 1000 iterations (median 0.1%, a few replicates up to 3%,
slowly fitting noise).  SciPy's
own L-BFGS flag is not used: its tolerances (ftol 1e-15) are at machine precision, which a
network's loss approaches forever.  A replicate that diverged already stops the whole fit with a
:class:`~dlstat.errors.DivergenceError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .fit import DNNFit

PLATEAU_WINDOW = 0.1  # the last tenth of the epochs
MIN_WINDOW = 5
PLATEAU_TOLERANCE = 0.01  # relative fall of the training loss over the window
MAX_UNCONVERGED_SHARE = 0.5


def still_improving(fit: DNNFit) -> float | None:
    """The relative fall of ``fit``'s training loss over the last tenth of its epochs when it
    ran to its epoch limit and that fall exceeds :data:`PLATEAU_TOLERANCE`; else ``None``."""
    loss = fit.history["loss"].to_numpy(np.float64)
    loss = loss[np.isfinite(loss)]
    if len(loss) < 2 or fit.record.epochs_run < fit.options.max_epochs:
        return None
    window = min(len(loss) - 1, max(MIN_WINDOW, int(round(PLATEAU_WINDOW * len(loss)))))
    fall = (loss[-1 - window] - loss[-1]) / max(abs(loss[-1]), np.finfo(np.float64).tiny)
    return float(fall) if fall > PLATEAU_TOLERANCE else None


def unconverged_reason(fit: DNNFit) -> str | None:
    """Why ``fit``'s bootstrap intervals are refused (the full fit or too many replicates
    still improving), naming the fix; ``None`` when they are given."""
    if fit.bootstrap is None:
        return None
    full = still_improving(fit)
    replicates = [still_improving(r) for r in fit.bootstrap.fits]
    n_open = sum(r is not None for r in replicates)
    if full is None and n_open <= MAX_UNCONVERGED_SHARE * len(replicates):
        return None
    what = []
    if full is not None:
        what.append(f"the full-data fit's training loss still fell {100 * full:.1f}% over its "
                    "last tenth of epochs")
    if n_open:
        what.append(f"{n_open} of {len(replicates)} replicates were still improving")
    return ("Intervals refused (NaN): not converged at epochs="
            f"{fit.options.max_epochs}: " + "; ".join(what) + ". An under-fitted network's "
            "effects are biased and its bootstrap intervals do not cover them. Refit trained to "
            "convergence, e.g. dnn(..., bootstrap=100, optimizer='lbfgs', penalty=1e-3) (the "
            "calibrated recipe, see benchmarks/bench_coverage.py), or with more epochs.")
