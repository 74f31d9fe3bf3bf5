"""The terms of a right-hand side: counted before anything is expanded, and expanded as
formulaic expands them.

A formula from a stranger can ask for an astronomical number of terms in a few characters
(``(.)^6`` over 60 columns makes 55 million, ``a*b*c*...*t`` a million), and expanding them is
where the time and memory would go.  :func:`term_bound` reads the formula's structure and
returns an upper bound on its number of terms by arithmetic alone (the bound is exact for sums
and powers of distinct columns), so a formula over the limit is refused before any term
exists.  :func:`expand_terms` then expands a right-hand side whose atoms are columns, with
formulaic's semantics and order (``tests/test_formula_terms.py`` checks them against it), for
the designs dlstat builds without formulaic (``plain.py``).

A right-hand side is read with R's precedence: ``**`` binds tightest, then ``:``, then ``*``
and ``/``, then ``+`` and ``-``; a call such as ``log(x)`` is one atom.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from math import comb
from typing import NamedTuple

from .tokens import Token, closing, tokenize

Term = tuple[str, ...]  # the columns multiplied, in the order formulaic names them
MAX_PRODUCTS = 1_000_000  # a power of compound terms enumerates its products, as formulaic does


class Node(NamedTuple):
    """One piece of a right-hand side: an atom (``op`` is ``"name"``, ``"number"``, or
    ``"call"`` with its arguments as ``"arg"`` nodes) or an operator applied to ``args``."""

    op: str
    args: tuple[Node, ...] = ()
    text: str = ""  # an atom's name or number, a call's function, an argument's value
    tags: tuple[str, ...] = ()  # a sum's sign ('+', '-') per argument; an argument's keyword


@dataclass(frozen=True)
class Terms:
    """An expanded right-hand side: its terms in formulaic's order, and the intercept."""

    terms: tuple[Term, ...]
    intercept: bool


def read_rhs(tokens: list[Token]) -> Node:
    """The tree of a vetted right-hand side (as ``parse.py`` leaves it, or as read back from
    its rendered text)."""
    node, end = _sum(tokens, 0, whole=True)
    if end != len(tokens):
        raise ValueError(f"unexpected {tokens[end].text!r} at position {tokens[end].pos}")
    return node


def term_bound(node: Node, limit: int, width: Callable[[Node], int] | None = None) -> int:
    """An upper bound on the number of terms of ``node``, exact for sums and powers of
    distinct columns; with ``width`` (the design columns of an atom), on its number of
    design columns.  Any bound above ``limit`` is reported as ``limit + 1``."""
    over = limit + 1
    if node.op in ("name", "call", "number"):
        return min(width(node), over) if width and node.op != "number" else 1
    sizes = [term_bound(arg, limit, width) for arg in node.args]
    if node.op == "sum":  # a removed summand counts too: formulaic reads '- 0' as '+ 1'
        total = sum(sizes)
    elif node.op == ":":
        total = sizes[0] * sizes[1]
    elif node.op == "*":
        total = sizes[0] + sizes[1] + sizes[0] * sizes[1]
    elif node.op == "/":  # the nested terms are multiplied by every factor of the parents
        total = sizes[0] + _atoms_product(node.args[0], over, width) * sizes[1]
    else:  # '**': each term multiplies at most `power` distinct terms of the base
        base = node.args[0]
        count = term_bound(base, limit) if width else sizes[0]
        widest = 1 if not width else max(
            term_bound(a, limit, width) for a in base.args) if base.op == "sum" else sizes[0]
        total = 0
        for order in range(1, min(_power(node), count) + 1):
            total += comb(count, order) * widest ** order
            if total > limit:
                break
    return min(total, over)


def _atoms_product(node: Node, over: int, width: Callable[[Node], int] | None) -> int:
    """The product of the widths of the atoms in ``node`` (a bound on one term that
    multiplies them all)."""
    if width is None:
        return 1
    if node.op in ("name", "call"):
        return min(width(node), over)
    total = 1
    for arg in node.args:
        total = min(total * _atoms_product(arg, over, width), over)
    return total


def expand_terms(node: Node, columns: frozenset[str]) -> Terms | None:
    """The terms of ``node`` when every atom is one of ``columns`` (numbers only as ``0``/``1``
    in sums), in formulaic's order: ``None`` for anything else."""
    args, signs = (node.args, node.tags) if node.op == "sum" else ((node,), ("+",))
    top = Node("sum", (Node("number", text="1"), *args), tags=("+", *signs))
    try:
        found = _expand(top, columns)  # formulaic starts every right-hand side with '1 +'
    except _NotPlain:
        return None
    intercept = frozenset() in found
    found.pop(frozenset(), None)
    ordered = sorted(found.values(), key=len)  # formulaic orders terms by degree, stably
    return Terms(tuple(ordered), intercept)


class _NotPlain(Exception):
    """A construct ``expand_terms`` leaves to formulaic."""


def _expand(node: Node, columns: frozenset[str]) -> dict[frozenset[str], Term]:
    """Terms of ``node`` keyed by their set of columns (an ordered set, as formulaic's)."""
    if node.op == "name":
        if node.text not in columns:
            raise _NotPlain
        return {frozenset((node.text,)): (node.text,)}
    if node.op == "sum":
        out: dict[frozenset[str], Term] = {}
        for sign, arg in zip(node.tags, node.args):
            if arg.op == "name" and sign == "+" and arg.text in columns:
                out.setdefault(frozenset((arg.text,)), (arg.text,))  # the common case, quickly
                continue
            if arg.op == "number":  # formulaic reads '0' as '- 1'
                if arg.text not in ("0", "1"):
                    raise _NotPlain
                if arg.text == "0":
                    sign = "+" if sign == "-" else "-"
                part: dict[frozenset[str], Term] = {frozenset(): ()}
            else:
                part = _expand(arg, columns)
            _fold(out, sign, part)
        return out
    if node.op in ("call", "number"):
        raise _NotPlain
    parts = [_expand(arg, columns) for arg in node.args[:1 if node.op == "**" else 2]]
    if any(frozenset() in part for part in parts):
        raise _NotPlain  # '(a + 1):b' multiplies by a literal: formulaic's business
    if node.op == "**":
        return _power_terms(parts[0], _power(node))
    left, right = parts
    if node.op == ":":
        return _products(left, right)
    if node.op == "*":
        return {**left, **{k: v for k, v in right.items() if k not in left},
                **_without(_products(left, right), left, right)}
    common = tuple(dict.fromkeys(c for term in left.values() for c in term))  # '/'
    nested = _products({frozenset(common): common}, right)
    return {**left, **{k: v for k, v in nested.items() if k not in left}}


def _fold(out: dict, sign: str, part: dict) -> None:
    """Add (``'+'``) or remove (``'-'``) the terms of one summand in place (first positions
    kept): a sum of 50,000 columns takes 50,000 steps, not 50,000 copies."""
    if sign == "+":
        for key, term in part.items():
            out.setdefault(key, term)
    else:
        for key in part:
            out.pop(key, None)


def _without(new: dict, *old: dict) -> dict:
    return {k: v for k, v in new.items() if not any(k in o for o in old)}


def _products(left: dict, right: dict) -> dict[frozenset[str], Term]:
    out: dict[frozenset[str], Term] = {}
    for a, b in itertools.product(left.values(), right.values()):
        term = tuple(dict.fromkeys(a + b))
        out.setdefault(frozenset(term), term)
    return out


def _power_terms(base: dict[frozenset[str], Term], power: int) -> dict[frozenset[str], Term]:
    """formulaic's ``(base)**power``: every product of ``power`` terms of the base, deduplicated
    in order of first appearance.  For single columns that is every combination of up to
    ``power`` of them, in ``itertools.combinations`` order, built without the products."""
    terms = list(base.values())
    if all(len(t) == 1 for t in terms):
        out: dict[frozenset[str], Term] = {}
        for order in range(1, min(power, len(terms)) + 1):
            for combo in itertools.combinations(terms, order):
                term = tuple(t[0] for t in combo)
                out[frozenset(term)] = term
        return _first_appearance(out, terms, power)
    if len(terms) ** power > MAX_PRODUCTS:
        raise _NotPlain
    out = {}
    for combo in itertools.product(terms, repeat=power):
        term = tuple(dict.fromkeys(c for t in combo for c in t))
        out.setdefault(frozenset(term), term)
    return out


def _first_appearance(found: dict, terms: list[Term], power: int) -> dict:
    """Order combinations as formulaic's product enumerates them: a combination first appears
    where its columns first do, so lower orders interleave with higher ones."""
    rank = {t[0]: i for i, t in enumerate(terms)}

    def first(term: Term) -> tuple[int, ...]:
        # the product tuple where `term` first appears: its first column repeated to fill
        # `power` places, then its remaining columns in order
        idx = [rank[c] for c in term]
        return tuple([idx[0]] * (power - len(idx) + 1) + idx[1:])

    return dict(sorted(found.items(), key=lambda kv: first(kv[1])))


def _power(node: Node) -> int:
    return int(node.args[1].text)


# -- reading the tokens --------------------------------------------------------------------

_BINARY = {":": 300, "*": 200, "/": 200}


def _sum(tokens: list[Token], i: int, whole: bool = False) -> tuple[Node, int]:
    """Summands up to the closing parenthesis (or the end), each with its sign; a run of
    signs collapses as formulaic collapses it (``a - -b`` is ``a + b``).  The ``whole``
    right-hand side stays a sum even of one summand: ``(a + 0)`` is not ``a + 0``."""
    args: list[Node] = []
    signs: list[str] = []
    n = len(tokens)
    while i < n and not _is_op(tokens[i], ")"):
        minus = False
        while _is_op(tokens[i], "+", "-"):
            minus ^= tokens[i].text == "-"
            i += 1
            if i == n:
                raise ValueError("it ends with an operator")
        tok, after = tokens[i], tokens[i + 1] if i + 1 < n else None
        if tok.kind == "NAME" and (after is None or after.text in _ENDS and after.kind == "OP"):
            node, i = Node("name", text=tok.text), i + 1  # a column alone, as '.' gives
        else:
            node, i = _product(tokens, i, 200)
            after = tokens[i] if i < n else None
            if after is not None and not (after.kind == "OP" and after.text in _ENDS):
                raise ValueError(f"unexpected {after.text!r} at position {after.pos}")
        args.append(node)
        signs.append("-" if minus else "+")
    if not args:
        raise ValueError("it has empty parentheses")
    if len(args) == 1 and signs[0] == "+" and not whole:
        return args[0], i
    return Node("sum", tuple(args), tags=tuple(signs)), i


_ENDS = frozenset({"+", "-", ")"})  # what may follow a summand


def _is_op(tok: Token, *texts: str) -> bool:
    return tok.kind == "OP" and tok.text in texts


def _product(tokens: list[Token], i: int, floor: int) -> tuple[Node, int]:
    """Operators of precedence ``floor`` or above, left-associative (``**`` right)."""
    left, i = _power_node(tokens, i)
    while i < len(tokens) and tokens[i].kind == "OP" and _BINARY.get(tokens[i].text, 0) >= floor:
        op = tokens[i].text
        right, i = _product(tokens, i + 1, _BINARY[op] + 1)
        left = Node(op, (left, right))
    return left, i


def _power_node(tokens: list[Token], i: int) -> tuple[Node, int]:
    base, i = _atom(tokens, i)
    if i < len(tokens) and tokens[i].kind == "OP" and tokens[i].text in ("**", "^"):
        exponent = tokens[i + 1] if i + 1 < len(tokens) else None
        if exponent is None or exponent.kind != "NUMBER" or not exponent.text.isdigit():
            got = "nothing" if exponent is None else repr(exponent.text)
            raise ValueError(f"a power must be a whole number such as (a + b)^2; got {got}")
        return Node("**", (base, Node("number", text=exponent.text))), i + 2
    return base, i


def _atom(tokens: list[Token], i: int) -> tuple[Node, int]:
    if i >= len(tokens):
        raise ValueError("it ends with an operator")
    tok = tokens[i]
    if tok.kind == "OP" and tok.text == "(":
        node, i = _sum(tokens, i + 1)
        if i >= len(tokens) or tokens[i].text != ")":
            raise ValueError("its parentheses are unbalanced")
        if node.op == "number":  # '(0)' is a sum of its own, not the literal 0
            node = Node("sum", (node,), tags=("+",))
        return node, i + 1
    if tok.kind == "NUMBER":
        return Node("number", text=tok.text), i + 1
    if tok.kind == "NAME" and not tok.quoted and i + 1 < len(tokens) and tokens[i + 1].text == "(":
        end = _closing(tokens, i + 1)
        return Node("call", _arguments(tokens[i + 2:end]), tok.text), end + 1
    if tok.kind == "NAME":
        return Node("name", text=tok.text), i + 1
    raise ValueError(f"unexpected {tok.text!r} at position {tok.pos}")


def _arguments(tokens: list[Token]) -> tuple[Node, ...]:
    """A call's arguments: each a single token's text (with its keyword), or ``""`` for an
    expression."""
    out: list[Node] = []
    depth, start = 0, 0
    for j, tok in enumerate([*tokens, Token("OP", ",", -1)]):
        depth += (tok.text == "(") - (tok.text == ")") if tok.kind == "OP" else 0
        if depth == 0 and _is_op(tok, ","):
            part = [t for t in tokens[start:j] if t.kind != "RAW"]
            keyword = ()
            if len(part) > 2 and _is_op(part[1], "="):
                keyword, part = (part[0].text,), part[2:]
            out.append(Node("arg", text=part[0].text if len(part) == 1 else "", tags=keyword))
            start = j + 1
    return tuple(out)


def _closing(tokens: list[Token], open_at: int) -> int:
    end = closing(tokens, open_at)
    if end < 0:
        raise ValueError("its parentheses are unbalanced")
    return end


# -- the text formulaic reads --------------------------------------------------------------

SHORT_SUM = 16  # sums up to this many summands are left as written


def group_long_sums(rhs: str, hidden: tuple[str, ...] = ()) -> str:
    """``rhs`` with each long run of ``+`` summands nested in balanced parentheses.

    formulaic unions a sum's terms left to right, copying the terms so far at each ``+``, so a
    flat sum of n terms costs n² (25 s for the 9,108 terms of ``(.)^4`` over 22 columns);
    nested, n log n.  A union is associative, so the terms and their order are unchanged;
    summands after a ``-`` and the literals ``0``/``1`` (which formulaic rewrites) are left
    where they are.  ``hidden`` parts of ``rhs`` (text the tokenizer does not read) are kept
    as they are."""
    blanked = rhs
    for part in hidden:
        blanked = blanked.replace(part, " " * len(part))
    tokens = tokenize(blanked, max_chars=len(blanked))
    inserts: list[tuple[int, str]] = []
    for summands in _summands(tokens):
        start = 0
        for k in range(len(summands) + 1):
            if k == len(summands) or summands[k][2] != "+":
                _nest(summands[start:k], inserts)
                start = k + 1
    pieces, last = [], 0
    for pos, text in sorted(inserts, key=lambda x: x[0]):  # stable: nested '(' stay in order
        pieces += (rhs[last:pos], text)
        last = pos
    return "".join(pieces) + rhs[last:]


def _summands(tokens: list[Token]) -> list[list[tuple[int, int, str]]]:
    """For the top level and each parenthesised group: its summands as (start, end, sign),
    sign ``"+"`` for one that may join a run (``"-"``, or ``"1"`` for a literal, otherwise)."""
    groups: list[list[tuple[int, int, str]]] = []
    stack: list[list] = [[[], None, "+"]]  # per level: summands, current (start, end), sign
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        level = stack[-1]
        if _is_op(tok, "+", "-"):
            _close_summand(level)
            if tok.text == "-":
                level[2] = "-" if level[2] == "+" else "+"
            i += 1
            continue
        if _is_op(tok, ")"):
            _close_summand(level)
            groups.append(stack.pop()[0])
            _extend(stack[-1], tok.pos, _end(tok), "")
            i += 1
            continue
        if _is_op(tok, "("):
            _extend(level, tok.pos, _end(tok), "")
            stack.append([[], None, "+"])
            i += 1
            continue
        end = _closing(tokens, i + 1) if (tok.kind == "NAME" and not tok.quoted and
                                          i + 1 < len(tokens) and tokens[i + 1].text == "(") else i
        _extend(level, tok.pos, _end(tokens[end]), "1" if tok.kind == "NUMBER" else "")
        i = end + 1
    _close_summand(stack[-1])
    groups.append(stack[-1][0])
    return groups


def _extend(level: list, start: int, end: int, literal: str) -> None:
    if level[1] is None:
        level[1] = [start, end, literal]
    else:
        level[1][1] = end
        level[1][2] = ""  # a literal inside a product is no longer a bare literal


def _close_summand(level: list) -> None:
    if level[1] is not None:
        start, end, literal = level[1]
        level[0].append((start, end, literal or level[2]))
        level[1], level[2] = None, "+"


def _nest(run: list[tuple[int, int, str]], inserts: list[tuple[int, str]]) -> None:
    """Parentheses that split ``run`` in halves, recursively, when it is long."""
    if len(run) <= SHORT_SUM:
        return
    middle = len(run) // 2
    for half in (run[:middle], run[middle:]):
        if len(half) > 1:
            inserts.append((half[0][0], "("))
            inserts.append((half[-1][1], ")"))
            _nest(half, inserts)


def _end(tok: Token) -> int:
    return tok.pos + len(tok.text) + (2 if tok.kind == "NAME" and tok.quoted else 0)
