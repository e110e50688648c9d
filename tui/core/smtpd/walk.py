"""The walk over one restriction list (smtpd_check.c generic_checks)."""
from __future__ import annotations

from typing import NoReturn

from tui.core.model import Source
from tui.core.smtpd.registry import NO_ARG, RESTRICTIONS, TABLE, Call, keyword
from tui.core.smtpd.replies import Replies
from tui.core.smtpd.state import (DICT_ERR_RETRY, SMTPD_CHECK_DUNNO, SMTPD_CHECK_OK, SMTPD_CHECK_REJECT, _Longjmp, _StepB)
from tui.core.trace import DEFER, DUNNO, NO_MATCH, PERMIT, REJECT


_new = object.__new__

# What one entry of a parsed restriction list is (see _parse_restrictions).
_R_PLAIN = 0     # a restriction (with its argument, if it takes one)
_R_WARN = 1      # warn_if_reject
_R_TABLE = 2     # a bare type:table: the list's default access check (def_acl)
_R_BAD = 3       # an access check without a type:table argument (smtpd stops there)


def _parse_restrictions(items) -> tuple:
    """A restriction list as generic_checks walks it, parsed once: one
    (kind, name, lname, handler, arg, entry, position, source, extra) per
    restriction. name is as written, lname lower-cased, handler the registry's
    (None: a restriction class or unknown), arg the argument it takes from
    the next item, entry the text a Step shows; extra is the deprecation note
    of a _R_PLAIN entry and the error text of a _R_BAD one, which ends the
    list (smtpd stops there)."""
    out: list[tuple] = []
    i = 0
    pos = 0
    n = len(items)
    get = RESTRICTIONS.get
    while i < n:
        name, src = items[i]
        pos += 1
        lname = name.lower()
        i += 1
        if lname == "warn_if_reject":
            out.append((_R_WARN, name, lname, None, None, name, pos, src, None))
            continue
        if ":" in name and not lname.startswith("{"):
            out.append((_R_TABLE, name, lname, None, name, name, pos, src, None))
            continue
        arg = None
        entry = name
        r = get(lname)
        kind = NO_ARG if r is None else r.arg
        if kind == TABLE:
            if i >= n or ":" not in items[i][0]:
                bad = items[i][0] if i < n else ""
                out.append((_R_BAD, name, lname, None, None, name, pos, src,
                            f"restriction {lname}: bad argument \"{bad}\": need maptype:mapname"))
                break
            arg = items[i][0]
            entry = f"{name} {arg}"
            i += 1
        elif kind != NO_ARG:
            if i < n:
                arg = items[i][0]
                entry = f"{name} {arg}"
                i += 1
        dep = None if r is None else r.replacement
        out.append((_R_PLAIN, name, lname, None if r is None else r.handler, arg, entry, pos, src,
                    None if dep is None else f"deprecated name (use {dep})"))
    return tuple(out)


def _parsed_restrictions(memo: dict, items) -> tuple:
    """_parse_restrictions(items), kept in MEMO (the Config's, keyed by the
    identity of a view's shared list tuple, which lives as long as the view)."""
    got = memo.get(id(items))
    if got is not None and got[0] is items:
        return got[1]
    parsed = _parse_restrictions(items)
    if type(items) is tuple:
        memo[id(items)] = (items, parsed)
    return parsed


def _split_restrictions(v: str) -> list[str]:
    out: list[str] = []
    cur = ""
    depth = 0
    for c in v:
        if c == "{":
            depth += 1
        elif c == "}":
            depth = max(0, depth - 1)
        if depth == 0 and c in ", \t\r\n":
            if cur:
                out.append(cur)
            cur = ""
        else:
            cur += c
    if cur:
        out.append(cur)
    return out


class RestrictionWalk(Replies):
    """generic_checks(): a restriction list left to right, restriction classes included."""

    # ------------------------------------------------------------ generic_checks
    def generic_checks(self, parameter: str, items: list[tuple[str, Source | None]],
                       reply_name: str, reply_class: str, def_acl: str | None) -> int:
        got = self.vp.rlists.get(id(items))   # _parsed_restrictions() inlined
        parsed = got[1] if (got is not None and got[0] is items) else _parsed_restrictions(self.vp.rlists, items)
        status = 0
        saved_recursion = self.recursion
        self.recursion += 1
        stack = self.stack
        steps = self.steps
        c: Call = _new(Call)   # what each handler is given (see Call)
        c.ev = self
        c.reply_name = reply_name
        c.reply_class = reply_class
        c.def_acl = def_acl
        try:
            for kind, name, lname, handler, arg, entry, pos, src, extra in parsed:
                if self.discard:
                    break
                if kind:
                    if kind == _R_WARN:
                        self._warn_if_reject(parameter, name, pos, src)
                        continue
                    # _R_BAD, _R_TABLE
                    lname, handler = self._default_access_check(kind, parameter, name, pos, src, extra,
                                                                reply_class, def_acl)
                sb = _StepB(parameter, entry, pos, src, self.stage, len(stack))   # self.begin() inlined
                steps.append(sb)
                stack.append(sb)
                if extra is not None:
                    sb.detail = extra
                try:
                    if handler is not None:
                        c.name = lname
                        c.arg = arg
                        status = handler(c)
                    else:
                        status = self.one_other(name, c)
                except _Longjmp:
                    if sb.outcome == NO_MATCH:
                        sb.outcome = REJECT if self.error_text[:1] == "5" else DEFER
                    self.end(sb)
                    raise
                if status < 0:
                    self._lookup_error(status, sb, reply_name)
                if self.warn_if_reject >= self.recursion:
                    self.warn_if_reject = 0
                if status == SMTPD_CHECK_OK:
                    if sb.outcome in (NO_MATCH, DUNNO):
                        sb.outcome = PERMIT
                elif status == SMTPD_CHECK_REJECT:
                    sb.outcome = REJECT if self.error_text[:1] == "5" else DEFER
                elif sb.outcome == NO_MATCH and sb.reply is None and "raised" in sb.detail:
                    sb.outcome = DUNNO
                if stack and stack[-1] is sb:
                    stack.pop()
                if status != 0:
                    break
                if self.defer_if_permit.active and self.defer_if_reject.active:
                    break
        finally:
            self.recursion = saved_recursion
            if self.warn_if_reject >= self.recursion:
                self.warn_if_reject = 0
        return status

    def _warn_if_reject(self, parameter: str, name: str, pos: int, src: Source | None) -> None:
        """warn_if_reject: the next restriction of this list only warns."""
        sb = self.begin(parameter, name, pos, src)
        if self.warn_if_reject == 0:
            self.warn_if_reject = self.recursion
        self.end(sb, DUNNO, "the next restriction only warns instead of rejecting")

    def _default_access_check(self, kind: int, parameter: str, name: str, pos: int, src: Source | None,
                              extra: str | None, reply_class: str, def_acl: str | None):
        """A bare type:table in a list: the list's own access check (DEF_ACL)
        with it as its table; returns (that restriction's name, its handler).
        Without a def_acl, and for an access restriction without its table
        (_R_BAD), smtpd stops with a server error."""
        if kind == _R_BAD:
            self.begin(parameter, name, pos, src)
            self.reject_server_error(extra or "")
        if def_acl is None:
            self.begin(parameter, name, pos, src)
            self.reject_server_error(
                f"specify one of (check_client_access, check_reverse_client_hostname_access, "
                f"check_helo_access, check_sender_access, check_recipient_access, "
                f"check_etrn_access) before {reply_class} restriction \"{name}\"")
        r = RESTRICTIONS.get(def_acl)
        return def_acl, None if r is None else r.handler

    def _lookup_error(self, status: int, sb: _StepB, reply_name: str) -> NoReturn:
        """A handler's lookup error (status < 0): 451 4.3.0 for a table that
        failed (DICT_ERR_RETRY), 451 4.3.5 otherwise."""
        try:
            if status == DICT_ERR_RETRY:
                self.reject_dict_retry(reply_name)
            self.reject_server_error()
        except _Longjmp:
            sb.outcome = DEFER
            self.end(sb)
            raise

    # ------------------------------------------------------------ one restriction
    # Each restriction smtpd knows is one handler (restrictions_client.py,
    # restrictions_mail.py), called by generic_checks as handler(c) with c
    # the list walk's registry.Call; the registry maps every name to its
    # handler. A name not registered is a restriction class or unknown:
    def one_other(self, orig: str, c: Call) -> int:
        """ORIG (as written) is a restriction class, walked with the list's
        reply names (C), or unknown (smtpd stops with a server error)."""
        cls = self.restriction_class(orig)
        if cls is not None:
            items, src = cls
            if self.recursion > 100:
                self.reject_server_error(f"restriction class {orig} expands into itself without end "
                                         f"(a real smtpd crashes on this: stack overflow)")
            self.note_cur(f"restriction class {orig} ({src})" if src else f"restriction class {orig}")
            return self.generic_checks(orig, items, c.reply_name, c.reply_class, c.def_acl)
        self.reject_server_error(f"unknown smtpd restriction: \"{orig}\"")
        return SMTPD_CHECK_DUNNO  # not reached

    # ------------------------------------------------------------ restriction classes
    def restriction_class(self, name: str):
        if name in self.classes:
            return self.classes[name]
        if name == "reject_sender_login_mismatch":
            return None
        names = self.plist("smtpd_restriction_classes")
        if name not in names:
            return None
        items = self.list_with_sources(name)
        src = self.source(name)
        self.classes[name] = (items, src)
        return self.classes[name]


# warn_if_reject is the list walk's own (generic_checks), not a handler's.
keyword("warn_if_reject")
