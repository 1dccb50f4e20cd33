"""Static import analysis of the project's own modules: which files a script runs, and the
module-level import graph (for the cycle and layering checks)."""

from __future__ import annotations

import ast
from pathlib import Path

from .commands import ROOT

SRC = ROOT / "src"
PACKAGE = "layerwise"


def module_file(name: str) -> Path | None:
    """The file of a project module (`layerwise.x.y`), or None for anything else."""
    if name != PACKAGE and not name.startswith(PACKAGE + "."):
        return None
    base = SRC.joinpath(*name.split("."))
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _parents(name: str) -> list[str]:
    """`a.b.c` -> [a, a.b]: importing a module runs every package above it first."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def imports_of(path: Path, *, top_level_only: bool = False) -> set[str]:
    """Project modules that `path` imports: at module level, in functions (lazy imports)
    and under `if TYPE_CHECKING:` alike, unless `top_level_only` (then statements nested in
    functions are skipped: what runs when the module is imported)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path) if path.is_relative_to(SRC) else ""
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found: set[str] = set()

    def visit(node, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if top_level_only and nested:
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - child.level + 1]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                found.add(target)
                for alias in child.names:  # `from pkg import submodule`
                    found.add(f"{target}.{alias.name}")
            visit(child, nested)

    visit(tree, False)
    result = set()
    for name in found:
        if module_file(name) is not None:
            result.add(name)
            result.update(p for p in _parents(name) if module_file(p))
    return result


def closure(script: Path) -> set[Path]:
    """Every project file that running `script` may execute (static, lazy imports included)."""
    seen: set[str] = set()
    todo = list(imports_of(script))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(imports_of(module_file(name)))
    return {module_file(name) for name in seen}


def project_modules() -> list[Path]:
    return sorted((SRC / PACKAGE).rglob("*.py"))
