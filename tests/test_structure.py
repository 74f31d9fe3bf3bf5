"""The package's structure: what the options table imports, and no import cycles.

The options table is a table: importing it must not load the engine, transfer learning or
fitting (they import the table, not the other way round).  Module-level imports among
dlstat's modules form no cycle, read from the source with ``ast`` (an import inside a
function runs when it is called, after every module has loaded, so it is not counted).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dlstat"
LOWER_THAN_OPTIONS = ("dlstat.engine", "dlstat.transfer", "dlstat.fitting", "dlstat.results")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _is_type_checking(node: ast.stmt) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _module_level(body: list[ast.stmt]):
    """The statements run when the module is imported (not in functions, classes' methods or
    ``if TYPE_CHECKING:`` blocks)."""
    for node in body:
        if _is_type_checking(node):
            continue
        if isinstance(node, (ast.If, ast.Try)):
            yield from _module_level(node.body)
            yield from _module_level(node.orelse)
            for handler in getattr(node, "handlers", ()):
                yield from _module_level(handler.body)
        elif isinstance(node, ast.ClassDef):
            yield from (n for n in _module_level(node.body)
                        if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def _imported(name: str, nodes) -> set[str]:
    """The dlstat modules the import statements among ``nodes`` of module ``name`` load:
    the module named, the packages above it and a submodule imported by name."""
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            targets = [target] + [f"{target}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            parts = target.split(".")
            found |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)} & set(MODULES)
    # A module's own packages are already loading when it runs: no edge to them.
    return found - {name.rsplit(".", i)[0] for i in range(name.count(".") + 1)}


def import_graph(module_level_only: bool = True) -> dict[str, set[str]]:
    """Each dlstat module and the dlstat modules it imports."""
    graph = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = _module_level(tree.body) if module_level_only else ast.walk(tree)
        graph[name] = _imported(name, nodes)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_import_graph_reads_relative_imports():
    graph = import_graph()
    assert "dlstat.options" in graph["dlstat.fitting.resolve"]
    assert "dlstat.errors" in graph["dlstat.options"]


def test_no_import_cycle_among_dlstat_modules():
    assert cycles(import_graph()) == []


def test_options_imports_nothing_that_imports_it():
    # Not even inside a function: the table is read by the engine, fitting and the fronts.
    imported = import_graph(module_level_only=False)["dlstat.options"]
    assert not {m for m in imported if m.startswith(LOWER_THAN_OPTIONS)}, imported


@pytest.mark.parametrize("module", ["dlstat.options", "dlstat.architecture"])
def test_importing_the_tables_loads_no_engine_fitting_or_transfer(module):
    code = (f"import sys, {module}; "
            "print(sorted(m for m in sys.modules if m.startswith(('dlstat.engine', "
            "'dlstat.transfer', 'dlstat.fitting', 'tensorflow'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=PACKAGE.parent, timeout=120, check=True)
    assert out.stdout.strip() == "[]", out.stdout


# The prelude of the formula functions (the call, the options given, glm()'s rows, the endpoint)
# is .formula_endpoint() in R/convert.R; the R package's functions and the rpy2 bridge call it.
FORMULA_FUNCTIONS = ("R/dnn.R", "R/cv.R", "R/compare.R", "R/path.R",
                     "dlstat/fronts/rpy2_bridge.py")
PRELUDE_STEPS = ("match.call(", ".given(", ".glm_rows(", ".options_dict(", ".formula_text(")


@pytest.mark.parametrize("path", FORMULA_FUNCTIONS)
def test_the_formula_functions_prelude_is_written_once(path):
    text = (PACKAGE.parent / path).read_text(encoding="utf-8")
    assert ".formula_endpoint(" in text
    if path.endswith(".py"):
        # expose()'s formula functions (partition() and refit() are no formula functions)
        text = text[text.index("formula_function <-"):text.index("api$partition")]
    assert [step for step in PRELUDE_STEPS if step in text] == []


# ----------------------------------------------------------------- one table per layer kind

def _example_specs():
    from dlstat import architecture as A

    return {
        "dense": A.dense(4), "dropout": A.dropout(0.2), "batchnorm": A.batchnorm(),
        "activation": A.activation("tanh"), "reshape": A.reshape((2, 2), joined=1),
        "conv1d": A.conv1d(3, 2), "conv2d": A.conv2d(3, 2, padding="same"),
        "maxpool": A.maxpool(2), "avgpool": A.avgpool(2), "flatten": A.flatten(),
        "global_avgpool": A.global_avgpool(), "rnn": A.rnn(3), "lstm": A.lstm(3),
        "gru": A.gru(3), "bidirectional": A.bidirectional(A.gru(2), "sum"),
        "embedding": A.embedding(4, 2),
    }


def test_the_spec_table_and_the_engine_table_list_the_same_kinds():
    from typing import get_args

    from dlstat.architecture import LAYER_TYPES, SPEC_TABLE, Layer
    from dlstat.engine.layers import LAYER_TABLE

    engine_only = {"output", "join"}  # placed by the engine, never listed by users
    assert set(SPEC_TABLE) == set(LAYER_TABLE) - engine_only
    assert set(LAYER_TYPES) == set(get_args(Layer))
    assert set(_example_specs()) == set(SPEC_TABLE)  # a new kind needs an example here
    for kind, spec in _example_specs().items():
        assert spec.kind == kind and isinstance(spec, SPEC_TABLE[kind].spec)


@pytest.mark.parametrize("kind", sorted(_example_specs()))
def test_a_stored_spec_is_read_back_by_its_table_row(kind):
    from dlstat.architecture import from_json, to_json
    from dlstat.results.persistence import _layer

    spec = _example_specs()[kind]
    stored = to_json((spec,))[0]
    assert from_json([stored]) == (spec,)
    assert _layer(stored) == spec


def test_keras_parts_name_parameters_of_their_kind():
    from dlstat.architecture import reshape
    from dlstat.engine.layers import plan_hidden

    specs = _example_specs()
    layers = (reshape((4, 4, 1)), specs["conv2d"], specs["batchnorm"], specs["flatten"],
              specs["dense"])
    placed = plan_hidden(16, layers)
    assert [p.kind.keras_parts for p in placed[1:]] == [
        ("kernel", "bias"), ("gamma", "beta", "moving_mean", "moving_var"), (),
        ("kernel", "bias")]
    for p in placed:
        assert {p.key(part) for part in p.kind.keras_parts} <= {d.name for d in p.params}
