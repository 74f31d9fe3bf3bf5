"""Average marginal effects and permutation importance of a network, with bootstrap inference.

By default effects are per input variable, as marginaleffects defines them (see
:mod:`dlstat.results.variable_effects`: the delta method for a GLM, the bootstrap for a
network).  With ``per="column"`` they are per design column, holding the other columns fixed, as a GLM coefficient is read:
a numeric column's effect is the average derivative of the response-scale prediction with
respect to that column on its original scale (central differences through the
standardisation); a factor's effect is, per non-reference level, the average change in the
prediction from the reference level to that level.  A multinomial fit has one block per class
(the class probability).  With ``hidden=()`` and the gaussian family a numeric column's effect
is its coefficient.

Importance is the increase of the mean deviance per row when one term's columns are permuted
(jointly, so a factor moves as one), measured on rows the network did not train on: each
bootstrap replicate's out-of-bag rows, or ``newdata``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import DataError, OptionError
from ..formula.rnames import r_symbol
from .bootstrap import inference_columns, interval_note, response_rows_of
from .convergence import unconverged_reason
from .protocol import Result, Summary, items_table, new_figure

if TYPE_CHECKING:
    from .fit import DNNFit

_STEP = 1e-4  # central-difference step, in standardised units of the column


@dataclass
class EffectGroup:
    """Design columns whose effect is reported together: one numeric column, or a factor's
    non-reference level columns (``factor=True``)."""

    term: str
    columns: list[int]
    factor: bool


@dataclass(repr=False)  # printed through its summary, as every Result
class BootstrapTable(Result):
    """A table of estimates with bootstrap inference (effects, importance): ``tidy()`` is the
    table, ``summary()`` adds significance codes and notes, ``plot()`` draws the intervals."""

    title: str
    call: str
    table: pd.DataFrame
    level: float
    n_replicates: int
    notes: list[str] = field(default_factory=list)
    labels: list[str] | None = None  # row labels of summary() and plot(); default row_labels

    def tidy(self) -> pd.DataFrame:
        """broom's columns ``term, estimate, std.error, statistic, p.value, conf.low,
        conf.high`` (``response`` first for a multinomial fit), plus ``sd``."""
        return self.table.copy()

    def glance(self) -> pd.DataFrame:
        """The number of rows, replicates and the interval level."""
        return pd.DataFrame([{"rows": len(self.table), "replicates": self.n_replicates,
                              "conf.level": self.level}])

    def summary(self) -> Summary:
        """The table with significance codes (as cito's and glm's summaries)."""
        return Summary(self.title, self.call, {"estimates": coded_table(self.table,
                                                                        self.labels),
                                               "legend": items_table(SIGNIF_ROWS)},
                       notes=list(self.notes), layouts={"legend": "items"},
                       captions={"estimates": self.title, "legend": "Legend"})

    def plot(self, ax=None):
        """Estimates with their intervals, one row each; returns the matplotlib Figure."""
        fig, ax = new_figure(ax, figsize=(6, 0.4 * len(self.table) + 1.5))
        labels = self.labels or row_labels(self.table)
        y = np.arange(len(self.table))[::-1]
        est = self.table["estimate"].to_numpy()
        err = np.vstack([est - self.table["conf.low"], self.table["conf.high"] - est])
        ax.errorbar(est, y, xerr=None if np.isnan(err).all() else err, fmt="o", capsize=3)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_yticks(y, labels)
        ax.set_title(self.title)
        return fig


SIGNIF_ROWS = [("Signif. codes", "0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1")]


def row_labels(table: pd.DataFrame) -> list[str]:
    """``term`` (``class:term`` for a multinomial fit)."""
    if "response" in table:
        return [f"{r}:{t}" for r, t in zip(table["response"], table["term"])]
    return [str(t) for t in table["term"]]


def coded_table(table: pd.DataFrame, labels: list[str] | None = None) -> pd.DataFrame:
    """Estimate, Std. Error, z value, Pr(>|z|) and R's significance codes, by row label
    (``labels``, default :func:`row_labels`)."""
    from .inference import signif_stars

    return pd.DataFrame({"Estimate": table["estimate"].to_numpy(),
                         "Std. Error": table["std.error"].to_numpy(),
                         "z value": table["statistic"].to_numpy(),
                         "Pr(>|z|)": table["p.value"].to_numpy(),
                         "": signif_stars(table["p.value"]),
                         "conf.low": table["conf.low"].to_numpy(),
                         "conf.high": table["conf.high"].to_numpy()},
                        index=pd.Index(labels or row_labels(table)))


def bootstrap_tables(fit: DNNFit) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """summary()'s effects and importance tables of a bootstrapped fit, with their notes."""
    if fit.bootstrap is None:
        return {}, []
    found = [summary_effects(fit), importance(fit)]
    tables = {"average_marginal_effects": coded_table(found[0].table, found[0].labels),
              "permutation_importance": coded_table(found[1].table),
              "bootstrap": items_table([("Replicates", fit.bootstrap.size), *SIGNIF_ROWS])}
    return tables, list(dict.fromkeys(found[0].notes + found[1].notes))


# ------------------------------------------------------------------------------ effects


def effect_groups(fit: DNNFit) -> list[EffectGroup]:
    """One group per numeric design column and per factor term."""
    groups: dict[str, EffectGroup] = {}
    out: list[EffectGroup] = []
    for j, (term, column) in enumerate(zip(fit.spec.terms(), fit.spec.names)):
        if is_factor_term(fit, term):
            if term not in groups:
                groups[term] = EffectGroup(term, [], True)
                out.append(groups[term])
            groups[term].columns.append(j)
        else:
            out.append(EffectGroup(column, [j], False))
    return out


def is_factor_term(fit: DNNFit, term: str) -> bool:
    """Whether ``term`` is a factor's main effect (``g``, ``C(g)``, ``factor(g)``)."""
    return factor_variable(fit, term) is not None


def factor_variable(fit: DNNFit, term: str) -> str | None:
    """The variable whose factor's main effect ``term`` is (as a user or R names it), or
    ``None``."""
    return next((v for v in fit.spec.levels
                 if term in (v, r_symbol(v), f"C({r_symbol(v)})", f"factor({r_symbol(v)})")),
                None)


def raw_to_standard(fit: DNNFit, j: int, raw: float) -> float:
    """A design value of column ``j`` on its original scale → the network's input scale."""
    return (raw - fit.spec.center[j]) / fit.spec.scale[j]


def effect_rows(fit: DNNFit, X: np.ndarray, groups: list[EffectGroup],
                offset: np.ndarray | None = None) -> list[tuple[str, np.ndarray]]:
    """Each effect's label and its per-row values [n, k] for the network ``fit`` at the rows
    ``X`` with their ``offset``."""
    designs, labels = [], []
    for g in groups:
        if g.factor:
            base = X.copy()
            base[:, g.columns] = [raw_to_standard(fit, j, 0.0) for j in g.columns]
            designs.append(base)
            for j in g.columns:
                level = base.copy()
                level[:, j] = raw_to_standard(fit, j, 1.0)
                designs.append(level)
                labels.append(fit.spec.names[j])
            continue
        j = g.columns[0]
        for step in (_STEP, -_STEP):
            moved = X.copy()
            moved[:, j] += step
            designs.append(moved)
        labels.append(g.term)
    return list(zip(labels, _differences(fit, groups, response_rows_of(fit, designs, offset))))


def _differences(fit: DNNFit, groups: list[EffectGroup],
                 mu: list[np.ndarray]) -> list[np.ndarray]:
    """Per-row effects from the predictions of :func:`effect_rows`' designs, in its order."""
    out, at = [], 0
    for g in groups:
        if g.factor:
            out += [mu[at + 1 + i] - mu[at] for i in range(len(g.columns))]
            at += 1 + len(g.columns)
        else:
            out.append((mu[at] - mu[at + 1]) / (2 * _STEP * fit.spec.scale[g.columns[0]]))
            at += 2
    return out


def summary_effects(fit: DNNFit) -> BootstrapTable:
    """The effects summary() shows: per variable, or per column for a fit whose variables it
    cannot move (an array input, no training frame)."""
    from .variable_effects import per_variable_available

    return effects(fit, per="variable" if per_variable_available(fit) else "column")


PER = ("variable", "column")


def effects(fit: DNNFit, level: float = 0.95, per: str = "variable", variables: Any = None,
            by: Any = None, newdata: pd.DataFrame | None = None, hypothesis: Any = None,
            equivalence: Any = None) -> BootstrapTable:
    """:meth:`DNNFit.effects`: average marginal effects per input variable (default) or per
    design column (``per="column"``)."""
    from .inference import check_level

    check_level(level)
    if per not in PER:
        raise OptionError(f"per must be one of {list(PER)}; got {per!r}.")
    if per == "column":
        given = {k: v for k, v in dict(variables=variables, by=by, newdata=newdata,
                                       hypothesis=hypothesis, equivalence=equivalence).items()
                 if v is not None}
        if given:
            raise OptionError(f"{sorted(given)} apply to effects per variable; drop them, or "
                              "use per='variable' (the default).")
        return column_effects(fit, level)
    from .variable_effects import row_label, variable_effects

    table, notes = variable_effects(fit, level, variables, by, newdata, hypothesis,
                                    equivalence)
    by_columns = [] if "contrast" not in table else \
        list(table.columns[list(table.columns).index("contrast") + 1:
                           list(table.columns).index("estimate")])
    labels = ([row_label(r, by_columns) for _, r in table.iterrows()]
              if "contrast" in table else [str(t) for t in table["term"]])
    return BootstrapTable("Average marginal effects", fit.call, table, level,
                          0 if fit.bootstrap is None else fit.bootstrap.size, notes, labels)


def column_effects(fit: DNNFit, level: float = 0.95) -> BootstrapTable:
    """Average marginal effects per design column with bootstrap inference."""
    X, _, _ = fit.training_data()
    offset = fit.priors.offset
    groups = effect_groups(fit)
    rows = effect_rows(fit, X, groups, offset)
    estimate = np.concatenate([v.mean(axis=0) for _, v in rows])
    sd = np.concatenate([v.std(axis=0, ddof=1) if len(v) > 1 else np.zeros(v.shape[1])
                         for _, v in rows])
    draws, refused = None, unconverged_reason(fit)
    if fit.bootstrap is not None and refused is None:
        draws = np.stack([np.concatenate([v.mean(axis=0)
                                          for _, v in effect_rows(r, X, groups, offset)])
                          for r in fit.bootstrap.fits])
    table = _labelled(fit, [name for name, _ in rows], estimate, draws, level)
    table["sd"] = sd
    notes = [refused or interval_note(fit.bootstrap, level),
             "Effects on the response scale, averaged over the training rows: numeric columns "
             "the derivative per unit of the column (others held fixed), factors the change "
             "from the reference level; sd: the spread of the individual rows' effects."]
    return BootstrapTable("Average marginal effects", fit.call, table, level,
                          0 if fit.bootstrap is None else fit.bootstrap.size, notes)


def _labelled(fit: DNNFit, names: list[str], estimate: np.ndarray, draws: np.ndarray | None,
              level: float) -> pd.DataFrame:
    """broom's table for estimates ordered [name][output], with a ``response`` column when
    there are several outputs (the classes of a multinomial fit)."""
    outputs = fit.family.output_names
    k = len(outputs)
    table = pd.DataFrame({"response": [str(o) for _ in names for o in outputs],
                          "term": [n for n in names for _ in outputs],
                          "estimate": estimate})
    table = pd.concat([table, inference_columns(estimate, draws, level)], axis=1)
    if k == 1:
        return table.drop(columns="response")
    by_class = np.argsort(np.tile(np.arange(k), len(names)), kind="stable")
    return table.iloc[by_class].reset_index(drop=True)


# --------------------------------------------------------------------------- importance


def importance_terms(fit: DNNFit) -> dict[str, list[int]]:
    """Each formula term and its design columns (permuted together)."""
    terms: dict[str, list[int]] = {}
    for j, term in enumerate(fit.spec.terms()):
        terms.setdefault(term, []).append(j)
    return terms


def permutation_importance(fit: DNNFit, X: np.ndarray, y: np.ndarray,
                           terms: dict[str, list[int]], seed: Any,
                           offset: np.ndarray | None = None) -> np.ndarray:
    """Mean-deviance increase per term when its columns are permuted among the rows ``X``
    (the rows keep their ``offset``)."""
    designs = [X]
    for t, cols in enumerate(terms.values()):
        order = np.random.default_rng([*seed, t]).permutation(len(X))
        shuffled = X.copy()
        shuffled[:, cols] = X[order][:, cols]
        designs.append(shuffled)
    deviance = [fit.family.deviance(y, mu) / len(y)
                for mu in response_rows_of(fit, designs, offset)]
    return np.array(deviance[1:]) - deviance[0]


def importance(fit: DNNFit, newdata: pd.DataFrame | None = None,
               level: float = 0.95) -> BootstrapTable:
    """:meth:`DNNFit.importance`: permutation importance with its bootstrap uncertainty."""
    from .inference import check_level

    check_level(level)
    terms = importance_terms(fit)
    seed = fit.options.seed_value
    notes = []
    if newdata is not None:
        X, y, offset = held_out_rows(fit, newdata)
        estimate = permutation_importance(fit, X, y, terms, (seed, 0), offset)
        notes.append(f"Measured on newdata ({len(X)} rows).")
    draws, refused = None, unconverged_reason(fit)
    # out-of-bag importance gives the estimate without newdata, and the interval unless refused
    if fit.bootstrap is not None and (newdata is None or refused is None):
        draws = out_of_bag_importance(fit, terms, seed)
        if newdata is None:
            estimate = draws.mean(axis=0)
            notes.append("Estimate: the mean over the bootstrap replicates of the importance on "
                         "each replicate's out-of-bag rows (the rows it did not train on).")
        if refused is not None:  # the estimate stands; its interval would not cover
            draws = None
    elif newdata is None:
        X, y, _ = fit.training_data()
        estimate = permutation_importance(fit, X, y, terms, (seed, 0), fit.priors.offset)
        notes.append("Measured on the training rows (optimistic): pass newdata= held-out rows, "
                     "or refit with bootstrap= for out-of-bag importance.")
    table = pd.DataFrame({"term": list(terms), "estimate": estimate})
    table = pd.concat([table, inference_columns(estimate, draws, level)], axis=1)
    notes.insert(0, refused or interval_note(fit.bootstrap, level))
    notes.append("Importance: increase of the mean deviance per row when the term's columns are "
                 "permuted (0: the network does not use the term).")
    return BootstrapTable("Permutation importance", fit.call, table, level,
                          0 if fit.bootstrap is None else fit.bootstrap.size, notes)


def out_of_bag_importance(fit: DNNFit, terms: dict[str, list[int]], seed: int) -> np.ndarray:
    """Each replicate's importance on its out-of-bag training rows, [B, terms]."""
    X, y, _ = fit.training_data()
    offset = fit.priors.offset
    rows = []
    for b, replicate in enumerate(fit.bootstrap.fits, 1):
        oob = fit.bootstrap.out_of_bag(b - 1)
        if len(oob) < 2:
            raise DataError(f"bootstrap replicate {b} has {len(oob)} out-of-bag row(s), too few "
                            "for its importance; use more data, or pass newdata=.")
        rows.append(permutation_importance(replicate, X[oob], y[oob], terms, (seed, b),
                                           None if offset is None else offset[oob]))
    return np.array(rows)


def held_out_rows(fit: DNNFit, data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray,
                                                             np.ndarray | None]:
    """Complete rows of ``data``: standardised design, natural-scale response and offset."""
    X, ok = fit.spec.design(data, unseen=fit.options.unseen)
    response = fit.spec.response(data.iloc[np.flatnonzero(ok)])
    known = response.notna().all(axis=1).to_numpy()
    if known.sum() < 2:
        raise DataError(f"newdata has {int(known.sum())} complete row(s) with a response; "
                        "importance needs at least 2.")
    offset = fit.spec.offset(data, ok)
    return (X[known], fit.family.target(response.iloc[np.flatnonzero(known)]),
            None if offset is None else offset[known])
