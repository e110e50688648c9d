"""Configuration warnings: what in a configuration makes Postfix misbehave.

    warnings = lint(cfg)                       # -> [LintWarning], all checks
    restriction_warnings(cfg)                  # unknown names, unreachable entries
    restriction_items(view, name, classes)     # a list's entries with a note each
    table_warnings(ref, status)                # stale maps, world-readable secrets
    classes = address_classes(cfg, candidates) # the four recipient domain classes
    class_overlaps(classes)                    # a domain in two of them

Each claim is Postfix's behaviour, checked against the real Postfix 3.7 in
tests/core/test_lint.py:
- a name smtpd does not know makes smtpd answer "451 4.3.5 Server
  configuration error" when evaluation gets there (smtpd_check.c logs
  'unknown smtpd restriction'). The names smtpd knows are the names the
  evaluator (tui.core.restrictions) dispatches on, read from its own code,
  so lint and the evaluator can never disagree. Names are case-insensitive,
  as in smtpd (strcasecmp); restriction class names are not.
- an unconditional permit/reject/defer ends the list: what follows is never
  evaluated (unless warn_if_reject turned that reject into a warning).
- a domain listed in two of mydestination, virtual_alias_domains and
  virtual_mailbox_domains: trivial-rewrite uses the first class and logs
  "do not list domain X in BOTH A and B". relay_domains may repeat
  mydestination (below compatibility level 2 that is its default).

Pure Python: no textual, no rich.
"""
from __future__ import annotations

import ast
import functools
import inspect
import os
import stat
import textwrap
from dataclasses import dataclass, field

from tui.core.inventory import (TableRef, cf_settings, collect_tables, is_table_spec,
                                list_tokens, SECRET_SETTINGS)
from tui.core.model import Source

RESTRICTION_LISTS = (
    "smtpd_client_restrictions", "smtpd_helo_restrictions", "smtpd_sender_restrictions",
    "smtpd_relay_restrictions", "smtpd_recipient_restrictions", "smtpd_data_restrictions",
    "smtpd_end_of_data_restrictions", "smtpd_etrn_restrictions",
)

TERMINAL = frozenset({"permit", "reject", "defer"})


@dataclass(frozen=True)
class LintWarning:
    message: str
    param: str | None = None         # the parameter it concerns
    table: str | None = None         # or the table spec
    domain: str | None = None        # or the domain
    where: str | None = None         # "main.cf:LINE", "master.cf:LINE (-o on svc)"
    severity: str = "warning"        # "error": Postfix fails where it gets there
    path: str | None = None          # the file (and line) to point an editor at
    line: int | None = None

    def location(self) -> str:
        """"path:line" ("path" alone when the line is unknown)."""
        if not self.path:
            return ""
        return f"{self.path}:{self.line}" if self.line else self.path


# ---------------------------------------------------------------------------
# Restriction names: read from the evaluator's dispatch


def _names_compared(fn, module) -> set[str]:
    """String constants that FN compares its `name`/`lname` with (== / in),
    including the contents of module-level sets it tests membership in."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    out: set[str] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Compare) and isinstance(node.left, ast.Name)
                and node.left.id in ("name", "lname")):
            continue
        for op, comp in zip(node.ops, node.comparators):
            if not isinstance(op, (ast.Eq, ast.In)):
                continue
            if isinstance(comp, ast.Constant) and isinstance(comp.value, str):
                out.add(comp.value)
            elif isinstance(comp, (ast.Tuple, ast.List, ast.Set)):
                out.update(e.value for e in comp.elts
                           if isinstance(e, ast.Constant) and isinstance(e.value, str))
            elif isinstance(comp, ast.Name):
                val = getattr(module, comp.id, None)
                if isinstance(val, (set, frozenset, dict, tuple, list)):
                    out.update(v for v in val if isinstance(v, str))
    return out


@functools.cache
def known_restrictions() -> dict[str, int]:
    """{name: arguments that follow it} for every restriction smtpd 3.7
    knows, as the evaluator knows them: its DISPATCH table when it has one,
    else the names its Evaluator.one() and generic_checks() compare with; access checks, DNS-list checks,
    check_policy_service and sleep take the next list item as their argument.
    Empty when the evaluator's source cannot be read (then nothing is
    reported as unknown)."""
    from tui.core import restrictions as R

    table = getattr(R, "DISPATCH", None)
    if isinstance(table, (dict, set, frozenset)) and table:
        names = {n for n in table if isinstance(n, str)}  # an explicit table, if it ever has one
    else:
        try:
            names = _names_compared(R.Evaluator.one, R) | _names_compared(R.Evaluator.generic_checks, R)
        except (OSError, TypeError, SyntaxError):  # no source (a frozen install)
            return {}
    with_arg = set(R.ACCESS_CHECKS) | set(R.DOMAIN_ARG) | {"check_policy_service", "sleep"}
    return {n: (1 if n in with_arg else 0) for n in sorted(names)}


def deprecated_names() -> dict[str, str]:
    """Old restriction names smtpd still accepts -> the current name."""
    from tui.core.restrictions import DEPRECATED

    return dict(DEPRECATED)


def restriction_classes(cfg) -> set[str]:
    return set(list_tokens(cfg.params(), "smtpd_restriction_classes"))


def _restriction_tokens(view, name: str) -> list[str]:
    if view.raw(name) is None:
        return []
    return list_tokens(view, name)


def _is_other_item(tok: str, classes: set[str]) -> bool:
    """A list item that is not a restriction name but still fine: a table
    (type:name), a restriction class, a { ... } group or an argument."""
    return is_table_spec(tok) or tok in classes or tok.startswith("{") or "=" in tok


def restriction_items(view, name: str, classes: set[str] | None = None) -> list[tuple[int, str, str]]:
    """The entries of a restriction list as smtpd counts them (a restriction
    and its argument are one entry): (position, text, note). The note says
    when an entry is unknown to Postfix or can never be reached."""
    toks = _restriction_tokens(view, name)
    classes = classes or set()
    known = known_restrictions()
    deprecated = deprecated_names()
    out: list[tuple[int, str, str]] = []
    i, pos = 0, 0
    terminal_at: str | None = None
    prev = None
    while i < len(toks):
        tok = toks[i]
        low = tok.lower()
        nargs = known.get(low, 0)
        text = " ".join(toks[i:i + 1 + nargs])
        pos += 1
        note = ""
        if terminal_at is not None:
            note = f"never reached (after {terminal_at})"
        elif low in deprecated:
            note = f"old name of {deprecated[low]}"
        elif tok in classes:
            note = "restriction class"
        elif known and low not in known and not _is_other_item(tok, classes):
            note = "unknown to Postfix"
        out.append((pos, text, note))
        if low in TERMINAL and prev != "warn_if_reject" and terminal_at is None:
            terminal_at = tok
        prev = low
        i += 1 + nargs
    return out


def _restriction_lists(cfg):
    """(name, view, service or None) for every restriction list smtpd uses:
    main.cf's lists and classes, and the -o overrides of smtpd services."""
    main = cfg.params()
    classes = restriction_classes(cfg)
    lists = [(n, main, None) for n in RESTRICTION_LISTS]
    lists += [(c, main, None) for c in sorted(classes)]
    for svc in cfg.smtpd_services():
        try:
            v = cfg.params(svc)
        except Exception:
            continue
        for n in svc.overrides:
            if n in RESTRICTION_LISTS or n in classes:
                lists.append((n, v, svc.name))
    return lists, classes


def _src_of(view, name: str) -> Source | None:
    try:
        return view.source(name)
    except Exception:
        return None


def restriction_warnings(cfg) -> list[LintWarning]:
    """Unknown restriction names (smtpd answers 451 4.3.5 when it gets
    there) and entries after an unconditional permit/reject/defer."""
    out: list[LintWarning] = []
    known = known_restrictions()
    deprecated = deprecated_names()
    lists, classes = _restriction_lists(cfg)
    for name, view, svc in lists:
        toks = _restriction_tokens(view, name)
        if not toks:
            continue
        src = _src_of(view, name)
        where = str(src) if src is not None else None
        path = src.path if src is not None else None
        line = src.line if src is not None else None
        on = f" (-o on {svc})" if svc else ""
        i = 0
        terminal_at: str | None = None
        prev = None
        while i < len(toks):
            tok = toks[i]
            low = tok.lower()
            nargs = 0
            if terminal_at is not None:
                out.append(LintWarning(f"{name}{on}: '{tok}' can never be reached: it comes after "
                                       f"the unconditional '{terminal_at}'", param=name, where=where,
                                       path=path, line=line))
                break
            if low in known:
                nargs = known[low]
            elif _is_other_item(tok, classes) or low in deprecated or not known:
                pass
            else:
                out.append(LintWarning(f"{name}{on}: '{tok}' is not a restriction Postfix knows "
                                       "(smtpd answers 451 4.3.5 Server configuration error when it "
                                       "gets there)", param=name, where=where, severity="error",
                                       path=path, line=line))
            if low in TERMINAL and prev != "warn_if_reject":
                terminal_at = tok
            prev = low
            i += 1 + nargs
    return out


# ---------------------------------------------------------------------------
# Tables


def _first_use(ref: TableRef) -> tuple[str | None, int | None]:
    for src in ref.sources:
        if src.path:
            return src.path, src.line
    return None, None


def table_warnings(ref: TableRef, status) -> list[LintWarning]:
    """A stale compiled map (STATUS from the table's open: its source is
    newer than the .db smtpd reads) and a .cf file that holds a password
    and is world-readable."""
    out: list[LintWarning] = []
    if status is not None and getattr(status, "state", "ok") == "stale":
        path, line = _first_use(ref)
        named = ""
        if path is None and ref.used_by:  # named by a default value: say which
            named = f" (named by {ref.used_by[0][0]}, {ref.used_by[0][1]})"
        out.append(LintWarning(f"{ref.spec}: {status.message or 'stale: the compiled file is older than its source'}"
                               f" -- run postmap{named}", table=ref.spec, path=path, line=line))
    if ref.type in ("mysql", "pgsql", "ldap") and ref.path:
        try:
            st = os.stat(ref.path)
        except OSError:
            return out
        settings, _ = cf_settings(ref.path)
        secret = next((settings[k] for k in SECRET_SETTINGS if settings.get(k, ("", 0))[0]), None)
        if secret is not None and st.st_mode & stat.S_IROTH:
            out.append(LintWarning(f"{ref.path} holds a password and is world-readable "
                                   f"(mode {stat.S_IMODE(st.st_mode):04o}); chmod 640 and chgrp postfix",
                                   table=ref.spec, path=ref.path, line=secret[1]))
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
    source: Source | None = None


def address_classes(cfg, candidates: list[str], opener=None) -> list[ClassInfo]:
    """The four recipient domain classes, with literal domains, the tables
    that decide membership, and which CANDIDATE domains those tables
    answer for (looked up through the tables layer; OPENER(spec, view)
    lets a caller reuse its open tables)."""
    if opener is None:
        from tui.core.tables import open_table as opener
    main = cfg.params()
    out = []
    for cname, param in CLASS_PARAMS:
        info = ClassInfo(cname, param, source=_src_of(main, param))
        for tok in list_tokens(main, param):
            if is_table_spec(tok) or tok.startswith("/"):  # a table, or a file of names
                info.tables.append(tok)
            else:
                info.literals.append(tok.lower())
        if info.tables and candidates:
            for spec in info.tables:
                if spec.startswith("/"):
                    continue
                try:
                    t = opener(spec, main)
                except Exception as exc:
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


# The classes trivial-rewrite complains about ("do not list domain X in BOTH
# mydestination and virtual_mailbox_domains", ...).
EXCLUSIVE_CLASSES = ("local", "virtual alias", "virtual mailbox")


def class_overlaps(classes: list[ClassInfo]) -> list[LintWarning]:
    seen: dict[str, str] = {}
    by_name = {c.name: c for c in classes}
    out = []
    for c in classes:
        if c.name not in EXCLUSIVE_CLASSES:
            continue
        for d in dict.fromkeys(c.literals + c.members):
            if d.startswith("$"):
                continue
            if d in seen and seen[d] != c.name:
                first = by_name.get(seen[d])
                src = c.source if c.source is not None and c.source.path else \
                    (first.source if first is not None else None)
                out.append(LintWarning(f"{d} is listed in two address classes: {seen[d]} "
                                       f"({first.param if first else '?'}) and {c.name} ({c.param}); "
                                       "Postfix uses the first, and trivial-rewrite logs a warning",
                                       domain=d, param=c.param,
                                       where=str(src) if src is not None else None,
                                       path=src.path if src is not None else None,
                                       line=src.line if src is not None else None))
            else:
                seen.setdefault(d, c.name)
    return out


# ---------------------------------------------------------------------------
# Everything at once (the CLI)


def lint(cfg, *, refs: list[TableRef] | None = None, candidates: list[str] = (),
         opener=None) -> list[LintWarning]:
    """Every warning about CFG: restriction lists, tables (each is opened
    to see whether it is stale), and address classes (the literal domains
    of every class plus CANDIDATES, looked up in the class tables)."""
    opened: dict[str, object] = {}
    if opener is None:
        from tui.core.tables import open_table

        def opener(spec, view):  # each table once; closed below
            if spec not in opened:
                opened[spec] = open_table(spec, view)
            return opened[spec]
    try:
        return _lint(cfg, refs, candidates, opener)
    finally:
        for t in opened.values():
            try:
                t.close()
            except Exception:
                pass


def _lint(cfg, refs, candidates, opener) -> list[LintWarning]:
    refs = collect_tables(cfg) if refs is None else refs
    out = restriction_warnings(cfg)
    main = cfg.params()
    for ref in refs:
        status = None
        try:
            t = opener(ref.spec, main)
            status = t.status
        except Exception:
            pass
        out += table_warnings(ref, status)
    lits: list[str] = []
    for _cname, param in CLASS_PARAMS:
        lits += [t.lower() for t in list_tokens(main, param)
                 if not is_table_spec(t) and not t.startswith("/") and not t.startswith("$")]
    cands = list(dict.fromkeys(lits + [c.lower() for c in candidates]))
    out += class_overlaps(address_classes(cfg, cands, opener=opener))
    return list(dict.fromkeys(out))
