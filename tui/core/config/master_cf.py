"""master.cf: service entries, their fields, daemon options and -o settings
(grammars/master_cf.lark)."""
from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, cast

from tui.core.config.main_cf import Setting, split_many
from tui.core.grammar import follows
from tui.core.config.syntax import (ISSPACE, LogicalLine, SPACE, _error_offset, _expected, _gc_paused, _parse_lines, _parser, _syntax_diagnostic, printable, read_logical_lines)
from tui.core.model import Diagnostic, FrozenRecord, Record, Source

if TYPE_CHECKING:
    from lark.exceptions import UnexpectedInput


MASTER_TYPES = ("unix", "fifo", "inet", "pass", "unix-dgram")


_set = object.__setattr__


class _Word(FrozenRecord):
    """One master.cf word (mystrtokq token); offsets in the logical line."""

    __slots__ = _fields = ("text", "offset", "braced", "inner", "error")
    text: str
    offset: int
    braced: bool                  # starts with "{"
    inner: str                    # braced: the text inside, stripped (extpar)
    error: str | None             # braced: extpar's complaint

    def __init__(self, text: str, offset: int, braced: bool = False, inner: str = "", error: str | None = None):
        _set(self, "text", text)
        _set(self, "offset", offset)
        _set(self, "braced", braced)
        _set(self, "inner", inner)
        _set(self, "error", error)


class _Flag(FrozenRecord):
    __slots__ = _fields = ("text", "offset")
    text: str
    offset: int

    def __init__(self, text: str, offset: int):
        _set(self, "text", text)
        _set(self, "offset", offset)


class _Option(FrozenRecord):
    """-o VALUE, -oVALUE, -vo VALUE (flags "-v"), or a dangling -o (value None)."""

    __slots__ = _fields = ("flags", "value", "offset", "joined")
    flags: str                    # what precedes the "o": "" for "-o"
    value: _Word | None
    offset: int                   # of the "-"
    joined: bool                  # the value follows the "o" without space

    def __init__(self, flags: str, value: _Word | None, offset: int, joined: bool = False):
        _set(self, "flags", flags)
        _set(self, "value", value)
        _set(self, "offset", offset)
        _set(self, "joined", joined)

    def words(self) -> list[tuple[str, int]]:
        opt = (self.flags or "-") + "o"
        if self.value is None:
            return [(opt, self.offset)]
        if self.joined:
            return [(opt + self.value.text, self.offset)]
        return [(opt, self.offset), (self.value.text, self.value.offset)]


class _Entry(Record):
    __slots__ = _fields = ("fields", "rest")
    fields: list[_Word]
    rest: list                    # _Flag | _Option | _Word, in line order

    def __init__(self, fields: list[_Word], rest: list):
        self.fields = fields
        self.rest = rest


def _word(span: tuple, lines: list[str], ends: list[int]) -> _Word | _Flag:
    i = span[1] - 1
    text, start = lines[i], span[2]
    end = min(span[3], ends[i])
    if span[0] == "w":
        return _Word(text[start:end], start)
    if span[0] == "f":
        return _Flag(text[start:end], start)
    # extpar(EXTPAR_FLAG_STRIP): the text inside the first "{...}",
    # complaining when that "}" is missing or something follows it
    word = text[start:end]
    g_start, g_end = span[4], span[5]
    if g_end > ends[i]:                    # its "}" was added
        return _Word(word, start, True, word[1:].strip(ISSPACE), f"missing '}}' in \"{word}\"")
    inner = text[g_start + 1:g_end - 1].strip(ISSPACE)
    error = f"syntax error after '}}' in \"{word}\"" if g_end < end else None
    return _Word(word, start, True, inner, error)


def _item(span: tuple, lines: list[str], ends: list[int]) -> _Word | _Flag | _Option:
    if span[0] != "o":
        return _word(span, lines, ends)
    tok, value, joined = span[1], span[2], span[3]
    flags = str(tok)[:-1]                  # "-o" -> "-", "-vo" -> "-v"
    word = _word(value, lines, ends) if value is not None else None
    return _Option(flags if flags != "-" else "", cast(_Word | None, word), tok.column - 1, joined)


def _entry(parsed: tuple, lines: list[str], ends: list[int]) -> _Entry:
    fields, rest = parsed
    return _Entry([cast(_Word, _word(f, lines, ends)) for f in fields], [_item(r, lines, ends) for r in rest])


# a word as the grammar splits a line without braces: the run between two _S
_PLAIN_WORD = re.compile(r"[^ \t\r]+")


def _closed(word: str) -> bool:
    """Does every "{" of this word close inside it? ("}" outside braces is
    an ordinary character.) Then no group of the grammar spans white space."""
    depth = 0
    for ch in word:
        if ch == "{":
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
    return depth == 0


def _plain_entry(text: str) -> _Entry | None:
    """The entry of a line of the common shape -- eight fields without
    braces, then "-o name=value" options (the value without braces, not
    starting with "-"), then arguments: the first not starting with "-",
    none starting with "{", every "{" closed inside its word
    ("${recipient}") -- made without
    lark, as master_cf.lark reads it (tests/core/test_grammars.py holds the
    two equal); None for any other line (flags, joined options, braced
    words, too few fields, leading white space)."""
    if text[:1] in ("", " ", "\t", "\r"):
        return None
    words = [(m.group(), m.start()) for m in _PLAIN_WORD.finditer(text)]
    if len(words) < 8 or any("{" in w or "}" in w for w, _ in words[:8]):
        return None
    rest: list = []
    i, n = 8, len(words)
    while i < n:
        w, off = words[i]
        if w == "-o" and i + 1 < n:
            v = words[i + 1][0]
            if v[0] == "-" or "{" in v or "}" in v:
                return None
            rest.append(_Option("", _Word(*words[i + 1]), off))
            i += 2
        elif w[0] in "-{":
            return None
        else:
            if not all(t[0] != "{" and _closed(t) for t, _ in words[i:]):
                return None
            rest.extend(_Word(t, o) for t, o in words[i:])
            break
    return _Entry([_Word(t, o) for t, o in words[:8]], rest)


# _plain_entry() reads lines the way this grammar text does (its SHA-256);
# a changed grammar sends every line to lark until _plain_entry() is checked
# against it and this digest updated (tests/core/test_grammars.py says so)
PLAIN_ENTRY_GRAMMAR = "4bfd0d55573a240f172883acada842ff20e50560af29ad232180d01641f0789d"


def _plain_path() -> bool:
    """Is grammars/master_cf.lark the text _plain_entry() follows?"""
    return follows("master_cf", PLAIN_ENTRY_GRAMMAR)


def _parse_master_lines(texts: list[str]) -> tuple[list[_Entry | None], dict[int, UnexpectedInput]]:
    """Every logical line's entry: those of the common shape without lark
    (_plain_entry), the others as _lark_master_lines() reads them."""
    plain = _plain_entry if _plain_path() else (lambda t: None)
    out: list[_Entry | None] = [plain(t) for t in texts]
    rest = [i for i, e in enumerate(out) if e is None]
    if not rest:
        return out, {}
    got, errs = _lark_master_lines([texts[i] for i in rest])
    for j, i in enumerate(rest):
        out[i] = got[j]
    return out, {rest[j]: err for j, err in errs.items()}


def _lark_master_lines(texts: list[str]) -> tuple[list[_Entry | None], dict[int, UnexpectedInput]]:
    """master_cf.lark over logical lines. A line with an unclosed "{"
    (the grammar stops at its end, wanting a "}") is parsed again with the
    missing "}" added: mystrtokq() makes the rest of the line one word."""
    def chunk_entries(chunk: list[str], parsed: list) -> list[_Entry]:
        ends = [len(t) for t in chunk]
        return [_entry(e, chunk, ends) for e in parsed]

    from lark.exceptions import UnexpectedInput

    from tui.core.config.transformers import MASTER_TRANSFORMER

    p = _parser("master_cf", MASTER_TRANSFORMER)
    got, errors = _parse_lines(p, texts, chunk_entries)
    for i in list(errors):
        text, err = texts[i], errors[i]
        closing = ""
        while ("RBRACE" in _expected(err) and len(closing) <= len(text)
               and (text + closing)[_error_offset(err, text + closing):].strip(SPACE) == ""):
            closing += "}"
            try:
                parsed = p.parse(text + closing + "\n")
            except UnexpectedInput as again:
                err = again
                continue
            got[i] = _entry(parsed[0], [text + closing], [len(text)])
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


class Service(Record):
    """One master.cf entry."""

    _fields = ("name", "type", "private", "unpriv", "chroot", "wakeup", "maxproc", "command", "args",
               "overrides", "path", "line")
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

    def __init__(self, name: str, type: str, private: str, unpriv: str, chroot: str, wakeup: str,
                 maxproc: str, command: str, args: list[str], overrides: dict[str, tuple[str, Source]],
                 path: str, line: int):
        self.name = name
        self.type = type
        self.private = private
        self.unpriv = unpriv
        self.chroot = chroot
        self.wakeup = wakeup
        self.maxproc = maxproc
        self.command = command
        self.args = args
        self.overrides = overrides
        self.path = path
        self.line = line

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
