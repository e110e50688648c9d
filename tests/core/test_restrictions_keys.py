"""Lookup key order (pure): access(5) and mail_addr_find() search orders."""
from __future__ import annotations

from tui.core.cache import TableCache
from tui.core.postfix.mail_addr import mail_addr_keys, strip_extension
from tui.core.config import load_config


class _Env:
    def __init__(self, cfg):
        self.view = cfg.params()
        self.main = self.view
        self.tables = TableCache()


def _env(tmp_path, extra=""):
    (tmp_path / "main.cf").write_text(
        "compatibility_level = 3.6\nmyhostname = mail.example.org\nmydomain = example.org\n"
        "myorigin = $mydomain\nmydestination = $myhostname, localhost\n"
        "recipient_delimiter = +\n" + extra)
    (tmp_path / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    return _Env(load_config(tmp_path))


def test_access_order_with_parent_domain_matching(tmp_path):
    env = _env(tmp_path)
    keys = [k for k, _ in mail_addr_keys(env, env.view, "user+ext@sub.example.com", "access")]
    assert keys == ["user+ext@sub.example.com", "user@sub.example.com", "sub.example.com",
                    "example.com", "com", "user+ext@", "user@"]


def test_access_order_without_parent_domain_matching(tmp_path):
    env = _env(tmp_path, "parent_domain_matches_subdomains = relay_domains\n")
    keys = [k for k, _ in mail_addr_keys(env, env.view, "user@sub.example.com", "access")]
    assert keys == ["user@sub.example.com", "sub.example.com", ".example.com", ".com", "user@"]


def test_only_the_full_address_goes_to_pattern_tables(tmp_path):
    env = _env(tmp_path)
    keyed = mail_addr_keys(env, env.view, "user+ext@example.com", "access")
    assert keyed[0] == ("user+ext@example.com", False)
    assert all(partial for _k, partial in keyed[1:])


def test_recipient_table_order_local_domain(tmp_path):
    env = _env(tmp_path)
    keys = [k for k, _ in mail_addr_keys(env, env.view, "joe+x@mail.example.org", "default")]
    assert keys == ["joe+x@mail.example.org", "joe@mail.example.org", "joe+x", "joe", "@mail.example.org"]


def test_recipient_table_order_remote_domain(tmp_path):
    env = _env(tmp_path)
    keys = [k for k, _ in mail_addr_keys(env, env.view, "joe@other.example", "default")]
    assert keys == ["joe@other.example", "@other.example"]


def test_strip_extension_multiple_delimiters():
    assert strip_extension("a-b+c@x.example", "+-") == "a@x.example"
    assert strip_extension("+a@x.example", "+") == "+a@x.example"
    assert strip_extension("plain@x.example", "") == "plain@x.example"
