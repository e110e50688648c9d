"""Postfix's regexp (POSIX) and PCRE pattern syntax, translated to Python `re`.

translate_posix() turns a glibc POSIX regexp (extended or basic, as
regcomp(3) reads it for regexp_table(5)) into a Python pattern;
translate_pcre() does the same for a PCRE pattern of pcre_table(5) and
returns the `re` flags its inline options ask for. What cannot be
translated (PCRE recursion, branch reset, ...) raises TranslateError; the
table reports it as a Diagnostic naming file and line. Used by
tables/regexp.py.
"""
from __future__ import annotations

import re


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
