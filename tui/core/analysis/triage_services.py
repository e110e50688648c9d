"""What the triage asks of today's master.cf and start-up checks without a
trace: which service wrote a log line, what a daemon's fatal line would be
today, and which milters decide."""
from __future__ import annotations

import re

from tui.core.analysis.content_checks import DIFFERS, SAME, UNDECIDABLE
from tui.core.analysis.maillog import Record
from tui.core.dns import OfflineResolver
from tui.core.postfix.mail_conf import SMTPD_WORD_CHECKS, string_bounds, typed_names
from tui.core.smtpd import Evaluator
from tui.core.smtpd.daemons import SERVICE_PARAM, daemon_fatals
from tui.core.trace import Transaction


class TodaysServices:
    """One configuration's answers to the triage's questions about services
    (each worked out once: a log repeats its process names and a daemon
    in a restart loop logs the same fatal line every minute)."""

    def __init__(self, cfg) -> None:
        self.cfg = cfg
        self._services: dict[str, str | None] = {}
        self._by_syslog: dict[tuple[str, str], list[str]] | None = None
        self._fatal_verdicts: dict[tuple[str, str], tuple[str, str, str, str]] = {}

    def service_for(self, r: Record) -> str | None:
        """The master.cf service whose syslog_name the process name carries:
        for smtpd an inet or pass smtpd service ("postfix/submission/smtpd"
        -> submission; "postfix/smtpd" -> smtp, or behind postscreen the pass
        service postscreen hands clients to, or the one smtpd service logging
        as "postfix"); for postscreen its inet service."""
        prog = r.program
        if prog in self._services:
            return self._services[prog]
        if self._by_syslog is None:
            self._by_syslog = {}
            handoff = set()
            smtpd = self.cfg.smtpd_services()
            others = [s for s in self.cfg.services if s not in smtpd and (
                (s.process_name == "smtpd" and s.type == "pass")
                or (s.process_name == "postscreen" and s.type == "inet"))]
            for svc in smtpd + others:
                try:
                    params = self.cfg.params(svc)
                    name = params.expand("syslog_name")
                    if svc.process_name == "postscreen":
                        handoff.add(params.expand("smtpd_service_name"))
                except Exception:
                    continue
                self._by_syslog.setdefault((svc.process_name, name), []).append(svc.name)
            for cands in self._by_syslog.values():  # preferred first: smtp, then postscreen's hand-off
                cands.sort(key=lambda n: (n != "smtp", n not in handoff))
        svc = None
        if r.daemon in ("smtpd", "postscreen"):
            cands = self._by_syslog.get((r.daemon, r.syslog_name), [])
            if cands:
                svc = cands[0]
            elif r.daemon == "smtpd":
                hint = r.service_hint
                found = self.cfg.service(hint) if hint else None
                if found is not None and found.process_name == "smtpd":
                    svc = hint
        self._services[prog] = svc
        return svc

    def fatal_verdict(self, r: Record) -> tuple[str, str, str, str]:
        """_fatal_verdict(), once per (process name, message)."""
        key = (r.program, r.text)
        got = self._fatal_verdicts.get(key)
        if got is None:
            got = self._fatal_verdicts[key] = self._fatal_verdict(r)
        return got

    def _fatal_verdict(self, r: Record) -> tuple[str, str, str, str]:
        """(today, today's answer, reason, service) for a daemon's fatal
        line. smtpd logs a start-up fatal before it takes its service's
        syslog_name, so any smtpd service may have written it: it is
        checked against the start-up checks of every one of them today,
        and the group names those that exit that way today."""
        daemon = r.daemon
        if daemon != "smtpd" and daemon not in SERVICE_PARAM:
            return UNDECIDABLE, "", (f"{r.program or 'a daemon'} exited; the explorer checks the start-up of "
                                     f"smtpd and of the daemons it waits for ({', '.join(SERVICE_PARAM)}) only"), \
                r.program
        today: dict[str, str | None] = {}
        for svc in self.cfg.smtpd_services():
            try:
                if daemon == "smtpd":
                    ev = Evaluator(self.cfg, Transaction(client_address="192.0.2.1"), svc.key, OfflineResolver())
                    fatal = ev.startup_fatal()
                    # or, later, as it opens a queue file
                    later = ev.queue_open_fatal()
                    today[svc.name] = fatal[1] if fatal else later[1].removeprefix("fatal: ") if later else None
                else:
                    waits = daemon_fatals(self.cfg, self.cfg.params(svc)).get(daemon)
                    today[svc.name] = waits.text if waits and not waits.missing else None
            except Exception as exc:  # noqa: BLE001 - a value here, never the end of the triage
                return UNDECIDABLE, "", f"the explorer could not check {svc.name}'s start-up: {exc}", r.program
        same = [name for name, text in today.items() if text == r.text]
        if same:
            return SAME, r.text, "", ", ".join(same)
        if not _checked_at_startup(daemon, r.text):
            return UNDECIDABLE, "", f"{daemon} exited for a reason the explorer's start-up checks do not cover", \
                r.program
        now = next((t for t in today.values() if t), None)
        return DIFFERS, f"{daemon} exits with: {now}" if now else f"{daemon} starts", "", r.program

    def milter_reason(self, r: Record) -> str:
        """Which milters decided: the smtpd_milters of the service that
        logged it (cleanup, which logs a refusal of the message's content,
        does not say which service received it: every service's)."""
        svc = self.service_for(r)
        services = [svc] if svc is not None else [s.name for s in self.cfg.smtpd_services()]
        values: dict[str, list[str]] = {}
        for name in services:
            try:
                values.setdefault(self.cfg.params(name).expand("smtpd_milters"), []).append(name)
            except Exception:
                continue
        if not values:
            return "a milter decided it (smtpd_milters / non_smtpd_milters)"
        if len(values) == 1:
            (value, _names), = values.items()
            return f"a milter decided it (smtpd_milters = {value})" if value else \
                "a milter decided it (smtpd_milters is empty today)"
        return "a milter decided it (smtpd_milters: " + "; ".join(
            f"{', '.join(names)}: {value or '(empty)'}" for value, names in values.items()) + ")"


# start-up fatals (smtpd's, and those of the daemons it waits for) that
# name what the explorer's start-up checks check, so that the daemon
# starting today means the configuration changed (a map entry that is not
# type:name names no parameter, and inet_interfaces may hold host names the
# explorer does not look up: only "same")
_STARTUP_FATAL = re.compile(r"(?:bad boolean configuration|bad numerical configuration): (\S+) = "
                            r"|parameter (\S+): bad time value or unit: "
                            r"|invalid (\S+)(?: parameter value -?\d+ [<>] -?\d+$|: -?\d+ \((?:min|max) -?\d+\)$)"
                            r"|bad string length \(?\d+ [<>] \d+\)?: (\S+) = "
                            r"|unknown (\S+) value \""
                            r"|restriction class `|in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions"
                            r"|bad configuration: \S+_tempfail_action = |Invalid TLS level \""
                            r"|unsupported smtpd_upstream_proxy_protocol value: |invalid setting: \"header_from_format = "
                            r"|bad parameter value: 'smtpd_forbid_bare_newline = "
                            # every daemon's mail_params_init() (tui.core.postfix.mail_params)
                            r"|file \S+: parameters? (?:syslog_facility|myhostname|mydomain|default_privs|mail_owner"
                            r"|setgid_group|default_verp_delimiters)\b"
                            r"|myhostname and relayhost parameter settings must not be identical: "
                            r"|myorigin parameter setting must not contain multiple values: |myorigin file \S+ is empty$"
                            r"|/\S+: (?:cannot open file: |file has \d+ hard links$|file is a directory$"
                            r"|file is a symbolic link$|file status changed unexpectedly)")


def _checked_at_startup(daemon: str, text: str) -> bool:
    m = _STARTUP_FATAL.match(text)
    if m is None:
        return False
    name = next((g for g in m.groups() if g), None)
    if name is None:
        return daemon == "smtpd"
    return (name in typed_names(daemon) or any(name == n for n, *_rest in string_bounds(daemon))
            or (daemon == "smtpd" and name in dict(SMTPD_WORD_CHECKS)))
