"""DNS allow/block lists (smtpd_check.c reject_rbl_addr, reject_rbl_domain, permit_dnswl)."""
from __future__ import annotations

from tui.core.dns import OK as DNS_OK
from tui.core.dns import TEMPFAIL, UNKNOWN, dnsxl_query
from tui.core.postfix.dsn import dsn_fix, dsn_split
from tui.core.postfix.maps import maps_find
from tui.core.postfix.valid_hostname import valid_hostname
from tui.core.smtpd.checks import BuiltinChecks
from tui.core.smtpd.replies import _mac_expand
from tui.core.smtpd.state import MAIL_ERROR_POLICY, SMTPD_CHECK_DUNNO, SMTPD_CHECK_OK


def _rbl_match(records, codes: str) -> bool:
    """reject_rbl_client zone=127.0.0.[2..11] style reply filters."""
    for rec in records:
        octets = rec.split(".")
        pats = codes.split(".")
        if len(octets) != 4 or len(pats) != 4:
            continue
        ok = True
        for o, pat in zip(octets, pats):
            if pat.startswith("[") and pat.endswith("]"):
                allowed: set = set()
                for part in pat[1:-1].split(";"):
                    if ".." in part:
                        lo, hi = part.split("..", 1)
                        allowed.update(str(x) for x in range(int(lo), int(hi) + 1))
                    else:
                        allowed.add(part)
                if o not in allowed:
                    ok = False
            elif o != pat:
                ok = False
        if ok:
            return True
    return False


class DnsListChecks(BuiltinChecks):
    """RBL/RHSBL and DNSWL/RHSWL checks."""

    # ------------------------------------------------------------ DNSBL
    def reject_rbl_addr(self, rbl_domain: str, addr: str, reply_class: str) -> int:
        zone, _, codes = rbl_domain.partition("=")
        q = dnsxl_query(addr, zone)
        ans = self.dns(q, "A")
        if ans.status == UNKNOWN:
            return self.needs_dns(f"DNSBL lookup {q}")
        if ans.status != DNS_OK or (codes and not _rbl_match(ans.records, codes)):
            return SMTPD_CHECK_DUNNO
        return self.rbl_reject_reply(zone, addr, reply_class, ans)

    def reject_rbl_domain(self, rbl_domain: str, what: str, reply_class: str) -> int:
        zone, _, codes = rbl_domain.partition("=")
        domain = what.rsplit("@", 1)[1] if "@" in what else what
        if not domain or domain.startswith("["):
            return SMTPD_CHECK_DUNNO
        suffix = domain.rsplit(".", 1)[-1]
        if suffix.isdigit() or not valid_hostname(domain):
            return SMTPD_CHECK_DUNNO
        q = f"{domain}.{zone}"
        ans = self.dns(q, "A")
        if ans.status == UNKNOWN:
            return self.needs_dns(f"RHSBL lookup {q}")
        if ans.status != DNS_OK or (codes and not _rbl_match(ans.records, codes)):
            return SMTPD_CHECK_DUNNO
        return self.rbl_reject_reply(zone, what, reply_class, ans)

    def permit_dnswl(self, dnswl: str, what: str, reply_class: str, is_addr: bool) -> int:
        if self.where == "RCPT" and self.recipient is not None:
            if self.permit_auth_destination(self.recipient) != SMTPD_CHECK_OK:
                return SMTPD_CHECK_DUNNO
        zone, _, codes = dnswl.partition("=")
        q = dnsxl_query(what, zone) if is_addr else f"{what}.{zone}"
        ans = self.dns(q, "A")
        if ans.status == UNKNOWN:
            return self.needs_dns(f"DNSWL lookup {q}")
        if ans.status == TEMPFAIL:
            self.defer_if(self.defer_if_reject, MAIL_ERROR_POLICY, 450, "4.7.1",
                          f"<{what}>: {reply_class} rejected: Service unavailable")
            return SMTPD_CHECK_DUNNO
        if ans.status == DNS_OK and (not codes or _rbl_match(ans.records, codes)):
            return SMTPD_CHECK_OK
        return SMTPD_CHECK_DUNNO

    def rbl_reply_text(self, zone: str, what: str, reply_class: str) -> str:
        code = str(self.pint("maps_rbl_reject_code", 554))
        template = None
        specs = self.plist("rbl_reply_maps")
        if specs:
            lk: list = []
            value, err, _spec = maps_find(self.tables, self.view, specs, zone, lk)
            self.add_lookups(lk)
            if err:
                self.reject_server_error(f"rbl_reply_maps lookup error: {err}")
            template = value
        if template is None:
            template = self.view.raw("default_rbl_reply") or ""
            if not template:
                template = ("$rbl_code Service unavailable; $rbl_class [$rbl_what] blocked using "
                            "$rbl_domain${rbl_reason?; $rbl_reason}")
        vals = {"rbl_code": code, "rbl_class": reply_class, "rbl_what": what, "rbl_domain": zone,
                "rbl_reason": "", "rbl_txt": "", "client": self.namaddr, "client_address": self.client_addr,
                "client_name": self.client_name, "helo_name": self.helo_name or "",
                "sender": self.sender or "", "recipient": self.recipient or "",
                "sender_name": (self.sender or "").split("@")[0], "recipient_name": (self.recipient or "").split("@")[0],
                "sender_domain": (self.sender or "").rpartition("@")[2],
                "recipient_domain": (self.recipient or "").rpartition("@")[2],
                "reverse_client_name": self.reverse_name}
        return _mac_expand(template, vals)

    def rbl_reject_reply(self, zone: str, what: str, reply_class: str, ans) -> int:
        why = self.rbl_reply_text(zone, what, reply_class)
        if len(why) < 4 or why[0] not in "45" or not why[1:3].isdigit() or why[3] != " ":
            return self.check_reject(MAIL_ERROR_POLICY, 450, "4.7.1", "Service unavailable")
        code = int(why[:3])
        dsn, t = dsn_split("4.7.1", why[4:])
        return self.check_reject(MAIL_ERROR_POLICY, code, dsn_fix(dsn, reply_class), t or "Service unavailable")
