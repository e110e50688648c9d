"""smtpd's recipient validation (smtpd_check.c check_rcpt_maps)."""
from __future__ import annotations

from tui.core.cache import resolve_addr
from tui.core.config.params import param_int
from tui.core.model import Record
from tui.core.postfix.addr_conf import CLASS_ALIAS, CLASS_LOCAL, RECIPIENT_MAPS, addr_conf
from tui.core.postfix.dsn import dsn_fix, is_dsn
from tui.core.postfix.mail_addr import mail_addr_find
from tui.core.postfix.maps import TableFailure
from tui.core.rewrite.resolve import Resolved


class Validation(Record):
    __slots__ = _fields = ("ok", "code", "dsn", "text", "table_param", "matched_param", "matched_key",
                           "matched_spec", "lookups", "resolved", "skipped")
    ok: bool
    code: int
    dsn: str
    text: str                   # "User unknown in virtual mailbox table"
    table_param: str | None     # parameter whose tables decided
    matched_param: str | None   # canonical/virtual alias hit
    matched_key: str | None
    matched_spec: str | None
    lookups: list
    resolved: Resolved | None
    skipped: str | None

    def __init__(self, ok: bool, code: int = 0, dsn: str = "", text: str = "", table_param: str | None = None,
                 matched_param: str | None = None, matched_key: str | None = None,
                 matched_spec: str | None = None, lookups: list | None = None, resolved: Resolved | None = None,
                 skipped: str | None = None) -> None:
        self.ok = ok
        self.code = code
        self.dsn = dsn
        self.text = text
        self.table_param = table_param
        self.matched_param = matched_param
        self.matched_key = matched_key
        self.matched_spec = matched_spec
        self.lookups = [] if lookups is None else lookups
        self.resolved = resolved
        self.skipped = skipped


def validate_recipient(env, address: str, reply_class: str) -> Validation:
    """check_rcpt_maps(): is this address known? Raises TableFailure."""
    view = env.view
    conf = addr_conf(env, view)
    sender_class = reply_class == "Sender address"
    if conf.no_unknown_recipient_checks:
        return Validation(True, skipped="receive_override_options = no_unknown_recipient_checks")
    res = resolve_addr(env, address)
    v = Validation(True, resolved=res)
    lk = v.lookups
    lk.extend(res.lookups)
    rcpt = res.recipient
    for param, specs in (conf.sender_mapping if sender_class else conf.recipient_mapping):
        try:
            value, key, spec = mail_addr_find(env, view, specs, rcpt, lk)
        except TableFailure as exc:
            exc.lookups = lk
            raise
        if value is not None:
            v.matched_param, v.matched_key, v.matched_spec = param, key, spec
            return v
    show = conf.show_table
    dsn_default = "5.1.0" if sender_class else "5.1.1"
    if res.transport == "error":
        text = res.nexthop
        dsn = dsn_default
        parts = text.split(" ", 1)
        if len(parts) == 2 and is_dsn(parts[0]):
            dsn, text = parts[0], parts[1]
        code = param_int(view, "unknown_virtual_alias_reject_code", 550) if res.address_class == CLASS_ALIAS else 550
        return Validation(False, code, dsn_fix(dsn, reply_class), text,
                          table_param="virtual_alias_maps", lookups=lk, resolved=res)
    if res.transport == "retry":
        return Validation(False, 450, dsn_fix("4.1.0" if sender_class else "4.1.1", reply_class),
                          res.nexthop, lookups=lk, resolved=res)

    def unknown(param: str, code_param: str, what: str) -> Validation:
        return Validation(False, param_int(view, code_param, 550), dsn_default,
                          "User unknown" + (f" in {what} table" if show else ""),
                          table_param=param, lookups=lk, resolved=res)

    maps = RECIPIENT_MAPS.get(res.address_class)
    if maps is not None:
        param, code_param, what = maps
        specs = conf.recipient_maps[param]
        if specs:
            if res.address_class == CLASS_LOCAL:
                local = rcpt.rsplit("@", 1)[0]
                if local in (conf.double_bounce, "postmaster", "mailer-daemon"):
                    return v
            value, key, spec = mail_addr_find(env, view, specs, rcpt, lk)
            if value is None:
                return unknown(param, code_param, what)
            v.matched_param, v.matched_key, v.matched_spec = param, key, spec
    return v
