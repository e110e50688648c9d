"""The lark transformers of main_cf.lark and master_cf.lark: lark runs them
while parsing. A module of their own because it imports lark, which takes
longer to import than the rest of the configuration loader: main.cf and
master.cf lines of the common shape are read without lark (main_cf.py,
master_cf.py), and only a line of another shape imports it."""
from __future__ import annotations

from lark import Transformer, v_args


class MainCfTransformer(Transformer):
    """main_cf.lark -> [(name, value, name offset, value offset), ...], one
    per line (main_cf.py makes each a Setting). Lark runs it while parsing
    (no tree is built: a 1,000-line main.cf stays fast)."""

    @v_args(inline=True)
    def setting(self, name, value=None) -> tuple[str, str, int, int | None]:
        return (str(name), str(value) if value is not None else "",
                name.column - 1, value.column - 1 if value is not None else None)

    def start(self, children) -> list[tuple[str, str, int, int | None]]:
        return children


class MasterCfTransformer(Transformer):
    """master_cf.lark -> one (fields, rest) per line, run by lark while
    parsing (no tree is built). It sees tokens only, so each word comes out
    as its span: ("w"|"f", line, start, end) for a plain word or a flag,
    ("b", line, start, end, group_start, group_end) for a braced word,
    ("o", token, word, joined) for an option (line: 1-based in the parsed
    text; start/end: 0-based columns). master_cf._entry() turns the spans into text
    with the lines themselves, where the real length of each line is known
    (a parse with "}" added for unclosed braces has more)."""

    @staticmethod
    def _bounds(children) -> tuple[int, int, int]:
        """(line, start, end) from a word's first to its last piece (a token
        or a group's span)."""
        first, last = children[0], children[-1]
        if isinstance(first, tuple):
            line, start = first[1], first[2]
        else:
            line, start = first.line, first.column - 1
        end = last[3] if isinstance(last, tuple) else last.end_column - 1
        return line, start, end

    def plain(self, children) -> tuple:
        return ("w", *self._bounds(children))

    def group(self, children) -> tuple:
        # LBRACE ... RBRACE
        return ("g", children[0].line, children[0].column - 1, children[-1].end_column - 1)

    def braced(self, children) -> tuple:
        g = children[0]
        return ("b", *self._bounds(children), g[2], g[3])

    def flag(self, children) -> tuple:
        return ("f", *self._bounds(children))

    def option_separate(self, children) -> tuple:
        return ("o", children[0], children[1], False)

    def option_joined(self, children) -> tuple:
        return ("o", children[0], children[1], True)

    def option_dangling(self, children) -> tuple:
        return ("o", children[0], None, False)

    def entry(self, children) -> tuple:
        return children[:8], children[8:]

    def start(self, children) -> list:
        return children


MAIN_TRANSFORMER = MainCfTransformer()
MASTER_TRANSFORMER = MasterCfTransformer()
