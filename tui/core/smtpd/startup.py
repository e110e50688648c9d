"""smtpd's start-up checks: what mail_params_init(), smtpd_check_init()
and smtpd's own start-up refuse in the configuration (each is a fatal
error: smtpd exits when master hands it a connection)."""
from __future__ import annotations

from tui.core.config.params import param_list
from tui.core.model import Source
from tui.core.postfix.mail_conf import SMTPD_WORD_CHECKS, first_startup_error, maillog_file_error, smtpd_tls_level_error
from tui.core.postfix.mail_params import BEFORE_TYPED, mail_params_fatal
from tui.core.postfix.maps import maps_create_error
from tui.core.smtpd.dnsxl import DnsListChecks

# the maps smtpd_check_init() opens when smtpd starts (smtpd_check.c), and
# those smtpd's own start-up opens after it (smtpd.c, smtpd_chat.c)
INIT_MAPS = ("relay_clientcerts", "local_recipient_maps", "sender_canonical_maps", "recipient_canonical_maps",
             "canonical_maps", "virtual_alias_maps", "virtual_mailbox_maps", "relay_recipient_maps",
             "rbl_reply_maps", "smtpd_sender_login_maps")
LATE_MAPS = ("smtpd_discard_ehlo_keyword_address_maps", "smtpd_milter_maps", "smtpd_dns_reply_filter",
             "smtpd_reject_footer_maps")


RCPT_REQUIRED = ("reject_unauth_destination", "defer_unauth_destination", "reject", "defer",
                 "defer_if_permit", "check_relay_domains")


class StartupChecks(DnsListChecks):
    """Which of smtpd's start-up checks fails on this service, if any."""

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
