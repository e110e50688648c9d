"""Text from outside (configuration values, table rows, database errors, log
lines, what the user typed) on its way to a widget.

`lit(value)` is the only door: it returns a literal `rich.text.Text` (square
brackets are never markup) with control characters made visible and
harmless, the way postmap prints `?` for them. An ESC, OSC or CSI sequence
in a main.cf value or a map key therefore shows as `?]2;title?\\` instead of
retitling the terminal.
"""
from __future__ import annotations

from rich.text import Text

from tui.core.text import is_visible
from tui.core.text import visible as _visible

def visible(value: object, *, multiline: bool = False) -> str:
    """VALUE as a string whose control characters are shown as "?"
    (tui.core.text.visible). Newlines survive only when MULTILINE; tabs
    become blanks."""
    s = value if isinstance(value, str) else "" if value is None else str(value)
    return _visible(s, replacement="?", keep_newlines=multiline).replace("\t", " ")


def lit(value: object, style: str = "", *, multiline: bool = False) -> Text:
    """VALUE as literal Text: no markup, controls visible."""
    if isinstance(value, Text):
        out = value.copy()
        out.plain  # noqa: B018 -- a Text built by us; its spans stay
        if not is_visible(out.plain.replace("\n", " ")):
            return Text(visible(out.plain, multiline=multiline), style=style or out.style)
        return out
    return Text(visible(value, multiline=multiline), style=style)
