"""Evaluate smtpd restrictions for one transaction, as Postfix 3.7 does.

`evaluate(cfg, tx, service="smtp", resolver=None)` walks the protocol stages
(connect, HELO, MAIL, RCPT) with the service's parameters, runs each
restriction list the way smtpd_check.c does (generic_checks: left to right,
PERMIT ends only its own list, REJECT/DEFER end everything, warn_if_reject,
defer_if_permit / defer_if_reject, restriction classes, access-table
results evaluated in place) and returns an immutable `Trace`.

Nothing here contacts the network: DNS goes through a tui.core.dns
Resolver, policy services are never consulted (assumed DUNNO unless the
caller supplies an answer).
"""
from __future__ import annotations

import re


from tui.core import classes as C
from tui.core.classes import TableFailure, dsn_fix, valid_hostaddr, valid_hostname
from tui.core.dns import NOTFOUND, NULLMX, OK as DNS_OK, TEMPFAIL, UNKNOWN, OfflineResolver, Resolver, dnsxl_query
from tui.core.model import Source
from tui.core.trace import (DEFER, DUNNO, NO_MATCH, NOT_EVALUATED, PERMIT, REJECT, WARN,
                            Lookup, Step, Trace, Transaction)

SMTPD_CHECK_DUNNO = 0
SMTPD_CHECK_OK = 1
SMTPD_CHECK_REJECT = 2
DICT_ERR_RETRY = -1
DICT_ERR_CONFIG = -2

NAME_CLIENT = "Client host"
NAME_REV_CLIENT = "Unverified Client host"
NAME_HELO = "Helo command"
NAME_SENDER = "Sender address"
NAME_RECIPIENT = "Recipient address"
NAME_SASL = "SASL login name"

MAIL_ERROR_POLICY = "policy"
MAIL_ERROR_SOFTWARE = "software"
MAIL_ERROR_RESOURCE = "resource"
MAIL_ERROR_DATA = "data"
MAIL_ERROR_BOUNCE = "bounce"
MAIL_ERROR_PROTOCOL = "protocol"

RCPT_REQUIRED = ("reject_unauth_destination", "defer_unauth_destination", "reject", "defer",
                 "defer_if_permit", "check_relay_domains")

FAKE_RELAY_CHECKS = ["permit_mynetworks", "permit_sasl_authenticated", "permit_auth_destination"]

ACCESS_CHECKS = {
    "check_client_access", "check_reverse_client_hostname_access", "check_helo_access",
    "check_sender_access", "check_recipient_access", "check_etrn_access",
    "check_ccert_access", "check_sasl_access",
    "check_client_mx_access", "check_client_ns_access", "check_client_a_access",
    "check_reverse_client_hostname_mx_access", "check_reverse_client_hostname_ns_access",
    "check_reverse_client_hostname_a_access",
    "check_helo_mx_access", "check_helo_ns_access", "check_helo_a_access",
    "check_sender_mx_access", "check_sender_ns_access", "check_sender_a_access",
    "check_recipient_mx_access", "check_recipient_ns_access", "check_recipient_a_access",
}
DOMAIN_ARG = {"reject_rbl_client", "reject_rbl", "permit_dnswl_client", "reject_rhsbl_client",
              "permit_rhswl_client", "reject_rhsbl_reverse_client", "reject_rhsbl_helo",
              "reject_rhsbl_sender", "reject_rhsbl_recipient"}

DEPRECATED = {
    "reject_invalid_hostname": "reject_invalid_helo_hostname",
    "reject_non_fqdn_hostname": "reject_non_fqdn_helo_hostname",
    "reject_unknown_hostname": "reject_unknown_helo_hostname",
    "reject_unknown_client": "reject_unknown_client_hostname",
    "reject_rbl": "reject_rbl_client",
    "check_recipient_maps": "reject_unlisted_recipient",
    "reject_maps_rbl": "reject_rbl_client domain",
    "check_relay_domains": "reject_unauth_destination",
    "permit_naked_ip_address": "permit_mynetworks or permit_sasl_authenticated",
}


# C.table_lookup records a Lookup for every key it asks a table, and for a
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


class _Longjmp(Exception):
    """smtpd's longjmp(smtpd_check_buf, status)."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


class _Defer:
    """defer_if_permit / defer_if_reject state; a new one is inactive (the
    class attributes are its initial values, set on the instance once
    raised)."""

    active: bool = False
    cls: str = ""
    code: int = 0
    dsn: str = ""
    reason: str = ""
    step: "_StepB | None" = None


_new = object.__new__


class _StepB:
    """A Step while it is being evaluated (mutable); freeze() makes the Step."""

    __slots__ = ("parameter", "entry", "position", "source", "stage", "depth", "outcome", "lookups",
                 "reply", "detail", "conditional")

    def __init__(self, parameter: str, entry: str, position: int | None, source: Source | None,
                 stage: str, depth: int):
        self.parameter = parameter
        self.entry = entry
        self.position = position
        self.source = source
        self.stage = stage
        self.depth = depth
        self.outcome = NO_MATCH
        self.lookups: list = []
        self.reply: str | None = None
        self.detail = ""
        self.conditional = False

    def freeze(self) -> Step:
        return Step.make(self.parameter, self.entry, self.position, self.source, self.outcome, self.stage,
                         tuple(self.lookups), self.reply, self.detail, self.depth, self.conditional)


def _printable(s: str) -> str:
    if s.isprintable():   # no control characters (\r and \n are not printable)
        return s
    return "".join(c if (c.isprintable() and c not in "\r\n") else " " for c in s)


def dsn_split(default: str, text: str) -> tuple[str, str]:
    """dsn_split(): a leading X.Y.Z in the text overrides the default DSN."""
    t = text.lstrip()
    parts = t.split(None, 1)
    if parts and _valid_dsn(parts[0]) and parts[0][0] in "245":
        return parts[0], (parts[1] if len(parts) > 1 else "")
    return default, t


def _valid_dsn(s: str) -> bool:
    got = _DSN_VALID.get(s)
    if got is None:
        got = _valid_dsn_uncached(s)
        if len(_DSN_VALID) < 4096:   # a pure function of the text: the few DSNs replies use
            _DSN_VALID[s] = got
    return got


_DSN_VALID: dict = {}


def _valid_dsn_uncached(s: str) -> bool:
    p = s.split(".")
    if len(p) != 3 or not all(x.isdigit() for x in p):
        return False
    return p[0] in ("2", "4", "5") and len(p[1]) <= 3 and len(p[2]) <= 3


def _source(view, name: str) -> Source | None:
    try:
        return view.source(name)
    except Exception:
        return None


def _list_with_sources(view, name: str):
    """The list's (entry, Source) pairs; read-only (shared by every trace)."""
    try:
        return view.list_with_sources_shared(name)
    except Exception:
        src = _source(view, name)
        return [(a, src) for a in C._list(view, name)]


def _compat_level(view) -> float:
    try:
        raw = view.expand("compatibility_level") or ""
    except Exception:
        raw = ""
    raw = raw.strip() or "0"
    try:
        parts = raw.split(".")
        return float(parts[0] + ("." + parts[1].zfill(3) if len(parts) > 1 else ""))
    except ValueError:
        return 0.0


class _ViewParams:
    """What the evaluator reads from one service's parameter view on every
    trace, read once per view of a Config (kept in the Config's memo).

    A Config and its views never change once loaded (a new main.cf is a new
    Config), so these values cannot go stale; nothing here comes from a
    table (table answers go through C.table_lookup and its generation-checked
    caches). Values come from the service's own view (its master.cf -o
    overrides) except `main` and `alias_specs`, which trivial-rewrite takes
    from main.cf."""

    __slots__ = ("view", "main", "alias_specs", "delay_reject", "helo_required", "soft_bounce",
                 "reject_unlisted_sender", "reject_unlisted_recipient", "relay_before_rcpt",
                 "allow_untrusted_routing", "sasl_enable", "parent_access", "parent_mynetworks",
                 "mynetworks", "no_unknown_rcpt_checks", "footer_maps", "footer", "compat_level",
                 "relay_explicit", "client_list", "helo_list", "sender_list", "recipient_list",
                 "relay_list", "src_unlisted_sender", "src_unlisted_recipient", "ints", "rlists",
                 "startup_errors")

    def __init__(self, cfg, view, memo: dict):
        self.view = view
        main = self.main = getattr(view, "main", None) or cfg.params()
        alias_specs = memo.get(("alias_specs", id(main)))
        if alias_specs is None:
            alias_specs = memo[("alias_specs", id(main))] = frozenset(
                set(C._list(main, "alias_maps")) | set(C._list(main, "alias_database")))
        self.alias_specs = alias_specs
        b = C._bool
        self.delay_reject = b(view, "smtpd_delay_reject", True)
        self.helo_required = b(view, "smtpd_helo_required")
        self.soft_bounce = b(view, "soft_bounce")
        self.reject_unlisted_sender = b(view, "smtpd_reject_unlisted_sender")
        self.reject_unlisted_recipient = b(view, "smtpd_reject_unlisted_recipient", True)
        self.relay_before_rcpt = b(view, "smtpd_relay_before_recipient_restrictions")
        self.allow_untrusted_routing = b(view, "allow_untrusted_routing")
        self.sasl_enable = b(view, "smtpd_sasl_auth_enable")
        self.parent_access = C.parent_style(view, "smtpd_access_maps")
        self.parent_mynetworks = C.parent_style(view, "mynetworks")
        self.mynetworks = tuple(C._list(view, "mynetworks"))
        self.no_unknown_rcpt_checks = "no_unknown_recipient_checks" in C._list(view, "receive_override_options")
        self.footer_maps = tuple(C._list(view, "smtpd_reject_footer_maps"))
        try:
            self.footer = view.raw("smtpd_reject_footer") or ""
        except Exception:
            self.footer = ""
        self.compat_level = _compat_level(view)
        try:
            self.relay_explicit = bool(view.is_explicit("smtpd_relay_restrictions"))
        except Exception:
            self.relay_explicit = False
        self.client_list = _list_with_sources(view, "smtpd_client_restrictions")
        self.helo_list = _list_with_sources(view, "smtpd_helo_restrictions")
        self.sender_list = _list_with_sources(view, "smtpd_sender_restrictions")
        self.recipient_list = _list_with_sources(view, "smtpd_recipient_restrictions")
        self.relay_list = _list_with_sources(view, "smtpd_relay_restrictions")
        self.src_unlisted_sender = _source(view, "smtpd_reject_unlisted_sender")
        self.src_unlisted_recipient = _source(view, "smtpd_reject_unlisted_recipient")
        self.ints: dict = {}   # (name, default) -> C._get_int's answer
        # the Config's parsed restriction lists (generic_checks), shared by its views
        rl = memo.get("rlists")
        if rl is None:
            rl = memo["rlists"] = {}
        self.rlists = rl
        self.startup_errors = None   # Evaluator.startup_errors() fills it in


def _view_params(cfg, service, memo: dict) -> _ViewParams:
    """The _ViewParams of cfg's view for SERVICE, kept in memo (the Config's)
    by the service as given and by the view; cfg.params() raises for an
    unknown service, which is never kept."""
    view = cfg.params(service) if service else cfg.params()
    vp = memo.get(("view_params", id(view)))
    if vp is None or vp.view is not view:
        vp = memo[("view_params", id(view))] = _ViewParams(cfg, view, memo)
    if service is None or isinstance(service, str):
        memo[("view_params_of", service)] = vp
    return vp


class Evaluator:
    # initial state (an instance assigns its own as the evaluation goes)
    decider: _StepB | None = None
    error_text = ""
    warn_if_reject = 0
    recursion = 0
    dip_client = False
    dip_helo = False
    dip_sender = False
    discard = False
    conditional = False
    stage = "connect"
    sender: str | None = None
    recipient: str | None = None
    helo_name: str | None = None
    recipient_rcptmap_checked = False
    sender_rcptmap_checked = False
    where = "CONNECT"
    rcpt_count = 0

    def __init__(self, cfg, tx: Transaction, service: str, resolver: Resolver,
                 policy_answers: dict | None = None):
        self.cfg = cfg
        self.tx = tx
        self.service = service
        self.resolver = resolver
        self.policy_answers = policy_answers or {}
        tables = self.tables = C.shared_cache(cfg)
        memo = tables.config_memo
        vp = memo.get(("view_params_of", service)) if (service is None or isinstance(service, str)) else None
        if vp is None:
            vp = _view_params(cfg, service, memo)
        self.vp = vp
        self.view = vp.view
        self.main = vp.main
        tables.alias_specs = vp.alias_specs
        self.steps: list[_StepB] = []
        self.stack: list[_StepB] = []
        self.defer_if_permit = _Defer()
        self.defer_if_reject = _Defer()
        self.config_errors: list[str] = []
        self.warnings: list[str] = []
        self.notes: list[str] = []
        self.classes: dict[str, tuple[list[str], list]] = {}
        # the other state starts as the class attributes below
        name = (tx.client_name or "unknown")
        self.client_name = name
        self.client_addr = tx.client_address
        self.reverse_name = tx.reverse_name or "unknown"
        self.name_status_ok = name.lower() != "unknown"
        self.reverse_name_status_ok = self.reverse_name.lower() != "unknown"
        self.namaddr = f"{name}[{tx.client_address}]"

    # ------------------------------------------------------------ parameters
    def p(self, name: str) -> str:
        try:
            return self.view.expand(name) or ""
        except Exception:
            return ""

    def plist(self, name: str) -> list[str]:
        return C._list(self.view, name)

    def pbool(self, name: str, default: bool = False) -> bool:
        return C._bool(self.view, name, default)

    def pint(self, name: str, default: int) -> int:
        ints = self.vp.ints
        got = ints.get((name, default))
        if got is None:
            got = ints[(name, default)] = C._get_int(self.view, name, default)
        return got

    def source(self, name: str) -> Source | None:
        return _source(self.view, name)

    def list_with_sources(self, name: str):
        """The list's (entry, Source) pairs; read-only (shared by every trace)."""
        return _list_with_sources(self.view, name)

    # for classes.py helpers
    @property
    def env(self):
        return self

    # ------------------------------------------------------------ steps
    def begin(self, parameter: str, entry: str, position: int | None, source: Source | None) -> _StepB:
        sb = _StepB(parameter, entry, position, source, self.stage, len(self.stack))
        self.steps.append(sb)
        self.stack.append(sb)
        return sb

    def end(self, sb: _StepB, outcome: str | None = None, detail: str | None = None) -> None:
        if outcome is not None:
            sb.outcome = outcome
        if detail:
            sb.detail = (sb.detail + "; " if sb.detail else "") + detail
        if self.stack and self.stack[-1] is sb:
            self.stack.pop()

    @property
    def cur(self) -> _StepB | None:
        return self.stack[-1] if self.stack else None

    def add_lookups(self, lookups: list) -> None:
        if self.stack:
            self.stack[-1].lookups.extend(lookups)

    def note_cur(self, text: str) -> None:
        stack = self.stack
        if stack:
            cur = stack[-1]
            cur.detail = (cur.detail + "; " if cur.detail else "") + text

    # ------------------------------------------------------------ replies
    def check_reject(self, error_class: str, code: int, dsn: str, text: str) -> int:
        if self.warn_if_reject and error_class not in (MAIL_ERROR_SOFTWARE, MAIL_ERROR_RESOURCE,
                                                        MAIL_ERROR_DATA):
            warn = True
        else:
            warn = False
        et = f"{code} {dsn} {text}"
        if code < 400 or code > 599:
            self.warnings.append(f"SMTP reply code configuration error: {et}")
            et = "450 4.7.1 Service unavailable"
        elif not _valid_dsn(dsn):
            self.warnings.append(f"DSN detail code configuration error: {et}")
            et = "450 4.7.1 Service unavailable"
        et = _printable(et[:510])
        if not warn and self.defer_if_reject.active and et[0] == "5":
            d = self.defer_if_reject
            self.warn_if_reject = 0
            d.active = False
            self.note_cur(f"would reject ({et}), but an earlier defer_if_reject turns it into a "
                          f"temporary error")
            return self.check_reject(d.cls, d.code, d.dsn, d.reason)
        if self.vp.soft_bounce and et[0] == "5":
            et = "4" + et[1:]
        if len(et) > 4:
            et = et[:4] + et[0] + et[5:]
        stack = self.stack
        cur = stack[-1] if stack else None
        if warn:
            if cur is not None:
                cur.outcome = WARN
                cur.reply = et
                self.note_cur("warn_if_reject: logged as reject_warning, not rejected")
            return SMTPD_CHECK_DUNNO
        self.error_text = et
        if cur is not None:
            cur.reply = et
            if self.decider is None or self.decider not in stack:
                self.decider = cur
        return SMTPD_CHECK_REJECT

    def defer_if(self, which: _Defer, error_class: str, code: int, dsn: str, text: str) -> int:
        if not which.active:
            which.active = True
            which.cls, which.code, which.dsn, which.reason = error_class, code, dsn, text
            which.step = self.cur
            if self.cur is not None:
                kind = "defer_if_permit" if which is self.defer_if_permit else "defer_if_reject"
                self.note_cur(f"{kind} raised: {code} {dsn} {text}")
        return SMTPD_CHECK_DUNNO

    def defer_if_permit2(self, act_param: str, error_class, code, dsn, text) -> int:
        act = self.p(act_param).strip().lower() if act_param else "defer_if_permit"
        if self.warn_if_reject == 0 and act == "defer_if_permit":
            return self.defer_if(self.defer_if_permit, error_class, code, dsn, text)
        return self.check_reject(error_class, code, dsn, text)

    def reject_dict_retry(self, reply_name: str, why: str = ""):
        if why:
            self.note_cur(f"table lookup failed: {why}")
        raise _Longjmp(self.check_reject(MAIL_ERROR_DATA, 451, "4.3.0",
                                         f"<{reply_name}>: Temporary lookup failure"))

    def reject_server_error(self, why: str = ""):
        if why:
            self.note_cur(why)
            self.warnings.append(why)
        raise _Longjmp(self.check_reject(MAIL_ERROR_SOFTWARE, 451, "4.3.5", "Server configuration error"))

    def permit(self) -> int:
        return SMTPD_CHECK_OK

    # ------------------------------------------------------------ resolver
    def resolve(self, addr: str):
        try:
            r = C.resolve_addr(self, addr, with_transport=False)
        except TableFailure as exc:
            self.add_lookups(exc.lookups)
            self.reject_dict_retry(addr, exc.message)
        lk = r.lookups
        if lk and self.stack:   # self.add_lookups(r.lookups)
            self.stack[-1].lookups.extend(lk)
        return r

    # ------------------------------------------------------------ DNS
    def dns(self, name: str, rrtype: str):
        ans = self.resolver.lookup(name, rrtype)
        if ans.status == UNKNOWN:
            self.conditional = True
            if self.cur is not None:
                self.cur.conditional = True
        if self.cur is not None:
            self.cur.lookups.append(Lookup(f"dns:{rrtype}", name, ans.status == DNS_OK,
                                           ", ".join(ans.records) if ans.records else None,
                                           None, None, note=f"DNS {ans.status}"))
        return ans

    def needs_dns(self, what: str) -> int:
        self.conditional = True
        if self.cur is not None:
            self.cur.conditional = True
            self.cur.outcome = NOT_EVALUATED
            self.note_cur(f"needs DNS: not evaluated ({what}); assumed to pass")
        return SMTPD_CHECK_DUNNO

    # ------------------------------------------------------------ generic_checks
    def generic_checks(self, parameter: str, items: list[tuple[str, Source | None]],
                       reply_name: str, reply_class: str, def_acl: str | None) -> int:
        got = self.vp.rlists.get(id(items))   # _parsed_restrictions() inlined
        parsed = got[1] if (got is not None and got[0] is items) else _parsed_restrictions(self.vp.rlists, items)
        status = 0
        saved_recursion = self.recursion
        self.recursion += 1
        stack = self.stack
        try:
            for kind, name, lname, handler, arg, entry, pos, src, extra in parsed:
                if self.discard:
                    break
                if kind:
                    if kind == _R_WARN:
                        sb = self.begin(parameter, name, pos, src)
                        if self.warn_if_reject == 0:
                            self.warn_if_reject = self.recursion
                        self.end(sb, DUNNO, "the next restriction only warns instead of rejecting")
                        continue
                    if kind == _R_BAD:
                        sb = self.begin(parameter, name, pos, src)
                        self.reject_server_error(extra)
                    # _R_TABLE
                    if def_acl is None:
                        sb = self.begin(parameter, name, pos, src)
                        self.reject_server_error(
                            f"specify one of (check_client_access, check_reverse_client_hostname_access, "
                            f"check_helo_access, check_sender_access, check_recipient_access, "
                            f"check_etrn_access) before {reply_class} restriction \"{name}\"")
                    lname = def_acl
                    handler = DISPATCH.get(def_acl)
                sb = self.begin(parameter, entry, pos, src)
                if extra is not None:
                    sb.detail = extra
                try:
                    if handler is not None:
                        status = handler(self, lname, name, arg, reply_name, reply_class, def_acl)
                    else:
                        status = self.one_other(name, reply_name, reply_class, def_acl)
                except _Longjmp:
                    if sb.outcome == NO_MATCH:
                        sb.outcome = REJECT if self.error_text[:1] == "5" else DEFER
                    self.end(sb)
                    raise
                if status < 0:
                    if status == DICT_ERR_RETRY:
                        try:
                            self.reject_dict_retry(reply_name)
                        except _Longjmp:
                            sb.outcome = DEFER
                            self.end(sb)
                            raise
                    else:
                        try:
                            self.reject_server_error()
                        except _Longjmp:
                            sb.outcome = DEFER
                            self.end(sb)
                            raise
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

    # ------------------------------------------------------------ one restriction
    # Each restriction smtpd knows is one handler below, called as
    # handler(self, name, orig, arg, reply_name, reply_class, def_acl) with
    # name the lower-cased restriction; DISPATCH (after the class) maps every
    # name to its handler. A name not in DISPATCH is a restriction class or
    # unknown (one_other).
    def one(self, name: str, orig: str, arg, reply_name, reply_class, def_acl) -> int:
        h = DISPATCH.get(name)
        if h is None:
            return self.one_other(orig, reply_name, reply_class, def_acl)
        return h(self, name, orig, arg, reply_name, reply_class, def_acl)

    def one_other(self, orig: str, reply_name, reply_class, def_acl) -> int:
        # restriction class
        cls = self.restriction_class(orig)
        if cls is not None:
            items, src = cls
            if self.recursion > 100:
                self.reject_server_error(f"restriction class {orig} expands into itself without end "
                                         f"(a real smtpd crashes on this: stack overflow)")
            self.note_cur(f"restriction class {orig} ({src})" if src else f"restriction class {orig}")
            return self.generic_checks(orig, items, reply_name, reply_class, def_acl)
        self.reject_server_error(f"unknown smtpd restriction: \"{orig}\"")
        return SMTPD_CHECK_DUNNO  # not reached

    def r_check_client_access(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        return self.check_namadr_access(arg, self.client_name, self.client_addr, self.namaddr,
                                        NAME_CLIENT, def_acl)

    def r_permit_mynetworks(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        return self.permit_mynetworks()

    def r_check_helo_access(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        helo = self.helo_name
        if helo is not None:
            found, st = self.check_domain_access(arg, helo, helo, NAME_HELO, def_acl)
            return st
        self.note_cur("no HELO/EHLO name")
        return SMTPD_CHECK_DUNNO

    def r_check_sender_access(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        sender = self.sender
        if sender:
            found, st = self.check_mail_access(arg, sender, sender, NAME_SENDER, def_acl)
            return st
        if sender is not None and sender == "":
            key = self.p("smtpd_null_access_lookup_key") or "<>"
            found, st = self.check_access(arg, key, False, sender, NAME_SENDER, def_acl)
            return st
        return SMTPD_CHECK_DUNNO

    def r_check_recipient_access(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        rcpt = self.recipient
        if rcpt is not None:
            found, st = self.check_mail_access(arg, rcpt, rcpt, NAME_RECIPIENT, def_acl)
            return st
        return SMTPD_CHECK_DUNNO

    def r_reject_unauth_destination(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        rcpt = self.recipient
        if rcpt is not None:
            return self.reject_unauth_destination(rcpt, self.pint("relay_domains_reject_code", 554), "5.7.1")
        return SMTPD_CHECK_DUNNO

    def r_reject_unlisted_recipient(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        # also check_recipient_maps
        rcpt = self.recipient
        if rcpt:
            return self.check_recipient_rcpt_maps(rcpt)
        return SMTPD_CHECK_DUNNO

    # generic
    def r_permit(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        return SMTPD_CHECK_OK

    def r_defer(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        return self.check_reject(MAIL_ERROR_POLICY, self.pint("defer_code", 450), "4.3.2",
                                 f"<{reply_name}>: {reply_class} rejected: Try again later")

    def r_reject(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        return self.check_reject(MAIL_ERROR_POLICY, self.pint("reject_code", 554), "5.7.1",
                                 f"<{reply_name}>: {reply_class} rejected: Access denied")

    def r_reject_unauth_pipelining(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        self.note_cur("the client is assumed to wait for replies (no improper pipelining)")
        return SMTPD_CHECK_DUNNO

    def r_check_policy_service(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        if arg is None or ":" not in arg:
            self.reject_server_error("restriction check_policy_service must be followed by transport:server")
        ans = self.policy_answers.get(arg)
        if ans is None:
            self.conditional = True
            self.cur.conditional = True
            self.cur.outcome = NOT_EVALUATED
            self.note_cur("policy service not consulted: assumed DUNNO (a real smtpd that cannot "
                          "reach it answers 451 4.3.5 ... Server configuration problem)")
            return SMTPD_CHECK_DUNNO
        self.note_cur(f"policy service answer supplied: {ans}")
        return self.check_table_result(arg, ans, reply_name, reply_name, reply_class, def_acl)

    def r_defer_if_permit(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        return self.defer_if_permit2(None, MAIL_ERROR_POLICY, 450, "4.7.0",
                                     f"<{reply_name}>: {reply_class} rejected: defer_if_permit requested")

    def r_defer_if_reject(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        self.defer_if(self.defer_if_reject, MAIL_ERROR_POLICY, 450, "4.7.0",
                      f"<{reply_name}>: {reply_class} rejected: defer_if_reject requested")
        return SMTPD_CHECK_DUNNO

    def r_sleep(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        if arg is None or not arg.isdigit():
            self.reject_server_error("restriction sleep must be followed by number")
        self.note_cur(f"smtpd would pause {arg} seconds")
        return SMTPD_CHECK_DUNNO

    def r_reject_plaintext_session(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        return self.check_reject(MAIL_ERROR_POLICY, self.pint("plaintext_reject_code", 450), "4.7.1",
                                 "Session encryption is required")

    # client
    def r_reject_unknown_client_hostname(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        # also reject_unknown_client
        if not self.name_status_ok:
            return self.check_reject(MAIL_ERROR_POLICY, self.pint("unknown_client_reject_code", 450),
                                     "4.7.25",
                                     f"Client host rejected: cannot find your hostname, [{self.client_addr}]")
        return SMTPD_CHECK_DUNNO

    def r_reject_unknown_reverse_client_hostname(self, name, orig, arg, reply_name, reply_class,
                                                 def_acl) -> int:
        if not self.reverse_name_status_ok:
            return self.check_reject(MAIL_ERROR_POLICY, self.pint("unknown_client_reject_code", 450),
                                     "4.7.1",
                                     f"Client host rejected: cannot find your reverse hostname, [{self.client_addr}]")
        return SMTPD_CHECK_DUNNO

    def r_permit_inet_interfaces(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        mine = C._interface_addrs(self.main, "inet_interfaces")
        return SMTPD_CHECK_OK if self.client_addr in mine else SMTPD_CHECK_DUNNO

    def r_check_reverse_client_hostname_access(self, name, orig, arg, reply_name, reply_class,
                                               def_acl) -> int:
        st = self.check_namadr_access(arg, self.reverse_name, self.client_addr, self.reverse_name,
                                      NAME_REV_CLIENT, def_acl)
        self.forbid_allowlist(name, st, self.reverse_name)
        return st

    def r_reject_maps_rbl(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        st = SMTPD_CHECK_DUNNO
        for dom in self.plist("maps_rbl_domains"):
            st = self.reject_rbl_addr(dom, self.client_addr, NAME_CLIENT)
            if st != SMTPD_CHECK_DUNNO:
                break
        return st

    def r_reject_rbl_client(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        # also reject_rbl
        if arg is None:
            self.warnings.append(f"restriction {name} requires domain name argument")
            return SMTPD_CHECK_DUNNO
        return self.reject_rbl_addr(arg, self.client_addr, NAME_CLIENT)

    def r_permit_dnswl_client(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        if arg is None:
            return SMTPD_CHECK_DUNNO
        return self.permit_dnswl(arg, self.client_addr, NAME_CLIENT, is_addr=True)

    def r_reject_rhsbl_client(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        if arg is not None and self.client_name.lower() != "unknown":
            return self.reject_rbl_domain(arg, self.client_name, NAME_CLIENT)
        return SMTPD_CHECK_DUNNO

    def r_permit_rhswl_client(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        if arg is not None and self.client_name.lower() != "unknown":
            return self.permit_dnswl(arg, self.client_name, NAME_CLIENT, is_addr=False)
        return SMTPD_CHECK_DUNNO

    def r_reject_rhsbl_reverse_client(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        if arg is not None and self.reverse_name.lower() != "unknown":
            return self.reject_rbl_domain(arg, self.reverse_name, NAME_REV_CLIENT)
        return SMTPD_CHECK_DUNNO

    def r_check_ccert_access(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        self.note_cur("no TLS client certificate in this transaction")
        return SMTPD_CHECK_DUNNO

    def r_check_sasl_access(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        tx = self.tx
        if self.vp.sasl_enable:
            if tx.sasl_login:
                found, st = self.check_access(arg, tx.sasl_login, False, tx.sasl_login, NAME_SASL, def_acl)
                return st
            return SMTPD_CHECK_DUNNO
        self.warnings.append(f"restriction `{name}' ignored: no SASL support")
        self.note_cur("ignored: smtpd_sasl_auth_enable = no")
        return SMTPD_CHECK_DUNNO

    def r_check_client_server_access(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        # check_client_{ns,mx,a}_access
        if self.client_name.lower() != "unknown":
            st = self.check_server_access(arg, self.client_name, name.split("_")[2].upper(),
                                          self.namaddr, NAME_CLIENT, def_acl)
            self.forbid_allowlist(name, st, self.client_name)
            return st
        return SMTPD_CHECK_DUNNO

    def r_check_reverse_client_server_access(self, name, orig, arg, reply_name, reply_class,
                                             def_acl) -> int:
        # check_reverse_client_hostname_{ns,mx,a}_access
        if self.reverse_name.lower() != "unknown":
            st = self.check_server_access(arg, self.reverse_name, name.split("_")[4].upper(),
                                          self.reverse_name, NAME_REV_CLIENT, def_acl)
            self.forbid_allowlist(name, st, self.reverse_name)
            return st
        return SMTPD_CHECK_DUNNO

    # helo
    def r_reject_invalid_helo_hostname(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        # also reject_invalid_hostname
        helo = self.helo_name
        if helo is not None:
            if not helo.startswith("["):
                return self.reject_invalid_hostname(helo, helo, NAME_HELO)
            return self.reject_invalid_hostaddr(helo, helo, NAME_HELO)
        return SMTPD_CHECK_DUNNO

    def r_reject_unknown_helo_hostname(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        # also reject_unknown_hostname
        helo = self.helo_name
        if helo is not None:
            if not helo.startswith("["):
                return self.reject_unknown_hostname(helo, helo, NAME_HELO)
            return self.reject_invalid_hostaddr(helo, helo, NAME_HELO)
        return SMTPD_CHECK_DUNNO

    def r_permit_naked_ip_address(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        helo = self.helo_name
        self.warnings.append("restriction permit_naked_ip_address is deprecated")
        if helo is not None and helo and all(c in "0123456789.:" for c in helo):
            st = self.reject_invalid_hostaddr(helo, helo, NAME_HELO)
            if st == 0:
                return SMTPD_CHECK_OK
            return st
        return SMTPD_CHECK_DUNNO

    def r_check_helo_server_access(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        # check_helo_{ns,mx,a}_access
        helo = self.helo_name
        if helo is not None:
            st = self.check_server_access(arg, helo, name.split("_")[2].upper(), helo, NAME_HELO, def_acl)
            self.forbid_allowlist(name, st, helo)
            return st
        return SMTPD_CHECK_DUNNO

    def r_reject_non_fqdn_helo_hostname(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        # also reject_non_fqdn_hostname
        helo = self.helo_name
        if helo is not None:
            if not helo.startswith("["):
                return self.reject_non_fqdn_hostname(helo, helo, NAME_HELO)
            return self.reject_invalid_hostaddr(helo, helo, NAME_HELO)
        return SMTPD_CHECK_DUNNO

    def r_reject_rhsbl_helo(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        helo = self.helo_name
        if arg is not None and helo is not None:
            return self.reject_rbl_domain(arg, helo, NAME_HELO)
        return SMTPD_CHECK_DUNNO

    # sender
    def r_reject_unknown_sender_domain(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        # also reject_unknown_address
        sender = self.sender
        if sender:
            return self.reject_unknown_address(sender, sender, NAME_SENDER)
        return SMTPD_CHECK_DUNNO

    def r_reject_unverified_sender(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        sender = self.sender
        if sender:
            return self.reject_unverified(sender, NAME_SENDER)
        return SMTPD_CHECK_DUNNO

    def r_reject_non_fqdn_sender(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        sender = self.sender
        if sender:
            return self.reject_non_fqdn_address(sender, sender, NAME_SENDER)
        return SMTPD_CHECK_DUNNO

    def r_sender_login_mismatch(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        # reject_{authenticated,known,unauthenticated}_sender_login_mismatch and
        # reject_sender_login_mismatch
        sender = self.sender
        if not self.vp.sasl_enable:
            self.warnings.append(f"restriction `{name}' ignored: no SASL support")
            self.note_cur("ignored: smtpd_sasl_auth_enable = no")
            return SMTPD_CHECK_DUNNO
        if not sender:
            return SMTPD_CHECK_DUNNO
        if name == "reject_authenticated_sender_login_mismatch":
            return self.auth_sender_login_mismatch(sender, allow_unknown=False)
        if name == "reject_known_sender_login_mismatch":
            if self.tx.sasl_login:
                return self.auth_sender_login_mismatch(sender, allow_unknown=True)
            return self.unauth_sender_login_mismatch(sender)
        if name == "reject_unauthenticated_sender_login_mismatch":
            return self.unauth_sender_login_mismatch(sender)
        # reject_sender_login_mismatch: built-in class of the two above
        st = self.auth_sender_login_mismatch(sender, allow_unknown=False)
        if st:
            return st
        return self.unauth_sender_login_mismatch(sender)

    def r_check_sender_server_access(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        # check_sender_{ns,mx,a}_access
        sender = self.sender
        if sender:
            st = self.check_server_access(arg, sender, name.split("_")[2].upper(), sender, NAME_SENDER, def_acl)
            self.forbid_allowlist(name, st, sender)
            return st
        return SMTPD_CHECK_DUNNO

    def r_reject_rhsbl_sender(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        sender = self.sender
        if arg is not None and sender:
            return self.reject_rbl_domain(arg, sender, NAME_SENDER)
        return SMTPD_CHECK_DUNNO

    def r_reject_unlisted_sender(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        sender = self.sender
        if sender:
            return self.check_sender_rcpt_maps(sender)
        return SMTPD_CHECK_DUNNO

    # recipient
    def r_permit_mx_backup(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        rcpt = self.recipient
        if rcpt is not None:
            return self.permit_mx_backup(rcpt, rcpt, NAME_RECIPIENT)
        return SMTPD_CHECK_DUNNO

    def r_permit_auth_destination(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        rcpt = self.recipient
        if rcpt is not None:
            return self.permit_auth_destination(rcpt)
        return SMTPD_CHECK_DUNNO

    def r_defer_unauth_destination(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        rcpt = self.recipient
        if rcpt is not None:
            return self.reject_unauth_destination(rcpt, self.pint("relay_domains_reject_code", 554) - 100,
                                                  "4.7.1")
        return SMTPD_CHECK_DUNNO

    def r_check_relay_domains(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        rcpt = self.recipient
        st = SMTPD_CHECK_DUNNO
        if rcpt is not None:
            st = self.check_relay_domains(rcpt, rcpt, NAME_RECIPIENT)
        return st

    def r_permit_sasl_authenticated(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        tx = self.tx
        if self.vp.sasl_enable:
            if tx.sasl_login:
                self.note_cur(f"client authenticated as {tx.sasl_login}")
                return SMTPD_CHECK_OK
            self.note_cur("client did not authenticate")
        else:
            self.note_cur("SASL is off on this service (smtpd_sasl_auth_enable = no)")
        return SMTPD_CHECK_DUNNO

    def r_permit_tls_clientcerts(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        # also permit_tls_all_clientcerts
        self.note_cur("no TLS client certificate in this transaction: never matches")
        return SMTPD_CHECK_DUNNO

    def r_reject_unknown_recipient_domain(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        rcpt = self.recipient
        if rcpt is not None:
            return self.reject_unknown_address(rcpt, rcpt, NAME_RECIPIENT)
        return SMTPD_CHECK_DUNNO

    def r_reject_non_fqdn_recipient(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        rcpt = self.recipient
        if rcpt is not None:
            return self.reject_non_fqdn_address(rcpt, rcpt, NAME_RECIPIENT)
        return SMTPD_CHECK_DUNNO

    def r_check_recipient_server_access(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        # check_recipient_{ns,mx,a}_access
        rcpt = self.recipient
        if rcpt:
            st = self.check_server_access(arg, rcpt, name.split("_")[2].upper(), rcpt, NAME_RECIPIENT, def_acl)
            self.forbid_allowlist(name, st, rcpt)
            return st
        return SMTPD_CHECK_DUNNO

    def r_reject_rhsbl_recipient(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        rcpt = self.recipient
        if arg is not None and rcpt is not None:
            return self.reject_rbl_domain(arg, rcpt, NAME_RECIPIENT)
        return SMTPD_CHECK_DUNNO

    def r_reject_multi_recipient_bounce(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        sender = self.sender
        if sender is not None and sender == "" and self.rcpt_count > (0 if self.where == "RCPT" else 1):
            return self.check_reject(MAIL_ERROR_POLICY, self.pint("multi_recipient_bounce_reject_code", 550),
                                     "5.5.3", f"<{reply_name}>: {reply_class} rejected: Multi-recipient bounce")
        self.note_cur("one recipient in this transaction")
        return SMTPD_CHECK_DUNNO

    def r_reject_unverified_recipient(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        rcpt = self.recipient
        if rcpt:
            return self.reject_unverified(rcpt, NAME_RECIPIENT)
        return SMTPD_CHECK_DUNNO

    def r_check_etrn_access(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        return SMTPD_CHECK_DUNNO

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

    # ------------------------------------------------------------ access tables
    def check_table_result(self, table: str, value: str, datum: str, reply_name: str,
                           reply_class: str, def_acl) -> int:
        v = value
        sp = len(v) - len(v.lstrip(" \t"))
        v = v.lstrip(" \t") if sp else v
        idx = 0
        while idx < len(v) and v[idx] not in " \t":
            idx += 1
        cmd = v[:idx]
        text = v[idx:].lstrip(" \t")
        ucmd = cmd.upper()
        self.note_cur(f"table result: {value}")
        if ucmd == "DUNNO":
            if self.cur is not None:
                self.cur.outcome = DUNNO
            return SMTPD_CHECK_DUNNO
        if ucmd == "REJECT":
            dsn, t = dsn_split("5.7.1", text)
            return self.check_reject(MAIL_ERROR_POLICY, self.pint("access_map_reject_code", 554),
                                     dsn_fix(dsn, reply_class),
                                     f"<{reply_name}>: {reply_class} rejected: {t or 'Access denied'}")
        if ucmd == "DEFER":
            dsn, t = dsn_split("4.7.1", text)
            return self.check_reject(MAIL_ERROR_POLICY, self.pint("access_map_defer_code", 450),
                                     dsn_fix(dsn, reply_class),
                                     f"<{reply_name}>: {reply_class} rejected: {t or 'Access denied'}")
        if ucmd == "HANGUP":
            self.note_cur("HANGUP: smtpd drops the connection without a reply (test feature)")
            return self.check_reject(MAIL_ERROR_POLICY, 421, "4.7.0", "connection dropped (HANGUP)")
        if ucmd in ("INFO", "WARN"):
            if self.cur is not None:
                self.cur.outcome = WARN if ucmd == "WARN" else DUNNO
            self.note_cur(f"{ucmd}: logged, evaluation goes on")
            return SMTPD_CHECK_DUNNO
        if ucmd in ("FILTER", "HOLD", "REDIRECT", "BCC", "PREPEND", "DISCARD"):
            if self.sender is None:
                self.note_cur(f"action {ucmd} is always skipped in client or helo restrictions "
                              f"with smtpd_delay_reject = no")
                if self.cur is not None:
                    self.cur.outcome = DUNNO
                return SMTPD_CHECK_DUNNO
            if ucmd == "DISCARD":
                self.discard = True
                self.note_cur("DISCARD: the message is accepted and silently discarded")
                return SMTPD_CHECK_OK
            if ucmd == "FILTER" and (not text or ":" not in text):
                self.note_cur("FILTER without transport:destination is ignored")
            elif ucmd in ("REDIRECT", "BCC") and "@" not in text:
                self.note_cur(f"{ucmd} requires user@domain target: ignored")
            else:
                self.note_cur(f"{ucmd} {text}: recorded for the message, does not decide the reply")
            if self.cur is not None:
                self.cur.outcome = DUNNO
            return SMTPD_CHECK_DUNNO
        if ucmd == "DEFER_IF_PERMIT":
            dsn, t = dsn_split("4.7.1", text)
            return self.defer_if_permit2(None, MAIL_ERROR_POLICY, self.pint("access_map_defer_code", 450),
                                         dsn_fix(dsn, reply_class),
                                         f"<{reply_name}>: {reply_class} rejected: {t or 'Service unavailable'}")
        if ucmd == "DEFER_IF_REJECT":
            dsn, t = dsn_split("4.7.1", text)
            self.defer_if(self.defer_if_reject, MAIL_ERROR_POLICY, self.pint("access_map_defer_code", 450),
                          dsn_fix(dsn, reply_class),
                          f"<{reply_name}>: {reply_class} rejected: {t or 'Service unavailable'}")
            return SMTPD_CHECK_DUNNO
        if v and v.isdigit():
            return SMTPD_CHECK_OK
        if len(cmd) == 3 and text and cmd[0] in "45" and cmd[1].isdigit() and cmd[2].isdigit():
            code = int(cmd)
            dsn, t = dsn_split(cmd[0] + ".7.1", text)
            return self.check_reject(MAIL_ERROR_POLICY, code, dsn_fix(dsn, reply_class),
                                     f"<{reply_name}>: {reply_class} rejected: {t or 'Access denied'}")
        if ucmd in ("OK", "RELAY"):
            return SMTPD_CHECK_OK
        if ":" in v:
            self.reject_server_error(f"access table {table} has entry with lookup table: {v}")
        if self.recursion > 100:
            self.reject_server_error(f"access table {table} entry {v} causes unreasonable recursion")
        restrictions = [x for x in v.replace(",", " ").replace("\t", " ").split(" ") if x]
        if not restrictions:
            self.warnings.append(f"access table {table} entry {value} has empty value")
            return SMTPD_CHECK_OK
        src = None
        return self.generic_checks(f"{table} result", [(r, src) for r in _split_restrictions(v)],
                                   reply_name, reply_class, def_acl)

    def _lookup(self, table: str, key: str, partial: bool):
        # recorded straight into the current step (add_lookups' target)
        return C.table_lookup(self.tables, self.view, table, key,
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
        tables, view, stack = self.tables, self.view, self.stack
        lk = stack[-1].lookups if stack else []   # the current step's
        lookup = C.table_lookup
        while name:
            # check_access() inlined
            n = len(lk)
            found, value, err = lookup(tables, view, table, name, lk, partial)
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
        tables, view, stack = self.tables, self.view, self.stack
        lk = stack[-1].lookups if stack else []   # the current step's
        lookup = C.table_lookup
        while True:
            # check_access() inlined
            n = len(lk)
            found, value, err = lookup(tables, view, table, addr, lk, partial)
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
        for key, partial in C.mail_addr_keys(self, self.view, r.recipient, "access"):
            found, value, err = C.table_lookup(self.tables, self.view, table, key, lk, partial)
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

    def check_server_access(self, table, name, rrtype, reply_name, reply_class, def_acl) -> int:
        domain = name.rsplit("@", 1)[1] if "@" in name else name
        if domain.startswith("["):
            if rrtype not in ("A", "MX") or not domain.endswith("]"):
                return SMTPD_CHECK_DUNNO
            bare = domain[1:-1]
            if bare.lower().startswith("ipv6:"):
                bare = bare[5:]
            if not valid_hostaddr(bare):
                return SMTPD_CHECK_DUNNO
            found, st = self.check_addr_access(table, bare, reply_name, reply_class, def_acl)
            return st
        if rrtype == "A":
            servers = [domain]
        else:
            ans = self.dns(domain, rrtype)
            if ans.status == UNKNOWN:
                return self.needs_dns(f"{rrtype} lookup of {domain}")
            if ans.status == NULLMX:
                return SMTPD_CHECK_DUNNO
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
                return SMTPD_CHECK_DUNNO
            servers = list(ans.records)
        for server in servers:
            if valid_hostaddr(server):
                found, st = self.check_addr_access(table, server, reply_name, reply_class, def_acl)
                if st or found:
                    return st
                continue
            if rrtype != "A":
                found, st = self.check_domain_access(table, server, reply_name, reply_class, def_acl)
                if st or found:
                    return st
            a = self.dns(server, "A")
            if a.status == UNKNOWN:
                self.needs_dns(f"address lookup of {server}")
                continue
            for ip in a.records:
                found, st = self.check_addr_access(table, ip, reply_name, reply_class, def_acl)
                if st or found:
                    return st
        return SMTPD_CHECK_DUNNO

    # ------------------------------------------------------------ client
    def permit_mynetworks(self) -> int:
        vp = self.vp
        items = vp.mynetworks
        lk: list = []
        m = C.namadr_list_match(self.tables, self.view, items, self.client_name, self.client_addr,
                                vp.parent_mynetworks, lk)
        self.add_lookups(lk)
        if m.matched:
            self.note_cur(f"client {self.namaddr} matches mynetworks entry {m.pattern}")
            return SMTPD_CHECK_OK
        if m.error:
            self.note_cur(f"mynetworks lookup error: {m.error}")
            return DICT_ERR_RETRY
        if m.pattern is not None:
            self.note_cur(f"client {self.namaddr} excluded by mynetworks entry !{m.pattern}")
        else:
            self.note_cur(f"client {self.namaddr} is not in mynetworks ({', '.join(items) or 'empty'})")
        return SMTPD_CHECK_DUNNO

    # ------------------------------------------------------------ hostname syntax
    @staticmethod
    def _truncate(name: str) -> str:
        if len(name) > 1 and name.endswith(".") and name[-2] != ".":
            return name[:-1]
        return name

    def reject_invalid_hostaddr(self, addr, reply_name, reply_class) -> int:
        test = addr[1:-1] if (addr.startswith("[") and len(addr) > 2 and addr.endswith("]")) else addr
        t = test[5:] if test.lower().startswith("ipv6:") else test
        ok = valid_hostaddr(t) and (test.lower().startswith("ipv6:") == (":" in t))
        if not ok:
            return self.check_reject(MAIL_ERROR_POLICY, self.pint("invalid_hostname_reject_code", 501), "5.5.2",
                                     f"<{reply_name}>: {reply_class} rejected: invalid ip address")
        return SMTPD_CHECK_DUNNO

    def reject_invalid_hostname(self, name, reply_name, reply_class) -> int:
        t = self._truncate(name)
        if not valid_hostname(t) and not valid_hostaddr(t):
            return self.check_reject(MAIL_ERROR_POLICY, self.pint("invalid_hostname_reject_code", 501), "5.5.2",
                                     f"<{reply_name}>: {reply_class} rejected: Invalid name")
        return SMTPD_CHECK_DUNNO

    def reject_non_fqdn_hostname(self, name, reply_name, reply_class) -> int:
        t = self._truncate(name)
        if not valid_hostname(t) or "." not in t:
            return self.check_reject(MAIL_ERROR_POLICY, self.pint("non_fqdn_reject_code", 504), "5.5.2",
                                     f"<{reply_name}>: {reply_class} rejected: need fully-qualified hostname")
        return SMTPD_CHECK_DUNNO

    def reject_unknown_hostname(self, name, reply_name, reply_class) -> int:
        a = self.dns(name, "A")
        if a.status == UNKNOWN:
            return self.needs_dns(f"A/AAAA/MX lookup of {name}")
        st = a.status
        if st != DNS_OK:
            mx = self.dns(name, "MX")
            st = mx.status if mx.status in (DNS_OK, NULLMX, TEMPFAIL) else st
        if st in (DNS_OK, NULLMX):
            return SMTPD_CHECK_DUNNO
        if st != TEMPFAIL:
            return self.check_reject(MAIL_ERROR_POLICY, self.pint("unknown_hostname_reject_code", 450), "4.7.1",
                                     f"<{reply_name}>: {reply_class} rejected: Host not found")
        return self.defer_if_permit2("unknown_helo_hostname_tempfail_action", MAIL_ERROR_POLICY, 450, "4.7.1",
                                     f"<{reply_name}>: {reply_class} rejected: Host not found")

    def reject_unknown_mailhost(self, name, reply_name, reply_class) -> int:
        is_sender = reply_class == NAME_SENDER
        mx = self.dns(name, "MX")
        if mx.status == UNKNOWN:
            return self.needs_dns(f"MX/A lookup of {name}")
        st = mx.status
        if st == NOTFOUND:
            a = self.dns(name, "A")
            st = a.status
        if st == DNS_OK:
            return SMTPD_CHECK_DUNNO
        if st == NULLMX:
            return self.check_reject(MAIL_ERROR_POLICY, 550 if is_sender else 556,
                                     "4.7.27" if is_sender else "4.1.10",
                                     f"<{reply_name}>: {reply_class} rejected: Domain {name} "
                                     f"does not accept mail (nullMX)")
        if st != TEMPFAIL:
            return self.check_reject(MAIL_ERROR_POLICY, self.pint("unknown_address_reject_code", 450),
                                     "4.1.8" if is_sender else "4.1.2",
                                     f"<{reply_name}>: {reply_class} rejected: Domain not found")
        return self.defer_if_permit2("unknown_address_tempfail_action", MAIL_ERROR_POLICY, 450,
                                     "4.1.8" if is_sender else "4.1.2",
                                     f"<{reply_name}>: {reply_class} rejected: Domain not found")

    def reject_unknown_address(self, addr, reply_name, reply_class) -> int:
        r = self.resolve(addr)
        if "@" not in r.recipient:
            return SMTPD_CHECK_DUNNO
        domain = r.recipient.rsplit("@", 1)[1]
        if r.address_class in (C.CLASS_LOCAL, C.CLASS_ALIAS, C.CLASS_VIRTUAL):
            self.note_cur(f"{domain} is a {r.address_class} domain: no DNS check")
            return SMTPD_CHECK_DUNNO
        if domain.startswith("[") and domain.endswith("]"):
            return SMTPD_CHECK_DUNNO
        return self.reject_unknown_mailhost(domain, reply_name, reply_class)

    def reject_non_fqdn_address(self, addr, reply_name, reply_class) -> int:
        domain = addr.rsplit("@", 1)[1] if "@" in addr else ""
        if domain.startswith("[") and domain.endswith("]"):
            return SMTPD_CHECK_DUNNO
        t = self._truncate(domain)
        if not t or not valid_hostname(t) or "." not in t:
            return self.check_reject(MAIL_ERROR_POLICY, self.pint("non_fqdn_reject_code", 504), "4.5.2",
                                     f"<{reply_name}>: {reply_class} rejected: need fully-qualified address")
        return SMTPD_CHECK_DUNNO

    def reject_unverified(self, addr, reply_class) -> int:
        self.conditional = True
        if self.cur is not None:
            self.cur.conditional = True
            self.cur.outcome = NOT_EVALUATED
        self.note_cur("address verification (verify service) not run: assumed deliverable; a real "
                      "smtpd probes the address and may answer 450 while the probe is in progress")
        return SMTPD_CHECK_DUNNO

    # ------------------------------------------------------------ relay
    def permit_auth_destination(self, recipient: str) -> int:
        r = self.resolve(recipient)
        if "@" not in r.recipient:
            return SMTPD_CHECK_OK
        domain = r.recipient.rsplit("@", 1)[1]
        self._last_resolved = r
        if not self.vp.allow_untrusted_routing and r.routed:
            self.note_cur(f"{recipient}: sender-specified routing is never authorised "
                          f"(allow_untrusted_routing = no)")
            return SMTPD_CHECK_DUNNO
        if r.address_class in (C.CLASS_LOCAL, C.CLASS_ALIAS, C.CLASS_VIRTUAL):
            self.note_cur(f"domain {domain} is in address class {C.CLASS_TEXT[r.address_class]}"
                          + (f", matched {r.class_pattern}" if r.class_pattern else ""))
            return SMTPD_CHECK_OK
        if r.address_class == C.CLASS_RELAY:
            self.note_cur(f"domain {domain} matches relay_domains entry {r.class_pattern}")
            return SMTPD_CHECK_OK
        self.note_cur(f"domain {domain} is in none of mydestination, virtual_alias_domains, "
                      f"virtual_mailbox_domains, relay_domains")
        return SMTPD_CHECK_DUNNO

    def reject_unauth_destination(self, recipient: str, code: int, dsn: str) -> int:
        if self.permit_auth_destination(recipient) == SMTPD_CHECK_OK:
            return SMTPD_CHECK_DUNNO
        return self.check_reject(MAIL_ERROR_POLICY, code, dsn, f"<{recipient}>: Relay access denied")

    def check_relay_domains(self, recipient, reply_name, reply_class) -> int:
        lk: list = []
        m = C.domain_list_match(self.tables, self.view, self.plist("relay_domains"), self.client_name,
                                C.parent_style(self.view, "relay_domains"), lk)
        self.add_lookups(lk)
        if m.matched:
            return SMTPD_CHECK_OK
        if self.permit_auth_destination(recipient) == SMTPD_CHECK_OK:
            return SMTPD_CHECK_OK
        return self.check_reject(MAIL_ERROR_POLICY, self.pint("relay_domains_reject_code", 554), "5.7.1",
                                 f"<{reply_name}>: {reply_class} rejected: Relay access denied")

    def permit_mx_backup(self, recipient, reply_name, reply_class) -> int:
        r = self.resolve(recipient)
        if "@" not in r.recipient:
            return SMTPD_CHECK_OK
        domain = r.recipient.rsplit("@", 1)[1]
        if not self.vp.allow_untrusted_routing and r.routed:
            return SMTPD_CHECK_DUNNO
        if r.address_class in (C.CLASS_LOCAL, C.CLASS_ALIAS, C.CLASS_VIRTUAL, C.CLASS_RELAY):
            return SMTPD_CHECK_OK
        if domain.startswith("[") and domain.endswith("]"):
            return SMTPD_CHECK_DUNNO
        mx = self.dns(domain, "MX")
        if mx.status == UNKNOWN:
            return self.needs_dns(f"MX lookup of {domain}")
        if mx.status != DNS_OK:
            if mx.status == TEMPFAIL:
                self.defer_if(self.defer_if_reject, MAIL_ERROR_POLICY, 450, "4.4.4",
                              f"<{reply_name}>: {reply_class} rejected: Unable to look up mail "
                              f"exchanger information: Host not found, try again")
            return SMTPD_CHECK_DUNNO
        self.note_cur("MX hosts found; whether this host is a backup MX needs its own addresses: "
                      "assumed not")
        self.conditional = True
        return SMTPD_CHECK_DUNNO

    # ------------------------------------------------------------ DNSBL
    def reject_rbl_addr(self, rbl_domain: str, addr: str, reply_class: str) -> int:
        zone, _, codes = rbl_domain.partition("=")
        q = dnsxl_query(addr, zone)
        ans = self.dns(q, "A")
        if ans.status == UNKNOWN:
            return self.needs_dns(f"DNSBL lookup {q}")
        if ans.status != DNS_OK or (codes and not _rbl_match(ans.records, codes)):
            return SMTPD_CHECK_DUNNO
        return self.rbl_reject_reply(zone, addr, reply_class, ans)

    def reject_rbl_domain(self, rbl_domain: str, what: str, reply_class: str) -> int:
        zone, _, codes = rbl_domain.partition("=")
        domain = what.rsplit("@", 1)[1] if "@" in what else what
        if not domain or domain.startswith("["):
            return SMTPD_CHECK_DUNNO
        suffix = domain.rsplit(".", 1)[-1]
        if suffix.isdigit() or not valid_hostname(domain):
            return SMTPD_CHECK_DUNNO
        q = f"{domain}.{zone}"
        ans = self.dns(q, "A")
        if ans.status == UNKNOWN:
            return self.needs_dns(f"RHSBL lookup {q}")
        if ans.status != DNS_OK or (codes and not _rbl_match(ans.records, codes)):
            return SMTPD_CHECK_DUNNO
        return self.rbl_reject_reply(zone, what, reply_class, ans)

    def permit_dnswl(self, dnswl: str, what: str, reply_class: str, is_addr: bool) -> int:
        if self.where == "RCPT" and self.recipient is not None:
            if self.permit_auth_destination(self.recipient) != SMTPD_CHECK_OK:
                return SMTPD_CHECK_DUNNO
        zone, _, codes = dnswl.partition("=")
        q = dnsxl_query(what, zone) if is_addr else f"{what}.{zone}"
        ans = self.dns(q, "A")
        if ans.status == UNKNOWN:
            return self.needs_dns(f"DNSWL lookup {q}")
        if ans.status == TEMPFAIL:
            self.defer_if(self.defer_if_reject, MAIL_ERROR_POLICY, 450, "4.7.1",
                          f"<{what}>: {reply_class} rejected: Service unavailable")
            return SMTPD_CHECK_DUNNO
        if ans.status == DNS_OK and (not codes or _rbl_match(ans.records, codes)):
            return SMTPD_CHECK_OK
        return SMTPD_CHECK_DUNNO

    def rbl_reply_text(self, zone: str, what: str, reply_class: str) -> str:
        code = str(self.pint("maps_rbl_reject_code", 554))
        template = None
        specs = self.plist("rbl_reply_maps")
        if specs:
            lk: list = []
            value, err, _spec = C.maps_find(self.tables, self.view, specs, zone, lk)
            self.add_lookups(lk)
            if err:
                self.reject_server_error(f"rbl_reply_maps lookup error: {err}")
            template = value
        if template is None:
            try:
                template = self.view.raw("default_rbl_reply") or ""
            except Exception:
                template = ""
            if not template:
                template = ("$rbl_code Service unavailable; $rbl_class [$rbl_what] blocked using "
                            "$rbl_domain${rbl_reason?; $rbl_reason}")
        vals = {"rbl_code": code, "rbl_class": reply_class, "rbl_what": what, "rbl_domain": zone,
                "rbl_reason": "", "rbl_txt": "", "client": self.namaddr, "client_address": self.client_addr,
                "client_name": self.client_name, "helo_name": self.helo_name or "",
                "sender": self.sender or "", "recipient": self.recipient or "",
                "sender_name": (self.sender or "").split("@")[0], "recipient_name": (self.recipient or "").split("@")[0],
                "sender_domain": (self.sender or "").rpartition("@")[2],
                "recipient_domain": (self.recipient or "").rpartition("@")[2],
                "reverse_client_name": self.reverse_name}
        return _mac_expand(template, vals)

    def rbl_reject_reply(self, zone: str, what: str, reply_class: str, ans) -> int:
        why = self.rbl_reply_text(zone, what, reply_class)
        if len(why) < 4 or why[0] not in "45" or not why[1:3].isdigit() or why[3] != " ":
            return self.check_reject(MAIL_ERROR_POLICY, 450, "4.7.1", "Service unavailable")
        code = int(why[:3])
        dsn, t = dsn_split("4.7.1", why[4:])
        return self.check_reject(MAIL_ERROR_POLICY, code, dsn_fix(dsn, reply_class), t or "Service unavailable")

    # ------------------------------------------------------------ SASL sender ownership
    def sender_owners(self, sender: str) -> str | None:
        """The SASL logins that smtpd_sender_login_maps gives for the resolved
        SENDER (None when not listed); a lookup error defers like smtpd."""
        r = self.resolve(sender)
        specs = self.plist("smtpd_sender_login_maps")
        lk: list = []
        try:
            owners, _key, _spec = C.mail_addr_find(self, self.view, specs, r.recipient, lk)
        except TableFailure as exc:
            self.add_lookups(lk)
            self.reject_dict_retry(sender, exc.message)
        self.add_lookups(lk)
        return owners

    def auth_sender_login_mismatch(self, sender: str, allow_unknown: bool) -> int:
        login = self.tx.sasl_login
        if not login:
            return SMTPD_CHECK_DUNNO
        owners = self.sender_owners(sender)
        found = False
        if owners is not None:
            for o in owners.replace(",", " ").split():
                if o.lower() == login.lower():
                    found = True
                    break
        elif allow_unknown:
            return SMTPD_CHECK_DUNNO
        if not found:
            return self.check_reject(MAIL_ERROR_POLICY, 553, "5.7.1",
                                     f"<{sender}>: Sender address rejected: not owned by user {login}")
        self.note_cur(f"{sender} is owned by {login}")
        return SMTPD_CHECK_DUNNO

    def unauth_sender_login_mismatch(self, sender: str) -> int:
        if self.tx.sasl_login:
            return SMTPD_CHECK_DUNNO
        owners = self.sender_owners(sender)
        if owners is not None:
            return self.check_reject(MAIL_ERROR_POLICY, 553, "5.7.1",
                                     f"<{sender}>: Sender address rejected: not logged in")
        return SMTPD_CHECK_DUNNO

    # ------------------------------------------------------------ recipient validation
    def check_recipient_rcpt_maps(self, recipient: str) -> int:
        if self.vp.no_unknown_rcpt_checks:
            self.note_cur("skipped: receive_override_options = no_unknown_recipient_checks")
            return SMTPD_CHECK_DUNNO
        if self.recipient_rcptmap_checked:
            self.note_cur("already checked")
            return SMTPD_CHECK_DUNNO
        if self.warn_if_reject == 0:
            self.recipient_rcptmap_checked = True
        return self.check_rcpt_maps(recipient, NAME_RECIPIENT)

    def check_sender_rcpt_maps(self, sender: str) -> int:
        if self.vp.no_unknown_rcpt_checks:
            self.note_cur("skipped: receive_override_options = no_unknown_recipient_checks")
            return SMTPD_CHECK_DUNNO
        if self.sender_rcptmap_checked:
            self.note_cur("already checked")
            return SMTPD_CHECK_DUNNO
        if self.warn_if_reject == 0:
            self.sender_rcptmap_checked = True
        return self.check_rcpt_maps(sender, NAME_SENDER)

    def check_rcpt_maps(self, address: str, reply_class: str) -> int:
        try:
            v = C.validate_recipient(self, address, reply_class)
        except TableFailure as exc:
            self.add_lookups(exc.lookups)
            self.reject_dict_retry(address, exc.message)
        self.add_lookups(v.lookups)
        self.validation = v
        if v.ok:
            if v.matched_param:
                self.note_cur(f"{address} found in {v.matched_param} ({v.matched_spec}, key {v.matched_key})")
            elif v.resolved is not None:
                self.note_cur(f"{address}: address class {v.resolved.address_class}; no table rejects it")
            return SMTPD_CHECK_DUNNO
        return self.check_reject(MAIL_ERROR_BOUNCE, v.code, dsn_fix(v.dsn, reply_class),
                                 f"<{address}>: {reply_class} rejected: {v.text}")

    # ------------------------------------------------------------ stages
    def client_stage(self) -> int:
        self.defer_if_permit.active = False
        self.reset()
        items = self.vp.client_list
        status = 0
        try:
            if items:
                status = self.generic_checks("smtpd_client_restrictions", items, self.namaddr,
                                             NAME_CLIENT, "check_client_access")
        except _Longjmp as lj:
            status = lj.status
        self.dip_client = self.defer_if_permit.active
        return status

    def helo_stage(self, helo: str | None) -> int:
        if helo is None:
            return 0
        saved = self.helo_name
        self.helo_name = helo
        self.defer_if_permit.active = self.dip_client
        self.reset()
        items = self.vp.helo_list
        status = 0
        try:
            if items:
                status = self.generic_checks("smtpd_helo_restrictions", items, helo, NAME_HELO,
                                             "check_helo_access")
        except _Longjmp as lj:
            status = lj.status
        self.dip_helo = self.defer_if_permit.active
        self.helo_name = saved if saved is not None else helo
        return status

    def mail_stage(self, sender: str | None) -> int:
        if sender is None:
            return 0
        saved = self.sender
        self.sender = sender
        self.defer_if_permit.active = self.dip_client or self.dip_helo
        self.sender_rcptmap_checked = False
        self.reset()
        items = self.vp.sender_list
        status = 0
        try:
            if items:
                status = self.generic_checks("smtpd_sender_restrictions", items, sender, NAME_SENDER,
                                             "check_sender_access")
        except _Longjmp as lj:
            status = lj.status
        self.dip_sender = self.defer_if_permit.active
        if (self.vp.reject_unlisted_sender and status != SMTPD_CHECK_REJECT
                and not self.sender_rcptmap_checked and not self.discard and sender):
            sb = self.begin("smtpd_reject_unlisted_sender", "reject_unlisted_sender (implicit)", None,
                            self.vp.src_unlisted_sender)
            try:
                status = self.check_sender_rcpt_maps(sender)
            except _Longjmp as lj:
                status = lj.status
            sb.outcome = (REJECT if self.error_text[:1] == "5" else DEFER) if status == SMTPD_CHECK_REJECT else NO_MATCH
            self.end(sb)
        self.sender = saved if saved is not None else sender
        return status

    def reset(self) -> None:
        self.recursion = 0
        self.warn_if_reject = 0
        self.defer_if_reject.active = False

    def rcpt_stage(self, recipient: str) -> int:
        self.recipient = recipient
        self.recipient_rcptmap_checked = False
        self.where = "RCPT"
        self.rcpt_count = 0
        vp = self.vp
        if vp.delay_reject:
            if self.client_stage() == SMTPD_CHECK_REJECT:
                return SMTPD_CHECK_REJECT
            if self.helo_stage(self.helo_name) == SMTPD_CHECK_REJECT:
                return SMTPD_CHECK_REJECT
            if self.mail_stage(self.sender) == SMTPD_CHECK_REJECT:
                return SMTPD_CHECK_REJECT
        self.defer_if_permit.active = self.dip_sender
        self.reset()
        warn_compat_relay = vp.compat_level < 1 and not vp.relay_explicit
        rcpt_first = not (vp.relay_before_rcpt and not warn_compat_relay)
        rcpt_items = ("smtpd_recipient_restrictions", vp.recipient_list)
        if warn_compat_relay:
            relay_items = ("smtpd_relay_restrictions", [])
            self.notes.append("compatibility_level < 1 and smtpd_relay_restrictions not set: "
                              "smtpd uses an empty relay restriction list (only logs what the "
                              "new default would block)")
        else:
            relay_items = ("smtpd_relay_restrictions", vp.relay_list)
        order = [rcpt_items, relay_items] if rcpt_first else [relay_items, rcpt_items]
        status = 0
        for pname, items in order:
            try:
                status = 0
                if items:
                    status = self.generic_checks(pname, items, recipient, NAME_RECIPIENT, "check_recipient_access")
            except _Longjmp as lj:
                status = lj.status
            if status == SMTPD_CHECK_REJECT:
                break
        if status != SMTPD_CHECK_REJECT and self.defer_if_permit.active:
            d = self.defer_if_permit
            sb = self.begin("defer_if_permit", "deferred permit", None, None)
            sb.detail = "an earlier restriction asked to turn a permit into a temporary error"
            status = self.check_reject(d.cls, d.code, d.dsn, d.reason)
            sb.outcome = DEFER
            if d.step is not None and self.decider is sb:
                self.decider = d.step
                d.step.outcome = DEFER
                d.step.reply = self.error_text
            self.end(sb)
        if (vp.reject_unlisted_recipient and status != SMTPD_CHECK_REJECT
                and not self.recipient_rcptmap_checked and not self.discard):
            sb = self.begin("smtpd_reject_unlisted_recipient", "reject_unlisted_recipient (implicit)", None,
                            vp.src_unlisted_recipient)
            try:
                status = self.check_recipient_rcpt_maps(recipient)
            except _Longjmp as lj:
                status = lj.status
            sb.outcome = (REJECT if self.error_text[:1] == "5" else DEFER) if status == SMTPD_CHECK_REJECT else NO_MATCH
            self.end(sb)
        return status

    def compat_level(self) -> float:
        return self.vp.compat_level

    # ------------------------------------------------------------ startup
    def startup_errors(self) -> list[str]:
        """The checks smtpd makes when it starts: they depend only on the
        configuration, so they run once per service view of a Config."""
        got = self.vp.startup_errors
        if got is None:
            got = self.vp.startup_errors = tuple(self._startup_errors())
        return list(got)

    def _startup_errors(self) -> list[str]:
        errs: list[str] = []
        classes = self.plist("smtpd_restriction_classes")
        for c in classes:
            try:
                val = self.view.expand(c)
            except Exception:
                val = None
            if not val:
                errs.append(f"fatal: restriction class `{c}' needs a definition")
        if errs:
            return errs

        def has_required(items: list[str], seen: tuple = ()) -> bool:
            i = 0
            while i < len(items):
                r = items[i]
                lr = r.lower()
                if lr == "warn_if_reject" and i + 1 < len(items):
                    i += 2
                    continue
                if lr == "permit":
                    return False
                if lr in RCPT_REQUIRED:
                    return True
                if r in classes and r not in seen:
                    if has_required(C._list(self.view, r), seen + (r,)):
                        return True
                i += 1
            return False

        rcpt = self.plist("smtpd_recipient_restrictions")
        relay = self.plist("smtpd_relay_restrictions")
        if not has_required(rcpt) and not has_required(relay):
            errs.append("fatal: in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, "
                        "specify at least one working instance of: reject_unauth_destination, "
                        "defer_unauth_destination, reject, defer, defer_if_permit or check_relay_domains")
        for p in ("unknown_helo_hostname_tempfail_action", "unknown_address_tempfail_action",
                  "unverified_recipient_tempfail_action", "unverified_sender_tempfail_action"):
            v = self.p(p).strip().lower()
            if v not in ("defer", "defer_if_permit"):
                errs.append(f"fatal: bad configuration: {p} = {v}")
        return errs

    # ------------------------------------------------------------ driver
    def run(self) -> Trace:
        tx = self.tx
        errs = self.vp.startup_errors
        if errs is None:
            errs = self.startup_errors()
        if errs:
            errs = list(errs)
            self.config_errors.extend(errs)
            sb = self.begin("smtpd startup", "configuration check", None,
                            self.source("smtpd_recipient_restrictions"))
            sb.detail = errs[0].replace("fatal: ", "") + ". smtpd exits as soon as master hands it the " \
                "connection: the client sees the connection closed without any greeting"
            sb.outcome = REJECT
            self.end(sb)
            self.decider = sb
            return self.finish(0, "", "connect")
        delay = self.vp.delay_reject
        # connect
        self.stage = "connect"
        if not delay:
            st = self.client_stage()
            if st == SMTPD_CHECK_REJECT:
                return self.finish_reject("connect")
        # helo
        self.stage = "helo"
        if tx.helo is not None:
            self.helo_name = tx.helo
            if not delay:
                st = self.helo_stage(tx.helo)
                if st == SMTPD_CHECK_REJECT:
                    return self.finish_reject("helo")
        # mail
        self.stage = "mail"
        self.where = "MAIL"
        if self.vp.helo_required and tx.helo is None:
            sb = self.begin("smtpd_helo_required", "smtpd_helo_required = yes", None,
                            self.source("smtpd_helo_required"))
            sb.outcome = REJECT
            sb.reply = "503 5.5.1 Error: send HELO/EHLO first"
            sb.detail = "the client sent MAIL FROM without HELO/EHLO"
            self.end(sb)
            self.decider = sb
            self.error_text = sb.reply
            return self.finish_reject("mail")
        sender = tx.sender or ""
        if sender.startswith("<") and sender.endswith(">"):
            sender = sender[1:-1]
        bad = self.bad_address(sender, "MAIL")
        if bad:
            return bad
        self.sender = sender
        if not delay:
            st = self.mail_stage(sender)
            if st == SMTPD_CHECK_REJECT:
                return self.finish_reject("mail")
        # rcpt
        self.stage = "rcpt"
        rcpt = tx.recipient
        if rcpt.startswith("<") and rcpt.endswith(">"):
            rcpt = rcpt[1:-1]
        bad = self.bad_address(rcpt, "RCPT")
        if bad:
            return bad
        if rcpt.lower() == "postmaster":
            sb = self.begin("RFC 5321", "postmaster exception", None, None)
            sb.outcome = PERMIT
            sb.detail = "the bare recipient \"postmaster\" is always accepted, no restriction is evaluated"
            self.end(sb)
            return self.finish(250, "250 2.1.5 Ok", "rcpt", route_addr=rcpt)
        st = self.rcpt_stage(rcpt)
        if st == SMTPD_CHECK_REJECT:
            return self.finish_reject("rcpt")
        if self.discard:
            self.notes.append("an access table said DISCARD: the message is accepted and discarded")
        return self.finish(250, "250 2.1.5 Ok", "rcpt", route_addr=rcpt)

    def bad_address(self, addr: str, where: str):
        """smtpd's address syntax checks (extract_addr + smtpd_check_addr)."""
        what = "sender" if where == "MAIL" else "recipient"
        dsn = "5.1.7" if where == "MAIL" else "5.1.3"
        bad = False
        if addr == "" and where == "RCPT":
            bad = True
        elif addr.startswith("@") and self.pbool("strict_rfc821_envelopes"):
            bad = True
        elif addr:
            try:
                r = C.resolve_addr(self, addr, with_transport=False)
                bad = r.error
            except TableFailure:
                bad = False
            if not bad and "@" in addr:
                dom = addr.rsplit("@", 1)[1]
                if dom and not dom.isascii():
                    bad = True
        if not bad:
            return None
        sb = self.begin("address syntax", f"{what} address syntax", None, None)
        sb.outcome = REJECT
        sb.reply = f"501 {dsn} Bad {what} address syntax"
        sb.detail = f"smtpd refuses <{addr}> before any restriction"
        self.end(sb)
        self.decider = sb
        self.error_text = sb.reply
        return self.finish_reject(self.stage)

    def finish_reject(self, stage: str) -> Trace:
        text = self.error_text
        code = int(text[:3]) if text[:3].isdigit() else 0
        return self.finish(code, text, stage)

    def chat_reply(self, reply: str) -> str:
        """smtpd_chat_reply(): the reject footer and the soft_bounce safety net."""
        if not reply or reply[0] not in "45":
            return reply
        footer = None
        vp = self.vp
        specs = vp.footer_maps
        if specs:
            lk: list = []
            footer, _err, _spec = C.maps_find(self.tables, self.view, specs, reply, lk)
        if footer is None:
            footer = vp.footer
        lines = reply.split("\n")
        if footer:
            last = lines[-1]
            code = last[:3]
            rest = last[4:]
            dsn = rest.split(" ", 1)[0] if rest else ""
            if not _valid_dsn(dsn):
                dsn = ""
            vals = {"server_name": self.p("myhostname"), "client": self.namaddr, "client_port": "",
                    "client_address": self.client_addr, "client_name": self.client_name,
                    "reverse_client_name": self.reverse_name, "helo_name": self.helo_name or "",
                    "localtime": ""}
            for prefix, addr in (("sender", self.sender if self.stage == "rcpt" else None), ("recipient", None)):
                vals[prefix] = "" if addr is None else (addr or "<>")
                vals[prefix + "_name"] = "" if addr is None else (addr.rsplit("@", 1)[0] if addr else "<>")
                vals[prefix + "_domain"] = "" if not addr or "@" not in addr else addr.rsplit("@", 1)[1]
            parts = footer.split("\\n")
            added = False
            for i, part in enumerate(parts):
                text = _mac_expand(part[2:] if (i == 0 and part.startswith("\\c")) else part, vals)
                if i == 0 and part.startswith("\\c"):
                    lines[-1] += text
                    continue
                sep = "-" if i < len(parts) - 1 else " "
                lines.append(f"{code}{sep}" + (f"{dsn} " if dsn else "") + text)
                added = True
            if added:
                # every line but the last is a continuation line
                lines = [ln[:3] + "-" + ln[4:] for ln in lines[:-1]] + [lines[-1]]
        if vp.soft_bounce:
            out = []
            for ln in lines:
                if ln[:1] == "5":
                    ln = "4" + ln[1:]
                    if ln[4:5] == "5":
                        ln = ln[:4] + "4" + ln[5:]
                out.append(ln)
            lines = out
        return "\n".join(lines)

    def finish(self, code: int, reply: str, stage: str, route_addr: str | None = None) -> Trace:
        reply = self.chat_reply(reply)
        if reply[:3].isdigit():
            code = int(reply[:3])
        route = None
        if route_addr is not None and 200 <= code < 300:
            try:
                route = C.route(self, route_addr)
            except TableFailure as exc:
                self.notes.append(f"route not computed: {exc.message}")
            except Exception as exc:  # never let routing break the verdict
                self.notes.append(f"route not computed: {exc}")
        if self.tables.not_evaluated:
            self.conditional = True
            self.notes.append("tables not evaluated: " + ", ".join(self.tables.not_evaluated))
        steps = tuple([s.freeze() for s in self.steps])
        idx = None
        if self.decider is not None and not (200 <= code < 300):
            for i, s in enumerate(self.steps):
                if s is self.decider:
                    idx = i
                    break
        w = self.warnings
        return Trace.make(self.tx, self.service, code, reply, stage, steps, idx, self.conditional,
                          tuple(self.config_errors), tuple(dict.fromkeys(w)) if w else (), route,
                          tuple(self.notes))


_E = Evaluator
# Every restriction name smtpd 3.7 knows -> its handler (see Evaluator.one).
# "warn_if_reject" is the list walk's own (generic_checks); lint reads the
# names from here (lint.known_restrictions).
DISPATCH: dict = {
    "warn_if_reject": None,
    "check_client_access": _E.r_check_client_access,
    "permit_mynetworks": _E.r_permit_mynetworks,
    "check_helo_access": _E.r_check_helo_access,
    "check_sender_access": _E.r_check_sender_access,
    "check_recipient_access": _E.r_check_recipient_access,
    "reject_unauth_destination": _E.r_reject_unauth_destination,
    "check_recipient_maps": _E.r_reject_unlisted_recipient,
    "reject_unlisted_recipient": _E.r_reject_unlisted_recipient,
    "permit": _E.r_permit,
    "defer": _E.r_defer,
    "reject": _E.r_reject,
    "reject_unauth_pipelining": _E.r_reject_unauth_pipelining,
    "check_policy_service": _E.r_check_policy_service,
    "defer_if_permit": _E.r_defer_if_permit,
    "defer_if_reject": _E.r_defer_if_reject,
    "sleep": _E.r_sleep,
    "reject_plaintext_session": _E.r_reject_plaintext_session,
    "reject_unknown_client_hostname": _E.r_reject_unknown_client_hostname,
    "reject_unknown_client": _E.r_reject_unknown_client_hostname,
    "reject_unknown_reverse_client_hostname": _E.r_reject_unknown_reverse_client_hostname,
    "permit_inet_interfaces": _E.r_permit_inet_interfaces,
    "check_reverse_client_hostname_access": _E.r_check_reverse_client_hostname_access,
    "reject_maps_rbl": _E.r_reject_maps_rbl,
    "reject_rbl_client": _E.r_reject_rbl_client,
    "reject_rbl": _E.r_reject_rbl_client,
    "permit_dnswl_client": _E.r_permit_dnswl_client,
    "reject_rhsbl_client": _E.r_reject_rhsbl_client,
    "permit_rhswl_client": _E.r_permit_rhswl_client,
    "reject_rhsbl_reverse_client": _E.r_reject_rhsbl_reverse_client,
    "check_ccert_access": _E.r_check_ccert_access,
    "check_sasl_access": _E.r_check_sasl_access,
    "check_client_ns_access": _E.r_check_client_server_access,
    "check_client_mx_access": _E.r_check_client_server_access,
    "check_client_a_access": _E.r_check_client_server_access,
    "check_reverse_client_hostname_ns_access": _E.r_check_reverse_client_server_access,
    "check_reverse_client_hostname_mx_access": _E.r_check_reverse_client_server_access,
    "check_reverse_client_hostname_a_access": _E.r_check_reverse_client_server_access,
    "reject_invalid_helo_hostname": _E.r_reject_invalid_helo_hostname,
    "reject_invalid_hostname": _E.r_reject_invalid_helo_hostname,
    "reject_unknown_helo_hostname": _E.r_reject_unknown_helo_hostname,
    "reject_unknown_hostname": _E.r_reject_unknown_helo_hostname,
    "permit_naked_ip_address": _E.r_permit_naked_ip_address,
    "check_helo_ns_access": _E.r_check_helo_server_access,
    "check_helo_mx_access": _E.r_check_helo_server_access,
    "check_helo_a_access": _E.r_check_helo_server_access,
    "reject_non_fqdn_helo_hostname": _E.r_reject_non_fqdn_helo_hostname,
    "reject_non_fqdn_hostname": _E.r_reject_non_fqdn_helo_hostname,
    "reject_rhsbl_helo": _E.r_reject_rhsbl_helo,
    "reject_unknown_address": _E.r_reject_unknown_sender_domain,
    "reject_unknown_sender_domain": _E.r_reject_unknown_sender_domain,
    "reject_unverified_sender": _E.r_reject_unverified_sender,
    "reject_non_fqdn_sender": _E.r_reject_non_fqdn_sender,
    "reject_authenticated_sender_login_mismatch": _E.r_sender_login_mismatch,
    "reject_known_sender_login_mismatch": _E.r_sender_login_mismatch,
    "reject_unauthenticated_sender_login_mismatch": _E.r_sender_login_mismatch,
    "reject_sender_login_mismatch": _E.r_sender_login_mismatch,
    "check_sender_ns_access": _E.r_check_sender_server_access,
    "check_sender_mx_access": _E.r_check_sender_server_access,
    "check_sender_a_access": _E.r_check_sender_server_access,
    "reject_rhsbl_sender": _E.r_reject_rhsbl_sender,
    "reject_unlisted_sender": _E.r_reject_unlisted_sender,
    "permit_mx_backup": _E.r_permit_mx_backup,
    "permit_auth_destination": _E.r_permit_auth_destination,
    "defer_unauth_destination": _E.r_defer_unauth_destination,
    "check_relay_domains": _E.r_check_relay_domains,
    "permit_sasl_authenticated": _E.r_permit_sasl_authenticated,
    "permit_tls_all_clientcerts": _E.r_permit_tls_clientcerts,
    "permit_tls_clientcerts": _E.r_permit_tls_clientcerts,
    "reject_unknown_recipient_domain": _E.r_reject_unknown_recipient_domain,
    "reject_non_fqdn_recipient": _E.r_reject_non_fqdn_recipient,
    "check_recipient_ns_access": _E.r_check_recipient_server_access,
    "check_recipient_mx_access": _E.r_check_recipient_server_access,
    "check_recipient_a_access": _E.r_check_recipient_server_access,
    "reject_rhsbl_recipient": _E.r_reject_rhsbl_recipient,
    "reject_multi_recipient_bounce": _E.r_reject_multi_recipient_bounce,
    "reject_unverified_recipient": _E.r_reject_unverified_recipient,
    "check_etrn_access": _E.r_check_etrn_access,
}
del _E

# What one entry of a parsed restriction list is (see _parse_restrictions).
_R_PLAIN = 0     # a restriction (with its argument, if it takes one)
_R_WARN = 1      # warn_if_reject
_R_TABLE = 2     # a bare type:table: the list's default access check (def_acl)
_R_BAD = 3       # an access check without a type:table argument (smtpd stops there)


def _parse_restrictions(items) -> tuple:
    """A restriction list as generic_checks walks it, parsed once: one
    (kind, name, lname, handler, arg, entry, position, source, extra) per
    restriction. name is as written, lname lower-cased, handler DISPATCH's
    (None: a restriction class or unknown), arg the argument it takes from
    the next item, entry the text a Step shows; extra is the deprecation note
    of a _R_PLAIN entry and the error text of a _R_BAD one, which ends the
    list (smtpd stops there)."""
    out = []
    i = 0
    pos = 0
    n = len(items)
    get = DISPATCH.get
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
        if lname in ACCESS_CHECKS:
            if i >= n or ":" not in items[i][0]:
                bad = items[i][0] if i < n else ""
                out.append((_R_BAD, name, lname, None, None, name, pos, src,
                            f"restriction {lname}: bad argument \"{bad}\": need maptype:mapname"))
                break
            arg = items[i][0]
            entry = f"{name} {arg}"
            i += 1
        elif lname in DOMAIN_ARG or lname == "check_policy_service" or lname == "sleep":
            if i < n:
                arg = items[i][0]
                entry = f"{name} {arg}"
                i += 1
        dep = DEPRECATED.get(lname)
        out.append((_R_PLAIN, name, lname, get(lname), arg, entry, pos, src,
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


def _rbl_match(records, codes: str) -> bool:
    """reject_rbl_client zone=127.0.0.[2..11] style reply filters."""
    for rec in records:
        octets = rec.split(".")
        pats = codes.split(".")
        if len(octets) != 4 or len(pats) != 4:
            continue
        ok = True
        for o, pat in zip(octets, pats):
            if pat.startswith("[") and pat.endswith("]"):
                allowed: set = set()
                for part in pat[1:-1].split(";"):
                    if ".." in part:
                        lo, hi = part.split("..", 1)
                        allowed.update(str(x) for x in range(int(lo), int(hi) + 1))
                    else:
                        allowed.add(part)
                if o not in allowed:
                    ok = False
            elif o != pat:
                ok = False
        if ok:
            return True
    return False


def _mac_expand(template: str, vals: dict) -> str:
    out = ""
    i = 0
    n = len(template)
    while i < n:
        c = template[i]
        if c == "$" and i + 1 < n:
            if template[i + 1] == "$":
                out += "$"
                i += 2
                continue
            if template[i + 1] in "{(":
                close = "}" if template[i + 1] == "{" else ")"
                depth = 1
                j = i + 2
                while j < n and depth:
                    if template[j] == template[i + 1]:
                        depth += 1
                    elif template[j] == close:
                        depth -= 1
                    j += 1
                inner = template[i + 2:j - 1]
                for op in ("?", ":"):
                    if op in inner:
                        name, _, rest = inner.partition(op)
                        v = vals.get(name.strip(), "")
                        if (op == "?" and v) or (op == ":" and not v):
                            out += _mac_expand(rest, vals)
                        break
                else:
                    out += vals.get(inner, "")
                i = j
                continue
            j = i + 1
            while j < n and (template[j].isalnum() or template[j] == "_"):
                j += 1
            out += vals.get(template[i + 1:j], "")
            i = j
            continue
        out += c
        i += 1
    return out


def evaluate(cfg, tx: Transaction, service: str = "smtp", resolver: Resolver | None = None,
             policy_answers: dict | None = None) -> Trace:
    """Evaluate smtpd restrictions for one transaction on one service."""
    ev = Evaluator(cfg, tx, service, resolver or OfflineResolver(), policy_answers)
    return ev.run()
