"""Plain-words explanations of a Trace, with concrete edits.

`explain(trace, cfg)` looks at the deciding step and says why it matched and
what would change the outcome, as `postconf -e '...'` lines (or a master.cf
change, `postconf -P 'service/type/name=value'`, when the list that decided
comes from a -o override). It never changes anything itself.

Every edit it offers is proven first (tui.core.analysis.suggest): applied to
an in-memory copy of the configuration, loaded and expanded without error,
shown to change the traced transaction's verdict (the new reply is part of
the edit) and to open nothing to unauthenticated internet clients. An edit
that fails any of that is left out. What cannot be a configuration edit
(fix a table entry, check DNS) is said in the reasons, not offered as a
command.
"""
from __future__ import annotations

import ipaddress
import re

from tui.core.analysis.suggest import Change, join_list, prove
from tui.core.cache import resolve_addr, TableFailure
from tui.core.dns import OfflineResolver, Resolver
from tui.core.model import FrozenRecord
from tui.core.postfix.addr_conf import (CLASS_ALIAS, CLASS_DEFAULT, CLASS_LOCAL, CLASS_RELAY, CLASS_TEXT,
                                        CLASS_VIRTUAL)
from tui.core.smtpd import Evaluator, evaluate
from tui.core.trace import Step, Trace

_set = object.__setattr__


class Edit(FrozenRecord):
    __slots__ = _fields = ("description", "command", "changes", "new_reply", "conditional")
    description: str
    command: str      # the shell line: postconf -e '...' / postconf -P '...' && postfix reload
    changes: tuple[Change, ...]   # what the command sets (each the whole new value)
    new_reply: str                # the traced transaction's reply once the edit is made
    conditional: bool             # ... assuming DNS/policy checks pass

    def __init__(self, description: str, command: str, changes: tuple[Change, ...] = (), new_reply: str = "",
                 conditional: bool = False):
        _set(self, "description", description)
        _set(self, "command", command)
        _set(self, "changes", changes)
        _set(self, "new_reply", new_reply)
        _set(self, "conditional", conditional)

    def to_json(self) -> dict:
        return {"description": self.description, "command": self.command,
                "changes": [{"parameter": c.parameter, "value": c.value, "service": c.service}
                            for c in self.changes],
                "new_reply": self.new_reply, "conditional": self.conditional}


class Explanation(FrozenRecord):
    __slots__ = _fields = ("summary", "reasons", "edits")
    summary: str
    reasons: tuple[str, ...]
    edits: tuple[Edit, ...]

    def __init__(self, summary: str, reasons: tuple[str, ...] = (), edits: tuple[Edit, ...] = ()):
        _set(self, "summary", summary)
        _set(self, "reasons", reasons)
        _set(self, "edits", edits)

    def to_json(self) -> dict:
        return {"summary": self.summary, "reasons": list(self.reasons),
                "edits": [e.to_json() for e in self.edits]}

    def text(self) -> str:
        lines = [self.summary]
        lines += [f"  - {r}" for r in self.reasons]
        if self.edits:
            lines.append("What would change the outcome:")
            for e in self.edits:
                lines.append(f"  * {e.description}")
                lines.append(f"      {e.command}")
        return "\n".join(lines)


RELAY_PERMITS = ("permit_mynetworks", "permit_sasl_authenticated", "permit_auth_destination",
                 "permit_tls_clientcerts", "permit_tls_all_clientcerts", "permit")


def _where(step: Step) -> str:
    src = step.source
    if src is None:
        return step.parameter
    return f"{step.parameter} ({src})"


def _candidate(why: str, *changes: Change) -> Edit:
    """An edit not yet proven (explain() proves it or leaves it out)."""
    return Edit(why, "", tuple(changes))


def _override_key(cfg, service: str, step: Step) -> str | None:
    """"name/type" of the master.cf service whose -o line set STEP's
    parameter, or None: main.cf (or a default) set it."""
    src = step.source
    if src is None or src.kind != "master.cf":
        return None
    svc = cfg.service(service) if cfg is not None else None
    return f"{svc.name}/{svc.type}" if svc is not None else f"{service}/inet"


def list_change(cfg, service: str, parameter: str, step: Step, new_items: list[str]) -> tuple[Change, str]:
    """The Change that sets `parameter` to `new_items` where it is defined
    (main.cf, or the -o override of the service), and a note saying where."""
    key = _override_key(cfg, service, step)
    if key is not None:
        return (Change(parameter, join_list(new_items, for_master=True), key),
                f" (the list is a -o override on {key} in master.cf)")
    return Change(parameter, join_list(new_items)), ""


def list_edit(cfg, service: str, parameter: str, step: Step, new_items: list[str], why: str) -> Edit:
    """The (unproven) edit that sets `parameter` to `new_items` where it is defined."""
    change, note = list_change(cfg, service, parameter, step, new_items)
    return _candidate(why + note, change)


def _items(cfg, service: str, parameter: str) -> list[str]:
    try:
        return list(cfg.params(service).get_list(parameter))
    except Exception:
        return []


def _group(items: list[str]) -> list[tuple[int, str]]:
    """Join restriction names with their table/domain argument, keeping list indexes."""
    out = []
    i = 0
    takes_arg = ("check_", "reject_rbl", "permit_dnswl", "reject_rhsbl", "permit_rhswl", "sleep")
    while i < len(items):
        name = items[i]
        if any(name.lower().startswith(p) for p in takes_arg) and ":" not in name and \
                name.lower() not in ("check_relay_domains", "check_recipient_maps") and i + 1 < len(items):
            out.append((i, f"{name} {items[i + 1]}"))
            i += 2
        else:
            out.append((i, name))
            i += 1
    return out


def _insert_before(items: list[str], target: str, new: list[str]) -> list[str]:
    out: list[str] = []
    done = False
    for it in items:
        if not done and it.lower() == target.lower():
            out.extend(new)
            done = True
        out.append(it)
    if not done:
        out = new + out
    return out


def explain(trace: Trace, cfg=None, *, resolver: Resolver | None = None,
            policy_answers: dict | None = None) -> Explanation:
    """Why TRACE ended as it did, and the proven edits that would change it.
    RESOLVER and POLICY_ANSWERS: what the trace was evaluated with (the
    edits are proven with the same answers; default: DNS offline)."""
    ex = _explain(trace, cfg)
    ex = _proven(ex, trace, cfg, resolver, policy_answers)
    d = trace.decided_by
    if (d is not None and trace.stage == "rcpt" and d.parameter in (
            "smtpd_client_restrictions", "smtpd_helo_restrictions", "smtpd_sender_restrictions")):
        what = {"smtpd_client_restrictions": "client", "smtpd_helo_restrictions": "HELO",
                "smtpd_sender_restrictions": "sender"}[d.parameter]
        note = (f"smtpd_delay_reject = yes: the {what} restrictions are evaluated, and answered, "
                f"at RCPT TO (the log line says RCPT for that reason).")
        return Explanation(ex.summary, ex.reasons + (note,), ex.edits)
    return ex


def _proven(ex: Explanation, trace: Trace, cfg, resolver, policy_answers) -> Explanation:
    """EX with only the edits that suggest.prove() accepts, each with its
    command and the reply it leads to."""
    edits: list[Edit] = []
    for e in ex.edits:
        if cfg is None or not e.changes:
            continue
        proof = prove(cfg, trace, e.changes, resolver, policy_answers)
        if proof is None:
            continue
        then = f"; proven on a copy of the configuration, the answer becomes: {proof.reply}" + (
            " (assuming the DNS, policy and milter checks pass)" if proof.conditional else "")
        edits.append(Edit(e.description + then, proof.command(), proof.changes, proof.reply, proof.conditional))
    return Explanation(ex.summary, ex.reasons, tuple(edits))


MILTER_PARAMS = ("smtpd_milters", "smtpd_milter_maps", "milter_protocol", "milter_macro_defaults")


def _explain_milter(trace: Trace, cfg, d: Step) -> Explanation:
    """A milter list smtpd cannot read (it exits before its greeting), or a
    milter it cannot use that answers MAIL FROM."""
    if not trace.reply:
        return Explanation("smtpd exits when it sets up its milters for this client: "
                           + trace.config_errors[-1].removeprefix("smtpd: fatal: "),
                           ("The client sees the connection closed without any greeting.",))
    edits: tuple[Edit, ...] = ()
    name = d.entry.split(" ", 1)[0]
    host, colon, port = name.rpartition(":")
    if (cfg is not None and d.parameter == "smtpd_milters" and colon and port.isdigit()
            and host.split(":", 1)[0] not in ("inet", "unix", "local")):
        # host:port, the usual slip for inet:host:port
        text = _param_text(cfg, trace.service, d.parameter)
        # the address as a word of the list (or the first word of its braces)
        fixed = re.sub(r"(?<![^\s,{])" + re.escape(name) + r"(?=[\s,}]|$)", lambda _m: "inet:" + name, text)
        if text and fixed != text:
            edits = (_candidate(f"write the milter's address as inet:{name} (transport:endpoint)",
                                Change(d.parameter, fixed, _override_key(cfg, trace.service, d))),)
    if cfg is not None and d.parameter == "milter_protocol":
        edits = (_candidate("use the protocol smtpd and today's milters speak: milter_protocol = 6 (the default)",
                            Change("milter_protocol", "6", _override_key(cfg, trace.service, d))),)
    return Explanation(f"{trace.reply}: smtpd cannot use the milter {d.entry}, which answers in its place",
                       (d.detail,), edits)


TLS_PARAMS = ("smtpd_tls_security_level", "smtpd_enforce_tls")


def _explain_starttls(trace: Trace, cfg, d: Step) -> Explanation:
    """The service requires TLS and the client did not use STARTTLS. On port
    25 that refuses every sender without TLS: the edit offers TLS there
    without requiring it (never proposed for another port, where requiring
    it is the point)."""
    reasons = [d.detail]
    edits: tuple[Edit, ...] = ()
    svc = cfg.service(trace.service) if cfg is not None else None
    if svc is not None and svc.type == "inet" and svc.name.rpartition(":")[2] in ("smtp", "25"):
        reasons.append("This is port 25, where other mail servers deliver: RFC 3207 says a publicly-referenced "
                       "server must not require STARTTLS, and a sender without TLS cannot deliver at all. Require "
                       "TLS on the submission service (587) instead.")
        value = "may" if d.parameter == "smtpd_tls_security_level" else "no"
        edits = (_candidate(f"offer TLS here without requiring it ({d.parameter} = {value})",
                            Change(d.parameter, value, _override_key(cfg, trace.service, d))),)
    return Explanation(f"{trace.reply}: this service requires TLS ({d.parameter}), and the client did not use "
                       "STARTTLS", tuple(reasons), edits)


def _param_text(cfg, service: str, parameter: str) -> str:
    try:
        return cfg.params(service).raw(parameter) or ""
    except Exception:
        return ""


def _explain(trace: Trace, cfg=None) -> Explanation:
    d = trace.decided_by
    daemon = trace.waits_for
    if daemon is not None:
        err = trace.config_errors[-1]
        return Explanation(
            (f"{daemon} refuses to start with this configuration: " + err.removeprefix(f"{daemon}: fatal: ")
             if err.startswith(f"{daemon}: fatal: ") else
             f"smtpd cannot reach {daemon}: " + err.removeprefix("smtpd: warning: ")),
            (f"smtpd waits for {daemon} at {trace.stage.upper()}: the client gets no reply to that command "
             f"until it gives up (and tries again later).",))
    after = trace.closed_after
    if after is not None:
        when = ("connects to its before-queue content filter (smtpd_proxy_filter)"
                if d is not None and d.parameter == "smtpd_proxy_filter" else "opens a queue file")
        return Explanation(
            f"smtpd exits with this configuration when it {when}: "
            + trace.config_errors[-1].removeprefix("smtpd: fatal: "),
            (f"The client sees the connection closed after {after}, without a reply.",))
    if d is not None and d.parameter in MILTER_PARAMS:
        return _explain_milter(trace, cfg, d)
    if d is not None and d.parameter in TLS_PARAMS and trace.reply.startswith("530 "):
        return _explain_starttls(trace, cfg, d)
    if trace.config_errors:
        return Explanation(
            "smtpd refuses to start with this configuration: " + trace.config_errors[0].replace("fatal: ", ""),
            ("The client sees the connection closed without any greeting.",),
            (_candidate("add reject_unauth_destination after the permit_* entries of smtpd_relay_restrictions "
                        "(or use the default list)",
                        Change("smtpd_relay_restrictions",
                               "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination")),)
            if "working instance" in trace.config_errors[0] else ())
    if trace.accepted:
        reasons = []
        if trace.route is not None:
            r = trace.route
            reasons.append(f"{r.recipient} is in address class {CLASS_TEXT.get(r.address_class, r.address_class)}")
            for t in r.targets:
                reasons.append(f"delivered to {t.address} via transport {t.transport}, next hop {t.nexthop} "
                               f"({t.transport_source})")
        if trace.conditional:
            reasons.append("Conditional: some restrictions needed DNS, a policy service or a milter and were "
                           "assumed to pass.")
        return Explanation(f"Accepted: {trace.reply}", tuple(reasons))
    if d is None:
        return Explanation(f"{trace.reply}", ("No single restriction decided this reply.",))
    entry = d.entry.split()[0].lower() if d.entry else ""
    reply = trace.reply
    if "Relay access denied" in reply:
        return _explain_relay(trace, cfg, d)
    if d.parameter == "smtpd_helo_required":
        return Explanation(
            "Rejected at MAIL FROM: the client did not send HELO/EHLO and smtpd_helo_required = yes "
            f"({d.source}).",
            ("Clients must greet with HELO or EHLO first.",),
            (_candidate("let clients skip HELO (not recommended)", Change("smtpd_helo_required", "no")),))
    if "User unknown" in reply or "unlisted" in d.entry:
        return _explain_unknown(trace, cfg, d)
    if (entry.startswith("check_") or ":" in entry) and any(lk.found or lk.error for lk in d.lookups):
        return _explain_access(trace, cfg, d)
    if "need fully-qualified" in reply or "Invalid name" in reply or "invalid ip address" in reply:
        return _explain_syntax(trace, cfg, d)
    dns = [lk for lk in d.lookups if lk.table.startswith("dns:")]
    if dns:
        reasons = [f"{d.entry} (entry {d.position} of {_where(d)}) depends on DNS."]
        reasons += [f"{lk.table[4:]} lookup of {lk.key}: {lk.note or lk.result}" for lk in dns]
        if any("tempfail" in (lk.note or "") for lk in dns):
            reasons.append("The DNS lookup failed temporarily: smtpd answers 4xx so the client retries later.")
        if d.detail:
            reasons.append(d.detail)
        reasons.append(f"Check the name in DNS from the mail server: host -t mx {dns[0].key}")
        return Explanation(f"{reply}: a DNS-based restriction decided.", tuple(reasons))
    if "Temporary lookup failure" in reply or "Server configuration error" in reply:
        return Explanation(
            f"{reply}: {d.entry} could not be evaluated.",
            tuple(x for x in (d.detail,) if x) + tuple(
                f"{lk.table} key {lk.key}: {lk.result}" for lk in d.lookups if lk.error),
            ())
    if entry in ("reject", "defer") and d.position:
        return _explain_list_end(trace, cfg, d)
    reasons = [f"Decided by {d.entry} in {_where(d)}" + (f", entry {d.position}" if d.position else "")
               if d.source is not None or d.position else
               f"Decided by smtpd's own check ({d.entry}), not by a restriction list"]
    if d.detail:
        reasons.append(d.detail)
    return Explanation(f"{reply}", tuple(reasons))


def _explain_relay(trace: Trace, cfg, d: Step) -> Explanation:
    tx = trace.transaction
    rcpt = (tx.recipient or "").strip("<>")
    domain = rcpt.rsplit("@", 1)[1] if "@" in rcpt else rcpt
    reasons: list[str] = []
    edits: list[Edit] = []
    rcls = None
    in_mynetworks = None
    if cfg is not None:
        try:
            ev = Evaluator(cfg, tx, trace.service, OfflineResolver())
            try:
                rcls = resolve_addr(ev, rcpt, with_transport=False)
            except TableFailure:
                rcls = None
            in_mynetworks = ev.mynetworks_match([]).matched
            mynet = ", ".join(ev.plist("mynetworks")) or "(empty)"
            sasl_on = ev.pbool("smtpd_sasl_auth_enable")
        except Exception:
            mynet = "?"
            sasl_on = False
    else:
        mynet = "?"
        sasl_on = False
    if rcls is not None:
        if rcls.routed:
            reasons.append(f"<{rcpt}> uses sender-specified routing (%, ! or a second @): never authorised.")
        else:
            reasons.append(f"The recipient domain {domain} is in address class "
                           f"{CLASS_TEXT.get(rcls.address_class, rcls.address_class)}: "
                           "this server is not its final destination and it is not in relay_domains, "
                           "so only trusted clients may send to it.")
    if in_mynetworks is not None:
        reasons.append(f"The client {tx.client_name}[{tx.client_address}] is "
                       f"{'' if in_mynetworks else 'not '}in mynetworks ({mynet}).")
    reasons.append("The client is " + (f"authenticated as {tx.sasl_login}" if tx.sasl_login else
                                       "not authenticated (no SASL login)")
                   + ("" if sasl_on else "; SASL is off on this service") + ".")
    # the list that rejected, and the permits in front of the reject
    param = d.parameter
    raw_items = _items(cfg, trace.service, param) if cfg is not None else []
    grouped = _group(raw_items)
    items = [g for _i, g in grouped]
    before = []
    for idx, name in grouped:
        if d.position is not None and len(before) + 1 >= d.position:
            break
        before.append(name.split()[0].lower())
    target = d.entry.split()[0]
    reasons.append(f"{target} is entry {d.position} of {param} ({d.source}); before it: "
                   + (", ".join(before) if before else "nothing") + ".")
    missing = [p for p in ("permit_mynetworks", "permit_sasl_authenticated") if p not in before]
    if in_mynetworks and "permit_mynetworks" in missing:
        reasons.append(f"permit_mynetworks is missing before {target} in {param}: the client is in mynetworks, "
                       f"but nothing in this list lets it relay. (Other lists, such as "
                       f"smtpd_relay_restrictions, do not help: a PERMIT ends only its own list.)")
        edits.append(list_edit(cfg, trace.service, param, d,
                               _insert_before(items, target, ["permit_mynetworks"]),
                               f"insert permit_mynetworks before {target} in {param}"))
    elif in_mynetworks is False and cfg is not None:
        # only ever the client itself, and only when it is this host or on a
        # private network (the proof refuses anything wider)
        net = _mynetworks_with(cfg, tx.client_address)
        if net is not None:
            if "permit_mynetworks" in before:
                edits.append(_candidate(f"add the client's address to mynetworks (it has permit_mynetworks "
                                        f"in {param})", Change("mynetworks", net)))
            else:
                change, note = list_change(cfg, trace.service, param, d,
                                           _insert_before(items, target, ["permit_mynetworks"]))
                edits.append(_candidate(f"insert permit_mynetworks before {target} in {param}, and add the "
                                        f"client {tx.client_address} to mynetworks" + note,
                                        change, Change("mynetworks", net)))
    if tx.sasl_login and "permit_sasl_authenticated" in missing:
        reasons.append(f"The client logged in, but permit_sasl_authenticated is not before {target} in {param}.")
        edits.append(list_edit(cfg, trace.service, param, d,
                               _insert_before(items, target, ["permit_sasl_authenticated"]),
                               f"insert permit_sasl_authenticated before {target} in {param}"))
    elif not tx.sasl_login:
        reasons.append("Authenticated clients relay only if they log in (submission port with SASL).")
        sub = _submission_answer(trace, cfg)
        if sub:
            reasons.append(sub)
    if rcls is not None and rcls.address_class == CLASS_DEFAULT and not rcls.routed and cfg is not None:
        # the whole new value (never "$relay_domains, ..." on relay_domains
        # itself); the proof drops it whenever it would let internet clients
        # relay to the domain, which is what listing a domain there means
        edits.append(_candidate(f"or, if this server should accept mail for {domain} and pass it on, list it "
                                f"in relay_domains (then any client may send to {domain})",
                                Change("relay_domains", _append_value(cfg, "relay_domains", domain))))
    verb = "deferred" if trace.reply[:1] == "4" else "rejected"  # a 4xx asks the client to try again later
    summary = (f"{trace.reply}: {target} in {param} {verb} the recipient because the client may not "
               f"relay to {domain}.")
    return Explanation(summary, tuple(reasons), tuple(edits))


def _append_value(cfg, name: str, item: str) -> str:
    """NAME's whole value with ITEM added: the main.cf text when it is set
    there (without a reference to NAME itself), else the expanded value."""
    view = cfg.params()
    raw = view.raw(name) if view.is_explicit(name) else None
    if raw is not None and "\n" not in raw and "..." not in raw:
        base = raw.strip()
    else:
        base = ", ".join(view.get_list(name))
    return f"{base}, {item}" if base else item


def _mynetworks_with(cfg, addr: str) -> str | None:
    """mynetworks with ADDR added as a host network, or None."""
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return None
    host = f"{ip}/32" if ip.version == 4 else f"[{ip}]/128"
    return _append_value(cfg, "mynetworks", host)


def _submission_answer(trace: Trace, cfg) -> str:
    """What the same client would get after logging in on an smtpd service
    that offers SASL (traced, not guessed); "" when there is none."""
    if cfg is None:
        return ""
    tx = trace.transaction
    for svc in cfg.smtpd_services():
        if svc.key == f"{trace.service}/inet" or svc.name == trace.service:
            continue
        try:
            view = cfg.params(svc)
            if not view.get_bool("smtpd_sasl_auth_enable"):
                continue
            tr = evaluate(cfg, tx.replace(sasl_login=tx.sasl_login or "user"), service=svc.key,
                          resolver=OfflineResolver())
        except Exception:
            continue
        if tr.accepted:
            return (f"The usual way for such a client: log in with SASL on {svc.name} "
                    f"({svc.key} in master.cf); traced there with a login, the answer is: {tr.reply}"
                    + (" [conditional]" if tr.conditional else ""))
    return ""


def _explain_access(trace: Trace, cfg, d: Step) -> Explanation:
    hit = next((lk for lk in reversed(d.lookups) if lk.found or lk.error), None)
    reasons = []
    if hit is not None:
        where = f" at {hit.where}" if hit.where else ""
        if hit.error:
            reasons.append(f"Looking up {hit.key!r} in {hit.table} failed: {hit.error}.")
        else:
            reasons.append(f"The key {hit.key!r} matched in {hit.table}{where} with the result {hit.value!r}.")
    tried = [lk.key for lk in d.lookups if not lk.found]
    if tried:
        reasons.append("Keys tried before it without a match: " + ", ".join(repr(k) for k in tried) + ".")
    reasons.append(f"The restriction is {d.entry}, entry {d.position} of {_where(d)}.")
    if hit is not None and not hit.error:
        file = hit.where.rsplit(":", 1)[0] if hit.where else hit.table.split(":", 1)[-1]
        typ = hit.table.removeprefix("proxy:").split(":", 1)[0]
        rebuild = f", then rebuild it: postmap {hit.table.removeprefix('proxy:')}" \
            if typ in ("hash", "btree", "lmdb", "cdb", "dbm") else ""
        reasons.append(f"To change this answer, change or remove the entry {hit.key!r} in {file}"
                       + (f" (line {hit.where.rsplit(':', 1)[1]})" if hit.where and ':' in hit.where else "")
                       + rebuild + ".")
    return Explanation(f"{trace.reply}: an access table entry decided.", tuple(reasons))


CLASS_TABLE = {CLASS_LOCAL: "local_recipient_maps", CLASS_VIRTUAL: "virtual_mailbox_maps",
               CLASS_RELAY: "relay_recipient_maps", CLASS_ALIAS: "virtual_alias_maps"}


def _explain_unknown(trace: Trace, cfg, d: Step) -> Explanation:
    reasons = []
    reply = trace.reply
    tx = trace.transaction
    sender_side = "Sender address" in reply
    addr = ((tx.sender if sender_side else tx.recipient) or "").strip("<>")
    param = None
    for words, p in (("virtual alias", "virtual_alias_maps"), ("virtual mailbox", "virtual_mailbox_maps"),
                     ("local recipient", "local_recipient_maps"), ("relay recipient", "relay_recipient_maps")):
        if words in reply:
            param = p
    specs: list[str] = []
    if cfg is not None:
        try:
            ev = Evaluator(cfg, tx, trace.service, OfflineResolver())
            if param is None:
                r = resolve_addr(ev, addr)
                param = CLASS_TABLE.get(r.address_class)
                if param:
                    reasons.append(f"{addr} is in address class {CLASS_TEXT[r.address_class]}, whose "
                                   f"recipients are listed in {param} (show_user_unknown_table_name = no "
                                   f"hides that in the reply).")
            if param:
                specs = ev.plist(param)
        except Exception:
            pass
    where = f"{param} ({', '.join(specs)})" if specs else (param or "the recipient table of its address class")
    reasons.append(f"The address is not in {where}; canonical and virtual alias maps did not list it either.")
    keys = [f"{lk.table} {lk.key!r}: {lk.result}" + (f" (query: {lk.where})" if lk.where and not lk.found
                                                       and " " in lk.where else "")
            for lk in d.lookups if "transport" not in lk.table]
    if keys:
        reasons.append("Lookups made: " + "; ".join(keys[-10:]))
    if d.detail:
        reasons.append(d.detail)
    edits = []
    for spec in specs[:3]:
        typ, _, name = spec.removeprefix("proxy:").partition(":")
        if typ in ("hash", "btree", "lmdb", "cdb", "dbm", "texthash"):
            rebuild = "" if typ == "texthash" else f", then rebuild it: postmap {typ}:{name}"
            reasons.append(f"To accept it, add {addr} (or a catch-all entry) to {name}{rebuild}.")
        elif typ in ("mysql", "pgsql", "sqlite", "ldap"):
            reasons.append(f"To accept it, add {addr} to the database that {spec} queries (PostfixAdmin: "
                           f"create the mailbox or alias); postmap -q '{addr}' {spec} must then print a result.")
    if d.parameter == "smtpd_reject_unlisted_recipient":
        edits.append(_candidate("stop rejecting unknown recipients at SMTP time (not recommended: backscatter)",
                                Change("smtpd_reject_unlisted_recipient", "no")))
    return Explanation(f"{reply}: the {'sender' if sender_side else 'recipient'} is unknown.",
                       tuple(reasons), tuple(edits))


def _explain_syntax(trace: Trace, cfg, d: Step) -> Explanation:
    reasons = [f"{d.entry} (entry {d.position} of {_where(d)}) checks the syntax of the "
               f"{'HELO name' if 'Helo' in trace.reply else 'address'}."]
    tx = trace.transaction
    if "Helo" in trace.reply:
        reasons.append(f"The client said HELO {tx.helo}: "
                       + ("not a fully-qualified host name (no dot)" if "fully-qualified" in trace.reply
                          else "not a valid host name or [address]"))
    elif "fully-qualified address" in trace.reply:
        reasons.append("The address has no domain, or the domain has no dot.")
    if d.detail:
        reasons.append(d.detail)
    reasons.append("The usual fix is on the client: let it use a fully-qualified name.")
    edits = []
    if cfg is not None and d.position:
        items = [g for _i, g in _group(_items(cfg, trace.service, d.parameter))]
        if "permit_mynetworks" not in [i.split()[0].lower() for i in items[:d.position - 1]] and \
                _client_in_mynetworks(trace, cfg):
            edits.append(list_edit(cfg, trace.service, d.parameter, d,
                                   _insert_before(items, d.entry.split()[0], ["permit_mynetworks"]),
                                   f"let clients in mynetworks skip the check: insert permit_mynetworks "
                                   f"before {d.entry.split()[0]} in {d.parameter}"))
    return Explanation(f"{trace.reply}", tuple(reasons), tuple(edits))


def _client_in_mynetworks(trace: Trace, cfg) -> bool:
    try:
        ev = Evaluator(cfg, trace.transaction, trace.service, OfflineResolver())
        return ev.mynetworks_match([]).matched
    except Exception:
        return False


def _explain_list_end(trace: Trace, cfg, d: Step) -> Explanation:
    """A plain reject/defer: nothing before it in its list permitted the request."""
    tx = trace.transaction
    param = d.parameter
    before = [s for s in trace.steps if s.parameter == param and s.depth == d.depth
              and s.position is not None and s.position < d.position]
    reasons = [f"{d.entry} is entry {d.position} of {param} ({d.source}): it rejects whatever reaches it."]
    if before:
        reasons.append("Nothing before it permitted the request: "
                       + "; ".join(f"{s.entry}: {s.outcome}" + (f" ({s.detail})" if s.detail else "")
                                   for s in before))
    edits: list[Edit] = []
    raw_items = _items(cfg, trace.service, param) if cfg is not None else []
    items = [g for _i, g in _group(raw_items)]
    names = [i.split()[0].lower() for i in items]
    in_mynetworks = None
    if cfg is not None:
        try:
            ev = Evaluator(cfg, tx, trace.service, OfflineResolver())
            in_mynetworks = ev.mynetworks_match([]).matched
        except Exception:
            in_mynetworks = None
    if in_mynetworks and "permit_mynetworks" not in names and items:
        reasons.append(f"The client {tx.client_address} is in mynetworks, but {param} has no permit_mynetworks.")
        edits.append(list_edit(cfg, trace.service, param, d,
                               _insert_before(items, d.entry.split()[0], ["permit_mynetworks"]),
                               f"insert permit_mynetworks before {d.entry} in {param}"))
    if not tx.sasl_login and "permit_sasl_authenticated" in names:
        reasons.append("The client did not authenticate: permit_sasl_authenticated does not match.")
    return Explanation(f"{trace.reply}: {d.entry} at the end of {param} decided.", tuple(reasons), tuple(edits))
