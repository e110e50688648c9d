"""What decides whether a Postfix daemon starts, as far as its parameters go.

A daemon converts each yes/no, number and time parameter it uses when it
starts (get_mail_conf_bool(), _int(), _long(), _time(): mail_conf_bool.c,
mail_conf_int.c, mail_conf_long.c, mail_conf_time.c, conv_time.c), checks
the length of some texts (get_mail_conf_str_table, _raw_table) and the
words of others (name_mask(), name_code()), and exits ("fatal: ...") on a
value it does not take. Which parameters each daemon reads, their ranges
and lengths, and the lists of tables it opens, come from
tui/core/data/daemon_params_<version>.json, which
scripts/gen_daemon_params.py asks the real daemons for (smtpd, and the
daemons it waits for in a transaction: anvil, trivial-rewrite, cleanup).
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Callable
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"   # tui/core/data
INT_MIN, INT_MAX = -2**31, 2**31 - 1
LONG_MIN, LONG_MAX = -2**63, 2**63 - 1

# strtol(): leading white space, a sign, decimal digits (isspace() is
# " \t\n\v\f\r" in the C locale)
_STRTOL = re.compile(r"[ \t\n\v\f\r]*([+-]?[0-9]+)")
_TIME_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}


def _strtol(text: str) -> tuple[int | None, str]:
    """strtol()'s number (None: no digits) and the text after it."""
    m = _STRTOL.match(text)
    if m is None:
        return None, text
    return int(m.group(1)), text[m.end():]


def bool_error(name: str, value: str) -> str | None:
    """convert_mail_conf_bool(): yes or no, in any case."""
    if value.lower() in ("yes", "no"):
        return None
    return f"fatal: bad boolean configuration: {name} = {value}"


def int_error(name: str, value: str, lo: int | None, hi: int | None, long: bool = False) -> str | None:
    """convert_mail_conf_int() / _long(): nothing after the number, which
    fits an int (a long); then the parameter's range."""
    n, rest = _strtol(value)
    if n is None or rest or not ((LONG_MIN <= n <= LONG_MAX) if long else (INT_MIN <= n <= INT_MAX)):
        return f"fatal: bad numerical configuration: {name} = {value}"
    if lo is not None and n < lo:
        return f"fatal: invalid {name} parameter value {n} < {lo}"
    if hi is not None and n > hi:
        return f"fatal: invalid {name} parameter value {n} > {hi}"
    return None


def conv_time(value: str) -> int | None:
    """conv_time() with seconds as the default unit: a number within an int
    and not negative, then a unit letter (only the first character after the
    digits counts), the product within an int; None when it is not a time."""
    n, rest = _strtol(value)
    if n is None or not 0 <= n <= INT_MAX:
        return None
    unit = _TIME_UNITS.get(rest[:1]) if rest else 1
    if unit == 1 or unit is not None and n < INT_MAX // unit:
        return n * unit
    return None


def time_error(name: str, value: str, lo: int | None, hi: int | None) -> str | None:
    """convert_mail_conf_time() with conv_time() (seconds are the unit of
    every time smtpd reads); then the range."""
    secs = conv_time(value)
    if secs is None:
        return f"fatal: parameter {name}: bad time value or unit: {value}"
    if lo is not None and secs < lo:
        return f"fatal: invalid {name}: {secs} (min {lo})"
    if hi is not None and secs > hi:
        return f"fatal: invalid {name}: {secs} (max {hi})"
    return None


@lru_cache(maxsize=None)
def _daemon_data(version: str) -> dict:
    """daemon_params_<version>.json, read once."""
    return json.loads((DATA_DIR / f"daemon_params_{version}.json").read_text())


@lru_cache(maxsize=None)
def typed_params(daemon: str = "smtpd", version: str = "3.7") -> tuple[tuple[str, str, int | None, int | None], ...]:
    """(name, kind, minimum, maximum) of every parameter DAEMON (smtpd,
    anvil, trivial-rewrite or cleanup) converts when it starts: yes/no, then
    int, long and time, each by name (with several bad values a daemon may
    name another one first); kind is bool, int, long or time."""
    data = _daemon_data(version)[daemon]
    out: list[tuple[str, str, int | None, int | None]] = [(n, "bool", None, None) for n in data["bool"]]
    for kind in ("int", "long", "time"):
        out += [(n, kind, lo, hi) for n, (lo, hi) in sorted(data[kind].items())]
    return tuple(out)


@lru_cache(maxsize=None)
def typed_names(daemon: str = "smtpd", version: str = "3.7") -> frozenset[str]:
    """The names of typed_params()."""
    return frozenset(n for n, *_rest in typed_params(daemon, version))


@lru_cache(maxsize=None)
def opened_maps(daemon: str = "smtpd", version: str = "3.7") -> tuple[str, ...]:
    """The parameters DAEMON opens as lists of tables when it starts (by
    name: smtpd's order is tui.core.smtpd.startup's INIT_MAPS, then
    smtpd_command_filter, then LATE_MAPS)."""
    return tuple(_daemon_data(version)[daemon]["maps"])


@lru_cache(maxsize=None)
def string_bounds(daemon: str = "smtpd", version: str = "3.7") -> tuple[tuple[str, int, int, bool], ...]:
    """(name, minimum length, maximum length or 0, read unexpanded?) of the
    text parameters DAEMON reads with a length limit
    (get_mail_conf_str_table, get_mail_conf_raw_table)."""
    data = _daemon_data(version)[daemon]
    low, high, raw = data.get("strmin", {}), data.get("strmax", {}), set(data.get("raw", ()))
    return tuple((n, low.get(n, 0), high.get(n, 0), n in raw) for n in sorted(set(low) | set(high)))


def first_startup_error(daemon: str, value: Callable[[str], str]) -> tuple[str, str] | None:
    """(parameter, fatal message) of the first parameter DAEMON converts
    that it cannot take, VALUE(name) giving each value: a yes/no, number or
    time it cannot convert or that is out of range, then a text shorter or
    longer than it takes. None: it starts (as far as these go)."""
    for name, kind, lo, hi in typed_params(daemon):
        bad = startup_error(name, kind, value(name), lo, hi)
        if bad is not None:
            return name, bad
    for name, least, most, raw in string_bounds(daemon):
        text = value(name)
        n = len(text.encode("utf-8", "surrogateescape"))
        for outside, lengths in ((n < least, f"{n} < {least}"), (bool(most) and n > most, f"{n} > {most}")):
            if outside:   # an unexpanded parameter's message puts the lengths in parentheses
                return name, f"fatal: bad string length {f'({lengths})' if raw else lengths}: {name} = {text}"
    return None


def startup_error(name: str, kind: str, value: str, lo: int | None, hi: int | None) -> str | None:
    """The fatal message a daemon gives for VALUE of the KIND parameter NAME
    (None: it takes it)."""
    if kind == "bool":
        return bool_error(name, value)
    if kind == "time":
        return time_error(name, value, lo, hi)
    return int_error(name, value, lo, hi, long=kind == "long")


# ---------------------------------------------------------------- words a daemon knows
# name_mask(): a list of words, each one of a fixed set (case-sensitive);
# the separators of NAME_MASK_DEFAULT_DELIM
_MASK_WORDS = re.compile(r"[^, \t\r\n]+")


def name_mask_error(name: str, value: str, known: frozenset[str]) -> str | None:
    """name_mask()'s fatal for a word of VALUE that is not in KNOWN."""
    for word in _MASK_WORDS.findall(value):
        if word not in known:
            return f'fatal: unknown {name} value "{word}" in "{value}"'
    return None


def name_code_known(value: str, known: frozenset[str]) -> bool:
    """name_code() with NAME_CODE_FLAG_NONE: one word, in any case."""
    return value.lower() in known


# What smtpd checks of parameters that take words when it starts (the
# fatal lines are the real smtpd's, tests/oracle/test_startup_checks.py),
# in this order, after its yes/no, number and time parameters:
# (parameter, its check: value -> fatal message or None)
SMTPD_WORD_CHECKS: tuple[tuple[str, Callable[[str], str | None]], ...] = (
    ("inet_protocols", lambda v: (f"fatal: all network protocols are disabled (inet_protocols = {v})"
                                  if not _MASK_WORDS.search(v) else
                                  name_mask_error("inet_protocols", v, frozenset({"all", "ipv4", "ipv6"})))),
    ("notify_classes", lambda v: name_mask_error("notify_classes", v, frozenset(
        {"bounce", "2bounce", "data", "delay", "policy", "protocol", "resource", "software"}))),
    ("receive_override_options", lambda v: name_mask_error("receive_override_options", v, frozenset(
        {"no_unknown_recipient_checks", "no_address_mappings", "no_header_body_checks", "no_milters"}))),
    ("header_from_format", lambda v: None if name_code_known(v, frozenset({"standard", "obsolete"}))
        else f'fatal: invalid setting: "header_from_format = {v}"'),
    ("smtpd_upstream_proxy_protocol", lambda v: None if v in ("", "haproxy")
        else f"fatal: unsupported smtpd_upstream_proxy_protocol value: {v}"),
    ("smtpd_forbid_bare_newline", lambda v: None if name_code_known(v, frozenset({"normalize", "yes", "reject", "no"}))
        else f"fatal: bad parameter value: 'smtpd_forbid_bare_newline = {v}'"),
)


# smtputf8_autodetect(): the mail sources it knows (name_mask, case-sensitive)
AUTODETECT_CLASSES = frozenset({"sendmail", "smtpd", "qmqpd", "forward", "bounce", "notify", "verify", "all"})


def smtputf8_autodetect_error(value: str) -> str | None:
    """The fatal message of smtputf8_autodetect() for smtputf8_autodetect_classes
    = VALUE: smtpd reads it only when it opens a queue file, and exits there."""
    return name_mask_error("smtputf8_autodetect_classes", value, AUTODETECT_CLASSES) if value else None


def maillog_file_error(path: str, prefixes: list[str]) -> str | None:
    """Every daemon's check of maillog_file (when set) against
    maillog_file_prefixes: it must begin with one of them."""
    if not path or any(path.startswith(p) for p in prefixes):
        return None
    return f"fatal: maillog_file value '{path}' does not match any prefix in maillog_file_prefixes"


# smtpd_tls_security_level (unless smtpd_tls_wrappermode = yes): the levels
# smtpd takes (fingerprint, verify and secure as encrypt, with a warning);
# another value, DANE's included, is fatal
SMTPD_TLS_LEVELS = frozenset({"none", "may", "encrypt", "fingerprint", "verify", "secure"})


def smtpd_tls_level_error(value: str, wrappermode: bool) -> str | None:
    if wrappermode or not value or name_code_known(value, SMTPD_TLS_LEVELS):
        return None
    return f'fatal: Invalid TLS level "{value}"'
