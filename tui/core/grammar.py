"""Load the lark grammars in grammars/ once per process.

Grammars ship inside the wheel as tui/grammars/*.lark; in a source checkout
they live in the top-level grammars/ folder. Lark's on-disk cache is never
used (it breaks on read-only or shared installs); an lru_cache keeps one
parser per grammar, start rule and transformer per process.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lark import Lark, Transformer

_HERE = Path(__file__).resolve().parent


def grammar_dir() -> Path:
    """tui/grammars (installed wheel) or grammars/ (source checkout)."""
    for candidate in (_HERE.parent / "grammars", _HERE.parent.parent / "grammars"):
        if (candidate / "main_cf.lark").is_file():
            return candidate
    raise FileNotFoundError("grammars/ not found next to the tui package")


def grammar_path(name: str) -> Path:
    return grammar_dir() / f"{name}.lark"


@lru_cache(maxsize=None)
def parser(name: str, start: str = "start", transformer: Transformer | None = None) -> Lark:
    """The LALR parser for grammars/NAME.lark, with positions.

    With a transformer, lark calls it while parsing (no tree is built) and
    parse() returns what the transformer's start rule returns; the
    transformer must not need `meta` (v_args(meta=True) is not available
    there; tokens still carry line/column/start_pos)."""
    return Lark.open(
        str(grammar_path(name)),
        parser="lalr",
        propagate_positions=True,
        start=start,
        transformer=transformer,
        cache=False,
    )
