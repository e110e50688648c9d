"""`postfix-explorer trace` on the seed scenario, checked against a real smtpd.

The expected reply is what the real Postfix answers in this very test (and
the log line for --from-log is the one the real smtpd wrote), never typed.
"""
from __future__ import annotations

import json
import re
import subprocess
import time

import pytest

from tests.conftest import need_postfix
from tests.oracle.scenarios import load_scenario
from tui.__main__ import main

SEED = dict(client_address="127.0.0.1", client_name="localhost", helo="mail.example.org",
            sender="test-list-bounces@lists.example.org", recipient="someone@outside.example")


def _cli_args(cfg_dir, **kw):
    return ["trace", "--config-dir", str(cfg_dir),
            "--client-address", kw["client_address"], "--client-name", kw["client_name"],
            "--helo", kw["helo"], "--sender", kw["sender"], "--recipient", kw["recipient"]]


def _main_cf_line(cfg_dir, name):
    for i, line in enumerate((cfg_dir / "main.cf").read_text().splitlines(), 1):
        if re.match(rf"{name}\s*=", line):
            return i
    raise AssertionError(f"{name} not in main.cf")


@pytest.fixture(scope="module")
def seed_run():
    need_postfix()
    from tests.oracle.conftest import running_scenario

    with running_scenario(load_scenario("seed_mailman")) as (cfg_dir, inst):
        log_at = inst.log_size()
        answer = inst.query("smtp", SEED["client_address"], SEED["client_name"], SEED["helo"],
                            SEED["sender"], SEED["recipient"])
        # the mail log is written by postlogd, a moment after the reply: wait for the line
        deadline = time.monotonic() + 15
        log = inst.log_since(log_at)
        while "NOQUEUE: reject: RCPT from" not in log and time.monotonic() < deadline:
            time.sleep(0.1)
            log = inst.log_since(log_at)
        accepted = inst.query("smtp", SEED["client_address"], SEED["client_name"], SEED["helo"],
                              SEED["sender"], "alice@example.org")
        yield cfg_dir, answer, log, accepted


@pytest.mark.oracle
def test_seed_json_stops_on_reject_unauth_destination(seed_run, capsys):
    cfg_dir, answer, _log, _acc = seed_run
    rc = main(_cli_args(cfg_dir, **SEED) + ["--json"])
    out = json.loads(capsys.readouterr().out)
    assert answer.code >= 500, answer          # the real smtpd rejects ...
    assert rc == 1
    assert out["code"] == answer.code
    assert out["reply"] == answer.reply        # ... and we say exactly what it says
    assert out["stage"] == answer.stage
    d = out["decided_by"]
    assert d["restriction"] == "reject_unauth_destination"
    assert d["parameter"] == "smtpd_recipient_restrictions"
    assert d["source"]["kind"] == "main.cf"
    assert d["source"]["line"] == _main_cf_line(cfg_dir, "smtpd_recipient_restrictions")
    assert out["conditional"] is False
    assert "route" not in out
    edits = " ".join(e["command"] for e in out["explanation"]["edits"])
    assert "permit_mynetworks, reject_unauth_destination" in edits
    text = " ".join(out["explanation"]["reasons"])
    assert "permit_mynetworks is missing before reject_unauth_destination" in text


@pytest.mark.oracle
def test_seed_text_output(seed_run, capsys):
    cfg_dir, answer, _log, _acc = seed_run
    rc = main(_cli_args(cfg_dir, **SEED))
    out = capsys.readouterr().out
    assert rc == 1
    line = _main_cf_line(cfg_dir, "smtpd_recipient_restrictions")
    decided = [ln for ln in out.splitlines() if ln.startswith("=>")]
    assert len(decided) == 1
    assert "reject_unauth_destination" in decided[0] and f"main.cf:{line}" in decided[0]
    assert f"Answer at RCPT: {answer.reply}" in out
    assert "postconf -e 'smtpd_recipient_restrictions = " in out


@pytest.mark.oracle
def test_seed_from_real_log_line(seed_run, capsys):
    cfg_dir, answer, log, _acc = seed_run
    lines = [ln for ln in log.splitlines() if "NOQUEUE: reject: RCPT from" in ln]
    assert lines, log
    rc = main(["trace", "--config-dir", str(cfg_dir), "--from-log", lines[-1], "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 1
    assert out["reply"] == answer.reply
    assert out["log_reply"] == answer.reply
    t = out["transaction"]
    assert (t["client_address"], t["helo"], t["sender"], t["recipient"]) == (
        SEED["client_address"], SEED["helo"], SEED["sender"], SEED["recipient"])
    assert out["decided_by"]["restriction"] == "reject_unauth_destination"


@pytest.mark.oracle
def test_accepted_has_route_and_exit_0(seed_run, capsys):
    cfg_dir, _answer, _log, accepted = seed_run
    args = dict(SEED, recipient="alice@example.org")
    rc = main(_cli_args(cfg_dir, **args) + ["--json"])
    out = json.loads(capsys.readouterr().out)
    assert accepted.code == 250, accepted   # the real smtpd accepts it
    assert rc == 0
    assert out["code"] == accepted.code and out["reply"] == accepted.reply
    assert out["decided_by"] is None
    route = out["route"]
    assert route["address_class"] == "virtual_mailbox"
    # virtual mailbox class: the transport is $virtual_transport, as Postfix itself expands it
    want = subprocess.run(["postconf", "-c", str(cfg_dir), "-xh", "virtual_transport"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert route["targets"][0]["transport"] == want.split(":", 1)[0]


def test_unusable_input_exit_2(tmp_path, capsys):
    rc = main(["trace", "--config-dir", str(tmp_path / "nope"), "--client-address", "127.0.0.1",
               "--recipient", "a@b.example"])
    assert rc == 2
    rc = main(["trace", "--config-dir", str(tmp_path), "--from-log", "this is not a log line"])
    assert rc == 2
    rc = main(["trace", "--config-dir", str(tmp_path), "--client-address", "not-an-ip",
               "--recipient", "a@b.example"])
    assert rc == 2
    assert "log line" in capsys.readouterr().err
