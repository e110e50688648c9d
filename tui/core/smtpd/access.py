"""Access tables: lookups and what their results mean (smtpd_check.c check_*_access, check_table_result)."""
from __future__ import annotations

import re

from tui.core.dns import OK as DNS_OK
from tui.core.dns import NOTFOUND, NULLMX, UNKNOWN
from tui.core.postfix.dsn import dsn_fix, dsn_split
from tui.core.postfix.mail_addr import mail_addr_keys
from tui.core.postfix.valid_hostname import valid_hostaddr, valid_mailhost_addr
from tui.core.smtpd.state import (MAIL_ERROR_POLICY, NAME_RECIPIENT, SMTPD_CHECK_DUNNO, SMTPD_CHECK_OK)
from tui.core.smtpd.walk import RestrictionWalk, _split_restrictions
from tui.core.trace import DUNNO, WARN


# TableCache.lookup records a Lookup for every key it asks a table, and for a
# table it cannot evaluate; it asks a pattern table (regexp, pcre, cidr) no
# partial key (Postfix's DICT_FLAG_FIXED) and then records nothing. So a
# partial key that came back not found, without an error and with nothing
# recorded, was not asked because of the table's type: no later partial key
# of the same walk is asked either, and the domain/address walks stop there.
# (False: walk every key; tests compare the two.)
_SKIP_NOT_ASKED = True

_NOT_V4_CHAR = re.compile(r"[^0-9.]").search


def _maybe_hostaddr(name: str) -> bool:
    """valid_hostaddr(name), without its exceptions for the usual host name:
    a name without ":" can only be an IPv4 address (ipaddress wants ASCII
    digits and dots), so one character else answers False."""
    if ":" not in name and _NOT_V4_CHAR(name):
        return False
    return valid_hostaddr(name)


class AccessChecks(RestrictionWalk):
    """check_access() and friends, and the access(5) result actions."""

    # ------------------------------------------------------------ access tables
    def check_table_result(self, table: str, value: str, datum: str, reply_name: str,
                           reply_class: str, def_acl) -> int:
        """check_table_result(): what the answer VALUE of the access table
        TABLE means: an action (_ACTIONS), a number (OK), an SMTP reply, or
        a list of restrictions walked with the list's names and def_acl."""
        v = value.lstrip(" \t")
        idx = 0
        while idx < len(v) and v[idx] not in " \t":
            idx += 1
        cmd = v[:idx]
        text = v[idx:].lstrip(" \t")
        ucmd = cmd.upper()
        self.note_cur(f"table result: {value}")
        action = _ACTIONS.get(ucmd)
        if action is not None:
            return action(self, ucmd, text, reply_name, reply_class)
        if v and v.isdigit():
            return SMTPD_CHECK_OK
        if len(cmd) == 3 and text and cmd[0] in "45" and cmd[1].isdigit() and cmd[2].isdigit():
            code = int(cmd)
            dsn, t = dsn_split(cmd[0] + ".7.1", text)
            return self.check_reject(MAIL_ERROR_POLICY, code, dsn_fix(dsn, reply_class),
                                     f"<{reply_name}>: {reply_class} rejected: {t or 'Access denied'}")
        if ":" in v:
            self.reject_server_error(f"access table {table} has entry with lookup table: {v}")
        if self.recursion > 100:
            self.reject_server_error(f"access table {table} entry {v} causes unreasonable recursion")
        restrictions = [x for x in v.replace(",", " ").replace("\t", " ").split(" ") if x]
        if not restrictions:
            self.warnings.append(f"access table {table} entry {value} has empty value")
            return SMTPD_CHECK_OK
        return self.generic_checks(f"{table} result", [(r, None) for r in _split_restrictions(v)],
                                   reply_name, reply_class, def_acl)

    def _lookup(self, table: str, key: str, partial: bool):
        # recorded straight into the current step (add_lookups' target)
        return self.tables.lookup(self.view, table, key,
                                  self.stack[-1].lookups if self.stack else [], partial)

    def check_access(self, table: str, name: str, partial: bool, reply_name, reply_class, def_acl):
        found, value, err = self._lookup(table, name, partial)
        if found:
            return True, self.check_table_result(table, value, name, reply_name, reply_class, def_acl)
        if err:
            self.note_cur(f"lookup error in {table}: {err}")
            return True, self.check_table_result(table, "451 4.3.5 Server configuration error", name,
                                                 reply_name, reply_class, def_acl)
        return False, SMTPD_CHECK_DUNNO

    def check_domain_access(self, table: str, domain: str, reply_name, reply_class, def_acl):
        parent = self.vp.parent_access
        name = domain
        partial = False
        maybe_numerical = True
        view, stack = self.view, self.stack
        lk = stack[-1].lookups if stack else []   # the current step's
        lookup = self.tables.lookup
        while name:
            # check_access() inlined
            n = len(lk)
            found, value, err = lookup(view, table, name, lk, partial)
            if found:
                return True, self.check_table_result(table, value, name, reply_name, reply_class, def_acl)
            if err:
                self.note_cur(f"lookup error in {table}: {err}")
                return True, self.check_table_result(table, "451 4.3.5 Server configuration error", name,
                                                     reply_name, reply_class, def_acl)
            if partial and len(lk) == n and _SKIP_NOT_ASKED:
                break   # a pattern table: no partial key is asked (see _SKIP_NOT_ASKED)
            if maybe_numerical:
                maybe_numerical = _maybe_hostaddr(domain)
                if maybe_numerical:
                    break
            nxt = name.find(".", 1)
            if nxt < 0:
                break
            name = name[nxt + 1:] if parent else name[nxt:]
            partial = True
        return False, SMTPD_CHECK_DUNNO

    def check_addr_access(self, table: str, address: str, reply_name, reply_class, def_acl):
        delim = ":" if ":" in address else "."
        addr = address
        partial = False
        view, stack = self.view, self.stack
        lk = stack[-1].lookups if stack else []   # the current step's
        lookup = self.tables.lookup
        while True:
            # check_access() inlined
            n = len(lk)
            found, value, err = lookup(view, table, addr, lk, partial)
            if found:
                return True, self.check_table_result(table, value, addr, reply_name, reply_class, def_acl)
            if err:
                self.note_cur(f"lookup error in {table}: {err}")
                return True, self.check_table_result(table, "451 4.3.5 Server configuration error", addr,
                                                     reply_name, reply_class, def_acl)
            if partial and len(lk) == n and _SKIP_NOT_ASKED:
                break   # a pattern table: no partial key is asked (see _SKIP_NOT_ASKED)
            partial = True
            i = addr.rfind(delim)
            if i < 0:
                break
            addr = addr[:i]
        return False, SMTPD_CHECK_DUNNO

    def check_namadr_access(self, table, name, addr, reply_name, reply_class, def_acl) -> int:
        found, st = self.check_domain_access(table, name, reply_name, reply_class, def_acl)
        if st != 0 or found:
            return st
        found, st = self.check_addr_access(table, addr, reply_name, reply_class, def_acl)
        if st != 0 or found:
            return st
        return SMTPD_CHECK_DUNNO

    def check_mail_access(self, table, addr, reply_name, reply_class, def_acl):
        r = self.resolve(addr)
        if "@" not in r.recipient:
            return False, SMTPD_CHECK_DUNNO
        lk = self.stack[-1].lookups if self.stack else []   # the current step's
        for key, partial in mail_addr_keys(self, self.view, r.recipient, "access"):
            found, value, err = self.tables.lookup(self.view, table, key, lk, partial)
            if found or err:
                if err:
                    self.note_cur(f"lookup error in {table}: {err}")
                    return True, self.check_table_result(table, "451 4.3.5 Server configuration error",
                                                         r.recipient, reply_name, reply_class, def_acl)
                st = self.check_table_result(table, value, r.recipient, reply_name, reply_class, def_acl)
                if (st == SMTPD_CHECK_OK and not self.vp.allow_untrusted_routing and r.routed
                        and reply_class == NAME_RECIPIENT):
                    self.note_cur("OK ignored: sender-specified routing in the recipient "
                                  "(allow_untrusted_routing = no)")
                    return True, SMTPD_CHECK_DUNNO
                return True, st
        return False, SMTPD_CHECK_DUNNO

    def forbid_allowlist(self, name: str, status: int, target: str) -> None:
        if not self.discard and status == SMTPD_CHECK_OK:
            self.reject_server_error(f"restriction {name} returns OK for {target}: this is not allowed "
                                     f"for security reasons (use DUNNO instead of OK)")

    def server_access_restriction(self, c, name: str, reply_name: str, reply_class: str) -> int:
        """check_{client,reverse_client_hostname,helo,sender,recipient}_{ns,mx,a}_access:
        check_server_access() with the record type the restriction names,
        and OK refused (smtpd_check.c's forbid_allowlist())."""
        st = self.check_server_access(c.arg, name, c.name.rsplit("_", 2)[1].upper(), reply_name, reply_class,
                                      c.def_acl)
        self.forbid_allowlist(c.name, st, name)
        return st

    def check_server_access(self, table, name, rrtype, reply_name, reply_class, def_acl) -> int:
        """check_server_access(): TABLE asked about the RRTYPE (NS, MX or A)
        hosts of NAME's domain, by name and by address."""
        domain = name.rsplit("@", 1)[1] if "@" in name else name
        if domain.startswith("["):
            if rrtype not in ("A", "MX") or not domain.endswith("]"):
                return SMTPD_CHECK_DUNNO
            bare = valid_mailhost_addr(domain[1:-1])
            if bare is None:
                return SMTPD_CHECK_DUNNO
            found, st = self.check_addr_access(table, bare, reply_name, reply_class, def_acl)
            return st
        servers, st = self._server_hosts(domain, rrtype)
        if servers is None:
            return st
        for server in servers:
            decided, st = self._check_server(table, server, rrtype, reply_name, reply_class, def_acl)
            if decided:
                return st
        return SMTPD_CHECK_DUNNO

    def _server_hosts(self, domain: str, rrtype: str) -> tuple[list[str] | None, int]:
        """The hosts check_server_access() checks for DOMAIN: DOMAIN itself
        for A, else its MX (DOMAIN when it has none) or NS records (of the
        nearest parent that has them); (None, the status to return) when
        there are none to check."""
        if rrtype == "A":
            return [domain], SMTPD_CHECK_DUNNO
        ans = self.dns(domain, rrtype)
        if ans.status == UNKNOWN:
            return None, self.needs_dns(f"{rrtype} lookup of {domain}")
        if ans.status == NULLMX:
            return None, SMTPD_CHECK_DUNNO
        if ans.status == NOTFOUND:
            if rrtype == "MX":
                ans = type(ans)(DNS_OK, (domain,))
            elif rrtype == "NS":
                d = domain
                while "." in d and d.split(".", 1)[1]:
                    d = d.split(".", 1)[1]
                    ans = self.dns(d, "NS")
                    if ans.status != NOTFOUND:
                        break
        if ans.status != DNS_OK:
            self.note_cur(f"unable to look up {rrtype} host for {domain}: DNS {ans.status}")
            return None, SMTPD_CHECK_DUNNO
        return list(ans.records), SMTPD_CHECK_DUNNO

    def _check_server(self, table, server: str, rrtype: str, reply_name, reply_class,
                      def_acl) -> tuple[bool, int]:
        """One host of check_server_access(): its address, or its name (not
        for A) and then its addresses. (True, status) when that decides."""
        if valid_hostaddr(server):
            found, st = self.check_addr_access(table, server, reply_name, reply_class, def_acl)
            return bool(st or found), st
        if rrtype != "A":
            found, st = self.check_domain_access(table, server, reply_name, reply_class, def_acl)
            if st or found:
                return True, st
        a = self.dns(server, "A")
        if a.status == UNKNOWN:
            self.needs_dns(f"address lookup of {server}")
            return False, SMTPD_CHECK_DUNNO
        for ip in a.records:
            found, st = self.check_addr_access(table, ip, reply_name, reply_class, def_acl)
            if st or found:
                return True, st
        return False, SMTPD_CHECK_DUNNO


# ---------------------------------------------------------------- access(5) actions
# Each is called as action(ev, ucmd, text, reply_name, reply_class) with
# UCMD the action word upper-cased and TEXT what follows it.
def _dunno(ev: AccessChecks, ucmd: str, text: str, reply_name: str, reply_class: str) -> int:
    if ev.cur is not None:
        ev.cur.outcome = DUNNO
    return SMTPD_CHECK_DUNNO


def _ok(ev: AccessChecks, ucmd: str, text: str, reply_name: str, reply_class: str) -> int:
    return SMTPD_CHECK_OK


def _reject(ev: AccessChecks, ucmd: str, text: str, reply_name: str, reply_class: str) -> int:
    if ucmd == "REJECT":
        dsn, t = dsn_split("5.7.1", text)
        code = ev.pint("access_map_reject_code", 554)
    else:   # DEFER
        dsn, t = dsn_split("4.7.1", text)
        code = ev.pint("access_map_defer_code", 450)
    return ev.check_reject(MAIL_ERROR_POLICY, code, dsn_fix(dsn, reply_class),
                           f"<{reply_name}>: {reply_class} rejected: {t or 'Access denied'}")


def _hangup(ev: AccessChecks, ucmd: str, text: str, reply_name: str, reply_class: str) -> int:
    ev.note_cur("HANGUP: smtpd drops the connection without a reply (test feature)")
    return ev.check_reject(MAIL_ERROR_POLICY, 421, "4.7.0", "connection dropped (HANGUP)")


def _info(ev: AccessChecks, ucmd: str, text: str, reply_name: str, reply_class: str) -> int:
    # INFO and WARN
    if ev.cur is not None:
        ev.cur.outcome = WARN if ucmd == "WARN" else DUNNO
    ev.note_cur(f"{ucmd}: logged, evaluation goes on")
    return SMTPD_CHECK_DUNNO


def _message_action(ev: AccessChecks, ucmd: str, text: str, reply_name: str, reply_class: str) -> int:
    # FILTER, HOLD, REDIRECT, BCC, PREPEND, DISCARD: what happens to the message
    if ev.sender is None:
        ev.note_cur(f"action {ucmd} is always skipped in client or helo restrictions "
                    f"with smtpd_delay_reject = no")
        if ev.cur is not None:
            ev.cur.outcome = DUNNO
        return SMTPD_CHECK_DUNNO
    if ucmd == "DISCARD":
        ev.discard = True
        ev.note_cur("DISCARD: the message is accepted and silently discarded")
        return SMTPD_CHECK_OK
    if ucmd == "FILTER" and (not text or ":" not in text):
        ev.note_cur("FILTER without transport:destination is ignored")
    elif ucmd in ("REDIRECT", "BCC") and "@" not in text:
        ev.note_cur(f"{ucmd} requires user@domain target: ignored")
    else:
        ev.note_cur(f"{ucmd} {text}: recorded for the message, does not decide the reply")
    if ev.cur is not None:
        ev.cur.outcome = DUNNO
    return SMTPD_CHECK_DUNNO


def _defer_if(ev: AccessChecks, ucmd: str, text: str, reply_name: str, reply_class: str) -> int:
    # DEFER_IF_PERMIT and DEFER_IF_REJECT
    dsn, t = dsn_split("4.7.1", text)
    code = ev.pint("access_map_defer_code", 450)
    reason = f"<{reply_name}>: {reply_class} rejected: {t or 'Service unavailable'}"
    if ucmd == "DEFER_IF_PERMIT":
        return ev.defer_if_permit2(None, MAIL_ERROR_POLICY, code, dsn_fix(dsn, reply_class), reason)
    ev.defer_if(ev.defer_if_reject, MAIL_ERROR_POLICY, code, dsn_fix(dsn, reply_class), reason)
    return SMTPD_CHECK_DUNNO


_ACTIONS = {
    "DUNNO": _dunno, "REJECT": _reject, "DEFER": _reject, "HANGUP": _hangup, "INFO": _info,
    "WARN": _info, "FILTER": _message_action, "HOLD": _message_action, "REDIRECT": _message_action,
    "BCC": _message_action, "PREPEND": _message_action, "DISCARD": _message_action,
    "DEFER_IF_PERMIT": _defer_if, "DEFER_IF_REJECT": _defer_if, "OK": _ok, "RELAY": _ok,
}
