"""The bound on runaway regexp:/pcre: patterns.

Every evaluation of a translated pattern is bounded. A tame pattern (no
quantifier inside a repeated group, no alternation under a repeat, no
backreference, at most one unbounded quantifier) cannot backtrack more than
about n^2 steps, and runs in `re` on subjects up to TAME_SUBJECT
characters. Any other pattern (or a longer subject) runs in the `regex`
engine with a time budget (MATCH_BUDGET). A pattern that backtracks past it
is handed to the engine Postfix itself uses, when this host has it: glibc's
regexec (through ctypes, in the C locale) for regexp:, libpcre2 with its
default match limit for pcre:. Used by tables/regexp.py.
"""
from __future__ import annotations

import re

import regex as _regex

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


def is_tame(pat: str, reflags: int) -> bool:
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


class Pattern:
    """A translated pattern: `re` when it is tame, `regex` (with a time
    budget) otherwise or for long subjects, compiled when first needed."""

    __slots__ = ("pat", "flags", "tame", "_slow", "groups")

    def __init__(self, pat: str, reflags: int):
        self.pat = pat
        self.flags = reflags
        self._slow = None
        self.tame = re.compile(pat, reflags) if is_tame(pat, reflags) else None
        if self.tame is None:
            self._slow = _to_regex(pat, reflags)
        self.groups = (self.tame or self._slow).groups

    def slow(self):
        if self._slow is None:
            self._slow = _to_regex(self.pat, self.flags)
        return self._slow


class NativeError(Exception):
    pass


class Glibc:
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
                raise NativeError("regcomp failed")
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


class Pcre2:
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
            raise NativeError(f"pcre2_compile error {err.value}")
        md = self.lib.pcre2_match_data_create_from_pattern_8(code, None)
        try:
            rc = self.lib.pcre2_match_8(code, subject, len(subject), 0, 0, md, None)
            if rc == self.NOMATCH:
                return None
            if rc in (self.MATCHLIMIT, self.DEPTHLIMIT):
                raise NativeError("match limit exceeded")
            if rc < 0:
                raise NativeError(f"matching error {rc}")
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


NATIVE: dict[str, object] = {}


def native_engine(kind: str):
    """The host's engine for `kind` ("regexp" or "pcre"), or None."""
    if kind not in NATIVE:
        try:
            NATIVE[kind] = Glibc() if kind == "regexp" else Pcre2()
        except (OSError, AttributeError, TypeError):
            NATIVE[kind] = None
    return NATIVE[kind]


class Spans:
    """A match object made of (start, end) spans from a native engine."""

    def __init__(self, subject: str, spans):
        self._s = subject
        self._spans = spans

    def group(self, n: int) -> str:
        if n >= len(self._spans):
            return ""
        a, b = self._spans[n]
        return "" if a < 0 else self._s[a:b]


def native_args(pcre: bool, body: str, flags: str) -> tuple[bytes, int]:
    """The pattern and options as Postfix hands them to regcomp/pcre2."""
    def toggled(ch, default):
        return default ^ (flags.count(ch) % 2 == 1)
    raw = body.encode("utf-8", "surrogateescape")
    if pcre:
        opts = 0
        for ch, bit in Pcre2.FLAGS.items():
            if toggled(ch, ch == "i"):
                opts |= bit
        return raw, opts
    cflags = 0
    if toggled("i", True):
        cflags |= Glibc.REG_ICASE
    if toggled("x", True):
        cflags |= Glibc.REG_EXTENDED
    if toggled("m", False):
        cflags |= Glibc.REG_NEWLINE
    return raw, cflags


def bounded_search(p: Pattern, anchored: bool, subj: str, kind: str, native):
    """p against the subject, within MATCH_BUDGET; past it, the host's own
    engine for `kind` ("regexp" or "pcre") decides with the pattern and
    options `native` (Postfix's answer), or the rule does not match.
    Returns (match or None, the warning to report or None)."""
    if p.tame is not None and len(subj) <= TAME_SUBJECT:
        return (p.tame.match(subj) if anchored else p.tame.search(subj)), None
    try:
        slow = p.slow()
        if anchored:
            return slow.match(subj, timeout=MATCH_BUDGET), None
        return slow.search(subj, timeout=MATCH_BUDGET), None
    except (TimeoutError, _regex.error):
        pass
    pcre = kind == "pcre"
    label = "pcre map" if pcre else "regexp map"
    engine = native_engine(kind)
    if engine is None or native is None:
        return None, (f"{label}: the pattern gave up after {MATCH_BUDGET:g} s of "
                      f"backtracking (no {'libpcre2' if pcre else 'glibc'} on this host to "
                      "ask): treated as not matching")
    try:
        spans = engine.search(native[0], native[1], subj.encode("latin-1"))
    except NativeError as exc:
        # pcre: Postfix logs "match limit exceeded" and the rule does not match
        return None, f"{label}: {exc} (the rule does not match)"
    return (None if spans is None else Spans(subj, spans)), None
