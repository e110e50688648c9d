"""How Postfix reads its configuration files: logical lines, lists, and the lark
parsers' runs and errors (shared by main_cf.py and master_cf.py)."""
from __future__ import annotations

import gc
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Literal

from tui.core import grammar as _grammar
from tui.core import safeio
from tui.core.model import Diagnostic, ExplorerError, FrozenRecord

if TYPE_CHECKING:
    from lark import Transformer
    from lark.exceptions import UnexpectedInput


SPACE = " \t\r\n"                      # CHARS_SPACE: master.cf word separators
ISSPACE = " \t\n\v\f\r"                # C isspace(): readllines(), split_nameval(), extpar()
LIST_SEPARATORS = " \t\r\n,"          # CHARS_COMMA_SP


class ConfigError(ExplorerError):
    """main.cf (or master.cf when it is required) cannot be read."""


class SyntaxDiagnostic(Diagnostic):
    """A line the grammar rejected. `message` and `line` are what Postfix
    reports (the first physical line of the logical line); `column` and
    `error_line` say where in the file the grammar stopped (1-based column in
    physical line `error_line`); `text` is the offending logical line."""

    __slots__ = ("column", "error_line", "text")
    _fields: ClassVar[tuple[str, ...]] = __slots__
    column: int | None
    error_line: int | None
    text: str

    def __init__(self, severity: Literal["error", "warning"], message: str, path: str | None = None,
                 line: int | None = None, column: int | None = None, error_line: int | None = None,
                 text: str = ""):
        super().__init__(severity, message, path, line)
        _set = object.__setattr__
        _set(self, "column", column)
        _set(self, "error_line", error_line)
        _set(self, "text", text)


class LogicalLine(FrozenRecord):
    """One logical line: text joined from physical lines (newlines dropped,
    leading white space of continuation lines kept, as readllines() does)."""

    __slots__ = _fields = ("text", "line", "last_line", "starts")
    text: str
    line: int                 # first physical line
    last_line: int
    starts: tuple[tuple[int, int], ...]   # (offset in text, physical line)

    def __init__(self, text: str, line: int, last_line: int, starts: tuple[tuple[int, int], ...] = ()):
        _set = object.__setattr__
        _set(self, "text", text)
        _set(self, "line", line)
        _set(self, "last_line", last_line)
        _set(self, "starts", starts)

    def line_at(self, offset: int) -> int:
        """The physical line that holds text[offset]."""
        return self.position(offset)[0]

    def position(self, offset: int) -> tuple[int, int]:
        """(physical line, 1-based column) of text[offset]."""
        best, start = self.line, 0
        for off, ln in self.starts:
            if off <= offset:
                best, start = ln, off
            else:
                break
        return best, offset - start + 1


def read_logical_lines(text: str, path: str, diagnostics: list[Diagnostic]) -> list[LogicalLine]:
    """Postfix's readllines(): comments (first non-blank '#') and blank lines
    are dropped, also between continuation lines; a line that starts with
    white space continues the previous one."""
    phys = text.split("\n")
    has_final_newline = text.endswith("\n")
    if has_final_newline:
        phys = phys[:-1]
    out: list[LogicalLine] = []
    cur: list[str] = []
    starts: list[tuple[int, int]] = []
    first = 0
    last = 0
    length = 0

    def flush() -> None:
        nonlocal cur, starts, length
        if cur:
            joined = "".join(cur)
            if joined[0] in ISSPACE:
                shown = joined[:30] + ("..." if len(joined) > 30 else "")
                diagnostics.append(Diagnostic(
                    "warning", printable(f'logical line must not start with whitespace: "{shown}"'),
                    path, first))
            else:
                out.append(LogicalLine(joined, first, last, tuple(starts)))
        cur, starts, length = [], [], 0

    for idx, raw in enumerate(phys, start=1):
        raw = raw.replace("\0", "")
        stripped = raw.lstrip(ISSPACE)
        if stripped == "" or stripped[0] == "#":
            continue  # comment or blank: never ends nor starts a logical line
        if raw[0] not in ISSPACE and cur:
            flush()
        if not cur:
            first = idx
        starts.append((length, idx))
        cur.append(raw)
        length += len(raw)
        last = idx
    flush()
    return out


def _parser(name: str, transformer: Transformer | None = None):
    from lark.exceptions import LarkError

    try:
        return _grammar.parser(name, transformer)
    except (OSError, LarkError) as exc:
        raise ConfigError(f"cannot load grammar {name}.lark: {exc}") from None


@contextmanager
def _gc_paused():
    """Lark makes many small objects; the cyclic collector running over the
    whole heap meanwhile costs more than the parse (and finds nothing)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _parse_lines(p, texts: list[str],
                 finish: Callable[[list[str], Any], list]) -> tuple[list, dict[int, UnexpectedInput]]:
    """Parse logical lines (they hold no newline) with the lark parser p,
    in as few runs as possible: all lines at once, joined by newlines; where
    the grammar stops, that line is set aside and the lines before and after
    it are parsed again. finish(lines, parse result) gives one object per
    line. Returns those (None for a rejected line) and the lark error of
    each rejected line."""
    from lark.exceptions import UnexpectedInput

    out: list = [None] * len(texts)
    errors: dict[int, UnexpectedInput] = {}
    todo = [(0, len(texts))]
    while todo:
        s, e = todo.pop()
        if s >= e:
            continue
        chunk = texts[s:e]
        try:
            result = p.parse("\n".join(chunk) + "\n")
        except UnexpectedInput as err:
            k = s + min(max((getattr(err, "line", 1) or 1) - 1, 0), e - s - 1)
            errors[k] = err
            todo.append((k + 1, e))
            todo.append((s, k))
            continue
        got = finish(chunk, result)
        if len(got) != len(chunk):  # the grammars give one object per line
            raise ConfigError(f"grammar gave {len(got)} results for {len(chunk)} lines")
        out[s:e] = got
    return out, errors


def _expected(err: UnexpectedInput) -> set[str]:
    return set(getattr(err, "expected", None) or getattr(err, "allowed", None) or ())


def _error_offset(err: UnexpectedInput, text: str) -> int:
    """Offset in the logical line where the grammar stopped."""
    return min(max((getattr(err, "column", 1) or 1) - 1, 0), len(text))


def printable(text: str) -> str:
    """Postfix's printable() as its log messages apply it: control
    characters (and bytes that are not UTF-8) show as "?"."""
    if text.isprintable():
        return text
    return "".join("?" if ord(c) < 32 or ord(c) == 127 or 0xDC80 <= ord(c) <= 0xDCFF else c
                   for c in text)


def _syntax_diagnostic(message: str, path: str, ll: LogicalLine, offset: int) -> SyntaxDiagnostic:
    eline, col = ll.position(offset)
    return SyntaxDiagnostic("error", message, path, ll.line,
                            column=col, error_line=eline, text=ll.text)


def _read(path: Path) -> str:
    data = safeio.read_bytes(path)  # a FIFO or a device is refused, not waited on
    return data.decode("utf-8", errors="surrogateescape")
