"""The shape of the tree, read from the source (no import is executed):

* no module of ``refnn``, ``keras_bridge`` or ``comparisons`` takes part in an import cycle,
  counting the imports inside functions;
* no module over 400 lines of code and no function over 60 (docstrings do not count: formula
  tables belong in them);
* every ``docs/...`` path mentioned in the code, the tests, the README and the docs exists, every
  test a document cites as ``tests/...py::name`` exists, and nothing cites a file outside the
  repository.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("refnn", "keras_bridge", "comparisons")
MODULE_LINES, FUNCTION_LINES = 400, 60


def _sources() -> dict[str, Path]:
    """``{module name: path}`` of every module of the three packages."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


MODULES = _sources()
TREES = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in MODULES.items()}


def _imported(module: str, tree: ast.Module) -> set[str]:
    """The project modules ``module`` imports (a name inside a module counts as the module)."""
    targets = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".")
                if not MODULES[module].name == "__init__.py":
                    package = package[:-1]
                base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    resolved = set()
    for target in targets:
        while target and target not in MODULES:
            target = target.rpartition(".")[0]
        # a module importing its own package's __init__ (to reach a sibling) is not a cycle
        if target and target != module and not module.startswith(target + "."):
            resolved.add(target)
    return resolved


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
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
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_module_takes_part_in_an_import_cycle():
    graph = {name: _imported(name, tree) for name, tree in TREES.items()}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _docstring_lines(tree: ast.Module) -> set[int]:
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                lines.update(range(first.lineno, first.end_lineno + 1))
    return lines


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_and_functions_fit_on_a_screen(module):
    tree, text = TREES[module], MODULES[module].read_text(encoding="utf-8").splitlines()
    docstrings = _docstring_lines(tree)
    code = sum(1 for number, line in enumerate(text, 1) if line.strip() and number not in docstrings)
    assert code <= MODULE_LINES, f"{module}: {code} lines of code (at most {MODULE_LINES})"
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = sum(1 for n in range(node.lineno, node.end_lineno + 1) if n not in docstrings)
            assert length <= FUNCTION_LINES, f"{module}.{node.name}: {length} lines (at most {FUNCTION_LINES})"


def _documents() -> list[Path]:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "tests").rglob("*.py"))]
    return files + list(MODULES.values())


def test_every_cited_doc_exists_and_nothing_outside_the_repository_is_cited():
    missing, outside = [], []
    for path in _documents():
        text = path.read_text(encoding="utf-8")
        for cited in re.findall(r"\bdocs/[\w./-]*\w", text):
            if not (ROOT / cited).exists():
                missing.append(f"{path.relative_to(ROOT)} cites {cited}")
        for pattern in (r"\.\./shared", r"\bDESIGN\.md", r"\breference/\w+\.md"):
            if path != Path(__file__) and re.search(pattern, text):
                outside.append(f"{path.relative_to(ROOT)}: {pattern}")
    assert not missing and not outside, missing + outside


def test_every_test_a_document_cites_exists():
    cited = set()
    for path in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        cited.update(re.findall(r"(tests/[\w/]+\.py)::([\w:]+)", path.read_text(encoding="utf-8")))
    assert cited, "docs/keras-numerics.md cites the tests that pin each rule"
    missing = []
    for file, name in sorted(cited):
        tree = ast.parse((ROOT / file).read_text(encoding="utf-8")) if (ROOT / file).exists() else None
        scope = tree.body if tree else []
        for part in name.split("::"):
            node = next((n for n in scope if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == part), None)
            if node is None:
                missing.append(f"{file}::{name}")
                break
            scope = node.body
    assert not missing, missing
