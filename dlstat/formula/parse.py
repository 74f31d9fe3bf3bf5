"""Parse and vet a formula before anything is evaluated.

The checks are structural: every name must be a column of the data (or a keyword / constant
inside a known transform), every call must be a whitelisted transform, and nothing else —
attribute access, imports, dunders, lambdas, strings, brackets — gets through.  The vetted tokens
are then rendered into text for formulaic, with every column backquoted so that R names such as
``Sepal.Length`` are looked up, never evaluated as attribute access.
"""

from __future__ import annotations

import difflib
import keyword
from dataclasses import dataclass, field

from ..errors import FormulaError
from .limits import TransformCall, count_terms, expand_powers, float_bases, transform_calls
from .terms import Node
from .tokens import Token, closing, render, tokenize

# Calls allowed on the right-hand side, with the keyword arguments each accepts.
RHS_CALLS: dict[str, frozenset[str]] = {
    "I": frozenset(),
    "C": frozenset(),
    "factor": frozenset(),
    "log": frozenset(),
    "log1p": frozenset(),
    "log2": frozenset(),
    "log10": frozenset(),
    "exp": frozenset(),
    "sqrt": frozenset(),
    "abs": frozenset(),
    "poly": frozenset({"degree", "raw"}),
    "bs": frozenset({"df", "degree"}),
    "scale": frozenset(),
    "center": frozenset(),
}
# Element-wise transforms a response may carry (``log(y) ~ x``).
LHS_TRANSFORMS = frozenset({"log", "log1p", "log2", "log10", "exp", "sqrt", "abs"})
# A survival response, Surv(time, status): two columns, read by the survival family; the model
# has no intercept (as survival::coxph).
SURV = "Surv"
RESPONSE_FORMS = LHS_TRANSFORMS | {SURV}
CONSTANTS = {"TRUE": "True", "FALSE": "False", "True": "True", "False": "False"}
_UNSAFE_WORDS = frozenset(
    {"eval", "exec", "compile", "open", "getattr", "setattr", "globals", "locals", "vars", "input"}
)
TRANSFORM_NAMES = ", ".join(sorted(RHS_CALLS))
# R's bs() extrapolates beyond the boundary knots at prediction time; formulaic must be told.
BS_EXTEND = ", extrapolation='extend'"
# A stored right-hand side may hold a power dlstat expanded, or '.' over up to MAX_TERMS
# columns (100,000 gene names of up to ~95 characters).
MAX_STORED_RHS_CHARS = 10_000_000
# Columns dlstat adds for weights= and offset= given as vectors (R's model frame names them
# so too); '.' never expands to them.
WEIGHTS_COLUMN, OFFSET_COLUMN = "(weights)", "(offset)"
RESERVED_COLUMNS = (WEIGHTS_COLUMN, OFFSET_COLUMN)
# What an offset(expr) term may call: element-wise transforms only (no learned state).
OFFSET_CALLS = frozenset({"I"}) | LHS_TRANSFORMS


@dataclass
class ParsedFormula:
    """A vetted formula: its response and the right-hand side ready for formulaic."""

    text: str
    response_columns: list[str]
    response_transform: str | None
    rhs: str
    variables: list[str]
    factor_columns: list[str] = field(default_factory=list)
    transforms: list[TransformCall] = field(default_factory=list)
    offsets: list[str] = field(default_factory=list)  # vetted offset(expr) expressions
    tree: Node = field(default=Node("sum"), repr=False)  # the right-hand side, read once

    @property
    def multi_response(self) -> bool:
        return len(self.response_columns) > 1


def parse_formula(formula: str, columns: list[str]) -> ParsedFormula:
    """Vet ``formula`` against the data's ``columns`` and return a :class:`ParsedFormula`."""
    tokens = tokenize(formula)
    tildes = [i for i, t in enumerate(tokens) if t.kind == "OP" and t.text == "~"]
    if len(tildes) != 1 or tildes[0] == 0:
        raise FormulaError(
            f"formula {formula!r} needs exactly one '~' with the response on its left, "
            "as in 'y ~ x1 + x2'."
        )
    lhs, rhs = tokens[: tildes[0]], tokens[tildes[0] + 1 :]
    if not rhs:
        raise FormulaError(
            f"formula {formula!r} has nothing right of '~'; write 'y ~ 1' for an intercept-only "
            "model or 'y ~ .' for all other columns."
        )
    response, transform = _parse_response(lhs, columns, formula)
    rhs, offset_terms = _split_offsets(rhs, formula)
    rhs = _expand_dot(rhs, columns, response, formula)
    vetted, variables, factors = _vet_rhs(rhs, columns, formula)
    vetted = float_bases(vetted)
    tree = count_terms(vetted, formula)
    vetted = expand_powers(vetted, formula)
    offsets = []
    for term in offset_terms:
        expression, used = _vet_offset(term, columns, formula)
        offsets.append(expression)
        variables += [c for c in used if c not in variables]
    return ParsedFormula(
        text=formula,
        response_columns=response,
        response_transform=transform,
        rhs=render(vetted),
        variables=variables,
        factor_columns=factors,
        transforms=transform_calls(vetted, formula),
        offsets=offsets,
        tree=tree,
    )


def _split_offsets(rhs: list[Token], formula: str) -> tuple[list[Token], list[list[Token]]]:
    """The right-hand side without its ``offset(expr)`` terms, and each term's ``expr``.

    An offset is a term of its own (added with ``+``), as in R; ``y ~ offset(z)`` leaves an
    intercept-only model."""
    kept: list[Token] = []
    terms: list[list[Token]] = []
    i, depth = 0, 0
    while i < len(rhs):
        tok = rhs[i]
        is_offset = (tok.kind == "NAME" and not tok.quoted and tok.text == "offset"
                     and i + 1 < len(rhs) and rhs[i + 1].text == "(")
        if not is_offset:
            depth += (tok.text == "(") - (tok.text == ")") if tok.kind == "OP" else 0
            kept.append(tok)
            i += 1
            continue
        end = _closing(rhs, i + 1, formula)
        before = kept[-1].text if kept else "+"
        after = rhs[end + 1].text if end + 1 < len(rhs) else "+"
        if depth or before != "+" or after != "+" or end == i + 2:
            raise FormulaError(
                f"offset() in formula {formula!r} must be a term of its own with one "
                "expression inside, added with '+', as in 'y ~ x + offset(log(exposure))'.")
        terms.append(rhs[i + 2:end])
        if kept:
            kept.pop()  # the '+' before it
        i = end + 1 if kept or end + 1 >= len(rhs) else end + 2
    if not kept:
        kept = [Token("NUMBER", "1", 0)]
    return kept, terms


def _closing(tokens: list[Token], start: int, formula: str) -> int:
    """The position of the ')' closing the '(' at ``start``."""
    end = closing(tokens, start)
    if end < 0:
        raise FormulaError(f"unbalanced '(' in formula {formula!r}: close every parenthesis.")
    return end


def _vet_offset(expr: list[Token], columns: list[str], formula: str) -> tuple[str, list[str]]:
    """An offset's expression, vetted as a right-hand side that calls only element-wise
    transforms; returns its text (evaluated inside ``I()``) and the columns it uses."""
    for j, tok in enumerate(expr[:-1]):
        if tok.kind == "NAME" and not tok.quoted and expr[j + 1].text == "(" \
                and tok.text in RHS_CALLS and tok.text not in OFFSET_CALLS:
            raise FormulaError(
                f"offset() in formula {formula!r} may use only the element-wise transforms "
                f"{', '.join(sorted(OFFSET_CALLS))}; got {tok.text}(). Compute it as a column "
                "of the data first.")
    vetted, used, _ = _vet_rhs(expr, columns, formula)
    return render(float_bases(vetted)), used


def vet_rendered_rhs(rhs: str, variables: list[str]) -> None:
    """Refuse a stored right-hand side (from a model file) unless vetting it over
    ``variables`` gives back exactly the same text, i.e. dlstat itself wrote it."""
    tokens = tokenize(rhs.replace(BS_EXTEND, ""), max_chars=MAX_STORED_RHS_CHARS)
    vetted, found, _ = _vet_rhs(tokens, variables, rhs)
    vetted = float_bases(vetted)
    count_terms(vetted, rhs)
    again = render(expand_powers(vetted, rhs))
    if again != rhs or not set(found) <= set(variables):
        raise FormulaError(f"right-hand side {rhs[:200]!r} is not text dlstat writes; vetted "
                           f"it reads {again[:200]!r}.")
    transform_calls(vetted, rhs)


def _parse_response(
    lhs: list[Token], columns: list[str], formula: str
) -> tuple[list[str], str | None]:
    if len(lhs) == 1 and lhs[0].kind == "NAME":
        return [_column(lhs[0], columns, formula)], None
    shaped = (
        len(lhs) >= 4
        and lhs[0].kind == "NAME"
        and lhs[1].text == "("
        and lhs[-1].text == ")"
    )
    if shaped and lhs[0].text in ("cbind", SURV):
        args = lhs[2:-1]
        names = [t for t in args[0::2]]
        commas = args[1::2]
        if all(t.kind == "NAME" for t in names) and all(t.text == "," for t in commas):
            cols = [_column(t, columns, formula) for t in names]
            if len(set(cols)) != len(cols):
                raise FormulaError(f"{lhs[0].text}() in {formula!r} names a column twice; name "
                                   "each once.")
            if lhs[0].text == SURV:
                if len(cols) != 2:
                    raise FormulaError(
                        f"Surv() in {formula!r} takes two columns, Surv(time, status) (right-"
                        f"censored data); got {len(cols)}.")
                return cols, SURV
            return cols, None
    if shaped and lhs[0].text in LHS_TRANSFORMS and len(lhs) == 4 and lhs[2].kind == "NAME":
        return [_column(lhs[2], columns, formula)], lhs[0].text
    left = render(lhs)
    _refuse_unsafe(lhs, formula)
    raise FormulaError(
        f"cannot use {left!r} as the response in {formula!r}. The left of '~' must be a column, "
        f"cbind(col1, col2, ...) for several responses, Surv(time, status) for survival "
        f"times, or one of "
        f"{', '.join(sorted(LHS_TRANSFORMS))} applied to a column."
    )


def _expand_dot(
    rhs: list[Token], columns: list[str], response: list[str], formula: str
) -> list[Token]:
    """Replace each ``.`` by the sum of all columns that are not responses, as R does."""
    if not any(t.kind == "DOT" for t in rhs):
        return rhs
    others = [c for c in columns if c not in response and c not in RESERVED_COLUMNS]
    if not others:
        raise FormulaError(
            f"'.' in {formula!r} stands for all columns except the response, but the data has "
            "no other column. Add predictors to the data."
        )
    _refuse_unsafe([Token("NAME", c, 0, quoted=True) for c in others
                    if "`" in c or "\\" in c], formula)
    out: list[Token] = []
    for tok in rhs:
        if tok.kind != "DOT":
            out.append(tok)
            continue
        plus = Token("OP", "+", tok.pos)
        out.append(Token("OP", "(", tok.pos))
        for col in others:
            out += (Token("NAME", col, tok.pos, quoted=True), plus)
        out[-1] = Token("OP", ")", tok.pos)
    return out


def _vet_rhs(
    rhs: list[Token], columns: list[str], formula: str
) -> tuple[list[Token], list[str], list[str]]:
    """Check every token of the right-hand side; return rewritten tokens, columns and factors."""
    _refuse_unsafe(rhs, formula)
    out: list[Token] = []
    variables: list[str] = []
    factors: list[str] = []
    stack: list[str | None] = []  # call name per open parenthesis (None for grouping)
    known, seen = frozenset(columns), set()
    for i, tok in enumerate(rhs):
        if tok.quoted and tok.text in known:  # a backquoted column ('.' gives 50,000)
            if tok.text not in seen:
                seen.add(tok.text)
                variables.append(tok.text)
            out.append(tok)
            continue
        nxt = rhs[i + 1] if i + 1 < len(rhs) else None
        prev = rhs[i - 1] if i else None
        if tok.kind == "NAME" and not tok.quoted and nxt is not None and nxt.text == "(":
            if tok.text not in RHS_CALLS:
                raise FormulaError(
                    f"unknown function {tok.text!r} in formula {formula!r}. dlstat evaluates only "
                    f"column names, numbers and these transforms: {TRANSFORM_NAMES}."
                )
            out.append(Token("NAME", "C" if tok.text == "factor" else tok.text, tok.pos))
            stack.append(tok.text)
            if tok.text in ("C", "factor"):
                factors.extend(_factor_argument(rhs, i, columns, formula))
            continue
        if tok.kind == "NAME" and not tok.quoted and nxt is not None and nxt.text == "=":
            call = _innermost_call(stack)
            allowed = RHS_CALLS.get(call or "", frozenset())
            if not stack or stack[-1] != call or tok.text not in allowed:
                where = f"{call}()" if call else "outside a function call"
                hint = f"{call}() accepts {sorted(allowed)}" if allowed else "it takes none"
                raise FormulaError(
                    f"keyword {tok.text!r} is not accepted {('by ' + where) if call else where} "
                    f"in formula {formula!r}; {hint}."
                )
            out.append(tok)
            continue
        if tok.kind == "NAME":
            if prev is not None and prev.text == "=" and tok.text in CONSTANTS and not tok.quoted:
                out.append(Token("NUMBER", CONSTANTS[tok.text], tok.pos))
                continue
            col = tok.text if tok.text in known else _column(tok, columns, formula)
            if col not in seen:
                seen.add(col)
                variables.append(col)
            out.append(tok if tok.quoted else Token("NAME", col, tok.pos, quoted=True))
            continue
        if tok.kind == "OP":
            if tok.text == "(":
                if not (prev is not None and prev.kind == "NAME" and not prev.quoted
                        and prev.text in RHS_CALLS):
                    stack.append(None)
            elif tok.text == ")":
                if not stack:
                    raise FormulaError(
                        f"unbalanced ')' at position {tok.pos} in formula {formula!r}."
                    )
                if stack.pop() == "bs":
                    out.append(Token("RAW", BS_EXTEND, tok.pos))
            elif tok.text in (",", "=") and _innermost_call(stack) is None:
                raise FormulaError(
                    f"{tok.text!r} at position {tok.pos} in formula {formula!r} is only allowed "
                    "between the arguments of a transform such as poly(x, 2)."
                )
            elif tok.text == "^":
                tok = Token("OP", "**", tok.pos)
        out.append(tok)
    if stack:
        raise FormulaError(f"unbalanced '(' in formula {formula!r}: close every parenthesis.")
    return out, variables, factors


def _innermost_call(stack: list[str | None]) -> str | None:
    return next((c for c in reversed(stack) if c is not None), None)


def _factor_argument(rhs: list[Token], i: int, columns: list[str], formula: str) -> list[str]:
    """``C()``/``factor()`` take exactly one column: return it."""
    if (
        i + 3 < len(rhs)
        and rhs[i + 2].kind == "NAME"
        and rhs[i + 3].text == ")"
    ):
        return [_column(rhs[i + 2], columns, formula)]
    raise FormulaError(
        f"{rhs[i].text}() in formula {formula!r} takes one column name, as in factor(cyl)."
    )


def _column(tok: Token, columns: list[str], formula: str) -> str:
    if tok.text in columns:
        return tok.text
    _refuse_unsafe([tok], formula)
    close = difflib.get_close_matches(tok.text, [str(c) for c in columns], n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    shown = ", ".join(repr(str(c)) for c in columns[:12]) + (" …" if len(columns) > 12 else "")
    raise FormulaError(
        f"formula {formula!r} uses {tok.text!r}, which is not a column of the data.{hint} "
        f"Columns are: {shown}."
    )


def _refuse_unsafe(tokens: list[Token], formula: str) -> None:
    for tok in tokens:
        if tok.kind == "NAME" and tok.quoted and ("`" in tok.text or "\\" in tok.text):
            raise FormulaError(
                f"column name {tok.text!r} contains a backquote or backslash, which cannot be "
                "quoted safely in a formula. Rename the column."
            )
        if tok.kind != "NAME" or tok.quoted or tok.text in CONSTANTS:
            continue
        word = tok.text
        parts = word.split(".")
        if (
            "__" in word
            or keyword.iskeyword(word)
            or any(p in _UNSAFE_WORDS or keyword.iskeyword(p) for p in parts)
            or word.startswith("_")
        ):
            raise FormulaError(
                f"formula {formula!r} was refused: {word!r} is not a column or a known "
                "transform, and dlstat never runs code from a formula. Use column names, "
                f"numbers and the transforms {TRANSFORM_NAMES}."
            )
