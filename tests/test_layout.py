"""The test suite's own layout: shared code lives in tests/helpers/, and no test module
imports another test module or a conftest (a test module is run on its own, in any
order, by any runner; fixtures come from conftest.py files through pytest)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def imported_modules(source: str, package: tuple[str, ...]) -> list[str]:
    """Every module (and imported name) that `source`, a module of the package `package`
    under tests/, imports: a dotted name relative to tests/ where it is one of ours
    (`e2e.test_kills`, `helpers.commands.run`), else as written."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name.removeprefix("tests.") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            else:
                module = (node.module or "").removeprefix("tests.")
            found.append(module)
            found += [f"{module}.{alias.name}".strip(".") for alias in node.names]
    return found


def names_a_test_module(name: str) -> bool:
    """Whether a dotted name is (or is inside) a test module or a conftest."""
    return any(part.startswith("test_") or part == "conftest" for part in name.split("."))


def test_no_test_module_imports_a_test_module_or_a_conftest():
    wrong = {}
    for path in sorted(TESTS.rglob("*.py")):
        rel = path.relative_to(TESTS)
        if rel.parts[0] == "helpers":
            continue
        bad = [
            m
            for m in imported_modules(path.read_text(), rel.parent.parts)
            if names_a_test_module(m)
        ]
        if bad:
            wrong[rel.as_posix()] = bad
    assert not wrong, f"import shared code from tests/helpers/ instead: {wrong}"


def test_the_check_sees_every_form_of_such_an_import():
    """The check above is not vacuous: relative, absolute and package imports of a test
    module or a conftest are caught, an import of a helper is not."""
    sample = (
        "from .test_bad_inputs import snapshot\n"
        "from . import conftest\n"
        "import tests.e2e.test_kills\n"
        "from ..helpers.commands import run\n"
    )
    names = imported_modules(sample, ("e2e",))
    caught = {m for m in names if names_a_test_module(m)}
    assert {"e2e.test_bad_inputs", "e2e.conftest", "e2e.test_kills"} <= caught
    assert not any(m.startswith("helpers") for m in caught)
