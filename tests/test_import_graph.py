"""The import graph of engine/ and bot/: every module imports, and no two modules import each other
through any chain — counting imports under ``if TYPE_CHECKING:`` and inside functions, since a
type-only or deferred import that closes a loop still hides a real two-way dependency.

The graph is read from the source with ``ast``, so a cycle is found even where Python's import
order happens to let it load."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "bot")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def our_modules() -> dict[str, Path]:
    return {module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Our modules that ``name`` imports anywhere in its source."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # ``from pkg import sub`` imports the submodule; ``from mod import name`` the module.
            targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                       for alias in node.names]
        else:
            continue
        found.update(target for target in targets if target in modules and target != name)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = our_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_one_cycle(graph, set(component)) for component in components]


def _one_cycle(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest path from the component's first module back to itself, for the failure message."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph[node] & component):
                if target == start:
                    return paths[node] + [start]
                if target not in paths:
                    paths[target] = paths[node] + [target]
                    following.append(target)
        frontier = following
    return sorted(component)


def test_no_import_cycles():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_the_cycle_finder_sees_a_type_only_cycle(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    source = tmp_path / "m.py"
    source.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from engine.engine import Engine\n")
    assert imports_of("engine.runtime.metrics", source, our_modules()) == {"engine.engine"}


def absolute_imports(package: str) -> list[tuple[str, str]]:
    """(module, what it imports) for every absolute import in ``package``, wherever it stands."""
    found = []
    for name, path in our_modules().items():
        if not name.startswith(package):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            found += [(name, imported) for imported in names]
    return found


def test_engine_knows_no_platform():
    """engine/ never imports bot/, slack_bolt or discord."""
    chat = ("bot", "slack_bolt", "slack_sdk", "discord")
    offenders = [f"{name}: {n}" for name, n in absolute_imports("engine") if n.split(".")[0] in chat]
    assert not offenders


@pytest.mark.parametrize("name", sorted(our_modules()))
def test_every_module_imports(name):
    importlib.import_module(name)


def test_bot_imports_only_the_engines_public_surface():
    """bot/ imports ``engine`` itself, never a module inside it: the engine's packages can move
    without an adapter noticing."""
    offenders = [f"{name}: {n}" for name, n in absolute_imports("bot") if n.startswith("engine.")]
    assert not offenders, "bot/ reaches inside the engine:\n" + "\n".join(offenders)


def test_the_engine_root_holds_only_its_public_surface():
    """Everything else of the engine lives in a package named after its concern."""
    root = sorted(path.name for path in (ROOT / "engine").glob("*.py"))
    assert root == ["__init__.py", "config.py", "engine.py", "errors.py", "types.py"]
