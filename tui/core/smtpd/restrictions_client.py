"""The generic, client and HELO restrictions, each registered once by name."""
from __future__ import annotations

from tui.core.postfix.inet_addr_local import interface_addrs
from tui.core.postfix.peer_name import PEER_PERM
from tui.core.smtpd.registry import DOMAIN, NUMBER, SERVICE, TABLE, restriction
from tui.core.smtpd.dnsxl import DnsListChecks
from tui.core.smtpd.state import (MAIL_ERROR_POLICY, NAME_CLIENT, NAME_HELO, NAME_RECIPIENT, NAME_REV_CLIENT, NAME_SASL, NAME_SENDER, SMTPD_CHECK_DUNNO, SMTPD_CHECK_OK)
from tui.core.trace import NOT_EVALUATED


class ClientRestrictions(DnsListChecks):
    """Handlers of the generic, client and HELO restrictions."""

    @restriction("check_client_access", arg=TABLE)
    def r_check_client_access(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        return self.check_namadr_access(arg, self.client_name, self.client_addr, self.namaddr,
                                        NAME_CLIENT, def_acl)

    @restriction("permit_mynetworks")
    def r_permit_mynetworks(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        return self.permit_mynetworks()

    @restriction("check_helo_access", arg=TABLE)
    def r_check_helo_access(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        helo = self.helo_name
        if helo is not None:
            found, st = self.check_domain_access(arg, helo, helo, NAME_HELO, def_acl)
            return st
        self.note_cur("no HELO/EHLO name")
        return SMTPD_CHECK_DUNNO

    @restriction("check_sender_access", arg=TABLE)
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

    @restriction("check_recipient_access", arg=TABLE)
    def r_check_recipient_access(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        rcpt = self.recipient
        if rcpt is not None:
            found, st = self.check_mail_access(arg, rcpt, rcpt, NAME_RECIPIENT, def_acl)
            return st
        return SMTPD_CHECK_DUNNO

    @restriction("reject_unauth_destination")
    def r_reject_unauth_destination(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        rcpt = self.recipient
        if rcpt is not None:
            return self.reject_unauth_destination(rcpt, self.pint("relay_domains_reject_code", 554), "5.7.1")
        return SMTPD_CHECK_DUNNO

    @restriction("reject_unlisted_recipient",
                 deprecated={"check_recipient_maps": "reject_unlisted_recipient"})
    def r_reject_unlisted_recipient(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        # also check_recipient_maps
        rcpt = self.recipient
        if rcpt:
            return self.check_recipient_rcpt_maps(rcpt)
        return SMTPD_CHECK_DUNNO

    # generic
    @restriction("permit")
    def r_permit(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        return SMTPD_CHECK_OK

    @restriction("defer")
    def r_defer(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        return self.check_reject(MAIL_ERROR_POLICY, self.pint("defer_code", 450), "4.3.2",
                                 f"<{reply_name}>: {reply_class} rejected: Try again later")

    @restriction("reject")
    def r_reject(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        return self.check_reject(MAIL_ERROR_POLICY, self.pint("reject_code", 554), "5.7.1",
                                 f"<{reply_name}>: {reply_class} rejected: Access denied")

    @restriction("reject_unauth_pipelining")
    def r_reject_unauth_pipelining(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        self.note_cur("the client is assumed to wait for replies (no improper pipelining)")
        return SMTPD_CHECK_DUNNO

    @restriction("check_policy_service", arg=SERVICE)
    def r_check_policy_service(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        if arg is None or ":" not in arg:
            self.reject_server_error("restriction check_policy_service must be followed by transport:server")
        ans = self.policy_answers.get(arg)
        if ans is None:
            self.conditional = True
            cur = self.cur
            assert cur is not None   # the step of this restriction
            cur.conditional = True
            cur.outcome = NOT_EVALUATED
            self.note_cur("policy service not consulted: assumed DUNNO (a real smtpd that cannot "
                          "reach it answers 451 4.3.5 ... Server configuration problem)")
            return SMTPD_CHECK_DUNNO
        self.note_cur(f"policy service answer supplied: {ans}")
        return self.check_table_result(arg, ans, reply_name, reply_name, reply_class, def_acl)

    @restriction("defer_if_permit")
    def r_defer_if_permit(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        return self.defer_if_permit2(None, MAIL_ERROR_POLICY, 450, "4.7.0",
                                     f"<{reply_name}>: {reply_class} rejected: defer_if_permit requested")

    @restriction("defer_if_reject")
    def r_defer_if_reject(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        self.defer_if(self.defer_if_reject, MAIL_ERROR_POLICY, 450, "4.7.0",
                      f"<{reply_name}>: {reply_class} rejected: defer_if_reject requested")
        return SMTPD_CHECK_DUNNO

    @restriction("sleep", arg=NUMBER)
    def r_sleep(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        if arg is None or not arg.isdigit():
            self.reject_server_error("restriction sleep must be followed by number")
        self.note_cur(f"smtpd would pause {arg} seconds")
        return SMTPD_CHECK_DUNNO

    @restriction("reject_plaintext_session")
    def r_reject_plaintext_session(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        return self.check_reject(MAIL_ERROR_POLICY, self.pint("plaintext_reject_code", 450), "4.7.1",
                                 "Session encryption is required")

    # client
    @restriction("reject_unknown_client_hostname",
                 deprecated={"reject_unknown_client": "reject_unknown_client_hostname"})
    def r_reject_unknown_client_hostname(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        # also reject_unknown_client
        # a temporary lookup failure is always 450; unknown_client_reject_code
        # is for a permanent one (smtpd_check.c reject_unknown_client)
        if not self.name_status_ok:
            code = self.pint("unknown_client_reject_code", 450) if self.name_status == PEER_PERM else 450
            return self.check_reject(MAIL_ERROR_POLICY, code,
                                     "4.7.25",
                                     f"Client host rejected: cannot find your hostname, [{self.client_addr}]")
        return SMTPD_CHECK_DUNNO

    @restriction("reject_unknown_reverse_client_hostname")
    def r_reject_unknown_reverse_client_hostname(self, name, orig, arg, reply_name, reply_class,
                                                 def_acl) -> int:
        if not self.reverse_name_status_ok:
            code = self.pint("unknown_client_reject_code", 450) if self.reverse_name_status == PEER_PERM else 450
            return self.check_reject(MAIL_ERROR_POLICY, code,
                                     "4.7.1",
                                     f"Client host rejected: cannot find your reverse hostname, [{self.client_addr}]")
        return SMTPD_CHECK_DUNNO

    @restriction("permit_inet_interfaces")
    def r_permit_inet_interfaces(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        mine = interface_addrs(self.main, "inet_interfaces")
        return SMTPD_CHECK_OK if self.client_addr in mine else SMTPD_CHECK_DUNNO

    @restriction("check_reverse_client_hostname_access", arg=TABLE)
    def r_check_reverse_client_hostname_access(self, name, orig, arg, reply_name, reply_class,
                                               def_acl) -> int:
        st = self.check_namadr_access(arg, self.reverse_name, self.client_addr, self.reverse_name,
                                      NAME_REV_CLIENT, def_acl)
        self.forbid_allowlist(name, st, self.reverse_name)
        return st

    @restriction("reject_maps_rbl", replaces="reject_rbl_client domain")
    def r_reject_maps_rbl(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        st = SMTPD_CHECK_DUNNO
        for dom in self.plist("maps_rbl_domains"):
            st = self.reject_rbl_addr(dom, self.client_addr, NAME_CLIENT)
            if st != SMTPD_CHECK_DUNNO:
                break
        return st

    @restriction("reject_rbl_client", arg=DOMAIN, deprecated={"reject_rbl": "reject_rbl_client"})
    def r_reject_rbl_client(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        # also reject_rbl
        if arg is None:
            self.warnings.append(f"restriction {name} requires domain name argument")
            return SMTPD_CHECK_DUNNO
        return self.reject_rbl_addr(arg, self.client_addr, NAME_CLIENT)

    @restriction("permit_dnswl_client", arg=DOMAIN)
    def r_permit_dnswl_client(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        if arg is None:
            return SMTPD_CHECK_DUNNO
        return self.permit_dnswl(arg, self.client_addr, NAME_CLIENT, is_addr=True)

    @restriction("reject_rhsbl_client", arg=DOMAIN)
    def r_reject_rhsbl_client(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        if arg is not None and self.client_name.lower() != "unknown":
            return self.reject_rbl_domain(arg, self.client_name, NAME_CLIENT)
        return SMTPD_CHECK_DUNNO

    @restriction("permit_rhswl_client", arg=DOMAIN)
    def r_permit_rhswl_client(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        if arg is not None and self.client_name.lower() != "unknown":
            return self.permit_dnswl(arg, self.client_name, NAME_CLIENT, is_addr=False)
        return SMTPD_CHECK_DUNNO

    @restriction("reject_rhsbl_reverse_client", arg=DOMAIN)
    def r_reject_rhsbl_reverse_client(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        if arg is not None and self.reverse_name.lower() != "unknown":
            return self.reject_rbl_domain(arg, self.reverse_name, NAME_REV_CLIENT)
        return SMTPD_CHECK_DUNNO

    @restriction("check_ccert_access", arg=TABLE)
    def r_check_ccert_access(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        self.note_cur("no TLS client certificate in this transaction")
        return SMTPD_CHECK_DUNNO

    @restriction("check_sasl_access", arg=TABLE)
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

    @restriction("check_client_ns_access", "check_client_mx_access", "check_client_a_access",
                 arg=TABLE)
    def r_check_client_server_access(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        # check_client_{ns,mx,a}_access
        if self.client_name.lower() != "unknown":
            st = self.check_server_access(arg, self.client_name, name.split("_")[2].upper(),
                                          self.namaddr, NAME_CLIENT, def_acl)
            self.forbid_allowlist(name, st, self.client_name)
            return st
        return SMTPD_CHECK_DUNNO

    @restriction("check_reverse_client_hostname_ns_access",
                 "check_reverse_client_hostname_mx_access",
                 "check_reverse_client_hostname_a_access", arg=TABLE)
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
    @restriction("reject_invalid_helo_hostname",
                 deprecated={"reject_invalid_hostname": "reject_invalid_helo_hostname"})
    def r_reject_invalid_helo_hostname(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        # also reject_invalid_hostname
        helo = self.helo_name
        if helo is not None:
            if not helo.startswith("["):
                return self.reject_invalid_hostname(helo, helo, NAME_HELO)
            return self.reject_invalid_hostaddr(helo, helo, NAME_HELO)
        return SMTPD_CHECK_DUNNO

    @restriction("reject_unknown_helo_hostname",
                 deprecated={"reject_unknown_hostname": "reject_unknown_helo_hostname"})
    def r_reject_unknown_helo_hostname(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        # also reject_unknown_hostname
        helo = self.helo_name
        if helo is not None:
            if not helo.startswith("["):
                return self.reject_unknown_hostname(helo, helo, NAME_HELO)
            return self.reject_invalid_hostaddr(helo, helo, NAME_HELO)
        return SMTPD_CHECK_DUNNO

    @restriction("permit_naked_ip_address",
                 replaces="permit_mynetworks or permit_sasl_authenticated")
    def r_permit_naked_ip_address(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        helo = self.helo_name
        self.warnings.append("restriction permit_naked_ip_address is deprecated")
        if helo is not None and helo and all(c in "0123456789.:" for c in helo):
            st = self.reject_invalid_hostaddr(helo, helo, NAME_HELO)
            if st == 0:
                return SMTPD_CHECK_OK
            return st
        return SMTPD_CHECK_DUNNO

    @restriction("check_helo_ns_access", "check_helo_mx_access", "check_helo_a_access", arg=TABLE)
    def r_check_helo_server_access(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        # check_helo_{ns,mx,a}_access
        helo = self.helo_name
        if helo is not None:
            st = self.check_server_access(arg, helo, name.split("_")[2].upper(), helo, NAME_HELO, def_acl)
            self.forbid_allowlist(name, st, helo)
            return st
        return SMTPD_CHECK_DUNNO

    @restriction("reject_non_fqdn_helo_hostname",
                 deprecated={"reject_non_fqdn_hostname": "reject_non_fqdn_helo_hostname"})
    def r_reject_non_fqdn_helo_hostname(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        # also reject_non_fqdn_hostname
        helo = self.helo_name
        if helo is not None:
            if not helo.startswith("["):
                return self.reject_non_fqdn_hostname(helo, helo, NAME_HELO)
            return self.reject_invalid_hostaddr(helo, helo, NAME_HELO)
        return SMTPD_CHECK_DUNNO

    @restriction("reject_rhsbl_helo", arg=DOMAIN)
    def r_reject_rhsbl_helo(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        helo = self.helo_name
        if arg is not None and helo is not None:
            return self.reject_rbl_domain(arg, helo, NAME_HELO)
        return SMTPD_CHECK_DUNNO
