"""The folder tree is the architecture (docs/ARCHITECTURE.md): imports run one way, rooms stay small.

Reads the application's source as text (ast), imports nothing of it.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP_DIRS = ("domain", "sources", "ingestion", "models", "loaders", "jobs", "read", "writes", "infra", "workers",
            "auth", "ui", "layouts", "callbacks", "api", "cli", "bootstrap")
TOP_MODULES = ("app", "config", "manage", "web_context", "wsgi")

# room -> the rooms it may import (besides itself); see docs/ARCHITECTURE.md
MAY_IMPORT: dict[str, set[str]] = {
    "infra": {"models", "config"},
    "models": {"infra", "config"},
    "domain": {"infra"},
    "sources": {"domain", "infra", "config"},
    "ingestion": {"sources", "domain", "models", "infra", "config"},
    "loaders": {"domain", "models", "infra"},
    "read": {"loaders", "domain", "models", "infra", "config"},
    "writes": {"loaders", "domain", "models", "auth", "infra", "config"},
    "jobs": {"loaders", "writes", "domain", "models", "sources", "ingestion", "auth", "infra", "config"},
    "workers": {"jobs", "auth", "models", "infra", "config"},
    "auth": {"models", "infra", "config"},
    "ui": {"domain", "infra"},
}
PAGE_SIDE = {"read", "writes", "loaders", "domain", "models", "auth", "ui", "infra", "config", "web_context", "workers"}
MAY_IMPORT.update({"layouts": PAGE_SIDE, "callbacks": PAGE_SIDE | {"layouts"}, "api": PAGE_SIDE})
PAGES_MAY_USE_FROM_WORKERS = {"workers.door"}


def _modules() -> dict[str, Path]:
    found = {}
    for folder in APP_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    for name in TOP_MODULES:
        if (ROOT / f"{name}.py").exists():
            found[name] = ROOT / f"{name}.py"
    return found


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """Project modules imported anywhere in the file (`from pkg import submodule` counts as the submodule)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in MODULES}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = {f"{node.module}.{a.name}" for a in node.names} & MODULES.keys()
            if len(subs) < len(node.names) and node.module in MODULES:
                out.add(node.module)
            out |= subs
    return out


GRAPH = {name: _imports(path) - {name} for name, path in MODULES.items()}


def _room(module: str) -> str:
    return module.split(".")[0]


def test_imports_run_one_way():
    wrong = []
    for module, deps in GRAPH.items():
        room = _room(module)
        if room not in MAY_IMPORT:
            continue
        for dep in deps:
            other = _room(dep)
            if other == room:
                continue
            if other not in MAY_IMPORT[room] or (room in ("layouts", "callbacks", "api") and other == "workers"
                                                 and dep not in PAGES_MAY_USE_FROM_WORKERS):
                wrong.append(f"{module} -> {dep}")
    assert not wrong, "imports against the flow (docs/ARCHITECTURE.md): " + ", ".join(sorted(wrong))


def test_no_import_circle():
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
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

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    assert not circles, f"import circles: {circles}"


def test_modules_stay_small():
    big = {name: n for name, path in MODULES.items() if (n := len(path.read_text().splitlines())) > 400}
    assert not big, f"modules over 400 lines: {big}"


def test_no_folder_holds_more_than_15_modules():
    per_folder = defaultdict(int)
    for path in MODULES.values():
        per_folder[path.parent.relative_to(ROOT).as_posix()] += 1
    crowded = {folder: n for folder, n in per_folder.items() if folder != "." and n > 15}
    assert not crowded, f"folders with more than 15 modules: {crowded}"


@pytest.mark.parametrize("room", ["layouts", "callbacks", "api", "read"])
def test_pages_api_and_queries_import_no_job(room):
    offenders = {m: sorted(d for d in deps if _room(d) == "jobs") for m, deps in GRAPH.items() if _room(m) == room}
    assert not {m: d for m, d in offenders.items() if d}


def test_nothing_points_outside_the_repository():
    outside = [p.relative_to(ROOT).as_posix() for p in [*MODULES.values(), *(ROOT / "docs").glob("*.md"), ROOT / "README.md"]
               if "../shared" in p.read_text()]
    assert not outside, f"files pointing to ../shared: {outside}"
