"""A small tokenizer for R-style formulas.

dlstat never hands a user's formula to an evaluator as written: it is split into tokens here, every
name is checked against the data's columns and every call against a whitelist of transforms
(``parse.py``), and only then rewritten for formulaic.  Characters that have no place in a
formula (quotes, brackets, braces, ``@``, ``$``, ``;`` …) are refused at this stage.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

from ..errors import FormulaError

_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_.][A-Za-z0-9_.]*")
_OPERATORS = ("**", "~", "+", "-", "*", "/", ":", "^", "(", ")", ",", "=")
# Bounds that keep vetting (and formulaic after it) quick on hostile text; real formulas
# are far inside them.
MAX_FORMULA_CHARS = 20_000
MAX_NUMBER_CHARS = 32
MAX_DEPTH = 50


@dataclass(frozen=True)
class Token:
    """One piece of a formula: ``kind`` is NAME, NUMBER, DOT or OP."""

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
        ch = formula[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "`":
            end = formula.find("`", i + 1)
            if end < 0:
                raise FormulaError(
                    f"unclosed backquote at position {i} in formula {formula!r}; "
                    "close the name with a second backquote, as in `my column`."
                )
            tokens.append(Token("NAME", formula[i + 1 : end], i, quoted=True))
            i = end + 1
            continue
        number = _NUMBER.match(formula, i)
        if number and (ch.isdigit() or (ch == "." and i + 1 < n and formula[i + 1].isdigit())):
            if len(number.group()) > MAX_NUMBER_CHARS:
                raise FormulaError(
                    f"number {number.group()[:20]}… at position {i} in a formula has more than "
                    f"{MAX_NUMBER_CHARS} characters; write it in scientific notation (1e40)."
                )
            tokens.append(Token("NUMBER", number.group(), i))
            i = number.end()
            continue
        name = _NAME.match(formula, i)
        if name:
            text = name.group()
            tokens.append(Token("DOT" if text == "." else "NAME", text, i))
            i = name.end()
            continue
        for op in _OPERATORS:
            if formula.startswith(op, i):
                tokens.append(Token("OP", op, i))
                i += len(op)
                break
        else:
            raise FormulaError(
                f"character {ch!r} at position {i} is not allowed in formula {formula!r}. "
                "Formulas may use column names, numbers, the operators ~ + - * / : ^ ( ) and "
                "dlstat's transforms; quote odd column names with backquotes, as in `my col`."
            )
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
