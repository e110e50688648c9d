"""Command line: `postfix-explorer` opens the app; subcommands serve scripts.

Each subcommand lives in tui/cli/<name>.py and provides
    add_arguments(parser: argparse.ArgumentParser) -> None
    run(args: argparse.Namespace) -> int
Exit status: 0 success, 1 "not found"/rejected where a command says so,
2 unusable input (missing config, syntax that stops everything).
"""
from __future__ import annotations

import argparse
import importlib
import sys

# name -> one-line help; the module tui.cli.<name> implements it.
SUBCOMMANDS = {
    "params": "print parameters like postconf (-n, -x, --service, --json)",
    "lookup": "look keys up in a table like postmap -q",
    "trace": "evaluate smtpd restrictions for one recipient, step by step",
    "lint": "print the configuration's warnings as path:line: warning: text",
    "triage": "explain every refusal in mail logs, checked against today's configuration",
}


def _load(name: str):
    try:
        return importlib.import_module(f"tui.cli.{name}")
    except ModuleNotFoundError as exc:  # subcommand not built yet
        if exc.name == f"tui.cli.{name}":
            return None
        raise


def build_parser() -> tuple[argparse.ArgumentParser, dict]:
    parser = argparse.ArgumentParser(
        prog="postfix-explorer",
        description="Explore a Postfix configuration and trace smtpd's decisions.",
    )
    parser.add_argument("--config-dir", default="/etc/postfix",
                        help="Postfix configuration directory (default: /etc/postfix)")
    parser.add_argument("--demo", action="store_true",
                        help="open the bundled demo configuration instead of --config-dir")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = {}
    for name, help_text in SUBCOMMANDS.items():
        module = _load(name)
        if module is None:
            continue
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--config-dir", default=argparse.SUPPRESS,
                       help="Postfix configuration directory (default: /etc/postfix)")
        p.add_argument("--demo", action="store_true", default=argparse.SUPPRESS,
                       help="use the bundled demo configuration")
        module.add_arguments(p)
        modules[name] = module
    return parser, modules


def main(argv: list[str] | None = None) -> int:
    parser, modules = build_parser()
    args = parser.parse_args(argv)
    if args.demo:
        from tui.demo import demo_config_dir

        args.config_dir = str(demo_config_dir())
    try:
        if args.command:
            return modules[args.command].run(args)
        from tui.app import run_app

        return run_app(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
