"""The sender, recipient and ETRN restrictions, each registered once by name."""
from __future__ import annotations

from tui.core.smtpd.registry import DOMAIN, TABLE, restriction
from tui.core.smtpd.restrictions_client import ClientRestrictions
from tui.core.smtpd.state import (MAIL_ERROR_POLICY, NAME_RECIPIENT, NAME_SENDER, SMTPD_CHECK_DUNNO, SMTPD_CHECK_OK)


class MailRestrictions(ClientRestrictions):
    """Handlers of the sender, recipient and ETRN restrictions."""

    # sender
    @restriction("reject_unknown_address", "reject_unknown_sender_domain")
    def r_reject_unknown_sender_domain(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        # also reject_unknown_address
        sender = self.sender
        if sender:
            return self.reject_unknown_address(sender, sender, NAME_SENDER)
        return SMTPD_CHECK_DUNNO

    @restriction("reject_unverified_sender")
    def r_reject_unverified_sender(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        sender = self.sender
        if sender:
            return self.reject_unverified(sender, NAME_SENDER)
        return SMTPD_CHECK_DUNNO

    @restriction("reject_non_fqdn_sender")
    def r_reject_non_fqdn_sender(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        sender = self.sender
        if sender:
            return self.reject_non_fqdn_address(sender, sender, NAME_SENDER)
        return SMTPD_CHECK_DUNNO

    @restriction("reject_authenticated_sender_login_mismatch", "reject_known_sender_login_mismatch",
                 "reject_unauthenticated_sender_login_mismatch", "reject_sender_login_mismatch")
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

    @restriction("check_sender_ns_access", "check_sender_mx_access", "check_sender_a_access",
                 arg=TABLE)
    def r_check_sender_server_access(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        # check_sender_{ns,mx,a}_access
        sender = self.sender
        if sender:
            st = self.check_server_access(arg, sender, name.split("_")[2].upper(), sender, NAME_SENDER, def_acl)
            self.forbid_allowlist(name, st, sender)
            return st
        return SMTPD_CHECK_DUNNO

    @restriction("reject_rhsbl_sender", arg=DOMAIN)
    def r_reject_rhsbl_sender(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        sender = self.sender
        if arg is not None and sender:
            return self.reject_rbl_domain(arg, sender, NAME_SENDER)
        return SMTPD_CHECK_DUNNO

    @restriction("reject_unlisted_sender")
    def r_reject_unlisted_sender(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        sender = self.sender
        if sender:
            return self.check_sender_rcpt_maps(sender)
        return SMTPD_CHECK_DUNNO

    # recipient
    @restriction("permit_mx_backup")
    def r_permit_mx_backup(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        rcpt = self.recipient
        if rcpt is not None:
            return self.permit_mx_backup(rcpt, rcpt, NAME_RECIPIENT)
        return SMTPD_CHECK_DUNNO

    @restriction("permit_auth_destination")
    def r_permit_auth_destination(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        rcpt = self.recipient
        if rcpt is not None:
            return self.permit_auth_destination(rcpt)
        return SMTPD_CHECK_DUNNO

    @restriction("defer_unauth_destination")
    def r_defer_unauth_destination(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        rcpt = self.recipient
        if rcpt is not None:
            return self.reject_unauth_destination(rcpt, self.pint("relay_domains_reject_code", 554) - 100,
                                                  "4.7.1")
        return SMTPD_CHECK_DUNNO

    @restriction("check_relay_domains", replaces="reject_unauth_destination")
    def r_check_relay_domains(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        rcpt = self.recipient
        st = SMTPD_CHECK_DUNNO
        if rcpt is not None:
            st = self.check_relay_domains(rcpt, rcpt, NAME_RECIPIENT)
        return st

    @restriction("permit_sasl_authenticated")
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

    @restriction("permit_tls_all_clientcerts", "permit_tls_clientcerts")
    def r_permit_tls_clientcerts(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        # also permit_tls_all_clientcerts
        self.note_cur("no TLS client certificate in this transaction: never matches")
        return SMTPD_CHECK_DUNNO

    @restriction("reject_unknown_recipient_domain")
    def r_reject_unknown_recipient_domain(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        rcpt = self.recipient
        if rcpt is not None:
            return self.reject_unknown_address(rcpt, rcpt, NAME_RECIPIENT)
        return SMTPD_CHECK_DUNNO

    @restriction("reject_non_fqdn_recipient")
    def r_reject_non_fqdn_recipient(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        rcpt = self.recipient
        if rcpt is not None:
            return self.reject_non_fqdn_address(rcpt, rcpt, NAME_RECIPIENT)
        return SMTPD_CHECK_DUNNO

    @restriction("check_recipient_ns_access", "check_recipient_mx_access",
                 "check_recipient_a_access", arg=TABLE)
    def r_check_recipient_server_access(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        # check_recipient_{ns,mx,a}_access
        rcpt = self.recipient
        if rcpt:
            st = self.check_server_access(arg, rcpt, name.split("_")[2].upper(), rcpt, NAME_RECIPIENT, def_acl)
            self.forbid_allowlist(name, st, rcpt)
            return st
        return SMTPD_CHECK_DUNNO

    @restriction("reject_rhsbl_recipient", arg=DOMAIN)
    def r_reject_rhsbl_recipient(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        rcpt = self.recipient
        if arg is not None and rcpt is not None:
            return self.reject_rbl_domain(arg, rcpt, NAME_RECIPIENT)
        return SMTPD_CHECK_DUNNO

    @restriction("reject_multi_recipient_bounce")
    def r_reject_multi_recipient_bounce(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        sender = self.sender
        if sender is not None and sender == "" and self.rcpt_count > (0 if self.where == "RCPT" else 1):
            return self.check_reject(MAIL_ERROR_POLICY, self.pint("multi_recipient_bounce_reject_code", 550),
                                     "5.5.3", f"<{reply_name}>: {reply_class} rejected: Multi-recipient bounce")
        self.note_cur("one recipient in this transaction")
        return SMTPD_CHECK_DUNNO

    @restriction("reject_unverified_recipient")
    def r_reject_unverified_recipient(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        rcpt = self.recipient
        if rcpt:
            return self.reject_unverified(rcpt, NAME_RECIPIENT)
        return SMTPD_CHECK_DUNNO

    @restriction("check_etrn_access", arg=TABLE)
    def r_check_etrn_access(self, name, orig, arg, reply_name, reply_class, def_acl) -> int:
        return SMTPD_CHECK_DUNNO
