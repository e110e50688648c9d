"""The one reader of parameter values the engine uses.

Each function reads one parameter of a parameter view (`Config.params()`),
expanded as Postfix expands it, and returns it typed. A value the
configuration gets wrong is the configuration's problem and has one
documented answer here; anything else that goes wrong (a view that is not
a view, a name that is not a string) is a bug and raises -- nothing here
catches an exception to guess a value.
"""
from __future__ import annotations

from typing import Protocol

from tui.core.config.syntax import ConfigError


class View(Protocol):
    """What the readers need of a parameter view (ParamView has it)."""

    def expand(self, name: str) -> str: ...
    def get_list(self, name: str) -> list[str]: ...
    def get_bool(self, name: str) -> bool: ...
    def get_int(self, name: str) -> int: ...


def param(view: View, name: str) -> str:
    """The expanded value ("" for an unset parameter)."""
    return view.expand(name) or ""


def param_list(view: View, name: str) -> list[str]:
    """The value as list items (white space and commas separate them; a
    `{...}` group is one item). A new list each call."""
    return view.get_list(name)


def param_bool(view: View, name: str) -> bool:
    """yes/true/1 or no/false/0; anything else is the parameter's default."""
    return view.get_bool(name)


def param_int(view: View, name: str, default: int) -> int:
    """The value as a number; DEFAULT when it is not one (Postfix refuses
    to start with such a value: "bad numerical configuration")."""
    try:
        return view.get_int(name)
    except ConfigError:
        return default

