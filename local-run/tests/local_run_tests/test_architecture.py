"""The layout rules of the repository that Pants's visibility rules cannot express.

Pants checks which package may depend on which (the dependency rules in each project's BUILD
file). These tests check the rest of what the layout promises (the root README's "Layout" and
"Layers"), read from the source files themselves: no import cycle between first-party
modules, counting imports under TYPE_CHECKING and inside functions (a reader follows those
too), and no runaway module. Modules are shaped by what they hold, not by a line budget; the
ceiling only catches a file that has grown to hold several concepts at once.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

MAX_MODULE_LINES = 1000
PROJECTS = (
    "shared-metrics",
    "websocket-service",
    "session-management",
    "audio-transcription",
    "canary",
    "infra",
    "local-run",
)


def _build_root() -> Path:
    # In Pants's sandbox and in a checkout alike: the directory holding the projects.
    for parent in Path(__file__).resolve().parents:
        if all((parent / project / "src").is_dir() for project in PROJECTS):
            return parent
    raise AssertionError(f"no directory above {__file__} holds the projects {PROJECTS}")


# Source roots besides the projects' src trees (pants.toml [source] root_patterns; tests
# are left out).
OTHER_ROOTS = ("shared-metrics/benchmarks", "pants-plugins")


def first_party_modules(root: Path) -> dict[str, Path]:
    """Every module of the source roots, by dotted name."""
    modules = {}
    for src in [root / project / "src" for project in PROJECTS] + [root / r for r in OTHER_ROOTS]:
        for path in sorted(src.rglob("*.py")):
            parts = list(path.relative_to(src).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the first-party modules it imports, wherever the import statement is."""

    def owner(name: str) -> str | None:
        # `from a.b import c` imports module a.b.c if there is one, else a name of a.b.
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([node.module] if node.module else [])])
                targets = [f"{base}.{alias.name}" for alias in node.names]
            for target in targets:
                imported = owner(target)
                if imported is not None and imported != name:
                    graph[name].add(imported)
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm,
    iterative: the graph has hundreds of modules)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        cycles.append(sorted(component))
    return cycles


@pytest.fixture(scope="module")
def modules() -> dict[str, Path]:
    return first_party_modules(_build_root())


def test_the_sources_are_all_here(modules: dict[str, Path]) -> None:
    # Without the sources in the sandbox the checks below would pass on nothing.
    for module in (
        "shared_metrics.sinks.emf",
        "websocket_service.events",
        "session_management.handlers.connection",
        "audio_transcription.handlers.audio_processor",
        "websocket_canary.check",
        "infra.app",
        "local_run.cli",
        "metrics_benchmark",
        "lambda_bytecode.register",
    ):
        assert module in modules


def test_no_import_cycle_between_first_party_modules(modules: dict[str, Path]) -> None:
    assert import_cycles(import_graph(modules)) == []


def test_no_source_module_is_a_runaway(modules: dict[str, Path]) -> None:
    sizes = {name: len(path.read_text().splitlines()) for name, path in modules.items()}
    assert {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES} == {}


# -- the checks themselves, on graphs whose answer is known ------------------------------------


def test_a_cycle_is_found_however_long_and_wherever_the_import_is(tmp_path: Path) -> None:
    src = tmp_path / "src" / "pkg"
    src.mkdir(parents=True)
    (src / "__init__.py").write_text("")
    (src / "a.py").write_text("from pkg.b import thing\n")
    (src / "b.py").write_text("def f():\n    from pkg import c\n")  # function-local
    (src / "c.py").write_text("TYPE_CHECKING = False\nif TYPE_CHECKING:\n    from . import a\n")
    (src / "d.py").write_text("import pkg.a\n")  # imports into the cycle, is not part of it
    modules = {
        name: src / f"{name.split('.')[-1]}.py" for name in ("pkg.a", "pkg.b", "pkg.c", "pkg.d")
    }
    modules["pkg"] = src / "__init__.py"
    assert import_cycles(import_graph(modules)) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_an_acyclic_graph_has_no_cycle() -> None:
    graph = {"a": {"b", "c"}, "b": {"c"}, "c": set(), "d": {"a"}}
    assert import_cycles(graph) == []
    assert import_cycles({**graph, "c": {"d"}}) == [["a", "b", "c", "d"]]


@pytest.mark.parametrize(
    "package", ["websocket_service", "session_management", "audio_transcription"]
)
def test_the_package_inits_the_canary_rule_admits_import_nothing(
    modules: dict[str, Path], package: str
) -> None:
    # canary/BUILD lets the script depend on these packages' __init__.py (Python runs a
    # package's __init__ before any of its modules); an import there would slip the rest of
    # the package past the rule and into the canary's zip.
    tree = ast.parse(modules[package].read_text())
    assert [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)] == []
