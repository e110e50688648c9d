"""cidr tables (cidr_table(5)), as dict_cidr parses and searches them.

  network/prefix result      network_address result   (exact match)
  !pattern result            matches addresses of the same family NOT in it
  if pattern / if !pattern ... endif                  (nest)
Addresses may be inside "[]" ("[1.2.3.0]/24" and "[1.2.3.0/24]"). Rules
are tried in file order, the first match wins. Bad rules are skipped with
postmap's warning: "bad address pattern", "bad mask value", "bad mask
length", "non-null host address bits", "no lookup result". For "if" the
pattern is the whole rest of the line, so "if 1.2.3.0/24 junk" is a bad
rule and its block's rules apply unconditionally (postmap 3.7 does so). A key that is not an IP address
matches nothing; an address only meets patterns of its own family.
"""
from __future__ import annotations

import ipaddress
import re

from tui.core.model import Diagnostic
from tui.core.tables.base import Entry, LookupResult, Table, entries_page, logical_lines

_WS = " \t\r\n\f\v"
_IPV4 = re.compile(r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$")


def parse_addr(text: str):
    """inet_pton semantics: IPv4 dotted quad without leading zeros, or IPv6.
    Returns (family, int) or None."""
    if ":" in text:
        if "%" in text or "/" in text:
            return None
        try:
            return 6, int(ipaddress.IPv6Address(text))
        except ValueError:
            return None
    if not _IPV4.match(text):
        return None
    if text.isascii() and text[-1] != "\n":
        # what the pattern let through is four decimal octets, 0-255, no
        # leading zeros: IPv4Address's own parse, without its layers
        a, b, c, d = text.split(".")
        return 4, (int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d)
    return 4, int(ipaddress.IPv4Address(text))   # non-ASCII digits, "\n": as before


class CidrRule:
    __slots__ = ("kind", "family", "net", "mask", "match", "result", "line", "end", "source")

    def __init__(self, kind, family, net, mask, match, result, line, source=""):
        self.kind, self.family, self.net, self.mask = kind, family, net, mask
        self.match, self.result, self.line, self.source = match, result, line, source
        self.end = None

    def hit(self, family: int, addr: int) -> bool:
        if family != self.family:
            return False
        return ((addr & self.mask) == self.net) == self.match


class CidrTable(Table):
    is_pattern = True

    def __init__(self, spec, type_, name, fold, text: str | None = None):
        super().__init__(spec, type_, name, fold)
        self.rules: list[CidrRule] = []
        self._index = None
        self._diags: list[Diagnostic] = []
        text = self._rule_source(name, text)
        if text is None:
            return
        self._parse(text)
        self._set_status("ok", f"read from {self.path}", self._diags)

    def _warn(self, line, msg):
        self._diags.append(Diagnostic("warning", msg, self.path, line))

    def _pattern(self, tok: str, lineno: int) -> tuple[int, int, int, bool] | None:
        match = True
        while tok.startswith("!"):
            match = not match
            tok = tok[1:].lstrip(_WS)
        orig = tok
        if tok.startswith("[") and tok.endswith("]"):
            tok = tok[1:-1]
        addr, slash, plen = tok.partition("/")
        if addr.startswith("[") and addr.endswith("]"):
            addr = addr[1:-1]
        pa = parse_addr(addr)
        if pa is None:
            self._warn(lineno, f'bad address pattern: "{orig}": skipping this rule')
            return None
        family, value = pa
        bits = 32 if family == 4 else 128
        if slash:
            if not (plen.isascii() and plen.isdigit()):
                self._warn(lineno, f'bad mask value in "{orig}": skipping this rule')
                return None
            if int(plen) > bits:
                self._warn(lineno, f'bad mask length in "{orig}": skipping this rule')
                return None
            n = int(plen)
        else:
            n = bits
        mask = ((1 << bits) - 1) ^ ((1 << (bits - n)) - 1)
        if value & ~mask & ((1 << bits) - 1):
            net = value & mask
            shown = str(ipaddress.ip_address(net)) if family == 4 else str(ipaddress.IPv6Address(net))
            self._warn(lineno, f'non-null host address bits in "{orig}", perhaps you should use '
                       f'"{shown}/{n}" instead: skipping this rule')
            return None
        return family, value, mask, match

    def _parse(self, text: str) -> None:
        stack: list[int] = []
        for lineno, line in logical_lines(text):
            if lineno < 0:
                self._warn(-lineno, "logical line must not start with whitespace -- ignoring this line")
                continue
            line = line.strip(_WS)
            m = re.match(r"([^ \t\r\n\f\v]+)[ \t\r\n\f\v]*(.*)$", line, re.S)
            if m is None:   # an empty line: logical_lines() gives none
                continue
            tok, rest = m.group(1), m.group(2).strip(_WS)
            low = tok.lower()
            if low == "if" or low.startswith("if!"):
                # the pattern is the whole rest of the line (extra text makes
                # it a bad pattern, as in Postfix)
                ptxt = line[2:].strip(_WS)
                if not ptxt:
                    self._warn(lineno, "no address pattern: skipping this rule")
                    continue
                pat = self._pattern(ptxt, lineno)
                if pat is None:
                    continue
                stack.append(len(self.rules))
                self.rules.append(CidrRule("if", *pat, None, lineno, line))
                continue
            if low == "endif":
                if not stack:
                    self._warn(lineno, "ENDIF without IF: skipping this rule")
                    continue
                start = stack.pop()
                self.rules.append(CidrRule("endif", 0, 0, 0, True, None, lineno))
                self.rules[start].end = len(self.rules) - 1
                continue
            if tok == "!" and rest:
                t2, _, r2 = rest.partition(" ")
                tok, rest = "!" + t2, r2.strip(_WS)
            pat = self._pattern(tok, lineno)
            if pat is None:
                continue
            if not rest:
                self._warn(lineno, "no lookup result: skipping this rule")
                continue
            self.rules.append(CidrRule("rule", *pat, rest, lineno, tok))
        for start in stack:
            self._warn(self.rules[start].line, "IF has no matching ENDIF")
            self.rules.append(CidrRule("endif", 0, 0, 0, True, None, 0))
            self.rules[start].end = len(self.rules) - 1
        self._index = self._build_index()

    def _build_index(self):
        """For a table of plain rules (no if/endif, no "!"), per family: each
        prefix mask with {network: index of its first rule}. The first
        matching rule is then the lowest index found under any mask -- a
        few dict lookups instead of a scan of every rule."""
        index: dict[int, list] = {}
        for i, r in enumerate(self.rules):
            if r.kind != "rule" or not r.match:
                return None
            masks = index.setdefault(r.family, [])
            for mask, nets in masks:
                if mask == r.mask:
                    nets.setdefault(r.net, i)
                    break
            else:
                masks.append((r.mask, {r.net: i}))
        return index

    def _lookup(self, key: str) -> LookupResult:
        if not self.status.usable:
            return LookupResult(False, None, f"{self.spec}: {self.status.message}", key)
        pa = parse_addr(key)
        if pa is None:
            return LookupResult(False, None, None, key)
        family, addr = pa
        rules = self.rules
        index = self._index
        if index is not None:
            best = None
            for mask, nets in index.get(family, ()):
                i = nets.get(addr & mask)
                if i is not None and (best is None or i < best):
                    best = i
            if best is None:
                return LookupResult(False, None, None, key)
            r = rules[best]
            return LookupResult(True, r.result, None, key, f"{self.path}:{r.line}")
        i, n = 0, len(rules)
        while i < n:
            r = rules[i]
            if r.kind == "endif":
                i += 1
                continue
            # CidrRule.hit inlined: a trace asks a 200-rule client map a few
            # times, and the method calls were most of its cost
            hit = r.family == family and ((addr & r.mask) == r.net) == r.match
            if r.kind == "if":
                i = i + 1 if hit else r.end + 1
                continue
            if hit:
                return LookupResult(True, r.result, None, key, f"{self.path}:{r.line}")
            i += 1
        return LookupResult(False, None, None, key)

    def _count(self):
        return sum(1 for r in self.rules if r.kind == "rule")

    def _entries(self, offset, limit, search):
        s = search.lower() if search else None
        return entries_page((Entry(r.source, r.result, r.line) for r in self.rules if r.kind == "rule"
                             and (not s or s in (r.source + " " + r.result).lower())), offset, limit)
