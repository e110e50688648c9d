"""What smtpd reads per command besides the restriction lists (smtpd.c).

Modelled here:
- smtpd_command_filter: each command line is looked up in the table before
  it is parsed; a hit replaces the line (iRedMail strips Outlook's quotes
  from `RCPT TO:<'a@b'>` this way). The engine builds the lines a client
  sends (`EHLO name`, `MAIL FROM:<sender>`, `RCPT TO:<recipient>`).
- local_header_rewrite_clients: evaluated at every MAIL FROM, after the
  sender restrictions when smtpd_delay_reject = no
  (smtpd_check.c smtpd_check_rewrite()). A match only chooses the rewrite
  context of the message headers; a lookup error answers MAIL with
  `451 4.3.0 Temporary lookup error`.

What smtpd also reads per command and the engine does not evaluate is
listed in UNMODELLED: a trace names each one the configuration sets.
"""
from __future__ import annotations

import re

from tui.core.config.params import param, param_bool
from tui.core.postfix.inet_addr_local import interface_addrs
from tui.core.smtpd.state import DICT_ERR_RETRY, SMTPD_CHECK_DUNNO, SMTPD_CHECK_OK
from tui.core.trace import DEFER, NOT_EVALUATED, NO_MATCH

# (parameter, what it does per command): read by smtpd 3.7 at
# CONNECT/HELO/MAIL/RCPT, able to change the answer, not modelled.
UNMODELLED: tuple[tuple[str, str], ...] = (
    ("smtpd_proxy_filter", "the before-queue content filter answers MAIL and RCPT itself: the trace "
                           "assumes it lets the mail through"),
    ("smtpd_upstream_proxy_protocol", "the client address comes from the proxy protocol header"),
    ("smtpd_client_connection_count_limit", "anvil connection limit (421 at connect)"),
    ("smtpd_client_connection_rate_limit", "anvil connection rate limit (421 at connect)"),
    ("smtpd_client_message_rate_limit", "anvil message rate limit (452 at MAIL)"),
    ("smtpd_client_recipient_rate_limit", "anvil recipient rate limit (452 at RCPT)"),
    ("smtpd_tls_security_level", "with encrypt, MAIL needs STARTTLS first (530); "
                                 "the trace assumes the TLS state needed"),
    ("smtpd_enforce_tls", "MAIL needs STARTTLS first (530); the trace assumes the TLS state needed"),
    ("queue_minfree", "MAIL is refused with 452 when the queue file system is short of space"),
    ("smtpd_recipient_limit", "recipients per message (one recipient here)"),
)

_CMD_ARG = re.compile(r"\s*(<[^>]*>|\S*)")


def tls_required(view) -> str | None:
    """The parameter that makes smtpd answer every command but EHLO, HELO,
    STARTTLS, XCLIENT, NOOP and QUIT with "530 5.7.0 Must issue a STARTTLS
    command first" until the client has used STARTTLS (smtpd.c
    var_smtpd_enforce_tls): smtpd_tls_security_level when it is set (encrypt,
    or secure, verify and fingerprint, which smtpd takes as encrypt), else
    smtpd_enforce_tls. None when TLS is optional, or with
    smtpd_tls_wrappermode (the client speaks TLS from the start)."""
    if param_bool(view, "smtpd_tls_wrappermode"):
        return None
    level = param(view, "smtpd_tls_security_level").strip().lower()
    if level:
        return "smtpd_tls_security_level" if level in ("encrypt", "secure", "verify", "fingerprint") else None
    return "smtpd_enforce_tls" if param_bool(view, "smtpd_enforce_tls") else None


def not_evaluated_notes(st) -> list[str]:
    """Notes for the parameters of UNMODELLED this service sets (the TLS
    requirement only when the transaction does not say whether the client
    used STARTTLS)."""
    memo = st.tables.config_memo
    key = ("per_command_not_evaluated", st.view)
    got = memo.get(key)
    if got is None:
        out: list[str] = []
        tls_at = None   # where the TLS requirement's note is
        tls = tls_required(st.view)
        for name, what in UNMODELLED:
            src = st.source(name)
            if src is None or src.kind in ("default", "host"):
                continue
            val = st.p(name).strip()
            if name in ("smtpd_tls_security_level", "smtpd_enforce_tls"):
                if name == tls:
                    tls_at = len(out)
                    out.append(f"not evaluated: {name} = {val} ({what})")
                continue
            if not val or val == "0" and name.endswith("_limit"):
                continue
            if name == "smtpd_proxy_filter" and "speed_adjust" in st.plist("smtpd_proxy_options"):
                what = ("smtpd_proxy_options = speed_adjust: the filter gets the message after it is "
                        "received, and answers the end of DATA, after this trace")
            out.append(f"not evaluated: {name} = {val} ({what})")
        got = memo[key] = (tuple(out), tls_at)
    notes, tls_at = got
    if tls_at is not None and st.tx.tls is not None:
        return [n for i, n in enumerate(notes) if i != tls_at]
    return list(notes)


STARTTLS_FIRST = "530 5.7.0 Must issue a STARTTLS command first"


def command_filter(st, helo: str | None, sender: str, recipient: str | None):
    """(helo, sender, recipient, error stage) after smtpd_command_filter,
    a step recorded for each replaced command; error stage: the stage of
    the command whose lookup failed (the trace ends there with 421), else
    None. Only called when the parameter is set."""
    spec = st.p("smtpd_command_filter").strip()
    out: dict[str, str | None] = {"helo": helo, "mail": sender, "rcpt": recipient, "error": None}
    lines = []
    if helo is not None:
        lines.append(("helo", f"EHLO {helo}", "EHLO"))
    lines.append(("mail", f"MAIL FROM:<{sender}>", "MAIL FROM:"))
    if recipient is not None:
        lines.append(("rcpt", f"RCPT TO:<{recipient}>", "RCPT TO:"))
    for what, line, verb in lines:
        lk: list = []
        found, value, err = st.tables.lookup(st.view, spec, line, lk, False)
        if not found and not err:
            continue
        sb = st.begin("smtpd_command_filter", spec, None, st.source("smtpd_command_filter"))
        sb.stage = {"helo": "helo", "mail": "mail", "rcpt": "rcpt"}[what]
        st.add_lookups(lk)
        if err:
            # smtpd.c: vstream_longjmp(SMTP_ERR_DATA), the reply below and
            # the connection is closed
            reply = f"421 4.3.0 {st.p('myhostname')} Server local data error"
            sb.outcome = DEFER
            sb.reply = reply
            sb.detail = (f"lookup error for \"{line}\": {err}; smtpd answers and closes the "
                         "connection (a client's first command meets the same error)")
            st.end(sb)
            st.decider = sb
            st.error_text = reply
            out["error"] = sb.stage
            break
        new = value or ""
        if not new[:len(verb)].upper() == verb and not (what == "helo" and new[:5].upper() in ("EHLO ", "HELO ")):
            sb.outcome = NOT_EVALUATED
            sb.detail = f"\"{line}\" becomes \"{new}\": another command; not evaluated"
            st.conditional = True
            st.end(sb)
            continue
        if what == "helo":
            out["helo"] = new[5:].strip()
        else:
            m = _CMD_ARG.match(new[len(verb):])
            arg = m.group(1) if m else ""
            if arg.startswith("<") and arg.endswith(">"):
                arg = arg[1:-1]
            out[what] = arg
        sb.outcome = NO_MATCH
        sb.detail = f"\"{line}\" is replaced with \"{new}\" before smtpd parses it"
        st.end(sb)
    return out["helo"], out["mail"] or "", out["rcpt"] if recipient is None else out["rcpt"] or "", out["error"]


def local_rewrite_check(st) -> str | None:
    """smtpd_check_rewrite(): None, or the reply that ends MAIL (a lookup
    error). A step is recorded only when the check decides the reply."""
    items = st.vp.rewrite_clients   # a tuple, read once per view
    if not items or items == ("permit_inet_interfaces",):
        return None   # the default cannot fail
    lk: list = []
    i = 0
    while i < len(items):
        name = items[i]
        lname = name.lower()
        status = SMTPD_CHECK_DUNNO
        table = None
        if ":" in name:
            table = name
        elif lname == "check_address_map" and i + 1 < len(items):
            i += 1
            table = items[i]
        if table is not None:
            found, _value, err = st.tables.lookup(st.view, table, st.client_addr, lk, False)
            if found:
                status = SMTPD_CHECK_OK
            elif err:
                status = DICT_ERR_RETRY
        elif lname == "permit_inet_interfaces":
            if st.client_addr in interface_addrs(st.main, "inet_interfaces"):
                status = SMTPD_CHECK_OK
        elif lname == "permit_mynetworks":
            sb = st.begin("local_header_rewrite_clients", name, i + 1, st.source("local_header_rewrite_clients"))
            status = st.permit_mynetworks()
            st.end(sb)
            if status >= 0:
                st.steps.remove(sb)   # only an error is worth a step
            else:
                lk.extend(sb.lookups)
                st.steps.remove(sb)
        elif lname == "permit_sasl_authenticated":
            if st.vp.sasl_enable and st.tx.sasl_login:
                status = SMTPD_CHECK_OK
        elif lname in ("permit_tls_clientcerts", "permit_tls_all_clientcerts"):
            status = SMTPD_CHECK_DUNNO    # no TLS client certificate here
        else:
            st.warnings.append(f"parameter local_header_rewrite_clients: invalid request: {name}")
            i += 1
            continue
        if status < 0:
            sb = st.begin("local_header_rewrite_clients", name, i + 1, st.source("local_header_rewrite_clients"))
            sb.stage = "mail"
            st.add_lookups(lk)
            reply = "451 4.3.0 Temporary lookup error"
            sb.outcome = DEFER
            sb.reply = reply
            sb.detail = ("smtpd evaluates local_header_rewrite_clients at every MAIL FROM (to choose "
                         "how headers are rewritten); a lookup error there answers MAIL")
            st.end(sb)
            st.decider = sb
            st.error_text = reply
            return reply
        if status == SMTPD_CHECK_OK:
            return None
        i += 1
    return None
