"""regexp (POSIX) and pcre tables, translated to Python `re`.

Table syntax (regexp_table(5), pcre_table(5)), as dict_regexp/dict_pcre
parse it:
  /pattern/flags result     first matching rule wins
  !/pattern/flags result    matches when the pattern does not (no $n then)
  if /pattern/flags ... endif, if !/pattern/ ... endif  (nest)
  any non-alphanumeric delimiter; a backslash escapes the next character
  (the backslash stays in the pattern); "if"/"endif" are case-insensitive.
Flags: regexp i (case-insensitive, on by default), m (multi-line),
x (extended syntax, ON by default: toggling it selects basic regexps);
pcre i, m, s, x (verbose), A (anchored), E (dollar end only), U (ungreedy),
X (extra; ignored).
Results: $1..$9, ${n}, $(n), $$; $0, a non-numeric name or a reference
beyond the pattern's groups skips the rule (postmap warns).

The key is matched as Postfix's C code sees it: as bytes, with ASCII-only
case folding (POSIX regexps in the C locale; PCRE without PCRE_UTF8, which
is what postmap 3.7 does even with smtputf8 on). A pattern that cannot be
translated (PCRE recursion, branch reset, ...) is a Diagnostic naming file
and line, and that rule is skipped -- the table status says so. (A pattern
that glibc/PCRE themselves refuse is skipped by Postfix as well.)

Every evaluation is bounded. A tame pattern (no quantifier inside a
repeated group, no alternation under a repeat, no backreference, at most
one unbounded quantifier) cannot backtrack more than about n^2 steps, and
runs in `re` on subjects up to TAME_SUBJECT characters. Any other pattern
(or a longer subject) runs in the `regex` engine with a time budget
(MATCH_BUDGET). A pattern that backtracks past it (/^(a|a)*$/ on a key a
client chose) is handed to the engine Postfix itself uses, when this host
has it: glibc's regexec for regexp:, libpcre2 with its default match limit
for pcre: (Postfix: "match limit exceeded", a warning, and the rule does
not match). Without that library the rule counts as not matching, with a
warning naming the table and line.

Known limit: WHETHER a key matches follows glibc exactly (tests ask glibc
through ctypes), but the SPANS of $n follow Python's leftmost-first rules;
glibc's leftmost-longest can choose other spans for ambiguous unanchored
alternations such as /(a|ab)/ on "ab". Anchored patterns agree.
"""
from __future__ import annotations

import re

import regex as _regex

from tui.core.model import Diagnostic
from tui.core.tables.base import Entry, LookupResult, Table, logical_lines

_WS = " \t\r\n\f\v"


class TranslateError(Exception):
    pass


# ----------------------------------------------------------------------
# POSIX bracket classes
_POSIX_CLASSES = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z",
    "lower": "a-z", "space": " \\t\\n\\r\\f\\v", "blank": " \\t",
    "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~").replace("-", "\\-"),
    "print": "\\x20-\\x7e", "graph": "\\x21-\\x7e", "cntrl": "\\x00-\\x1f\\x7f",
    "xdigit": "0-9A-Fa-f", "word": "a-zA-Z0-9_",
}


def _bracket(p: str, i: int, posix: bool) -> tuple[str, int]:
    """Translate a bracket expression starting at p[i] == '['.
    Returns (python_regex, index after ']'). PCRE's negated classes
    ([:^digit:], \\P{..}, \\D inside brackets) become an alternation or a
    lookahead, since a Python class cannot hold them."""
    j = i + 1
    negated = False
    if j < len(p) and p[j] == "^":
        negated = True
        j += 1
    parts: list[str] = []
    negs: list[str] = []  # bodies of classes that are included negated
    first = True
    while True:
        if j >= len(p):
            raise TranslateError("unmatched [ in bracket expression")
        c = p[j]
        if c == "]" and not first:
            return _assemble_class("".join(parts), negs, negated), j + 1
        first = False
        if c == "[" and j + 1 < len(p) and p[j + 1] in ":=.":
            kind = p[j + 1]
            end = p.find(kind + "]", j + 2)
            if end < 0:
                raise TranslateError("unterminated [%s in bracket expression" % kind)
            name = p[j + 2:end]
            if kind == ":":
                neg = not posix and name.startswith("^")
                name = name[1:] if neg else name
                if name not in _POSIX_CLASSES or (posix and name == "word"):
                    raise TranslateError(f"invalid character class [:{name}:]")
                (negs if neg else parts).append(_POSIX_CLASSES[name])
            else:
                parts.append(re.escape(name))
            j = end + 2
            continue
        if c == "\\":
            if posix:
                parts.append("\\\\")
                j += 1
                continue
            # PCRE: escapes inside classes
            if j + 1 >= len(p):
                raise TranslateError("\\ at end of pattern")
            e = p[j + 1]
            if e in "pP":
                body, j = _prop_body(p, j)
                (parts if e == "p" else negs).append(body)
                continue
            if e in "DSW":
                negs.append({"D": "0-9", "S": " \\t\\n\\r\\f\\v", "W": "a-zA-Z0-9_"}[e])
                j += 2
                continue
            tr, j = _pcre_escape(p, j, in_class=True)
            parts.append(tr)
            continue
        if c == "[":
            parts.append("\\[")
        elif c in "&~|":
            # Python warns on possible set operations; escape them
            parts.append("\\" + c)
        else:
            parts.append(c)
        j += 1


def _assemble_class(body: str, negs: list[str], negated: bool) -> str:
    if not negs:
        if not body:
            return "(?!)" if not negated else "(?s:.)"
        return "[" + ("^" if negated else "") + body + "]"
    if not negated:
        alts = ([f"[{body}]"] if body else []) + [f"[^{n}]" for n in negs]
        return "(?:" + "|".join(alts) + ")"
    # not in body, and in every negated class
    pre = (f"(?![{body}])" if body else "") + "".join(f"(?=[{n}])" for n in negs[:-1])
    return f"(?:{pre}[{negs[-1]}])"


def _prop_body(p: str, j: int) -> tuple[str, int]:
    """\\p{Name} / \\pL at p[j]: the class body of the byte values (0-255,
    PCRE without UTF-8) whose Unicode category matches. Returns (body, next)."""
    import unicodedata

    k = j + 2
    if k < len(p) and p[k] == "{":
        end = p.find("}", k)
        if end < 0:
            raise TranslateError("unterminated \\p{")
        name, nxt = p[k + 1:end], end + 1
    elif k < len(p):
        name, nxt = p[k], k + 1
    else:
        raise TranslateError("\\p at end of pattern")
    neg = name.startswith("^")
    name = name[1:] if neg else name
    if name in ("Any",):
        chars = list(range(256))
    elif name == "L&":
        chars = [c for c in range(256) if unicodedata.category(chr(c)) in ("Lu", "Ll", "Lt")]
    elif len(name) in (1, 2) and name[0] in "CLMNPSZ" and (len(name) == 1 or name[1].islower()):
        chars = [c for c in range(256) if unicodedata.category(chr(c)).startswith(name)]
    else:
        raise TranslateError(f"\\p{{{name}}} cannot be translated")
    if neg:
        chars = [c for c in range(256) if c not in set(chars)]
    if not chars:
        return "\\x00-\\x00(?!)", nxt  # never reached in practice
    return "".join(re.escape(chr(c)) for c in chars), nxt


def translate_posix(p: str, extended: bool = True, multiline: bool = False, icase: bool = True) -> str:
    """glibc POSIX regex (ERE, or BRE when not extended) -> Python re.

    glibc quirks reproduced (checked with regcomp/regexec and postmap):
    a quantifier on a quantified atom repeats it (a{2}+ is (a{2})+, not
    Python's possessive); with REG_ICASE an escaped lower-case letter that
    is not an operator (\\z, \\d, \\y) matches nothing, an escaped upper-case
    one matches its letter in either case."""
    out: list[str] = []
    i = 0
    n = len(p)
    at_start = True          # where '*' is literal (BRE) / nothing to repeat
    atom: int | None = None  # index in out where the last atom starts
    quantified = False       # the last thing emitted was a quantifier
    groups: list[int] = []

    def emit_atom(text: str) -> None:
        nonlocal atom, quantified, at_start
        atom = len(out)
        out.append(text)
        quantified = False
        at_start = False

    def emit_quant(q: str) -> None:
        nonlocal quantified
        if atom is None:
            raise TranslateError(f"'{q}' has nothing to repeat")
        if quantified:
            if not extended:
                raise TranslateError("repetition of a repetition")  # glibc BRE refuses it
            out[atom:] = ["(?:" + "".join(out[atom:]) + ")"]
        out.append(q)
        quantified = True

    def emit_other(text: str, starts_branch: bool) -> None:
        nonlocal atom, quantified, at_start
        out.append(text)
        atom = None
        quantified = False
        at_start = starts_branch

    def open_group() -> None:
        nonlocal atom, quantified, at_start
        groups.append(len(out))
        out.append("(")
        atom = None
        quantified = False
        at_start = True

    def close_group() -> None:
        nonlocal atom, quantified, at_start
        if not groups:
            raise TranslateError("unmatched )")
        atom = groups.pop()
        out.append(")")
        quantified = False
        at_start = False

    while i < n:
        c = p[i]
        if c == "\\":
            if i + 1 >= n:
                raise TranslateError("trailing backslash")
            e = p[i + 1]
            i += 2
            if not extended:
                if e == "(":
                    open_group()
                    continue
                if e == ")":
                    close_group()
                    continue
                if e == "|":
                    emit_other("|", True)
                    continue
                if e in "+?":
                    emit_quant(e)
                    continue
                if e == "{":
                    end = p.find("\\}", i)
                    if end < 0 or not re.fullmatch(r"\d*(,\d*)?", p[i:end]) or not p[i:end].strip(","):
                        raise TranslateError("invalid interval \\{")
                    emit_quant("{" + p[i:end] + "}")
                    i = end + 2
                    continue
            if e.isdigit() and e != "0":
                emit_atom("\\" + e)
            elif e in "wWsS":
                emit_atom("\\" + e)
            elif e in "bB":
                emit_other("\\" + e, False)
            elif e == "<":
                emit_other(r"\b(?=\w)", False)
            elif e == ">":
                emit_other(r"\b(?<=\w)", False)
            elif e == "`":
                emit_other(r"\A", False)
            elif e == "'":
                emit_other(r"\Z", False)
            elif icase and "a" <= e <= "z":
                emit_atom("(?!)")  # glibc with REG_ICASE: never matches
            else:
                emit_atom(re.escape(e))
            continue
        if c == "[":
            tr, i = _bracket(p, i, posix=True)
            emit_atom(tr)
            continue
        if extended:
            if c == "(":
                if i + 1 < n and p[i + 1] == "?":
                    raise TranslateError("'?' after '(' is not valid in a POSIX regular expression")
                open_group()
                i += 1
                continue
            if c == ")":
                close_group()
                i += 1
                continue
            if c == "|":
                emit_other("|", True)
                i += 1
                continue
            if c in "*+?":
                if at_start:
                    raise TranslateError(f"'{c}' has nothing to repeat")
                emit_quant(c)
                i += 1
                continue
            if c == "{":
                m = re.match(r"\{(\d*)(,(\d*))?\}", p[i:])
                if m and (m.group(1) or m.group(3)):
                    if at_start:
                        raise TranslateError("interval has nothing to repeat")
                    emit_quant(m.group(0))
                    i += m.end()
                    continue
                raise TranslateError("invalid interval {")
        else:
            if c == "*" and (at_start or atom is None):
                emit_atom("\\*")
                i += 1
                continue
            if c == "*":
                emit_quant("*")
                i += 1
                continue
            if c in "()|+?{}":
                emit_atom("\\" + c)
                i += 1
                continue
        if c == "^":
            emit_other("^" if not multiline else "(?m:^)", True)
            i += 1
            continue
        if c == "$":
            emit_other(r"\Z" if not multiline else "(?m:$)", False)
            i += 1
            continue
        if c == ".":
            emit_atom("." if multiline else "(?s:.)")
            i += 1
            continue
        emit_atom(re.escape(c))
        i += 1
    if groups:
        raise TranslateError("unmatched (")
    return "".join(out)


_PCRE_SIMPLE = {
    "d": r"\d", "D": r"\D", "w": r"\w", "W": r"\W", "s": r"\s", "S": r"\S",
    "b": r"\b", "B": r"\B", "A": r"\A", "z": r"\Z", "n": r"\n", "t": r"\t",
    "r": r"\r", "f": r"\f", "a": r"\a", "e": r"\x1b",
    "h": r"[ \t\xa0]", "H": r"[^ \t\xa0]", "v": r"[\n\x0b\f\r\x85]", "V": r"[^\n\x0b\f\r\x85]",
    "R": r"(?:\r\n|[\n\x0b\f\r\x85])", "N": r"[^\n]",
}


def _pcre_escape(p: str, i: int, in_class: bool = False) -> tuple[str, int]:
    """Translate the escape at p[i] == '\\'. Returns (text, next index)."""
    e = p[i + 1]
    j = i + 2
    if e == "x":
        if j < len(p) and p[j] == "{":
            end = p.find("}", j)
            if end < 0:
                raise TranslateError("unterminated \\x{")
            return "\\x{%s}" % 0 if False else re.escape(chr(int(p[j + 1:end] or "0", 16))), end + 1
        m = re.match(r"[0-9a-fA-F]{0,2}", p[j:])
        return re.escape(chr(int(m.group(0) or "0", 16))), j + m.end()
    if e == "c":
        if j >= len(p):
            raise TranslateError("\\c at end of pattern")
        return re.escape(chr(ord(p[j].upper()) ^ 0x40)), j + 1
    if e in "0":
        m = re.match(r"[0-7]{0,2}", p[j:])
        return re.escape(chr(int("0" + m.group(0), 8))), j + m.end()
    if e.isdigit():
        if in_class:
            m = re.match(r"[0-7]{0,2}", p[j - 1:])
            return re.escape(chr(int(m.group(0), 8))), j - 1 + m.end()
        m = re.match(r"\d*", p[j:])
        return "\\" + e + m.group(0) if not m.group(0) else "(?:\\%s%s)" % (e, m.group(0)), j + m.end()
    if e == "g":
        m = re.match(r"\{?(-?\d+|\w+)\}?", p[j:])
        if not m or m.group(1).startswith("-"):
            raise TranslateError("relative back reference \\g is not supported")
        ref = m.group(1)
        return ("(?:\\%s)" % ref if ref.isdigit() else "(?P=%s)" % ref), j + m.end()
    if e == "k":
        m = re.match(r"[<{']([A-Za-z_]\w*)[>}']", p[j:])
        if not m:
            raise TranslateError("invalid \\k reference")
        return "(?P=%s)" % m.group(1), j + m.end()
    if e in "pP" and not in_class:
        body, nxt = _prop_body(p, i)
        # PCRE: caseless matching does not change \\p (checked with postmap)
        return ("(?-i:[%s])" if e == "p" else "(?-i:[^%s])") % body, nxt
    if e in "XCGKQE" and not in_class:
        raise TranslateError(f"\\{e} cannot be translated")
    if in_class and e == "b":
        return r"\x08", j
    if e in _PCRE_SIMPLE:
        if in_class and e in "AzRNbB":
            return re.escape(e), j
        if e == "Z" and not in_class:
            return r"(?=\n?\Z)", j
        return _PCRE_SIMPLE[e], j
    if e == "Z":
        return (r"(?=\n?\Z)" if not in_class else "Z"), j
    if e.isalnum():
        # PCRE (without X) treats an unknown letter escape as the letter
        return re.escape(e), j
    return re.escape(e), j


def translate_pcre(p: str, flags: str) -> tuple[str, int]:
    """PCRE pattern -> (python pattern, re flags)."""
    rf = 0
    verbose = "x" in flags
    dollar_endonly = "E" in flags
    ungreedy = "U" in flags
    multiline = "m" in flags
    out: list[str] = []
    i = 0
    n = len(p)
    while i < n:
        c = p[i]
        if c == "\\":
            if i + 1 >= n:
                raise TranslateError("\\ at end of pattern")
            if p[i + 1] == "Q":
                end = p.find("\\E", i + 2)
                lit = p[i + 2:] if end < 0 else p[i + 2:end]
                out.append(re.escape(lit))
                i = n if end < 0 else end + 2
                continue
            if p[i + 1] == "E":
                i += 2
                continue
            tr, i = _pcre_escape(p, i)
            out.append(tr)
            continue
        if c == "[":
            tr, i = _bracket(p, i, posix=False)
            out.append(tr)
            continue
        if c == "(" and p.startswith("(?", i):
            rest = p[i + 2:]
            if rest.startswith("<") and not rest.startswith(("<=", "<!")):
                out.append("(?P<")
                i += 3
                continue
            if rest.startswith("'"):
                end = p.find("'", i + 3)
                out.append("(?P<%s>" % p[i + 3:end])
                i = end + 1
                continue
            if rest.startswith(("P<", "P=", "P>", ":", "=", "!", "<=", "<!", ">", "#")):
                if rest.startswith("P>"):
                    raise TranslateError("recursion (?P>name) cannot be translated")
                if rest.startswith("#"):
                    end = p.find(")", i)
                    i = n if end < 0 else end + 1
                    continue
                out.append("(?")
                i += 2
                continue
            mc = re.match(r"\((\d+|[A-Za-z_]\w*)\)", rest)
            if mc:
                # conditional group (?(1)yes|no) / (?(name)yes|no): Python has it
                out.append("(?(" + mc.group(1) + ")")
                i += 2 + mc.end()
                continue
            if rest[:1] in ("|", "R", "&", "+", "(") or rest[:1].isdigit() or rest.startswith("-") and rest[1:2].isdigit():
                raise TranslateError("(?%s... cannot be translated to Python" % rest[:1])
            m = re.match(r"([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])", rest)
            if not m:
                raise TranslateError("unknown group construct (?%s" % rest[:3])
            on, off, end = m.group(1), m.group(2) or "", m.group(3)
            if set(on + off) - set("imsx"):
                raise TranslateError("inline option (?%s) cannot be translated" % (on + ("-" + off if off else "")))
            if end == ")":
                if i == 0 and not off:
                    rf |= _flags_of(on)
                    i += 2 + m.end()
                    if "x" in on:
                        verbose = True
                    continue
                raise TranslateError("inline option (?%s) in the middle of a pattern cannot be translated" % m.group(0)[:-1])
            out.append("(?%s%s:" % (on, ("-" + off) if off else ""))
            i += 2 + m.end()
            continue
        if c == "$" and dollar_endonly and not multiline:
            out.append(r"\Z")
            i += 1
            continue
        if verbose and c == "#":
            end = p.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if verbose and c in " \t\n\r\f\v":
            i += 1
            continue
        q = None
        if c in "*+?":
            q = c
        elif c == "{":
            mq = re.match(r"\{\d+(,\d*)?\}|\{,\d+\}", p[i:])
            if mq:
                q = mq.group(0)
        if q is not None:
            out.append(q)
            i += len(q)
            nxt = p[i] if i < n else ""
            if ungreedy:
                if nxt == "?":
                    i += 1            # explicitly lazy -> greedy under U
                elif nxt == "+":
                    out.append("+")
                    i += 1
                else:
                    out.append("?")
            elif nxt in "?+" and nxt:
                out.append(nxt)
                i += 1
            continue
        if c == " " or c == "#":
            out.append("\\" + c)  # we never compile with re.VERBOSE
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out), rf


def _flags_of(s: str) -> int:
    f = 0
    for ch in s:
        f |= {"i": re.I, "m": re.M, "s": re.S, "x": 0}[ch]
    return f


# ----------------------------------------------------------------------
# Bounded evaluation
MATCH_BUDGET = 0.1  # seconds the translated pattern may run per evaluation

_RX_FLAGS = ((re.I, _regex.I), (re.M, _regex.M), (re.S, _regex.S), (re.A, _regex.A))


TAME_SUBJECT = 4096  # subjects `re` gets for a tame pattern (n^2 stays small)


def _to_regex(pat: str, reflags: int):
    """Compile a pattern translated for `re` in the `regex` engine (its
    re-compatible VERSION0), which takes a timeout per match."""
    flags = _regex.VERSION0
    for a, b in _RX_FLAGS:
        if reflags & a:
            flags |= b
    return _regex.compile(pat, flags)


def _is_tame(pat: str, reflags: int) -> bool:
    """Can `re` run PAT without a bound? True when its parse tree has no
    repeat inside a repeat, no alternation inside a repeat, no
    backreference and at most one unbounded quantifier: its backtracking
    is then at most quadratic in the subject."""
    try:
        from re import _parser as sre
    except ImportError:  # pragma: no cover - older Pythons
        import sre_parse as sre
    try:
        tree = sre.parse(pat, reflags)
    except Exception:
        return False
    repeats = {sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", None)}
    refs = {sre.GROUPREF, sre.GROUPREF_EXISTS}
    unbounded = 0
    choices = 1  # ways the bounded quantifiers can split a subject

    def walk(items, under_repeat: bool) -> bool:
        nonlocal unbounded, choices
        for op, av in items:
            if op in refs:
                return False
            if op in repeats:
                lo, hi, sub = av
                if under_repeat:
                    return False
                if hi == sre.MAXREPEAT or hi > 16:
                    unbounded += 1
                else:
                    choices *= hi - lo + 1
                # one unbounded quantifier: ~n^2 steps; bounded ones multiply
                if unbounded > 1 or choices > (64 if unbounded else 4096):
                    return False
                if not walk(sub, hi > 1):
                    return False
            elif op is sre.BRANCH:
                if under_repeat:
                    return False
                if not all(walk(b, under_repeat) for b in av[1]):
                    return False
            elif op is sre.SUBPATTERN:
                if not walk(av[-1], under_repeat):
                    return False
            elif op in (sre.ASSERT, sre.ASSERT_NOT):
                if not walk(av[1], under_repeat):
                    return False
            elif op is getattr(sre, "ATOMIC_GROUP", None):
                if not walk(av, under_repeat):
                    return False
        return True

    return walk(tree, False)


class _Pattern:
    """A translated pattern: `re` when it is tame, `regex` (with a time
    budget) otherwise or for long subjects, compiled when first needed."""

    __slots__ = ("pat", "flags", "tame", "_slow", "groups")

    def __init__(self, pat: str, reflags: int):
        self.pat = pat
        self.flags = reflags
        self._slow = None
        self.tame = re.compile(pat, reflags) if _is_tame(pat, reflags) else None
        if self.tame is None:
            self._slow = _to_regex(pat, reflags)
        self.groups = (self.tame or self._slow).groups

    def slow(self):
        if self._slow is None:
            self._slow = _to_regex(self.pat, self.flags)
        return self._slow


class _NativeError(Exception):
    pass


class _Glibc:
    """regcomp/regexec of the C library, as dict_regexp calls them, in the
    C locale."""
    REG_EXTENDED, REG_ICASE, REG_NEWLINE = 1, 2, 4
    LC_CTYPE_COLLATE_MASK = (1 << 0) | (1 << 3)

    def __init__(self):
        import ctypes
        import ctypes.util
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        if not hasattr(libc, "gnu_get_libc_version"):
            raise OSError("not glibc")
        self.ct = ctypes
        self.libc = libc
        libc.newlocale.restype = ctypes.c_void_p
        libc.newlocale.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p]
        libc.uselocale.restype = ctypes.c_void_p
        libc.uselocale.argtypes = [ctypes.c_void_p]
        self.c_locale = libc.newlocale(self.LC_CTYPE_COLLATE_MASK, b"C", None)

        class RegMatch(ctypes.Structure):
            _fields_ = [("rm_so", ctypes.c_int), ("rm_eo", ctypes.c_int)]
        self.RegMatch = RegMatch

    def search(self, body: bytes, cflags: int, subject: bytes):
        ct = self.ct
        buf = ct.create_string_buffer(1024)  # >= sizeof(regex_t)
        old = self.libc.uselocale(self.c_locale) if self.c_locale else None
        try:
            if self.libc.regcomp(buf, body, cflags):
                raise _NativeError("regcomp failed")
            try:
                m = (self.RegMatch * 10)()
                if self.libc.regexec(buf, subject, 10, m, 0) != 0:
                    return None
                return [(g.rm_so, g.rm_eo) for g in m]
            finally:
                self.libc.regfree(buf)
        finally:
            if old is not None:
                self.libc.uselocale(old)


class _Pcre2:
    """libpcre2-8, the library Postfix's pcre: tables use, with its default
    match limit."""
    FLAGS = {"i": 0x8, "m": 0x400, "s": 0x20, "x": 0x80, "A": 0x80000000, "E": 0x10, "U": 0x40000}
    NOMATCH, MATCHLIMIT, DEPTHLIMIT = -1, -47, -53

    def __init__(self):
        import ctypes
        lib = ctypes.CDLL("libpcre2-8.so.0")
        self.ct = ctypes
        self.lib = lib
        vp, sz = ctypes.c_void_p, ctypes.c_size_t
        lib.pcre2_compile_8.restype = vp
        lib.pcre2_compile_8.argtypes = [ctypes.c_char_p, sz, ctypes.c_uint32, ctypes.POINTER(ctypes.c_int),
                                        ctypes.POINTER(sz), vp]
        lib.pcre2_match_data_create_from_pattern_8.restype = vp
        lib.pcre2_match_data_create_from_pattern_8.argtypes = [vp, vp]
        lib.pcre2_match_8.restype = ctypes.c_int
        lib.pcre2_match_8.argtypes = [vp, ctypes.c_char_p, sz, sz, ctypes.c_uint32, vp, vp]
        lib.pcre2_get_ovector_pointer_8.restype = ctypes.POINTER(sz)
        lib.pcre2_get_ovector_pointer_8.argtypes = [vp]
        lib.pcre2_match_data_free_8.argtypes = [vp]
        lib.pcre2_code_free_8.argtypes = [vp]

    def search(self, body: bytes, options: int, subject: bytes):
        ct = self.ct
        err, off = ct.c_int(0), ct.c_size_t(0)
        code = self.lib.pcre2_compile_8(body, len(body), options, ct.byref(err), ct.byref(off), None)
        if not code:
            raise _NativeError(f"pcre2_compile error {err.value}")
        md = self.lib.pcre2_match_data_create_from_pattern_8(code, None)
        try:
            rc = self.lib.pcre2_match_8(code, subject, len(subject), 0, 0, md, None)
            if rc == self.NOMATCH:
                return None
            if rc in (self.MATCHLIMIT, self.DEPTHLIMIT):
                raise _NativeError("match limit exceeded")
            if rc < 0:
                raise _NativeError(f"matching error {rc}")
            ov = self.lib.pcre2_get_ovector_pointer_8(md)
            unset = ct.c_size_t(-1).value
            spans = []
            for i in range(max(rc, 1)):
                a, b = ov[2 * i], ov[2 * i + 1]
                spans.append((-1, -1) if a == unset else (a, b))
            return spans
        finally:
            self.lib.pcre2_match_data_free_8(md)
            self.lib.pcre2_code_free_8(code)


_NATIVE: dict[str, object] = {}


def _native(kind: str):
    """The host's engine for `kind` ("regexp" or "pcre"), or None."""
    if kind not in _NATIVE:
        try:
            _NATIVE[kind] = _Glibc() if kind == "regexp" else _Pcre2()
        except (OSError, AttributeError, TypeError):
            _NATIVE[kind] = None
    return _NATIVE[kind]


class _Spans:
    """A match object made of (start, end) spans from a native engine."""

    def __init__(self, subject: str, spans):
        self._s = subject
        self._spans = spans

    def group(self, n: int) -> str:
        if n >= len(self._spans):
            return ""
        a, b = self._spans[n]
        return "" if a < 0 else self._s[a:b]


# ----------------------------------------------------------------------
class Rule:
    __slots__ = ("kind", "regex", "match", "result", "line", "anchored", "end", "source", "native")

    def __init__(self, kind, regex, match, result, line, anchored=False):
        self.kind = kind          # "rule" | "if" | "endif"
        self.regex = regex
        self.match = match        # True, or False for !/pattern/
        self.result = result
        self.line = line
        self.anchored = anchored
        self.end = None           # for "if": index of the matching endif
        self.source = ""          # the pattern as written
        self.native = None        # (pattern bytes, flags) for the host's own engine


_SUBST = re.compile(r"\$(\$|\d+|\{([^}]*)\}|\(([^)]*)\))")


class RegexpTable(Table):
    is_pattern = True

    def __init__(self, spec, type_, name, fold, utf8: bool = True, text: str | None = None):
        super().__init__(spec, type_, name, fold)
        self.pcre = type_ == "pcre"
        # Both run on bytes with ASCII-only case folding: POSIX regexps in
        # the C locale, and postmap 3.7 compiles PCRE without PCRE_UTF8
        # even with smtputf8 on (checked: /^j.s.@/ does not match "jösé@").
        self.bytes_mode = True
        self.rules: list[Rule] = []
        self._diags: list[Diagnostic] = []
        if text is None and not name.startswith("{"):
            from tui.core.safeio import read_text
            try:
                text = read_text(name)  # a FIFO or a device is refused, not waited on
            except OSError as exc:
                self.path = name
                self._set_status("unreadable", f"cannot read {name}: {exc.strerror or exc}")
                return
        text = self._rule_source(name, text)
        if text is None:
            return
        self._parse(text)
        errors = [d for d in self._diags if d.severity == "error"]
        if errors:
            self._set_status("ok", f"{len(errors)} rule(s) could not be translated and are skipped; "
                             f"first: {errors[0]}", self._diags)
        else:
            self._set_status("ok", f"read from {self.path}", self._diags)

    # -- parsing ------------------------------------------------------------
    def _warn(self, line, msg, severity="warning"):
        self._diags.append(Diagnostic(severity, msg, self.path, line))

    def _parse(self, text: str) -> None:
        label = "pcre map" if self.pcre else "regexp map"
        stack: list[int] = []
        for lineno, line in logical_lines(text):
            if lineno < 0:
                self._warn(-lineno, "logical line must not start with whitespace -- ignoring this line")
                continue
            line = line.rstrip(_WS)
            if line[:1].isalnum():
                m = re.match(r"([A-Za-z0-9]+)", line)
                word = m.group(1).lower()
                if word == "if":
                    pat = self._get_pattern(line[2:].lstrip(_WS), lineno, is_if=True)
                    if pat is None:
                        continue
                    regex, match, anchored, rest = pat
                    if rest:
                        self._warn(lineno, f"ignoring extra text after IF statement: \"{rest}\"")
                    stack.append(len(self.rules))
                    self.rules.append(Rule("if", regex, match, None, lineno, anchored))
                    self.rules[-1].native = self._last_native
                elif word == "endif":
                    if line[5:].strip(_WS):
                        self._warn(lineno, f"ignoring extra text after ENDIF: \"{line[5:].strip(_WS)}\"")
                    if not stack:
                        self._warn(lineno, "ignoring ENDIF without matching IF")
                        continue
                    start = stack.pop()
                    self.rules.append(Rule("endif", None, True, None, lineno))
                    self.rules[start].end = len(self.rules) - 1
                else:
                    self._warn(lineno, f"ignoring unknown directive: \"{line[:m.end()]}\"")
                continue
            pat = self._get_pattern(line, lineno)
            if pat is None:
                continue
            regex, match, anchored, rest = pat
            if not rest:
                self._warn(lineno, "no replacement text: using empty string")
            if not self._check_result(rest, regex, match, lineno):
                continue
            r = Rule("rule", regex, match, rest, lineno, anchored)
            r.source = self._last_source
            r.native = self._last_native
            self.rules.append(r)
        for start in stack:
            self._warn(self.rules[start].line, "IF has no matching ENDIF")
            self.rules.append(Rule("endif", None, True, None, 0))
            self.rules[start].end = len(self.rules) - 1

    def _get_pattern(self, s: str, lineno: int, is_if: bool = False):
        match = True
        i = 0
        while i < len(s) and (s[i] == "!" or s[i] in _WS):
            if s[i] == "!":
                match = not match
            i += 1
        if i >= len(s):
            self._warn(lineno, "no regexp: skipping this rule")
            return None
        delim = s[i]
        i += 1
        start = i
        while i < len(s):
            if s[i] == "\\":
                if i + 1 < len(s):
                    i += 1
                else:
                    break
            elif s[i] == delim:
                break
            i += 1
        if i >= len(s) or s[i] != delim:
            self._warn(lineno, f'no closing regexp delimiter "{delim}": skipping this rule')
            return None
        body = s[start:i]
        i += 1
        fstart = i
        while i < len(s) and s[i] not in _WS:
            i += 1
        flags = s[fstart:i]
        rest = s[i:].strip(_WS)
        allowed = "imsxAEUX" if self.pcre else "imx"
        for ch in flags:
            if ch not in allowed:
                self._warn(lineno, f'unknown regexp option "{ch}": skipping this rule')
                return None
        try:
            regex, anchored = self._compile(body, flags)
        except (TranslateError, re.error, _regex.error, ValueError, OverflowError) as exc:
            self._warn(lineno, f"pattern {delim}{body}{delim}{flags} cannot be evaluated by the "
                       f"explorer: {exc}; skipping this rule", "error")
            return None
        self._last_source = s[:i].rstrip(_WS)
        self._last_native = self._native_args(body, flags)
        return regex, match, anchored, rest

    def _compile(self, body: str, flags: str):
        def toggled(ch, default):
            return default ^ (flags.count(ch) % 2 == 1)
        icase = toggled("i", True)
        if self.pcre:
            pyflags = ""
            eff = "".join(ch for ch in "msxAEU" if toggled(ch, False))
            pat, rf = translate_pcre(body, eff)
            if icase:
                rf |= re.I
            if "m" in eff:
                rf |= re.M
            if "s" in eff:
                rf |= re.S
            anchored = "A" in eff
        else:
            multiline = toggled("m", False)
            extended = toggled("x", True)
            pat = translate_posix(body, extended=extended, multiline=multiline, icase=icase)
            rf = re.I if icase else 0
            anchored = False
        if self.bytes_mode:
            rf |= re.ASCII
            pat = pat.encode("utf-8", "surrogateescape").decode("latin-1")
        return _Pattern(pat, rf), anchored

    def _native_args(self, body: str, flags: str) -> tuple[bytes, int]:
        """The pattern and options as Postfix hands them to regcomp/pcre2."""
        def toggled(ch, default):
            return default ^ (flags.count(ch) % 2 == 1)
        raw = body.encode("utf-8", "surrogateescape")
        if self.pcre:
            opts = 0
            for ch, bit in _Pcre2.FLAGS.items():
                if toggled(ch, ch == "i"):
                    opts |= bit
            return raw, opts
        cflags = 0
        if toggled("i", True):
            cflags |= _Glibc.REG_ICASE
        if toggled("x", True):
            cflags |= _Glibc.REG_EXTENDED
        if toggled("m", False):
            cflags |= _Glibc.REG_NEWLINE
        return raw, cflags

    def _check_result(self, result: str, regex, match: bool, lineno: int) -> bool:
        for m in _SUBST.finditer(result):
            name = m.group(1)
            if name == "$":
                continue
            name = m.group(2) if m.group(2) is not None else (m.group(3) if m.group(3) is not None else name)
            if not name.isdigit():
                self._warn(lineno, f'non-numeric replacement index "{name}"; skipping this rule')
                return False
            n = int(name)
            if n > regex.groups or n == 0:
                self._warn(lineno, f'out of range replacement index "{n}": skipping this rule')
                return False
        return True

    # -- lookup --------------------------------------------------------------
    def _subject(self, key: str) -> str:
        if self.bytes_mode:
            return key.encode("utf-8", "surrogateescape").decode("latin-1")
        return key

    def _unsubject(self, s: str) -> str:
        if self.bytes_mode:
            return s.encode("latin-1").decode("utf-8", "surrogateescape")
        return s

    def _lookup(self, key: str) -> LookupResult:
        if not self.status.usable and not self.rules:
            return LookupResult(False, None, f"{self.spec}: {self.status.message}", key)
        subj = self._subject(key)
        rules = self.rules
        i = 0
        n = len(rules)
        while i < n:
            r = rules[i]
            if r.kind == "endif":
                i += 1
                continue
            m = self._evaluate(r, subj)
            hit = (m is not None) == r.match
            if r.kind == "if":
                i = i + 1 if hit else r.end + 1
                continue
            if hit:
                value = self._expand(r.result, m if r.match else None)
                return LookupResult(True, value, None, key, f"{self.path}:{r.line}")
            i += 1
        return LookupResult(False, None, None, key)

    def _evaluate(self, r: Rule, subj: str):
        """r's pattern against the subject, within MATCH_BUDGET; past it,
        the host's own engine decides (Postfix's answer), or the rule does
        not match, with a warning naming the table and line."""
        p = r.regex
        if p.tame is not None and len(subj) <= TAME_SUBJECT:
            return p.tame.match(subj) if r.anchored else p.tame.search(subj)
        try:
            slow = p.slow()
            if r.anchored:
                return slow.match(subj, timeout=MATCH_BUDGET)
            return slow.search(subj, timeout=MATCH_BUDGET)
        except (TimeoutError, _regex.error):
            pass
        label = "pcre map" if self.pcre else "regexp map"
        engine = _native("pcre" if self.pcre else "regexp")
        if engine is None or r.native is None:
            self._runtime_warning(r.line, f"{label}: the pattern gave up after {MATCH_BUDGET:g} s of "
                                  f"backtracking (no {'libpcre2' if self.pcre else 'glibc'} on this host to "
                                  "ask): treated as not matching")
            return None
        try:
            spans = engine.search(r.native[0], r.native[1], subj.encode("latin-1"))
        except _NativeError as exc:
            # pcre: Postfix logs "match limit exceeded" and the rule does not match
            self._runtime_warning(r.line, f"{label}: {exc} (the rule does not match)")
            return None
        return None if spans is None else _Spans(subj, spans)

    def _runtime_warning(self, line: int, text: str) -> None:
        d = Diagnostic("warning", text, self.path, line)
        diags = list(self.status.diagnostics)
        if d not in diags:
            self._set_status(self.status.state, self.status.message, diags + [d])

    def _expand(self, result: str, m) -> str:
        if "$" not in result:
            return result
        subj_result = self._subject(result)

        def sub(mm):
            tok = mm.group(1)
            if tok == "$":
                return "$"
            name = mm.group(2) if mm.group(2) is not None else (mm.group(3) if mm.group(3) is not None else tok)
            if m is None:
                return ""
            g = m.group(int(name))
            return g or ""
        return self._unsubject(_SUBST.sub(sub, subj_result))

    def _count(self):
        return sum(1 for r in self.rules if r.kind == "rule")

    def _entries(self, offset, limit, search):
        out = []
        skipped = 0
        for r in self.rules:
            if r.kind != "rule":
                continue
            key = r.source
            if search and search.lower() not in (key + " " + r.result).lower():
                continue
            if skipped < offset:
                skipped += 1
                continue
            out.append(Entry(key, r.result, r.line))
            if len(out) >= limit:
                break
        return out
