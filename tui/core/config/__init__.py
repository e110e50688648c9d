"""The configuration: main.cf, master.cf and Postfix's defaults.

`load_config(dir)` reads a configuration (loader.py; the files' syntax in
syntax.py, main_cf.py and master_cf.py); `params.py` is the one typed reader
of parameter values the engine uses.
"""
from __future__ import annotations

from tui.core.config.loader import Config, ParamView, load_config
from tui.core.config.main_cf import MainEntry, Setting, parse_main_cf, split_nameval
from tui.core.config.master_cf import Service, parse_master_cf
from tui.core.config.mystrtok import split_quoted
from tui.core.config.syntax import ConfigError, SyntaxDiagnostic, read_logical_lines

__all__ = ["Config", "ConfigError", "MainEntry", "ParamView", "Service", "Setting",
           "SyntaxDiagnostic", "load_config", "parse_main_cf", "parse_master_cf",
           "read_logical_lines", "split_nameval", "split_quoted"]
