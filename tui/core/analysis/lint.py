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
  evaluator (tui.core.smtpd) dispatches on, from its restriction registry,
  so lint and the evaluator can never disagree. Names are case-insensitive,
  as in smtpd (strcasecmp); restriction class names are not.
- an unconditional permit/reject/defer ends the list: what follows is never
  evaluated (unless warn_if_reject turned that reject into a warning).
- a domain listed in two of mydestination, virtual_alias_domains and
  virtual_mailbox_domains, or in virtual_alias_domains or
  virtual_mailbox_domains and relay_domains: trivial-rewrite uses the
  first class and logs "do not list domain X in BOTH A and B".
  relay_domains may repeat mydestination (below compatibility level 2 that
  is its default). PostfixAdmin's default domain query answers for its
  backup-MX domains too, so a backup MX served through relay_domains is
  in two classes unless the virtual domain query excludes backupmx.
- a parameter whose value cannot be expanded (a name that refers to
  itself): postconf's words, "unreasonable macro call nesting".

Pure Python: no textual, no rich.
"""
from __future__ import annotations

import functools
import os
import re
import shutil
import stat
import subprocess
from dataclasses import dataclass, field
from typing import Any, Sequence

from tui.core.analysis.inventory import (SECRET_SETTINGS, TableRef, cf_settings, collect_tables,
                                         is_table_spec)
from tui.core.config.main_cf import OVERRIDING
from tui.core.config.params import param as param_value, param_list
from tui.core.model import Source
from tui.core.dns import OfflineResolver
from tui.core.postfix.mail_conf import opened_maps, startup_error, typed_names, typed_params
from tui.core.smtpd import RESTRICTIONS, Evaluator
from tui.core.smtpd import deprecated_names as registry_deprecated_names
from tui.core.smtpd.daemons import SERVICE_PARAM, SOCKET_CLASS, Waited, daemon_fatals
from tui.core.postfix.milter import HOLD
from tui.core.smtpd.milters import configured_milters
from tui.core.tables import open_table
from tui.core.trace import Transaction

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
# Restriction names: the registry smtpd's evaluator dispatches on


@functools.cache
def known_restrictions() -> dict[str, int]:
    """{name: arguments that follow it} for every restriction smtpd 3.7
    knows: the restriction registry (tui.core.smtpd.registry), which the
    evaluator dispatches on, so lint and the evaluator cannot disagree."""
    return {n: (1 if r.takes_argument else 0) for n, r in sorted(RESTRICTIONS.items())}


def deprecated_names() -> dict[str, str]:
    """Old restriction names smtpd still accepts -> the current name."""
    return registry_deprecated_names()


def restriction_classes(cfg) -> set[str]:
    return set(param_list(cfg.params(), "smtpd_restriction_classes"))


def _restriction_tokens(view, name: str) -> list[str]:
    if view.raw(name) is None:
        return []
    return param_list(view, name)


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


def _at(src: Source | None) -> dict:
    """A LintWarning's where, path and line from SRC (None: unknown)."""
    if src is None:
        return {"where": None, "path": None, "line": None}
    return {"where": str(src), "path": src.path, "line": src.line}


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
        at = _at(src)
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
                                       f"the unconditional '{terminal_at}'", param=name, **at))
                break
            if low in known:
                nargs = known[low]
            elif _is_other_item(tok, classes) or low in deprecated or not known:
                pass
            else:
                out.append(LintWarning(f"{name}{on}: '{tok}' is not a restriction Postfix knows "
                                       "(smtpd answers 451 4.3.5 Server configuration error when it "
                                       "gets there)", param=name, severity="error", **at))
            if low in TERMINAL and prev != "warn_if_reject":
                terminal_at = tok
            prev = low
            i += 1 + nargs
    return out


def startup_warnings(cfg) -> list[LintWarning]:
    """What makes an smtpd service exit as it starts (the checks a trace
    makes first): a yes/no, number or time value smtpd cannot convert, a
    map entry that is not type:name, a restriction class without a
    definition, no working relay restriction, a bad *_tempfail_action. The
    client sees the connection closed without a greeting."""
    out: list[LintWarning] = []
    for svc in cfg.smtpd_services():
        try:
            ev = Evaluator(cfg, Transaction(client_address="192.0.2.1"), svc.key, OfflineResolver())
            fatal = ev.startup_fatal()
        except Exception:  # noqa: BLE001 - a service the trace cannot read is reported there
            continue
        if fatal is None:
            out += _milter_warnings(ev, svc.key)
            later = ev.queue_open_fatal()
            at = ev.stream_opened_at() if later else None
            if later is not None and at is not None:
                param, text = later
                when = "connects to its smtpd_proxy_filter" if param == "smtpd_proxy_filter" else "opens a queue file"
                out.append(LintWarning(
                    f"{svc.key}: smtpd exits when it {when} ({text.removeprefix('fatal: ')}): "
                    f"clients see the connection closed after {'MAIL FROM' if at == 'mail' else 'RCPT TO'}",
                    param=param, severity="error", **_at(ev.source(param))))
            continue
        param, text, src = fatal
        out.append(LintWarning(f"{svc.key}: smtpd exits as it starts ({text}): clients see the connection "
                               "closed without a greeting", param=param,
                               severity="error", **_at(src)))
    return out + _waited_for_warnings(cfg)


def postlog_warnings(cfg) -> list[LintWarning]:
    """A main.cf setting written twice, with maillog_file set: every Postfix
    process logs "overriding earlier entry" as it starts, and postlogd
    logs its own through its own socket before it reads from it
    (postlogd.c, Postfix 3.7). When the processes starting with it have
    filled the socket (the kernel queues 10 datagrams), postlogd waits for
    itself and every process that logs waits for postlogd: smtpd greets
    nobody. Checked against a real Postfix in tests/oracle/test_postlog_hang.py."""
    logfile = param_value(cfg.params(), "maillog_file").strip()
    if not logfile:
        return []
    out = []
    for d in cfg.diagnostics:
        if d.severity == "warning" and d.message.startswith(OVERRIDING) and d.path == cfg.main_path:
            name = d.message[len(OVERRIDING):].split("=", 1)[0]
            out.append(LintWarning(
                f"{name} is set again here: every Postfix process logs \"overriding earlier entry\" as it "
                f"starts, and with maillog_file ({logfile}) that can hang Postfix: postlogd logs its own "
                f"warnings through its own socket before it reads from it, and when the processes starting "
                f"with it have filled the socket, it waits for itself, and every process that logs waits "
                f"for it (smtpd greets nobody). Keep one {name} line (postconf -e edits in place)",
                param=name, path=d.path, line=d.line, where=f"main.cf:{d.line}" if d.line else "main.cf"))
    return out


def _milter_warnings(ev, service: str) -> list[LintWarning]:
    """What the service's smtpd_milters do to every client that
    smtpd_milter_maps does not give a list of its own: a list smtpd cannot
    read (it exits before its greeting), a milter it cannot use (MAIL FROM
    gets 451 4.3.5, or every message is held)."""
    sm = configured_milters(ev)
    if sm is None:
        return []
    o = sm.outcome
    param, src = sm.culprit(ev)
    if o.kind == "fatal":
        return [LintWarning(f"{service}: smtpd exits when it sets up its milters ({o.text.removeprefix('fatal: ')}):"
                            " clients see the connection closed without a greeting", param=param, severity="error",
                            **_at(src))]
    answering = o.warnings[-1] if o.kind == "reply" else None
    out = [LintWarning(f"{service}: {w.removeprefix('warning: ')}: smtpd never connects to this milter "
                       "(default_action = accept: it goes on without it)",
                       param=sm.parameter, severity="warning", **_at(sm.source))
           for w in o.warnings if w is not answering]
    if answering is not None:
        what = ("every message is put on hold (default_action = quarantine)" if o.reply == HOLD else
                f"every MAIL FROM gets {o.reply}")
        out.append(LintWarning(f"{service}: {answering.removeprefix('warning: ')}: {what}", param=param,
                               severity="warning" if o.reply == HOLD else "error", **_at(src)))
    return out


def _waited_for_warnings(cfg) -> list[LintWarning]:
    """What makes a daemon smtpd waits for never answer: a list of tables
    that trivial-rewrite or cleanup opens as it starts with an entry that is
    not type:name (the daemon exits; its bad yes/no, number and time values
    are typed_value_warnings'), or no master.cf service smtpd can connect
    to. One warning per daemon's service, naming the smtpd services that
    wait for it: they leave a command without a reply."""
    waiting: dict[tuple, tuple[Waited, list[str]]] = {}   # (daemon, service, param) -> the smtpd services
    for svc in cfg.smtpd_services():
        try:
            dead = daemon_fatals(cfg, cfg.params(svc))
        except Exception:  # noqa: BLE001 - a service the trace cannot read is reported there
            continue
        for w in dead.values():
            if w.missing or w.param in opened_maps(w.daemon):
                waiting.setdefault((w.daemon, w.service, w.param), (w, []))[1].append(svc.key)
    out = []
    for w, services in waiting.values():
        when = {"anvil": "when they connect", "trivial-rewrite": "at MAIL FROM"}.get(
            w.daemon, "once smtpd asks it for a queue file (at the first accepted RCPT TO, "
                      "or MAIL FROM with smtpd_delay_open_until_valid_rcpt = no)")
        what = (f"master.cf has no {SOCKET_CLASS[w.daemon]} unix service {w.service} for {w.daemon} ({w.text})"
                if w.missing else f"{w.daemon} (master.cf service {w.service}) exits as it starts ({w.text})")
        out.append(LintWarning(f"{w.param}: {what}; {', '.join(services)} wait for it: clients get no reply "
                               f"{when}", param=w.param, severity="error", **_at(w.src)))
    return out


# ---------------------------------------------------------------------------
# Expansion: what stops postconf (and with it `postfix start`)


def _settings(cfg):
    """Where parameters are set: (view, None, the names main.cf sets), then
    (view, service, its -o names) for each service with overrides."""
    yield cfg.params(), None, cfg.params().names(explicit_only=True)
    smtpd = cfg.smtpd_services()
    for svc in smtpd + [s for s in cfg.services if s not in smtpd]:
        if svc.overrides:
            try:
                view = cfg.params(svc)
            except Exception:
                continue
            yield view, svc, sorted(svc.overrides)


def expansion_warnings(cfg) -> list[LintWarning]:
    """A parameter whose value cannot be expanded: `relay_domains =
    $relay_domains, example.com` (a name that refers to itself, directly or
    through others) makes postconf print `warning: unreasonable macro call
    nesting: "relay_domains"` and stop with `fatal: macro processing error`,
    and Postfix does not start. Checked as postconf checks: its own
    parameters set in main.cf or by a -o override (user-defined names only
    through them)."""
    out: list[LintWarning] = []
    user: set[str] = getattr(cfg, "_user", set())
    for view, svc, names in _settings(cfg):
        for name in names:
            if view.is_raw_parameter(name) or name in user or cfg.default_value(name) is None:
                continue
            errors = view.expand_errors(name)
            if not errors:
                continue
            src = _src_of(view, name)
            on = f" (-o on {svc.key})" if svc is not None else ""
            out.append(LintWarning(f"{name}{on}: {errors[0]}: postconf stops with \"fatal: macro processing "
                                   "error\" and Postfix does not start"
                                   + (" (a parameter cannot refer to itself: write its whole value)"
                                      if f'"{name}"' in errors[0] else ""),
                                   param=name, severity="error", **_at(src)))
    return out


_TYPED_DEFAULT = ((re.compile(r"(?i)yes|no"), "bool"), (re.compile(r"-?\d+"), "long"),
                  (re.compile(r"\d+[smhdw]"), "time"))
# defaults that look like a number but are not read as one:
# compatibility_level ("0") is a level such as 3.6 (compat_level_from_string)
_NOT_TYPED = frozenset({"compatibility_level"})


def typed_value_warnings(cfg) -> list[LintWarning]:
    """A yes/no, number or time parameter (its expanded default says which)
    set to a value Postfix's readers do not take (`true`, `1`, `1_000`,
    `300x`): the daemons that read it exit when they start. Checked where it is set, in
    main.cf or a -o override, with the range anvil, trivial-rewrite or
    cleanup enforces when one of them reads it; smtpd's own parameters are
    checked per smtpd service by startup_warnings (with their ranges)."""
    smtpd_own = typed_names("smtpd")
    # the kind and range the daemons smtpd waits for enforce (the others'
    # ranges are not known: their kind is read off the default)
    known: dict[str, tuple[str, int | None, int | None]] = {}
    for daemon in SERVICE_PARAM:
        for name, kind, lo, hi in typed_params(daemon):
            known.setdefault(name, (kind, lo, hi))
    out: list[LintWarning] = []
    for view, svc, names in _settings(cfg):
        for name in names:
            default = cfg.default_value(name)
            if name in smtpd_own or name in _NOT_TYPED or default is None or view.expand_errors(name):
                continue
            kind_range = known.get(name)
            if kind_range is None:
                if "$" in default:   # ${{$compatibility_level} < ...}, $smtp_connect_timeout, ...
                    default = view.expand_text(default)
                looks = next((k for rx, k in _TYPED_DEFAULT if rx.fullmatch(default)), None)
                if looks is None:
                    continue
                kind_range = (looks, None, None)
            kind, lo, hi = kind_range
            value = view.expand(name) or ""
            bad = startup_error(name, kind, value, lo, hi)
            if bad is None:
                continue
            src = _src_of(view, name)
            on = f" (-o on {svc.key})" if svc is not None else ""
            out.append(LintWarning(f"{name}{on} = {value}: the Postfix daemons that read it exit when they start "
                                   f"(\"{bad}\")", param=name, severity="error", **_at(src)))
    return out


# ---------------------------------------------------------------------------
# Tables


def _first_use(ref: TableRef) -> tuple[str | None, int | None]:
    for src in ref.sources:
        if src.path:
            return src.path, src.line
    return None, None


def _failure_reply(ref: TableRef) -> str:
    """What smtpd answers when every lookup in REF fails: 451 4.3.5 when it
    is an access table of a restriction list, 451 4.3.0 (Temporary lookup
    failure) for the tables that classify addresses and clients."""
    params = [p for p, _ in ref.used_by]
    if params and all(p.startswith("smtpd_") and p.endswith("_restrictions") for p in params):
        return "smtpd answers 451 4.3.5 Server configuration error where a restriction looks it up"
    return "smtpd answers 451 4.3.0 Temporary lookup failure"


@functools.cache
def installed_map_types(config_dir: str) -> frozenset[str] | None:
    """The table types the installed Postfix supports (`postconf -c
    CONFIG_DIR -m`: postconf reads main.cf even for -m, and only reads it),
    or None when there is no postconf to ask (nothing is then claimed)."""
    exe = shutil.which("postconf") or ("/usr/sbin/postconf" if os.path.exists("/usr/sbin/postconf") else None)
    if exe is None:
        return None
    try:
        r = subprocess.run([exe, "-c", config_dir, "-m"], capture_output=True, text=True, timeout=20,
                           env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"})
    except (OSError, subprocess.SubprocessError):
        return None
    if r.returncode != 0:
        return None
    return frozenset(t.strip() for t in r.stdout.split() if t.strip())


def _spec_types(spec: str) -> list[str]:
    """Every table type in SPEC (proxy:mysql:x -> proxy, mysql)."""
    out = []
    rest = spec
    while ":" in rest:
        typ, _, rest = rest.partition(":")
        if not typ or not all(c.isalnum() or c in "_-" for c in typ):
            break
        out.append(typ.lower())
        if typ.lower() not in ("proxy",):
            break
    return out


def map_type_warnings(refs: list[TableRef], supported: frozenset[str] | None = None,
                      config_dir: str | None = None) -> list[LintWarning]:
    """A table type the installed Postfix does not support (`postconf -m`
    does not list it): Postfix logs "unsupported dictionary type: TYPE"
    and every lookup fails. Without a postconf to ask, one warning says
    that this could not be checked."""
    if supported is None and config_dir is not None:
        supported = installed_map_types(str(config_dir))
    types = {t for r in refs for t in _spec_types(r.spec)}
    if supported is None:
        if not types:
            return []
        return [LintWarning("could not check the table types against the installed Postfix: there is "
                            "no postconf to ask (postconf -m lists the types it supports)",
                            severity="info")]
    out = []
    for ref in refs:
        for typ in _spec_types(ref.spec):
            if typ in supported:
                continue
            path, line = _first_use(ref)
            out.append(LintWarning(f"{ref.spec}: unsupported dictionary type: {typ} (postconf -m does not "
                                   "list it: this Postfix cannot open the table, and "
                                   f"{_failure_reply(ref)})", table=ref.spec, path=path, line=line,
                                   severity="error"))
            break
    return out


def table_warnings(ref: TableRef, status) -> list[LintWarning]:
    """A stale compiled map (STATUS from the table's open: its source is
    newer than the .db smtpd reads, or the index is missing), a table
    whose file is missing or unreadable (every lookup fails), and a .cf
    file that holds a password and is world-readable."""
    out: list[LintWarning] = []
    state = getattr(status, "state", "ok") if status is not None else "ok"
    if state == "stale":
        path, line = _first_use(ref)
        named = ""
        if path is None and ref.used_by:  # named by a default value: say which
            named = f" (named by {ref.used_by[0][0]}, {ref.used_by[0][1]})"
        tool = "postalias" if any(p in ("alias_maps", "alias_database") for p, _ in ref.used_by) else "postmap"
        msg = status.message or f"stale: the compiled file is older than its source -- run {tool} {ref.spec}"
        out.append(LintWarning(f"{ref.spec}: {msg}{named}", table=ref.spec, path=path, line=line))
    elif state == "unreadable" and "unsupported dictionary type" not in (status.message or ""):
        path, line = _first_use(ref)
        out.append(LintWarning(f"{ref.spec}: {status.message} -- every lookup fails: {_failure_reply(ref)}",
                               table=ref.spec, path=path, line=line, severity="error"))
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
        opener = open_table
    main = cfg.params()
    out = []
    for cname, param in CLASS_PARAMS:
        info = ClassInfo(cname, param, source=_src_of(main, param))
        for tok in param_list(main, param):
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


def _overlap(d: str, first: ClassInfo | None, c: ClassInfo) -> LintWarning:
    src = c.source if c.source is not None and c.source.path else \
        (first.source if first is not None else None)
    fparam = first.param if first else "?"
    return LintWarning(f"{d} is listed in two address classes: {first.name if first else '?'} "
                       f"({fparam}) and {c.name} ({c.param}); Postfix uses the first, and trivial-rewrite "
                       f"logs: do not list domain {d} in BOTH {fparam} and {c.param}",
                       domain=d, param=c.param,
                       **_at(src))


def _in_relay(relay: ClassInfo, d: str) -> bool:
    """relay_domains matches parent domains' subdomains (it is in
    parent_domain_matches_subdomains by default)."""
    if d in relay.members:
        return True
    return any(d == lit or d.endswith("." + lit.lstrip(".")) for lit in relay.literals if not lit.startswith("$"))


def class_overlaps(classes: list[ClassInfo]) -> list[LintWarning]:
    seen: dict[str, str] = {}
    by_name = {c.name: c for c in classes}
    relay = by_name.get("relay")
    out = []
    for c in classes:
        if c.name not in EXCLUSIVE_CLASSES:
            continue
        for d in dict.fromkeys(c.literals + c.members):
            if d.startswith("$"):
                continue
            if d in seen and seen[d] != c.name:
                out.append(_overlap(d, by_name.get(seen[d]), c))
            else:
                seen.setdefault(d, c.name)
    # resolve.c: a virtual alias or virtual mailbox domain that relay_domains
    # also matches (mydestination may repeat in relay_domains)
    if relay is not None:
        for d, cname in seen.items():
            if cname in ("virtual alias", "virtual mailbox") and _in_relay(relay, d):
                out.append(_overlap(d, by_name.get(cname), relay))
    return out


# ---------------------------------------------------------------------------
# Everything at once (the CLI)


def lint(cfg, *, refs: list[TableRef] | None = None, candidates: Sequence[str] = (),
         opener=None) -> list[LintWarning]:
    """Every warning about CFG: restriction lists, tables (each is opened
    to see whether it is stale), and address classes (the literal domains
    of every class plus CANDIDATES, looked up in the class tables)."""
    opened: dict[str, Any] = {}
    if opener is None:
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
    out = (expansion_warnings(cfg) + typed_value_warnings(cfg) + restriction_warnings(cfg) + startup_warnings(cfg)
           + postlog_warnings(cfg))
    main = cfg.params()
    for ref in refs:
        status = None
        try:
            t = opener(ref.spec, main)
            status = t.status
        except Exception:
            pass
        out += table_warnings(ref, status)
    out += map_type_warnings(refs, config_dir=cfg._config_dir_text)
    lits: list[str] = []
    for _cname, param in CLASS_PARAMS:
        lits += [t.lower() for t in param_list(main, param)
                 if not is_table_spec(t) and not t.startswith("/") and not t.startswith("$")]
    cands = list(dict.fromkeys(lits + [c.lower() for c in candidates]))
    out += class_overlaps(address_classes(cfg, cands, opener=opener))
    return list(dict.fromkeys(out))
