"""The packages show the flow: each imports only the packages below it, and no import closes a circle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "csto_site"
# Lowest first: a module may import its own package and the packages before it, never one after it.
LAYERS = ("util", "content", "site", "output", "build", "publish", "reporter", "serve", "cli")


def module_name(path: Path) -> str:
    """Return the dotted name of a module of the package."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Return the modules of the package that a module imports (at any place in it, lazily too)."""
    name = module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - node.level + 1]
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found |= {
                f"{target}.{a.name}"
                if f"{target}.{a.name}".replace(".", "/")
                and (PACKAGE / f"{target}.{a.name}".replace(".", "/")).with_suffix(".py").exists()
                else target
                for a in node.names
            }
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("csto_site."):
            found.add(node.module.removeprefix("csto_site."))
    return {f for f in found if f}


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if module_name(p)}


def layer(module: str) -> int:
    """Return the layer of a module: the position of its package (or top-level module) in LAYERS."""
    return LAYERS.index(module.split(".")[0])


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_its_own_package_and_those_below(module: str) -> None:
    upward = sorted(target for target in imports(MODULES[module]) if layer(target) > layer(module))
    assert upward == [], f"{module} imports {upward}, which come after it in {LAYERS}"


def test_no_import_closes_a_circle() -> None:
    graph = {m: {t for t in imports(p) if t in MODULES and t != m} for m, p in MODULES.items()}
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_every_package_says_what_it_holds_and_what_it_may_import() -> None:
    for name in LAYERS:
        init = PACKAGE / name / "__init__.py"
        if init.exists():
            doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
            assert "Imports" in doc and len(doc.splitlines()) >= 2, f"{name}/__init__.py needs its docstring"
