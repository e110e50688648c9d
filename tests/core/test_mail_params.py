"""mail_params_init()'s checks (tui.core.postfix.mail_params) on made-up
users and groups, and the myorigin file as Debian's Postfix reads it. The
real daemons' answers for this host's users are in
tests/oracle/test_startup_checks.py; these are the cases a test machine's
own users cannot show (two users sharing an ID, a group sharing one)."""
from __future__ import annotations

import os

import pytest

from tui.core.postfix.mail_params import (Account, Accounts, mail_params_fatal, myorigin_value,
                                          read_param_from_file, verp_delims_verify)

MAIN_CF = "/etc/postfix/main.cf"
DEFAULTS = {"myhostname": "mx.example.com", "mydomain": "example.com", "myorigin": "example.com",
            "default_privs": "nobody", "mail_owner": "postfix", "setgid_group": "postdrop",
            "relayhost": "", "default_verp_delimiters": "+=", "verp_delimiter_filter": "-=+",
            "syslog_facility": "mail", "inet_interfaces": "all", "inet_protocols": "ipv4"}


class Fake(Accounts):
    def __init__(self, users: dict[str, tuple[int, int]], groups: dict[str, int]):
        self.users, self.groups = users, groups

    def user(self, name):
        got = self.users.get(name)
        return None if got is None else Account(name, *got)

    def user_by_id(self, uid):
        return next((n for n, (u, _g) in self.users.items() if u == uid), None)

    def group(self, name):
        return self.groups.get(name)

    def group_by_id(self, gid):
        return next((n for n, g in self.groups.items() if g == gid), None)


HOST = Fake({"nobody": (65534, 65534), "postfix": (108, 111), "daemon": (1, 1), "root": (0, 0),
             "wheelie": (500, 0), "alias": (108, 300), "same": (700, 111)},
            {"postdrop": (112), "nogroup": 65534, "root": 0, "staff": 112})


def fatal(**changed):
    values = {**DEFAULTS, **changed}
    return mail_params_fatal(values.__getitem__, MAIN_CF, HOST)


def test_a_sound_configuration_passes():
    assert fatal() is None
    assert fatal(relayhost="[mx.example.com]", myorigin="$myhostname") is None


@pytest.mark.parametrize("changed, names, message", [
    ({"myhostname": "-mx.example.com", "relayhost": "-mx.example.com"}, ("myhostname",),
     "parameter myhostname: bad parameter value: -mx.example.com"),
    ({"mydomain": "example..com"}, ("mydomain",), "parameter mydomain: bad parameter value: example..com"),
    ({"default_privs": "ghost", "mail_owner": "ghost2"}, ("default_privs",),
     "parameter default_privs: unknown user name value: ghost"),
    ({"default_privs": "root"}, ("default_privs",), "parameter default_privs: user root has privileged user ID"),
    ({"default_privs": "wheelie"}, ("default_privs",),
     "parameter default_privs: user wheelie has privileged group ID"),
    ({"mail_owner": "alias"}, ("mail_owner",), "parameter mail_owner: user alias has same user ID as postfix"),
    ({"setgid_group": "nosuch"}, ("setgid_group",), "parameter setgid_group: unknown group name: nosuch"),
    ({"setgid_group": "root"}, ("setgid_group",), "parameter setgid_group: group root has privileged group ID"),
    ({"setgid_group": "staff"}, ("setgid_group",), "parameter setgid_group: group staff has same group ID as postdrop"),
    ({"default_privs": "postfix"}, ("default_privs", "mail_owner"),
     "parameters default_privs and mail_owner specify the same user postfix"),
    ({"default_privs": "same"}, ("default_privs", "mail_owner"),
     "parameters default_privs and mail_owner: users same and postfix have the same group ID: 111"),
    ({"setgid_group": "nogroup"}, ("default_privs", "setgid_group"),
     "parameters default_privs and setgid_group: user nobody and group nogroup have the same group ID: 65534"),
    ({"default_verp_delimiters": "+a"}, ("default_verp_delimiters", "verp_delimiter_filter"),
     "parameters default_verp_delimiters and verp_delimiter_filter: bad second VERP delimiter character"),
])
def test_the_first_failed_check_names_its_parameters(changed, names, message):
    assert fatal(**changed) == (names, f"fatal: file {MAIN_CF}: {message}")


def test_an_empty_value_is_left_to_the_length_checks():
    """mail_params_init() reads these texts with a minimum length of one
    before it checks them: "bad string length 0 < 1" is the fatal, and
    mail_conf.first_startup_error() gives it."""
    assert fatal(myhostname="", relayhost="") is None
    assert fatal(mail_owner="", default_privs="nobody") is None


def test_syslog_facility_and_inet_interfaces():
    assert fatal(syslog_facility="local7") is None
    for bad in ("MAIL", "security", "bogus"):   # case-sensitive; Linux has no LOG_SECURITY
        assert fatal(syslog_facility=bad, myhostname="-x") == (
            ("syslog_facility",), f"fatal: file {MAIN_CF}: parameter syslog_facility: unrecognized value: {bad}")
    assert fatal(inet_interfaces="127.0.0.1, [127.0.0.1]") is None
    assert fatal(inet_interfaces="loopback-only") is None
    assert fatal(inet_interfaces="192.0.2.77", relayhost="mx.example.com") == (
        ("inet_interfaces",), "fatal: parameter inet_interfaces: no local interface found for 192.0.2.77")
    assert fatal(inet_interfaces="127.0.0.1 ::1") == (
        ("inet_interfaces",), "fatal: config variable inet_interfaces: host not found: ::1")
    # a host name is the daemon's to look up: no verdict here
    assert fatal(inet_interfaces="mail.example.com 192.0.2.77") is None


def test_relayhost_myorigin_and_their_order():
    assert fatal(relayhost="MX.EXAMPLE.COM", myorigin="a b") == (
        ("myhostname", "relayhost"), "fatal: myhostname and relayhost parameter settings must not be identical: "
                                     "mx.example.com")
    assert fatal(myorigin="a.example,b.example", default_verp_delimiters="xy") == (
        ("myorigin",), "fatal: myorigin parameter setting must not contain multiple values: a.example,b.example")
    # a user check comes before relayhost
    assert fatal(relayhost="mx.example.com", mail_owner="ghost")[0] == ("mail_owner",)


def test_verp_delimiters_are_counted_in_bytes():
    assert verp_delims_verify("+=", "-=+") == ""
    assert verp_delims_verify("\u00e9", "-=+") == "bad first VERP delimiter character"   # two bytes
    assert verp_delims_verify("+", "-=+") == "bad VERP delimiter character count"
    assert verp_delims_verify("+=", "+") == "bad second VERP delimiter character"


def test_myorigin_from_a_file_is_its_first_line(tmp_path):
    f = tmp_path / "mailname"
    f.write_text("  Mail.Example.COM \t\n# not read\n")
    assert myorigin_value(str(f)) == ("Mail.Example.COM", "")
    f.write_text("# a comment\nexample.net\n")
    assert myorigin_value(str(f)) == ("# a comment", "")
    assert fatal(myorigin=str(f))[1] == "fatal: myorigin parameter setting must not contain multiple values: # a comment"
    f.write_text("\nexample.net\n")
    assert myorigin_value(str(f)) == (None, f"fatal: myorigin file {f} is empty")
    f.write_text("")
    assert myorigin_value(str(f)) == (None, f"fatal: myorigin file {f} is empty")
    assert myorigin_value(str(tmp_path / "none")) == (
        None, f"fatal: {tmp_path / 'none'}: cannot open file: No such file or directory")
    assert myorigin_value("example.com") == ("example.com", "")


def test_myorigin_file_as_safe_open_sees_it(tmp_path):
    f = tmp_path / "mailname"
    f.write_text("example.org\n")
    os.link(f, tmp_path / "second")
    assert read_param_from_file(str(f)) == (None, "file has 2 hard links")
    os.unlink(tmp_path / "second")
    # a directory: its link count comes first, as in safe_open()
    links = os.stat(tmp_path).st_nlink
    assert read_param_from_file(str(tmp_path)) == (
        None, "file is a directory" if links == 1 else f"file has {links} hard links")
    # a symbolic link in a directory others may write to
    os.chmod(tmp_path, 0o777)
    os.symlink(f, tmp_path / "link")
    assert read_param_from_file(str(tmp_path / "link")) == (None, "file is a symbolic link")
    # a FIFO would make the daemon wait: not read, no verdict
    os.mkfifo(tmp_path / "fifo")
    assert read_param_from_file(str(tmp_path / "fifo")) == (None, "")
    assert myorigin_value(str(tmp_path / "fifo")) == (None, "")
    assert fatal(myorigin=str(tmp_path / "fifo")) is None


def test_a_trace_says_the_host_decides(tmp_path):
    """An smtpd that would exit over this host's users says so, and says
    that this host's user database decided (a copied configuration read
    elsewhere may get another answer there)."""
    from tui.core import dns
    from tui.core.config import load_config
    from tui.core.smtpd import evaluate
    from tui.core.trace import Transaction

    (tmp_path / "main.cf").write_text("compatibility_level = 3.6\nmyhostname = mx.example.com\n"
                                      "mydomain = example.com\ndefault_privs = pfx-no-such-user\n")
    (tmp_path / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    tr = evaluate(load_config(str(tmp_path)), Transaction(client_address="192.0.2.1", helo="h.example",
                                                          sender="a@example.net", recipient="b@example.com"),
                  resolver=dns.StaticResolver(default=dns.NOTFOUND))
    assert tr.code == 0 and tr.stage == "connect"
    assert tr.decided_by.detail.startswith(
        f"file {tmp_path}/main.cf: parameter default_privs: unknown user name value: pfx-no-such-user. ")
    assert tr.decided_by.source.line == 4
    assert any(n.startswith("default_privs is checked against this host (") for n in tr.notes)
