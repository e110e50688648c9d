"""Imports in tui/core run one way only.

The import graph is read from the source (every `import` and `from ...
import`, including those inside functions and under `if TYPE_CHECKING:`),
and must have no cycle, and no import from a lower layer to a higher one.
The layers, bottom up (a module may import its own layer and those below):

    0  shared model  tui.core (package), model, trace, grammar, text, safeio,
                     dns, filewatch, tok822 -- no project imports but each other
    1  expand        $name expansion
    2  config        loader, defaults, the typed parameter reader
    3  tables        the lookup-table families
    4  postfix       Postfix library functions (match lists, mail_addr, DSN, ...)
    5  rewrite       canonicalize, resolve, route -- pure: tables come as an argument
    6  cache         tables kept open, answers kept (trivial-rewrite's too)
    7  smtpd         restriction evaluation
    8  analysis      inventory, lint, explain, PostfixAdmin, log lines

A package's own __init__ is part of its layer. Importing a module makes
Python import its parent packages first; that implicit import is not an
edge here (it is the package's __init__, which only re-exports). The
engine never imports textual or rich (also checked by test_purity.py at
run time).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "tui" / "core"

LAYERS: list[tuple[str, ...]] = [
    ("tui.core", "tui.core.model", "tui.core.trace", "tui.core.grammar", "tui.core.text",
     "tui.core.safeio", "tui.core.dns", "tui.core.filewatch", "tui.core.tok822"),
    ("tui.core.expand",),
    ("tui.core.config",),
    ("tui.core.tables",),
    ("tui.core.postfix",),
    ("tui.core.rewrite",),
    ("tui.core.cache",),
    ("tui.core.smtpd",),
    ("tui.core.analysis",),
]
UI_PACKAGES = ("textual", "rich")


def module_name(path: Path) -> str:
    rel = path.relative_to(CORE.parent.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(CORE.rglob("*.py"))}


def layer_of(module: str) -> int:
    best, best_len = -1, -1
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if prefix == "tui.core":
                hit = module == prefix
            else:
                hit = module == prefix or module.startswith(prefix + ".")
            if hit and len(prefix) > best_len:
                best, best_len = i, len(prefix)
    return best


def imports_of(path: Path, name: str, modules: dict[str, Path]) -> list[tuple[str, int]]:
    """(imported module, line) for every import in PATH (any depth)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_pkg = path.name == "__init__.py"
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                out.append((a.name, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                if not is_pkg:
                    base = base[:-1]
                base = base[:len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for a in node.names:
                sub = f"{mod}.{a.name}"
                out.append((sub if sub in modules else mod, node.lineno))
    return out


def graph() -> tuple[dict[str, list[tuple[str, int]]], dict[str, Path]]:
    modules = all_modules()
    edges = {}
    for name, path in modules.items():
        edges[name] = imports_of(path, name, modules)
    return edges, modules


def find_cycle(edges: dict[str, list[tuple[str, int]]]) -> list[str] | None:
    internal = {m: sorted({t for t, _ in es if t in edges and t != m}) for m, es in edges.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for t in internal[m]:
            if state.get(t) == 1:
                return stack[stack.index(t):] + [t]
            if t not in state:
                found = visit(t)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(internal):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_every_module_has_a_layer():
    missing = [m for m in all_modules() if layer_of(m) < 0]
    assert not missing, f"modules of tui/core in no layer (add them to LAYERS): {missing}"


def test_no_import_cycle():
    edges, _ = graph()
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_imports_go_down_the_layers():
    edges, modules = graph()
    bad = []
    for m, es in edges.items():
        for target, line in es:
            if not target.startswith("tui."):
                continue
            if not target.startswith("tui.core"):
                bad.append(f"{modules[m].relative_to(CORE.parent.parent)}:{line}: {m} imports {target} "
                           f"(outside the engine)")
                continue
            lt = layer_of(target)
            if lt > layer_of(m):
                bad.append(f"{modules[m].relative_to(CORE.parent.parent)}:{line}: {m} (layer {layer_of(m)}) "
                           f"imports {target} (layer {lt})")
    assert not bad, "imports against the layer order:\n" + "\n".join(bad)


def test_rewrite_and_library_are_cache_free():
    """trivial-rewrite and the Postfix library functions compute; what is
    remembered, and for how long, is cache.py's alone. No module of
    tui.core.rewrite or tui.core.postfix imports tui.core.cache, directly
    or through another module."""
    edges, modules = graph()
    internal = {m: {t for t, _ in es if t in edges} for m, es in edges.items()}
    bad = []
    for m in sorted(edges):
        if not m.startswith(("tui.core.rewrite", "tui.core.postfix")):
            continue
        seen, todo = {m}, [m]
        while todo:
            for t in internal[todo.pop()]:
                if t not in seen:
                    seen.add(t)
                    todo.append(t)
        if "tui.core.cache" in seen:
            bad.append(m)
    assert "tui.core.cache" in modules and "tui.core.rewrite.resolve" in modules
    assert not bad, f"these import tui.core.cache: {bad}"


def test_no_ui_imports():
    edges, modules = graph()
    bad = [f"{modules[m].relative_to(CORE.parent.parent)}:{line}: {t}"
           for m, es in edges.items() for t, line in es if t.split(".")[0] in UI_PACKAGES]
    assert not bad, "tui/core imports a UI library:\n" + "\n".join(bad)


@pytest.mark.parametrize("src, expected", [
    ({"a": [("b", 1)], "b": [("c", 1)], "c": [("a", 1)]}, ["a", "b", "c", "a"]),
    ({"a": [("b", 1)], "b": [], "c": [("a", 1)]}, None),
])
def test_cycle_finder(src, expected):
    assert find_cycle(src) == expected


def test_layer_of():
    assert layer_of("tui.core") == 0
    assert layer_of("tui.core.config.params") == 2
    assert layer_of("tui.core.tables.indexed.reader") == 3
    assert layer_of("tui.core.smtpd") == 7
    assert layer_of("tui.core.analysis.lint") == 8
    assert layer_of("tui.core.unknown") == -1
