"""What smtpd checks when it starts, asked of a real smtpd: one service per
value (a master.cf -o override), each connected to once.

smtpd exits before it greets anyone, and the client sees the connection
closed, when

- a yes/no, number or time parameter it converts has a value its reader
  does not take: `true` or `1` for yes/no ("bad boolean configuration"),
  `1_000` for a number, `300x` for a time, or a value outside the
  parameter's range. Which parameters smtpd converts, and their ranges,
  are data (tui/core/data/daemon_params_3.7.json, from
  scripts/gen_daemon_params.py): a sample of them is asked again here;
- a parameter that takes words has one smtpd does not know
  (inet_protocols, notify_classes, receive_override_options,
  header_from_format, smtpd_upstream_proxy_protocol,
  smtpd_forbid_bare_newline, smtpd_tls_security_level), a text is
  shorter or longer than smtpd takes (an empty header_from_format, three
  VERP delimiters), or maillog_file begins with none of
  maillog_file_prefixes;
- a check every Postfix daemon makes first fails: myhostname or mydomain
  not a valid host name, default_privs or mail_owner no user of this host
  or root's, setgid_group no group or root's, two of them sharing an ID,
  an inet_interfaces address this host lacks or inet_protocols turns off,
  syslog_facility no facility syslog knows,
  relayhost the same as myhostname, myorigin more than one word (a /file
  value: its first line, which must not be empty), VERP delimiters that
  verp_delimiter_filter does not allow;
- a map list it opens (local_recipient_maps, virtual_alias_maps,
  smtpd_sender_login_maps, ..., smtpd_command_filter,
  smtpd_reject_footer_maps) has an entry that is not type:name:
  `static:Footer from a table` is four entries, and `from` is no table.

The engine's trace gives the real smtpd's answer, its deciding step names
the -o line and says the fatal line smtpd logged, and lint reports it for
that service alone. Values smtpd takes (a value kept whole by braces, an
unknown table type, parameters only other daemons read) start.
"""
from __future__ import annotations

import random

import pytest

from tests.oracle.conftest import SCRATCH_MAIN_CF, machine_resolver, scratch_instance
from tui.core.analysis.lint import startup_warnings
from tui.core.config import load_config
from tui.core.postfix.mail_conf import typed_params
from tui.core.smtpd import evaluate
from tui.core.trace import Transaction

pytestmark = pytest.mark.oracle

MAIN_CF = SCRATCH_MAIN_CF + "local_recipient_maps =\n"

# (parameter, value, does smtpd start?)
TYPED = [
    ("smtpd_delay_reject", "YES", True), ("smtpd_delay_reject", "true", False),
    ("smtpd_helo_required", "1", False), ("smtputf8_enable", "No", True),
    ("smtpd_recipient_limit", "+5", True), ("smtpd_recipient_limit", "0", False),
    ("smtpd_recipient_limit", "1_000", False), ("smtpd_recipient_limit", "2147483648", False),
    ("reject_code", "5xx", False), ("unknown_local_recipient_reject_code", "-550", True),
    ("message_size_limit", "2147483648", True), ("message_size_limit", "99999999999999999999", False),
    ("smtpd_timeout", "300sx", True), ("smtpd_timeout", "5m", True), ("smtpd_timeout", "300x", False),
    ("smtpd_timeout", "0", False), ("smtpd_timeout", "24855w", False),
    ("in_flow_delay", "10", True), ("in_flow_delay", "11s", False),
    ("smtpd_forbid_bare_newline_reject_code", "600", False),
    ("line_length_limit", "511", False), ("line_length_limit", "512", True),
]
# parameters that take words, and text of a minimum length
WORDS = [
    ("inet_protocols", "ipv4, ipv6", True), ("inet_protocols", "all", True), ("inet_protocols", "IPv4", False),
    ("inet_protocols", "ipv5", False), ("inet_protocols", "", False),
    ("notify_classes", "bounce delay,2bounce", True), ("notify_classes", "", True),
    ("notify_classes", "Resource", False), ("notify_classes", "bounced", False),
    ("receive_override_options", "no_milters,no_header_body_checks", True),
    ("receive_override_options", "NO_ADDRESS_MAPPINGS", False), ("receive_override_options", "no_address_mapping", False),
    ("header_from_format", "Standard", True), ("header_from_format", "new", False), ("header_from_format", "", False),
    ("smtpd_upstream_proxy_protocol", "", True), ("smtpd_upstream_proxy_protocol", "HAProxy", False),
    ("smtpd_forbid_bare_newline", "Normalize", True), ("smtpd_forbid_bare_newline", "reject", True),
    ("smtpd_forbid_bare_newline", "maybe", False), ("smtpd_forbid_bare_newline", "", False),
    ("smtpd_tls_security_level", "MAY", True), ("smtpd_tls_security_level", "none", True),
    ("smtpd_tls_security_level", "dane", False), ("smtpd_tls_security_level", "bogus", False),
    ("default_verp_delimiters", "", False), ("default_verp_delimiters", "+=-", False),
    ("maillog_file", "mail.log", False), ("default_rbl_reply", "", False), ("smtpd_expansion_filter", "", False),
]
# what every daemon checks first (mail_params_init): syslog facility, host
# names, users and groups of this host (Debian's: nobody and nogroup share a group ID),
# relayhost against myhostname, myorigin (Debian reads a /file value's
# first line), VERP delimiters
MAIL_PARAMS = [
    ("default_privs", "pfxnosuchuser", False), ("default_privs", "root", False),
    ("default_privs", "postfix", False), ("default_privs", "daemon", True),
    ("mail_owner", "nobody", False), ("mail_owner", "pfxnosuchuser", False),
    ("setgid_group", "pfxnosuchgroup", False), ("setgid_group", "root", False),
    ("setgid_group", "nogroup", False),
    ("relayhost", "$myhostname", False), ("relayhost", "MX.Example.COM", False),
    ("relayhost", "[$myhostname]", True),
    ("myorigin", "example.com example.org", False), ("myorigin", "example.com,example.org", False),
    ("myorigin", "__DIR__/mailname", True), ("myorigin", "__DIR__/mailname_comment", False),
    ("myorigin", "__DIR__/mailname_empty", False), ("myorigin", "__DIR__/nosuchfile", False),
    ("myorigin", "__DIR__/mailname_two", False),
    ("myhostname", "-bad.example.com", False), ("mydomain", "example..com", False),
    ("myhostname", "under_score.example.com", True),
    ("default_verp_delimiters", "ab", False), ("default_verp_delimiters", "+a", False),
    ("verp_delimiter_filter", "x", False), ("verp_delimiter_filter", "+=-x", True),
    ("syslog_facility", "bogus", False), ("syslog_facility", "MAIL", False), ("syslog_facility", "security", False),
    ("syslog_facility", "local7", True),
    ("inet_interfaces", "192.0.2.77", False), ("inet_interfaces", "127.0.0.1, [127.0.0.1]", True),
    ("inet_interfaces", "::1", False), ("inet_interfaces", "loopback-only", True),
]
FILES = {"mailname": "  mail.example.com \n", "mailname_comment": "# a comment\nexample.net\n",
         "mailname_empty": "\nexample.net\n", "mailname_two": "  a.example b.example \n"}
MAPS = [
    ("smtpd_reject_footer_maps", "static:Footer from a table", False),
    ("virtual_alias_maps", "hash", False),
    ("smtpd_sender_login_maps", "hash:", False),
    ("smtpd_command_filter", "nocolon", False),
    ("local_recipient_maps", ":nothing", False),
    ("smtpd_reject_footer_maps", "static:{Footer from a table}", True),
    ("smtpd_reject_footer_maps", "nosuchtype:x", True),
]


def _sample() -> list[tuple[str, str, bool]]:
    """Four parameters of each kind the data names, with a value none of the
    readers takes; and yes/no parameters of local(8), which smtpd does not
    read."""
    typed = typed_params("smtpd")
    rng = random.Random(2026)
    by_kind: dict[str, list[str]] = {}
    for name, kind, _lo, _hi in typed:
        by_kind.setdefault(kind, []).append(name)
    picked = [n for kind in sorted(by_kind) for n in rng.sample(by_kind[kind], min(4, len(by_kind[kind])))]
    others = ["biff", "expand_owner_alias"]
    assert not set(others) & {n for n, *_rest in typed}
    return [(n, "true", False) for n in picked] + [(n, "true", True) for n in others]


CASES = TYPED + WORDS + MAIL_PARAMS + MAPS + _sample()
MASTER_CF = "smtp      inet  n       -       n       -       -       smtpd\n" + "".join(
    f"127.0.0.1:{2700 + i} inet n - n - - smtpd\n  -o {{ {name} = {value} }}\n"
    for i, (name, value, _starts) in enumerate(CASES))
TX = dict(client_address="198.51.100.20", client_name="mail.example.net", helo="mail.example.net",
          sender="a@example.net", recipient="postmaster@example.com")


@pytest.fixture(scope="module")
def setup():
    with scratch_instance("pfx-startup-", MAIN_CF, MASTER_CF, FILES) as got:
        yield got


@pytest.mark.parametrize("i", range(len(CASES)), ids=[f"{n}={v}" for n, v, _s in CASES])
def test_smtpd_starts_or_exits_as_the_engine_says(setup, i):
    cfg, inst = setup
    name, value, starts = CASES[i]
    service = f"127.0.0.1:{2700 + i}"
    real = inst.query(service, **TX)
    config = load_config(str(cfg))
    tr = evaluate(config, Transaction(**TX), service=service, resolver=machine_resolver())
    assert (tr.code, tr.reply, tr.stage) == (real.code, real.reply, real.stage)
    assert (real.code != 0) == starts, real
    said = [w for w in startup_warnings(config) if w.message.startswith(service + "/")]
    if starts:
        assert all(s.parameter != "smtpd startup" for s in tr.steps) and said == []
        return
    d = tr.decided_by
    # the step names the -o line that set the parameter
    assert d.parameter == "smtpd startup" and d.source.service == service, d
    assert MASTER_CF.splitlines()[d.source.line - 1].strip() == f"-o {{ {name} = {value} }}", d.source
    # in the words of the fatal line this smtpd logged
    fatal = "fatal: " + d.detail.split(". smtpd exits")[0]
    # the instance runs a copy of the configuration: its messages name that main.cf
    fatal = fatal.replace(config.main_path, str(inst.etc / "main.cf"))
    assert fatal in inst.log_text(), (fatal, d)
    assert [(w.param, w.severity) for w in said] == [(name, "error")], said
