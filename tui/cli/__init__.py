"""Subcommands of the postfix-explorer command line, one module each."""
