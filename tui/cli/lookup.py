"""`postfix-explorer lookup [--config-dir DIR] TYPE:NAME KEY ...`

Prints what Postfix's postmap prints, so the two can be diffed:
  one key      like `postmap -q KEY TYPE:NAME`: the value alone
  several keys like `postmap -q - TYPE:NAME` fed those keys, one a line:
               `key<TAB>value` for each key found, nothing for the others
  KEY "-"      read the keys from standard input, one a line (like -q -)
Exit status: 0 when a key was found (with several keys: any, as postmap -q -
does), 1 when none was, 2 on an error
(unusable table, lookup error): one line on stderr naming the table/file.
`--where` adds the file:line (or the SQL query) each answer came from, on
stderr, so stdout stays diffable.
`--aliases` reads an indexed table's source as aliases(5) ("name: value",
as postalias builds it) and prints like `postalias -q` (several keys:
`key:<TAB>value`); the aliases(5) reading (not the output format) is
automatic when the table is named in the configuration's alias_maps or
alias_database.

A table may be named as the app shows it: a file under the configuration
directory written relative to it (`--demo texthash:access`). A name that
exists relative to the current directory keeps postmap's meaning.

Keys and values go into a pipe byte for byte, as postmap writes them; on a
terminal their control characters are spelled out (\x1b, tui.core.text).
Messages on stderr always have them spelled out.
"""
from __future__ import annotations

import argparse
import os
import sys

from tui.core.config import load_config
from tui.core.tables import open_table
from tui.core.text import visible


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("table", metavar="TYPE:NAME", help="the table, e.g. hash:/etc/postfix/access")
    p.add_argument("keys", metavar="KEY", nargs="+", help='keys to look up ("-": read keys from stdin)')
    p.add_argument("--where", action="store_true",
                   help="also print where each answer came from (on stderr)")
    p.add_argument("--aliases", action="store_true",
                   help="read the table's source as aliases(5), the way postalias builds it "
                        "(like postalias -q); automatic when the table is named in "
                        "alias_maps or alias_database")


def _load(config_dir: str | None):
    if not config_dir:
        return None
    try:
        return load_config(config_dir)
    except Exception:
        return None


def resolve_spec(spec: str, config_dir: str | None, cfg=None) -> str:
    """SPEC as the configuration names it. The app shows paths under the
    configuration directory relative to it (texthash:access for
    texthash:/etc/postfix/access); such a name is the table the
    configuration names, or, failing that, the file in the configuration
    directory. Absolute paths, inline tables and names that exist relative
    to the current directory (postmap's reading) are left alone."""
    if not config_dir:
        return spec
    prefix = os.path.abspath(config_dir).rstrip("/") + "/"
    head, rest = "", spec
    while rest.lower().startswith("proxy:"):
        head, rest = head + rest[:6], rest[6:]
    type_, sep, name = rest.partition(":")
    if not sep or not name or name.startswith("/") or os.path.lexists(name):
        return spec
    if cfg is not None:
        try:
            from tui.core.analysis.inventory import collect_tables
            for ref in collect_tables(cfg):
                if ref.spec != spec and ref.spec.replace(prefix, "") == spec:
                    return ref.spec
        except Exception:
            pass
    if name.startswith("{"):
        return spec
    candidate = prefix + name
    if any(os.path.lexists(candidate + ext) for ext in ("", ".db", ".lmdb", ".cdb", ".dir", ".pag")):
        return f"{head}{type_}:{candidate}"
    return spec


def run(args: argparse.Namespace) -> int:
    config_dir = getattr(args, "config_dir", None)
    cfg = _load(config_dir)
    view = None
    if cfg is not None:
        try:
            view = cfg.params()
        except Exception:
            view = None
    args.table = resolve_spec(args.table, config_dir, cfg)
    # aliases(5) source (postalias) when asked, or when the config names the
    # table in alias_maps/alias_database (open_table decides from the view)
    table = open_table(args.table, view, aliases=True if getattr(args, "aliases", False) else None)
    out = sys.stdout
    err = sys.stderr
    try:
        return _run(args, table, out, err)
    finally:
        # postmap warns about the bad lines it skipped; so do we (known once
        # the file was read, i.e. after the first lookup)
        if table.status.state not in ("unreadable", "not evaluated"):
            out.flush()
            for d in table.status.diagnostics:
                print(visible(f"postfix-explorer: {d}"), file=err)
        table.close()


def _run(args, table, out, err) -> int:
    if table.status.state in ("unreadable", "not evaluated"):
        print(visible(f"postfix-explorer: {args.table}: {table.status.message}"), file=err)
        return 2
    if table.status.state == "stale":
        # stdout stays diffable with postmap; the caveat goes to stderr
        print(visible(f"postfix-explorer: warning: {args.table}: {table.status.message}"), file=err)
    keys: list[str] = []
    batch = len(args.keys) > 1
    for k in args.keys:
        if k == "-":
            batch = True
            data = sys.stdin.buffer.read().decode("utf-8", "surrogateescape")
            lines = data.split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            # postmap reads C strings: a key ends at its first NUL byte
            keys.extend(line.split("\0", 1)[0] for line in lines)
        else:
            keys.append(k)
    status = 1
    try:
        tty = out.isatty()
    except (AttributeError, ValueError):
        tty = False
    for key in keys:
        r = table.lookup(key)
        if r.error:
            print(visible(f"postfix-explorer: {args.table}: {r.error}"), file=err)
            out.flush()
            return 2
        if not r.found:
            continue
        status = 0
        value = r.value or ""
        # postalias -q - prints "key:<TAB>value"
        sep = ":\t" if getattr(args, "aliases", False) else "\t"
        line = f"{key}{sep}{value}" if batch else value
        if tty:
            line = visible(line)
        out.buffer.write((line + "\n").encode("utf-8", "surrogateescape")) if hasattr(out, "buffer") \
            else out.write(line + "\n")
        if args.where and r.where:
            print(visible(f"{key}: {r.where}"), file=err)
    out.flush()
    return status
