"""trivial-rewrite's rewrite in the local context: qualify an address (rewrite.c)."""
from __future__ import annotations

from tui.core.config.params import read_myorigin
from tui.core.postfix.addr_conf import _AddrConf


def canonicalize(view, addr: str) -> str:
    """rewrite_clnt(local context): qualify an address like trivial-rewrite
    (_canonicalize with the view's settings read now)."""
    return _canonicalize(_AddrConf(view), view, addr)


def _canonicalize(conf: _AddrConf, view, addr: str) -> str:
    """canonicalize() with view's settings read once (conf = _conf(env, view))."""
    a = addr.strip()
    if a.startswith("<") and a.endswith(">"):
        a = a[1:-1]
    if not a:
        return ""
    # strip source route @a,@b:user@c
    if a.startswith("@") and ":" in a:
        a = a.split(":", 1)[1]
    if "@" not in a:
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
