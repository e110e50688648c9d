"""A Postfix configuration, loaded the way Postfix (postconf 3.7) reads it.

    cfg = load_config("/etc/postfix")
    view = cfg.params()              # main.cf + defaults
    view = cfg.params("submission")  # ... plus that service's -o overrides

Every parameter has a raw value, an expanded value (postconf -x) and a Source.
Problems in the files are Diagnostics (file, line, message in Postfix's words);
only a missing/unreadable main.cf raises ConfigError.

How the files are read: the physical lines become logical lines here, as
Postfix's readllines() does; the structure of each logical line comes from
the lark grammars grammars/main_cf.lark (`name = value`) and
grammars/master_cf.lark (a service entry: its fields, daemon options, -o
settings and arguments). Transformers below turn the parse trees into this
module's own objects; no lark type leaves this module, and a syntax error
becomes a SyntaxDiagnostic with Postfix's message.
"""
from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from lark import Transformer, v_args
from lark.exceptions import LarkError, UnexpectedInput

from tui.core.config import defaults as _defaults
from tui.core import grammar as _grammar
from tui.core.expand import ExpandResult, mac_expand, referenced_names
from tui.core.model import Diagnostic, ExplorerError, Source

SPACE = " \t\r\n"                      # CHARS_SPACE: master.cf word separators
ISSPACE = " \t\n\v\f\r"                # C isspace(): readllines(), split_nameval(), extpar()
LIST_SEPARATORS = " \t\r\n,"          # CHARS_COMMA_SP
MASTER_TYPES = ("unix", "fifo", "inet", "pass", "unix-dgram")
REST_CLASSES = "smtpd_restriction_classes"


class ConfigError(ExplorerError):
    """main.cf (or master.cf when it is required) cannot be read."""


@dataclass(frozen=True)
class SyntaxDiagnostic(Diagnostic):
    """A line the grammar rejected. `message` and `line` are what Postfix
    reports (the first physical line of the logical line); `column` and
    `error_line` say where in the file the grammar stopped (1-based column in
    physical line `error_line`); `text` is the offending logical line."""

    column: int | None = None
    error_line: int | None = None
    text: str = ""


# ------------------------------------------------------------------ readers

@dataclass(frozen=True)
class LogicalLine:
    """One logical line: text joined from physical lines (newlines dropped,
    leading white space of continuation lines kept, as readllines() does)."""

    text: str
    line: int                 # first physical line
    last_line: int
    starts: tuple[tuple[int, int], ...] = ()   # (offset in text, physical line)

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


# ------------------------------------------------------------------ grammars

def _parser(name: str, transformer: Transformer | None = None):
    try:
        return _grammar.parser(name, "start", transformer)
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


# main.cf: name = value

@dataclass(frozen=True)
class Setting:
    """One `name = value` line (or -o setting) as main_cf.lark parsed it;
    offsets are 0-based in the logical line."""

    name: str
    value: str
    name_offset: int
    value_offset: int | None      # None: empty value


class _MainCfTransformer(Transformer):
    """main_cf.lark -> [Setting, ...], one per line. Lark runs it while
    parsing (no tree is built: a 1,000-line main.cf stays fast)."""

    @v_args(inline=True)
    def setting(self, name, value=None) -> Setting:
        return Setting(str(name), str(value) if value is not None else "",
                       name.column - 1, value.column - 1 if value is not None else None)

    def start(self, children) -> list[Setting]:
        return children


_MAIN_TRANSFORMER = _MainCfTransformer()


def _main_parser():
    return _parser("main_cf", _MAIN_TRANSFORMER)


def _main_finish(chunk: list[str], settings: list[Setting]) -> list[Setting]:
    return settings


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
        got, errors = _parse_lines(_main_parser(), texts, _main_finish)
    return [_nameval_error(errors[i]) if i in errors else g for i, g in enumerate(got)]


def split_nameval(text: str) -> tuple[str, str] | str:
    """Postfix's split_nameval(): (name, value) or an error message."""
    got = split_many([text])[0]
    return got if isinstance(got, str) else (got.name, got.value)


def split_quoted(text: str, sep: str = SPACE, parens: str = "{}") -> list[tuple[str, int]]:
    """mystrtokq(): tokens split on `sep`, but never inside balanced {}.
    Returns (token, offset) pairs. (Used for list values, not for the files.)"""
    out: list[tuple[str, int]] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in sep:
            i += 1
        if i >= n:
            return out
        start = i
        level = 0
        while i < n:
            ch = text[i]
            if ch == parens[0]:
                level += 1
            elif level > 0 and ch == parens[1]:
                level -= 1
            elif level == 0 and ch in sep:
                break
            i += 1
        out.append((text[start:i], start))


# master.cf: service entries

@dataclass(frozen=True)
class _Word:
    """One master.cf word (mystrtokq token); offsets in the logical line."""

    text: str
    offset: int
    braced: bool = False          # starts with "{"
    inner: str = ""               # braced: the text inside, stripped (extpar)
    error: str | None = None      # braced: extpar's complaint


@dataclass(frozen=True)
class _Flag:
    text: str
    offset: int


@dataclass(frozen=True)
class _Option:
    """-o VALUE, -oVALUE, -vo VALUE (flags "-v"), or a dangling -o (value None)."""

    flags: str                    # what precedes the "o": "" for "-o"
    value: _Word | None
    offset: int                   # of the "-"
    joined: bool = False          # the value follows the "o" without space

    def words(self) -> list[tuple[str, int]]:
        opt = (self.flags or "-") + "o"
        if self.value is None:
            return [(opt, self.offset)]
        if self.joined:
            return [(opt + self.value.text, self.offset)]
        return [(opt, self.offset), (self.value.text, self.value.offset)]


@dataclass
class _Entry:
    fields: list[_Word]
    rest: list                    # _Flag | _Option | _Word, in line order


class _MasterCfTransformer(Transformer):
    """master_cf.lark tree -> [_Entry, ...], one per line. `ends[i]` is
    the real length of line i: a parse with "}" added for unclosed braces
    has more (those braces were missing). Each rule's method is rule_NAME
    and gets (meta, children); __default__ dispatches to it (cheaper than
    v_args(meta=True), which wraps the method again on every call)."""

    def __init__(self, lines: list[str], ends: list[int]):
        super().__init__()
        self._lines = lines
        self._ends = ends

    def __default__(self, data, children, meta):
        return getattr(self, "rule_" + data)(meta, children)

    def _span(self, meta) -> tuple[str, int, int]:
        i = meta.line - 1
        start = meta.column - 1
        end = min(meta.end_column - 1, self._ends[i])
        return self._lines[i], start, end

    def rule_plain(self, meta, children) -> _Word:
        text, start, end = self._span(meta)
        return _Word(text[start:end], start)

    def rule_group(self, meta, children) -> tuple[int, int, bool]:
        """(start, end, closed): closed is False when its "}" was added."""
        end = meta.end_column - 1
        return meta.column - 1, end, end <= self._ends[meta.line - 1]

    def rule_braced(self, meta, children) -> _Word:
        # extpar(EXTPAR_FLAG_STRIP): the text inside the first "{...}",
        # complaining when that "}" is missing or something follows it
        text, start, end = self._span(meta)
        word = text[start:end]
        g_start, g_end, closed = children[0]
        if not closed:
            return _Word(word, start, True, word[1:].strip(ISSPACE), f"missing '}}' in \"{word}\"")
        inner = text[g_start + 1:g_end - 1].strip(ISSPACE)
        error = f"syntax error after '}}' in \"{word}\"" if g_end < end else None
        return _Word(word, start, True, inner, error)

    def rule_flag(self, meta, children) -> _Flag:
        text, start, end = self._span(meta)
        return _Flag(text[start:end], start)

    @staticmethod
    def _option(children, joined: bool = False) -> _Option:
        tok = children[0]
        flags = str(tok)[:-1]                  # "-o" -> "-", "-vo" -> "-v"
        return _Option(flags if flags != "-" else "", children[1] if len(children) > 1 else None,
                       tok.column - 1, joined)

    def rule_option_separate(self, meta, children) -> _Option:
        return self._option(children)

    def rule_option_joined(self, meta, children) -> _Option:
        return self._option(children, joined=True)

    def rule_option_dangling(self, meta, children) -> _Option:
        return self._option(children)

    def rule_entry(self, meta, children) -> _Entry:
        return _Entry(children[:8], children[8:])

    def rule_start(self, meta, children) -> list[_Entry]:
        return children


def _parse_master_lines(texts: list[str]) -> tuple[list[_Entry | None], dict[int, UnexpectedInput]]:
    """master_cf.lark over all logical lines. A line with an unclosed "{"
    (the grammar stops at its end, wanting a "}") is parsed again with the
    missing "}" added: mystrtokq() makes the rest of the line one word."""
    def chunk_transform(chunk: list[str], tree) -> list[_Entry]:
        return _MasterCfTransformer(chunk, [len(t) for t in chunk]).transform(tree)

    p = _parser("master_cf")
    got, errors = _parse_lines(p, texts, chunk_transform)
    for i in list(errors):
        text, err = texts[i], errors[i]
        closing = ""
        while ("RBRACE" in _expected(err) and len(closing) <= len(text)
               and (text + closing)[_error_offset(err, text + closing):].strip(SPACE) == ""):
            closing += "}"
            try:
                tree = p.parse(text + closing + "\n")
            except UnexpectedInput as again:
                err = again
                continue
            got[i] = _MasterCfTransformer([text + closing], [len(text)]).transform(tree)[0]
            del errors[i]
            break
        else:
            errors[i] = err
    return got, errors


def _field_error(f: list[str]) -> tuple[str, str] | None:
    """postconf's per-field checks (pcf_check_master_entry)."""
    if f[1] not in MASTER_TYPES:
        return "type", f[1]
    for i, what in ((2, "private"), (3, "unprivileged"), (4, "chroot")):
        if len(f[i]) != 1 or f[i] not in "yn-":
            return what, f[i]
    wake = f[5]
    digits = wake[:-1] if wake.endswith("?") else wake
    if not (wake[0] == "-" and len(digits) == 1) and not digits.isdigit() and digits != "":
        return "wakeup", wake
    if f[6] != "-" and not f[6].isdigit():
        return "process_limit", f[6]
    return None


# ------------------------------------------------------------------ services

@dataclass
class Service:
    """One master.cf entry."""

    name: str
    type: str
    private: str
    unpriv: str
    chroot: str
    wakeup: str
    maxproc: str
    command: str
    args: list[str]
    overrides: dict[str, tuple[str, Source]]
    path: str
    line: int

    @property
    def key(self) -> str:
        return f"{self.name}/{self.type}"

    @property
    def process_name(self) -> str:
        return os.path.basename(self.command)

    def __str__(self) -> str:
        return self.key


def _option_texts(entry: _Entry) -> list[str]:
    """The texts that split_nameval() gets for this entry's -o values."""
    out = []
    for item in entry.rest:
        if isinstance(item, _Option) and item.value is not None:
            out.append(item.value.inner if item.value.braced else item.value.text)
    return out


def _extpar_word(text: str, offset: int) -> _Word:
    """A word as extpar(EXTPAR_FLAG_STRIP) sees it (only for _by_characters)."""
    if not text.startswith("{"):
        return _Word(text, offset)
    level = 0
    for i, ch in enumerate(text):
        level += (ch == "{") - (ch == "}")
        if level == 0:
            error = f"syntax error after '}}' in \"{text}\"" if i + 1 != len(text) else None
            return _Word(text, offset, True, text[1:i].strip(ISSPACE), error)
    return _Word(text, offset, True, text[1:].strip(ISSPACE), f"missing '}}' in \"{text}\"")


def _by_characters(words: list[tuple[str, int]]) -> list:
    """pcf_normalize_options() on plain text, for what the grammar does not
    model: Postfix splits a daemon option at its first "o" after the second
    character, by characters, braces or not, and does so again on the
    "-o..." it made ("-osyslog_name=x" is "-o sysl -o g_name=x", "-v{x}o"
    is "-v{x} -o"); and a lone "-" takes the next word as its value."""
    words = list(words)
    items: list = []
    i = 0
    while i < len(words):
        text, off = words[i]
        if not text.startswith("-") or text == "--":
            items.extend(_extpar_word(t, o) for t, o in words[i:])
            break
        pos = text.find("o", 2)
        if pos > 0:
            words.insert(i + 1, ("-" + text[pos:], off + pos - 1))
            text = text[:pos]
        if text[1:2] not in ("o", ""):
            items.append(_Flag(text, off))
        elif len(text) > 2:
            items.append(_Option("", _extpar_word(text[2:], off + 2), off, True))
        elif i + 1 < len(words):
            i += 1
            if text == "-":
                items += [_Flag(text, off), _extpar_word(*words[i])]
            else:
                items.append(_Option("", _extpar_word(*words[i]), off))
        elif text == "-":
            items.append(_Flag(text, off))
        else:
            items.append(_Option("", None, off))
        i += 1
    return items


def _needs_characters(items: list, j: int) -> bool:
    """Does item j make Postfix split by characters (see _by_characters)?"""
    item = items[j]
    if isinstance(item, _Flag):
        return "o" in item.text[1:] or (item.text == "-" and j + 1 < len(items))
    return (isinstance(item, _Option) and item.joined and item.value is not None
            and "o" in item.value.text)


def _item_words(item) -> list[tuple[str, int]]:
    return item.words() if isinstance(item, _Option) else [(item.text, item.offset)]


def _build_service(entry: _Entry, ll: LogicalLine, path: str, diags: list[Diagnostic],
                   splits: dict[str, Setting | str]) -> Service:
    """postconf's pcf_normalize_options() over the parsed entry: args as
    postconf shows them, -o settings as overrides (`splits`: split_nameval()
    of the -o values, by text)."""
    f = [w.text for w in entry.fields]
    name, typ = f[0], f[1]
    overrides: dict[str, tuple[str, Source]] = {}
    args: list[str] = []
    items = list(entry.rest)
    by_characters = False
    collect = True        # a "--" split off an option ("--o...") ends the -o settings
    j = 0
    while j < len(items):
        item = items[j]
        j += 1
        if not by_characters and not isinstance(item, _Word) and _needs_characters(items, j - 1):
            # re-split the rest of the entry the way Postfix does
            rest = [w for it in items[j - 1:] for w in _item_words(it)]
            items[j - 1:] = _by_characters(rest)
            item = items[j - 1]
            by_characters = True
        if isinstance(item, _Flag):
            args.append(item.text)
            collect = collect and item.text != "--"
            continue
        if isinstance(item, _Word):
            if item.braced:
                if item.error:
                    diags.append(Diagnostic("warning", printable(f"master.cf: {item.error}"), path,
                                            ll.line_at(item.offset)))
                args.append(item.inner)
            else:
                args.append(item.text)
            continue
        # an option: "-vo" is "-v" "-o"
        if item.flags:
            args.append(item.flags)
            collect = collect and item.flags != "--"
        args.append("-o")
        value = item.value
        if value is None:
            # postconf -M/-P pass it silently; master(8) would hand smtpd a bare -o
            diags.append(Diagnostic("warning", '"-o" without a value (expected -o name=value)', path,
                                    ll.line_at(item.offset)))
            continue
        text = value.inner if value.braced else value.text
        got = splits.get(text)
        if got is None:
            got = splits[text] = split_many([text])[0]
        vline = ll.line_at(value.offset)
        if value.braced:
            if value.error:
                diags.append(Diagnostic("warning", printable(f"master.cf: {value.error}"), path, vline))
            if isinstance(got, str):
                diags.append(Diagnostic("warning", printable(f'master.cf: {got}: "{value.inner}"'), path, vline))
                args.append(value.inner)
                continue
            args.append(f"{got.name}={got.value}")
        else:
            args.append(value.text)
            if isinstance(got, str):
                continue
        if collect:
            overrides[got.name] = (got.value, Source("master.cf", path, vline, service=name))
    return Service(name, typ, f[2], f[3], f[4], f[5], f[6], f[7], args,
                   overrides, path, ll.line)


# ------------------------------------------------------------------ config

@dataclass
class MainEntry:
    value: str
    line: int


class Config:
    """The loaded configuration: main.cf, master.cf, defaults."""

    def __init__(self, config_dir: str | os.PathLike, main: dict[str, MainEntry],
                 services: list[Service], diagnostics: list[Diagnostic],
                 hostname: str | None = None, host_values: dict[str, str] | None = None,
                 master_path: str | None = None):
        self.config_dir = Path(config_dir)
        self._config_dir_text = str(config_dir)
        self.main_path = str(self.config_dir / "main.cf")
        self.master_path = master_path or str(self.config_dir / "master.cf")
        self.main = main
        self.services = services
        self.diagnostics = diagnostics
        self.defaults = _defaults.load_defaults()
        self.hostname = hostname or _defaults.host_name()
        self.host_values = dict(host_values or {})
        self._views: dict[str | None, ParamView] = {}
        self._register_parameters()

    # -- services
    def service(self, name: str, type: str | None = None) -> Service | None:
        if type is None and "/" in name:
            name, type = name.split("/", 1)
        found = None
        for s in self.services:
            if s.name == name and (type is None or s.type == type):
                if type is None and s.type == "inet":
                    return s
                found = found or s
        return found

    def smtpd_services(self) -> list[Service]:
        return [s for s in self.services if s.type == "inet" and s.process_name == "smtpd"]

    # -- parameters
    def params(self, service: str | Service | None = None) -> ParamView:
        if isinstance(service, Service):
            svc = service
        elif service is None:
            svc = None
        else:
            svc = self.service(service)
            if svc is None:
                raise ConfigError(f"no such service in master.cf: {service}", self.master_path)
        key = svc.key if svc else None
        view = self._views.get(key)
        if view is None:
            base = None if svc is None else self.params()
            view = ParamView(self, svc, base)
            self._views[key] = view
        return view

    def is_known(self, name: str) -> bool:
        """In postconf's parameter table (built-in, service- or user-defined)."""
        return name in self._known

    def known_names(self) -> list[str]:
        """What plain `postconf` lists (sorted)."""
        return sorted(self._listed)

    def explicit_names(self) -> list[str]:
        """What `postconf -n` lists (sorted): known names set in main.cf."""
        return sorted(n for n in self.main if n in self._known)

    def default_value(self, name: str) -> str | None:
        """The default, before any host computation (None: unknown name)."""
        if name in self._service_defaults:
            return self._service_defaults[name]
        d = self.defaults.default(name)
        if d is not None:
            return d
        if name in self._user:
            return ""
        return None

    # postconf_user.c / postconf_service.c: which names postconf knows
    def _register_parameters(self) -> None:
        d = self.defaults
        self._service_defaults: dict[str, str] = {}
        self._service_param_owner: dict[str, str] = {}
        for s in self.services:
            for pname, pdef in _defaults.service_parameters(s.name, s.command):
                if d.default(pname) is None and pname not in self._service_defaults:
                    self._service_defaults[pname] = pdef
                    self._service_param_owner[pname] = s.key
        known = set(d.defaults) | set(d.legacy) | set(self._service_defaults)
        listed = set(d.defaults) | set(self._service_defaults)
        self._user: set[str] = set()
        local_valid: dict[str, set[str]] = {s.key: set() for s in self.services}

        def flag(name: str, scope: Service | None, where: str, line: int | None) -> None:
            supplied = False
            if scope is not None and name in scope.overrides:
                supplied = True
                local_valid[scope.key].add(name)
            elif name in self.main:
                supplied = True
                if name not in known:
                    known.add(name)
                    listed.add(name)
                    self._user.add(name)
            if scope is None:
                for s in self.services:
                    if name in s.overrides:
                        supplied = True
                        local_valid[s.key].add(name)
            if not supplied and name not in known:
                self.diagnostics.append(Diagnostic(
                    "warning", f"undefined parameter: {name}", where, line))

        def scan(value: str, scope: Service | None, where: str, line: int | None) -> None:
            if "$" in value:
                for ref in referenced_names(value):
                    flag(ref, scope, where, line)

        for s in self.services:
            if not s.overrides:
                continue
            classes = s.overrides.get(REST_CLASSES)
            if classes is not None:
                for cname, _ in split_quoted(self._eval_in(classes[0], s), LIST_SEPARATORS):
                    flag(cname, s, s.path, classes[1].line)
            for pname, (pvalue, src) in list(s.overrides.items()):
                if pname in d.readonly:
                    self.diagnostics.append(Diagnostic(
                        "warning", printable(f"read-only parameter assignment: {pname}={pvalue}"), s.path, src.line))
                    del s.overrides[pname]
                    continue
                if pname in d.legacy:
                    listed.add(pname)
                if pname in d.raw:
                    continue
                scan(pvalue, s, s.path, src.line)
        for name in sorted(known):
            if name in d.raw or name in self.main:
                continue
            dv = self.default_value(name)
            if dv:
                scan(dv, None, self.main_path, None)
        classes_entry = self.main.get(REST_CLASSES)
        self.rest_classes: list[str] = []
        if classes_entry is not None:
            for cname, _ in split_quoted(self._eval_in(classes_entry.value, None), LIST_SEPARATORS):
                self.rest_classes.append(cname)
                flag(cname, None, self.main_path, classes_entry.line)
        for pname, entry in list(self.main.items()):
            if pname in d.readonly:
                self.diagnostics.append(Diagnostic(
                    "warning", printable(f"read-only parameter assignment: {pname}={entry.value}"),
                    self.main_path, entry.line))
                del self.main[pname]
                continue
            if pname in d.legacy:
                listed.add(pname)
            if pname in d.raw:
                continue
            scan(entry.value, None, self.main_path, entry.line)
        for s in self.services:
            for pname in s.overrides:
                if pname in self.rest_classes:
                    local_valid[s.key].add(pname)
        # Database tables configured in main.cf (`mysql:NAME`, no path) read
        # NAME_hosts, NAME_query, ...: postconf knows those names when a
        # parameter in use (not a restriction class) names such a table.
        in_use = [e.value for n, e in self.main.items() if n in known and n not in self.rest_classes]
        in_use += [v for s in self.services for v, _ in s.overrides.values()]
        for value in in_use:
            for pname in _defaults.dbms_parameters(value):
                known.add(pname)
                listed.add(pname)
        self._known = known
        self._listed = listed
        # unused parameters, as postconf warns
        for pname, entry in self.main.items():
            if pname not in known:
                self.diagnostics.append(Diagnostic(
                    "warning", printable(f"unused parameter: {pname}={entry.value}"), self.main_path, entry.line))
        for s in self.services:
            for pname, (pvalue, src) in s.overrides.items():
                if pname not in known and pname not in local_valid[s.key]:
                    self.diagnostics.append(Diagnostic(
                        "warning", printable(f"unused parameter: {pname}={pvalue}"), s.path, src.line))

    def _eval_in(self, value: str, scope: Service | None) -> str:
        """dict_eval() inside one name space only (main.cf, or a service's -o)."""
        if scope is None:
            return mac_expand(value, lambda n: e.value if (e := self.main.get(n)) else None).value
        return mac_expand(value, lambda n: v[0] if (v := scope.overrides.get(n)) else None).value


class ParamView:
    """Parameters as one process sees them: main.cf + defaults, optionally
    plus one master.cf service's -o overrides."""

    def __init__(self, cfg: Config, service: Service | None, base: ParamView | None):
        self.cfg = cfg
        self.service = service
        self._base = base
        self._exp_cache: dict[str, ExpandResult] = {}
        self._text_cache: dict[str, ExpandResult] = {}
        self._host_cache: dict[str, str] = {}
        self._list_cache: dict[str, tuple[str, ...]] = {}
        self._lws_cache: dict[str, tuple[tuple[str, Source], ...]] = {}
        self._bool_cache: dict[str, bool] = {}
        self._ro: dict[str, str] = {}
        if service is not None:
            pname = service.process_name
            self._ro = {"process_name": pname,
                        "service_name": service.name if service.name != pname else pname}

    @property
    def main(self) -> ParamView:
        return self._base if self._base is not None else self

    # -- raw values
    def _lookup(self, name: str) -> str | None:
        if self.service is not None:
            v = self._ro.get(name)
            if v is not None:
                return v
            o = self.service.overrides.get(name)
            if o is not None:
                return o[0]
        e = self.cfg.main.get(name)
        if e is not None:
            return e.value
        if not self.cfg.is_known(name):
            return None
        return self._default(name)

    def _default(self, name: str) -> str | None:
        cfg = self.cfg
        if name in cfg.defaults.host_params or name in cfg.host_values:
            if name in cfg.host_values:
                return cfg.host_values[name]
            v = self._host_cache.get(name)
            if v is None:
                v = self._compute_host(name)
                self._host_cache[name] = v
            return v
        return cfg.default_value(name)

    def _compute_host(self, name: str) -> str:
        cfg = self.cfg
        if name == "myhostname":
            dom = None
            if self.is_explicit("mydomain"):
                dom = self._expand_main_only("mydomain")
            return _defaults.default_myhostname(cfg.hostname, dom)
        if name == "mydomain":
            if self.is_explicit("myhostname"):
                host = self._expand_main_only("myhostname")
            else:
                host = self._default("myhostname") or ""
            return _defaults.default_mydomain(host)
        if name == "mynetworks":
            return _defaults.compute_mynetworks(
                self.expand("mynetworks_style"), self.expand("inet_interfaces"),
                self.expand("inet_protocols"))
        if name == "config_directory":
            return cfg._config_dir_text
        if name == "process_id":
            return str(os.getpid())
        if name == "process_name":
            return self._ro.get("process_name", "postconf")
        return cfg.default_value(name) or ""

    def _expand_main_only(self, name: str) -> str:
        """mail_conf_lookup_eval(): the explicit setting, expanded."""
        if self.service is not None and name in self.service.overrides:
            return mac_expand(self.service.overrides[name][0], self._lookup).value
        e = self.cfg.main.get(name)
        return self.cfg._eval_in(e.value, None) if e else ""

    def raw(self, name: str) -> str | None:
        """Unexpanded value; None if Postfix does not know the parameter."""
        return self._lookup(name)

    def is_explicit(self, name: str) -> bool:
        """Set in main.cf (or by this service's -o)."""
        if self.service is not None and name in self.service.overrides:
            return True
        e = self.cfg.main.get(name)
        return e is not None and e.line > 0

    def is_raw_parameter(self, name: str) -> bool:
        """Postfix never $-expands these (postconf -x shows them as written)."""
        return name in self.cfg.defaults.raw

    # -- expansion
    def expand_result(self, name: str) -> ExpandResult:
        r = self._exp_cache.get(name)
        if r is None:
            raw = self._lookup(name)
            if raw is None:
                r = ExpandResult("", [], True)
            elif name in self.cfg.defaults.raw:
                r = ExpandResult(raw)
            else:
                r = mac_expand(raw, self._lookup)
            self._exp_cache[name] = r
        return r

    def expand(self, name: str) -> str:
        """Fully expanded value (postconf -x); "" for an unknown name."""
        return self.expand_result(name).value

    def expand_errors(self, name: str) -> list[str]:
        """Expansion errors in Postfix's words (e.g. unreasonable macro call nesting)."""
        return self.expand_result(name).errors

    def expand_text_result(self, text: str) -> ExpandResult:
        r = self._text_cache.get(text)
        if r is None:
            r = mac_expand(text, self._lookup)
            self._text_cache[text] = r
        return r

    def expand_text(self, text: str) -> str:
        """Expand arbitrary text with this view's parameters."""
        return self.expand_text_result(text).value

    # -- provenance
    def source(self, name: str) -> Source:
        if self.service is not None:
            if name in self._ro:
                return Source("default", note=f"set by master(8) for {self.service.key}")
            o = self.service.overrides.get(name)
            if o is not None:
                return o[1]
        e = self.cfg.main.get(name)
        if e is not None:
            if e.line == 0:
                return Source("host", note="the configuration directory given")
            return Source("main.cf", self.cfg.main_path, e.line)
        cfg = self.cfg
        if name in cfg.defaults.host_params or name in cfg.host_values:
            note = "given explicitly" if name in cfg.host_values else None
            return Source("host", note=note)
        if name in cfg._service_param_owner:
            return Source("default", note=f"defined by master.cf service {cfg._service_param_owner[name]}")
        if cfg.defaults.depends_on_compat(name):
            return Source("default", note=f"compatibility_level {self.expand('compatibility_level')}")
        return Source("default")

    # -- names
    def names(self, explicit_only: bool = False) -> list[str]:
        if explicit_only:
            names = {n for n, e in self.cfg.main.items() if e.line > 0}
            if self.service is not None:
                names |= set(self.service.overrides)
            return sorted(names)
        names = set(self.cfg.known_names()) | set(self.cfg.main)
        if self.service is not None:
            names |= set(self.service.overrides)
        return sorted(names)

    # -- typed access
    def get_bool(self, name: str) -> bool:
        got = self._bool_cache.get(name)
        if got is None:
            got = self._bool_cache[name] = self._get_bool(name)
        return got

    def _get_bool(self, name: str) -> bool:
        v = self.expand(name).strip().lower()
        if v in ("yes", "true", "1"):
            return True
        if v in ("no", "false", "0"):
            return False
        dv = (self.cfg.default_value(name) or "").strip().lower()
        return dv == "yes"

    def get_int(self, name: str) -> int:
        v = self.expand(name).strip()
        try:
            return int(v)
        except ValueError:
            raise ConfigError(f"bad numerical configuration: {name} = {v}",
                              self.source(name).path, self.source(name).line) from None

    def get_list(self, name: str) -> list[str]:
        got = self._list_cache.get(name)
        if got is None:
            got = tuple(t for t, _ in split_quoted(self.expand(name), LIST_SEPARATORS))
            self._list_cache[name] = got
        return list(got)

    def get_list_with_sources(self, name: str) -> list[tuple[str, Source]]:
        """Each entry with the Source of the parameter whose raw text holds
        it (e.g. an entry that came from $mynetworks names mynetworks').
        Computed once per view (a trace asks for each restriction list)."""
        return list(self.list_with_sources_shared(name))

    def list_with_sources_shared(self, name: str) -> tuple[tuple[str, Source], ...]:
        """get_list_with_sources() as the cached tuple itself (no copy)."""
        got = self._lws_cache.get(name)
        if got is None:
            try:
                got = tuple(self._list_with_sources(name, (name,)))
            except _ReferenceLoop:
                # $a in b and $b in a: the entries are the expanded value's
                # (expand_errors() reports the loop), all from NAME itself
                own = self.source(name)
                got = tuple((t, own) for t in self.get_list(name))
            self._lws_cache[name] = got
        return got

    def _list_with_sources(self, name: str, seen: tuple[str, ...]) -> list[tuple[str, Source]]:
        own = self.source(name)
        raw = self.raw(name)
        if raw is None or name in self.cfg.defaults.raw:
            return [(t, own) for t in self.get_list(name)]
        out: list[tuple[str, Source]] = []
        for tok, _ in split_quoted(raw, LIST_SEPARATORS):
            ref = _single_reference(tok)
            if ref is not None and self.raw(ref) is not None:
                if ref != name and ref in seen:
                    raise _ReferenceLoop(ref)
                sub = self._list_with_sources(ref, seen + (ref,)) if ref != name else []
                out.extend(sub)
                continue
            for t, _ in split_quoted(self.expand_text(tok), LIST_SEPARATORS):
                out.append((t, own))
        return out


class _ReferenceLoop(Exception):
    """A list parameter that refers to itself through others."""


def _single_reference(tok: str) -> str | None:
    """"$name" / "${name}" / "$(name)" alone -> name."""
    if not tok.startswith("$") or len(tok) < 2:
        return None
    body = tok[1:]
    if body[0] in "({" and body[-1] == {"(": ")", "{": "}"}[body[0]]:
        body = body[1:-1]
    if body and all(c.isalnum() or c == "_" for c in body):
        return body
    return None


# ------------------------------------------------------------------ loading

def _read(path: Path) -> str:
    data = path.read_bytes()
    return data.decode("utf-8", errors="surrogateescape")


def parse_main_cf(text: str, path: str, diagnostics: list[Diagnostic],
                  preset: dict[str, str] | None = None) -> dict[str, MainEntry]:
    """name -> MainEntry. `preset` values come first with line 0, as postconf
    -c DIR puts config_directory=DIR in its dictionary before main.cf."""
    with _gc_paused():
        return _parse_main_cf(text, path, diagnostics, preset)


def _parse_main_cf(text: str, path: str, diagnostics: list[Diagnostic],
                   preset: dict[str, str] | None) -> dict[str, MainEntry]:
    main: dict[str, MainEntry] = {n: MainEntry(v, 0) for n, v in (preset or {}).items()}
    lines = read_logical_lines(text, path, diagnostics)
    settings, errors = _parse_lines(_main_parser(), [ll.text for ll in lines], _main_finish)
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
                "warning", printable(f"overriding earlier entry: {s.name}={old.value}{where}"),
                path, ll.line))
        main[s.name] = MainEntry(s.value, ll.line)
    return main


def parse_master_cf(text: str, path: str, diagnostics: list[Diagnostic]) -> list[Service]:
    """The master.cf entries postconf accepts, in file order (a later
    duplicate service/type replaces the earlier one)."""
    with _gc_paused():
        return _parse_master_cf(text, path, diagnostics)


def _parse_master_cf(text: str, path: str, diagnostics: list[Diagnostic]) -> list[Service]:
    lines = read_logical_lines(text, path, diagnostics)
    entries, errors = _parse_master_lines([ll.text for ll in lines])
    # field checks first: an entry postconf rejects has no -o to split
    bad: dict[int, tuple[str, str]] = {}
    texts: list[str] = []
    for i, entry in enumerate(entries):
        if entry is None:
            continue
        problem = _field_error([w.text for w in entry.fields])
        if problem:
            bad[i] = problem
        else:
            texts.extend(_option_texts(entry))
    # every -o value of the file in one lark run
    splits = dict(zip(texts, split_many(texts)))
    services: list[Service] = []
    for i, ll in enumerate(lines):
        entry = entries[i]
        if entry is None:
            diagnostics.append(_syntax_diagnostic("bad field count", path, ll,
                                                  _error_offset(errors[i], ll.text)))
            continue
        if i in bad:
            what, value = bad[i]
            diagnostics.append(Diagnostic(
                "error", printable(f'invalid {what} field "{value}" in "{ll.text}"'), path, ll.line))
            continue
        svc = _build_service(entry, ll, path, diagnostics, splits)
        for j, old in enumerate(services):
            if old.name == svc.name and old.type == svc.type:
                diagnostics.append(Diagnostic(
                    "warning", f"duplicate service {svc.key}: this entry replaces the one "
                               f"at line {old.line}", path, ll.line))
                del services[j]
                break
        services.append(svc)
    return services


def load_config(config_dir: str | os.PathLike = "/etc/postfix", *,
                hostname: str | None = None,
                host_values: dict[str, str] | None = None,
                require_master: bool = False) -> Config:
    """Load DIR/main.cf and DIR/master.cf.

    hostname: use this instead of the host's name (myhostname/mydomain follow).
    host_values: explicit values for host-computed defaults, e.g.
    {"mynetworks": "127.0.0.0/8"}; their Source stays kind "host".
    Raises ConfigError only when main.cf (or, with require_master, master.cf)
    cannot be read, or when the grammars are missing (a broken install)."""
    d = Path(config_dir)
    diags: list[Diagnostic] = []
    main_path = d / "main.cf"
    try:
        main_text = _read(main_path)
    except OSError as exc:
        raise ConfigError(f"open {main_path}: {exc.strerror or exc}", str(main_path)) from None
    main = parse_main_cf(main_text, str(main_path), diags,
                         preset={"config_directory": str(config_dir)})
    master_path = d / "master.cf"
    services: list[Service] = []
    try:
        master_text = _read(master_path)
    except OSError as exc:
        if require_master:
            raise ConfigError(f"open {master_path}: {exc.strerror or exc}", str(master_path)) from None
        diags.append(Diagnostic("warning", f"open {master_path}: {exc.strerror or exc}", str(master_path)))
    else:
        services = parse_master_cf(master_text, str(master_path), diags)
    return Config(config_dir, main, services, diags, hostname=hostname,
                  host_values=host_values, master_path=str(master_path))
