"""The checks behind the built-in restrictions: host names, addresses, destinations, logins, recipient tables."""
from __future__ import annotations

from tui.core.dns import OK as DNS_OK
from tui.core.dns import NOTFOUND, NULLMX, TEMPFAIL, UNKNOWN
from tui.core.postfix.addr_conf import (CLASS_ALIAS, CLASS_LOCAL, CLASS_RELAY, CLASS_TEXT, CLASS_VIRTUAL)
from tui.core.postfix.dsn import dsn_fix
from tui.core.postfix.mail_addr import mail_addr_find
from tui.core.postfix.maps import TableFailure
from tui.core.postfix.match_list import domain_list_match, parent_style
from tui.core.postfix.valid_hostname import valid_hostaddr, valid_hostname, valid_mailhost_addr
from tui.core.smtpd.access import AccessChecks
from tui.core.smtpd.recipient_maps import validate_recipient
from tui.core.smtpd.state import (DICT_ERR_RETRY, MAIL_ERROR_BOUNCE, MAIL_ERROR_POLICY, NAME_RECIPIENT, NAME_SENDER, SMTPD_CHECK_DUNNO, SMTPD_CHECK_OK)
from tui.core.trace import NOT_EVALUATED

# reject_unlisted_sender before this RCPT's MAIL FROM stage (client or HELO
# restrictions with smtpd_delay_reject = yes): smtpd 3.7 skips it when its
# "sender checked" flag is set, which only smtpd_check_mail() resets and
# smtpd_state_init() leaves as the process's previous session left it
SENDER_FLAG_NOTE = ("smtpd runs this check here only when its 'sender already checked' flag is clear; "
                    "that flag is reset by the MAIL FROM restrictions, which come after this list, and "
                    "not when a session starts: a real smtpd process whose previous session checked its "
                    "sender (and did not reach MAIL FROM's restrictions after that) skips this check, and "
                    "the next restriction answers")


class BuiltinChecks(AccessChecks):
    """smtpd_check.c's reject_*/permit_* helpers other than DNS lists."""

    # ------------------------------------------------------------ client
    def permit_mynetworks(self) -> int:
        items = self.vp.mynetworks
        lk: list = []
        m = self.mynetworks_match(lk)
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
        if valid_mailhost_addr(test) is None:
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
        if r.address_class in (CLASS_LOCAL, CLASS_ALIAS, CLASS_VIRTUAL):
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
        if r.address_class in (CLASS_LOCAL, CLASS_ALIAS, CLASS_VIRTUAL):
            self.note_cur(f"domain {domain} is in address class {CLASS_TEXT[r.address_class]}"
                          + (f", matched {r.class_pattern}" if r.class_pattern else ""))
            return SMTPD_CHECK_OK
        if r.address_class == CLASS_RELAY:
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
        m = domain_list_match(self.tables, self.view, self.plist("relay_domains"), self.client_name,
                                parent_style(self.view, "relay_domains"), lk)
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
        if r.address_class in (CLASS_LOCAL, CLASS_ALIAS, CLASS_VIRTUAL, CLASS_RELAY):
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

    # ------------------------------------------------------------ SASL sender ownership
    def sender_owners(self, sender: str) -> str | None:
        """The SASL logins that smtpd_sender_login_maps gives for the resolved
        SENDER (None when not listed); a lookup error defers like smtpd."""
        r = self.resolve(sender)
        specs = self.plist("smtpd_sender_login_maps")
        lk: list = []
        try:
            owners, _key, _spec = mail_addr_find(self, self.view, specs, r.recipient, lk)
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
        if not self.sender_flag_reset:
            self.note_cur(SENDER_FLAG_NOTE)
        if self.warn_if_reject == 0:
            self.sender_rcptmap_checked = True
        return self.check_rcpt_maps(sender, NAME_SENDER)

    def check_rcpt_maps(self, address: str, reply_class: str) -> int:
        try:
            v = validate_recipient(self, address, reply_class)
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
