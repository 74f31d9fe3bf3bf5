"""dlstat's messages in R notation, for the R fronts.

dlstat words its errors for Python users: ``hidden=(32, 16)``, ``n=None``, ``True``,
``'x'``, ``dl.dense(32)``.  An R user reads ``hidden = c(32, 16)``, ``n = NULL``, ``TRUE``,
``"x"``, ``dense(32)``.  :func:`r_notation` rewrites the Python spellings that dlstat's messages
use, and only where they are values: a list of strings anywhere, a sequence of numbers after
``name=``, ``got``, ``one of``, ``such as``, ``e.g.`` or ``or`` (so the interval in "a number in
[0, 1)" stays as it is), quoted strings as wholes (their insides are never rewritten), constants
as whole words ("None of the rows" is prose).
"""

from __future__ import annotations

import re

_QUOTED = r"(?<![\w'])'[^'\n]*'(?!\w)"
_LITERAL = rf"(?:{_QUOTED}|-?\d+(?:\.\d*)?(?:e[-+]?\d+)?|None|True|False|-?inf|nan)"
_SEQUENCE = (rf"\[\s*(?:{_LITERAL}(?:\s*,\s*{_LITERAL})*\s*,?)?\s*\]"
             rf"|\(\s*(?:{_LITERAL}\s*,(?:\s*{_LITERAL}\s*,?)*)?\s*\)")
_CONSTANTS = {"None": "NULL", "True": "TRUE", "False": "FALSE", "inf": "Inf", "-inf": "-Inf",
              "nan": "NaN"}
_CONSTANT = r"(?<![\w.])(?:None(?! of)|True|False|-?inf|nan)(?![\w.])"

_STRINGS = rf"\[\s*{_QUOTED}(?:\s*,\s*{_QUOTED})*\s*,?\s*\]"
_LEADS = r"got|one of|such as|e\.g\.|or"

_PATTERN = re.compile(
    rf"(?P<keyword>(?<![\w.])[A-Za-z_]\w*)=(?![=])\s*(?P<value>{_SEQUENCE})?"
    rf"|(?P<lead>(?<![\w.])(?:{_LEADS})\s+)(?P<listed>{_SEQUENCE})"
    rf"|(?P<strings>{_STRINGS})"
    rf"|(?P<tuple>(?<![\w.])a tuple(?!\w))"
    rf"|(?P<quoted>{_QUOTED})"
    rf"|(?P<constant>{_CONSTANT})"
    r"|(?P<module>(?<![\w.])dl\.)(?=[a-z_]\w*\()"
)
_ELEMENT = re.compile(rf"(?P<quoted>{_QUOTED})|(?P<constant>{_CONSTANT})")


def r_notation(message: str) -> str:
    """``message`` with Python's spelling of values replaced by R's.

    Examples
    --------
    >>> r_notation("got hidden=(32, 16); pass n=None or 'x', not True")
    'got hidden = c(32, 16); pass n = NULL or "x", not TRUE'
    """
    return _PATTERN.sub(_replace, message)


def _replace(match: re.Match[str]) -> str:
    if match.group("keyword"):
        value = match.group("value")
        return f"{match.group('keyword')} = " + (_vector(value) if value else "")
    if match.group("listed"):
        return match.group("lead") + _vector(match.group("listed"))
    if match.group("strings"):
        return _vector(match.group("strings"))
    if match.group("tuple"):
        return "a vector"
    if match.group("module"):
        return ""
    return _element(match)


def _vector(sequence: str) -> str:
    """A Python tuple or list of literals → R's ``c(...)``."""
    inner = sequence.strip()[1:-1].strip().rstrip(",").strip()
    return f"c({_ELEMENT.sub(_element, inner)})"


def _element(match: re.Match[str]) -> str:
    quoted = match.group("quoted")
    if quoted:
        return '"' + quoted[1:-1].replace("\\", "\\\\").replace('"', '\\"') + '"'
    return _CONSTANTS[match.group("constant")]


__all__ = ["r_notation"]
