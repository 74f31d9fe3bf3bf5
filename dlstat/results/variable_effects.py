"""Average marginal effects per input variable, as marginaleffects' ``avg_slopes()`` and
``avg_comparisons()`` define them (their defaults: ``type="response"``, averaged over rows).

Each effect moves one *input variable* of the data and replays the whole design through the
fitted spec, so every column built from it (``poly``, ``bs``, ``I(x^2)``, interactions) moves
together, and everything else stays at each row's observed values:

- a numeric variable: the average derivative of the response-scale prediction, by the centred
  difference ``(f(x + h/2) - f(x - h/2)) / h`` with ``h = 1e-4 *`` the variable's range in the
  training rows (marginaleffects' ``eps``; 1e-4 when the range is 0);
- a factor or logical variable: for each level but the first, the average difference of the
  predictions with every row set to that level and to the first (marginaleffects'
  ``"reference"`` contrasts, labelled ``"b - a"``).

Rows keep their offset: it is evaluated from each row as R's ``predict`` does (so an offset
that is a function of the moved variable moves with it).

Inference.  A GLM (``hidden=()``, no penalty, one response): the delta method, the Jacobian of
the averaged effect with respect to the coefficients (exact: ``dmu/dbeta = mu_eta(eta) * z``
at each moved design row ``z``) times R's ``vcov`` with aliased coefficients left out; normal
statistics and intervals, as marginaleffects.  A network fitted with ``bootstrap=B``: the
effect of each replicate on the same rows (sd, percentile interval), refused (NaN, with the
reason) when the network was not trained to convergence (:mod:`dlstat.results.convergence`).
Otherwise estimates only.  ``hypothesis=`` and ``equivalence=`` are in :mod:`dlstat.results.hypothesis`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError, OptionError
from ..formula.design import DesignSpec
from ..formula.parse import OFFSET_COLUMN
from ..formula.tokens import tokenize
from .bootstrap import percentile_interval
from .convergence import unconverged_reason
from .hypothesis import (
    apply_to_draws,
    apply_with_jacobian,
    check_equivalence,
    compile_hypothesis,
    equivalence_columns,
)

if TYPE_CHECKING:
    from .fit import DNNFit

STEP_FRACTION = 1e-4  # marginaleffects: eps = 1e-4 * diff(range(x)) of the model data
SLOPE = "dY/dX"
MAX_GROUPS = 1000


@dataclass
class Contrast:
    """One effect: the prediction at scenario ``high`` minus at ``low``, divided by ``step``."""

    term: str
    contrast: str
    high: int
    low: int
    step: float


@dataclass
class Scenarios:
    """The moved copies of the averaging rows, as standardised designs with their offsets."""

    designs: list[np.ndarray]
    offsets: list[np.ndarray | None]
    contrasts: list[Contrast]
    frame: pd.DataFrame  # the rows averaged over (those every scenario could predict)
    n_dropped: int


def effect_variables(spec: DesignSpec) -> list[str]:
    """The input variables the design columns are built from, in formula order (not those
    only in an offset)."""
    named = {t.text for t in tokenize(spec.rhs) if t.kind == "NAME"}
    return [v for v in spec.variables if v in named and v != OFFSET_COLUMN]


def chosen_variables(spec: DesignSpec, variables: Any) -> list[str]:
    """``variables=``: the requested effect variables, in the order given."""
    known = effect_variables(spec)
    if variables is None:
        if not known:
            raise OptionError("this model has no input variables (an intercept-only formula), "
                              "so it has no effects.")
        return known
    wanted = [variables] if isinstance(variables, str) else variables
    try:
        wanted = list(dict.fromkeys(wanted))
    except TypeError:
        raise OptionError(f"variables must be a variable name or a list of them; got "
                          f"{variables!r}.") from None
    unknown = [v for v in wanted if v not in known]
    if unknown or not wanted:
        raise OptionError(f"variables={variables!r}: {unknown or 'none'} not among the model's "
                          f"input variables {known}; name the data columns of the formula.")
    return wanted


def per_variable_available(fit: DNNFit) -> bool:
    """Whether effects per variable can be had without newdata."""
    return isinstance(fit.spec, DesignSpec) and fit.training_frame is not None


def averaging_rows(fit: DNNFit, newdata: pd.DataFrame | None) -> pd.DataFrame:
    """The rows effects are averaged over: ``newdata``, else the training rows' variables."""
    if newdata is not None:
        if not isinstance(newdata, pd.DataFrame):
            raise DataError(f"newdata must be a data frame; got {type(newdata).__name__}.")
        return newdata
    if fit.training_frame is not None:
        return fit.training_frame
    fit.training_data()  # a loaded model: its clear error
    raise DataError("this fit does not hold its training rows' variables; pass newdata= (the "
                    "rows to average the effects over), or per='column'.")


def build_scenarios(fit: DNNFit, frame: pd.DataFrame, variables: list[str]) -> Scenarios:
    """The moved copies of ``frame``'s complete rows for each variable's effects."""
    spec = fit.spec
    unseen = fit.options.unseen
    _, ok = spec.design(frame, unseen=unseen)
    frame = frame.iloc[np.flatnonzero(ok)]
    n_dropped = int((~ok).sum())
    model = fit.training_frame if fit.training_frame is not None else frame
    frames, contrasts = [], []
    for v in variables:
        column = frame[v]
        if v in spec.levels:
            levels = spec.levels[v]
            first = len(frames)
            for level in levels:
                moved = column.copy()
                moved.iloc[:] = level
                frames.append(frame.assign(**{v: moved}))
            contrasts += [Contrast(v, f"{level} - {levels[0]}", first + i, first, 1.0)
                          for i, level in enumerate(levels) if i]
            continue
        if not pd.api.types.is_numeric_dtype(column.dtype) or \
                pd.api.types.is_bool_dtype(column.dtype):
            raise DataError(f"variable {v!r} is {column.dtype}, neither numeric nor a factor "
                            "of the model, so it has no slope; use per='column'.")
        x = column.to_numpy(np.float64)
        seen = model[v].to_numpy(np.float64)
        seen = seen[np.isfinite(seen)]
        h = STEP_FRACTION * float(np.ptp(seen)) if len(seen) else 0.0
        h = h if h > 0 else STEP_FRACTION
        frames += [frame.assign(**{v: x + h / 2}), frame.assign(**{v: x - h / 2})]
        contrasts.append(Contrast(v, SLOPE, len(frames) - 2, len(frames) - 1, h))
    built = [spec.design(f, unseen=unseen, what="the moved newdata") for f in frames]
    valid = np.logical_and.reduce([m for _, m in built]) if built else np.ones(len(frame), bool)
    designs = [X[valid[m]] for X, m in built]
    kept = np.flatnonzero(valid)
    offsets = [spec.offset(f.iloc[kept], np.ones(len(kept), bool)) for f in frames]
    return Scenarios(designs, offsets, contrasts, frame.iloc[kept],
                     n_dropped + int((~valid).sum()))


def scenario_means(fit: DNNFit, sc: Scenarios) -> list[np.ndarray]:
    """Response-scale predictions [n, k] of ``fit`` in each scenario, in one forward pass."""
    if not sc.designs:
        return []
    offset = None if sc.offsets[0] is None else np.concatenate(sc.offsets)
    mu = fit.family.mean(fit.link_of(np.vstack(sc.designs), offset))
    return np.split(mu, np.cumsum([len(X) for X in sc.designs])[:-1])


def row_effects(sc: Scenarios, mu: list[np.ndarray]) -> list[np.ndarray]:
    """Each contrast's per-row effect [n, k]."""
    return [(mu[c.high] - mu[c.low]) / c.step for c in sc.contrasts]


def row_gradients(fit: DNNFit, sc: Scenarios, kept: np.ndarray) -> list[np.ndarray]:
    """Each contrast's per-row gradient with respect to the kept coefficients [n, p]: the
    difference of ``mu_eta(eta) * z`` between its scenarios (a GLM with one response)."""
    from .inference import raw_design

    fam = fit.family
    grads = []
    for X, offset in zip(sc.designs, sc.offsets):
        eta = fam.link_scale(fit.link_of(X, offset))[:, 0]
        grads.append(fam.mu_eta(eta)[:, None] * raw_design(fit, X)[:, kept])
    return [(grads[c.high] - grads[c.low]) / c.step for c in sc.contrasts]


def groups_of(frame: pd.DataFrame, by: Any) -> tuple[list[str], list[tuple], list[np.ndarray]]:
    """``by=``: the grouping columns, each group's values and its row positions (groups in
    sorted order); one group of every row without ``by``."""
    if by is None or by is False:
        return [], [()], [np.arange(len(frame))]
    columns = [by] if isinstance(by, str) else list(by)
    missing = [c for c in columns if not isinstance(c, str) or c not in frame.columns]
    if missing or not columns:
        raise DataError(f"by={by!r}: {missing or 'none'} not a column of the rows effects are "
                        f"averaged over (columns: {list(map(str, frame.columns))[:12]}); to "
                        "group by a column outside the model, pass newdata= holding it.")
    keys = frame[columns].reset_index(drop=True)
    grouped = keys.groupby(columns, sort=True, observed=True, dropna=True).indices
    if len(grouped) > MAX_GROUPS:
        raise DataError(f"by={by!r} gives {len(grouped)} groups (more than {MAX_GROUPS}); "
                        "group by a coarser column.")
    values = [k if isinstance(k, tuple) else (k,) for k in grouped]
    return columns, values, [np.asarray(p) for p in grouped.values()]


@dataclass
class EffectTable:
    """Rows of effects before inference: labels, estimates [m] and the pieces of their
    uncertainty (Jacobian [m, p] with the covariance, or bootstrap draws [B, m])."""

    rows: pd.DataFrame
    estimate: np.ndarray
    sd: np.ndarray | None
    jacobian: np.ndarray | None = None
    vcov: np.ndarray | None = None
    draws: np.ndarray | None = None


def delta_applies(fit: DNNFit) -> bool:
    """Whether the delta method gives the effects' standard errors (a GLM, one response)."""
    from .inference import has_covariance, wald_applies

    return (wald_applies(fit) and fit.topology.n_outputs == 1
            and not fit.family.kind.several_classes and has_covariance(fit))


def effect_table(fit: DNNFit, variables: Any, by: Any,
                 newdata: pd.DataFrame | None) -> tuple[EffectTable, str]:
    """The effects averaged over the rows (per ``by`` group), with what their inference needs,
    and a note on the rows."""
    from .inference import aliased_mask, vcov_matrix

    if not isinstance(fit.spec, DesignSpec):
        raise OptionError("effects per variable need a formula over a data frame; for a model "
                          "with an array input use effects(per='column').")
    chosen = chosen_variables(fit.spec, variables)
    frame = averaging_rows(fit, newdata)
    sc = build_scenarios(fit, frame, chosen)
    if not len(sc.frame):
        raise DataError("no complete rows to average the effects over; check newdata.")
    columns, values, positions = groups_of(sc.frame, by)
    outputs = fit.family.output_names
    k = len(outputs)
    effects = row_effects(sc, scenario_means(fit, sc))
    labels = [(c, g) for c in range(len(sc.contrasts)) for g in range(len(values))]
    estimate = np.array([effects[c][positions[g]].mean(axis=0) for c, g in labels])
    sd = np.array([effects[c][positions[g]].std(axis=0, ddof=1) if len(positions[g]) > 1
                   else np.zeros(k) for c, g in labels])
    rows = pd.DataFrame({"term": [sc.contrasts[c].term for c, _ in labels],
                         "contrast": [sc.contrasts[c].contrast for c, _ in labels]})
    for i, name in enumerate(columns):
        rows[name] = [values[g][i] for _, g in labels]
    table = EffectTable(rows, estimate, sd)  # [m, k] until flattened
    if delta_applies(fit):
        kept = ~aliased_mask(fit)
        grads = row_gradients(fit, sc, kept)
        table.jacobian = np.array([grads[c][positions[g]].mean(axis=0) for c, g in labels])
        table.vcov = vcov_matrix(fit)[np.ix_(kept, kept)]
    elif fit.bootstrap is not None and unconverged_reason(fit) is None:
        draws = []
        for replicate in fit.bootstrap.fits:
            rep = row_effects(sc, scenario_means(replicate, sc))
            draws.append([rep[c][positions[g]].mean(axis=0) for c, g in labels])
        table.draws = np.array(draws)  # [B, m, k]
    _flatten(table, outputs)
    where = (f"newdata ({len(sc.frame)} rows)" if newdata is not None
             else f"the training rows ({len(sc.frame)})")
    note = f"Averaged over {where}"
    if sc.n_dropped:
        note += f"; {sc.n_dropped} row(s) left out (missing or non-finite when moved)"
    return table, note + "."


def _flatten(table: EffectTable, outputs: list[str]) -> None:
    """Estimates [m, k] to one row per effect and output, output by output (the classes of a
    multinomial fit, as the per-column table), with a ``response`` column when k > 1."""
    k = len(outputs)
    table.estimate = table.estimate.T.ravel()
    table.sd = table.sd.T.ravel()
    if table.draws is not None:
        table.draws = table.draws.transpose(0, 2, 1).reshape(len(table.draws), -1)
    if k > 1:
        rows = pd.concat([table.rows.assign(response=str(o)) for o in outputs],
                         ignore_index=True)
        table.rows = rows[["response", *[c for c in rows.columns if c != "response"]]]


def inference_frame(estimate: np.ndarray, table: EffectTable, null: float,
                    level: float) -> pd.DataFrame:
    """std.error, statistic, p.value and the interval: delta method (normal), bootstrap
    (sd and percentile interval) or NaN."""
    from .inference import check_level

    upper = (1 + check_level(level)) / 2
    m = len(estimate)
    if table.jacobian is not None:
        J = table.jacobian
        se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", J, table.vcov, J), 0))
        q = stats.norm.ppf(upper)
        low, high = estimate - q * se, estimate + q * se
    elif table.draws is not None:
        se = table.draws.std(axis=0, ddof=1)
        low, high = percentile_interval(table.draws, level)
    else:
        return pd.DataFrame(np.nan, index=range(m), columns=["std.error", "statistic",
                                                            "p.value", "conf.low",
                                                            "conf.high"])
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (estimate - null) / se, np.nan)
    return pd.DataFrame({"std.error": se, "statistic": z,
                         "p.value": 2 * stats.norm.sf(np.abs(z)),
                         "conf.low": low, "conf.high": high})


def row_label(row: pd.Series, by: list[str]) -> str:
    """``x``, ``sex M - F`` and, with ``by``, `` [g = a]``."""
    label = str(row["term"])
    if row.get("contrast", SLOPE) != SLOPE:
        label += f" {row['contrast']}"
    if by:
        label += " [" + ", ".join(f"{c} = {row[c]}" for c in by) + "]"
    if "response" in row:
        label = f"{row['response']}:{label}"
    return label


def variable_effects(fit: DNNFit, level: float = 0.95, variables: Any = None, by: Any = None,
                     newdata: pd.DataFrame | None = None, hypothesis: Any = None,
                     equivalence: Any = None) -> tuple[pd.DataFrame, list[str]]:
    """The per-variable effects table (broom's columns, marginaleffects' rows) and its
    notes."""
    from .bootstrap import interval_note

    bounds = check_equivalence(equivalence)
    table, rows_note = effect_table(fit, variables, by, newdata)
    by_columns = [c for c in table.rows.columns if c not in ("response", "term", "contrast")]
    estimate = table.estimate
    compiled = compile_hypothesis(hypothesis, [row_label(r, by_columns)
                                               for _, r in table.rows.iterrows()])
    null = 0.0
    if compiled is None:
        out = table.rows.copy()
    else:
        null = compiled.null
        if table.jacobian is not None:
            estimate, table.jacobian = apply_with_jacobian(compiled, estimate, table.jacobian)
        else:
            estimate = np.asarray(compiled.apply(list(estimate)), np.float64)
            if table.draws is not None:
                table.draws = apply_to_draws(compiled, table.draws)
        out = pd.DataFrame({"term": compiled.labels})
        table.sd = None
    out["estimate"] = estimate
    inference = inference_frame(estimate, table, null, level)
    out = pd.concat([out.reset_index(drop=True), inference], axis=1)
    if bounds is not None:
        out = pd.concat([out, equivalence_columns(estimate, out["std.error"].to_numpy(),
                                                  bounds)], axis=1)
    if table.sd is not None:
        out["sd"] = table.sd
    notes = [_inference_note(fit, table, level, interval_note), rows_note,
             "Effects on the response scale per input variable (as marginaleffects' "
             "avg_slopes/avg_comparisons): numeric variables the average derivative (every "
             "column built from the variable moves), factors the average change from the "
             "reference level with the other variables at their observed values."]
    if compiled is not None:
        notes.append("hypothesis: b1, b2, ... are the rows of the table without hypothesis"
                     + (f"; tested against {null:g}." if null else "."))
    if bounds is not None:
        notes.append(f"Equivalence to [{bounds[0]:g}, {bounds[1]:g}]: two one-sided normal "
                     "tests (p.value.equiv, as marginaleffects).")
    return out, notes


def _inference_note(fit: DNNFit, table: EffectTable, level: float, interval_note) -> str:
    if table.jacobian is not None:
        return (f"std.error: delta method with the GLM's vcov (aliased coefficients left "
                f"out); normal statistics and {100 * level:g}% intervals, as marginaleffects.")
    if table.draws is not None:
        return interval_note(fit.bootstrap, level)
    refused = unconverged_reason(fit)
    if refused:
        return refused
    if not fit.topology.layers and fit.topology.n_outputs == 1 and fit.bootstrap is None:
        return ("Estimates only: the delta method needs an unpenalised GLM with its "
                "covariance; refit with bootstrap=100 for bootstrap intervals.")
    return interval_note(fit.bootstrap, level)
