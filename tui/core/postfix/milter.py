"""The Milter client, as far as the configuration decides what it does
(milter.c milter_new(), milter_macro_defaults_create(), milter_conn_event();
milter8.c milter8_connect(), milter8_conf_error(), milter8_comm_error();
inet_connect.c and host_port.c for an inet: endpoint).

A server names its milters in one text (smtpd_milters, or what
smtpd_milter_maps answers for the client): addresses separated by commas
or blanks, each alone or braced with its own settings,
`{ inet:host:port, default_action=accept, connect_timeout=10s }` (a setting
is one word, or braced itself: `{ default_action = accept }`; blanks around
"=" outside braces make it three words, and the server exits).

milter_new() reads that text as Postfix does and exits ("fatal: ...") on
what it cannot read. milter8_connect() then checks each milter's protocol
and address before it connects; a milter whose settings fail there answers
every event with its configuration-error reply (milter8_conf_error():
nothing with default_action accept, a HOLD with quarantine, else
"451 4.3.5 Server configuration problem - try again later") without ever
being asked. Whether a well-formed milter is reached, and what it answers,
is known only at run time.

The server connects to its milters one after the other at the client's
CONNECT event, and stops at the first one that answers (milter_conn_event()):
session_outcome() walks them in that order, taking each usable milter to let
the client go on (what a trace assumes of what it cannot know).
"""
from __future__ import annotations

import re

from tui.core.config import split_nameval
from tui.core.postfix.mail_conf import conv_time
from tui.core.postfix.host_port import inet_connect_fatal
from tui.core.config.mystrtok import balpar, extpar, tokenize
from tui.core.model import FrozenRecord

CONF_ERROR_REPLY = "451 4.3.5 Server configuration problem - try again later"
HOLD = "H"   # a milter's reply that puts the message on hold (quarantine)
_SEP = ", \t\r\n"   # CHARS_COMMA_SP
_SEP_RE = re.compile(r"[, \t\r\n]+")
# milter8.c milter8_event_masks and milter8_versions: the words of
# milter_protocol; a version number, or no_header_reply (no version)
_PROTOCOL_VERSIONS = {"2": 2, "3": 3, "4": 4, "6": 6, "no_header_reply": 0}
# per-milter settings (milter.c str_table and time_table: the main.cf names
# without "milter_"), at least one character or one second
_STR_OPTIONS = ("protocol", "default_action")
_TIME_OPTIONS = ("connect_timeout", "command_timeout", "content_timeout")
_set = object.__setattr__


class MilterFatal(Exception):
    """The server exits when it sets up its milters (its "fatal: ..." text)."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


class Milter(FrozenRecord):
    """One milter of the list, with the settings it runs with."""

    __slots__ = _fields = ("name", "protocol", "default_action", "braced")
    name: str                 # the address, as written: inet:host:port, unix:/path, local:/path
    protocol: str
    default_action: str
    braced: tuple[str, ...]   # the settings its braces give it (protocol, default_action, ...)

    def __init__(self, name: str, protocol: str, default_action: str, braced: tuple[str, ...] = ()):
        _set(self, "name", name)
        _set(self, "protocol", protocol)
        _set(self, "default_action", default_action)
        _set(self, "braced", braced)

    def conf_error(self) -> str | None:
        """milter8_connect()'s warning when the milter's protocol or address
        cannot be used (it is never connected), else None."""
        return self.protocol_error() or self.address_error()

    def protocol_error(self) -> str | None:
        """The protocol words milter8_connect() cannot use."""
        version = 0
        for word in _words(self.protocol):
            v = _PROTOCOL_VERSIONS.get(word)
            if v is None or (v and version):
                return f"milter {self.name}: bad protocol information: {word}"
            version = v or version
        if not version:
            return f"milter {self.name}: no protocol version information"
        return None

    def address_error(self) -> str | None:
        """The transport:endpoint form milter8_connect() needs."""
        transport, colon, endpoint = self.name.partition(":")
        if not colon or not endpoint or not transport:
            return f"Milter service needs transport:endpoint instead of \"{self.name}\""
        if transport not in ("inet", "unix", "local"):
            return f"invalid transport name: {transport} in Milter service: {self.name}"
        return None

    def connect_fatal(self) -> str | None:
        """inet_connect()'s exit on an inet: endpoint it cannot parse
        (host_port()), when the server connects; None for the others."""
        transport, _colon, endpoint = self.name.partition(":")
        return inet_connect_fatal(endpoint) if transport == "inet" else None

    def conf_error_reply(self) -> str | None:
        """milter8_conf_error(): what a milter that cannot be used answers."""
        action = self.default_action.lower()
        if action == "accept":
            return None
        if action == "quarantine":
            return HOLD
        return CONF_ERROR_REPLY

    def comm_error_reply(self) -> str | None:
        """milter8_comm_error(): what the milter answers when it cannot be
        reached (or breaks off), by its default_action."""
        return {"accept": None, "reject": "550 5.5.0 Service unavailable",
                "tempfail": "451 4.7.1 Service unavailable - try again later",
                "quarantine": HOLD}.get(self.default_action.lower(), CONF_ERROR_REPLY)


def _words(text: str) -> list[str]:
    """mystrtok() with CHARS_COMMA_SP."""
    return [w for w in _SEP_RE.split(text) if w]


def milter_macro_defaults_error(text: str) -> str | None:
    """milter_macro_defaults_create()'s exit on milter_macro_defaults: an
    entry that is not name=value or { name = value }."""
    for nameval in tokenize(text):
        if nameval.startswith("{") and not (balpar(nameval) and nameval[balpar(nameval):].startswith("=")):
            try:
                nameval = extpar(nameval, strip=False)
            except ValueError as exc:
                return f"fatal: malformed default macro entry: {exc} in \"{text}\""
        got = split_nameval(nameval.replace("\n", " "))
        if isinstance(got, str):
            return f"fatal: malformed default macro entry: {got} in \"{text}\""
    return None


def milter_new(names: str, protocol: str, default_action: str) -> tuple[Milter, ...]:
    """The milters of NAMES in order, each with the protocol and
    default_action it runs with; raises MilterFatal as the server exits."""
    out = []
    for name in tokenize(names):
        my_protocol, my_action = protocol, default_action
        braced: list[str] = []
        if name.startswith("{"):
            try:
                inner = extpar(name, strip=False)
            except ValueError as exc:
                raise MilterFatal(f"fatal: milter service syntax error: {exc}") from None
            words = inner.lstrip(_SEP)
            end = next((i for i, c in enumerate(words) if c in _SEP), len(words))
            if not words:
                raise MilterFatal(f"fatal: empty milter definition: \"{names}\"")
            name, rest = words[:end], words[end + 1:]
            for key, value in _attr_override(rest):
                braced.append(key)
                if key == "protocol":
                    my_protocol = value
                elif key == "default_action":
                    my_action = value
        out.append(Milter(name, my_protocol, my_action, tuple(braced)))
    return tuple(out)


def _attr_override(text: str) -> list[tuple[str, str]]:
    """attr_override() with the milter's tables: (name, value) of each
    setting; raises MilterFatal as the server exits."""
    out = []
    for nameval in tokenize(text):
        if nameval.startswith("{"):
            try:
                nameval = extpar(nameval, strip=False)
            except ValueError as exc:
                # extpar() has moved past the "{" and, when it found the
                # closing one, cut the text there
                end = balpar(nameval)
                raise MilterFatal(f"fatal: {exc} in \"{nameval[1:end - 1] if end else nameval[1:]}\"") from None
        got = split_nameval(nameval.replace("\n", " "))
        if isinstance(got, str):
            raise MilterFatal(f"fatal: malformed option: {got}: \"...{nameval}...\"")
        key, value = got
        if key in _STR_OPTIONS:
            if not value:
                raise MilterFatal(f"fatal: bad string length 0 < 1: {key} = {value}")
        elif key in _TIME_OPTIONS:
            secs = conv_time(value)
            if secs is None:
                raise MilterFatal(f"fatal: {key}: bad time value or unit: {value}")
            if secs < 1:
                raise MilterFatal(f"fatal: invalid {key}: {secs} (min 1)")
        else:
            raise MilterFatal(f"fatal: unknown option: \"{key} = {value}\"")
        out.append((key, value))
    return out


class Outcome(FrozenRecord):
    """What the milters of a session make of it, as far as the configuration
    decides (session_outcome()), assuming that each usable milter asked
    before (`asked`, whose answers are known only at run time) lets the
    client go on.

    kind: "fatal" (the server exits before its greeting: text), "reply"
    (every event from CONNECT on gets `reply`, a 4xx text or HOLD, from
    `milter`) or "none" (no milter it cannot use answers anything).
    warnings: what the server logs about the milters it cannot use.
    setting: the main.cf parameter at fault when it is not the list itself
    (milter_macro_defaults).
    """

    __slots__ = _fields = ("kind", "milter", "reply", "text", "warnings", "asked", "setting")
    kind: str
    milter: Milter | None
    reply: str | None
    text: str
    warnings: tuple[str, ...]
    asked: tuple[Milter, ...]
    setting: str

    def __init__(self, kind: str, milter: Milter | None = None, reply: str | None = None, text: str = "",
                 warnings: tuple[str, ...] = (), asked: tuple[Milter, ...] = (), setting: str = ""):
        _set(self, "kind", kind)
        _set(self, "milter", milter)
        _set(self, "reply", reply)
        _set(self, "text", text)
        _set(self, "warnings", warnings)
        _set(self, "asked", asked)
        _set(self, "setting", setting)


def session_outcome(names: str, protocol: str, default_action: str, macro_defaults: str) -> Outcome:
    """milter_create() then milter_conn_event() for the milter list NAMES."""
    bad = milter_macro_defaults_error(macro_defaults) if macro_defaults else None
    if bad is not None:
        return Outcome("fatal", text=bad, setting="milter_macro_defaults")
    try:
        milters = milter_new(names, protocol, default_action)
    except MilterFatal as exc:
        return Outcome("fatal", text=exc.text)
    warnings: list[str] = []
    asked: list[Milter] = []
    for m in milters:
        err = m.conf_error()
        if err is None:
            fatal = m.connect_fatal()
            if fatal is not None:
                return Outcome("fatal", milter=m, text=fatal, warnings=tuple(warnings), asked=tuple(asked))
            asked.append(m)
            continue
        warnings.append(f"warning: {err}")
        reply = m.conf_error_reply()
        if reply is not None:
            return Outcome("reply", milter=m, reply=reply, warnings=tuple(warnings), asked=tuple(asked))
    return Outcome("none", warnings=tuple(warnings), asked=tuple(asked))
