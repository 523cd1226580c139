"""Imports run one way (DESIGN.md, "Import direction"), read from the source with ``ast``.

Every import counts: module level, inside functions, under ``TYPE_CHECKING``, and every string
constant that names a module of the package (what ``importlib.import_module`` is handed, directly
or from a table). Each module has a layer; a module may import its own layer or lower ones, never a
higher one, and the package holds no import circle. Modules stay under 800 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "neurocomplex"

# Layers, lowest first; a module belongs to the longest prefix listed. The root package (the public
# facade, which names everything lazily) sits just below the command line.
LAYERS: dict[str, float] = {
    "neurocomplex._version": 0,
    "neurocomplex.errors": 0,
    "neurocomplex._validation": 1,
    "neurocomplex._progress": 1,
    "neurocomplex._bundled": 1,
    "neurocomplex._fields": 1,
    "neurocomplex._figure_rules": 1,
    "neurocomplex._plot_marks": 1,
    "neurocomplex._atomic": 1,
    "neurocomplex._memory": 1,
    "neurocomplex._threads": 1,
    "neurocomplex._window_kernel": 1,
    "neurocomplex.binning": 1,
    "neurocomplex.recording": 2,
    "neurocomplex.estimate": 2,
    "neurocomplex._checks": 3,
    "neurocomplex.trials": 3,
    "neurocomplex.stats": 3,
    "neurocomplex._backend": 4,
    "neurocomplex.io": 4,
    "neurocomplex.measures": 5,
    "neurocomplex.torch": 6,
    "neurocomplex.comparison": 7,
    "neurocomplex.batch": 7,
    "neurocomplex.plotting": 7,
    "neurocomplex.report": 7,
    "neurocomplex": 7.5,
    "neurocomplex.cli": 8,
}

MAX_LINES = 800


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The package module ``name`` refers to (a name inside a module resolves to that module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _docstrings(tree: ast.Module) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def imports_of(module: str) -> set[str]:
    """Every package module that ``module`` imports, however it does so."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    docs = _docstrings(tree)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                # `from pkg import sub` imports the submodule; `from mod import name` the module
                sub = f"{source}.{alias.name}"
                names.add(sub if sub in MODULES else source)
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
              and "." in node.value and node.value in MODULES):  # a bare "neurocomplex" names a file group
            names.add(node.value)
    resolved = {_resolve(n) for n in names if n == "neurocomplex" or n.startswith("neurocomplex.")}
    return {r for r in resolved if r is not None and r != module}


def layer_of(module: str) -> float:
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return LAYERS[best]


GRAPH = {m: imports_of(m) for m in MODULES}


def test_every_module_has_a_layer():
    assert all(layer_of(m) is not None for m in MODULES)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_run_one_way(module):
    upward = sorted(t for t in GRAPH[module] if layer_of(t) > layer_of(module))
    assert upward == [], f"{module} (layer {layer_of(module)}) imports upward: {upward}"


def test_named_directions():
    # the directions DESIGN.md names, spelled out so that a change of LAYERS cannot drop them
    def edges(src: str, dst: str) -> list[tuple[str, str]]:
        return [(a, b) for a, targets in GRAPH.items() if a == src or a.startswith(src + ".")
                for b in targets if b == dst or b.startswith(dst + ".")]

    assert edges("neurocomplex.measures", "neurocomplex.torch") == []
    assert edges("neurocomplex.recording", "neurocomplex.io") == []
    assert edges("neurocomplex.recording", "neurocomplex.trials") == []
    assert edges("neurocomplex.stats", "neurocomplex.measures") == []
    assert edges("neurocomplex.stats", "neurocomplex.torch") == []
    assert edges("neurocomplex._backend", "neurocomplex.measures") == []
    assert edges("neurocomplex._backend", "neurocomplex.torch") == []
    assert edges("neurocomplex.estimate", "neurocomplex.measures") == []


def test_no_import_circles():
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert circles == []


def test_the_reader_sees_every_kind_of_import():
    # the parser above must see function-level imports and import_module strings, or it proves nothing
    assert "neurocomplex._backend.accumulate" in GRAPH["neurocomplex.measures.entropy"]  # inside a function
    assert "neurocomplex.measures.similarity" in GRAPH["neurocomplex.measures"]  # a string in a table
    assert "neurocomplex.io.nwb" in GRAPH["neurocomplex.io"]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_small(module):
    n_lines = len(MODULES[module].read_text().splitlines())
    assert n_lines < MAX_LINES, f"{module} has {n_lines} lines (DESIGN.md: under {MAX_LINES})"
