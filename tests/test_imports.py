"""The import graph of read/: no cycles, and the science never depends on the job runtime.

Every module under read/ is parsed (not imported), and every import counts: module-level,
inside functions, and under ``if TYPE_CHECKING``. A function-level import is how a cycle
usually hides (it runs fine until the day someone moves it to the top).
"""

from __future__ import annotations

import ast
from pathlib import Path

import read

ROOT = Path(read.__file__).parent
RUNTIME = "read.runtime"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def imported(name: str, path: Path) -> set[str]:
    """The read.* modules that module ``name`` (at ``path``) imports anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # from . import x / from ..y import z
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from read.x import y` imports the module read.x.y when there is one, else read.x
            found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: imported(name, path) for name, path in MODULES.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path [a, b, ..., a], or None (depth-first search, three colours)."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_is_read_from_the_package():
    # guards the parser: a graph with no edges would pass every test below
    assert {"read.runtime.jobs", "read.runtime.jobserver", "read.aggregate"} <= set(GRAPH)
    assert "read.runtime.jobserver" in GRAPH["read.runtime.jobs"]  # a function-level import


def test_find_cycle_finds_a_cycle_through_a_function_level_import():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_read_has_no_import_cycle():
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_science_module_imports_the_job_runtime():
    def runtime(m: str) -> bool:
        return m == RUNTIME or m.startswith(RUNTIME + ".")

    offenders = {name: sorted(filter(runtime, deps)) for name, deps in GRAPH.items() if not runtime(name)}
    assert {name: deps for name, deps in offenders.items() if deps} == {}
