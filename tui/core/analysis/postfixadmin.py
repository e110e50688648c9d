"""PostfixAdmin's tables, read with the configuration's own SQL settings.

    view = postfixadmin_view(refs)     # -> PFAView | None (None: no SQL table
                                       #    of the configuration queries them)

The first mysql:/sqlite: table of the configuration whose query reads
PostfixAdmin's tables (domain, mailbox, alias, alias_domain) gives the
database. Its rows are read through that table's own connection
(tui.core.tables: SqlTable.select) -- same hosts, timeouts, read-only
SQLite and password handling as every lookup -- so nothing here connects
to a database by itself, and no password appears in any text it returns.

Pure Python: no textual, no rich.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from tui.core.analysis.inventory import TableRef, cf_settings
from tui.core.text import scrub
from tui.core.tables import open_table

PFA_TABLES = ("domain", "mailbox", "alias", "alias_domain")
_PFA_QUERY_RE = re.compile(r"\b(from|join)\s+`?(domain|mailbox|alias|alias_domain)\b")

QUERIES = {
    "domains": "SELECT domain, description, active, backupmx FROM domain ORDER BY domain",
    "mailboxes": "SELECT username, maildir, active FROM mailbox ORDER BY username",
    "aliases": "SELECT address, goto, active FROM alias ORDER BY address",
    "alias_domains": "SELECT alias_domain, target_domain, active FROM alias_domain ORDER BY alias_domain",
}


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


def candidates(refs: list[TableRef]) -> list[TableRef]:
    """The SQL tables whose settings point at a PostfixAdmin database (and
    those whose .cf cannot be read: the view then says why)."""
    out = []
    for ref in refs:
        if ref.type not in ("mysql", "sqlite") or not ref.path:
            continue
        settings, err = cf_settings(ref.path)
        q = (settings.get("query", ("", 0))[0] or settings.get("table", ("", 0))[0]).lower()
        if err or _PFA_QUERY_RE.search(q) or settings.get("table", ("", 0))[0].lower() in PFA_TABLES:
            out.append(ref)
    return out


def _flag(v) -> bool:
    try:
        return bool(int(v))
    except (TypeError, ValueError):
        return str(v).strip().lower() in ("y", "yes", "true", "t")


def postfixadmin_view(refs: list[TableRef], secrets: set[str] | None = None,
                      opener=None) -> PFAView | None:
    """Read PostfixAdmin's tables with the connection settings of the first
    SQL table of the configuration that queries them. None: no such table.
    OPENER(spec, view) lets a caller reuse a table it has open (the default
    opens one and closes it again)."""
    cands = candidates(refs)
    if not cands:
        return None
    ref = cands[0]
    assert ref.path is not None   # candidates() keeps tables with a .cf file only
    secrets = set(secrets or ())
    settings, err = cf_settings(ref.path)
    if settings.get("password", ("", 0))[0]:
        secrets.add(settings["password"][0])
    if err:
        return PFAView(source=ref.spec, via=ref.path, error=scrub(err, secrets))
    val = {k: v for k, (v, _line) in settings.items()}
    if ref.type == "sqlite":
        source = f"sqlite:{val.get('dbpath', '')}"
    else:
        source = f"mysql {val.get('user', '?')}@{val.get('hosts', 'localhost')}/{val.get('dbname', '?')}"
    view = PFAView(source=source, via=ref.path)
    own = opener is None
    if own:
        table = open_table(ref.spec)
    else:
        table = opener(ref.spec, None)
    try:
        select = getattr(table, "select", None)
        if select is None or not table.status.usable:
            view.error = scrub(_unprefixed(table.status.message, ref) or "not an SQL table", secrets)
            return view
        for attr, q in QUERIES.items():
            rows, qerr = select(q)
            if qerr:
                qerr = _unprefixed(qerr, ref)
                setattr(view, attr, [])
                if not view.domains and attr == "domains" and _is_connect_error(qerr):
                    view.error = scrub(qerr, secrets)
                    return view  # the server does not answer: do not ask three more times
                view.error = (view.error + "; " if view.error else "") + scrub(f"{attr}: {qerr}", secrets)
                continue
            if attr == "domains":
                view.domains = [PFADomain(str(r[0]), str(r[1] or ""), _flag(r[2]), _flag(r[3]))
                                for r in rows]
            else:
                setattr(view, attr, [(str(r[0]), str(r[1]), _flag(r[2])) for r in rows])
    finally:
        if own:
            table.close()
    return view


def _unprefixed(text: str, ref: TableRef) -> str:
    """An error of the tables layer without its leading "spec: " (the view
    already names the table it read through)."""
    for prefix in (ref.spec, ref.spec.split(":", 1)[-1], ref.path or ref.spec):
        if text.startswith(prefix + ": "):
            return text[len(prefix) + 2:]
    return text


def _is_connect_error(text: str) -> bool:
    return "cannot connect" in text
