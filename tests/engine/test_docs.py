"""The engine is the part other studies build on: every public class, function and method
says what it computes (and, for tensors, their shapes) in a docstring."""

from __future__ import annotations

import ast

from ..helpers.imports import SRC

ENGINE = SRC / "layerwise" / "engine"


def public_definitions(tree: ast.Module):
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
            yield node.name, node
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and not item.name.startswith("_"):
                        yield f"{node.name}.{item.name}", item


def test_every_public_engine_definition_has_a_docstring():
    missing = []
    for path in sorted(ENGINE.glob("*.py")):
        tree = ast.parse(path.read_text())
        if not ast.get_docstring(tree):
            missing.append(f"{path.name} (module)")
        for name, node in public_definitions(tree):
            if not ast.get_docstring(node):
                missing.append(f"{path.name}: {name}")
    assert not missing, "no docstring: " + ", ".join(missing)
