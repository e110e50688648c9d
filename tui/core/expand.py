"""$name expansion exactly as Postfix's mac_parse()/mac_expand() do it.

Supported (Postfix 3.7): `$name`, `${name}`, `$(name)`, `$$`,
`${name?text}`, `${name:text}`, `${name?{text}}`, `${name:{text}}`,
`${name?{a}:{b}}`, `${{a} == {b} ? {x} : {y}}` with `==`, `!=`, `<`, `<=`,
`>`, `>=` (numeric when both sides are all digits, else byte-wise) and the
3.6 compatibility-level operators `<level`, `<=level`, `>level`, `>=level`,
`==level`, `!=level`.

The algorithm follows Postfix's C code step by step, including its error
messages (without the "postconf: warning: " prefix) and its limit of 100
nested macro calls ("unreasonable macro call nesting"), so that the values
and the errors are the ones `postconf -x` gives.
"""
from __future__ import annotations

import re
from typing import Callable, Optional

from tui.core.model import Record

# lookup(name) -> value or None (undefined)
Lookup = Callable[[str], Optional[str]]

WHITESPACE = " \t\r\n"  # CHARS_SPACE
MAX_NESTING = 100        # mac_expand_callback: mc->level++ > 100
_HARD_LIMIT = 400        # our own guard for loops through relational operands

_OPS = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">=": "ge", ">": "gt"}
_OP_CHARS = "<>!=?+-*/~&|%"
_OP_ANY = '"==" or "!="" or "<"" or "<="" or ">="" or ">"'
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class _Abort(Exception):
    """Internal: stop everything (nesting far beyond Postfix's limit)."""


class ExpandResult(Record):
    __slots__ = _fields = ("value", "errors", "undefined")
    value: str
    errors: list[str]
    undefined: bool  # some $name had no value at all

    def __init__(self, value: str, errors: list[str] | None = None, undefined: bool = False):
        self.value = value
        self.errors = errors if errors is not None else []
        self.undefined = undefined

    @property
    def ok(self) -> bool:
        return not self.errors


def _alldig(s: str) -> bool:
    return s != "" and all("0" <= c <= "9" for c in s)


def _cmp(delta: int, op: str) -> bool:
    return {"eq": delta == 0, "ne": delta != 0, "lt": delta < 0,
            "le": delta <= 0, "ge": delta >= 0, "gt": delta > 0}[op]


_STRTOL = re.compile(r"[ \t\n\v\f\r]*([+-]?[0-9]+)")


def _strtol(s: str, pos: int) -> tuple[int | None, int]:
    m = _STRTOL.match(s, pos)
    if not m:
        return None, pos
    return int(m.group(1)), m.end()


def compat_level_from_string(text: str) -> int | None:
    """Postfix's compat_level_from_string(): "3.6" -> comparable int."""
    major, end = _strtol(text, 0)
    if major is not None and (end == len(text) or text[end] == ".") and 0 <= major < (1 << 40):
        res = major << 20
        if end == len(text):
            return res
        minor, end2 = _strtol(text, end + 1)
        if minor is not None and (end2 == len(text) or text[end2] == ".") and 0 <= minor <= 0x3FF:
            res |= minor << 10
            if end2 == len(text):
                return res
            patch, end3 = _strtol(text, end2 + 1)
            if patch is not None and end3 == len(text) and 0 <= patch <= 0x3FF:
                return res | patch
    return None


class _Ctx:
    __slots__ = ("lookup", "out", "errors", "status_error", "undef", "level", "depth")

    def __init__(self, lookup: Lookup):
        self.lookup = lookup
        self.out: list[str] = []
        self.errors: list[str] = []
        self.status_error = False
        self.undef = False
        self.level = 0
        self.depth = 0

    def error(self, msg: str) -> None:
        self.errors.append(msg)
        self.status_error = True


def _closing(s: str, pos: int, open_c: str, close_c: str) -> int:
    """Index of the close_c that closes an open_c just before POS (level 1
    at POS), or -1 when there is none. The same answer as walking one
    character at a time, but counted by str.count over chunks that grow
    while the match cannot be in them and shrink when it may: a value
    nested a million levels deep is scanned at C speed at each of the 100
    levels Postfix allows, not one Python step per character."""
    n = len(s)
    level = 1
    k = 64
    while pos < n:
        end = min(n, pos + k)
        closes = s.count(close_c, pos, end)
        if level - closes > 0:  # the level cannot reach 0 in this chunk
            level += s.count(open_c, pos, end) - closes
            pos = end
            k *= 2
            continue
        if k > 64:
            k //= 4
            continue
        q = s.find(close_c, pos, end)
        level += s.count(open_c, pos, q) - 1
        if level == 0:
            return q
        pos = q + 1
    return -1


def _mac_parse(value: str, mc: _Ctx) -> bool:
    """mac_parse(): split into literals and macro expressions. Returns error flag."""
    buf: list[str] = []
    error = False
    vp = 0
    n = len(value)
    while vp < n:
        c = value[vp]
        if c != "$":
            # fast path: copy a run of ordinary characters
            nxt = value.find("$", vp)
            if nxt < 0:
                nxt = n
            buf.append(value[vp:nxt])
            vp = nxt
            continue
        if vp + 1 < n and value[vp + 1] == "$":
            buf.append("$")
            vp += 2
            continue
        if buf:
            _callback(False, "".join(buf), mc)
            buf = []
        vp += 1
        name = ""
        if vp < n and value[vp] in "({":
            open_c = value[vp]
            close_c = ")" if open_c == "(" else "}"
            vp += 1
            q = _closing(value, vp, open_c, close_c)
            if q < 0:
                mc.error(f'truncated macro reference: "{value}"')
                error = True
                break
            ep = q + 1
            name = value[vp:ep - 1]
            vp = ep
        else:
            ep = vp
            while ep < n and value[ep] in _NAME_CHARS:
                ep += 1
            name = value[vp:ep]
            vp = ep
        if name == "":
            mc.error(f'empty macro name: "{value}"')
            error = True
            break
        _callback(True, name, mc)
    if buf and not error:
        _callback(False, "".join(buf), mc)
    return error


def _find_left_curly(s: str, cp: int) -> int | None:
    """MAC_EXP_FIND_LEFT_CURLY: skip whitespace; position of '{' or None."""
    i = cp
    while i < len(s) and s[i] in WHITESPACE:
        i += 1
    if i < len(s) and s[i] == "{":
        return i
    return None


def _extract_curly(mc: _Ctx, s: str, bp: int) -> tuple[str, int] | None:
    """mac_exp_extract_curly_payload: s[bp] == '{'. Returns (payload, next)."""
    start = bp + 1
    cp = _closing(s, start, "{", "}")
    if cp < 0:
        mc.error(f'unbalanced {{}} in attribute expression: "{s[bp:]}"')
        return None
    payload = s[start:cp]
    cp += 1
    while cp < len(s) and s[cp] in WHITESPACE:
        cp += 1
    return payload, cp


def _sub_expand(text: str, mc: _Ctx) -> str:
    """A fresh mac_expand() for a relational operand (level starts at 0)."""
    sub = _Ctx(mc.lookup)
    sub.depth = mc.depth + 1
    if sub.depth > _HARD_LIMIT:
        raise _Abort()
    _mac_parse(text, sub)
    mc.errors.extend(sub.errors)
    if sub.status_error:
        mc.status_error = True
    if sub.undef:
        mc.undef = True
    return "".join(sub.out)


def _parse_relational(mc: _Ctx, s: str, cp: int) -> tuple[str, int] | None:
    """mac_exp_parse_relational: returns (lookup value, next pos) or None on error."""
    got = _extract_curly(mc, s, cp)
    if got is None:
        return None
    left, cp = got
    op_len = 0
    while cp + op_len < len(s) and s[cp + op_len] in _OP_CHARS:
        op_len += 1
    op_str = s[cp:cp + op_len]
    op = _OPS.get(op_str)
    if op is None:
        mc.error(f'{_OP_ANY} expected at: "...{left}}}>>>{s[cp:cp + 20]}"')
        return None
    cp += op_len
    compat = False
    if cp < len(s) and s[cp].isascii() and s[cp].isalnum():
        type_pos = cp
        type_len = 1
        while cp + type_len < len(s) and s[cp + type_len].isascii() and s[cp + type_len].isalnum():
            type_len += 1
        cp += type_len
        if s[type_pos:type_pos + type_len] != "level":
            mc.error(f'bad operator suffix at: "...{op_str}>>>{s[type_pos:type_pos + type_len]}"')
            return None
        compat = True
    rpos = _find_left_curly(s, cp)
    if rpos is None:
        mc.error(f'"{{expression}}" expected at: "...{{{left}}} {op_str}>>>{s[cp:cp + 20]}"')
        return None
    got = _extract_curly(mc, s, rpos)
    if got is None:
        return None
    rite, cp = got
    lval = _sub_expand(left, mc)
    rval = _sub_expand(rite, mc)
    result = False
    if compat:
        lv = compat_level_from_string(lval)
        if lv is None:
            mc.error(f'malformed compatibility level syntax: "{lval}"')
        else:
            rv = compat_level_from_string(rval)
            if rv is None:
                mc.error(f'malformed compatibility level syntax: "{rval}"')
            else:
                result = _cmp(lv - rv, op)
    else:
        if _alldig(lval) and _alldig(rval):
            result = _cmp(int(lval) - int(rval), op)
        else:
            lb, rb = lval.encode(), rval.encode()
            result = _cmp((lb > rb) - (lb < rb), op)
    if mc.status_error:
        return None
    return ("true" if result else ""), cp


def _callback(is_expr: bool, text: str, mc: _Ctx) -> None:
    """mac_expand_callback."""
    if mc.level > MAX_NESTING:
        mc.level += 1
        if not mc.status_error:  # postconf says it once, then stops
            mc.error(f'unreasonable macro call nesting: "{text}"')
    else:
        mc.level += 1
    if mc.status_error:
        return
    if mc.level > _HARD_LIMIT:
        raise _Abort()
    if not is_expr:
        mc.out.append(text)
        mc.level -= 1
        return

    s = text
    cp = 0
    lookup: str | None
    lpos = _find_left_curly(s, cp)
    if lpos is not None:
        got = _parse_relational(mc, s, lpos)
        if got is None:
            return
        lookup, cp = got
        ch = s[cp] if cp < len(s) else ""
        if ch:
            if ch not in "?:":
                mc.error(f'"?" or ":" expected at: "...}}>>>{s[cp:cp + 20]}"')
                return
            cp += 1
    else:
        while cp < len(s) and s[cp] in WHITESPACE:
            cp += 1
        start = cp
        while True:
            j = cp
            while j < len(s) and s[j] in WHITESPACE:
                j += 1
            ch = s[j] if j < len(s) else ""
            if ch == "":
                name = s[start:cp]
                break
            if ch in "?:":
                name = s[start:cp]
                cp = j + 1
                break
            if s[cp] not in _NAME_CHARS:
                mc.error(f'attribute name syntax error at: "...{s[:cp]}>>>{s[cp:cp + 20]}"')
                return
            cp += 1
        lookup = mc.lookup(name)

    if ch == "?" or ch == ":":
        if ch == "?":
            lp = _find_left_curly(s, cp)
            if lp is not None:
                got = _extract_curly(mc, s, lp)
                if got is None:
                    return
                res_iftrue, cp = got
            else:
                res_iftrue, cp = s[cp:], len(s)
            if lookup:
                if _mac_parse(res_iftrue, mc):
                    mc.status_error = True
            if cp >= len(s):
                mc.level -= 1
                return
            if s[cp] != ":":
                mc.error(f'":" expected at: "...{res_iftrue}}}>>>{s[cp:cp + 20]}"')
                return
            cp += 1
        lp = _find_left_curly(s, cp)
        if lp is not None:
            got = _extract_curly(mc, s, lp)
            if got is None:
                return
            res_iffalse, cp = got
        else:
            res_iffalse, cp = s[cp:], len(s)
        if not lookup:
            if _mac_parse(res_iffalse, mc):
                mc.status_error = True
        if cp < len(s):
            mc.error(f'unexpected input at: "...{res_iffalse}}}>>>{s[cp:cp + 20]}"')
            return
    else:
        if lookup is None:
            mc.undef = True
        elif lookup:
            if _mac_parse(lookup, mc):
                mc.status_error = True
    mc.level -= 1


def mac_expand(pattern: str, lookup: Lookup) -> ExpandResult:
    """Expand `pattern` recursively (MAC_EXP_FLAG_RECURSE), like postconf -x."""
    mc = _Ctx(lookup)
    try:
        _mac_parse(pattern, mc)
    except (_Abort, RecursionError):
        mc.error(f'unreasonable macro call nesting: "{pattern}"')
    return ExpandResult("".join(mc.out), mc.errors, mc.undef)


_SCAN_NAME = re.compile(r"[A-Za-z0-9_]+")


def referenced_names(pattern: str) -> list[str]:
    """Every $name that `pattern` mentions, in conditional branches too
    (MAC_EXP_FLAG_SCAN), in order of appearance, without duplicates."""
    seen: dict[str, None] = {}
    _scan_names(pattern, 0, seen)
    return list(seen)


# (module functions rather than closures that call each other: those would
# form a reference cycle left to the garbage collector at every call)
def _scan_names(text: str, depth: int, seen: dict[str, None]) -> None:
    """referenced_names() of TEXT into SEEN."""
    if depth > 50:
        return
    i, n = 0, len(text)
    while i < n:
        j = text.find("$", i)
        if j < 0 or j + 1 >= n:
            return
        c = text[j + 1]
        if c == "$":
            i = j + 2
            continue
        if c in "({":
            close = ")" if c == "(" else "}"
            q = _closing(text, j + 2, c, close)
            if q < 0:
                return
            k = q + 1
            _scan_expr(text[j + 2:k - 1], depth, seen)
            i = k
        else:
            m = _SCAN_NAME.match(text, j + 1)
            if not m:
                return
            seen.setdefault(m.group(0), None)
            i = m.end()


def _scan_expr(expr: str, depth: int, seen: dict[str, None]) -> None:
    """The names of one ${...} or $(...) expression into SEEN."""
    s = expr.lstrip(WHITESPACE)
    if s.startswith("{"):
        # relational: {a} op {b} ? {x} : {y} -- scan every {...} group
        for grp in _brace_groups(s):
            _scan_names(grp, depth + 1, seen)
        return
    m = re.match(r"([A-Za-z0-9_]*)\s*([?:]?)", s)
    name = m.group(1)
    if name:
        seen.setdefault(name, None)
    rest = s[m.end():]
    if m.group(2):
        groups = _brace_groups(rest)
        if groups and rest.lstrip(WHITESPACE).startswith("{"):
            for grp in groups:
                _scan_names(grp, depth + 1, seen)
        else:
            _scan_names(rest, depth + 1, seen)


def _brace_groups(s: str) -> list[str]:
    out = []
    i, n = 0, len(s)
    while i < n:
        if s[i] == "{":
            q = _closing(s, i + 1, "{", "}")
            k = q + 1 if q >= 0 else n
            out.append(s[i + 1:k - 1])
            i = k
        else:
            nxt = s.find("{", i)
            i = nxt if nxt >= 0 else n
    return out


# Settings that hold a password (a mysql:NAME table's NAME_password, an
# LDAP table's NAME_bind_pw, smtp_sasl_password_maps is a table, not one).
SECRET_NAME = re.compile(r"_(password|bind_pw)$")


def secret_names(raw: dict[str, str], is_secret=SECRET_NAME.search) -> set[str]:
    """The parameters whose values are secrets: those named like a password
    setting, and every parameter whose value flows into one through $name
    expansion (`x_password = $db_secret` makes db_secret a secret, and
    whatever db_secret is built from). RAW maps names to unexpanded
    values (main.cf and a service's -o settings together)."""
    secret = {n for n in raw if is_secret(n)}
    todo = list(secret)
    while todo:
        value = raw.get(todo.pop())
        if not value or "$" not in value:
            continue
        for ref in referenced_names(value):
            if ref not in secret:
                secret.add(ref)
                todo.append(ref)
    return secret


def names_using(raw: dict[str, str], names: set[str]) -> set[str]:
    """The parameters whose EXPANDED values take in one of NAMES (through
    $name, directly or through others): with NAMES the secrets, those whose
    expansion would show a secret although their own text does not."""
    users: dict[str, list[str]] = {}
    for n, value in raw.items():
        if value and "$" in value:
            for ref in referenced_names(value):
                users.setdefault(ref, []).append(n)
    out: set[str] = set()
    todo = list(names)
    while todo:
        for user in users.get(todo.pop(), ()):
            if user not in out and user not in names:
                out.add(user)
                todo.append(user)
    return out
