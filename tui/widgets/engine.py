"""The app's adapter over tui.core: everything the widgets need, as plain data.

Pure Python (no textual, no rich), so it can be tested on its own. It asks
the engine (load_config, open_table, evaluate, ...) and turns the answers
into small records the widgets render. When an engine part is missing, the
functions here raise `EngineMissing` naming it, and the UI says "not
available yet" instead of inventing an answer.

Things the engine contract does not (yet) provide and that the UI needs are
computed here from the public API: which lookup tables a configuration names
and where, the PostfixAdmin view read with the SQL tables' own connection
settings, and configuration warnings (unreachable restrictions, unknown
restriction names, a domain in two classes, a world-readable .cf holding a
password).
"""
from __future__ import annotations

import importlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class EngineMissing(Exception):
    """An engine module this feature needs is not there (yet)."""

    def __init__(self, part: str, detail: str = ""):
        super().__init__(f"{part} is not available yet" + (f" ({detail})" if detail else ""))
        self.part = part


def _import(module: str, part: str):
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name) or exc.name == module:
            raise EngineMissing(part, module) from None
        raise


def have(module: str) -> bool:
    try:
        importlib.import_module(module)
        return True
    except Exception:
        return False


# ---------------------------------------------------------------------------
# Secrets: a MySQL password never appears on screen.

_SECRET_RE = re.compile(r"(?i)(password\s*=\s*)(\S+)")


def scrub(text: str, secrets: set[str] | frozenset[str] = frozenset()) -> str:
    """Remove known secret values and `password = x` assignments from TEXT."""
    if not text:
        return text
    for s in sorted(secrets, key=len, reverse=True):
        if s and len(s) >= 1:
            text = text.replace(s, "********")
    return _SECRET_RE.sub(r"\1********", text)


# ---------------------------------------------------------------------------
# Loading


@dataclass
class Loaded:
    config_dir: Path
    cfg: Any = None
    error: str | None = None  # main.cf missing/unreadable, or engine missing


def load(config_dir: str | Path) -> Loaded:
    config_dir = Path(config_dir)
    try:
        mod = _import("tui.core.config", "the configuration loader (tui.core.config)")
    except EngineMissing as exc:
        return Loaded(config_dir, None, str(exc))
    from tui.core.model import ExplorerError

    try:
        cfg = mod.load_config(str(config_dir))
    except ExplorerError as exc:
        return Loaded(config_dir, None, str(exc))
    except OSError as exc:
        return Loaded(config_dir, None, f"{config_dir}: {exc.strerror or exc}")
    return Loaded(config_dir, cfg, None)


# ---------------------------------------------------------------------------
# Which lookup tables the configuration names

DICT_TYPES = frozenset("""
btree cdb cidr dbm environ fail hash inline internal ldap lmdb memcache mongodb
mysql nis nisplus pcre pgsql pipemap proxy randmap regexp sdbm socketmap sqlite
static tcp texthash unionmap unix
""".split())

# Parameters whose values name tables that are not lookups of mail flow:
# Postfix-managed caches and proxymap's access lists.
_SKIP_PARAMS = frozenset({
    "proxy_read_maps", "proxy_write_maps", "address_verify_map",
    "postscreen_cache_map", "smtpd_tls_session_cache_database",
    "smtp_tls_session_cache_database", "lmtp_tls_session_cache_database",
    "tls_random_source", "tlsproxy_tls_session_cache_database",
    "default_database_type", "alias_database",
})

# Parameters whose built-in default tables matter to mail flow even when
# main.cf does not set them (recipient validation, aliases, rewriting).
_DEFAULT_TABLE_PARAMS = frozenset({
    "local_recipient_maps", "alias_maps", "relay_recipient_maps", "virtual_alias_maps",
    "virtual_mailbox_maps", "canonical_maps", "sender_canonical_maps",
    "recipient_canonical_maps", "transport_maps", "relocated_maps",
    "smtpd_sender_login_maps", "mydestination", "relay_domains", "mynetworks",
})

# Restriction keywords whose next token is an argument that is not a table.
_NON_TABLE_ARG = frozenset({
    "check_policy_service", "reject_rbl_client", "reject_rhsbl_client",
    "reject_rhsbl_helo", "reject_rhsbl_recipient", "reject_rhsbl_reverse_client",
    "reject_rhsbl_sender", "permit_dnswl_client", "permit_rhswl_client",
    "sleep", "reject_maps_rbl",
})

_TABLE_RE = re.compile(r"^([a-z0-9_]+):(.*)$", re.S)


def is_table_spec(token: str) -> bool:
    m = _TABLE_RE.match(token)
    return bool(m and m.group(1) in DICT_TYPES and m.group(2) != "")


def table_type(spec: str) -> str:
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
        if m.group(1) in ("inline", "static", "fail", "unix", "environ", "internal"):
            return None
        rest = m.group(2)
        if rest.startswith("/"):
            return rest
    return None


@dataclass
class TableRef:
    spec: str
    used_by: list[tuple[str, str]] = field(default_factory=list)  # (param, where)

    @property
    def type(self) -> str:
        return table_type(self.spec)

    @property
    def path(self) -> str | None:
        return table_path(self.spec)


def _tokens(view, name: str) -> list[str]:
    try:
        return list(view.get_list(name))
    except Exception:
        raw = view.raw(name) or ""
        return [t for t in re.split(r"[\s,]+", raw) if t]


def _scan(tokens: list[str]) -> list[str]:
    out, skip = [], False
    for tok in tokens:
        if skip:
            skip = False
            continue
        if tok in _NON_TABLE_ARG:
            skip = True
            continue
        if is_table_spec(tok):
            out.append(tok)
    return out


def collect_tables(cfg) -> list[TableRef]:
    """Every lookup table the configuration names (main.cf values, defaults
    that are in effect, master.cf -o overrides), in first-seen order."""
    refs: dict[str, TableRef] = {}
    main = cfg.params()
    explicit = set(main.names(explicit_only=True))
    names = sorted(main.names(explicit_only=False), key=lambda n: (n not in explicit, n))
    for name in names:
        if name in _SKIP_PARAMS or name.endswith("_cache_database"):
            continue
        raw = main.raw(name) or ""
        if ":" not in raw and "$" not in raw:
            continue
        is_default = not main.is_explicit(name)
        for spec in _scan(_tokens(main, name)):
            if is_default and spec not in refs and name not in _DEFAULT_TABLE_PARAMS:
                continue  # a default that does not concern mail flow (static:anyone, ...)
            ref = refs.setdefault(spec, TableRef(spec))
            ref.used_by.append((name, str(main.source(name))))
    for svc in getattr(cfg, "services", []):
        if not svc.overrides:
            continue
        try:
            view = cfg.params(svc)
        except Exception:
            view = None
        for name, (value, src) in svc.overrides.items():
            if name in _SKIP_PARAMS:
                continue
            if view is not None:
                toks = _tokens(view, name)
            else:
                toks = [t for t in re.split(r"[\s,]+", main.expand_text(value)) if t]
            for spec in _scan(toks):
                ref = refs.setdefault(spec, TableRef(spec))
                ref.used_by.append((name, str(src)))
    return list(refs.values())


def open_table(spec: str, view):
    mod = _import("tui.core.tables", "the lookup tables (tui.core.tables)")
    if not hasattr(mod, "open_table"):
        raise EngineMissing("the lookup tables (tui.core.tables.open_table)")
    return mod.open_table(spec, view)


# ---------------------------------------------------------------------------
# SQL table settings (.cf files) -- for the PostfixAdmin view and warnings


def read_cf(path: str) -> tuple[dict[str, str], str | None]:
    """A mysql/sqlite/pgsql .cf file as name -> value (main.cf syntax)."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return {}, f"{path}: {exc.strerror or exc}"
    out: dict[str, str] = {}
    cur = None
    for raw in text.splitlines():
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        if raw[0].isspace() and cur:
            out[cur] += " " + s
            continue
        if "=" in s:
            k, v = s.split("=", 1)
            cur = k.strip()
            out[cur] = v.strip()
    return out, None


def cf_secrets(refs: list[TableRef]) -> set[str]:
    """Passwords found in the SQL/LDAP .cf files the configuration names."""
    out: set[str] = set()
    for ref in refs:
        if ref.type in ("mysql", "pgsql", "ldap") and ref.path:
            settings, _ = read_cf(ref.path)
            for k in ("password", "bind_pw"):
                if settings.get(k):
                    out.add(settings[k])
    return out


# ---------------------------------------------------------------------------
# PostfixAdmin view


@dataclass
class PFADomain:
    domain: str
    description: str
    active: bool
    backupmx: bool


@dataclass
class PFAView:
    source: str                     # "sqlite:/path/db" or "mysql user@host/db"
    via: str                        # the .cf the settings came from
    domains: list[PFADomain] = field(default_factory=list)
    mailboxes: list[tuple[str, str, bool]] = field(default_factory=list)  # username, maildir, active
    aliases: list[tuple[str, str, bool]] = field(default_factory=list)    # address, goto, active
    alias_domains: list[tuple[str, str, bool]] = field(default_factory=list)
    error: str | None = None


_PFA_TABLES = {"domain", "mailbox", "alias", "alias_domain"}


def _pfa_candidates(refs: list[TableRef]) -> list[TableRef]:
    out = []
    for ref in refs:
        if ref.type not in ("mysql", "sqlite") or not ref.path:
            continue
        settings, err = read_cf(ref.path)
        q = (settings.get("query") or settings.get("table") or "").lower()
        if err or re.search(r"\b(from|join)\s+`?(domain|mailbox|alias|alias_domain)\b", q) or \
                settings.get("table", "").lower() in _PFA_TABLES:
            out.append(ref)
    return out


def _mysql_connect(settings: dict[str, str], timeout: float = 5.0):
    import pymysql  # optional at runtime; pinned dependency of the project

    hosts = [h for h in re.split(r"[\s,]+", settings.get("hosts", "localhost")) if h]
    last: Exception | None = None
    for host in hosts:
        kw: dict[str, Any] = dict(user=settings.get("user", ""), password=settings.get("password", ""),
                                  database=settings.get("dbname", ""), connect_timeout=timeout,
                                  read_timeout=timeout, charset="utf8mb4")
        if host.startswith("unix:"):
            kw["unix_socket"] = host[5:]
        else:
            h = host[5:] if host.startswith("inet:") else host
            if h.startswith("[") and "]" in h:
                addr, _, port = h[1:].partition("]")
                port = port.lstrip(":")
            elif h.count(":") == 1:
                addr, port = h.split(":")
            else:
                addr, port = h, ""
            if addr in ("localhost",) and not port:
                kw["unix_socket"] = "/run/mysqld/mysqld.sock"
            kw["host"] = addr
            kw["port"] = int(port) if port.isdigit() else 3306
        try:
            return pymysql.connect(**kw), host
        except Exception as exc:  # pymysql.err.OperationalError etc.
            last = exc
    raise ConnectionError(_describe_mysql_error(last, hosts))


def _describe_mysql_error(exc: Exception | None, hosts: list[str]) -> str:
    if exc is None:
        return "no hosts configured"
    args = getattr(exc, "args", ())
    msg = str(args[1]) if len(args) >= 2 else str(exc)
    return f"cannot connect to MySQL ({', '.join(hosts)}): {msg}"


def postfixadmin_view(refs: list[TableRef], secrets: set[str] | None = None) -> PFAView | None:
    """Read PostfixAdmin's tables with the connection settings of the first
    SQL table of the configuration that queries them. None: no such table."""
    cands = _pfa_candidates(refs)
    if not cands:
        return None
    ref = cands[0]
    settings, err = read_cf(ref.path)
    secrets = set(secrets or ()) | ({settings["password"]} if settings.get("password") else set())
    if err:
        return PFAView(source=ref.spec, via=ref.path, error=scrub(err, secrets))
    queries = {
        "domains": "SELECT domain, description, active, backupmx FROM domain ORDER BY domain",
        "mailboxes": "SELECT username, maildir, active FROM mailbox ORDER BY username",
        "aliases": "SELECT address, goto, active FROM alias ORDER BY address",
        "alias_domains": "SELECT alias_domain, target_domain, active FROM alias_domain ORDER BY alias_domain",
    }
    if ref.type == "sqlite":
        import sqlite3

        dbpath = settings.get("dbpath", "")
        view = PFAView(source=f"sqlite:{dbpath}", via=ref.path)
        if not dbpath or not os.path.exists(dbpath):
            view.error = f"{ref.path}: dbpath {dbpath or '(not set)'} does not exist"
            return view
        try:
            con = sqlite3.connect(f"file:{dbpath}?mode=ro", uri=True, timeout=5)
        except sqlite3.Error as exc:
            view.error = f"{dbpath}: {exc}"
            return view
        run = lambda q: con.execute(q).fetchall()  # noqa: E731
        close = con.close
    else:
        view = PFAView(source=f"mysql {settings.get('user', '?')}@{settings.get('hosts', 'localhost')}"
                       f"/{settings.get('dbname', '?')}", via=ref.path)
        try:
            con, _host = _mysql_connect(settings)
        except Exception as exc:
            view.error = scrub(str(exc), secrets)
            return view

        def run(q):
            with con.cursor() as cur:
                cur.execute(q)
                return cur.fetchall()
        close = con.close
    try:
        for attr, q in queries.items():
            try:
                rows = run(q)
            except Exception as exc:
                msg = exc.args[1] if len(getattr(exc, "args", ())) >= 2 else str(exc)
                setattr(view, attr, [])
                view.error = (view.error + "; " if view.error else "") + scrub(f"{attr}: {msg}", secrets)
                continue
            if attr == "domains":
                view.domains = [PFADomain(str(r[0]), str(r[1] or ""), bool(int(r[2])), bool(int(r[3])))
                                for r in rows]
            else:
                setattr(view, attr, [(str(r[0]), str(r[1]), bool(int(r[2]))) for r in rows])
    finally:
        try:
            close()
        except Exception:
            pass
    return view


# ---------------------------------------------------------------------------
# Restrictions: names Postfix knows, unreachable entries

RESTRICTION_LISTS = (
    "smtpd_client_restrictions", "smtpd_helo_restrictions", "smtpd_sender_restrictions",
    "smtpd_relay_restrictions", "smtpd_recipient_restrictions", "smtpd_data_restrictions",
    "smtpd_end_of_data_restrictions", "smtpd_etrn_restrictions",
)

# Restrictions smtpd 3.7 accepts, with the number of arguments that follow.
KNOWN_RESTRICTIONS: dict[str, int] = {name: 0 for name in """
permit reject defer defer_if_permit defer_if_reject warn_if_reject
permit_mynetworks permit_sasl_authenticated permit_tls_clientcerts permit_tls_all_clientcerts
permit_auth_destination permit_mx_backup permit_inet_interfaces
reject_unauth_destination defer_unauth_destination reject_unauth_pipelining
reject_invalid_helo_hostname reject_non_fqdn_helo_hostname reject_unknown_helo_hostname
reject_invalid_hostname reject_non_fqdn_hostname reject_unknown_hostname
reject_unknown_client_hostname reject_unknown_reverse_client_hostname reject_unknown_client
reject_non_fqdn_sender reject_non_fqdn_recipient reject_unknown_sender_domain
reject_unknown_recipient_domain reject_unlisted_sender reject_unlisted_recipient
reject_unverified_sender reject_unverified_recipient reject_multi_recipient_bounce
reject_sender_login_mismatch reject_known_sender_login_mismatch
reject_authenticated_sender_login_mismatch reject_unauthenticated_sender_login_mismatch
reject_plaintext_session reject_unknown_address
""".split()}
KNOWN_RESTRICTIONS.update({name: 1 for name in """
check_client_access check_client_a_access check_client_mx_access check_client_ns_access
check_reverse_client_hostname_access check_reverse_client_hostname_a_access
check_reverse_client_hostname_mx_access check_reverse_client_hostname_ns_access
check_helo_access check_helo_a_access check_helo_mx_access check_helo_ns_access
check_sender_access check_sender_a_access check_sender_mx_access check_sender_ns_access
check_recipient_access check_recipient_a_access check_recipient_mx_access check_recipient_ns_access
check_etrn_access check_ccert_access check_sasl_access check_address_map check_policy_service
reject_rbl_client reject_rhsbl_client reject_rhsbl_helo reject_rhsbl_recipient
reject_rhsbl_reverse_client reject_rhsbl_sender permit_dnswl_client permit_rhswl_client sleep
""".split()})

TERMINAL = frozenset({"permit", "reject", "defer"})


def deprecated_names() -> dict[str, str]:
    """Old restriction names smtpd still accepts (the evaluator's table)."""
    try:
        from tui.core.restrictions import DEPRECATED
    except Exception:
        return {}
    return dict(DEPRECATED)


@dataclass(frozen=True)
class Warning_:
    message: str
    param: str | None = None         # the parameter it concerns
    table: str | None = None         # or the table spec
    domain: str | None = None        # or the domain
    where: str | None = None         # main.cf:LINE etc.
    severity: str = "warning"


def _restriction_tokens(view, name: str) -> list[str]:
    raw = view.raw(name)
    if raw is None:
        return []
    return _tokens(view, name)


def restriction_items(view, name: str, classes: set[str] | None = None) -> list[tuple[int, str, str]]:
    """The entries of a restriction list as smtpd counts them (a restriction
    and its argument are one entry): (position, text, note). The note says
    when an entry is unknown to Postfix or can never be reached."""
    toks = _restriction_tokens(view, name)
    classes = classes or set()
    deprecated = deprecated_names()
    out: list[tuple[int, str, str]] = []
    i, pos = 0, 0
    terminal_at: str | None = None
    prev = None
    while i < len(toks):
        tok = toks[i]
        nargs = KNOWN_RESTRICTIONS.get(tok, 0)
        text = " ".join(toks[i:i + 1 + nargs])
        pos += 1
        note = ""
        if terminal_at is not None:
            note = f"never reached (after {terminal_at})"
        elif tok in deprecated:
            note = f"old name of {deprecated[tok]}"
        elif tok not in KNOWN_RESTRICTIONS and not is_table_spec(tok) and tok not in classes \
                and not tok.startswith("{") and "=" not in tok:
            note = "unknown to Postfix"
        elif tok in classes:
            note = "restriction class"
        out.append((pos, text, note))
        if tok in TERMINAL and prev != "warn_if_reject" and terminal_at is None:
            terminal_at = tok
        prev = tok
        i += 1 + nargs
    return out


def restriction_classes(cfg) -> set[str]:
    return set(_tokens(cfg.params(), "smtpd_restriction_classes"))


def restriction_warnings(cfg) -> list[Warning_]:
    out: list[Warning_] = []
    main = cfg.params()
    classes = set(_tokens(main, "smtpd_restriction_classes"))
    deprecated = deprecated_names()
    lists: list[tuple[str, Any, str | None]] = [(n, main, None) for n in RESTRICTION_LISTS]
    lists += [(c, main, None) for c in classes]
    for svc in cfg.smtpd_services() if hasattr(cfg, "smtpd_services") else []:
        try:
            v = cfg.params(svc)
        except Exception:
            continue
        for n in svc.overrides:
            if n in RESTRICTION_LISTS or n in classes:
                lists.append((n, v, svc.name))
    for name, view, svc in lists:
        toks = _restriction_tokens(view, name)
        if not toks:
            continue
        where = str(view.source(name))
        on = f" (-o on {svc})" if svc else ""
        i = 0
        terminal_at: str | None = None
        prev = None
        while i < len(toks):
            tok = toks[i]
            nargs = 0
            if terminal_at is not None:
                out.append(Warning_(f"{name}{on}: '{tok}' can never be reached: it comes after "
                                    f"the unconditional '{terminal_at}'", param=name, where=where))
                break
            if tok in KNOWN_RESTRICTIONS:
                nargs = KNOWN_RESTRICTIONS[tok]
            elif is_table_spec(tok) or tok in classes or tok in deprecated:
                pass
            elif tok.startswith("{") or "=" in tok:
                pass
            else:
                out.append(Warning_(f"{name}{on}: '{tok}' is not a restriction Postfix knows "
                                    "(smtpd answers 451 4.3.5 Server configuration error when it gets there)",
                                    param=name, where=where, severity="error"))
            if tok in TERMINAL and prev != "warn_if_reject":
                terminal_at = tok
            prev = tok
            i += 1 + nargs
    return out


def table_warnings(ref: TableRef, status) -> list[Warning_]:
    out: list[Warning_] = []
    if status is not None and getattr(status, "state", "ok") == "stale":
        out.append(Warning_(f"{ref.spec}: {status.message or 'stale: the compiled file is older than its source'}"
                            " -- run postmap", table=ref.spec))
    if ref.type in ("mysql", "pgsql", "ldap") and ref.path:
        try:
            st = os.stat(ref.path)
        except OSError:
            return out
        settings, _ = read_cf(ref.path)
        if (settings.get("password") or settings.get("bind_pw")) and st.st_mode & stat.S_IROTH:
            out.append(Warning_(f"{ref.path} holds a password and is world-readable "
                                f"(mode {stat.S_IMODE(st.st_mode):04o}); chmod 640 and chgrp postfix",
                                table=ref.spec))
    return out


# ---------------------------------------------------------------------------
# Address classes

CLASS_PARAMS = (
    ("local", "mydestination"),
    ("virtual alias", "virtual_alias_domains"),
    ("virtual mailbox", "virtual_mailbox_domains"),
    ("relay", "relay_domains"),
)


@dataclass
class ClassInfo:
    name: str
    param: str
    literals: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)  # domains confirmed by a table lookup
    errors: list[str] = field(default_factory=list)


def address_classes(cfg, candidates: list[str], opener=None) -> list[ClassInfo]:
    """The four recipient domain classes, with literal domains, the tables
    that decide membership, and which CANDIDATE domains those tables
    answer for (looked up through the engine's own table layer)."""
    main = cfg.params()
    out = []
    for cname, param in CLASS_PARAMS:
        info = ClassInfo(cname, param)
        for tok in _tokens(main, param):
            if is_table_spec(tok):
                info.tables.append(tok)
            elif tok.startswith("/"):
                info.tables.append(tok)  # a file of names
            else:
                info.literals.append(tok.lower())
        if info.tables and candidates:
            for spec in info.tables:
                if spec.startswith("/"):
                    continue
                try:
                    t = (opener or open_table)(spec, main)
                except EngineMissing as exc:
                    info.errors.append(str(exc))
                    break
                for dom in candidates:
                    r = t.lookup(dom)
                    if r.error:
                        info.errors.append(f"{spec}: {r.error}")
                        break
                    if r.found and dom not in info.members and dom not in info.literals:
                        info.members.append(dom)
        out.append(info)
    return out


# The pairs trivial-rewrite complains about ("do not list domain X in BOTH
# mydestination and virtual_mailbox_domains", ...). relay_domains may repeat
# mydestination: below compatibility level 2 that is even its default.
_EXCLUSIVE = ("local", "virtual alias", "virtual mailbox")


def class_overlaps(classes: list[ClassInfo]) -> list[Warning_]:
    seen: dict[str, str] = {}
    out = []
    for c in classes:
        if c.name not in _EXCLUSIVE:
            continue
        for d in dict.fromkeys(c.literals + c.members):
            if d.startswith("$"):
                continue
            if d in seen and seen[d] != c.name:
                out.append(Warning_(f"{d} is listed in two address classes: {seen[d]} "
                                    f"({_param_of(classes, seen[d])}) and {c.name} ({c.param}); "
                                    "Postfix uses the first, and trivial-rewrite logs a warning",
                                    domain=d, param=c.param))
            else:
                seen.setdefault(d, c.name)
    return out


def _param_of(classes, cname):
    for c in classes:
        if c.name == cname:
            return c.param
    return "?"


# ---------------------------------------------------------------------------
# Trace


def trace_available() -> str | None:
    """None when evaluation works; otherwise why not."""
    try:
        mod = _import("tui.core.restrictions", "the restriction evaluator (tui.core.restrictions)")
        _import("tui.core.trace", "the trace model (tui.core.trace)")
    except EngineMissing as exc:
        return str(exc)
    if not hasattr(mod, "evaluate"):
        return "the restriction evaluator (tui.core.restrictions.evaluate) is not available yet"
    return None


def evaluate(cfg, fields: dict[str, str | None], service: str):
    """Run the engine's evaluator on the form's fields."""
    mod = _import("tui.core.restrictions", "the restriction evaluator (tui.core.restrictions)")
    trace_mod = _import("tui.core.trace", "the trace model (tui.core.trace)")
    tx = trace_mod.Transaction(
        client_address=fields.get("client_address") or "",
        client_name=fields.get("client_name") or "unknown",
        helo=fields.get("helo") or None,
        sender=fields.get("sender") or "",
        recipient=fields.get("recipient") or "",
        sasl_login=fields.get("sasl_login") or None,
    )
    return mod.evaluate(cfg, tx, service=service)


def explain(cfg, trace) -> Any:
    """The engine's explanation of a trace (tui.core.explain.explain), or None
    when that part is not there."""
    try:
        mod = _import("tui.core.explain", "explanations (tui.core.explain)")
    except EngineMissing:
        return None
    fn = getattr(mod, "explain", None)
    if fn is None:
        return None
    return fn(trace, cfg)


def parse_log_line(line: str) -> dict[str, str | None]:
    """Fields for the trace form from a Postfix log line (tui.core.logline)."""
    mod = _import("tui.core.logline", "log-line parsing (tui.core.logline)")
    fn = None
    for fname in ("parse_log_line", "parse", "parse_line"):
        fn = getattr(mod, fname, None)
        if fn is not None:
            break
    if fn is None:
        raise EngineMissing("log-line parsing (tui.core.logline.parse_log_line)")
    res = fn(line)
    if res is None:
        return {}
    if isinstance(res, dict):
        return dict(res)
    out: dict[str, Any] = {}
    for k in ("client_address", "client_name", "helo", "sender", "recipient", "sasl_login", "reply"):
        v = getattr(res, k, None)
        if v is not None and not callable(v):
            out[k] = v
    hint = getattr(res, "service_hint", None)
    if isinstance(hint, str) and hint:
        out["service"] = hint
    return out
