"""`postfix-explorer trace`: how smtpd decides one transaction, step by step.

Exit status: 0 accepted, 1 rejected or deferred, 2 unusable input.
"""
from __future__ import annotations

import argparse
import sys

from tui.core import dns
from tui.core.cache import shared_cache
from tui.core.config import ConfigError, load_config
from tui.core.analysis.explain import explain
from tui.core.model import ExplorerError
from tui.core.postfix.peer_name import client_names_from_log, normalize_client_address
from tui.core.smtpd import evaluate
from tui.core.text import visible
from tui.core.trace import Transaction


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--service", default=None,
                   help="master.cf smtpd service (default: smtp, or the one named in --from-log)")
    p.add_argument("--client-address", help="client IP address")
    p.add_argument("--client-name", default=None,
                   help="verified client host name; a failed lookup is [UNAVAILABLE] (permanent) or "
                        "[TEMPUNAVAIL] (temporary), as in XCLIENT; unknown, as logs print it, "
                        "is taken as temporary (default: unknown)")
    p.add_argument("--reverse-client-name", default=None,
                   help="client name from the reverse (PTR) lookup alone, when it differs from "
                        "--client-name; same forms for a failed lookup")
    p.add_argument("--helo", default=None, help="HELO/EHLO name (leave out: the client sent none)")
    p.add_argument("--sender", default=None, help="envelope sender (leave out or '<>': null sender)")
    p.add_argument("--recipient", help="envelope recipient (leave out: the client sends no RCPT TO, and the "
                                        "answer to MAIL FROM ends the trace)")
    p.add_argument("--sasl-login", default=None, help="SASL login name (the client authenticated)")
    p.add_argument("--tls", choices=("yes", "no"), default=None,
                   help="whether the client used STARTTLS (default: what the service requires)")
    p.add_argument("--from-log", metavar="LINE",
                   help="take client, sender, recipient, HELO and proto from a Postfix reject log line "
                        "(a MAIL FROM line names no recipient: the trace ends at MAIL FROM)")
    p.add_argument("--dns", choices=("offline", "none"), default="offline",
                   help="offline: DNS checks are not evaluated (default); none: every DNS lookup fails "
                        "temporarily, like a host without DNS")
    p.add_argument("--domain-exists", action="append", default=[], metavar="DOMAIN",
                   help="DNS answer: this domain has A and MX records (repeatable)")
    p.add_argument("--domain-missing", action="append", default=[], metavar="DOMAIN",
                   help="DNS answer: this name does not exist (repeatable)")
    p.add_argument("--dnsbl-listed", action="append", default=[], metavar="WHAT@ZONE",
                   help="DNS answer: client IP or domain WHAT is listed on ZONE, e.g. 192.0.2.1@zen.spamhaus.org")
    p.add_argument("--policy", action="append", default=[], metavar="SERVER=ACTION",
                   help="answer of a check_policy_service server, e.g. 'inet:127.0.0.1:10023=DUNNO'")
    p.add_argument("--json", action="store_true", help="print the trace as JSON")
    p.add_argument("--batch", metavar="FILE",
                   help="JSON lines in (one transaction per line, flag names as keys, plus id), "
                        "JSON lines out; '-' reads standard input")


def _resolver(args):
    if args.domain_exists or args.domain_missing or args.dnsbl_listed:
        listed = []
        for item in args.dnsbl_listed:
            what, _, zone = item.rpartition("@")
            if not what or not zone:
                raise ValueError(f"--dnsbl-listed wants WHAT@ZONE, got {item!r}")
            listed.append((what, zone))
        default = dns.TEMPFAIL if args.dns == "none" else dns.UNKNOWN
        return dns.StaticResolver.from_answers(args.domain_exists, args.domain_missing, listed, default=default)
    if args.dns == "none":
        return dns.TempFailResolver()
    return dns.OfflineResolver()


def _err(msg: str) -> int:
    print(visible(f"postfix-explorer trace: {msg}"), file=sys.stderr)
    return 2


class FieldError(ValueError):
    """A transaction field that cannot be traced, in the words trace prints."""


# the fields of a transaction, by the names of trace's flags (and --batch's keys)
FIELDS = ("service", "client_address", "client_name", "reverse_client_name", "helo", "sender",
          "recipient", "sasl_login", "from_log", "proto", "tls")


def transaction_from(fields: dict):
    """(Transaction, log line record or None) from FIELDS; a field left out
    (None) is taken from the log line in "from_log" where it has one. "helo"
    present with None means the client sent no HELO."""
    client_address = fields.get("client_address")
    client_name = fields.get("client_name")
    reverse_name = fields.get("reverse_client_name")
    helo = fields.get("helo")
    sender = fields.get("sender")
    recipient = fields.get("recipient")
    proto = fields.get("proto")
    tls = _tls(fields.get("tls"))
    logline = None
    if fields.get("from_log"):
        # imported only here: most traces do not read a log line (start-up time)
        from tui.core.analysis.maillog import LogLineError, parse_line

        try:
            logline = parse_line(fields["from_log"])
        except LogLineError as exc:
            raise FieldError(str(exc)) from None
        client_address = client_address or logline.client_address
        if client_name is None:
            client_name, log_reverse = client_names_from_log(logline.client_name, logline.reply)
            if reverse_name is None:
                reverse_name = log_reverse
        if "helo" not in fields:
            helo = logline.helo or None
        sender = sender if sender is not None else logline.sender
        recipient = recipient if recipient is not None else logline.recipient
        proto = proto or logline.proto
    if not client_address:
        raise FieldError("--client-address is required (or --from-log with a client address)")
    if normalize_client_address(client_address) is None:
        raise FieldError(f"client address {client_address!r} is not an IP address")
    client_address = client_address.removeprefix("IPv6:").removeprefix("ipv6:")
    if sender is not None and sender.strip() == "<>":
        sender = ""
    tx = Transaction(client_address=client_address, client_name=client_name or "unknown", helo=helo,
                     sender=sender or "", recipient=recipient, sasl_login=fields.get("sasl_login"),
                     proto=proto, reverse_client_name=reverse_name, tls=tls)
    return tx, logline


def _tls(value) -> bool | None:
    """--tls yes/no (a --batch key may also be true/false)."""
    if value is None or isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in ("yes", "true"):
        return True
    if word in ("no", "false"):
        return False
    raise FieldError(f"tls must be yes or no, not {value!r}")


def service_for(cfg, service: str | None, logline=None) -> str:
    """The smtpd service to trace in: SERVICE, else the one the log line's
    process name suggests (postfix/submission/smtpd), else smtp."""
    if service is None:
        service = "smtp"
        hint = logline.service_hint if logline else None
        if hint and cfg.service(hint) is not None:
            service = hint
    if cfg.service(service) is None:
        names = ", ".join(s.name for s in cfg.smtpd_services()) or "none"
        raise FieldError(f"no service {service!r} in master.cf (smtpd services: {names})")
    return service


def evaluates_many(args: argparse.Namespace) -> bool:
    """--batch evaluates once per line (tui.__main__ keeps the file watch)."""
    return bool(getattr(args, "batch", None))


def run(args: argparse.Namespace) -> int:
    if getattr(args, "batch", None):
        from tui.cli.batch import run_batch  # only for --batch (start-up time)

        return run_batch(args)
    fields = {k: getattr(args, k, None) for k in FIELDS}
    if args.helo is None:
        del fields["helo"]  # not given: the log line's, or none sent
    try:
        tx, logline = transaction_from(fields)
    except FieldError as exc:
        return _err(str(exc))
    try:
        cfg = load_config(args.config_dir)
    except (ConfigError, ExplorerError) as exc:
        return _err(str(exc))
    try:
        service = service_for(cfg, args.service, logline)
    except FieldError as exc:
        return _err(str(exc))
    policy = {}
    for item in args.policy:
        server, sep, action = item.partition("=")
        if not sep:
            return _err(f"--policy wants SERVER=ACTION, got {item!r}")
        policy[server] = action
    try:
        resolver = _resolver(args)
    except ValueError as exc:
        return _err(str(exc))
    try:
        tr = evaluate(cfg, tx, service=service, resolver=resolver, policy_answers=policy)
    except ExplorerError as exc:
        return _err(str(exc))
    _warn_config(cfg, tr, service)
    ex = explain(tr, cfg, resolver=resolver, policy_answers=policy)
    if args.json:
        out = tr.to_json()
        out["explanation"] = ex.to_json()
        if logline is not None:
            out["log_reply"] = logline.reply
        import json  # only for --json (start-up time)

        print(json.dumps(out, indent=2))
    else:
        print(render_text(tr, ex, logline))
    return 0 if tr.accepted else 1


def _warn_config(cfg, tr, service) -> None:
    """What is broken in the files this trace read, on stderr (stdout stays
    the trace): the loader's diagnostics and those of every table consulted,
    each naming file and line."""
    seen: set[str] = set()

    def say(text: str) -> None:
        if text not in seen:
            seen.add(text)
            print(visible(f"postfix-explorer trace: {text}"), file=sys.stderr)

    for d in cfg.diagnostics:
        say(str(d))
    try:
        # an expansion error anywhere in main.cf (a $a -> $b -> $a loop, an
        # unterminated ${) stops postconf, and with it `postfix start`
        view = cfg.params(service)
        for name in view.names(explicit_only=True):
            if view.is_raw_parameter(name) or name in cfg._user or cfg.default_value(name) is None:
                continue  # postconf checks its own parameters (user-defined ones through them)
            for e in view.expand_errors(name):
                src = view.source(name)
                where = f"{src.path}, line {src.line}: " if src.path and src.line else ""
                say(f"warning: {where}{name}: {e} (postconf stops with \"macro processing error\": "
                    "Postfix would not start with this configuration)")
    except Exception:
        pass
    try:
        specs = [lk.table for s in tr.steps for lk in s.lookups]
        if tr.route is not None:
            specs += [lk.table for lk in tr.route.lookups]
            specs += [lk.table for t in tr.route.targets for lk in t.lookups]
        cache = shared_cache(cfg)
        view = cfg.params(service)
        for spec in dict.fromkeys(s for s in specs if s):
            for d in cache.get(spec, view).status.diagnostics:
                say(str(d))
    except Exception:  # the warnings are a courtesy; the trace stands
        pass


def render_text(tr, ex, logline=None) -> str:
    """The trace as text. Every line passes through visible(): a key, a
    table value, a HELO name or a file name with an ESC in it is shown
    spelled out (\\x1b), never sent to the terminal."""
    t = tr.transaction
    lines = []
    lines.append(f"service   {tr.service}")
    lines.append(f"client    {t.client_name}[{t.client_address}]"
                 + (f"  (SASL login {t.sasl_login})" if t.sasl_login else ""))
    lines.append(f"HELO      {t.helo if t.helo is not None else '(none sent)'}")
    lines.append(f"MAIL FROM <{t.sender}>")
    lines.append(f"RCPT TO   <{t.recipient}>" if t.recipient is not None else "RCPT TO   (none sent)")
    lines.append("")
    lines.append("Steps:")
    if not tr.steps:
        lines.append("  (no restriction evaluated)")
    for i, s in enumerate(tr.steps):
        mark = "=>" if i == tr.decided_index else "  "
        ind = "  " * s.depth
        pos = f"#{s.position} " if s.position else ""
        src = f"  [{s.source}]" if s.source is not None else ""
        lines.append(f"{mark}{ind} {s.parameter} {pos}{s.entry}: {s.outcome}{src}")
        for lk in s.lookups:
            where = f" ({lk.where})" if lk.where and lk.found else ""
            lines.append(f"  {ind}     lookup {lk.table} {lk.key!r} -> {lk.result}{where}")
        if s.reply:
            lines.append(f"  {ind}     reply: {s.reply}")
        if s.detail:
            lines.append(f"  {ind}     {s.detail}")
    lines.append("")
    lines.append(f"Answer at {tr.stage.upper()}: {tr.answer}" + ("   [conditional]" if tr.conditional else ""))
    d = tr.decided_by
    if d is not None:
        where = f" ({d.source})" if d.source is not None else ""
        pos = f", entry {d.position}" if d.position else ""
        lines.append(f"Decided by: {d.entry} in {d.parameter}{pos}{where}")
    for e in tr.config_errors:
        lines.append(f"Configuration error: {e}")
    if tr.conditional:
        lines.append("Conditional: some checks needed DNS, a policy service, a milter or address verification "
                     "and were assumed to pass.")
    if logline is not None and logline.reply != tr.reply:
        lines.append(f"The log line says: {logline.reply}")
    if tr.route is not None:
        r = tr.route
        lines.append("")
        lines.append(f"Route: {r.recipient} (address class {r.address_class})")
        if r.expansion:
            lines.append(f"  virtual alias expansion: {', '.join(r.expansion)}")
        for tg in r.targets:
            lines.append(f"  -> {tg.address}: transport {tg.transport}, next hop {tg.nexthop} ({tg.transport_source})")
        for n in r.notes:
            lines.append(f"  note: {n}")
    for n in tr.notes:
        lines.append(f"Note: {n}")
    for w in tr.warnings:
        lines.append(f"Warning: {w}")
    lines.append("")
    lines.extend(ex.text().split("\n"))
    return "\n".join(visible(line) for line in lines)
