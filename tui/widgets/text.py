"""Text from outside (configuration values, table rows, database errors, log
lines, what the user typed) on its way to a widget.

`lit(value)` is the only door: it returns a literal `rich.text.Text` (square
brackets are never markup) with control characters made visible and
harmless, the way postmap prints `?` for them. An ESC, OSC or CSI sequence
in a main.cf value or a map key therefore shows as `?]2;title?\\` instead of
retitling the terminal.
"""
from __future__ import annotations

import re

from rich.text import Text

# C0 and C1 controls, DEL, and the bidirectional overrides that reorder what
# follows them on screen.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROLS_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def visible(value: object, *, multiline: bool = False) -> str:
    """VALUE as a string whose control characters are shown as "?".
    Newlines (and tabs) survive only when MULTILINE."""
    s = value if isinstance(value, str) else str(value)
    if multiline:
        return _CONTROLS.sub("?", s).replace("\t", " ")
    return _CONTROLS_LINE.sub("?", s)


def lit(value: object, style: str = "", *, multiline: bool = False) -> Text:
    """VALUE as literal Text: no markup, controls visible."""
    if isinstance(value, Text):
        out = value.copy()
        out.plain  # noqa: B018 -- a Text built by us; its spans stay
        if _CONTROLS.search(out.plain):
            return Text(visible(out.plain, multiline=multiline), style=style or out.style)
        return out
    return Text(visible(value, multiline=multiline), style=style)
