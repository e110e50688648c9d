"""Single mail-log lines through the mail-log grammar (grammars/maillog.lark)."""
from __future__ import annotations

import pytest

from tui.core.analysis.maillog import LogLineError
from tui.core.analysis.maillog import parse_line as parse_log_line

SEED = ("May 11 09:06:42 gabble postfix/smtpd[8390]: NOQUEUE: reject: RCPT from "
        "localhost[127.0.0.1]: 554 5.7.1 <someone@outside.example>: Relay access denied; "
        "from=<test-list-bounces@lists.example.org> to=<someone@outside.example> proto=ESMTP "
        "helo=<mail.example.org>")


def test_seed_line():
    ll = parse_log_line(SEED)
    assert ll.action == "reject"
    assert ll.command == "RCPT"
    assert (ll.client_name, ll.client_address) == ("localhost", "127.0.0.1")
    assert ll.reply == "554 5.7.1 <someone@outside.example>: Relay access denied"
    assert ll.code == 554
    assert ll.sender == "test-list-bounces@lists.example.org"
    assert ll.recipient == "someone@outside.example"
    assert ll.proto == "ESMTP"
    assert ll.helo == "mail.example.org"
    assert ll.program == "postfix/smtpd"
    assert ll.service_hint == "smtp"   # postfix/smtpd is the smtp service
    tx = ll.transaction()
    assert tx.client_address == "127.0.0.1" and tx.helo == "mail.example.org"


def test_without_syslog_prefix_and_semicolons_in_reply():
    line = ("NOQUEUE: reject: RCPT from mx.example.net[192.0.2.1]: 554 5.7.1 Service unavailable; "
            "Client host [192.0.2.1] blocked using zen.example; https://x.example/q?ip=192.0.2.1; "
            "from=<a@example.net> to=<b@example.org> proto=SMTP helo=<mx.example.net>")
    ll = parse_log_line(line)
    assert ll.reply.endswith("https://x.example/q?ip=192.0.2.1")
    assert ll.reply.startswith("554 5.7.1 Service unavailable; Client host")
    assert ll.proto == "SMTP" and ll.recipient == "b@example.org"


def test_null_sender_no_helo_ipv6_and_service_from_syslog_name():
    line = ("2024-05-11T09:06:42.123456+02:00 mx postfix/submission/smtpd[77]: NOQUEUE: reject: "
            "RCPT from unknown[2001:db8::5]: 550 5.1.1 <x@example.org>: Recipient address rejected: "
            "User unknown in virtual mailbox table; from=<> to=<x@example.org> proto=ESMTP")
    ll = parse_log_line(line)
    assert ll.sender == ""
    assert ll.helo is None
    assert ll.client_address == "2001:db8::5" and ll.client_name == "unknown"
    assert ll.service_hint == "submission"
    tx = ll.transaction()
    assert tx.helo is None and tx.sender == ""


def test_other_actions_and_commands():
    ll = parse_log_line("ABC123DEF: reject_warning: MAIL from h.example[192.0.2.9]: 504 5.5.2 <joe>: "
                        "Sender address rejected: need fully-qualified address; from=<joe> proto=ESMTP "
                        "helo=<h.example>")
    assert ll.action == "reject_warning" and ll.command == "MAIL"
    assert ll.queue_id == "ABC123DEF" and ll.recipient is None


def test_blanked_line_from_the_question_still_parses():
    # the asker blanked the client: "RCPT from[]" and helo=<>
    ll = parse_log_line("May 11 09:06:42 gabble postfix/smtpd[8390]: NOQUEUE: reject: RCPT from[]: "
                        "554 5.7.1 <a@b.example>: Relay access denied; from=<c@d.example> "
                        "to=<a@b.example> proto=ESMTP helo=<>")
    assert ll.client_address == "" and ll.helo == ""
    assert ll.transaction().helo is None


@pytest.mark.parametrize("bad", ["", "hello world", "NOQUEUE: reject: RCPT from x[1.2.3.4]: no code here"])
def test_errors_are_values(bad):
    with pytest.raises(LogLineError) as ei:
        parse_log_line(bad)
    assert "log line" in str(ei.value)
