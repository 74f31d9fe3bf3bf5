"""Hypotheses about estimates and equivalence tests, as marginaleffects' ``hypothesis=`` and
``equivalence=`` define them.

A hypothesis turns the table's estimates ``b1, b2, ...`` (its rows, in order) into new
estimates:

- a number ``h``: each estimate is tested against ``h`` instead of 0;
- a keyword: ``"pairwise"`` (``b_i - b_j`` for every ``i > j``, column by column as
  marginaleffects' ``~pairwise``), ``"reference"`` (``b_i - b1``, ``i > 1``) or
  ``"sequential"`` (``b_i - b_(i-1)``);
- an equation in the row estimates, e.g. ``"b1 - b2 = 0"`` or ``"b1 / b2 = 1"``: its
  estimate is left side minus right side.  Only ``b<k>``, numbers, ``+ - * /``, ``**`` with a
  number exponent and parentheses are accepted; the text is parsed, never evaluated.

The same function maps bootstrap draws (arrays) and delta-method estimates
(:class:`Dual`: a value and its gradient with respect to the coefficients), so a ratio's
standard error is the chain rule's, not a numerical derivative's.

The equivalence test of ``equivalence=(low, high)`` is the two one-sided tests of
marginaleffects' ``equivalence()``: ``p.value.noninf`` = P(Z > (estimate − low) / se),
``p.value.nonsup`` = P(Z < (estimate − high) / se), ``p.value.equiv`` their maximum.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError

KEYWORDS = ("pairwise", "reference", "sequential")
MAX_HYPOTHESIS_CHARS = 500
MAX_PAIRS = 300  # as marginaleffects' guard against pairwise tables nobody can read
_ESTIMATE = re.compile(r"b([1-9][0-9]{0,5})")


@dataclass
class Dual:
    """A value and its gradient (forward-mode differentiation of a hypothesis)."""

    value: Any
    grad: np.ndarray
    __array_ufunc__ = None  # NumPy scalars defer to the reflected operators below

    def __add__(self, other):
        o = _dual(other, self)
        return Dual(self.value + o.value, self.grad + o.grad)

    __radd__ = __add__

    def __sub__(self, other):
        o = _dual(other, self)
        return Dual(self.value - o.value, self.grad - o.grad)

    def __rsub__(self, other):
        return _dual(other, self) - self

    def __mul__(self, other):
        o = _dual(other, self)
        return Dual(self.value * o.value, self.grad * o.value + o.grad * self.value)

    __rmul__ = __mul__

    def __truediv__(self, other):
        o = _dual(other, self)
        with np.errstate(divide="ignore", invalid="ignore"):
            return Dual(self.value / o.value,
                        (self.grad * o.value - o.grad * self.value) / o.value ** 2)

    def __rtruediv__(self, other):
        return _dual(other, self) / self

    def __neg__(self):
        return Dual(-self.value, -self.grad)

    def __pos__(self):
        return self

    def __pow__(self, exponent):
        if isinstance(exponent, Dual):
            raise TypeError("only a number exponent")
        with np.errstate(all="ignore"):
            return Dual(self.value ** exponent,
                        exponent * self.value ** (exponent - 1) * self.grad)


def _dual(x: Any, like: Dual) -> Dual:
    return x if isinstance(x, Dual) else Dual(x, np.zeros_like(like.grad))


@dataclass
class Hypothesis:
    """A compiled hypothesis: row labels and the map from the list of row estimates to the
    list of hypothesis estimates (``null``: the value each is tested against)."""

    labels: list[str]
    apply: Callable[[list[Any]], list[Any]]
    null: float = 0.0


def compile_hypothesis(hypothesis: Any, labels: list[str]) -> Hypothesis | None:
    """The :class:`Hypothesis` for ``hypothesis`` over rows labelled ``labels`` (``None``:
    none), or an error naming what is accepted."""
    if hypothesis is None:
        return None
    m = len(labels)
    if isinstance(hypothesis, (int, float, np.integer, np.floating)) and \
            not isinstance(hypothesis, bool):
        if not np.isfinite(hypothesis):
            raise OptionError(f"hypothesis must be finite; got {hypothesis!r}.")
        return Hypothesis(list(labels), lambda b: list(b), float(hypothesis))
    if not isinstance(hypothesis, str):
        raise OptionError(f"hypothesis must be a number, one of {list(KEYWORDS)} or an equation "
                          f"such as 'b1 - b2 = 0'; got {type(hypothesis).__name__}.")
    text = hypothesis.strip()
    if text in KEYWORDS:
        return _keyword(text, labels)
    return _equation(text, m)


def _keyword(name: str, labels: list[str]) -> Hypothesis:
    m = len(labels)
    if m < 2:
        raise OptionError(f"hypothesis={name!r} compares rows, and the table has {m}; choose "
                          "more variables (or by= groups), or drop hypothesis.")
    if name == "pairwise":
        pairs = [(i, j) for j in range(m) for i in range(j + 1, m)]
    elif name == "reference":
        pairs = [(i, 0) for i in range(1, m)]
    else:
        pairs = [(i, i - 1) for i in range(1, m)]
    if len(pairs) > MAX_PAIRS:
        raise OptionError(f"hypothesis={name!r} gives {len(pairs)} comparisons (more than "
                          f"{MAX_PAIRS}); choose fewer variables or groups.")
    return Hypothesis([f"({labels[i]}) - ({labels[j]})" for i, j in pairs],
                      lambda b: [b[i] - b[j] for i, j in pairs])


def _equation(text: str, m: int) -> Hypothesis:
    if len(text) > MAX_HYPOTHESIS_CHARS:
        raise OptionError(f"hypothesis of {len(text)} characters is longer than accepted "
                          f"({MAX_HYPOTHESIS_CHARS}).")
    sides = text.split("=")
    if len(sides) > 2 or any(not s.strip() for s in sides):
        raise OptionError(f"hypothesis {text!r} must be an expression or one equation "
                          "'left = right' in b1, b2, ... (e.g. 'b1 - b2 = 0', 'b1 / b2 = 1'), "
                          f"or one of {list(KEYWORDS)}.")
    trees = [_parse_side(s.strip(), text, m) for s in sides]

    def apply(b: list[Any]) -> list[Any]:
        values = [_evaluate(t, b) for t in trees]
        return [values[0] - values[1] if len(values) == 2 else values[0]]

    return Hypothesis([re.sub(r"\s+", "", text)], apply)


_ALLOWED_BINARY = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)


def _parse_side(side: str, text: str, m: int) -> ast.AST:
    """The vetted syntax tree of one side: b<k> (1 <= k <= m), numbers and arithmetic."""
    try:
        tree = ast.parse(side, mode="eval").body
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        raise OptionError(f"hypothesis {text!r} does not parse; write e.g. 'b1 - b2 = 0' with "
                          "b1, b2, ... the rows of the effects table.") from None
    try:
        nodes = list(ast.walk(tree))
    except RecursionError:
        raise OptionError(f"hypothesis {text!r} nests too deeply.") from None
    for node in nodes:
        if isinstance(node, ast.Name):
            found = _ESTIMATE.fullmatch(node.id)
            if found is None or int(found.group(1)) > m:
                raise OptionError(f"hypothesis {text!r} names {node.id!r}; the table has rows "
                                  f"b1 to b{m} (run effects() without hypothesis to see them).")
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise OptionError(f"hypothesis {text!r} holds {node.value!r}; only numbers "
                                  "and b1, b2, ... are accepted.")
        elif isinstance(node, ast.BinOp):
            if not isinstance(node.op, _ALLOWED_BINARY):
                raise OptionError(f"hypothesis {text!r} uses an operator other than "
                                  "+ - * / **.")
            if isinstance(node.op, ast.Pow) and not _is_number(node.right):
                raise OptionError(f"hypothesis {text!r}: an exponent must be a number.")
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise OptionError(f"hypothesis {text!r} uses an operator other than + -.")
        elif not isinstance(node, (ast.operator, ast.unaryop, ast.Load)):
            raise OptionError(f"hypothesis {text!r} holds {type(node).__name__}; only b1, b2, "
                              "..., numbers, + - * / ** and parentheses are accepted.")
    return tree


def _is_number(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp):
        return _is_number(node.operand)
    return isinstance(node, ast.Constant)


def _evaluate(node: ast.AST, b: list[Any]) -> Any:
    """The value of a vetted tree, the numbers as float64 (no exact integer powers)."""
    if isinstance(node, ast.Name):
        return b[int(node.id[1:]) - 1]
    if isinstance(node, ast.Constant):
        return np.float64(node.value)
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, b)
        return -value if isinstance(node.op, ast.USub) else value
    left, right = _evaluate(node.left, b), _evaluate(node.right, b)
    with np.errstate(all="ignore"):
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Div):
            return left / right
        return left ** right


def apply_to_draws(h: Hypothesis, draws: np.ndarray) -> np.ndarray:
    """The hypothesis of each bootstrap replicate's estimates, [B, q]."""
    out = h.apply([draws[:, i] for i in range(draws.shape[1])])
    return np.column_stack([np.broadcast_to(v, (len(draws),)) for v in out])


def apply_with_jacobian(h: Hypothesis, estimate: np.ndarray,
                        jacobian: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The hypothesis estimates and their Jacobian with respect to the coefficients, from the
    rows' ``estimate`` [m] and Jacobian [m, p]."""
    out = h.apply([Dual(e, g) for e, g in zip(estimate, jacobian)])
    out = [o if isinstance(o, Dual) else Dual(o, np.zeros(jacobian.shape[1])) for o in out]
    return (np.array([o.value for o in out], np.float64),
            np.array([o.grad for o in out], np.float64).reshape(len(out), jacobian.shape[1]))


def check_equivalence(equivalence: Any) -> tuple[float, float] | None:
    """``(low, high)`` or ``None``, else an error."""
    if equivalence is None:
        return None
    try:
        low, high = (float(v) for v in equivalence)
    except (TypeError, ValueError):
        raise OptionError(f"equivalence must be two numbers (low, high), the bounds of the "
                          f"equivalence region; got {equivalence!r}.") from None
    if not (np.isfinite(low) and np.isfinite(high) and low <= high):
        raise OptionError(f"equivalence bounds must be finite with low <= high; got "
                          f"({low}, {high}).")
    return low, high


def equivalence_columns(estimate: np.ndarray, se: np.ndarray,
                        bounds: tuple[float, float]) -> pd.DataFrame:
    """marginaleffects' two one-sided tests against ``bounds``, normal statistics."""
    from scipy import stats

    low, high = bounds
    with np.errstate(divide="ignore", invalid="ignore"):
        noninf = (estimate - low) / se
        nonsup = (estimate - high) / se
    p_noninf, p_nonsup = stats.norm.sf(noninf), stats.norm.cdf(nonsup)
    return pd.DataFrame({"statistic.noninf": noninf, "statistic.nonsup": nonsup,
                         "p.value.noninf": p_noninf, "p.value.nonsup": p_nonsup,
                         "p.value.equiv": np.maximum(p_noninf, p_nonsup)})
