"""What smtpd does around the restrictions: the milters it sets up, the
daemons it waits for, the queue file it opens, and the commands it refuses
(or never answers) before any restriction is asked (smtpd.c)."""
from __future__ import annotations

from tui.core.cache import resolve_addr
from tui.core.model import Source
from tui.core.postfix.host_port import inet_connect_fatal
from tui.core.postfix.mail_conf import smtputf8_autodetect_error
from tui.core.postfix.mail_params import host_decided
from tui.core.postfix.maps import TableFailure
from tui.core.postfix.match_list import namadr_list_match, parent_style
from tui.core.postfix.milter import HOLD
from tui.core.smtpd.daemons import ANVIL_LIMITS, Waited, daemon_fatals
from tui.core.smtpd.envelope import Extracted
from tui.core.smtpd.milters import SessionMilters, asked_note, conf_error_detail, describe
from tui.core.smtpd.startup import StartupChecks
from tui.core.trace import DEFER, REJECT, Trace


class SmtpdSession(StartupChecks):
    """smtpd's own answers: a session that ends, or a command refused,
    outside the restriction lists."""

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

    # ------------------------------------------------------------ the queue file
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

    # ------------------------------------------------------------ answers without a restriction
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
