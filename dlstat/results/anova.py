"""``dl.anova(fit0, fit1, ...)``: analysis of deviance between nested GLM fits, as R's
``anova(fit0, fit1, test = "Chisq")`` (or ``test = "F"`` for gaussian fits)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import OptionError, OptionTypeError
from .inference import (
    coefficient_names,
    df_residual,
    dispersion,
    require_glm,
    require_unpenalised,
    signif_stars,
)
from .protocol import Result, Summary

TESTS = ("Chisq", "F")


class AnovaResult(Result):
    """The analysis-of-deviance table of nested fits (one row per model, as R prints it).

    Built by :func:`dlstat.anova`.

    Parameters
    ----------
    table : pandas.DataFrame
        ``Resid. Df``, ``Resid. Dev``, ``Df``, ``Deviance`` and the test's columns.
    test : {'Chisq', 'F'}
        The test.
    formulas : list of str
        The models' formulas, smallest first.
    call : str
        The call as it would be typed.
    """

    def __init__(self, table: pd.DataFrame, test: str, formulas: list[str], call: str) -> None:
        self.table = table
        self.test = test
        self.formulas = formulas
        self.call = call

    def summary(self) -> Summary:
        """The table with significance codes, the models' formulas as notes."""
        p_column = self.table.columns[-1]
        shown = self.table.copy()
        shown[""] = signif_stars(shown[p_column])
        notes = [f"Model {i}: {f}" for i, f in enumerate(self.formulas, 1)]
        notes.append("Signif. codes: 0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1")
        return Summary(title="Analysis of Deviance Table", call=self.call,
                       tables={"deviance_table": shown}, notes=notes,
                       captions={"deviance_table": f"Likelihood-ratio tests ({self.test})"})

    def tidy(self) -> pd.DataFrame:
        """One row per model, broom's names (``term, df.residual, residual.deviance, df,
        deviance, statistic, p.value``)."""
        t = self.table
        out = pd.DataFrame({"term": self.formulas, "df.residual": t["Resid. Df"].to_numpy(),
                            "residual.deviance": t["Resid. Dev"].to_numpy(),
                            "df": t["Df"].to_numpy(), "deviance": t["Deviance"].to_numpy()})
        out["statistic"] = t["F"].to_numpy() if self.test == "F" else t["Deviance"].to_numpy()
        out["p.value"] = t.iloc[:, -1].to_numpy()
        return out

    def glance(self) -> pd.DataFrame:
        """The test used and the number of models."""
        return pd.DataFrame([{"test": self.test, "models": len(self.formulas)}])


def anova(*fits, test: str = "Chisq") -> AnovaResult:
    """Likelihood-ratio tests between nested GLM fits (``hidden=()``, no penalty), smallest
    first, as R's ``anova(fit0, fit1, test = "Chisq")``.

    The deviance differences are scaled by the dispersion of the largest model (1 for
    binomial, poisson and multinomial; deviance / df.residual for gaussian).  ``test="F"``
    (gaussian only) gives R's ``test = "F"``: (Deviance / Df) / dispersion on
    (Df, df.residual of the largest model).

    Parameters
    ----------
    *fits : DNNFit
        Two or more nested GLM fits on the same rows, smallest first.
    test : {'Chisq', 'F'}, default 'Chisq'
        The likelihood-ratio (chi-squared) test, or the F test for gaussian fits.

    Returns
    -------
    AnovaResult
        The analysis-of-deviance table, one row per model, as R prints it.

    Raises
    ------
    OptionError
        An unknown ``test``, networks with hidden layers or a penalty, fits that are not
        nested or not on the same rows.

    Examples
    --------
    >>> import dlstat as dl
    >>> mtcars = dl.datasets.load("mtcars")
    >>> small = dl.dnn("am ~ wt", mtcars, hidden=(), optimizer="lbfgs", verbose=0)
    >>> large = dl.dnn("am ~ wt + hp", mtcars, hidden=(), optimizer="lbfgs", verbose=0)
    >>> table = dl.anova(small, large).table
    >>> round(float(table["Deviance"].iloc[1]), 2)
    9.12
    """
    if test not in TESTS:
        raise OptionError(f"test must be one of {list(TESTS)}; got {test!r}.")
    _check_fits(fits, test)
    largest = fits[-1]
    scale = dispersion(largest)
    resid_df = np.array([df_residual(f) for f in fits], dtype=float)
    resid_dev = np.array([f.record.deviance for f in fits])
    df = np.r_[np.nan, -np.diff(resid_df)]
    deviance = np.r_[np.nan, -np.diff(resid_dev)]
    table = pd.DataFrame({"Resid. Df": resid_df, "Resid. Dev": resid_dev, "Df": df,
                          "Deviance": deviance}, index=pd.RangeIndex(1, len(fits) + 1))
    if test == "F":
        table["F"] = deviance / df / scale
        table["Pr(>F)"] = stats.f.sf(table["F"], df, resid_df[-1])
    else:
        table["Pr(>Chi)"] = stats.chi2.sf(deviance / scale, df)
    formulas = [f.spec.formula for f in fits]
    return AnovaResult(table, test, formulas, f"anova({', '.join(map(repr, formulas))}, "
                                              f"test={test!r})")


def _check_fits(fits: tuple, test: str) -> None:
    """Two or more unpenalised GLMs of one family on the same rows, each nested in the next."""
    from .fit import DNNFit

    if len(fits) < 2:
        raise OptionError(f"anova() compares nested fits: pass two or more, smallest first; got "
                          f"{len(fits)}.")
    for f in fits:
        if not isinstance(f, DNNFit):
            raise OptionTypeError(f"anova() takes fits made by dnn(); got {type(f).__name__}.")
        require_glm(f, "anova()")
        require_unpenalised(f, "anova()")
    families = {(f.family.name, f.family.link) for f in fits}
    if len(families) > 1:
        raise OptionError(f"anova() compares fits of one family and link; got "
                          f"{sorted(families)}.")
    if test == "F" and not fits[0].family.kind.estimates_dispersion:
        raise OptionError(f"test='F' is for families with an estimated dispersion (gaussian, "
                          f"Gamma, inverse.gaussian, quasi); these are {fits[0].family.name}, "
                          "whose dispersion is 1. Use test='Chisq'.")
    for small, big in zip(fits, fits[1:]):
        _check_nested(small, big)


def _check_nested(small, big) -> None:
    responses = [(f.spec.response_columns, f.spec.response_transform) for f in (small, big)]
    if responses[0] != responses[1]:
        raise OptionError(f"anova() compares fits of the same response; got "
                          f"{small.spec.formula!r} and {big.spec.formula!r}.")
    if small.record.n_obs != big.record.n_obs:
        raise OptionError(f"anova() needs fits on the same rows; {small.spec.formula!r} used "
                          f"{small.record.n_obs} rows and {big.spec.formula!r} used "
                          f"{big.record.n_obs}. Drop missing values before fitting both.")
    if small.has_training_data and big.has_training_data and \
            not small.training_data()[2].equals(big.training_data()[2]):
        raise OptionError(f"anova() needs fits on the same rows; {small.spec.formula!r} and "
                          f"{big.spec.formula!r} used different rows of the data.")
    if small.has_training_data and big.has_training_data and \
            not np.array_equal(small.priors.weights, big.priors.weights):
        raise OptionError(f"anova() needs fits with the same prior weights; "
                          f"{small.spec.formula!r} and {big.spec.formula!r} weigh the rows "
                          "differently. Fit both with the same weights=.")
    extra = set(coefficient_names(small)) - set(coefficient_names(big))
    if extra or len(coefficient_names(small)) >= len(coefficient_names(big)):
        raise OptionError(
            f"anova() needs each model nested in the next (smallest first): "
            f"{small.spec.formula!r} is not nested in {big.spec.formula!r}"
            + (f" (it has {sorted(extra)}, which the other lacks)" if extra else
               " (it has no fewer coefficients)") + ". Pass the smaller model first.")
