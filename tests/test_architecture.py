"""The layering holds: the import contracts in pyproject.toml are kept, every package sits in a layer, and no two
modules import each other, directly or through others (imports made only for type checking and imports inside
functions count too: a cycle is a cycle however lazily it is walked)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

import cryptoscope

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
OUTSIDE_LAYERS = {"errors", "fsio", "__main__"}  # utilities every layer may use


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def test_no_two_modules_import_each_other() -> None:
    graph = grimp.build_graph("cryptoscope", include_external_packages=False, exclude_type_checking_imports=False)
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle_through_a_third_module() -> None:
    graph = grimp.ImportGraph()
    for module in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(module)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.z")
    graph.add_import(importer="a.z", imported="a.x")
    assert _cycles(graph) == [["a.x", "a.y", "a.z"]]


def test_the_import_contracts_are_kept() -> None:
    done = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"], cwd=PYPROJECT.parent,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "BROKEN" not in done.stdout and "Contracts: 2 kept, 0 broken." in done.stdout


def test_every_package_sits_in_a_layer() -> None:
    config = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"][0]
    layered = {name.strip().removeprefix("cryptoscope.") for layer in config["layers"]
               for name in layer.replace("|", ":").split(":")}
    present = {m.name for m in pkgutil.iter_modules(cryptoscope.__path__)}
    assert present - layered - OUTSIDE_LAYERS == set()
