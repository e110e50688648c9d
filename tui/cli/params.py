"""`postfix-explorer params`: print parameters in postconf's own format.

    params [-n] [-x] [-h] [--json] [NAME ...]      like postconf [-n] [-x] [-h] [NAME ...]
    params --service S -n [-x] [NAME ...]          like postconf -P [-x] S/TYPE[/NAME]
    params --service S [-x] [NAME ...]             every parameter as service S sees it

Output is byte-for-byte what postconf prints (white space between words
folded to one space), so that `diff <(postconf -c DIR -nx) <(params -n -x)`
is empty. Warnings go to stderr (a missing master.cf is one, as with postconf);
a missing main.cf is one line
and exit status 2; an expansion error (e.g. a $a -> $b -> $a loop) stops like
postconf's "macro processing error" with exit status 1.

Values reach a terminal with control characters spelled out (\x1b, see
tui.core.text); into a pipe or file they go byte for byte, as postconf
writes them, so that diffs stay exact. Warnings always have them spelled
out.

One deliberate difference: the value of a database password set in main.cf
(`NAME_password`, `NAME_bind_pw` for a `mysql:NAME`-style table), and of
every parameter whose value flows into one through $name, is printed as
HIDDEN (with -x also the expansion of every parameter that takes one in),
and never appears in a warning either.
"""
from __future__ import annotations

import argparse
import json
import re
import sys

from tui.core.config import ConfigError, ParamView, load_config
from tui.core.expand import ExpandResult, names_using, secret_names
from tui.core.text import scrub, visible

PROG = "postfix-explorer params"
HIDDEN = "(set, not shown)"


class _Secrets:
    """What params must not print: the value of every setting that holds a
    password or flows into one (`x_password = $db_secret` makes db_secret
    a secret), and the expansion of every setting that takes one in
    (`y = user:$db_secret` shows as $db_secret, never expanded)."""

    def __init__(self, cfg):
        raw: dict[str, str] = {n: e.value for n, e in cfg.main.items()}
        for svc in cfg.services:
            for n, (value, _src) in svc.overrides.items():
                raw[n] = f"{raw[n]} {value}" if n in raw else value
        self.names = secret_names(raw)
        self.users = names_using(raw, self.names)
        self.values: set[str] = set()
        for n in self.names:
            for v in (raw.get(n), self._expanded(cfg, n)):
                if v and v.strip():
                    self.values.add(v.strip())

    @staticmethod
    def _expanded(cfg, name: str) -> str | None:
        try:
            return cfg.params().expand(name)
        except Exception:
            return None

    def hides(self, name: str, expanded: bool) -> bool:
        return name in self.names or (expanded and name in self.users)


_WS = re.compile(r"[ \t\r\n]+")  # PCF_SEPARATORS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # -h means "hide names" as in postconf; help stays on --help
    parser.conflict_handler = "resolve"
    for group in parser._action_groups:
        group.conflict_handler = "resolve"
    parser.add_argument("-n", action="store_true", dest="nondefault",
                        help="only parameters set explicitly (main.cf, or the service's -o)")
    parser.add_argument("-x", action="store_true", dest="expand",
                        help="expand $name in values (postconf -x)")
    parser.add_argument("-h", action="store_true", dest="hide_name",
                        help="print values only (postconf -h)")
    parser.add_argument("--service", metavar="NAME",
                        help="apply this master.cf service's -o overrides (NAME or NAME/TYPE)")
    parser.add_argument("--json", action="store_true",
                        help='print {name: {"value", "expanded", "source"}}')
    parser.add_argument("names", nargs="*", metavar="NAME")


def format_line(text: str) -> str:
    """pcf_print_line(): words separated by exactly one space."""
    return " ".join(w for w in _WS.split(text) if w) + "\n"


def _to_terminal(out) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


class _Out:
    """stdout: byte for byte into a pipe (diffable with postconf), control
    characters spelled out on a terminal."""

    def __init__(self, out):
        self._out = out
        self._tty = _to_terminal(out)

    def write(self, line: str) -> None:
        self._out.write(visible(line, keep_newlines=True) if self._tty else line)

    def flush(self) -> None:
        self._out.flush()


class _ExpandFailed(Exception):
    pass


def _checked(result: ExpandResult, err) -> str:
    """The value, or postconf's "macro processing error" stop."""
    if result.errors:
        for e in result.errors:
            err(f"warning: {e}")
        raise _ExpandFailed()
    return result.value


def _value(view: ParamView, name: str, expand: bool, err) -> str:
    if not expand or view.is_raw_parameter(name):
        return view.raw(name) or ""
    return _checked(view.expand_result(name), err)


def run(args: argparse.Namespace) -> int:
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="surrogateescape")  # non-UTF-8 bytes come out as read
    out = _Out(sys.stdout)
    secrets: set[str] = set()
    hidden: _Secrets | None = None

    def err(msg: str) -> None:
        out.flush()
        print(f"{PROG}: {visible(scrub(msg, secrets))}", file=sys.stderr)

    try:
        cfg = load_config(args.config_dir)
    except ConfigError as exc:
        err(f"error: {exc}")
        return 2
    hidden = _Secrets(cfg)
    secrets = hidden.values
    for d in cfg.diagnostics:
        err(str(d))
    if not args.json:
        # postconf expands every built-in parameter set in main.cf (user-defined
        # ones only through them) while loading: an error in any of them (a
        # loop, an unterminated ${) stops every command, and `postfix start`
        main = cfg.params()
        bad = [e for n in cfg.explicit_names() if n not in cfg._user and cfg.default_value(n) is not None
               and not main.is_raw_parameter(n)
               for e in main.expand_errors(n)]
        if bad:
            for e in dict.fromkeys(bad):
                err(f"warning: {e}")
            err("fatal: macro processing error")
            return 1

    svc = None
    if args.service and cfg.master_missing:
        # postconf -P needs master.cf: "postconf: fatal: open DIR/master.cf: ..."
        why = next((d.message for d in cfg.diagnostics if d.path == cfg.master_path), "")
        err(f"fatal: {why or 'open ' + cfg.master_path}")
        return 1
    if args.service:
        svc = cfg.service(args.service)
        if svc is None:
            err(f"error: {args.service}: no such service in {cfg.master_path}")
            return 2
    view = cfg.params(svc)
    status = 0

    try:
        if svc is not None and args.nondefault:
            # postconf -P SERVICE/TYPE[/NAME]: the service's -o settings
            names = sorted(svc.overrides) if not args.names else args.names
            if args.json:
                return _print_json(view, [n for n in names if n in svc.overrides], hidden)
            for name in names:
                if name not in svc.overrides:
                    err(f'warning: unmatched request: "{svc.key}/{name}"')
                    status = 1
                    continue
                value = svc.overrides[name][0]
                if hidden.hides(name, args.expand):
                    value = HIDDEN
                elif args.expand:
                    value = _checked(view.expand_text_result(value), err)
                out.write(format_line(value if args.hide_name else f"{svc.key}/{name} = {value}"))
            return status

        if args.names:
            names = []
            for name in args.names:
                if svc is not None and name in svc.overrides:
                    names.append(name)
                elif not cfg.is_known(name):
                    err(f"warning: {name}: unknown parameter")
                    status = 1
                elif not args.nondefault or name in cfg.main:
                    names.append(name)
        elif args.nondefault:
            names = cfg.explicit_names()
        else:
            names = cfg.known_names()
            if svc is not None:
                names = sorted(set(names) | set(svc.overrides))

        if args.json:
            return _print_json(view, names, hidden) or status
        for name in names:
            value = HIDDEN if hidden.hides(name, args.expand) else _value(view, name, args.expand, err)
            out.write(format_line(value if args.hide_name else f"{name} = {value}"))
    except _ExpandFailed:
        err("fatal: macro processing error")
        return 1
    return status


def _print_json(view: ParamView, names: list[str], hidden: _Secrets) -> int:
    data = {}
    for name in names:
        data[name] = {
            "value": view.raw(name),
            "expanded": view.raw(name) if view.is_raw_parameter(name) else view.expand(name),
            "source": view.source(name).to_json(),
        }
        if hidden.hides(name, False):
            data[name]["value"] = data[name]["expanded"] = HIDDEN
        elif hidden.hides(name, True):
            data[name]["expanded"] = HIDDEN
        errors = view.expand_errors(name)
        if errors:
            data[name]["errors"] = [scrub(e, hidden.values) for e in errors]
    json.dump(data, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0
