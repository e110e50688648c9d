"""What a trace assumes of the servers smtpd asks at run time: a milter it
can use and a before-queue content filter (smtpd_proxy_filter, connected to
before the message) answer each transaction themselves, so a trace that
goes past them assumes they let the mail through and is conditional, with
a note naming them. With smtpd_proxy_options = speed_adjust the filter sees
the message only after DATA: the RCPT answer is smtpd's own. (What a real
smtpd answers when the configuration alone decides -- a milter it cannot
use, an address it cannot parse -- is in tests/oracle/test_milter_config.py
and test_queue_open.py.)"""
from __future__ import annotations

import pytest

from tui.core.config import load_config
from tui.core.smtpd import evaluate
from tui.core.trace import Transaction

TX = dict(client_address="192.0.2.1", client_name="mx.sender.example", helo="mx.sender.example",
          sender="a@sender.example", recipient="joe@example.com")


@pytest.mark.parametrize("overrides, conditional, note", [
    ("", False, None),
    ("-o smtpd_proxy_filter=127.0.0.1:10025", True, "lets the mail through"),
    ("-o smtpd_proxy_filter=127.0.0.1:10025 -o smtpd_proxy_options=speed_adjust", False, "after this trace"),
    ("-o smtpd_milters=inet:127.0.0.1:8891", True, "not evaluated: the milter inet:127.0.0.1:8891"),
    ("-o smtpd_milters=inet:127.0.0.1:8891 -o receive_override_options=no_milters", False, None),
])
def test_a_trace_past_a_filter_asked_at_run_time_is_conditional(tmp_path, overrides, conditional, note):
    (tmp_path / "main.cf").write_text("compatibility_level = 3.6\nmyhostname = mx.example.com\n"
                                      "mydestination = example.com\nlocal_recipient_maps =\n")
    (tmp_path / "master.cf").write_text(f"smtp inet n - n - - smtpd {overrides}\n")
    tr = evaluate(load_config(tmp_path), Transaction(**TX))
    assert tr.accepted and tr.conditional is conditional, tr.notes
    assert any(note in n for n in tr.notes) if note else not tr.notes, tr.notes
