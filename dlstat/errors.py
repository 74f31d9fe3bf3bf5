"""One error hierarchy for everything dlstat refuses.

Every message says what is wrong, the value received and how to fix it.  Subclasses also derive
from the built-in exception a Python user would expect (``ValueError`` for bad values,
``TypeError`` for wrong types), so ``except ValueError`` keeps working in scikit-learn code.
"""

from __future__ import annotations


class DlstatError(Exception):
    """Root of every error dlstat raises on purpose."""


class FormulaError(DlstatError, ValueError):
    """The formula cannot be parsed, refers to unknown columns, or asks for code we do not run."""


class UnseenLevelError(DlstatError, ValueError):
    """New data holds a factor level the model never saw during fitting."""


class DataError(DlstatError, ValueError):
    """The data cannot be used: empty, missing values where they are refused, wrong shape."""


class ResponseError(DlstatError, ValueError):
    """The response does not suit the family (e.g. a 3-level factor with ``family='binomial'``)."""


class OptionError(DlstatError, ValueError):
    """An option has a value outside its allowed set or range."""


class OptionTypeError(DlstatError, TypeError):
    """An option has the wrong type."""


class DivergenceError(DlstatError, FloatingPointError):
    """Training produced a non-finite loss."""


class ModelFileError(DlstatError, ValueError):
    """A file is not a dlstat model file, or is damaged."""


class DatasetError(DlstatError, FileNotFoundError):
    """A data set is unknown or its files are absent."""


class ClusterError(DlstatError, RuntimeError):
    """The Dask cluster of ``client=`` cannot be trusted with a fit: nothing, or not a Dask
    scheduler, answers at its address in time, or its workers run other code."""


__all__ = [
    "ClusterError",
    "DataError",
    "DlstatWarning",
    "DatasetError",
    "DivergenceError",
    "DlstatError",
    "FormulaError",
    "ModelFileError",
    "OptionError",
    "OptionTypeError",
    "ResponseError",
    "UnseenLevelError",
]


class DlstatWarning(UserWarning):
    """Something the user should know about a fit (dropped rows, separation, unseen levels)."""


def warn(message: str, category: type[Warning] = DlstatWarning) -> None:
    """Warn, attributing the warning to the first caller outside dlstat (the user's line)."""
    import sys
    import warnings
    from pathlib import Path

    package = str(Path(__file__).resolve().parent)
    frame, level = sys._getframe(1), 1
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(package):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level + 1)
