"""`postfix-explorer lint [--config-dir DIR] [--json]`: the configuration's
warnings, one a line, as compilers print them:

    /etc/postfix/main.cf:41: warning: smtpd_recipient_restrictions: 'reject_unknwon_sender_domain' is ...

The same checks the app shows in its warnings section (tui.core.analysis.lint):
restriction names smtpd does not know, entries after an unconditional
permit/reject/defer, stale compiled maps, .cf files that hold a password
and are world-readable, a domain in two address classes; the old
restriction names smtpd still accepts, which the tree flags in place; plus
what loading the configuration found (syntax errors, ...). Domains
PostfixAdmin knows are looked up in the class tables too, as in the app.

Exit status: 0 no warnings, 1 warnings, 2 the configuration is unusable
(main.cf missing or unreadable). No password is ever printed, and
control characters from the files (or their names) are spelled out
(\x1b, tui.core.text); --json escapes them by nature.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tui.core.analysis import inventory, lint, postfixadmin
from tui.core.config import ConfigError, load_config
from tui.core.expand import secret_names
from tui.core.text import scrub, visible

PROG = "postfix-explorer lint"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true",
                   help="print the warnings as a JSON list of objects (path, line, severity, message, ...)")
    p.add_argument("--no-database", action="store_true",
                   help="do not read PostfixAdmin's domains from the SQL database")


def _location(path: str | None, line: int | None, config_dir: Path) -> tuple[str, int | None]:
    return (path or str(config_dir / "main.cf")), line


def _main_cf_secrets(cfg) -> set[str]:
    """Values of main.cf/-o settings that hold a password or flow into one
    (`x_password = $db_secret`: db_secret's value too)."""
    raw = {n: e.value for n, e in cfg.main.items()}
    for svc in cfg.services:
        for n, (value, _src) in svc.overrides.items():
            raw[n] = f"{raw[n]} {value}" if n in raw else value
    out: set[str] = set()
    view = cfg.params()
    for n in secret_names(raw):
        try:
            expanded = view.expand(n)
        except Exception:
            expanded = None
        for v in (raw.get(n), expanded):
            if v and v.strip():
                out.add(v.strip())
    return out


def _old_names(cfg, config_dir: Path) -> list[dict]:
    """Old restriction names smtpd still accepts, as the app's tree flags
    them (lint.restriction_items notes), in main.cf's lists and classes
    and in the -o lists of smtpd services."""
    out: list[dict] = []
    main = cfg.params()
    classes = lint.restriction_classes(cfg)
    lists = [(n, main, None) for n in lint.RESTRICTION_LISTS] + [(c, main, None) for c in sorted(classes)]
    for svc in cfg.smtpd_services():
        for n in svc.overrides:
            if n in lint.RESTRICTION_LISTS or n in classes:
                try:
                    lists.append((n, cfg.params(svc), svc.name))
                except Exception:
                    continue
    for name, view, svc in lists:
        try:
            entries = lint.restriction_items(view, name, classes)
            src = view.source(name)
        except Exception:
            continue
        on = f" (-o on {svc})" if svc else ""
        for _pos, text, note in entries:
            if note.startswith("old name of "):
                path, line = _location(getattr(src, "path", None), getattr(src, "line", None), config_dir)
                out.append({"path": path, "line": line, "severity": "warning", "param": name,
                            "message": f"{name}{on}: '{text}' is the {note} (smtpd still accepts it)"})
    return out


def run(args: argparse.Namespace) -> int:
    config_dir = Path(getattr(args, "config_dir", "/etc/postfix"))
    try:
        cfg = load_config(str(config_dir))
    except ConfigError as exc:
        print(visible(f"{PROG}: error: {exc}"), file=sys.stderr)
        return 2
    except OSError as exc:
        print(visible(f"{PROG}: error: {config_dir}: {exc.strerror or exc}"), file=sys.stderr)
        return 2

    refs = inventory.collect_tables(cfg)
    secrets = inventory.cf_secrets(refs, cfg.params()) | _main_cf_secrets(cfg)
    candidates: list[str] = []
    if not args.no_database:
        try:
            pfa = postfixadmin.postfixadmin_view(refs, secrets)
        except Exception:  # a broken database is the app's business, not lint's
            pfa = None
        if pfa is not None:
            candidates += [d.domain.lower() for d in pfa.domains]
            candidates += [a.lower() for a, _t, _x in pfa.alias_domains]

    items: list[dict] = []
    for d in cfg.diagnostics:
        path, line = _location(d.path, d.line, config_dir)
        items.append({"path": path, "line": line, "severity": d.severity, "message": d.message})
    items += _old_names(cfg, config_dir)
    for w in lint.lint(cfg, refs=refs, candidates=candidates):
        path, line = _location(w.path, w.line, config_dir)
        item = {"path": path, "line": line, "severity": w.severity, "message": w.message}
        for k in ("param", "table", "domain", "where"):
            v = getattr(w, k)
            if v is not None:
                item[k] = v
        items.append(item)
    demo_prefix = str(config_dir.resolve()).rstrip("/") + "/" if getattr(args, "demo", False) else None
    for item in items:
        for k, v in item.items():
            if isinstance(v, str):
                item[k] = scrub(v, secrets)
                if demo_prefix:  # a temporary directory, gone at exit: name files as the app does
                    item[k] = item[k].replace(demo_prefix, "")

    out = sys.stdout
    if args.json:
        json.dump(items, out, indent=2)
        out.write("\n")
    else:
        for item in items:
            where = f"{item['path']}:{item['line']}" if item["line"] else item["path"]
            text = " ".join(item["message"].split())  # one warning, one line
            out.write(visible(f"{where}: {item['severity']}: {text}") + "\n")
    return 1 if items else 0
