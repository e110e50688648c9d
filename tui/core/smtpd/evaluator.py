"""The stage walk: connect, HELO, MAIL FROM, RCPT TO, as smtpd with smtpd_delay_reject."""
from __future__ import annotations

from typing import Any

from tui.core.dns import OfflineResolver, Resolver
from tui.core.postfix.milter import HOLD
from tui.core.smtpd import restrictions_client, restrictions_mail
from tui.core.smtpd.daemons import Waited
from tui.core.smtpd.envelope import extract_addr, helo_argument, neuter
from tui.core.smtpd.milters import session_milters
from tui.core.smtpd.per_command import (STARTTLS_FIRST, command_filter, local_rewrite_check, not_evaluated_notes,
                                        tls_required)
from tui.core.smtpd.replies import printable
from tui.core.smtpd.session import SmtpdSession
from tui.core.smtpd.state import (NAME_CLIENT, NAME_HELO, NAME_RECIPIENT, NAME_SENDER, SMTPD_CHECK_REJECT, _Longjmp)
from tui.core.trace import DEFER, NO_MATCH, PERMIT, REJECT, Trace, Transaction


# importing them registers every restriction's handler (registry.RESTRICTIONS)
HANDLERS = (restrictions_client, restrictions_mail)


def evaluate(cfg, tx: Transaction, service: str = "smtp", resolver: Resolver | None = None,
             policy_answers: dict | None = None) -> Trace:
    """Evaluate smtpd restrictions for one transaction on one service."""
    ev = Evaluator(cfg, tx, service, resolver or OfflineResolver(), policy_answers)
    return ev.run()


class Evaluator(SmtpdSession):
    """Evaluate smtpd restrictions for one transaction: the stages, and the
    session that leads to them."""

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
