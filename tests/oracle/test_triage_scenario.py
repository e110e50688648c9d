"""A configuration, and SMTP sessions that drive a real smtpd (from
tests/oracle/postfix_instance.py) into every reject form that can be
produced without DNS, a policy server or a milter; the mail log it writes is
what the triage tests read (and what scripts/bench_triage.py takes its line
templates from)."""
from __future__ import annotations

import base64
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

MAIN_CF = """\
compatibility_level = 3.6
myhostname = mx.example.test
mydomain = example.test
mydestination = $myhostname, localhost
mynetworks = 192.0.2.0/24
virtual_mailbox_domains = example.test
virtual_mailbox_maps = hash:__DIR__/vmailbox
virtual_transport = discard
smtpd_restriction_classes = broken_lookup
broken_lookup = check_sender_access hash:__DIR__/missing_map
smtpd_helo_required = yes
smtpd_client_restrictions = check_client_access hash:__DIR__/client_access
smtpd_helo_restrictions = reject_invalid_helo_hostname, check_helo_access hash:__DIR__/helo_access
smtpd_sender_restrictions = check_sender_access hash:__DIR__/sender_access
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = warn_if_reject check_recipient_access hash:__DIR__/warn_access,
    check_recipient_access hash:__DIR__/rcpt_access
smtpd_data_restrictions = check_client_access hash:__DIR__/data_access
smtpd_end_of_data_restrictions = check_client_access hash:__DIR__/eod_access
smtpd_etrn_restrictions = reject
disable_vrfy_command = no
"""

MASTER_CF = """\
smtp      inet  n       -       n       -       -       smtpd
submission inet n       -       n       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_delay_reject=no
  -o smtpd_sasl_auth_enable=yes
"""

MAPS = {
    "vmailbox": "alice@example.test  example.test/alice/\nbob@example.test  example.test/bob/\n",
    "client_access": "198.51.100.66  REJECT go away\n198.51.100.67  550 5.7.1 you are on our list\n",
    "helo_access": "spammer.test  REJECT no spammers here\n",
    "sender_access": "bad@spam.test  REJECT sender blocked\nspam.test  554 domain blocked\n",
    "warn_access": "watch@example.test  REJECT under observation\n",
    "rcpt_access": "closed@example.test  REJECT mailbox closed\nbroken@example.test  broken_lookup\n",
    "data_access": "203.0.113.50  REJECT no data from you\n",
    "eod_access": "203.0.113.51  REJECT message refused at end of data\n",
}

# (service, client address, client name, helo, sender, recipient, what it reaches)
SESSIONS = [
    ("smtp", "203.0.113.10", "mail.other.test", "mail.other.test", "a@other.test", "x@elsewhere.test", "relay denied"),
    ("smtp", "203.0.113.11", "unknown", "bad_helo!", "a@other.test", "alice@example.test", "invalid HELO"),
    ("smtp", "203.0.113.12", "mx.spam.test", "spammer.test", "a@other.test", "alice@example.test", "HELO access"),
    ("smtp", "203.0.113.13", "mx.spam.test", "mx.spam.test", "bad@spam.test", "alice@example.test", "sender access"),
    ("smtp", "203.0.113.14", "mx.spam.test", "mx.spam.test", "other@spam.test", "alice@example.test", "sender domain 554"),
    ("smtp", "198.51.100.66", "unknown", "x.test", "a@other.test", "alice@example.test", "client access REJECT"),
    ("smtp", "198.51.100.67", "host.other.test", "x.test", "a@other.test", "bob@example.test", "client access 550"),
    ("smtp", "203.0.113.15", "mail.other.test", "mail.other.test", "a@other.test", "nobody@example.test", "unknown user"),
    ("smtp", "203.0.113.16", "mail.other.test", "mail.other.test", "", "closed@example.test", "recipient access"),
    ("smtp", "203.0.113.17", "mail.other.test", "mail.other.test", "a@other.test", "watch@example.test", "warn_if_reject"),
    ("smtp", "203.0.113.18", "mail.other.test", "mail.other.test", "a@other.test", "broken@example.test", "lookup error"),
    ("submission", "198.51.100.66", "unknown", "x.test", "a@other.test", "alice@example.test", "CONNECT reject"),
    ("submission", "203.0.113.12", "mx.spam.test", "spammer.test", "a@other.test", "alice@example.test", "HELO stage"),
    ("submission", "203.0.113.13", "mx.spam.test", "mx.spam.test", "bad@spam.test", "alice@example.test", "MAIL stage"),
    ("submission", "203.0.113.10", "mail.other.test", "mail.other.test", "a@other.test", "x@elsewhere.test", "relay denied (submission)"),
]


def _write(d: Path) -> None:
    (d / "main.cf").write_text(MAIN_CF.replace("__DIR__", str(d)))
    (d / "master.cf").write_text(MASTER_CF)
    for name, text in MAPS.items():
        (d / name).write_text(text)


@contextmanager
def scenario_dir():
    d = Path(tempfile.mkdtemp(prefix="pfx-triage-"))
    os.chmod(d, 0o755)
    try:
        _write(d)
        yield d
    finally:
        import shutil
        shutil.rmtree(d, ignore_errors=True)


def _session(inst, service, addr, name, helo, sender, rcpt, extra=()):
    from tests.oracle.postfix_instance import _Smtp, xclient_addr, xclient_name

    smtp = _Smtp(inst.port(service), inst.timeout, inst.client_source)
    out = []
    try:
        smtp.read_reply()
        r = smtp.command(f"XCLIENT ADDR={xclient_addr(addr)} NAME={xclient_name(name)} "
                         f"REVERSE_NAME={xclient_name(name)}")
        out.append(r)
        if r is None or r[0] != 220:
            return out
        cmds = ([f"EHLO {helo}"] if helo is not None else [])
        cmds += list(extra) if extra else [f"MAIL FROM:<{sender}>", f"RCPT TO:<{rcpt}>"]
        for c in cmds:
            r = smtp.command(c)
            out.append(r)
            if r is None:
                return out
            if c.startswith("DATA") and r[0] == 354:
                smtp.sock.sendall(b"Subject: test\r\n\r\nhello\r\n.\r\n")
                out.append(smtp.read_reply())
        smtp.command("QUIT")
    finally:
        smtp.close()
    return out


def drive(inst) -> None:
    """Every session of SESSIONS, then the command-specific forms."""
    for svc, addr, name, helo, sender, rcpt, _note in SESSIONS:
        _session(inst, svc, addr, name, helo, sender, rcpt)
    # DATA restrictions, END-OF-MESSAGE, ETRN, VRFY
    _session(inst, "smtp", "203.0.113.50", "mail.other.test", "mail.other.test", "", "",
             ["MAIL FROM:<a@other.test>", "RCPT TO:<alice@example.test>", "DATA"])
    _session(inst, "smtp", "203.0.113.51", "mail.other.test", "mail.other.test", "", "",
             ["MAIL FROM:<a@other.test>", "RCPT TO:<alice@example.test>", "DATA"])
    _session(inst, "smtp", "203.0.113.52", "mail.other.test", "mail.other.test", "", "",
             ["ETRN example.test"])
    _session(inst, "smtp", "203.0.113.53", "mail.other.test", "mail.other.test", "", "",
             ["VRFY x@elsewhere.test"])
    # accepted mail: delivered (discard), and relayed for a client of
    # mynetworks to a domain that has no DNS here (the smtp client logs
    # status=bounced or status=deferred)
    _session(inst, "smtp", "203.0.113.60", "mail.other.test", "mail.other.test", "", "",
             ["MAIL FROM:<a@other.test>", "RCPT TO:<alice@example.test>", "DATA"])
    _session(inst, "smtp", "192.0.2.10", "client.example.test", "client.example.test", "", "",
             ["MAIL FROM:<>", "RCPT TO:<someone@remote.invalid>", "DATA"])
    # SASL authentication failure (the harness's Dovecot socket refuses every AUTH)
    cred = base64.b64encode(b"\0user\0secret").decode()
    _session(inst, "submission", "203.0.113.54", "mail.other.test", "mail.other.test", "", "",
             [f"AUTH PLAIN {cred}"])


@contextmanager
def real_maillog():
    """(config dir, mail log text, running instance) of a real smtpd driven
    through SESSIONS."""
    from tests.oracle import postfix_instance as pi

    saved = pi._DROPPED_OVERRIDES
    pi._DROPPED_OVERRIDES = set()  # keep syslog_name: the service shows in the process name
    try:
        with scenario_dir() as d:
            with pi.PostfixInstance(d) as inst:
                drive(inst)
                inst.wait_for_log("SASL PLAIN authentication failed")
                inst.wait_for_log("<someone@remote.invalid>, relay=", timeout=20)
                time.sleep(0.3)
                text = inst.maillog.read_text(errors="replace")
                yield d, text, inst
    finally:
        pi._DROPPED_OVERRIDES = saved
