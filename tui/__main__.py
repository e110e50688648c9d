"""Command line: `postfix-explorer` opens the app; subcommands serve scripts.

Each subcommand lives in tui/cli/<name>.py and provides
    add_arguments(parser: argparse.ArgumentParser) -> None
    run(args: argparse.Namespace) -> int
Exit status: 0 success, 1 "not found"/rejected where a command says so,
2 unusable input (missing config, syntax that stops everything, the app
started without a terminal).

Start-up time matters (scripts run these commands in loops), so a command
imports only what it uses: the module of the command being run (nothing of
the other commands), and the app (Textual, rich) only when no command is
given.
"""
from __future__ import annotations

import argparse
import gc
import sys
from types import ModuleType

# name -> one-line help; the module tui.cli.<name> implements it.
SUBCOMMANDS = {
    "params": "print parameters like postconf (-n, -x, --service, --json)",
    "lookup": "look keys up in a table like postmap -q",
    "trace": "evaluate smtpd restrictions for one recipient, step by step",
    "lint": "print the configuration's warnings as path:line: warning: text",
    "triage": "explain every refusal in mail logs, checked against today's configuration",
}

NEEDS_TERMINAL = ("postfix-explorer: the app needs a terminal (stdin and stdout are not one here); "
                  "for scripts use a command: " + ", ".join(SUBCOMMANDS) + " (postfix-explorer --help)")


def command_module(name: str) -> ModuleType:
    """The module implementing subcommand NAME, imported when it is run."""
    if name == "params":
        from tui.cli import params
        return params
    if name == "lookup":
        from tui.cli import lookup
        return lookup
    if name == "trace":
        from tui.cli import trace
        return trace
    if name == "lint":
        from tui.cli import lint
        return lint
    if name == "triage":
        from tui.cli import triage
        return triage
    raise KeyError(name)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser. Every subcommand is listed; only COMMAND's own
    options are added (its module imported), None adds none of them."""
    parser = argparse.ArgumentParser(
        prog="postfix-explorer",
        description="Explore a Postfix configuration and trace smtpd's decisions. "
                    "Without a command, opens the app (it needs a terminal).",
    )
    parser.add_argument("--config-dir", default="/etc/postfix",
                        help="Postfix configuration directory (default: /etc/postfix)")
    parser.add_argument("--demo", action="store_true",
                        help="open the bundled demo configuration instead of --config-dir")
    parser.add_argument("--log", action="append", metavar="FILE",
                        help="the app opens its Log view on this mail log (repeatable; "
                             "key l opens it later, default /var/log/mail.log)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in SUBCOMMANDS.items():
        full = name == command
        p = sub.add_parser(name, help=help_text, description=help_text, add_help=full)
        if not full:
            continue
        p.add_argument("--config-dir", default=argparse.SUPPRESS,
                       help="Postfix configuration directory (default: /etc/postfix)")
        p.add_argument("--demo", action="store_true", default=argparse.SUPPRESS,
                       help="use the bundled demo configuration")
        command_module(name).add_arguments(p)
    return parser


def _command(argv: list[str]) -> str | None:
    """Which subcommand ARGV runs, as argparse reads it (options of the
    commands are left alone here; --help and usage errors of the top level
    are handled as usual)."""
    known, _rest = build_parser(None).parse_known_args(argv)
    return known.command


def main(argv: list[str] | None = None) -> int:
    program = argv is None   # run as the program, not called from Python code
    if argv is None:
        argv = sys.argv[1:]
    # Importing makes many objects and no garbage: the cyclic collector
    # would scan the growing heap again and again for nothing (~5 ms of a
    # command's start-up). It is paused while the command's modules are
    # imported; what exists then is frozen (never scanned again), and the
    # collector runs as usual for what the command itself makes.
    collecting = gc.isenabled()
    gc.disable()
    try:
        command = _command(argv)
        args = build_parser(command).parse_args(argv)
    finally:
        if collecting:
            gc.freeze()
            gc.enable()
    if args.demo:
        from tui.demo import demo_config_dir

        args.config_dir = str(demo_config_dir())
    try:
        if command:
            module = command_module(command)
            many = getattr(module, "evaluates_many", None)
            if program and not (many is not None and many(args)):
                # a command that evaluates at most once needs no inotify
                # watch (and no ctypes) for the map files it reads once.
                # One that evaluates thousands of times (its module's
                # evaluates_many(args)) keeps it: each map file is stat()ed
                # once a second, not once per evaluation, and what the
                # tables answered is kept from one evaluation to the next
                # (~100 instead of ~140 us per trace of a triage)
                from tui.core.filewatch import WATCH

                WATCH.disable()
            return module.run(args)
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            print(NEEDS_TERMINAL, file=sys.stderr)
            return 2
        from tui.app import run_app

        return run_app(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
