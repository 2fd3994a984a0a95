"""No import cycle among the platform modules, and none of them pulls in Streamlit."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import wpp

PACKAGE = Path(wpp.__file__).resolve().parent
MINE = ("client", "tokens", "jwtinfo", "phone", "qr", "validation", "textutil")


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, name: str) -> set[str]:
    """The wpp modules a module imports at import time (TYPE_CHECKING blocks and function bodies excluded)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(nodes):
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("wpp"))
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                if base.startswith("wpp"):
                    found.add(base)
                    found.update(f"{base}.{a.name}" for a in node.names)
            if isinstance(node, (ast.ClassDef, ast.If, ast.Try, ast.With)):
                visit(ast.iter_child_nodes(node))

    visit(tree.body)
    return found


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in _imports(path, name) if m in files and m != name} for name, path in files.items()}


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), list(graph.get(start, ()))
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return False


def test_the_token_modules_import_one_way():
    graph = _graph()
    assert "wpp.jwtinfo" in graph["wpp.client"] and "wpp.tokens" not in graph["wpp.client"]
    assert {"wpp.client", "wpp.jwtinfo"} <= graph["wpp.tokens"]
    assert not graph["wpp.jwtinfo"] & {"wpp.client", "wpp.tokens"}


@pytest.mark.parametrize("module", MINE)
def test_no_import_cycle_goes_through_a_platform_module(module):
    graph = _graph()
    name = f"wpp.{module}"
    assert not _reaches(graph, name, name), f"{name} imports itself through a cycle"


@pytest.mark.parametrize("first", ["wpp.tokens", "wpp.client", "wpp.jwtinfo", "wpp.qr", "wpp.phone"])
def test_each_module_imports_first_in_a_fresh_interpreter_without_streamlit(first):
    code = (
        f"import importlib, sys; importlib.import_module({first!r}); "
        + "".join(f"importlib.import_module('wpp.{m}'); " for m in MINE)
        + "sys.exit(3 if 'streamlit' in sys.modules else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
