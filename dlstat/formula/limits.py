"""Bounds on the work a formula may ask for, checked on its tokens before anything runs.

A formula may come from a web form or a command line, so nothing in it may hang the process:

* arithmetic inside a call is Python's, where ``9**9**9`` is an integer of 370 million digits;
  R's numbers are floats (``9^9^9`` is ``Inf`` at once), so every base of ``**`` that is made
  of number literals only is written as a float;
* formulaic expands ``(a + b + ...)^k`` by repeated products whose cost explodes with ``k``
  (minutes for ten columns to the 10th), so a power of plain terms is expanded here into the
  same terms in the same order, and the number of terms is capped;
* the degree or df of ``poly()``/``bs()`` must be a number literal the data can support
  (checked against the data in ``design.py``, as R's ``poly()`` refuses too high a degree);
* the terms of the whole right-hand side are counted from its structure before any is made
  (``terms.py``), and so are, once the factors' levels are known, the design's columns and
  bytes: wide data (``.`` over 50,000 genes, 1,000 factors) builds, a formula asking for more
  than a model file can hold or the machine's memory is refused, naming the size.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import FormulaError, OptionError
from .terms import Node, read_rhs, term_bound
from .tokens import Token, closing

MAX_DESIGN_COLUMNS = 100_000  # what a model file holds (``stored.py``): 50,000 genes fit
MAX_TERMS = MAX_DESIGN_COLUMNS  # each term makes at least one column
MAX_FORMULAIC_TERMS = 10_000  # formulaic spends about half a millisecond a term
BUDGET_VARIABLE = "DLSTAT_MAX_DESIGN_BYTES"  # raises (or lowers) the memory a design may take
POWER_BY_FORMULAIC = 3  # formulaic expands powers up to this fast; above, we expand
MAX_POLY_DEGREE = 50  # orthogonal polynomials beyond this are numerically meaningless
MAX_SPLINE_DF = 1_000


@dataclass(frozen=True)
class TransformCall:
    """A ``poly()`` or ``bs()`` call: its column (if it is a plain column) and arguments."""

    name: str
    column: str | None
    arguments: dict[str, float] = field(default_factory=dict)


def float_bases(tokens: list[Token]) -> list[Token]:
    """Inside calls, write as floats the integer literals of every ``**`` base built from
    literals only, so no unbounded integer is ever computed."""
    out = list(tokens)
    depth_calls: list[bool] = []
    for i, tok in enumerate(out):
        if tok.text == "(" and tok.kind == "OP":
            depth_calls.append(i > 0 and out[i - 1].kind == "NAME" and not out[i - 1].quoted)
        elif tok.text == ")" and tok.kind == "OP" and depth_calls:
            depth_calls.pop()
        elif tok.kind == "OP" and tok.text == "**" and any(depth_calls) and i:
            start = _operand_start(out, i - 1)
            if not any(t.kind == "NAME" and t.quoted for t in out[start:i]):
                for j in range(start, i):
                    if out[j].kind == "NUMBER" and out[j].text.isdigit():
                        out[j] = Token("NUMBER", out[j].text + ".0", out[j].pos)
    return out


def _operand_start(tokens: list[Token], end: int) -> int:
    """Index of the first token of the operand ending at ``end`` (a literal or a group)."""
    if tokens[end].text != ")" or tokens[end].kind != "OP":
        return end
    depth = 0
    for j in range(end, -1, -1):
        depth += (tokens[j].text == ")") - (tokens[j].text == "(")
        if depth == 0:
            has_call = j > 0 and tokens[j - 1].kind == "NAME" and not tokens[j - 1].quoted
            return j - 1 if has_call else j
    return end


def count_terms(tokens: list[Token], formula: str) -> Node:
    """The tree of a vetted right-hand side, refused when it could expand to more than
    ``MAX_TERMS`` terms: counted from its structure, before any term is made."""
    try:
        tree = read_rhs(tokens)
    except ValueError as exc:
        raise FormulaError(f"formula {formula!r} cannot be read as a sum of terms: {exc}. "
                           "Join columns with +, -, :, * or /, as in 'y ~ a + b:c'.") from None
    _refuse_terms(term_bound(tree, MAX_TERMS), formula)
    return tree


def expand_powers(tokens: list[Token], formula: str) -> list[Token]:
    """Check every formula power ``(...)^k`` and expand the large ones of plain terms (after
    ``count_terms`` has bounded the whole)."""
    out: list[Token] = []
    calls: list[bool] = []  # per open parenthesis: does it open a call?
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.kind == "OP" and tok.text == "(":
            calls.append(i > 0 and tokens[i - 1].kind == "NAME" and not tokens[i - 1].quoted)
        elif tok.kind == "OP" and tok.text == ")" and calls:
            calls.pop()
        if not (tok.kind == "OP" and tok.text == "**" and not any(calls)):
            out.append(tok)
            i += 1
            continue
        power = _power(tokens, i, formula)
        start = _operand_start(out, len(out) - 1)
        items = _group_items(out[start:])
        power = min(power, len(items))  # a power beyond the number of items adds nothing
        if power > POWER_BY_FORMULAIC and all(_single_factor(t) for t in items):
            del out[start:]
            out += _expanded(items, power, tok.pos)
        elif power > POWER_BY_FORMULAIC:
            raise FormulaError(
                f"formula {formula!r} raises compound terms to the power {power}; dlstat "
                f"expands powers above {POWER_BY_FORMULAIC} only of a sum of single columns "
                "or transforms, as in (a + b + c)^4. Write the interactions out."
            )
        else:
            out += [tok, Token("NUMBER", str(power), tokens[i + 1].pos)]
        i += 2
    return out


def _power(tokens: list[Token], i: int, formula: str) -> int:
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    if nxt is None or nxt.kind != "NUMBER" or not nxt.text.isdigit() or int(nxt.text) < 1:
        shown = nxt.text if nxt is not None else "nothing"
        raise FormulaError(
            f"the power in formula {formula!r} must be a whole number such as (a + b)^2; "
            f"got {shown!r}."
        )
    return int(nxt.text)


def _group_items(base: list[Token]) -> list[list[Token]]:
    """The summands of a power's base: ``((a + b))`` and ``(a + b)`` give ``a``, ``b``."""
    while base[0].text == "(" and base[0].kind == "OP" and len(base) > 1:
        items = _sum_items(base[1:-1])
        if len(items) > 1 or _operand_start(items[0], len(items[0]) - 1) != 0 \
                or items[0][0].text != "(":
            return items
        base = items[0]
    return [base]


def _sum_items(tokens: list[Token]) -> list[list[Token]]:
    items: list[list[Token]] = [[]]
    depth = 0
    for tok in tokens:
        if tok.kind == "OP" and tok.text in ("(", ")"):
            depth += 1 if tok.text == "(" else -1
        if depth == 0 and tok.kind == "OP" and tok.text == "+":
            items.append([])
        else:
            items[-1].append(tok)
    return items


def _single_factor(item: list[Token]) -> bool:
    """A column, or a call whose parentheses span the rest of the item."""
    if len(item) == 1:
        return item[0].kind == "NAME"
    return (item[0].kind == "NAME" and item[1].text == "(" and item[-1].text == ")"
            and _operand_start(item, len(item) - 1) == 0)


def _refuse_terms(n_terms: int, formula: str) -> None:
    if n_terms > MAX_TERMS:
        raise FormulaError(
            f"formula {formula!r} expands to more than {MAX_TERMS:,} terms; dlstat builds at "
            f"most {MAX_TERMS:,} from a formula. Use a lower power, fewer columns or fewer "
            "interactions.")


def _expanded(items: list[list[Token]], power: int, pos: int) -> list[Token]:
    """All interactions of up to ``power`` distinct items, in formulaic's order."""
    out = [Token("OP", "(", pos)]
    for order in range(1, min(power, len(items)) + 1):
        for combo in itertools.combinations(items, order):
            if len(out) > 1:
                out.append(Token("OP", "+", pos))
            for j, item in enumerate(combo):
                if j:
                    out.append(Token("OP", ":", pos))
                out += item
    out.append(Token("OP", ")", pos))
    return out


def transform_calls(tokens: list[Token], formula: str) -> list[TransformCall]:
    """Every ``poly()``/``bs()`` call, its arguments checked to be number literals."""
    calls = []
    for i, tok in enumerate(tokens):
        if tok.kind == "NAME" and not tok.quoted and tok.text in ("poly", "bs") \
                and i + 1 < len(tokens) and tokens[i + 1].text == "(":
            end = closing(tokens, i + 1)
            end = len(tokens) if end < 0 else end
            args = _sum_items_by_comma(tokens[i + 2:end])
            first = args[0] if args else []
            column = first[0].text if len(first) == 1 and first[0].quoted else None
            calls.append(TransformCall(tok.text, column,
                                       _arguments(tok.text, args[1:], formula)))
    return calls


def _sum_items_by_comma(tokens: list[Token]) -> list[list[Token]]:
    items: list[list[Token]] = [[]]
    depth = 0
    for tok in tokens:
        depth += (tok.text == "(") - (tok.text == ")")
        if depth == 0 and tok.text == ",":
            items.append([])
        elif tok.kind != "RAW":
            items[-1].append(tok)
    return items


def _arguments(name: str, args: list[list[Token]], formula: str) -> dict[str, float]:
    """Keyword (or the one positional) arguments of poly/bs as numbers."""
    out: dict[str, float] = {}
    for k, arg in enumerate(args):
        key, value = (arg[0].text, arg[2:]) if len(arg) > 2 and arg[1].text == "=" else (
            "degree" if name == "poly" and k == 0 else "df", arg)
        if len(value) != 1 or value[0].kind != "NUMBER":
            raise FormulaError(
                f"argument {key!r} of {name}() in formula {formula!r} must be a number such "
                f"as {name}(x, {'2' if name == 'poly' else 'df=4'}); got "
                f"{' '.join(t.text for t in value)!r}."
            )
        text = value[0].text
        out[key] = 1.0 if text == "True" else 0.0 if text == "False" else float(text)
    _check_static(name, out, formula)
    return out


def _check_static(name: str, args: dict[str, float], formula: str) -> None:
    """Bounds that hold whatever the data (so a model file cannot ask for more either)."""
    limits = {"degree": MAX_POLY_DEGREE if name == "poly" else 10, "df": MAX_SPLINE_DF}
    for key, value in args.items():
        if key == "raw":
            continue
        if not (value.is_integer() and 1 <= value <= limits[key]):
            raise FormulaError(
                f"{key}={value:g} of {name}() in formula {formula!r} must be a whole number "
                f"from 1 to {limits[key]}."
            )


def check_against_data(calls: list[TransformCall], n_unique: dict[str, int],
                       n_rows: int, formula: str) -> None:
    """Refuse a degree or df the rows cannot support, before any basis is computed."""
    for call in calls:
        distinct = n_unique.get(call.column, n_rows) if call.column else n_rows
        if call.name == "poly":
            degree = int(call.arguments.get("degree", 1))
            if degree >= distinct:
                raise FormulaError(
                    f"poly({call.column or '...'}, {degree}) in formula {formula!r}: the "
                    f"degree must be less than the number of unique points ({distinct}), as "
                    "in R. Use a lower degree."
                )
        else:
            degree = int(call.arguments.get("degree", 3))
            df = int(call.arguments.get("df", degree))
            if df < degree or df > distinct:
                raise FormulaError(
                    f"bs({call.column or '...'}, df={df}, degree={degree}) in formula "
                    f"{formula!r}: df must be at least the degree and at most the number of "
                    f"unique points ({distinct}). Use a smaller df."
                )


def column_bound(tree: Node, levels: Mapping[str, list[Any]], limit: int) -> int:
    """An upper bound on the design columns of a right-hand side (factors at full rank,
    ``poly``/``bs`` at their degree or df); above ``limit`` it is ``limit + 1``."""

    def width(atom: Node) -> int:
        if atom.op == "name":
            return max(1, len(levels.get(atom.text, ())))
        args = atom.args
        if atom.text == "C" and args and args[0].text in levels:
            return max(1, len(levels[args[0].text]))
        if atom.text not in ("poly", "bs"):
            return 1
        named = {a.tags[0]: a.text for a in args[1:] if a.tags}
        positional = [a.text for a in args[1:] if not a.tags]
        if atom.text == "poly":
            return _whole(named.get("degree") or (positional[0] if positional else "1"))
        df = named.get("df") or (positional[0] if positional else "")
        return _whole(df or named.get("degree", "3"))

    return term_bound(tree, limit, width)


def _whole(text: str) -> int:
    try:
        return max(1, int(float(text)))
    except ValueError:
        return 1


def check_formulaic_terms(tree: Node, formula: str) -> None:
    """Refuse a right-hand side formulaic would spend more than a few seconds on."""
    n_terms = term_bound(tree, MAX_FORMULAIC_TERMS)
    if n_terms > MAX_FORMULAIC_TERMS:
        raise FormulaError(
            f"formula {formula!r} expands to more than {MAX_FORMULAIC_TERMS:,} terms with "
            "transforms or factor interactions, which dlstat builds with formulaic (about a "
            f"second for each 2,000 terms); it builds at most {MAX_FORMULAIC_TERMS:,} such "
            "terms. Numeric columns and their products, and factors on their own, have no "
            "such limit: compute transforms as columns of the data, or use fewer interactions.")


def check_design_size(n_rows: int, n_columns: int, formula: str, exact: bool = True) -> None:
    """Refuse a design of more than ``MAX_DESIGN_COLUMNS`` columns, or of more bytes than the
    memory budget, before it is allocated."""
    size = "" if exact else "up to "
    if n_columns > MAX_DESIGN_COLUMNS:
        raise FormulaError(
            f"formula {formula!r} makes {size}more than {MAX_DESIGN_COLUMNS:,} design columns; "
            f"dlstat builds (and a model file holds) at most {MAX_DESIGN_COLUMNS:,}. Use fewer "
            "columns, interactions or factor levels.")
    needed, budget = 8 * n_rows * n_columns, design_budget()
    if needed > budget:
        raise FormulaError(
            f"the design of formula {formula!r} would hold {size}{n_rows:,} rows x "
            f"{n_columns:,} columns = {needed / 2**30:.1f} GiB of float64, more than the "
            f"{budget / 2**30:.1f} GiB dlstat allows a design ({BUDGET_VARIABLE} or half of "
            "this machine's memory). Use fewer rows or columns (a lower power, fewer "
            f"interactions or levels), or set the environment variable {BUDGET_VARIABLE} to "
            "the number of bytes a design may take.")


def design_budget() -> int:
    """The bytes a design may take: ``DLSTAT_MAX_DESIGN_BYTES``, else half the memory."""
    given = os.environ.get(BUDGET_VARIABLE)
    if given:
        try:
            return int(float(given))
        except ValueError:
            raise OptionError(f"environment variable {BUDGET_VARIABLE}={given!r} is not a "
                              "number of bytes such as 8e9.") from None
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (AttributeError, ValueError, OSError):
        return 8 * 2**30
