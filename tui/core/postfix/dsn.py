"""Enhanced status codes: dsn_valid(), dsn_split() (global/dsn_util.c) and smtpd's DSN fix-up."""
from __future__ import annotations


def is_dsn(s: str) -> bool:
    p = s.split(".")
    return len(p) == 3 and all(x.isdigit() for x in p) and p[0] in ("2", "4", "5")


_DSN_MAP = {"1": ("4.1.7", "4.1.1"), "2": ("4.1.8", "4.1.2"), "3": ("4.1.7", "4.1.3"),
            "4": ("4.1.7", "4.1.4"), "5": ("4.1.0", "4.1.5"), "6": ("4.1.7", "4.1.6"),
            "7": ("4.1.7", "4.1.3"), "8": ("4.1.8", "4.1.2")}


def dsn_fix(dsn: str, reply_class: str) -> str:
    """smtpd_dsn_fix(): make an address DSN fit what is being rejected.

    Only the detail matters: the first digit is later forced to the SMTP
    code's first digit.
    """
    if len(dsn) >= 5 and dsn[0].isdigit() and dsn[1:4] == ".1.":
        micro = dsn[4:]
        if reply_class == "Sender address":
            return _DSN_MAP.get(micro, ("4.1.0", "4.1.0"))[0]
        if reply_class == "Recipient address":
            return _DSN_MAP.get(micro, ("4.1.0", "4.1.0"))[1]
        return "4.0.0"
    return dsn



def dsn_split(default: str, text: str) -> tuple[str, str]:
    """dsn_split(): a leading X.Y.Z in the text overrides the default DSN."""
    t = text.lstrip()
    parts = t.split(None, 1)
    if parts and dsn_valid(parts[0]) and parts[0][0] in "245":
        return parts[0], (parts[1] if len(parts) > 1 else "")
    return default, t


def dsn_valid(s: str) -> bool:
    got = _DSN_VALID.get(s)
    if got is None:
        got = _valid_dsn_uncached(s)
        if len(_DSN_VALID) < 4096:   # a pure function of the text: the few DSNs replies use
            _DSN_VALID[s] = got
    return got


_DSN_VALID: dict = {}


def _valid_dsn_uncached(s: str) -> bool:
    p = s.split(".")
    if len(p) != 3 or not all(x.isdigit() for x in p):
        return False
    return p[0] in ("2", "4", "5") and len(p[1]) <= 3 and len(p[2]) <= 3
