"""The Examples of every public docstring run and give the output they show.

The API reference (``docs/``, ``bash scripts/docs.sh``) shows these examples; running them here
keeps them true.  They use tiny data (``mtcars``, ``iris``) and GLM fits by L-BFGS, so the few
that train stay short.
"""

from __future__ import annotations

import doctest
import inspect

import pytest

import dlstat
from dlstat import datasets


def _public_objects() -> dict[str, object]:
    objects: dict[str, object] = {"dlstat.datasets": datasets}
    for name in dlstat.__all__:
        obj = getattr(dlstat, name)
        objects[f"dlstat.{name}"] = obj
        if inspect.isclass(obj) and obj.__module__.startswith("dlstat"):
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and (inspect.isfunction(member)
                                                 or isinstance(member, property)):
                    objects[f"dlstat.{name}.{attr}"] = member
    return objects


OBJECTS = _public_objects()
FINDER = doctest.DocTestFinder(recurse=False)


def _tests(name: str, obj: object) -> list[doctest.DocTest]:
    target = obj.fget if isinstance(obj, property) else obj
    return [t for t in FINDER.find(target, name, globs={"dlstat": dlstat}) if t.examples]


WITH_EXAMPLES = [name for name, obj in OBJECTS.items() if _tests(name, obj)]


def test_the_fitting_functions_have_examples():
    for name in ("dnn", "cv_dnn", "compare", "dnn_path", "tune_dnn", "partition", "dense",
                 "lstm"):
        assert f"dlstat.{name}" in WITH_EXAMPLES, f"dlstat.{name} has no doctest example"


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples(name: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in _tests(name, OBJECTS[name]):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} failed"
