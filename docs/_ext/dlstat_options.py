"""Document the fitting functions' options from the one options table.

Every option of ``dnn``, ``cv_dnn``, ``compare``, ``dnn_path``, ``partition`` and the two
estimators has a row in :data:`dlstat.options.OPTIONS` (kind, default, allowed values, a
one-line doc).  Before numpydoc renders a docstring, this extension adds a numpydoc entry for
every table option that the object takes but its docstring leaves undocumented: its own
signature's options under *Parameters*, and the options it passes on to :func:`dlstat.dnn`
through ``**options`` under *Other Parameters*.  A docstring's own entry always wins; an entry
that merely lists several option names (``hidden, activation, ...``) is expanded into one entry
per option.  So the reference cannot drift from what the functions check.
"""

from __future__ import annotations

import inspect
from typing import Any

from numpydoc.docscrape import NumpyDocString, Parameter
from sphinx.application import Sphinx

from dlstat import options as table

# Documented name -> the table's function name.
FUNCTIONS = {
    "dlstat.dnn": table.DNN,
    "dlstat.cv_dnn": table.CV,
    "dlstat.compare": table.COMPARE,
    "dlstat.dnn_path": table.PATH,
    "dlstat.partition": table.PARTITION,
    "dlstat.DNNRegressor": table.REGRESSOR,
    "dlstat.DNNClassifier": table.CLASSIFIER,
}
# Functions whose ``**options`` reach dnn().
PASS_ON = {table.CV, table.COMPARE, table.PATH}


def option_entry(row: table.Option) -> Parameter:
    """The numpydoc entry of one table row: ``name : kind, default ...`` and its doc."""
    kind = ("{" + ", ".join(repr(a) for a in row.allowed) + "}" if row.kind == table.CHOICE
            else row.kind)
    default = "None" if row.default is None else repr(row.default)
    text = row.doc[0].upper() + row.doc[1:]
    desc = [f"{text}.", "", f"Accepts {row.expects()}."]
    return Parameter(row.name, f"{kind}, default {default}", desc)


def _names(entry: Parameter) -> list[str]:
    return [n.strip().lstrip("*") for n in entry.name.split(",") if n.strip()]


def complete(doc: NumpyDocString, function: str, signature: list[str]) -> None:
    """Add the table's entries that ``doc`` lacks, in place.

    Parameters
    ----------
    doc : numpydoc.docscrape.NumpyDocString
        The parsed docstring.
    function : str
        The table's function name (``"dnn"``, ``"cv_dnn"``, ...).
    signature : list of str
        The parameter names of the object's own signature.
    """
    own = {row.name: row for row in table.options_for(function)}
    params: list[Parameter] = []
    for entry in doc["Parameters"]:
        names = _names(entry)
        if len(names) > 1 and all(n in own for n in names):
            params.extend(option_entry(own[n]) for n in names)
        else:
            params.append(entry)
    documented = {n for entry in params + doc["Other Parameters"] for n in _names(entry)}
    for name in signature:
        if name in own and name not in documented:
            params.append(option_entry(own[name]))
            documented.add(name)
    if function == table.DNN:
        params.extend(option_entry(r) for r in own.values() if r.name not in documented)
        documented.update(own)
    doc["Parameters"] = params
    if function in PASS_ON:
        passed = [option_entry(r) for r in table.options_for(table.DNN)
                  if r.name not in documented and r.name not in own]
        doc["Other Parameters"] = list(doc["Other Parameters"]) + passed


def _signature(obj: Any) -> list[str]:
    try:
        parameters = inspect.signature(obj).parameters
    except (TypeError, ValueError):
        return []
    return [p.name for p in parameters.values()
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]


def render(title: str, entries: list[Parameter]) -> list[str]:
    """A numpydoc section: the title, its underline and one block per entry."""
    out = [title, "-" * len(title)]
    for entry in entries:
        out.append(f"{entry.name} : {entry.type}" if entry.type else entry.name)
        out.extend(f"    {line}" if line else "" for line in entry.desc)
    return out + [""]


def _sections(lines: list[str]) -> dict[str, tuple[int, int]]:
    """Where each section starts (its title line) and ends (the next title, or the end)."""
    starts = [i for i in range(len(lines) - 1)
              if lines[i].strip() and set(lines[i + 1].strip()) == {"-"}
              and len(lines[i + 1].strip()) == len(lines[i].strip())]
    ends = starts[1:] + [len(lines)]
    return {lines[i].strip(): (i, j) for i, j in zip(starts, ends)}


def splice(lines: list[str], doc: NumpyDocString) -> list[str]:
    """``lines`` with its Parameters and Other Parameters sections replaced by ``doc``'s (the
    rest of the docstring is left as written)."""
    where = _sections(lines)
    new = render("Parameters", doc["Parameters"])
    if doc["Other Parameters"]:
        new += render("Other Parameters", doc["Other Parameters"])
    spans = [where[t] for t in ("Parameters", "Other Parameters") if t in where]
    if spans:
        start, end = min(s for s, _ in spans), max(e for _, e in spans)
    else:  # no section yet: after the summary paragraphs, before the first section
        start = end = min((s for s, _ in where.values()), default=len(lines))
    return lines[:start] + new + lines[end:]


def _process(app: Sphinx, what: str, name: str, obj: Any, options: Any,
             lines: list[str]) -> None:
    function = FUNCTIONS.get(name)
    if function is None or what not in ("function", "class"):
        return
    doc = NumpyDocString("\n".join(lines))
    complete(doc, function, _signature(obj))
    lines[:] = splice(lines, doc)


def setup(app: Sphinx) -> dict[str, bool]:
    """Run before numpydoc's own docstring handler (priority 500)."""
    app.connect("autodoc-process-docstring", _process, priority=400)
    return {"parallel_read_safe": True}
