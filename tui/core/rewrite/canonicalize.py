"""trivial-rewrite's rewrite in the local context: qualify an address (rewrite.c)."""
from __future__ import annotations

from tui.core.postfix.mail_params import read_myorigin
from tui.core.postfix.quote_822_local import is_dot_string
from tui.core.postfix.addr_conf import AddrConf


def canonicalize(view, addr: str, conf: AddrConf | None = None, rescanned: bool = False) -> str:
    """rewrite_clnt(local context): qualify an address like trivial-rewrite.
    CONF: the view's settings when the caller has them (addr_conf(env,
    view)); read now otherwise.

    rewrite_addr() parses the address in quoted form (quote_822_local()): a
    local part that is no dot-string ("al ice!x") is one quoted token, in
    which rewrite_tree() sees no "!" or "%" to swap. RESCANNED: the text was
    parsed unquoted instead (the resolver does so with a quoted local part
    it has cracked open at a "!"), each operator a token of its own."""
    if conf is None:
        conf = AddrConf(view)
    # an address in internal form: brackets around it are part of it
    # (rewrite_tree() strips none; the resolver then finds a bad domain)
    a = addr.strip()
    if not a:
        return ""
    # strip source route @a,@b:user@c
    if a.startswith("@") and ":" in a:
        a = a.split(":", 1)[1]
    if "@" not in a and (rescanned or is_dot_string(a)):
        if conf.swap_bangpath and "!" in a:
            host, user = a.split("!", 1)
            a = f"{user}@{host}"
        elif conf.allow_percent_hack and "%" in a:
            i = a.rfind("%")
            a = a[:i] + "@" + a[i + 1:]
    if "@" not in a:
        if conf.append_at_myorigin:
            origin = conf.myorigin
            a = a + "@" + (origin if origin is not None else read_myorigin(view))
    elif conf.append_dot_mydomain:
        local, dom = a.rsplit("@", 1)
        if dom and "." not in dom and not dom.startswith("["):
            md = conf.mydomain
            if md:
                a = f"{local}@{dom}.{md}"
    if a.endswith(".") and not a.endswith("..") and not a.endswith("@."):
        a = a[:-1]
    return a
