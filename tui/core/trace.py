"""Immutable data the restriction evaluator returns.

The trace is data: `tui.core.smtpd.evaluate()` builds a `Trace` holding the
transaction it was asked about, an ordered tuple of `Step`s (one per
restriction it looked at, in the order smtpd looks at them), exactly one
deciding step (or none when the mail was accepted by falling off the end of
every list), the reply line exactly as smtpd sends it, and, when accepted,
the `Route` the message would take. The UI renders it; the CLI prints it as
text or JSON (`to_json()`).
"""
from __future__ import annotations

import json as _json
from typing import Any

from tui.core.model import FrozenRecord, Source

# Outcomes a step can have.
NO_MATCH = "no match"
PERMIT = "permit"
REJECT = "reject"
DEFER = "defer"
DUNNO = "dunno"
NOT_EVALUATED = "not evaluated"
WARN = "warn"
OUTCOMES = (NO_MATCH, PERMIT, REJECT, DEFER, DUNNO, NOT_EVALUATED, WARN)

# Stages (the SMTP command whose reply carries the answer).
STAGES = ("connect", "helo", "mail", "rcpt", "data")


def _json_text_function():
    """json.dumps(obj) with json.dumps's defaults (ASCII, ", " and ": ",
    NaN allowed), its C encoder made once: json.dumps builds a new one for
    every call, about a hundred bytecodes of Python around each of the
    small objects a trace prints. No check for circular references (a
    trace's JSON is a tree). json.dumps itself where the C encoder is
    missing."""
    from json import encoder

    make = getattr(encoder, "c_make_encoder", None)
    if make is None:
        return _json.dumps

    def default(o):
        raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")

    chunks = make(None, default, encoder.encode_basestring_ascii, None, ": ", ", ", False, False, True)

    def json_text(obj) -> str:
        return "".join(chunks(obj, 0))

    return json_text


json_text = _json_text_function()


# These are FrozenRecords (tui.core.model): immutable, compared and hashed
# field by field like frozen dataclasses, without a dataclass's cost at
# import. The make() classmethods build one with every field given without
# its __init__: the object is created bare and each field stored into its
# own __dict__ (the evaluator builds a few dozen of these per trace). Each
# make() names all of its class's fields, in field order. (A Step is the
# evaluator's own step, frozen in place: tui/core/smtpd/state.py, _StepB.)
_new = object.__new__


def _init(obj: object, names: tuple[str, ...], values: tuple) -> None:
    d = obj.__dict__
    for name, value in zip(names, values):
        d[name] = value


class Transaction(FrozenRecord):
    """One SMTP transaction as the client presents it.

    helo None means the client sent no HELO/EHLO; sender "" is the null
    sender (MAIL FROM:<>); client_name "unknown" means no (verified) reverse
    name. recipient None means the client sends no RCPT TO (the answer to
    MAIL FROM ends the trace); "" is RCPT TO:<>. reverse_client_name
    defaults to client_name. tls says whether the client used STARTTLS;
    None takes what the service requires (a note says so where it requires
    TLS).
    """

    client_address: str
    client_name: str
    helo: str | None
    sender: str
    recipient: str | None
    sasl_login: str | None
    reverse_client_name: str | None
    proto: str | None  # "SMTP" / "ESMTP" (informational)
    tls: bool | None   # the client used STARTTLS; None: whatever the service requires

    _fields = ("client_address", "client_name", "helo", "sender", "recipient", "sasl_login", "reverse_client_name",
               "proto", "tls")

    def __init__(self, client_address: str, client_name: str = "unknown", helo: str | None = None,
                 sender: str = "", recipient: str | None = "", sasl_login: str | None = None,
                 reverse_client_name: str | None = None, proto: str | None = None,
                 tls: bool | None = None) -> None:
        _init(self, self._fields, (client_address, client_name, helo, sender, recipient, sasl_login,
                                   reverse_client_name, proto, tls))

    @property
    def reverse_name(self) -> str:
        return self.reverse_client_name if self.reverse_client_name is not None else self.client_name

    def to_json(self) -> dict:
        return {
            "client_address": self.client_address,
            "client_name": self.client_name,
            "reverse_client_name": self.reverse_name,
            "helo": self.helo,
            "sender": self.sender,
            "recipient": self.recipient,
            "sasl_login": self.sasl_login,
            "proto": self.proto,
            **({} if self.tls is None else {"tls": self.tls}),
        }


class Lookup(FrozenRecord):
    """One table lookup a step made: table spec, key, and what came back."""

    table: str
    key: str
    found: bool
    value: str | None
    error: str | None
    where: str | None  # "file:line" or the SQL query that answered
    note: str | None  # e.g. "skipped: pattern table gets only the full address"

    _fields = ("table", "key", "found", "value", "error", "where", "note")

    def __init__(self, table: str, key: str, found: bool, value: str | None = None, error: str | None = None,
                 where: str | None = None, note: str | None = None) -> None:
        _init(self, self._fields, (table, key, found, value, error, where, note,))

    @classmethod
    def make(cls, table, key, found, value, error, where, note) -> "Lookup":
        """Lookup(...) with every field given (see _new above)."""
        o = _new(cls)
        d = o.__dict__
        d["table"] = table
        d["key"] = key
        d["found"] = found
        d["value"] = value
        d["error"] = error
        d["where"] = where
        d["note"] = note
        return o

    @property
    def result(self) -> str | None:
        if self.error:
            return f"error: {self.error}"
        if self.note and not self.found:
            return self.note
        return self.value if self.found else "not found"

    def to_json(self) -> dict:
        d = {"table": self.table, "key": self.key, "found": self.found,
             "value": self.value, "result": self.result}
        if self.error:
            d["error"] = self.error
        if self.where:
            d["where"] = self.where
        if self.note:
            d["note"] = self.note
        return d


class Step(FrozenRecord):
    """One restriction smtpd looked at.

    parameter: the list it came from ("smtpd_recipient_restrictions", a
    restriction class name, "access table result", or an implicit check such
    as "smtpd_reject_unlisted_recipient"); entry: the restriction as written
    (with its table argument); position: 1-based index in that list (None for
    implicit checks); source: where that list's value came from; depth: 0 for
    top-level lists, +1 inside restriction classes and access-table results.
    """

    parameter: str
    entry: str
    position: int | None
    source: Source | None
    outcome: str
    stage: str
    lookups: tuple[Lookup, ...]
    reply: str | None
    detail: str
    depth: int
    conditional: bool  # outcome assumed (DNS / policy not consulted)

    _fields = ("parameter", "entry", "position", "source", "outcome", "stage", "lookups", "reply", "detail",
               "depth", "conditional")

    def __init__(self, parameter: str, entry: str, position: int | None, source: Source | None, outcome: str,
                 stage: str = "rcpt", lookups: tuple[Lookup, ...] = (), reply: str | None = None,
                 detail: str = "", depth: int = 0, conditional: bool = False) -> None:
        _init(self, self._fields, (parameter, entry, position, source, outcome, stage, lookups, reply, detail,
                                   depth, conditional))

    def to_json(self) -> dict:
        return {
            "parameter": self.parameter,
            "entry": self.entry,
            "position": self.position,
            "source": self.source.to_json() if self.source else None,
            "outcome": self.outcome,
            "stage": self.stage,
            "lookups": [lk.to_json() for lk in self.lookups],
            "reply": self.reply,
            "detail": self.detail,
            "depth": self.depth,
            "conditional": self.conditional,
        }


class RouteTarget(FrozenRecord):
    """Where one final recipient (after virtual alias expansion) goes."""

    address: str
    address_class: str
    transport: str
    nexthop: str
    transport_source: str  # "transport_maps hash:/etc/postfix/transport" or "virtual_transport"
    lookups: tuple[Lookup, ...]

    _fields = ("address", "address_class", "transport", "nexthop", "transport_source", "lookups")

    def __init__(self, address: str, address_class: str, transport: str, nexthop: str, transport_source: str,
                 lookups: tuple[Lookup, ...] = ()) -> None:
        _init(self, self._fields, (address, address_class, transport, nexthop, transport_source, lookups,))

    def to_json(self) -> dict:
        return {"address": self.address, "address_class": self.address_class,
                "transport": self.transport, "nexthop": self.nexthop,
                "transport_source": self.transport_source,
                "lookups": [lk.to_json() for lk in self.lookups]}


class Route(FrozenRecord):
    """What happens to an accepted recipient."""

    recipient: str            # the address as resolved (lower case, qualified)
    address_class: str        # local, virtual_alias, virtual_mailbox, relay, default
    domain: str
    expansion: tuple[str, ...]  # virtual alias expansion result (empty: none)
    targets: tuple[RouteTarget, ...]
    notes: tuple[str, ...]
    lookups: tuple[Lookup, ...]

    _fields = ("recipient", "address_class", "domain", "expansion", "targets", "notes", "lookups")

    def __init__(self, recipient: str, address_class: str, domain: str, expansion: tuple[str, ...] = (),
                 targets: tuple[RouteTarget, ...] = (), notes: tuple[str, ...] = (),
                 lookups: tuple[Lookup, ...] = ()) -> None:
        _init(self, self._fields, (recipient, address_class, domain, expansion, targets, notes, lookups,))

    def to_json(self) -> dict:
        return {"recipient": self.recipient, "address_class": self.address_class,
                "domain": self.domain, "expansion": list(self.expansion),
                "targets": [t.to_json() for t in self.targets],
                "notes": list(self.notes),
                "lookups": [lk.to_json() for lk in self.lookups]}


class Trace(FrozenRecord):
    transaction: Transaction
    service: str
    code: int
    reply: str
    stage: str
    steps: tuple[Step, ...]
    decided_index: int | None  # index into steps of the deciding step
    conditional: bool
    config_errors: tuple[str, ...]
    warnings: tuple[str, ...]
    route: Route | None
    notes: tuple[str, ...]

    _fields = ("transaction", "service", "code", "reply", "stage", "steps", "decided_index", "conditional",
               "config_errors", "warnings", "route", "notes")

    def __init__(self, transaction: Transaction, service: str, code: int, reply: str, stage: str,
                 steps: tuple[Step, ...] = (), decided_index: int | None = None, conditional: bool = False,
                 config_errors: tuple[str, ...] = (), warnings: tuple[str, ...] = (),
                 route: Route | None = None, notes: tuple[str, ...] = ()) -> None:
        _init(self, self._fields, (transaction, service, code, reply, stage, steps, decided_index,
                                   conditional, config_errors, warnings, route, notes))

    @classmethod
    def make(cls, transaction, service, code, reply, stage, steps, decided_index, conditional,
             config_errors, warnings, route, notes) -> "Trace":
        """Trace(...) with every field given (see _new above)."""
        o = _new(cls)
        d = o.__dict__
        d["transaction"] = transaction
        d["service"] = service
        d["code"] = code
        d["reply"] = reply
        d["stage"] = stage
        d["steps"] = steps
        d["decided_index"] = decided_index
        d["conditional"] = conditional
        d["config_errors"] = config_errors
        d["warnings"] = warnings
        d["route"] = route
        d["notes"] = notes
        return o

    @property
    def decided_by(self) -> Step | None:
        if self.decided_index is None:
            return None
        return self.steps[self.decided_index]

    @property
    def accepted(self) -> bool:
        return 200 <= self.code < 300

    @property
    def waits_for(self) -> str | None:
        """The daemon smtpd waits for without end (it exited as it started,
        or master.cf does not run it): the deciding step is its "DAEMON
        startup" or "DAEMON service". None otherwise."""
        d = self.decided_by
        if self.code or d is None or d.parameter == "smtpd startup":
            return None
        daemon, _sp, what = d.parameter.rpartition(" ")
        return daemon if what in ("startup", "service") else None

    @property
    def closed_after(self) -> str | None:
        """The command after which smtpd closed the connection without a
        reply (it exited there), or None."""
        if self.code or self.reply or self.stage == "connect" or self.waits_for is not None:
            return None
        return {"mail": "MAIL FROM", "rcpt": "RCPT TO"}.get(self.stage, self.stage.upper())

    @property
    def answer(self) -> str:
        """The reply, or what the client sees when there is none: smtpd
        exited before it greeted anyone or after a command, or it waits for
        a daemon."""
        if self.reply:
            return self.reply
        daemon = self.waits_for
        if daemon is not None:
            return f"(no reply: smtpd waits for {daemon})"
        after = self.closed_after
        if after is not None:
            return f"(connection closed after {after})"
        return "(connection closed before any greeting)"

    def to_json(self) -> dict[str, Any]:
        out = self._json_head()
        out["steps"] = [s.to_json() for s in self.steps]
        if self.route is not None:
            out["route"] = self.route.to_json()
        return out

    def _json_head(self) -> dict[str, Any]:
        """to_json() up to, without, "steps" (which comes next, then "route")."""
        d = self.decided_by
        return {
            "code": self.code,
            "reply": self.reply,
            "stage": self.stage,
            "accepted": self.accepted,
            "service": self.service,
            "transaction": self.transaction.to_json(),
            "decided_by": None if d is None else {
                "parameter": d.parameter,
                "restriction": d.entry,
                "position": d.position,
                "source": d.source.to_json() if d.source else None,
                "step": self.decided_index,
            },
            "conditional": self.conditional,
            "config_errors": list(self.config_errors),
            "warnings": list(self.warnings),
            "notes": list(self.notes),
        }

    def to_json_text(self, memo: dict | None = None, more: str = "") -> str:
        """`json.dumps(self.to_json())`, the same text, with each step's
        text kept in MEMO (a dict the caller keeps across traces: many
        traces share steps, whose lookups and sources are shared objects).
        A step is known again by its fields, its lookups' and source's
        identities (the memo keeps those objects alive) and the types of
        its numbers and flags (True == 1, but they print differently).
        MORE: the text of further members (', "name": value...'), put
        before the closing brace."""
        head = json_text(self._json_head())
        if memo is None:
            memo = {}
        parts = []
        for s in self.steps:
            key = (s.parameter, s.entry, s.position, s.position.__class__, id(s.source), s.outcome, s.stage,
                   tuple(map(id, s.lookups)), s.reply, s.detail, s.depth, s.depth.__class__, s.conditional,
                   s.conditional.__class__)
            got = memo.get(key)
            if got is None:
                if len(memo) > 10_000:
                    memo.clear()
                got = memo[key] = (json_text(s.to_json()), s.source, s.lookups)
            parts.append(got[0])
        route = "" if self.route is None else ', "route": ' + json_text(self.route.to_json())
        # one join: the text is a few kilobytes, and each + would copy it
        return "".join((head[:-1], ', "steps": [', ", ".join(parts), "]", route, more, "}"))
