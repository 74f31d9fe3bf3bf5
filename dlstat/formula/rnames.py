"""Design columns and terms named as R names them, in both languages.

The formula language is R's, so every table that labels a coefficient or a design column
(``coef``, ``vcov``, ``confint``, ``tidy``, ``summary``, effects, ``model_matrix``) uses the
names R's ``model.matrix`` gives: ``factor(cyl)6`` for formulaic's ``C(cyl)[T.6]`` (when the
formula said ``factor()``), ``woolB:tensionM``, ``I(wt^2)``, ``I(hp/100)``,
``poly(disp, 2)1``, ``amTRUE``, ```my wt``` (a name R would quote).  The expressions are
spelled as R's ``deparse`` spells them (spaces around ``+ - * =``, none around ``/ ^``,
``TRUE``, ``1e+06``), and the variables of an interaction are ordered as they first appear in
the formula.  formulaic's own spelling stays inside the formula layer, where its brackets
mark the levels.
"""

from __future__ import annotations

import re

from ..errors import FormulaError
from .tokens import Token, closing, tokenize

_LEVELLED = re.compile(r"^(?P<base>.*)\[(?:T\.)?(?P<level>[^\[\]]*)\]$")
_R_LOGICAL = {"True": "TRUE", "False": "FALSE"}
_R_RESERVED = frozenset({
    "if", "else", "repeat", "while", "function", "for", "next", "break", "in", "TRUE", "FALSE",
    "NULL", "Inf", "NaN", "NA", "NA_integer_", "NA_real_", "NA_character_", "NA_complex_"})
_TIGHT = frozenset({"/", "^", "**", ":"})  # operators R's deparse writes without spaces
_PREFIX_AFTER = frozenset({"(", ",", "=", "+", "-", "*", "/", "^", "**", ":", "~"})


def r_names(columns: list[str], formula: str, variables: list[str]) -> list[str]:
    """formulaic's design ``columns`` as R's ``model.matrix`` names them for ``formula``
    (``variables``: the data columns it uses); a term without a level (``C(cyl)``,
    ``I(wt ** 2)``) becomes R's term label (``factor(cyl)``, ``I(wt^2)``)."""
    known = frozenset(variables)
    order = _variable_order(formula, variables)
    factors = {u for u in order if u.startswith("factor(")}
    named = []
    for column in columns:
        parts = [_r_part(p, known, factors) for p in split_interaction(column)]
        parts.sort(key=lambda part: order.get(part[0], len(order)))
        named.append(":".join(base + level for base, level in parts))
    return named


def split_interaction(column: str) -> list[str]:
    """``a:b[T.x]`` → ``["a", "b[T.x]"]``, splitting only outside brackets and backquotes."""
    parts, depth, start, quoted = [], 0, 0, False
    for i, ch in enumerate(column):
        if ch == "`":
            quoted = not quoted
        elif quoted:
            continue
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == ":" and depth == 0:
            parts.append(column[start:i])
            start = i + 1
    return parts + [column[start:]]


def r_symbol(name: str) -> str:
    """A variable name as R writes it in a term: backquoted unless syntactic."""
    first = name[:1]
    syntactic = bool(name) and (first.isalpha() or (
        first == "." and not name[1:2].isdigit())) and all(
        c.isalnum() or c in "._" for c in name) and name not in _R_RESERVED
    return name if syntactic else f"`{name}`"


def _r_part(part: str, known: frozenset[str], factors: set[str]) -> tuple[str, str]:
    """One factor of a column name: its expression and its level, in R's spelling."""
    if part in known:  # formulaic drops the backquotes of a bare column
        return r_symbol(part), ""
    match = _LEVELLED.match(part)
    base, level = (match["base"], match["level"]) if match else (part, "")
    if base in known:
        return r_symbol(base), _R_LOGICAL.get(level, level)
    tokens = _tokens(base)
    if tokens is None:
        return base.replace(" ** ", "^"), level
    text = deparse(tokens)
    if tokens[0].text == "C" and "factor" + text[1:] in factors:
        text = "factor" + text[1:]
    if level.isdigit() and text.startswith("poly(") and "raw = TRUE" in text:
        level = str(int(level) + 1)  # formulaic numbers a raw basis from 0, R from 1
    return text, _R_LOGICAL.get(level, level)


def _tokens(text: str) -> list[Token] | None:
    try:
        return tokenize(text)
    except FormulaError:
        return None


def deparse(tokens: list[Token]) -> str:
    """Tokens of an expression spelled as R's ``deparse`` spells it."""
    out: list[str] = []
    prev: Token | None = None
    for tok in tokens:
        if tok.kind == "NAME":
            text = r_symbol(tok.text) if tok.quoted else _R_LOGICAL.get(tok.text, tok.text)
        elif tok.kind == "NUMBER":
            text = r_number(tok.text)
        elif tok.text in ("(", ")"):
            text = tok.text
        elif tok.text == ",":
            text = ", "
        elif tok.text in _TIGHT:
            text = "^" if tok.text == "**" else tok.text
        elif tok.text in ("+", "-") and (prev is None or prev.kind == "OP"
                                         and prev.text in _PREFIX_AFTER):
            text = tok.text  # a sign
        else:
            text = f" {tok.text} "
        out.append(text)
        prev = tok
    return "".join(out)


def r_number(text: str) -> str:
    """A number as R prints it (15 significant digits, the shorter of fixed and scientific
    notation, fixed on a tie): ``2.0`` → ``2``, ``1000000`` → ``1e+06``."""
    value = float(text)
    mantissa, exponent = f"{value:.14e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    scientific = f"{mantissa}e{exponent[0]}{int(exponent[1:]):02d}"
    digits = len(mantissa.replace(".", "").replace("-", ""))
    places = max(0, digits - 1 - int(exponent))
    fixed = f"{value:.{places}f}"
    return fixed if len(fixed) <= len(scientific) else scientific


def _variable_order(formula: str, variables: list[str]) -> dict[str, int]:
    """The expressions of the formula's right-hand side (``wt``, ``log(hp)``, ``factor(cyl)``)
    in R's spelling, numbered in the order they first appear (``.`` stands for the data
    columns it expands to): the order R writes an interaction's variables in."""
    tokens = _tokens(formula)
    if tokens is None:
        return {}
    tilde = next((i for i, t in enumerate(tokens) if t.text == "~"), -1)
    rhs, order, i = tokens[tilde + 1:], {}, 0
    while i < len(rhs):
        tok = rhs[i]
        if tok.kind == "DOT":
            units = [r_symbol(v) for v in variables]
        elif tok.kind == "NAME" and i + 1 < len(rhs) and rhs[i + 1].text == "(":
            end = closing(rhs, i + 1)
            end = len(rhs) - 1 if end < 0 else end
            units, i = [deparse(rhs[i:end + 1])], end
        elif tok.kind == "NAME":
            units = [r_symbol(tok.text)]
        else:
            units = []
        for unit in units:
            order.setdefault(unit, len(order))
        i += 1
    return order
