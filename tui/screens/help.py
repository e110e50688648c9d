"""The help screen (`?`): keys and what the panes show."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# postfix-explorer

Where every value of a Postfix configuration comes from, and why smtpd
accepts or rejects a recipient.

## Keys

| key | does |
|---|---|
| `/` | filter the tree (parameters, services, tables, their entries) |
| `a` | show every parameter, defaults included |
| `Enter` | open a node; on *more…* load the next page of entries |
| `m` | next page of the table under the cursor |
| `t` | the trace pane |
| `Ctrl+L` | (trace) jump to the log-line field; paste a line, Enter runs |
| `Ctrl+R` | (trace) run the trace |
| `p` | (trace) show the selected step's parameter in the tree |
| `Tab` | next field or pane |
| `Esc` | back: close the filter, leave the trace, close this help |
| `Ctrl+P` | command palette: jump to any parameter or table |
| `q` | quit |

## The tree

*main.cf* lists what is set explicitly, in file order; *all parameters* lists
all of them. *master.cf* shows each service and its `-o` overrides, which
apply to that service only. *lookup tables* shows every table the
configuration names and its state: **ok**, **stale** (the compiled `.db` is
older than its source: run postmap), **unreadable** (shown in red with the
reason) or **not evaluated** (a type this tool cannot ask, such as LDAP).
*PostfixAdmin* reads the domain, mailbox, alias and alias_domain tables
with the configuration's own SQL connection settings. *address classes*
shows which domains are local, virtual alias, virtual mailbox or relay.

## The trace

Choose the smtpd service (port 25 is `smtp`), fill in the client, HELO,
sender and recipient (or paste a `NOQUEUE: reject:` line from the mail log),
and press Enter. Each restriction smtpd looks at becomes a step: *no match*
goes on, *permit* ends that list, *reject* ends everything. Steps that need
DNS or a policy server are *not evaluated*. The deciding step is marked ▶.

A MySQL password is never shown.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("q", "dismiss", "Close", show=False),
        Binding("question_mark", "dismiss", "Close", show=False),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 100; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(HELP)

    def action_dismiss(self, result=None) -> None:  # type: ignore[override]
        self.dismiss(None)
