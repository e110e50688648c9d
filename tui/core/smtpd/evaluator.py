"""The stage walk: connect, HELO, MAIL FROM, RCPT TO, as smtpd with smtpd_delay_reject."""
from __future__ import annotations

from typing import Any

from tui.core.cache import resolve_addr
from tui.core.config.params import param_list
from tui.core.dns import OfflineResolver, Resolver
from tui.core.model import Source
from tui.core.postfix.mail_conf import (SMTPD_WORD_CHECKS, first_startup_error, maillog_file_error,
                                        smtpd_tls_level_error, smtputf8_autodetect_error)
from tui.core.postfix.host_port import inet_connect_fatal
from tui.core.postfix.mail_params import BEFORE_TYPED, host_decided, mail_params_fatal
from tui.core.postfix.maps import TableFailure, maps_create_error
from tui.core.postfix.match_list import namadr_list_match, parent_style
from tui.core.smtpd.envelope import Extracted, extract_addr, helo_argument, neuter
from tui.core.smtpd.replies import printable
from tui.core.smtpd.per_command import (STARTTLS_FIRST, command_filter, local_rewrite_check, not_evaluated_notes,
                                        tls_required)
from tui.core.smtpd import restrictions_client, restrictions_mail
from tui.core.smtpd.daemons import ANVIL_LIMITS, Waited, daemon_fatals
from tui.core.postfix.milter import HOLD
from tui.core.smtpd.milters import SessionMilters, asked_note, conf_error_detail, describe, session_milters
from tui.core.smtpd.dnsxl import DnsListChecks
from tui.core.smtpd.state import (NAME_CLIENT, NAME_HELO, NAME_RECIPIENT, NAME_SENDER, SMTPD_CHECK_REJECT, _Longjmp)
from tui.core.trace import DEFER, NO_MATCH, PERMIT, REJECT, Trace, Transaction


# importing them registers every restriction's handler (registry.RESTRICTIONS)
HANDLERS = (restrictions_client, restrictions_mail)

# the maps smtpd_check_init() opens when smtpd starts (smtpd_check.c), and
# those smtpd's own start-up opens after it (smtpd.c, smtpd_chat.c)
INIT_MAPS = ("relay_clientcerts", "local_recipient_maps", "sender_canonical_maps", "recipient_canonical_maps",
             "canonical_maps", "virtual_alias_maps", "virtual_mailbox_maps", "relay_recipient_maps",
             "rbl_reply_maps", "smtpd_sender_login_maps")
LATE_MAPS = ("smtpd_discard_ehlo_keyword_address_maps", "smtpd_milter_maps", "smtpd_dns_reply_filter",
             "smtpd_reject_footer_maps")


RCPT_REQUIRED = ("reject_unauth_destination", "defer_unauth_destination", "reject", "defer",
                 "defer_if_permit", "check_relay_domains")

FAKE_RELAY_CHECKS = ["permit_mynetworks", "permit_sasl_authenticated", "permit_auth_destination"]


def evaluate(cfg, tx: Transaction, service: str = "smtp", resolver: Resolver | None = None,
             policy_answers: dict | None = None) -> Trace:
    """Evaluate smtpd restrictions for one transaction on one service."""
    ev = Evaluator(cfg, tx, service, resolver or OfflineResolver(), policy_answers)
    return ev.run()


class Evaluator(DnsListChecks):
    """Evaluate smtpd restrictions for one transaction: the stages and smtpd's start-up checks."""

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
        self.sender_flag_reset = True
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
            status = self._implicit_unlisted("smtpd_reject_unlisted_sender", "reject_unlisted_sender",
                                             self.vp.src_unlisted_sender, self.check_sender_rcpt_maps, sender)
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
        relay_items: tuple[str, Any]
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
            status = self._deferred_permit()
        if (vp.reject_unlisted_recipient and status != SMTPD_CHECK_REJECT
                and not self.recipient_rcptmap_checked and not self.discard):
            status = self._implicit_unlisted("smtpd_reject_unlisted_recipient", "reject_unlisted_recipient",
                                             vp.src_unlisted_recipient, self.check_recipient_rcpt_maps,
                                             recipient)
        return status

    def _deferred_permit(self) -> int:
        """The end of RCPT with defer_if_permit raised and nothing rejected:
        the temporary error it asked for (the step that raised it decides)."""
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
        return status

    def _implicit_unlisted(self, parameter: str, what: str, src, check, address: str) -> int:
        """smtpd_reject_unlisted_sender/recipient = yes: CHECK (the sender's
        or recipient's check_rcpt_maps) after the restrictions, as a step of
        its own."""
        sb = self.begin(parameter, f"{what} (implicit)", None, src)
        try:
            status = check(address)
        except _Longjmp as lj:
            status = lj.status
        sb.outcome = (REJECT if self.error_text[:1] == "5" else DEFER) if status == SMTPD_CHECK_REJECT else NO_MATCH
        self.end(sb)
        return status

    # ------------------------------------------------------------ startup
    def startup_fatal(self) -> tuple[str, str, Source | None] | None:
        """(parameter, smtpd's fatal message, where the parameter is set) of
        the start-up check that ends smtpd on this service, or None."""
        errs = self._startup_checks()
        if not errs:
            return None
        param, text = errs[0]
        return param, text.removeprefix("fatal: "), self.source(param)

    def _culprit(self, names: tuple[str, ...]) -> str:
        """Of the parameters a fatal message names, the one to show and fix:
        the one this service's master.cf line sets, else one main.cf sets,
        else the first."""
        for kind in ("master.cf", "main.cf"):
            for name in names:
                src = self.source(name)
                if src is not None and src.kind == kind:
                    return name
        return names[0]

    def _startup_checks(self) -> tuple[tuple[str, str], ...]:
        """(parameter, fatal message) of each start-up check that fails, in
        smtpd's order (the first one ends it). They depend only on the
        configuration: worked out once per service view of a Config."""
        got = self.vp.startup_errors
        if got is None:
            got = self.vp.startup_errors = tuple(self._startup_errors())
        return got

    def _startup_errors(self) -> list[tuple[str, str]]:
        # mail_params_init(), which every daemon runs first, checks the
        # syslog facility and the host names, then converts its yes/no,
        # number and time parameters, then checks the users, groups,
        # interfaces, relayhost, myorigin and VERP delimiters; smtpd then
        # converts its own. (The typed checks are one pass here: with a bad
        # value of smtpd's own and a failed check below, the trace may name
        # the other one; the client sees the same.)
        mp = mail_params_fatal(self.p, self.cfg.main_path)
        if mp is not None and mp[0][0] in BEFORE_TYPED:
            return [(self._culprit(mp[0]), mp[1])]
        bad_typed = first_startup_error("smtpd", self.p)
        if bad_typed is not None:
            return [bad_typed]
        if mp is not None:
            return [(self._culprit(mp[0]), mp[1])]
        bad = maillog_file_error(self.p("maillog_file"), self.plist("maillog_file_prefixes"))
        if bad is not None:
            return [("maillog_file", bad)]
        # then parameters that take words
        for p, check in SMTPD_WORD_CHECKS:
            bad = check(self.p(p))
            if bad is not None:
                return [(p, bad)]
        # smtpd_check_init() opens these maps before it parses the
        # restriction lists; dict_open() exits on an entry that is not type:name
        for p in INIT_MAPS:
            bad = maps_create_error(self.plist(p))
            if bad is not None:
                return [(p, bad)]
        errs: list[tuple[str, str]] = []
        classes = self.plist("smtpd_restriction_classes")
        for c in classes:
            if not self.p(c):
                errs.append(("smtpd_restriction_classes", f"fatal: restriction class `{c}' needs a definition"))
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
                    if has_required(param_list(self.view, r), seen + (r,)):
                        return True
                i += 1
            return False

        rcpt = self.plist("smtpd_recipient_restrictions")
        relay = self.plist("smtpd_relay_restrictions")
        if not has_required(rcpt) and not has_required(relay):
            errs.append(("smtpd_recipient_restrictions",
                         "fatal: in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, "
                         "specify at least one working instance of: reject_unauth_destination, "
                         "defer_unauth_destination, reject, defer, defer_if_permit or check_relay_domains"))
        for p in ("unknown_helo_hostname_tempfail_action", "unknown_address_tempfail_action",
                  "unverified_recipient_tempfail_action", "unverified_sender_tempfail_action"):
            v = self.p(p)
            if v.strip().lower() not in ("defer", "defer_if_permit"):
                errs.append((p, f"fatal: bad configuration: {p} = {v}"))
        if errs:
            return errs
        # then smtpd's own start-up opens the command filter (one table,
        # the whole value) and the maps of LATE_MAPS
        cmd_filter = self.p("smtpd_command_filter").strip()
        bad = maps_create_error([cmd_filter] if cmd_filter else [])
        if bad is not None:
            return [("smtpd_command_filter", bad)]
        bad = smtpd_tls_level_error(self.p("smtpd_tls_security_level"), self.pbool("smtpd_tls_wrappermode"))
        if bad is not None:
            return [("smtpd_tls_security_level", bad)]
        for p in LATE_MAPS:
            bad = maps_create_error(self.plist(p))
            if bad is not None:
                return [(p, bad)]
        return []

    # ------------------------------------------------------------ driver
    def run(self) -> Trace:
        tx = self.tx
        errs = self.vp.startup_errors
        if errs is None:
            errs = self._startup_checks()
        if errs:
            return self._startup_failed(errs)
        delay = self.vp.delay_reject
        unevaluated = not_evaluated_notes(self)
        if unevaluated:
            self.notes.extend(unevaluated)
            if self.proxy_asked():
                self.conditional = True   # its answers are assumed, as a milter's or a policy service's
        milters = None if self.vp.milters is False else session_milters(self)
        if milters is not None:
            ended = self._milter_setup(milters)
            if ended is not None:
                return ended
        helo, sender_text, rcpt_text = tx.helo, tx.sender or "", tx.recipient
        if self.vp.command_filter:
            helo, sender_text, rcpt_text, failed = command_filter(self, helo, sender_text, rcpt_text)
            if failed is not None:
                return self.finish_reject(failed)
        # connect
        self.stage = "connect"
        dead = self._waited_daemons()
        if "anvil" in dead and self._asks_anvil():
            return self._no_reply(dead["anvil"])
        if not delay:
            st = self.client_stage()
            if st == SMTPD_CHECK_REJECT:
                return self.finish_reject("connect")
        # helo
        self.stage = "helo"
        line_limit = self.pint("line_length_limit", 2048)
        if helo is not None:
            name = helo_argument(helo, line_limit)
            if name is None:
                return self._refused("HELO/EHLO syntax", "EHLO command syntax", None, "501 Syntax: EHLO hostname",
                                     "the EHLO command has no host name: smtpd refuses it before any restriction")
            # smtpd checks the name as sent when it checks at once, and keeps
            # it with control characters and " <>()\\\";@" made "?" for later
            stored = neuter(printable(name, self.pbool("smtputf8_enable"), "?"))
            if stored != helo:
                self.notes.append(f"smtpd reads the HELO/EHLO name as <{stored}> (the command line split into "
                                  "words, at most line_length_limit bytes, blanks, brackets, quotes and "
                                  "control characters made \"?\")")
            self.helo_name = stored
            if not delay:
                st = self.helo_stage(name)
                if st == SMTPD_CHECK_REJECT:
                    return self.finish_reject("helo")
        # mail
        self.stage = "mail"
        self.where = "MAIL"
        if tx.tls is False:
            name = tls_required(self.view)
            if name is not None:
                return self._refused(name, f"{name} = {self.p(name).strip()}", self.source(name), STARTTLS_FIRST,
                                     "the client did not use STARTTLS, and this service requires it: smtpd "
                                     "answers every command but EHLO, HELO, STARTTLS, XCLIENT, NOOP and QUIT this "
                                     "way, before the command itself and any restriction")
            if self.pbool("smtpd_tls_wrappermode"):
                self.warnings.append("smtpd_tls_wrappermode = yes: a client speaks TLS from its first byte here; "
                                     "one without TLS gets no SMTP at all. Traced as a client with TLS")
        if self.vp.helo_required and helo is None:
            return self._refused("smtpd_helo_required", "smtpd_helo_required = yes",
                                 self.source("smtpd_helo_required"), "503 5.5.1 Error: send HELO/EHLO first",
                                 "the client sent MAIL FROM without HELO/EHLO")
        strict = self.vp.strict_rfc821
        got = extract_addr(sender_text, strict, "MAIL", line_limit)
        if ("trivial-rewrite" in dead and not got.error
                and (got.address or self.p("address_verify_sender") not in ("", "<>"))):
            # smtpd_check_addr() resolves the sender; valid_verify_sender_addr()
            # rewrites address_verify_sender first, for any sender
            return self._no_reply(dead["trivial-rewrite"])
        bad = self.bad_address(got, sender_text, "MAIL") or self.command_parameters(got, "MAIL")
        if bad:
            return bad
        sender = got.address
        self.sender = sender
        if not delay:
            st = self.mail_stage(sender)
            if st == SMTPD_CHECK_REJECT:
                return self.finish_reject("mail")
        if milters is not None and milters.outcome.kind == "reply" and milters.outcome.reply != HOLD:
            return self._milter_reply(milters)
        if local_rewrite_check(self) is not None:
            return self.finish_reject("mail")
        if sender and not sender.isascii() and self.pbool("strict_smtputf8"):
            return self.utf8_undeclared(sender, "MAIL")
        ended = self._opening_queue_file(dead, "mail")
        if ended is not None:
            return ended
        if rcpt_text is None:   # no RCPT TO: the answer to MAIL FROM ends the trace
            if delay:
                self.notes.append("no RCPT TO: with smtpd_delay_reject = yes the client, HELO and sender "
                                  "restrictions wait for RCPT TO, so none of them is evaluated here")
            return self.finish(250, "250 2.1.0 Ok", "mail")
        # rcpt
        self.stage = "rcpt"
        got = extract_addr(rcpt_text, strict, "RCPT", line_limit)
        if "trivial-rewrite" in dead and not got.error and got.address:
            return self._no_reply(dead["trivial-rewrite"])
        bad = self.bad_address(got, rcpt_text, "RCPT") or self.command_parameters(got, "RCPT")
        if bad:
            return bad
        rcpt = got.address
        if rcpt and not rcpt.isascii() and self.pbool("strict_smtputf8"):
            return self.utf8_undeclared(rcpt, "RCPT")
        if rcpt.lower() == "postmaster":
            sb = self.begin("RFC 5321", "postmaster exception", None, None)
            sb.outcome = PERMIT
            sb.detail = "the bare recipient \"postmaster\" is always accepted, no restriction is evaluated"
            self.end(sb)
            return self._accepted(rcpt, dead)
        st = self.rcpt_stage(rcpt)
        if st == SMTPD_CHECK_REJECT:
            return self.finish_reject("rcpt")
        return self._accepted(rcpt, dead)

    def _accepted(self, rcpt: str, dead: dict[str, Waited]) -> Trace:
        """RCPT passed: smtpd opens the queue file now (unless it did at
        MAIL FROM), then says 250."""
        ended = self._opening_queue_file(dead, "rcpt")
        if ended is not None:
            return ended
        if self.discard:
            self.notes.append("an access table said DISCARD: the message is accepted and discarded")
        return self.finish(250, "250 2.1.5 Ok", "rcpt", route_addr=rcpt)

    # ------------------------------------------------------------ milters
    def _milter_setup(self, sm: SessionMilters) -> Trace | None:
        """The session's milters as smtpd sets them up before its greeting:
        the trace ends here when smtpd exits on them; otherwise notes and
        warnings say what they do (a reply at MAIL FROM is _milter_reply's)."""
        o = sm.outcome
        if o.asked:
            self.notes.extend(asked_note(sm, m) for m in o.asked)
            self.conditional = True
        self.warnings.extend(f"smtpd logs \"{w}\"" for w in o.warnings)
        if o.kind == "fatal":
            self.config_errors.append(f"smtpd: {o.text}")
            where = "connects to the milter" if o.milter is not None else "reads the milter list"
            param, src = sm.culprit(self)
            return self._no_answer(param, "milter set-up", src,
                                   f"{o.text.removeprefix('fatal: ')}. smtpd exits when it {where} for a new "
                                   f"client, before its greeting: the client sees the connection closed "
                                   f"without any greeting", REJECT, "connect")
        if o.kind == "reply" and o.reply == HOLD:
            assert o.milter is not None
            self.notes.append(f"{sm.parameter}: smtpd cannot use the milter {describe(o.milter)}, and its "
                              "default_action is quarantine: the message is put on hold (milter-hold)")
        return None

    def _milter_reply(self, sm: SessionMilters) -> Trace:
        """A milter smtpd cannot use answers MAIL FROM with its
        configuration-error reply."""
        param, src = sm.culprit(self)
        assert sm.outcome.milter is not None and sm.outcome.reply is not None
        return self._refused(param, describe(sm.outcome.milter), src, sm.outcome.reply, conf_error_detail(sm))

    # ------------------------------------------------------------ daemons smtpd waits for
    def _waited_daemons(self) -> dict[str, Waited]:
        """daemons.daemon_fatals() of this service: a function of the
        configuration, worked out once per service view of a Config."""
        got = self.vp.daemon_fatals
        if got is None:
            got = self.vp.daemon_fatals = daemon_fatals(self.cfg, self.view)
        return got

    def _asks_anvil(self) -> bool:
        """Does smtpd ask anvil about this client when it connects? When one
        of its limits is on, for a client that is neither an exception
        (smtpd_client_event_limit_exceptions) nor allowed XCLIENT."""
        if not any(self.pint(p, 0) for p in ANVIL_LIMITS):
            return False
        for name in ("smtpd_client_event_limit_exceptions", "smtpd_authorized_xclient_hosts"):
            m = namadr_list_match(self.tables, self.view, self.plist(name), self.client_name,
                                  self.client_addr, parent_style(self.view, name), [])
            if m.matched:
                return False
        return True

    def stream_opened_at(self) -> str | None:
        """When smtpd opens the message stream (mail_open_stream()): "rcpt",
        at the first accepted RCPT (smtpd_delay_open_until_valid_rcpt =
        yes), "mail" at MAIL FROM; None with a smtpd_proxy_filter that
        smtpd_proxy_options = speed_adjust connects after the message."""
        if self.p("smtpd_proxy_filter").strip() and "speed_adjust" in self.plist("smtpd_proxy_options"):
            return None
        return "rcpt" if self.pbool("smtpd_delay_open_until_valid_rcpt") else "mail"

    def proxy_asked(self) -> bool:
        """Does smtpd_proxy_filter answer MAIL FROM and RCPT TO itself (it is
        connected to before the message, without speed_adjust)?"""
        return bool(self.p("smtpd_proxy_filter").strip()) and self.stream_opened_at() is not None

    def cleanup_asked_at(self) -> str | None:
        """When smtpd asks cleanup for a queue file (stream_opened_at()), or
        None: with smtpd_proxy_filter it connects to the proxy instead."""
        if self.p("smtpd_proxy_filter").strip():
            return None
        return self.stream_opened_at()

    def _opening_queue_file(self, dead: dict[str, Waited], stage: str) -> Trace | None:
        """When smtpd opens the message stream at STAGE ("mail" or "rcpt"):
        it exits on what queue_open_fatal() names, then waits for a cleanup
        that does not start; None when it goes on (or opens none here)."""
        if self.queue_open_fatal() is not None and self.stream_opened_at() == stage:
            return self._closed()
        if "cleanup" in dead and self.cleanup_asked_at() == stage:
            return self._no_reply(dead["cleanup"])
        return None

    def queue_open_fatal(self) -> tuple[str, str] | None:
        """(parameter, fatal message) of what ends smtpd when it opens the
        message stream: an smtputf8_autodetect_classes word it does not
        know (read before it connects to cleanup), or a smtpd_proxy_filter
        inet address inet_connect() cannot parse. Worked out once per
        service view."""
        got = self.vp.queue_open_fatal
        if got is None:
            proxy = self.p("smtpd_proxy_filter").strip()
            if proxy:   # smtpd_proxy.c: unix: or inet: (the default) endpoint
                kind = proxy[:5].lower()
                err = None if kind == "unix:" else inet_connect_fatal(proxy[5:] if kind == "inet:" else proxy)
                got = ("smtpd_proxy_filter", err) if err else ()
            else:
                err = smtputf8_autodetect_error(self.p("smtputf8_autodetect_classes"))
                got = ("smtputf8_autodetect_classes", err) if err else ()
            self.vp.queue_open_fatal = got
        return got or None

    def _closed(self) -> Trace:
        """smtpd exits as it opens the message stream: the command of this
        stage gets no reply, and the connection is closed."""
        fatal = self.queue_open_fatal()
        assert fatal is not None
        param, text = fatal
        self.config_errors.append(f"smtpd: {text}")
        when = ("connects to the before-queue content filter for this message" if param == "smtpd_proxy_filter"
                else "reads it when it opens the queue file for this message")
        return self._no_answer(param, "smtpd opens the queue file", self.source(param),
                               f"{text.removeprefix('fatal: ')}. smtpd {when}, and exits: the client sees the "
                               "connection closed without a reply", DEFER, self.stage)

    def _no_answer(self, parameter: str, entry: str, src: Source | None, detail: str, outcome: str,
                   stage: str) -> Trace:
        """The trace of a command smtpd never answers: one deciding step
        says why; code 0, no reply."""
        sb = self.begin(parameter, entry, None, src)
        sb.detail = detail
        sb.outcome = outcome
        self.end(sb)
        self.decider = sb
        return self.finish(0, "", stage)

    def _no_reply(self, waited: Waited) -> Trace:
        """smtpd waits for a daemon without end (see daemons.daemon_fatals):
        the command of this stage gets no reply."""
        daemon = waited.daemon
        if waited.missing:
            parameter, entry = f"{daemon} service", "master.cf"
            why = (f"master.cf has no service {waited.service} of the kind smtpd connects to for {daemon}: "
                   f"smtpd logs \"warning: {waited.text}\" and tries again")
            self.config_errors.append(f"smtpd: warning: {waited.text}")
        else:
            parameter, entry = f"{daemon} startup", "configuration check"
            why = f"{daemon} (master.cf service {waited.service}) exits as it starts: {waited.text}"
            self.config_errors.append(f"{daemon}: fatal: {waited.text}")
        return self._no_answer(parameter, entry, waited.src, why + ". smtpd waits for it at this command and the "
                               "client gets no reply until it gives up", DEFER, self.stage)

    def _startup_failed(self, errs: tuple[tuple[str, str], ...]) -> Trace:
        """smtpd's start-up checks failed: it exits when master hands it
        the connection."""
        self.config_errors.extend(text for _param, text in errs)
        fatal = self.startup_fatal()
        assert fatal is not None   # ERRS is what it reads
        param, text, src = fatal
        if host_decided(param, self.p):
            import socket

            self.notes.append(f"{param} is checked against this host ({socket.gethostname()}): its users, "
                              "groups, files and interfaces decide, as they do for the Postfix that runs here")
        return self._no_answer("smtpd startup", "configuration check", src, text + ". smtpd exits as soon as "
                               "master hands it the connection: the client sees the connection closed without "
                               "any greeting", REJECT, "connect")

    def _refused(self, parameter: str, entry: str, src, reply: str, detail: str) -> Trace:
        """smtpd refuses the command of this stage with REPLY before (or
        without) any restriction: a step of its own decides."""
        sb = self.begin(parameter, entry, None, src)
        sb.outcome = REJECT
        sb.reply = reply
        sb.detail = detail
        self.end(sb)
        self.decider = sb
        self.error_text = reply
        return self.finish_reject(self.stage)

    def utf8_undeclared(self, addr: str, where: str) -> Trace:
        """strict_smtputf8 = yes: a non-ASCII address without the SMTPUTF8
        parameter (which a trace never has) is refused (smtpd.c)."""
        return self._refused("strict_smtputf8", "strict_smtputf8 = yes", self.source("strict_smtputf8"),
                             "553 5.6.7 Must declare SMTPUTF8 to send unicode address",
                             f"<{addr}> is not ASCII and the {where} command has no SMTPUTF8 parameter "
                             "(the trace assumes none)")

    def command_parameters(self, got: Extracted, where: str):
        """Words after the address's closing ">" (the text closed its
        brackets early): smtpd reads them as the command's parameters."""
        if not got.parameters:
            return None
        if got.unsupported is not None:
            return self._refused("command parameters", f"{where} command parameters", None,
                                 f"555 5.5.4 Unsupported option: {got.unsupported}",
                                 f"the address text closes its <...> early: smtpd reads "
                                 f"{got.unsupported!r} as a parameter of the {where} command, "
                                 "and knows no such parameter")
        self.warnings.append(f"the address text closes its <...> early: smtpd reads {' '.join(got.parameters)!r} "
                             f"as parameters of the {where} command; this trace does not check them, and "
                             "smtpd may refuse their syntax")
        return None

    def bad_address(self, got: Extracted, text: str, where: str):
        """smtpd's address syntax checks (extract_addr + smtpd_check_addr)."""
        what = "sender" if where == "MAIL" else "recipient"
        dsn = "5.1.7" if where == "MAIL" else "5.1.3"
        addr = got.address
        bad = False
        why = ""
        if got.error:
            bad, why = True, got.error
        elif addr == "" and where == "RCPT":
            bad = True
        elif addr:
            try:
                r = resolve_addr(self, addr, with_transport=False)
                bad = r.error
            except TableFailure:
                bad = False
            if not bad and "@" in addr:
                dom = addr.rsplit("@", 1)[1]
                if dom and not dom.isascii():
                    bad = True
        if not bad:
            return None
        return self._refused("address syntax", f"{what} address syntax", None,
                             f"501 {dsn} Bad {what} address syntax",
                             f"smtpd refuses <{text}> before any restriction" + (f" ({why})" if why else ""))
