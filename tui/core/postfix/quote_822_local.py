"""quote_822_local() (global/quote_822_local.c): an address's local part
in external (RFC 822 quoted) form.

A local part that is not a dot-string -- empty, a leading, trailing or
doubled dot, a blank, a control character, or one of ()<>@,;:\\"[] -- is
put in double quotes, with '"', '\\' and CR escaped by a backslash; 8-bit
characters are left alone. A source route ("@a,@b:") before the local
part is kept as it is. Postfix asks tables for the external form of an
address first, then the internal form (mail_addr_find()'s legacy query
form, MA_FORM_EXTERNAL_FIRST).
"""
from __future__ import annotations

import re

# a dot-string: atoms of anything but blanks, controls, DEL and the
# RFC 822 specials, joined by single dots
_DOT_STRING = re.compile(r'[^\x00-\x20\x7f()<>@,;:\\"\[\].]+(?:\.[^\x00-\x20\x7f()<>@,;:\\"\[\].]+)*')


def is_dot_string(local: str) -> bool:
    """is_822_dot_string() with QUOTE_FLAG_8BITCLEAN."""
    return _DOT_STRING.fullmatch(local) is not None


def quote_822_local(mbox: str, bare_localpart: bool = False) -> str:
    """quote_822_local_flags(mbox, QUOTE_FLAG_DEFAULT [| QUOTE_FLAG_BARE_LOCALPART]):
    the local part is everything up to the last "@" (all of it with
    BARE_LOCALPART, or when there is no "@")."""
    start = mbox.index(":") + 1 if mbox.startswith("@") and ":" in mbox else 0
    end = len(mbox) if bare_localpart or "@" not in mbox[start:] else mbox.rindex("@")
    local = mbox[start:end]
    if is_dot_string(local):
        return mbox
    quoted = "".join("\\" + c if c in '"\\\r' else c for c in local)
    return f'{mbox[:start]}"{quoted}"{mbox[end:]}'
