"""Tests of the oracle harness alone, against a live smtpd.

The expected values here are plain SMTP facts of a tiny configuration (a
local recipient is accepted, an outside one from an outside client is a
relay denial, a SASL login relays on a submission-like service, ...), so
they check that the harness asks Postfix the right question and reads the
answer right; what the engine must reproduce is in test_trace_oracle.py.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.conftest import need_postfix
from tests.oracle import postfix_instance as pi
from tests.oracle.postfix_instance import Answer, HarnessError, PostfixInstance
from tests.oracle.scenarios import (
    SCENARIO_ROOT,
    load_scenario,
    materialized,
    parse_transactions,
    scenario_names,
)

MAIN_CF = """\
compatibility_level = 3.6
myhostname = mx.example.com
mydomain = example.com
inet_interfaces = 127.0.0.1
inet_protocols = all
mydestination = $myhostname, localhost, example.com
mynetworks = 127.0.0.0/8, [2001:db8:1::]/48
alias_maps =
local_recipient_maps = hash:__DIR__/users
smtpd_helo_required = no
"""

MASTER_CF = """\
# a comment, then services
smtp      inet  n       -       y       -       -       smtpd
submission inet n       -       y       -       -       smtpd
  -o smtpd_sasl_auth_enable=yes
  # comments may sit between continuation lines
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
127.0.0.1:2525 inet n - n - - smtpd
  -o smtpd_delay_reject=no
  -o { smtpd_client_restrictions = check_client_access inline:{ { 198.51.100.66 = REJECT Go away } } }
127.0.0.1:2526 inet n - n - - smtpd
  -o smtpd_helo_required=yes
broken    inet  n       -       n       -       -       smtpd
  -o smtpd_relay_restrictions=
  -o smtpd_recipient_restrictions=permit_mynetworks
dovecot   unix  -       n       n       -       -       pipe
  flags=DRhu user=vmail:vmail argv=/usr/lib/dovecot/deliver -d ${recipient}
"""


@pytest.fixture(scope="module")
def tiny():
    need_postfix()
    root = Path(tempfile.mkdtemp(prefix="pfx-harness-test-"))
    os.chmod(root, 0o755)
    cfg = root / "etc"
    cfg.mkdir()
    (cfg / "main.cf").write_text(MAIN_CF.replace("__DIR__", str(cfg)))
    (cfg / "master.cf").write_text(MASTER_CF)
    (cfg / "users").write_text("alice x\n")
    inst = PostfixInstance(cfg)
    try:
        inst.start()
        yield inst
    finally:
        inst.stop()
        shutil.rmtree(root, ignore_errors=True)




OUT = dict(client_address="198.51.100.20", client_name="mail.example.net",
           helo="mail.example.net", sender="a@example.net")


@pytest.mark.oracle
class TestLiveSmtpd:
    def test_services_get_their_own_ports(self, tiny):
        assert set(tiny.ports) == {"smtp", "submission", "127.0.0.1:2525", "127.0.0.1:2526",
                                   "broken"}
        assert len(set(tiny.ports.values())) == 5
        assert tiny.running

    def test_accepted_recipient(self, tiny):
        assert tiny.query("smtp", recipient="alice@example.com", **OUT) == \
            Answer(250, "250 2.1.5 Ok", "rcpt")

    def test_unknown_local_user(self, tiny):
        a = tiny.query("smtp", recipient="nobody@example.com", **OUT)
        assert (a.code, a.stage) == (550, "rcpt")
        assert a.reply.startswith("550 5.1.1 <nobody@example.com>: Recipient address rejected")

    def test_relay_denied_for_an_outside_client(self, tiny):
        # compatibility_level 3.6: the default relay list ends in
        # defer_unauth_destination, a 454
        a = tiny.query("smtp", recipient="x@elsewhere.example", **OUT)
        assert a == Answer(454, "454 4.7.1 <x@elsewhere.example>: Relay access denied", "rcpt")

    def test_mynetworks_client_relays(self, tiny):
        a = tiny.query("smtp", "127.0.0.1", "localhost", "localhost", "a@example.net",
                       "x@elsewhere.example")
        assert a.code == 250

    def test_xclient_ipv6(self, tiny):
        at = tiny.log_size()
        inside = tiny.query("smtp", "2001:db8:1::5", "unknown", "v6.example.net",
                            "a@example.net", "x@elsewhere.example")
        outside = tiny.query("smtp", "2001:db8:2::5", "unknown", "v6.example.net",
                             "a@example.net", "x@elsewhere.example")
        assert inside.code == 250
        assert outside.code == 454
        # smtpd saw the XCLIENT address
        assert "unknown[2001:db8:2::5]" in tiny.wait_for_log("unknown[2001:db8:2::5]", since=at)

    def test_unknown_client_name(self, tiny):
        at = tiny.log_size()
        tiny.query("smtp", "198.51.100.21", "unknown", "h.example.net", "a@example.net",
                   "alice@example.com")
        assert "unknown[198.51.100.21]" in tiny.wait_for_log("unknown[198.51.100.21]", since=at)

    def test_sasl_login_relays_on_submission(self, tiny):
        yes = tiny.query("submission", recipient="x@elsewhere.example", sasl_login="alice", **OUT)
        no = tiny.query("submission", recipient="x@elsewhere.example", **OUT)
        assert yes == Answer(250, "250 2.1.5 Ok", "rcpt")
        assert no.code == 554 and no.stage == "rcpt"
        assert "Access denied" in no.reply

    def test_sasl_login_ignored_without_sasl(self, tiny):
        a = tiny.query("smtp", recipient="x@elsewhere.example", sasl_login="alice", **OUT)
        assert a.code == 454

    def test_login_value_is_xtext_encoded(self, tiny):
        at = tiny.log_size()
        a = tiny.query("submission", recipient="x@elsewhere.example",
                       sasl_login="user+tag=1@example.com", **OUT)
        assert a.code == 250
        assert "sasl_username=user+tag=1@example.com" in tiny.wait_for_log(
            "sasl_username=user+tag=1@example.com", since=at)

    def test_delay_reject_no_rejects_the_client_at_connect(self, tiny):
        a = tiny.query("127.0.0.1:2525", "198.51.100.66", "mail.example.net", "mail.example.net",
                       "a@example.net", "alice@example.com")
        assert a.stage == "connect" and a.code == 554
        assert "Client host rejected: Go away" in a.reply
        ok = tiny.query("127.0.0.1:2525", recipient="alice@example.com", **OUT)
        assert ok.code == 250

    def test_no_helo(self, tiny):
        free = tiny.query("smtp", "198.51.100.20", "mail.example.net", None, "a@example.net",
                          "alice@example.com")
        required = tiny.query("127.0.0.1:2526", "198.51.100.20", "mail.example.net", None,
                              "a@example.net", "alice@example.com")
        assert free.code == 250
        assert required == Answer(503, "503 5.5.1 Error: send HELO/EHLO first", "mail")

    def test_null_sender(self, tiny):
        a = tiny.query("smtp", "198.51.100.20", "mail.example.net", "mail.example.net", "",
                       "alice@example.com")
        assert a.code == 250

    def test_smtpd_that_refuses_to_start(self, tiny):
        # no working relay restriction: smtpd exits at startup, the client
        # never gets a greeting
        a = tiny.query("broken", recipient="alice@example.com", **OUT)
        assert (a.code, a.reply, a.stage) == (0, "", "connect")
        assert "specify at least one working instance" in a.detail
        again = tiny.query("broken", recipient="x@elsewhere.example", **OUT)
        assert again is a   # remembered, not asked again (asking makes a new Answer)
        # the other services are not affected
        assert tiny.query("smtp", recipient="alice@example.com", **OUT).code == 250

    def test_unknown_service_is_a_harness_error(self, tiny):
        with pytest.raises(HarnessError):
            tiny.query("nosuch", recipient="alice@example.com", **OUT)


@pytest.mark.oracle
def test_stop_leaves_nothing_behind(tmp_path):
    need_postfix()
    root = Path(tempfile.mkdtemp(prefix="pfx-harness-stop-"))
    os.chmod(root, 0o755)
    try:
        (root / "main.cf").write_text(MAIN_CF.replace("__DIR__", str(root)))
        (root / "master.cf").write_text("smtp inet n - y - - smtpd\n")
        (root / "users").write_text("alice x\n")
        with pytest.raises(RuntimeError, match="boom"):
            with PostfixInstance(root) as inst:
                pid, scratch = inst.master_pid, inst.root
                assert pid and pi._pid_alive(pid)
                raise RuntimeError("boom")
        assert not pi._pid_alive(pid)
        assert not scratch.exists()
        assert inst not in pi._LIVE
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.oracle
def test_start_failure_is_reported_and_cleaned_up():
    need_postfix()
    root = Path(tempfile.mkdtemp(prefix="pfx-harness-bad-"))
    os.chmod(root, 0o755)
    try:
        # postfix start refuses a main.cf with an invalid inet_protocols
        (root / "main.cf").write_text(MAIN_CF.replace("__DIR__", str(root)).replace(
            "inet_protocols = all", "inet_protocols = bogus").replace(
            "local_recipient_maps = hash:", "local_recipient_maps = texthash:"))
        (root / "master.cf").write_text("smtp inet n - y - - smtpd\n")
        (root / "users").write_text("alice x\n")
        inst = PostfixInstance(root)
        with pytest.raises(pi.PostfixStartError, match="inet_protocols"):
            inst.start()
        assert inst not in pi._LIVE
        assert inst.root is None
    finally:
        shutil.rmtree(root, ignore_errors=True)


# ---------------------------------------------------------------- pure parts


def test_xtext():
    assert pi.xtext("alice") == "alice"
    assert pi.xtext("a+b=c d") == "a+2Bb+3Dc+20d"
    assert pi.xtext("é") == "+C3+A9"


def test_xclient_address_and_name():
    assert pi.xclient_addr("192.0.2.1") == "192.0.2.1"
    # passed on as written: smtpd's own normalisation is under test
    assert pi.xclient_addr("2001:DB8:0:0::1") == "IPV6:2001:DB8:0:0::1"
    assert pi.xclient_addr("IPv6:::ffff:192.0.2.1") == "IPV6:::ffff:192.0.2.1"
    # a log's "unknown" is a temporary lookup failure; XCLIENT's own words pass
    assert pi.xclient_name("unknown") == "[TEMPUNAVAIL]"
    assert pi.xclient_name("[unavailable]") == "[UNAVAILABLE]"
    assert pi.xclient_name("[TEMPUNAVAIL]") == "[TEMPUNAVAIL]"
    assert pi.xclient_name("mx.example.com") == "mx.example.com"
    with pytest.raises(HarnessError):
        pi.xclient_addr("not-an-address")


def test_master_cf_smtpd_services():
    svcs = pi.smtpd_services(MASTER_CF)
    assert [s.name for s in svcs] == ["smtp", "submission", "127.0.0.1:2525",
                                      "127.0.0.1:2526", "broken"]
    by = {s.name: s for s in svcs}
    assert by["submission"].overrides == [("smtpd_sasl_auth_enable", "yes"),
                                          ("smtpd_relay_restrictions",
                                           "permit_sasl_authenticated,reject")]
    assert by["127.0.0.1:2525"].overrides[1] == (
        "smtpd_client_restrictions",
        "check_client_access inline:{ { 198.51.100.66 = REJECT Go away } }")
    # last duplicate wins; a non-smtpd inet service is not an smtpd service
    text = "smtp inet n - y - - smtpd\nsmtp inet n - y - - smtpd -o a=b\n" \
           "smtps inet n - y - - smtpd\nsmtps inet n - y - - postscreen\n"
    svcs = pi.smtpd_services(text)
    assert [(s.name, s.overrides) for s in svcs] == [("smtp", [("a", "b")])]


def test_override_formatting():
    assert pi._format_override("a", "b") == "  -o a=b"
    assert pi._format_override("a", "b c") == "  -o { a = b c }"
    assert pi._format_override("a", "") == "  -o { a =  }"


# ------------------------------------------------------------- the corpus


def test_transactions_format():
    txs = parse_transactions(
        "# comment\nservice\tclient_address\tclient_name\thelo\tsender\trecipient\tsasl_login\tnote\n"
        "smtp\t192.0.2.1\tunknown\t-\t<>\ta@b.example\t-\tno helo, null sender\n"
        "submission\t2001:db8::1\th.example\th.example\ts@b.example\tr@b.example\tuser\t\n")
    assert txs[0].helo is None and txs[0].sender == "" and txs[0].sasl_login is None
    assert txs[0].note == "no helo, null sender" and txs[0].line == 3
    assert txs[1].sasl_login == "user" and txs[1].helo == "h.example"


@pytest.mark.parametrize("name", scenario_names())
def test_scenario_is_well_formed(name):
    sc = load_scenario(name)
    assert sc.transactions, name
    assert sc.description, f"{name}: scenario.json needs a description"
    main = (sc.source / "main.cf").read_text()
    # the machine's own interfaces must not leak into the answers
    assert any(l.startswith("inet_interfaces") and "all" not in l for l in main.splitlines()), \
        f"{name}: set inet_interfaces explicitly (not all)"
    master = sc.source / "master.cf"   # none: the stock smtp service
    services = {s.name for s in pi.smtpd_services(master.read_text() if master.exists()
                                                  else pi.STOCK_SMTPD)}
    for tx in sc.transactions:
        assert tx.service in services, f"{name}: {tx.describe()}: no such smtpd service"
        pi.xclient_addr(tx.client_address)
        # blanks are allowed everywhere: smtpd splits the EHLO line into
        # words and joins them again, and a <...> group is one word
        # (tui/core/smtpd/envelope.py; the address_syntax scenario asks both)
    if sc.needs_mysql:
        assert (sc.source / sc.meta["mysql"]["data"]).exists()


def test_materialize_replaces_placeholders():
    sc = load_scenario("seed_mailman")
    with materialized(sc) as d:
        text = (d / "main.cf").read_text()
        assert "__DIR__" not in text and f"hash:{d}/access" in text
        assert not (d / "transactions.tsv").exists()
        assert oct(os.stat(d.parent).st_mode)[-3:] == "755"
    assert not d.exists()


def test_scenario_root_exists():
    assert SCENARIO_ROOT.is_dir()
