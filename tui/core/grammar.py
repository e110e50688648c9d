"""Load the lark grammars in grammars/ once per process.

Grammars ship inside the wheel as tui/grammars/*.lark; in a source checkout
they live in the top-level grammars/ folder. Lark's on-disk cache is never
used (it breaks on read-only or shared installs); an lru_cache keeps one
parser per grammar per process.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lark import Lark

_HERE = Path(__file__).resolve().parent


def grammar_dir() -> Path:
    for candidate in (_HERE.parent / "grammars", _HERE.parent.parent / "grammars"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("grammars/ not found next to the tui package")


@lru_cache(maxsize=None)
def parser(name: str, start: str = "start") -> Lark:
    """The LALR parser for grammars/NAME.lark, with positions."""
    return Lark.open(
        str(grammar_dir() / f"{name}.lark"),
        parser="lalr",
        propagate_positions=True,
        start=start,
    )
