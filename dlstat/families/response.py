"""Reading a response: numbers, classes, proportions, binomial counts, and the family
chosen from a response when none is given."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import ResponseError


def valid_levels(several: bool, levels: Any) -> bool:
    """Distinct text or number classes: two for binomial, at least two for multinomial."""
    if not isinstance(levels, list) or len(levels) > 1_000_000:
        return False
    scalars = all(isinstance(v, (str, int, float, bool)) for v in levels)
    count_ok = len(levels) >= 2 if several else len(levels) == 2
    return scalars and count_ok and len(set(map(repr, levels))) == len(levels)


def infer(response: pd.DataFrame) -> tuple[str, str]:
    if response.attrs.get("survival"):
        return "cox", "the response is Surv(time, status), so family = 'cox'"
    col = response.columns[0]
    y = response.iloc[:, 0]
    if response.shape[1] > 1:
        return "gaussian", "several numeric responses (cbind), so family = 'gaussian'"
    if pd.api.types.is_bool_dtype(y.dtype):
        return "binomial", f"response {col!r} is logical, so family = 'binomial'"
    if pd.api.types.is_numeric_dtype(y.dtype):
        values = set(np.unique(y.to_numpy(dtype=np.float64)))
        if values <= {0.0, 1.0} and len(values) == 2:
            return "binomial", f"response {col!r} holds only 0 and 1, so family = 'binomial'"
        return "gaussian", f"response {col!r} is numeric, so family = 'gaussian'"
    n = len(response_levels(y))
    family = class_family(n)
    return family, f"response {col!r} is a factor with {n} levels, so family = {family!r}"


def class_family(n_classes: int) -> str:
    """The family of a response with ``n_classes`` classes: binomial for two, else
    multinomial (``infer`` and the classifier choose alike)."""
    return "binomial" if n_classes == 2 else "multinomial"


def response_levels(y: pd.Series) -> list[Any]:
    if isinstance(y.dtype, pd.CategoricalDtype):
        present = set(y.dropna().unique())
        return [plain(v) for v in y.cat.categories if v in present]
    values = [plain(v) for v in y.dropna().unique()]
    if pd.api.types.is_numeric_dtype(y.dtype) and not pd.api.types.is_bool_dtype(y.dtype):
        bad = [v for v in values if v not in (0, 1)]
        if bad and len(values) > 20:
            raise ResponseError(
                f"response {y.name!r} is numeric with {len(values)} distinct values; a class "
                "family needs a factor, a logical or a 0/1 response. Use family='gaussian' or "
                "'poisson', or convert the response to a factor."
            )
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def codes(y: pd.Series, levels: list[Any]) -> np.ndarray:
    lookup = {v: i for i, v in enumerate(levels)}
    codes = np.array([lookup.get(plain(v), -1) for v in y], dtype=np.int64)
    if (codes < 0).any():
        unknown = sorted({str(v) for v, c in zip(y, codes) if c < 0})
        raise ResponseError(
            f"response {y.name!r} has class(es) {unknown} the model does not know "
            f"(classes: {levels}). Recode them or drop those rows."
        )
    return codes


def numeric(response: pd.DataFrame, family: str) -> np.ndarray:
    bad = [c for c in response.columns if not pd.api.types.is_numeric_dtype(response[c].dtype)
           or pd.api.types.is_bool_dtype(response[c].dtype)]
    if bad:
        kinds = {c: str(response[c].dtype) for c in bad}
        raise ResponseError(
            f"family={family!r} needs a numeric response; {kinds} is not numeric. Use "
            "family='binomial' or 'multinomial' for classes, or convert the column to numbers."
        )
    return response.to_numpy(dtype=np.float64).reshape(len(response), -1)


def is_proportion(y: pd.Series) -> bool:
    """A numeric (not logical) response within [0, 1]: 0/1 classes or proportions."""
    if not pd.api.types.is_numeric_dtype(y.dtype) or pd.api.types.is_bool_dtype(y.dtype):
        return False
    values = y.dropna().to_numpy(dtype=np.float64)
    return bool(len(values)) and bool(((values >= 0) & (values <= 1)).all())


def check_counts(response: pd.DataFrame, family: str = "binomial") -> None:
    """cbind(successes, failures): finite, non-negative numbers."""
    values = numeric(response, family)
    if not np.isfinite(values).all() or (values < 0).any():
        raise ResponseError(
            f"cbind({', '.join(map(str, response.columns))}) with family={family!r} is "
            f"successes and failures: non-negative counts; got minimum {np.nanmin(values):g}"
            f"{' and non-finite values' if not np.isfinite(values).all() else ''}. Fix those "
            "rows, or give proportions with weights= the trials.")


def proportions(response: pd.DataFrame) -> np.ndarray:
    """successes / trials per row (0 where there are no trials, as R's binomial())."""
    values = numeric(response, "binomial")
    trials = values.sum(axis=1)
    return np.where(trials > 0, values[:, 0] / np.where(trials > 0, trials, 1.0), 0.0)


def plain(v: Any) -> Any:
    """NumPy scalars as Python ones, and whole floats as ints (levels 0/1, not 0.0/1.0)."""
    v = v.item() if isinstance(v, np.generic) else v
    return int(v) if isinstance(v, float) and v.is_integer() else v
