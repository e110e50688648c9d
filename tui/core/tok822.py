"""Postfix's RFC 822 address tokenizer and parser (global/tok822_parse.c).

smtpd reads the address of MAIL FROM / RCPT TO with it (smtpd.c
extract_addr()), postalias the lines of an aliases(5) file. Ported from
Postfix 3.7 rule for rule, quirks included: besides RFC 822's specials, "%",
"!" and "|" are operators; an atom that holds characters needing quotes
becomes a quoted string; a phrase next to an address becomes an address of
its own; inside an address (a parse-tree node) no blanks are put back when
it is turned into a string, so `<a b@example.com>` is `ab@example.com`.

    scan(text)            -> [(type, text), ...]       tok822_scan()
    parse(text)           -> [(type, text | [...]), ...]  tok822_parse()
    internalize(nodes)    -> str                       tok822_internalize()
    externalize(tokens)   -> str                       tok822_externalize()

Token types: "atom", "qstring" (quoted string, quotes and backslashes
removed), "domlit" (domain literal, brackets removed), "comment" (kept with
its parentheses), "addr" (parse tree only: its value is the list of its
tokens), "startgrp" (the ":" that starts a named group), or the operator
character itself.

Pure: no project imports.
"""
from __future__ import annotations

# tok822_opchar: "|%!" and RFC 822's specials (lex_822.h)
OPCHARS = frozenset('|%!()<>@,;:\\".[]')
_SPACE = frozenset(" \t\r\n")   # IS_SPACE_TAB_CR_LF
NON_OPERATOR = frozenset({"atom", "qstring", "comment", "domlit", "addr"})


def _needs_quotes(atom: str) -> bool:
    """tok822_quote_atom(): a blank, a control character or an operator
    character makes an atom a quoted string (8-bit data is left alone)."""
    return any(c == " " or c in OPCHARS or ord(c) < 32 or ord(c) == 127 for c in atom)


_QSTRING_END = frozenset('"')
_DOMLIT_END = frozenset("]")
_ATOM_END = _SPACE | OPCHARS


def _collect(s: str, i: int, stop: frozenset[str]) -> tuple[str, int]:
    """COLLECT: the characters of S from I up to one in STOP, a backslash
    taking the next character as it is, white space collected as a blank;
    (them, where it stopped)."""
    buf: list[str] = []
    n = len(s)
    while i < n:
        c = s[i]
        if c == "\\":
            i += 1
            if i >= n:
                break
            c = s[i]
        elif c in stop:
            break
        buf.append(" " if c in _SPACE else c)
        i += 1
    return "".join(buf), i


def scan(s: str) -> list[tuple[str, str]]:
    """tok822_scan(): the flat list of tokens of S."""
    toks: list[tuple[str, str]] = []
    i, n = 0, len(s)
    while i < n:
        ch = s[i]
        i += 1
        if ch in _SPACE:
            continue
        if ch == "(":
            buf = ["("]
            level = 1
            while i < n:
                c = s[i]
                buf.append(c)
                i += 1
                if c == "(":
                    level += 1
                elif c == ")":
                    level -= 1
                    if level == 0:
                        break
                elif c == "\\":
                    if i >= n:
                        break
                    buf.append(s[i])
                    i += 1
            toks.append(("comment", "".join(buf)))
        elif ch == "[" or ch == '"':
            text, i = _collect(s, i, _DOMLIT_END if ch == "[" else _QSTRING_END)
            if i < n:
                i += 1   # the closing character (COLLECT_SKIP_LAST)
            toks.append(("domlit" if ch == "[" else "qstring", text))
        elif ch != "\\" and ch in OPCHARS:
            toks.append((ch, ch))
        else:
            atom, i = _collect(s, i - 1, _ATOM_END)   # a backslash may start an atom
            toks.append(("qstring" if _needs_quotes(atom) else "atom", atom))
    return toks


class _Tok:
    """A TOK822: a token of the doubly linked list, or a tree node (head)."""

    __slots__ = ("type", "text", "prev", "next", "head", "tail", "owner")

    def __init__(self, type_: str, text: str = "") -> None:
        self.type = type_
        self.text = text
        self.prev: _Tok | None = None
        self.next: _Tok | None = None
        self.head: _Tok | None = None
        self.tail: _Tok | None = None
        self.owner: _Tok | None = None


def _own(t: _Tok, owner: _Tok | None) -> _Tok:
    """OWNER becomes the owner of the list T; returns its last token."""
    t.owner = owner
    while t.next is not None:
        t = t.next
        t.owner = owner
    return t


def _append(t1: _Tok, t2: _Tok) -> _Tok:
    """tok822_append(): the list T2 after T1; returns T2's last token."""
    nxt = t1.next
    t1.next = t2
    t2.prev = t1
    last = _own(t2, t1.owner)
    last.next = nxt
    if nxt is not None:
        nxt.prev = last
    return last


def _prepend(t1: _Tok, t2: _Tok) -> _Tok:
    """tok822_prepend(): the list T2 before T1; returns T2's last token."""
    prev = t1.prev
    if prev is not None:
        prev.next = t2
    t2.prev = prev
    last = _own(t2, t1.owner)
    last.next = t1
    t1.prev = last
    return last


def _cut_before(tp: _Tok) -> None:
    prev = tp.prev
    if prev is not None:
        prev.next = None
        tp.prev = None


def _unlink(tp: _Tok) -> _Tok | None:
    prev, nxt = tp.prev, tp.next
    if prev is not None:
        prev.next = nxt
    if nxt is not None:
        nxt.prev = prev
    tp.prev = tp.next = None
    return prev


def _sub_append(t1: _Tok, t2: _Tok) -> None:
    """tok822_sub_append() on an empty node: T2's list becomes its children."""
    t1.head = t2
    t1.tail = _own(t2, t1)


def _group(group_type: str, left: _Tok, right: _Tok, sync_type: str | None) -> _Tok:
    """tok822_group(): the tokens between LEFT and RIGHT under one node,
    optionally with a resynchronizing token (a comma) before it."""
    if left is not right:
        first = left.next
        if first is not None and first is not right:
            _cut_before(right)
            _cut_before(first)
            group = _Tok(group_type)
            _sub_append(group, first)
            _append(left, group)
            _append(group, right)
            if sync_type:
                _append(left, _Tok(sync_type, sync_type))
    return left


def _move_comment(tp: _Tok, right: _Tok) -> tuple[_Tok, _Tok]:
    """MOVE_COMMENT_AND_CONTINUE: the comment TP goes just before RIGHT;
    returns (the token before where it was, the new RIGHT)."""
    prev = _unlink(tp)
    assert prev is not None   # the sentinel on the left is never a comment
    return prev, _prepend(right, tp)


def parse(s: str) -> list:
    """tok822_parse(): S as a list of nodes; an address is ("addr", [its
    nodes]), anything else (type, text). Comments are moved out to the right
    of what they were in, phrases next to an address become addresses of
    their own, and a missing comma is added between two addresses."""
    toks = scan(s)
    if not toks:
        return []
    head, tail = _Tok(""), _Tok("")
    prev = head
    for t, x in toks:
        node = _Tok(t, x)
        prev.next = node
        node.prev = prev
        prev = node
    prev.next = tail
    tail.prev = prev

    do_word, do_group = 1, 2
    state = do_word
    right = tail
    tp: _Tok = tail.prev
    # right to left; the address sits between tp and right
    while tp.type:
        ty = tp.type
        if ty == "comment":
            tp, right = _move_comment(tp, right)
            continue
        if ty == ";":   # right-hand side of a named group
            right = _group("addr", tp, right, ",")
            state = do_group | do_word
        elif ty == ":" and state & do_group:
            tp.type = "startgrp"
            _group("addr", tp, right, None)
            while tp.type and tp.type != ",":
                tp = tp.prev   # type: ignore[assignment]
            right = tp
            continue
        elif ty == ">":   # right-hand side of <route>
            right = _group("addr", tp, right, ",")
            while tp.type and tp.type != "<":
                if tp.type == "comment":
                    tp, right = _move_comment(tp, right)
                    continue
                tp = tp.prev   # type: ignore[assignment]
            _group("addr", tp, right, None)
            while tp.type and (len(tp.type) > 1 or tp.type not in ">;,:"):
                tp = tp.prev   # type: ignore[assignment]
            right = tp
            state |= do_word
            continue
        elif ty == "atom" or ty == "qstring" or ty == "domlit":
            if not state & do_word:
                right = _group("addr", tp, right, ",").next   # type: ignore[assignment]
            state &= ~do_word
        elif ty == ",":
            right = _group("addr", tp, right, None)
            state |= do_word
        else:
            state |= do_word
        tp = tp.prev   # type: ignore[assignment]
    _group("addr", tp, right, None)
    return _nodes(head.next, tail)


def _nodes(first: _Tok | None, stop: _Tok | None) -> list:
    out: list = []
    tp = first
    while tp is not None and tp is not stop:
        if tp.type == "addr":
            out.append(("addr", _nodes(tp.head, None)))
        else:
            out.append((tp.type, tp.text))
        tp = tp.next
    return out


def internalize(nodes: list, owned: bool = False) -> str:
    """tok822_internalize(): the nodes as a string in internal form (quoted
    strings and literals without their quotes and backslashes). A blank is
    put back only between top-level tokens (tok822_append_space()): never
    inside an address node (OWNED)."""
    out: list[str] = []
    last = len(nodes) - 1
    for i, (t, v) in enumerate(nodes):
        if t == "addr":
            out.append(internalize(v, True))
        elif t == "domlit":
            out.append("[" + v + "]")
        elif t == "startgrp":
            out.append(":")
        else:
            out.append(v)
        if owned or i == last:
            continue
        nxt = nodes[i + 1][0]
        if t == "," or t == "startgrp" or nxt == "<" or (t in NON_OPERATOR and nxt in NON_OPERATOR):
            out.append(" ")
    return "".join(out)


def externalize(toks: list[tuple[str, str]]) -> str:
    """tok822_externalize() of a flat token list: quoted strings and
    literals quoted again, a blank after every comma (even the last) and
    between two words."""
    out: list[str] = []
    last = len(toks) - 1
    for i, (t, text) in enumerate(toks):
        if t == "qstring":
            out.append('"' + "".join("\\" + c if c in '"\\\r\n' else c for c in text) + '"')
        elif t == "domlit":
            out.append("[" + "".join("\\" + c if c in "\\\r\n" else c for c in text) + "]")
        elif t == "startgrp":
            out.append(":")
        else:
            out.append(text)
        if t == ",":
            out.append(" ")
        elif i < last:
            nxt = toks[i + 1][0]
            if t == "startgrp" or nxt == "<" or (t in NON_OPERATOR and nxt in NON_OPERATOR):
                out.append(" ")
    return "".join(out)
