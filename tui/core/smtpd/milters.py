"""smtpd's milters in a session (smtpd.c setup_milters(), the CONNECT
greeting, mail_cmd()), as far as the configuration decides them.

smtpd takes its milter list, when a client connects (and again after
XCLIENT), from smtpd_milter_maps (looked up with the client address) or
else smtpd_milters; "DISABLE" or receive_override_options = no_milters
means none. It reads the list (tui.core.postfix.milter) and connects to
the milters at the greeting, in order, until one answers:

- a list it cannot read, or an inet: address inet_connect() cannot parse,
  makes it exit before the greeting;
- a milter whose protocol or address it cannot use answers every event
  with its configuration-error reply: "451 4.3.5 Server configuration
  problem - try again later" (unless its default_action is accept or
  quarantine). That reply does not change the greeting or the reply to
  HELO/EHLO ("Sendmail compatibility"): MAIL FROM gets it, after the
  sender restrictions when smtpd_delay_reject = no, before any restriction
  otherwise. With quarantine the message is put on hold;
- a usable milter is asked over the network: what it answers is not known
  offline. The trace assumes it lets the mail through, says so, and is
  conditional; the milters after it are taken as smtpd meets them then.
"""
from __future__ import annotations

from tui.core.model import FrozenRecord, Source
from tui.core.postfix.milter import CONF_ERROR_REPLY, HOLD, Milter, Outcome, session_outcome
from tui.core.trace import DUNNO, NO_MATCH

_set = object.__setattr__


class SessionMilters(FrozenRecord):
    """The milters of one traced session: the list's parameter (smtpd_milters
    or smtpd_milter_maps), its text and source, and what they make of the
    session (Outcome)."""

    __slots__ = _fields = ("parameter", "text", "source", "outcome")
    parameter: str
    text: str
    source: Source | None
    outcome: Outcome

    def __init__(self, parameter: str, text: str, source: Source | None, outcome: Outcome):
        _set(self, "parameter", parameter)
        _set(self, "text", text)
        _set(self, "source", source)
        _set(self, "outcome", outcome)

    def culprit(self, st) -> tuple[str, Source | None]:
        """The parameter to fix, and where it is set: milter_macro_defaults
        when smtpd cannot read it, milter_protocol when the protocol a
        milter runs with is main.cf's and is what smtpd cannot use, else the
        list's."""
        o = self.outcome
        m = o.milter
        name = (o.setting or ("milter_protocol" if o.kind == "reply" and m is not None and "protocol" not in m.braced
                              and m.protocol_error() is not None else self.parameter))
        return name, (self.source if name == self.parameter else st.source(name))


def session_milters(st) -> SessionMilters | None:
    """The milters smtpd sets up for this client, or None when it has none.
    The smtpd_milter_maps lookup is recorded as a step of its own."""
    static = _static(st)
    if static is False:
        return None
    maps, text, src = static
    parameter = "smtpd_milters"
    if maps:
        lookups: list = []
        for spec in maps:
            found, value, err = st.tables.lookup(st.view, spec, st.client_addr, lookups, False)
            if err:
                break      # maps_find() failed: smtpd falls back to smtpd_milters
            if found:
                parameter, text, src = "smtpd_milter_maps", value or "", st.source("smtpd_milter_maps")
                break
        sb = st.begin("smtpd_milter_maps", ", ".join(maps), None, st.source("smtpd_milter_maps"))
        st.add_lookups(lookups)
        sb.outcome = DUNNO if parameter == "smtpd_milter_maps" else NO_MATCH
        sb.detail = (f"the milters for this client: {text}" if parameter == "smtpd_milter_maps" else
                     "no milter list for this client here: " + (f"smtpd_milters = {text} applies" if text else
                                                                "smtpd_milters is empty"))
        st.end(sb)
    if not text or text.lower() == "disable":
        return None
    return SessionMilters(parameter, text, src, _outcome(st, text))


def configured_milters(st) -> SessionMilters | None:
    """The milters of smtpd_milters (what a client gets that
    smtpd_milter_maps does not name), or None when there are none."""
    static = _static(st)
    if static is False or not static[1] or static[1].lower() == "disable":
        return None
    return SessionMilters("smtpd_milters", static[1], static[2], _outcome(st, static[1]))


def _static(st):
    got = st.vp.milters
    if got is None:
        got = st.vp.milters = _static_milters(st)
    return got


def _static_milters(st):
    """What a service's view says of its milters, once per view: False (none
    at all), else (smtpd_milter_maps' tables, smtpd_milters, its source)."""
    if "no_milters" in st.plist("receive_override_options"):
        return False
    maps = tuple(st.plist("smtpd_milter_maps"))
    text = st.p("smtpd_milters")
    if not maps and (not text or text.lower() == "disable"):
        return False
    return maps, text, st.source("smtpd_milters")


def _outcome(st, text: str) -> Outcome:
    memo = st.tables.config_memo
    key = ("milter_outcome", st.view, text)
    got = memo.get(key)
    if got is None:
        got = memo[key] = session_outcome(text, st.p("milter_protocol"), st.p("milter_default_action"),
                                          st.p("milter_macro_defaults"))
    return got


def describe(m: Milter) -> str:
    """The milter as a trace names it, with the settings its braces give."""
    return m.name + (f" (its own {', '.join(m.braced)})" if m.braced else "")


def asked_note(sm: SessionMilters, m: Milter) -> str:
    """The note of a usable milter: asked at run time, assumed to let the
    client go on."""
    down = m.comm_error_reply()
    if down is None:
        then = "smtpd goes on without it"
    elif down == HOLD:
        then = "smtpd puts the message on hold"
    else:
        then = f"smtpd answers MAIL FROM with {down}"
    return (f"not evaluated: the milter {m.name} ({sm.parameter} = {sm.text}) is asked at CONNECT, HELO, MAIL "
            f"and RCPT, and its answers are not known offline: the trace assumes it lets the mail through. "
            f"If it cannot be reached, default_action = {m.default_action}: {then}")


def conf_error_detail(sm: SessionMilters) -> str:
    """Why the milter answers what it does without being asked."""
    o = sm.outcome
    m = o.milter
    assert m is not None
    what = ("puts the message on hold (milter-hold)" if o.reply == HOLD else
            f"answers MAIL FROM with {CONF_ERROR_REPLY}")
    skipped = "; ".join(w.removeprefix("warning: ") for w in o.warnings[:-1])
    return (f"smtpd logs \"{o.warnings[-1]}\": it never connects to {describe(m)}, and with default_action = "
            f"{m.default_action} the milter answers every command in its place (accept and quarantine are "
            f"the only actions that let mail through). smtpd {what}; the greeting and HELO/EHLO are "
            f"answered as usual" + (f" (before it, milters it could not use either, with default_action "
                                    f"accept: {skipped})" if skipped else "")
            + (f"; it is asked after {', '.join(a.name for a in o.asked)}, which the trace assumes to let the "
               f"mail through" if o.asked else ""))
