"""main.cf: `name = value` settings (grammars/main_cf.lark)."""
from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from tui.core.config.syntax import (_error_offset, _expected, _gc_paused, _parse_lines, _parser, _syntax_diagnostic, printable, read_logical_lines)
from tui.core.grammar import follows
from tui.core.model import Diagnostic, FrozenRecord, Record

if TYPE_CHECKING:
    from lark.exceptions import UnexpectedInput


class Setting(FrozenRecord):
    """One `name = value` line (or -o setting) as main_cf.lark parsed it;
    offsets are 0-based in the logical line."""

    __slots__ = _fields = ("name", "value", "name_offset", "value_offset")
    name: str
    value: str
    name_offset: int
    value_offset: int | None      # None: empty value

    def __init__(self, name: str, value: str, name_offset: int, value_offset: int | None):
        _set = object.__setattr__
        _set(self, "name", name)
        _set(self, "value", value)
        _set(self, "name_offset", name_offset)
        _set(self, "value_offset", value_offset)


def _main_parser():
    from tui.core.config.transformers import MAIN_TRANSFORMER

    return _parser("main_cf", MAIN_TRANSFORMER)


def _main_finish(chunk: list[str], settings: list[tuple[str, str, int, int | None]]) -> list[Setting]:
    return [Setting(*s) for s in settings]


@functools.lru_cache(maxsize=4)
def _line_regex(parser) -> re.Pattern[str]:
    """One logical line as main_cf.lark reads it, composed from the
    grammar's own terminals: (_WS)? NAME _EQ VALUE? _NL."""
    term = {t.name: t.pattern.to_regexp() for t in parser.terminals}
    return re.compile(f"(?:{term['_WS']})?({term['NAME']})(?:{term['_EQ']})({term['VALUE']})?(?:{term['_NL']})")


# The same expression written out, for main_cf.lark as it is today (its
# SHA-256): a main.cf of plain lines then loads without importing lark. A
# changed grammar is read with the expression made of its own terminals
# until this one is checked against it (tests/core/test_grammars.py says so).
PLAIN_LINE_GRAMMAR = "5553ade963fd0dcc98a2b5139a62ba1f9c2ba2a89a8451eb5b5d8f7af12a9ab7"
_PLAIN_LINE = re.compile(r"(?:[ \t\r\v\f]+)?([^ \t\r\v\f\n=]+)(?:[ \t\r\v\f]*=[ \t\r\v\f]*)"
                         r"([^ \t\r\v\f\n](?:[^\n]*[^ \t\r\v\f\n])?)?(?:[ \t\r\v\f]*\n)")


def _plain_line_regex() -> re.Pattern[str]:
    """The expression of a plain main.cf line for the grammar in use
    (split_nameval() asks for it once per inline: table entry)."""
    return _PLAIN_LINE if follows("main_cf", PLAIN_LINE_GRAMMAR) else _line_regex(_main_parser())


def _parse_settings(texts: list[str]) -> tuple[list, dict[int, UnexpectedInput]]:
    """_parse_lines() for main.cf lines: a line of the plain shape is split
    by the expression made of the grammar's terminals (lark's own lexer runs
    these terminals one after the other the same way; a 200,000-line
    main.cf then loads in a second instead of ten); lark parses the others,
    and gives the syntax errors."""
    match = _plain_line_regex().fullmatch
    out: list = [None] * len(texts)
    rest: list[int] = []
    for i, text in enumerate(texts):
        m = match(text + "\n")
        if m is None:
            rest.append(i)
            continue
        value = m.group(2)
        out[i] = Setting(m.group(1), value or "", m.start(1), m.start(2) if value is not None else None)
    errors: dict[int, UnexpectedInput] = {}
    if rest:
        got, errs = _parse_lines(_main_parser(), [texts[i] for i in rest], _main_finish)
        for j, i in enumerate(rest):
            out[i] = got[j]
        errors = {rest[j]: err for j, err in errs.items()}
    return out, errors


def _nameval_error(err: UnexpectedInput) -> str:
    """Postfix's split_nameval() words for where main_cf.lark stopped."""
    if "NAME" in _expected(err):
        return "missing attribute name"
    return "missing '=' after attribute name"


def split_many(texts: list[str]) -> list[Setting | str]:
    """split_nameval() for many logical lines at once (one lark run):
    a Setting, or Postfix's error message. A logical line holds no newline."""
    if any("\n" in t for t in texts):
        raise ValueError("split_many: a logical line holds no newline")
    with _gc_paused():
        got, errors = _parse_settings(texts)
    return [_nameval_error(errors[i]) if i in errors else g for i, g in enumerate(got)]


def split_nameval(text: str) -> tuple[str, str] | str:
    """Postfix's split_nameval(): (name, value) or an error message."""
    got = split_many([text])[0]
    return got if isinstance(got, str) else (got.name, got.value)


class MainEntry(Record):
    _fields = ("value", "line")
    value: str
    line: int

    def __init__(self, value: str, line: int):
        self.value = value
        self.line = line


def parse_main_cf(text: str, path: str, diagnostics: list[Diagnostic],
                  preset: dict[str, str] | None = None) -> dict[str, MainEntry]:
    """name -> MainEntry. `preset` values come first with line 0, as postconf
    -c DIR puts config_directory=DIR in its dictionary before main.cf."""
    with _gc_paused():
        return _parse_main_cf(text, path, diagnostics, preset)


# what Postfix (and the loader) says of a setting written again
OVERRIDING = "overriding earlier entry: "


def _parse_main_cf(text: str, path: str, diagnostics: list[Diagnostic],
                   preset: dict[str, str] | None) -> dict[str, MainEntry]:
    main: dict[str, MainEntry] = {n: MainEntry(v, 0) for n, v in (preset or {}).items()}
    lines = read_logical_lines(text, path, diagnostics)
    settings, errors = _parse_settings([ll.text for ll in lines])
    for i, ll in enumerate(lines):
        err = errors.get(i)
        if err is not None:
            diagnostics.append(_syntax_diagnostic(printable(f'{_nameval_error(err)}: "{ll.text}"'), path, ll,
                                                  _error_offset(err, ll.text)))
            continue
        s = settings[i]
        old = main.get(s.name)
        if old is not None and old.value != s.value:
            where = f" (line {old.line})" if old.line else ""
            diagnostics.append(Diagnostic(
                "warning", printable(f"{OVERRIDING}{s.name}={old.value}{where}"),
                path, ll.line))
        main[s.name] = MainEntry(s.value, ll.line)
    return main
