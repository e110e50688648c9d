"""No module of the engine grows past MAX_MODULE lines, and no class of the
package (engine, widgets, app) past MAX_CLASS lines: past that a module or
a class has become several things, and should be split where its parts
meet (see CONTRIBUTING.md)."""
from __future__ import annotations

import ast
from pathlib import Path

TUI = Path(__file__).resolve().parents[2] / "tui"
MAX_MODULE = 800
MAX_CLASS = 400


def test_no_engine_module_is_too_long():
    long = [f"{p.relative_to(TUI.parent)}: {n} lines"
            for p in sorted((TUI / "core").rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE]
    assert not long, long


def test_no_class_is_too_long():
    long = []
    for p in sorted(TUI.rglob("*.py")):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"), str(p))):
            if isinstance(node, ast.ClassDef):
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                n = (node.end_lineno or node.lineno) - first + 1
                if n > MAX_CLASS:
                    long.append(f"{p.relative_to(TUI.parent)}:{node.lineno}: class {node.name}, {n} lines")
    assert not long, long

