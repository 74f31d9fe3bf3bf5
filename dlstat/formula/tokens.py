"""A small tokenizer for R-style formulas.

dlstat never hands a user's formula to an evaluator as written: it is split into tokens here, every
name is checked against the data's columns and every call against a whitelist of transforms
(``parse.py``), and only then rewritten for formulaic.  Characters that have no place in a
formula (quotes, brackets, braces, ``@``, ``$``, ``;`` …) are refused at this stage.
"""

from __future__ import annotations

import keyword
import re
from typing import NamedTuple

from ..errors import FormulaError

# A token after any whitespace: a backquoted name, a number, a name or an operator ('**'
# before '*'); one regular expression a token, so 100,000 tokens take a fraction of a second.
_PIECE = re.compile(r"""\s*(?:`(?P<quoted>[^`]*)`
    |(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    |(?P<name>[A-Za-z_.][A-Za-z0-9_.]*)|(?P<op>\*\*|[~+\-*/:^(),=]))""", re.X)
_SPACE = re.compile(r"\s*")
# Bounds that keep vetting (and formulaic after it) quick on hostile text; real formulas
# are far inside them.
MAX_FORMULA_CHARS = 20_000
MAX_NUMBER_CHARS = 32
MAX_DEPTH = 50


class Token(NamedTuple):
    """One piece of a formula: ``kind`` is NAME, NUMBER, DOT or OP.  A tuple, as '.' over
    50,000 columns makes 100,000 of them."""

    kind: str
    text: str
    pos: int
    quoted: bool = False


def tokenize(formula: str, max_chars: int = MAX_FORMULA_CHARS) -> list[Token]:
    """Split ``formula`` into tokens, refusing any character a formula cannot contain."""
    if not isinstance(formula, str):
        raise FormulaError(
            f"formula must be a string such as 'y ~ x1 + x2'; got {type(formula).__name__} "
            f"{formula!r}. Pass the formula as text."
        )
    if len(formula) > max_chars:
        raise FormulaError(
            f"formula of {len(formula)} characters is longer than dlstat accepts "
            f"({max_chars}); use '.' for all columns or select columns in the data."
        )
    tokens: list[Token] = []
    i, n = 0, len(formula)
    while i < n:
        match = _PIECE.match(formula, i)
        if match is None:
            i = _SPACE.match(formula, i).end()
            if i == n:
                break
            if formula[i] == "`":
                raise FormulaError(
                    f"unclosed backquote at position {i} in formula {formula!r}; "
                    "close the name with a second backquote, as in `my column`."
                )
            raise FormulaError(
                f"character {formula[i]!r} at position {i} is not allowed in formula "
                f"{formula!r}. Formulas may use column names, numbers, the operators "
                "~ + - * / : ^ ( ) and dlstat's transforms; quote odd column names with "
                "backquotes, as in `my col`."
            )
        kind = match.lastgroup
        text, start = match.group(kind), match.start(kind)
        if kind == "quoted":
            tokens.append(Token("NAME", text, start - 1, True))
        elif kind == "number":
            if len(text) > MAX_NUMBER_CHARS:
                raise FormulaError(
                    f"number {text[:20]}… at position {start} in a formula has more than "
                    f"{MAX_NUMBER_CHARS} characters; write it in scientific notation (1e40)."
                )
            tokens.append(Token("NUMBER", text, start))
        elif kind == "name":
            tokens.append(Token("DOT" if text == "." else "NAME", text, start))
        else:
            tokens.append(Token("OP", text, start))
        i = match.end()
    _check_depth(tokens)
    return tokens


def _check_depth(tokens: list[Token]) -> None:
    depth = 0
    for tok in tokens:
        if tok.kind == "OP" and tok.text in ("(", ")"):
            depth += 1 if tok.text == "(" else -1
            if depth > MAX_DEPTH:
                raise FormulaError(
                    f"parentheses in the formula nest deeper than {MAX_DEPTH} levels (at "
                    f"position {tok.pos}); simplify the expression."
                )


def closing(tokens: list[Token], open_at: int) -> int:
    """The position of the ')' closing the '(' at ``open_at``; -1 when it is never closed."""
    depth = 0
    for j in range(open_at, len(tokens)):
        if tokens[j].kind == "OP":
            depth += (tokens[j].text == "(") - (tokens[j].text == ")")
            if depth == 0:
                return j
    return -1


def render(tokens: list[Token]) -> str:
    """Join tokens back into formula text, backquoting every name that was a column."""
    parts = []
    for tok in tokens:
        if tok.kind == "NAME" and tok.quoted and not _plain_identifier(tok.text):
            parts.append(f"`{tok.text}`")
        elif tok.kind == "RAW":
            parts[-1] += tok.text
        else:
            parts.append(tok.text)
    out = " ".join(parts)
    out = re.sub(r"\s*([,:=])\s*", r"\1", out).replace(",", ", ")
    return re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", re.sub(r"(\w)\s+\(", r"\1(", out)))


def _plain_identifier(name: str) -> bool:
    # formulaic mangles backquoted plain names inside calls, so only odd names get backquotes.
    return name.isidentifier() and not keyword.iskeyword(name)
