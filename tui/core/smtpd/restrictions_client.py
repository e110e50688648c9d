"""The generic, client and HELO restrictions, each registered once by name.

Each handler is given the Call of its list walk (registry.Call): the
evaluation as c.ev, and the restriction's argument and the list's reply
names as its kind says.
"""
from __future__ import annotations

from tui.core.postfix.inet_addr_local import interface_addrs
from tui.core.postfix.peer_name import PEER_PERM
from tui.core.smtpd.registry import DOMAIN, NUMBER, SERVICE, TABLE, Call, restriction
from tui.core.smtpd.dnsxl import DnsListChecks
from tui.core.smtpd.state import (MAIL_ERROR_POLICY, NAME_CLIENT, NAME_HELO, NAME_RECIPIENT, NAME_REV_CLIENT, NAME_SASL, NAME_SENDER, SMTPD_CHECK_DUNNO, SMTPD_CHECK_OK)
from tui.core.trace import NOT_EVALUATED


@restriction("check_client_access", arg=TABLE)
def r_check_client_access(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    return ev.check_namadr_access(c.arg, ev.client_name, ev.client_addr, ev.namaddr, NAME_CLIENT,
                                  c.def_acl)


@restriction("permit_mynetworks")
def r_permit_mynetworks(c: Call[DnsListChecks]) -> int:
    return c.ev.permit_mynetworks()


@restriction("check_helo_access", arg=TABLE)
def r_check_helo_access(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    helo = ev.helo_name
    if helo is not None:
        found, st = ev.check_domain_access(c.arg, helo, helo, NAME_HELO, c.def_acl)
        return st
    ev.note_cur("no HELO/EHLO name")
    return SMTPD_CHECK_DUNNO


@restriction("check_sender_access", arg=TABLE)
def r_check_sender_access(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    sender = ev.sender
    if sender:
        found, st = ev.check_mail_access(c.arg, sender, sender, NAME_SENDER, c.def_acl)
        return st
    if sender is not None and sender == "":
        key = ev.p("smtpd_null_access_lookup_key") or "<>"
        found, st = ev.check_access(c.arg, key, False, sender, NAME_SENDER, c.def_acl)
        return st
    return SMTPD_CHECK_DUNNO


@restriction("check_recipient_access", arg=TABLE)
def r_check_recipient_access(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    rcpt = ev.recipient
    if rcpt is not None:
        found, st = ev.check_mail_access(c.arg, rcpt, rcpt, NAME_RECIPIENT, c.def_acl)
        return st
    return SMTPD_CHECK_DUNNO


@restriction("reject_unauth_destination")
def r_reject_unauth_destination(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    rcpt = ev.recipient
    if rcpt is not None:
        return ev.reject_unauth_destination(rcpt, ev.pint("relay_domains_reject_code", 554), "5.7.1")
    return SMTPD_CHECK_DUNNO


@restriction("reject_unlisted_recipient",
             deprecated={"check_recipient_maps": "reject_unlisted_recipient"})
def r_reject_unlisted_recipient(c: Call[DnsListChecks]) -> int:
    rcpt = c.ev.recipient
    if rcpt:
        return c.ev.check_recipient_rcpt_maps(rcpt)
    return SMTPD_CHECK_DUNNO


# ---------------------------------------------------------------- generic
@restriction("permit")
def r_permit(c: Call[DnsListChecks]) -> int:
    return SMTPD_CHECK_OK


@restriction("defer")
def r_defer(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    return ev.check_reject(MAIL_ERROR_POLICY, ev.pint("defer_code", 450), "4.3.2",
                           f"<{c.reply_name}>: {c.reply_class} rejected: Try again later")


@restriction("reject")
def r_reject(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    return ev.check_reject(MAIL_ERROR_POLICY, ev.pint("reject_code", 554), "5.7.1",
                           f"<{c.reply_name}>: {c.reply_class} rejected: Access denied")


@restriction("reject_unauth_pipelining")
def r_reject_unauth_pipelining(c: Call[DnsListChecks]) -> int:
    c.ev.note_cur("the client is assumed to wait for replies (no improper pipelining)")
    return SMTPD_CHECK_DUNNO


@restriction("check_policy_service", arg=SERVICE)
def r_check_policy_service(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    arg = c.arg
    if arg is None or ":" not in arg:
        ev.reject_server_error("restriction check_policy_service must be followed by transport:server")
    ans = ev.policy_answers.get(arg)
    if ans is None:
        ev.conditional = True
        cur = ev.cur
        assert cur is not None   # the step of this restriction
        cur.conditional = True
        cur.outcome = NOT_EVALUATED
        ev.note_cur("policy service not consulted: assumed DUNNO (a real smtpd that cannot "
                    "reach it answers 451 4.3.5 ... Server configuration problem)")
        return SMTPD_CHECK_DUNNO
    ev.note_cur(f"policy service answer supplied: {ans}")
    return ev.check_table_result(arg, ans, c.reply_name, c.reply_name, c.reply_class, c.def_acl)


@restriction("defer_if_permit")
def r_defer_if_permit(c: Call[DnsListChecks]) -> int:
    return c.ev.defer_if_permit2(None, MAIL_ERROR_POLICY, 450, "4.7.0",
                                 f"<{c.reply_name}>: {c.reply_class} rejected: defer_if_permit requested")


@restriction("defer_if_reject")
def r_defer_if_reject(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    ev.defer_if(ev.defer_if_reject, MAIL_ERROR_POLICY, 450, "4.7.0",
                f"<{c.reply_name}>: {c.reply_class} rejected: defer_if_reject requested")
    return SMTPD_CHECK_DUNNO


@restriction("sleep", arg=NUMBER)
def r_sleep(c: Call[DnsListChecks]) -> int:
    arg = c.arg
    if arg is None or not arg.isdigit():
        c.ev.reject_server_error("restriction sleep must be followed by number")
    c.ev.note_cur(f"smtpd would pause {arg} seconds")
    return SMTPD_CHECK_DUNNO


@restriction("reject_plaintext_session")
def r_reject_plaintext_session(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    return ev.check_reject(MAIL_ERROR_POLICY, ev.pint("plaintext_reject_code", 450), "4.7.1",
                           "Session encryption is required")


# ---------------------------------------------------------------- client
@restriction("reject_unknown_client_hostname",
             deprecated={"reject_unknown_client": "reject_unknown_client_hostname"})
def r_reject_unknown_client_hostname(c: Call[DnsListChecks]) -> int:
    # a temporary lookup failure is always 450; unknown_client_reject_code
    # is for a permanent one (smtpd_check.c reject_unknown_client)
    ev = c.ev
    if not ev.name_status_ok:
        code = ev.pint("unknown_client_reject_code", 450) if ev.name_status == PEER_PERM else 450
        return ev.check_reject(MAIL_ERROR_POLICY, code, "4.7.25",
                               f"Client host rejected: cannot find your hostname, [{ev.client_addr}]")
    return SMTPD_CHECK_DUNNO


@restriction("reject_unknown_reverse_client_hostname")
def r_reject_unknown_reverse_client_hostname(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    if not ev.reverse_name_status_ok:
        code = ev.pint("unknown_client_reject_code", 450) if ev.reverse_name_status == PEER_PERM else 450
        return ev.check_reject(MAIL_ERROR_POLICY, code, "4.7.1",
                               f"Client host rejected: cannot find your reverse hostname, [{ev.client_addr}]")
    return SMTPD_CHECK_DUNNO


@restriction("permit_inet_interfaces")
def r_permit_inet_interfaces(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    mine = interface_addrs(ev.main, "inet_interfaces")
    return SMTPD_CHECK_OK if ev.client_addr in mine else SMTPD_CHECK_DUNNO


@restriction("check_reverse_client_hostname_access", arg=TABLE)
def r_check_reverse_client_hostname_access(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    st = ev.check_namadr_access(c.arg, ev.reverse_name, ev.client_addr, ev.reverse_name,
                                NAME_REV_CLIENT, c.def_acl)
    ev.forbid_allowlist(c.name, st, ev.reverse_name)
    return st


@restriction("reject_maps_rbl", replaces="reject_rbl_client domain")
def r_reject_maps_rbl(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    st = SMTPD_CHECK_DUNNO
    for dom in ev.plist("maps_rbl_domains"):
        st = ev.reject_rbl_addr(dom, ev.client_addr, NAME_CLIENT)
        if st != SMTPD_CHECK_DUNNO:
            break
    return st


@restriction("reject_rbl_client", arg=DOMAIN, deprecated={"reject_rbl": "reject_rbl_client"})
def r_reject_rbl_client(c: Call[DnsListChecks]) -> int:
    if c.arg is None:
        c.ev.warnings.append(f"restriction {c.name} requires domain name argument")
        return SMTPD_CHECK_DUNNO
    return c.ev.reject_rbl_addr(c.arg, c.ev.client_addr, NAME_CLIENT)


@restriction("permit_dnswl_client", arg=DOMAIN)
def r_permit_dnswl_client(c: Call[DnsListChecks]) -> int:
    if c.arg is None:
        return SMTPD_CHECK_DUNNO
    return c.ev.permit_dnswl(c.arg, c.ev.client_addr, NAME_CLIENT, is_addr=True)


@restriction("reject_rhsbl_client", arg=DOMAIN)
def r_reject_rhsbl_client(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    if c.arg is not None and ev.client_name.lower() != "unknown":
        return ev.reject_rbl_domain(c.arg, ev.client_name, NAME_CLIENT)
    return SMTPD_CHECK_DUNNO


@restriction("permit_rhswl_client", arg=DOMAIN)
def r_permit_rhswl_client(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    if c.arg is not None and ev.client_name.lower() != "unknown":
        return ev.permit_dnswl(c.arg, ev.client_name, NAME_CLIENT, is_addr=False)
    return SMTPD_CHECK_DUNNO


@restriction("reject_rhsbl_reverse_client", arg=DOMAIN)
def r_reject_rhsbl_reverse_client(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    if c.arg is not None and ev.reverse_name.lower() != "unknown":
        return ev.reject_rbl_domain(c.arg, ev.reverse_name, NAME_REV_CLIENT)
    return SMTPD_CHECK_DUNNO


@restriction("check_ccert_access", arg=TABLE)
def r_check_ccert_access(c: Call[DnsListChecks]) -> int:
    c.ev.note_cur("no TLS client certificate in this transaction")
    return SMTPD_CHECK_DUNNO


@restriction("check_sasl_access", arg=TABLE)
def r_check_sasl_access(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    tx = ev.tx
    if ev.vp.sasl_enable:
        if tx.sasl_login:
            found, st = ev.check_access(c.arg, tx.sasl_login, False, tx.sasl_login, NAME_SASL, c.def_acl)
            return st
        return SMTPD_CHECK_DUNNO
    ev.warnings.append(f"restriction `{c.name}' ignored: no SASL support")
    ev.note_cur("ignored: smtpd_sasl_auth_enable = no")
    return SMTPD_CHECK_DUNNO


@restriction("check_client_ns_access", "check_client_mx_access", "check_client_a_access", arg=TABLE)
def r_check_client_server_access(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    if ev.client_name.lower() != "unknown":
        return ev.server_access_restriction(c, ev.client_name, ev.namaddr, NAME_CLIENT)
    return SMTPD_CHECK_DUNNO


@restriction("check_reverse_client_hostname_ns_access",
             "check_reverse_client_hostname_mx_access",
             "check_reverse_client_hostname_a_access", arg=TABLE)
def r_check_reverse_client_server_access(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    if ev.reverse_name.lower() != "unknown":
        return ev.server_access_restriction(c, ev.reverse_name, ev.reverse_name, NAME_REV_CLIENT)
    return SMTPD_CHECK_DUNNO


# ---------------------------------------------------------------- helo
@restriction("reject_invalid_helo_hostname",
             deprecated={"reject_invalid_hostname": "reject_invalid_helo_hostname"})
def r_reject_invalid_helo_hostname(c: Call[DnsListChecks]) -> int:
    return _helo_hostname(c, c.ev.reject_invalid_hostname)


def _helo_hostname(c: Call[DnsListChecks], by_name) -> int:
    """The reject_*_helo_hostname checks: BY_NAME for a host name, an
    address literal ([...]) checked as an address, nothing without HELO."""
    helo = c.ev.helo_name
    if helo is None:
        return SMTPD_CHECK_DUNNO
    if not helo.startswith("["):
        return by_name(helo, helo, NAME_HELO)
    return c.ev.reject_invalid_hostaddr(helo, helo, NAME_HELO)


@restriction("reject_unknown_helo_hostname",
             deprecated={"reject_unknown_hostname": "reject_unknown_helo_hostname"})
def r_reject_unknown_helo_hostname(c: Call[DnsListChecks]) -> int:
    return _helo_hostname(c, c.ev.reject_unknown_hostname)


@restriction("permit_naked_ip_address", replaces="permit_mynetworks or permit_sasl_authenticated")
def r_permit_naked_ip_address(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    helo = ev.helo_name
    ev.warnings.append("restriction permit_naked_ip_address is deprecated")
    if helo is not None and helo and all(ch in "0123456789.:" for ch in helo):
        st = ev.reject_invalid_hostaddr(helo, helo, NAME_HELO)
        if st == 0:
            return SMTPD_CHECK_OK
        return st
    return SMTPD_CHECK_DUNNO


@restriction("check_helo_ns_access", "check_helo_mx_access", "check_helo_a_access", arg=TABLE)
def r_check_helo_server_access(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    helo = ev.helo_name
    if helo is not None:
        return ev.server_access_restriction(c, helo, helo, NAME_HELO)
    return SMTPD_CHECK_DUNNO


@restriction("reject_non_fqdn_helo_hostname",
             deprecated={"reject_non_fqdn_hostname": "reject_non_fqdn_helo_hostname"})
def r_reject_non_fqdn_helo_hostname(c: Call[DnsListChecks]) -> int:
    return _helo_hostname(c, c.ev.reject_non_fqdn_hostname)


@restriction("reject_rhsbl_helo", arg=DOMAIN)
def r_reject_rhsbl_helo(c: Call[DnsListChecks]) -> int:
    helo = c.ev.helo_name
    if c.arg is not None and helo is not None:
        return c.ev.reject_rbl_domain(c.arg, helo, NAME_HELO)
    return SMTPD_CHECK_DUNNO
