"""Pure parts of tui.core.classes: host name syntax, match lists, rewriting.

Address classes and recipient validation as a whole are proven against the
real smtpd by the oracle suite (tests/oracle/test_trace_oracle.py).
"""
from __future__ import annotations

import pytest

from tui.core.cache import TableCache
from tui.core.postfix.dsn import dsn_fix
from tui.core.postfix.match_list import domain_list_match, namadr_list_match
from tui.core.postfix.valid_hostname import valid_hostname
from tui.core.rewrite.canonicalize import canonicalize
from tui.core.config import load_config


@pytest.mark.parametrize("name,ok", [
    ("mail.example.org", True), ("a_b.example", True), ("localhost", True),
    ("bad_helo!", False), ("-x.example", False), ("x-.example", False), ("a..b", False),
    ("1.2.3.4", False), ("123", False), ("x.", False), ("", False), ("a" * 64 + ".example", False),
])
def test_valid_hostname(name, ok):
    assert valid_hostname(name) is ok


class _Env:
    def __init__(self, tmp_path, extra=""):
        (tmp_path / "main.cf").write_text("compatibility_level = 3.6\nmyhostname = mail.example.org\n"
                                          "mydomain = example.org\nmyorigin = $mydomain\n" + extra)
        (tmp_path / "master.cf").write_text("smtp inet n - n - - smtpd\n")
        cfg = load_config(tmp_path)
        self.view = cfg.params()
        self.main = self.view
        self.tables = TableCache()


def test_namadr_list_first_match_wins_with_negation(tmp_path):
    env = _Env(tmp_path)
    items = ["!192.0.2.7", "192.0.2.0/24", "[2001:db8::]/32", ".trusted.example"]
    m = lambda name, addr: namadr_list_match(env.tables, env.view, items, name, addr, False, []).matched
    assert m("unknown", "192.0.2.8")
    assert not m("unknown", "192.0.2.7")
    assert m("unknown", "2001:db8::5")
    assert not m("unknown", "198.51.100.1")
    assert m("host.trusted.example", "198.51.100.1")
    assert not m("trusted.example", "198.51.100.1")      # ".domain" needs a subdomain


def test_domain_list_parent_style(tmp_path):
    env = _Env(tmp_path)
    m = lambda dom, parent: domain_list_match(env.tables, env.view, ["example.com"], dom, parent, []).matched
    assert m("sub.example.com", True)
    assert not m("sub.example.com", False)
    assert m("example.com", False)


def test_file_patterns_are_expanded_inline(tmp_path):
    env = _Env(tmp_path)
    f = tmp_path / "nets"
    f.write_text("# trusted\n10.0.0.0/8\n")
    assert namadr_list_match(env.tables, env.view, [str(f)], "unknown", "10.1.2.3", False, []).matched
    res = namadr_list_match(env.tables, env.view, [str(tmp_path / "missing")], "unknown", "10.1.2.3", False, [])
    assert not res.matched and res.error


def test_canonicalize_appends_myorigin(tmp_path):
    env = _Env(tmp_path)
    assert canonicalize(env.view, "joe") == "joe@example.org"
    assert canonicalize(env.view, "joe@host.example.") == "joe@host.example"
    assert canonicalize(env.view, "host!joe") == "joe@host"


def test_dsn_fix():
    assert dsn_fix("5.1.1", "Sender address") == "4.1.7"
    assert dsn_fix("5.1.1", "Recipient address") == "4.1.1"
    assert dsn_fix("5.7.1", "Sender address") == "5.7.1"
    assert dsn_fix("5.1.2", "Client host") == "4.0.0"
