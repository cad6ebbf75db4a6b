"""No import circles among the kit's and the taps' modules (found statically, with `ast`).

An import counts wherever it is written: inside a function (a deferred import still ties the two modules
together) and under `if t.TYPE_CHECKING:` (a type-only import is still a dependency a reader follows). A circle
that stays is listed in `ALLOWED` with its reason, and must still exist (so the list cannot rot)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [ROOT / "taps/tapkit/tapkit", *sorted((ROOT / "taps").glob("tap-*/tap_*"))]

#: each circle that stays (as the sorted tuple of its modules), and why
ALLOWED: dict[tuple[str, ...], str] = {
    ("tapkit.cli", "tapkit.tap"): "cli runs a VendorTap class (a type-only import); VendorTap.run_singer and its "
    "`--probe` option hand the class to cli when the console script runs (deferred import)",
}


def module_name(path: Path, package: Path) -> str:
    parts = [package.name, *path.relative_to(package).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree: ast.AST, known: set[str]) -> set[str]:
    """The known modules `tree` imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:  # `from tapkit import probe` imports the module tapkit.probe
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in known else node.module)
    return found & known


def import_graph() -> dict[str, set[str]]:
    """module -> the modules it imports."""
    files = {module_name(path, package): path for package in PACKAGES for path in package.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        for target in imported(ast.parse(path.read_text()), set(files)):
            # a package's __init__ re-exports its modules; `from tapkit import X` is not a circle through it
            if target != name and not (target in PACKAGE_NAMES and name.startswith(f"{target}.")):
                graph[name].add(target)
    return graph


PACKAGE_NAMES = {package.name for package in PACKAGES}


def circles(graph: dict[str, set[str]]) -> set[tuple[str, ...]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: set[tuple[str, ...]] = set()

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.add(tuple(sorted(component)))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_the_imports_and_finds_a_circle():
    graph = import_graph()
    assert "tap_gravito.api" in graph["tap_gravito.tap"]
    assert "tapkit.http" in graph["tapkit.tap"]
    assert len(graph) > 80
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == {("a", "b", "c")}


def test_no_import_circles_but_the_allowed_ones():
    found = circles(import_graph())
    assert found - set(ALLOWED) == set(), "import circles (cut them, or list one in ALLOWED with its reason)"
    assert set(ALLOWED) - found == set(), "an allowed circle is gone: remove it from ALLOWED"
