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

This module reads the tables (rules, if/endif, results) and looks keys up;
the translation of the pattern syntax is in regexp_syntax.py, the bound on
runaway patterns in regexp_bound.py.
"""
from __future__ import annotations

import re

import regex as _regex

from tui.core.model import Diagnostic
from tui.core.tables.base import Entry, LookupResult, Table, entries_page, logical_lines
from tui.core.tables.regexp_bound import Pattern, bounded_search, native_args
from tui.core.tables.regexp_syntax import TranslateError, translate_pcre, translate_posix

_WS = " \t\r\n\f\v"


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
        self._last_native = native_args(self.pcre, body, flags)
        return regex, match, anchored, rest

    def _compile(self, body: str, flags: str):
        def toggled(ch, default):
            return default ^ (flags.count(ch) % 2 == 1)
        icase = toggled("i", True)
        if self.pcre:
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
        return Pattern(pat, rf), anchored

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
        """r's pattern against the subject, within the bound (regexp_bound);
        past it, the host's own engine decides (Postfix's answer), or the
        rule does not match, with a warning naming the table and line."""
        m, warning = bounded_search(r.regex, r.anchored, subj, "pcre" if self.pcre else "regexp", r.native)
        if warning is not None:
            self._runtime_warning(r.line, warning)
        return m

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
        s = search.lower() if search else None
        return entries_page((Entry(r.source, r.result, r.line) for r in self.rules if r.kind == "rule"
                             and (not s or s in (r.source + " " + r.result).lower())), offset, limit)
