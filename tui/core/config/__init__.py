"""The configuration: main.cf, master.cf and Postfix's defaults.

`load_config(dir)` reads a configuration (loader.py); `params.py` is the
one typed reader of parameter values the engine uses.
"""
from __future__ import annotations

from tui.core.config.loader import (Config, ConfigError, MainEntry, ParamView, Service, Setting,
                                    SyntaxDiagnostic, load_config, parse_main_cf, parse_master_cf,
                                    read_logical_lines, split_nameval, split_quoted)

__all__ = ["Config", "ConfigError", "MainEntry", "ParamView", "Service", "Setting",
           "SyntaxDiagnostic", "load_config", "parse_main_cf", "parse_master_cf",
           "read_logical_lines", "split_nameval", "split_quoted"]
