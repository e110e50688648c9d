"""Which lookup tables a configuration names, and where.

    refs = collect_tables(cfg)        # [TableRef(spec, used_by, sources)]
    secrets = cf_secrets(refs)        # passwords in the SQL/LDAP .cf files
    scrub(text, secrets)              # text with those passwords hidden

A table is named by main.cf values, by the built-in defaults that matter to
mail flow (local_recipient_maps, alias_maps, ...), and by master.cf -o
overrides. Restriction arguments that are not tables (the DNS zone of
reject_rbl_client, the server of check_policy_service, the seconds of
sleep) are skipped, using the evaluator's own list of such restrictions.

Pure Python: no textual, no rich.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from tui.core.config.params import param_list
from tui.core.model import Source
from tui.core.smtpd import RESTRICTIONS
from tui.core.smtpd.registry import NO_ARG, TABLE
from tui.core.tables.sql import read_cf

# Postfix 3.7's dictionary types (postconf -m, plus the ones a Debian build
# leaves out): a token "type:name" names a table only with one of these.
DICT_TYPES = frozenset("""
btree cdb cidr dbm environ fail hash inline internal ldap lmdb memcache mongodb
mysql nis nisplus pcre pgsql pipemap proxy randmap regexp sdbm socketmap sqlite
static tcp texthash unionmap unix
""".split())

# Parameters whose values name tables that are not lookups of mail flow:
# Postfix-managed caches and proxymap's access lists.
SKIP_PARAMS = frozenset({
    "proxy_read_maps", "proxy_write_maps", "address_verify_map",
    "postscreen_cache_map", "smtpd_tls_session_cache_database",
    "smtp_tls_session_cache_database", "lmtp_tls_session_cache_database",
    "tls_random_source", "tlsproxy_tls_session_cache_database",
    "default_database_type", "alias_database",
})

# Parameters whose built-in default tables matter to mail flow even when
# main.cf does not set them (recipient validation, aliases, rewriting).
DEFAULT_TABLE_PARAMS = frozenset({
    "local_recipient_maps", "alias_maps", "relay_recipient_maps", "virtual_alias_maps",
    "virtual_mailbox_maps", "canonical_maps", "sender_canonical_maps",
    "recipient_canonical_maps", "transport_maps", "relocated_maps",
    "smtpd_sender_login_maps", "mydestination", "relay_domains", "mynetworks",
})

# Table types whose "name" is not a file.
_NO_FILE_TYPES = ("inline", "static", "fail", "unix", "environ", "internal")

_TABLE_RE = re.compile(r"^([a-z0-9_]+):(.*)$", re.S)


def non_table_argument_restrictions() -> frozenset[str]:
    """Restrictions whose next list item is an argument that is not a table
    (a DNS list domain, a policy service, sleep's seconds), from the
    restriction registry."""
    return frozenset(n for n, r in RESTRICTIONS.items() if r.arg not in (NO_ARG, TABLE))


def is_table_spec(token: str) -> bool:
    m = _TABLE_RE.match(token)
    return bool(m and m.group(1) in DICT_TYPES and m.group(2) != "")


def table_type(spec: str) -> str:
    """"hash" for hash:/x; the inner type for proxy:mysql:/x."""
    t = spec.split(":", 1)[0]
    if t == "proxy":
        return spec.split(":", 2)[1] if spec.count(":") >= 2 else t
    return t


def table_path(spec: str) -> str | None:
    """The file a table spec names, if it names one."""
    rest = spec
    while True:
        m = _TABLE_RE.match(rest)
        if not m or m.group(1) not in DICT_TYPES:
            break
        if m.group(1) in _NO_FILE_TYPES:
            return None
        rest = m.group(2)
        if rest.startswith("/"):
            return rest
    return None


@dataclass
class TableRef:
    """A table the configuration names. used_by: (parameter, where as text);
    sources: the Source of each use, in the same order."""

    spec: str
    used_by: list[tuple[str, str]] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)

    @property
    def type(self) -> str:
        return table_type(self.spec)

    @property
    def path(self) -> str | None:
        return table_path(self.spec)

    def add_use(self, param: str, src: Source) -> None:
        self.used_by.append((param, str(src)))
        self.sources.append(src)


def _scan(tokens: list[str], skip_arg: frozenset[str]) -> list[str]:
    out, skip = [], False
    for tok in tokens:
        if skip:
            skip = False
            continue
        if tok.lower() in skip_arg:
            skip = True
            continue
        if is_table_spec(tok):
            out.append(tok)
    return out


def collect_tables(cfg) -> list[TableRef]:
    """Every lookup table the configuration names (main.cf values, defaults
    that are in effect, master.cf -o overrides), in first-seen order."""
    skip_arg = non_table_argument_restrictions()
    refs: dict[str, TableRef] = {}
    main = cfg.params()
    explicit = set(main.names(explicit_only=True))
    names = sorted(main.names(explicit_only=False), key=lambda n: (n not in explicit, n))
    for name in names:
        if name in SKIP_PARAMS or name.endswith("_cache_database"):
            continue
        raw = main.raw(name) or ""
        if ":" not in raw and "$" not in raw:
            continue
        is_default = not main.is_explicit(name)
        for spec in _scan(param_list(main, name), skip_arg):
            if is_default and spec not in refs and name not in DEFAULT_TABLE_PARAMS:
                continue  # a default that does not concern mail flow (static:anyone, ...)
            refs.setdefault(spec, TableRef(spec)).add_use(name, main.source(name))
    for svc in getattr(cfg, "services", []):
        if not svc.overrides:
            continue
        try:
            view = cfg.params(svc)
        except Exception:
            view = None
        for name, (value, src) in svc.overrides.items():
            if name in SKIP_PARAMS:
                continue
            if view is not None:
                toks = param_list(view, name)
            else:
                toks = [t for t in re.split(r"[\s,]+", main.expand_text(value)) if t]
            for spec in _scan(toks, skip_arg):
                refs.setdefault(spec, TableRef(spec)).add_use(name, src)
    return list(refs.values())


# ---------------------------------------------------------------------------
# Secrets: the passwords the configuration's .cf files hold, so that callers
# can keep them out of everything they show.

SECRET_SETTINGS = ("password", "bind_pw")
def cf_settings(path: str) -> tuple[dict[str, tuple[str, int]], str | None]:
    """A mysql/sqlite/pgsql/ldap .cf file as {name: (value, line)} (the
    tables layer's reader), or ({}, error) when it cannot be read."""
    try:
        params, _diags = read_cf(path)
    except OSError as exc:
        return {}, f"{path}: {exc.strerror or exc}"
    return params, None


def _table_name(spec: str) -> str:
    rest = spec
    while rest.startswith("proxy:"):
        rest = rest[len("proxy:"):]
    return rest.split(":", 1)[1] if ":" in rest else rest


def cf_secrets(refs: list[TableRef], view=None) -> set[str]:
    """Passwords of the SQL/LDAP tables the configuration names: in their
    .cf files, or -- for a table named without a path (mysql:NAME) -- in
    the main.cf parameters NAME_password / NAME_bind_pw (VIEW)."""
    out: set[str] = set()
    for ref in refs:
        if ref.type not in ("mysql", "pgsql", "ldap"):
            continue
        if ref.path:
            settings, _ = cf_settings(ref.path)
            for k in SECRET_SETTINGS:
                if k in settings and settings[k][0]:
                    out.add(settings[k][0])
        elif view is not None:
            name = _table_name(ref.spec)
            for k in SECRET_SETTINGS:
                try:
                    raw = view.raw(f"{name}_{k}")
                    value = view.expand(f"{name}_{k}") if raw is not None else ""
                except Exception:
                    value = raw or ""
                for v in (raw, value):
                    if v and v.strip():
                        out.add(v.strip())
    return out
