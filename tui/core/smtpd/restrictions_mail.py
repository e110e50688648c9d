"""The sender, recipient and ETRN restrictions, each registered once by name
(given their list walk's registry.Call, as in restrictions_client)."""
from __future__ import annotations

from tui.core.smtpd.dnsxl import DnsListChecks
from tui.core.smtpd.registry import DOMAIN, TABLE, Call, restriction
from tui.core.smtpd.state import (MAIL_ERROR_POLICY, NAME_RECIPIENT, NAME_SENDER, SMTPD_CHECK_DUNNO, SMTPD_CHECK_OK)


# ---------------------------------------------------------------- sender
@restriction("reject_unknown_address", "reject_unknown_sender_domain")
def r_reject_unknown_sender_domain(c: Call[DnsListChecks]) -> int:
    sender = c.ev.sender
    if sender:
        return c.ev.reject_unknown_address(sender, sender, NAME_SENDER)
    return SMTPD_CHECK_DUNNO


@restriction("reject_unverified_sender")
def r_reject_unverified_sender(c: Call[DnsListChecks]) -> int:
    sender = c.ev.sender
    if sender:
        return c.ev.reject_unverified(sender, NAME_SENDER)
    return SMTPD_CHECK_DUNNO


@restriction("reject_non_fqdn_sender")
def r_reject_non_fqdn_sender(c: Call[DnsListChecks]) -> int:
    sender = c.ev.sender
    if sender:
        return c.ev.reject_non_fqdn_address(sender, sender, NAME_SENDER)
    return SMTPD_CHECK_DUNNO


@restriction("reject_authenticated_sender_login_mismatch", "reject_known_sender_login_mismatch",
             "reject_unauthenticated_sender_login_mismatch", "reject_sender_login_mismatch")
def r_sender_login_mismatch(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    name = c.name
    sender = ev.sender
    if not ev.vp.sasl_enable:
        ev.warnings.append(f"restriction `{name}' ignored: no SASL support")
        ev.note_cur("ignored: smtpd_sasl_auth_enable = no")
        return SMTPD_CHECK_DUNNO
    if not sender:
        return SMTPD_CHECK_DUNNO
    if name == "reject_authenticated_sender_login_mismatch":
        return ev.auth_sender_login_mismatch(sender, allow_unknown=False)
    if name == "reject_known_sender_login_mismatch":
        if ev.tx.sasl_login:
            return ev.auth_sender_login_mismatch(sender, allow_unknown=True)
        return ev.unauth_sender_login_mismatch(sender)
    if name == "reject_unauthenticated_sender_login_mismatch":
        return ev.unauth_sender_login_mismatch(sender)
    # reject_sender_login_mismatch: built-in class of the two above
    st = ev.auth_sender_login_mismatch(sender, allow_unknown=False)
    if st:
        return st
    return ev.unauth_sender_login_mismatch(sender)


@restriction("check_sender_ns_access", "check_sender_mx_access", "check_sender_a_access", arg=TABLE)
def r_check_sender_server_access(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    sender = ev.sender
    if sender:
        return ev.server_access_restriction(c, sender, sender, NAME_SENDER)
    return SMTPD_CHECK_DUNNO


@restriction("reject_rhsbl_sender", arg=DOMAIN)
def r_reject_rhsbl_sender(c: Call[DnsListChecks]) -> int:
    sender = c.ev.sender
    if c.arg is not None and sender:
        return c.ev.reject_rbl_domain(c.arg, sender, NAME_SENDER)
    return SMTPD_CHECK_DUNNO


@restriction("reject_unlisted_sender")
def r_reject_unlisted_sender(c: Call[DnsListChecks]) -> int:
    sender = c.ev.sender
    if sender:
        return c.ev.check_sender_rcpt_maps(sender)
    return SMTPD_CHECK_DUNNO


# ---------------------------------------------------------------- recipient
@restriction("permit_mx_backup")
def r_permit_mx_backup(c: Call[DnsListChecks]) -> int:
    rcpt = c.ev.recipient
    if rcpt is not None:
        return c.ev.permit_mx_backup(rcpt, rcpt, NAME_RECIPIENT)
    return SMTPD_CHECK_DUNNO


@restriction("permit_auth_destination")
def r_permit_auth_destination(c: Call[DnsListChecks]) -> int:
    rcpt = c.ev.recipient
    if rcpt is not None:
        return c.ev.permit_auth_destination(rcpt)
    return SMTPD_CHECK_DUNNO


@restriction("defer_unauth_destination")
def r_defer_unauth_destination(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    rcpt = ev.recipient
    if rcpt is not None:
        return ev.reject_unauth_destination(rcpt, ev.pint("relay_domains_reject_code", 554) - 100, "4.7.1")
    return SMTPD_CHECK_DUNNO


@restriction("check_relay_domains", replaces="reject_unauth_destination")
def r_check_relay_domains(c: Call[DnsListChecks]) -> int:
    rcpt = c.ev.recipient
    if rcpt is not None:
        return c.ev.check_relay_domains(rcpt, rcpt, NAME_RECIPIENT)
    return SMTPD_CHECK_DUNNO


@restriction("permit_sasl_authenticated")
def r_permit_sasl_authenticated(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    login = ev.tx.sasl_login
    if ev.vp.sasl_enable:
        if login:
            ev.note_cur(f"client authenticated as {login}")
            return SMTPD_CHECK_OK
        ev.note_cur("client did not authenticate")
    else:
        ev.note_cur("SASL is off on this service (smtpd_sasl_auth_enable = no)")
    return SMTPD_CHECK_DUNNO


@restriction("permit_tls_all_clientcerts", "permit_tls_clientcerts")
def r_permit_tls_clientcerts(c: Call[DnsListChecks]) -> int:
    c.ev.note_cur("no TLS client certificate in this transaction: never matches")
    return SMTPD_CHECK_DUNNO


@restriction("reject_unknown_recipient_domain")
def r_reject_unknown_recipient_domain(c: Call[DnsListChecks]) -> int:
    rcpt = c.ev.recipient
    if rcpt is not None:
        return c.ev.reject_unknown_address(rcpt, rcpt, NAME_RECIPIENT)
    return SMTPD_CHECK_DUNNO


@restriction("reject_non_fqdn_recipient")
def r_reject_non_fqdn_recipient(c: Call[DnsListChecks]) -> int:
    rcpt = c.ev.recipient
    if rcpt is not None:
        return c.ev.reject_non_fqdn_address(rcpt, rcpt, NAME_RECIPIENT)
    return SMTPD_CHECK_DUNNO


@restriction("check_recipient_ns_access", "check_recipient_mx_access", "check_recipient_a_access",
             arg=TABLE)
def r_check_recipient_server_access(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    rcpt = ev.recipient
    if rcpt:
        return ev.server_access_restriction(c, rcpt, rcpt, NAME_RECIPIENT)
    return SMTPD_CHECK_DUNNO


@restriction("reject_rhsbl_recipient", arg=DOMAIN)
def r_reject_rhsbl_recipient(c: Call[DnsListChecks]) -> int:
    rcpt = c.ev.recipient
    if c.arg is not None and rcpt is not None:
        return c.ev.reject_rbl_domain(c.arg, rcpt, NAME_RECIPIENT)
    return SMTPD_CHECK_DUNNO


@restriction("reject_multi_recipient_bounce")
def r_reject_multi_recipient_bounce(c: Call[DnsListChecks]) -> int:
    ev = c.ev
    sender = ev.sender
    if sender is not None and sender == "" and ev.rcpt_count > (0 if ev.where == "RCPT" else 1):
        return ev.check_reject(MAIL_ERROR_POLICY, ev.pint("multi_recipient_bounce_reject_code", 550),
                               "5.5.3", f"<{c.reply_name}>: {c.reply_class} rejected: Multi-recipient bounce")
    ev.note_cur("one recipient in this transaction")
    return SMTPD_CHECK_DUNNO


@restriction("reject_unverified_recipient")
def r_reject_unverified_recipient(c: Call[DnsListChecks]) -> int:
    rcpt = c.ev.recipient
    if rcpt:
        return c.ev.reject_unverified(rcpt, NAME_RECIPIENT)
    return SMTPD_CHECK_DUNNO


@restriction("check_etrn_access", arg=TABLE)
def r_check_etrn_access(c: Call[DnsListChecks]) -> int:
    return SMTPD_CHECK_DUNNO
