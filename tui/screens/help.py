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
| `/` | filter the tree by what it shows (Enter keeps the filter, Esc clears it) |
| `↑` `↓` `PgUp` `PgDn` | move; in this help, scroll (also `j` `k`) |
| `→` `←` | open / close a tree node (`←` on a leaf goes to its parent) |
| `Enter` | open a node; on *more…* load the next page; on a warning, go to what it is about |
| `a` | show every parameter, defaults included |
| `m` | next page of the table under the cursor |
| `<` `>` | narrower / wider tree (kept until you quit) |
| `Tab` | next pane or field (on a table: its lookup field) |
| `t` | the trace pane |
| `l` | the Log view: every refusal in the mail log (`--log FILE`, default /var/log/mail.log), grouped by the rule that decided it; Enter lists a group, Enter on a transaction traces it |
| `Ctrl+L` | (trace) the log-line field: paste a mail-log line, Enter runs |
| `Ctrl+R` | (trace) run the trace (says which field is missing) |
| `p` | (trace) show the selected step's parameter in the tree |
| `Esc` | back: close this help, leave the trace, clear the filter, return to the tree |
| `Ctrl+P` | command palette: jump to any parameter or table |
| `q`, `Ctrl+C` | quit, at once, even while a slow table is being read (in a text field these type and copy: use `Ctrl+Q` or `Esc` first) |

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
and press Enter. *TLS?* beside the service says whether the client used
STARTTLS; left blank, the trace assumes what the service requires. The
reply, the step that decided it, why, and the first suggested change come
first; the steps and the full explanation are below.
Each restriction smtpd looks at becomes a step: *no match* goes on,
*permit* ends that list, *reject* (5xx) and *defer* (4xx) end the
transaction. Steps that need DNS or a policy server are *not evaluated*.
The deciding step is marked ▶. When a pasted log line logged another reply
than today's configuration gives, the answer says so.

A MySQL password is never shown.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("q", "dismiss", "Close", show=False),
        Binding("question_mark", "dismiss", "Close", show=False),
        Binding("j", "scroll('down')", "Down", show=False),
        Binding("k", "scroll('up')", "Up", show=False),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 100; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-scroll"):
            yield Markdown(HELP)

    def on_mount(self) -> None:
        # the arrows and PageDown scroll at once, without a Tab first
        self.query_one("#help-scroll").focus()

    def action_scroll(self, direction: str) -> None:
        scroll = self.query_one("#help-scroll", VerticalScroll)
        if direction == "down":
            scroll.scroll_down(animate=False)
        else:
            scroll.scroll_up(animate=False)

    def action_dismiss(self, result=None) -> None:  # type: ignore[override]
        self.dismiss(None)
