"""The configuration API (load_config, Config, ParamView, Service).

The values themselves are checked against postconf in
tests/oracle/test_postconf.py; these tests pin down the API that the other
parts of the engine use: sources, service views, lists, booleans, errors as
values.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import need_postfix
from tui.core.config import ConfigError, load_config, read_logical_lines, split_nameval
from tui.core.model import Source

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "config"


def write(tmp_path: Path, main: str, master: str = "") -> Path:
    (tmp_path / "main.cf").write_text(main)
    (tmp_path / "master.cf").write_text(master)
    return tmp_path


def test_logical_lines_continuations_and_comments():
    diags = []
    lines = read_logical_lines(
        "a = 1\n  2\n# c\n\n   # indented comment\n\t3\nb = x # y\n", "main.cf", diags)
    assert [(l.text, l.line, l.last_line) for l in lines] == [
        ("a = 1  2\t3", 1, 6), ("b = x # y", 7, 7)]
    assert lines[0].line_at(len("a = 1  2")) == 6
    assert diags == []


def test_leading_whitespace_line_is_skipped_with_warning():
    diags = []
    lines = read_logical_lines("  x = 1\n  y\nz = 2\n", "main.cf", diags)
    assert [l.text for l in lines] == ["z = 2"]
    assert diags[0].line == 1 and "must not start with whitespace" in diags[0].message


def test_split_nameval_errors():
    assert split_nameval("  a  =  b c  ") == ("a", "b c")
    assert split_nameval("a=") == ("a", "")
    assert split_nameval("= b") == "missing attribute name"
    assert split_nameval("a b") == "missing '=' after attribute name"


def test_sources_and_values(tmp_path):
    d = write(tmp_path, "myhostname = mx.example.org\nrelay_domains = $mydestination\n"
                        "compatibility_level = 2\n",
              "smtp inet n - n - - smtpd\nsubmission inet n - n - - smtpd\n"
              "  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject\n"
              "  -o { smtpd_client_restrictions = $myhostname, x }\n")
    cfg = load_config(d)
    v = cfg.params()
    assert v.raw("myhostname") == "mx.example.org"
    assert v.source("myhostname") == Source("main.cf", str(d / "main.cf"), 1)
    assert v.source("relay_domains").line == 2
    assert v.expand("relay_domains") == "mx.example.org, localhost.example.org, localhost"
    assert v.source("mydomain").kind == "host"
    assert v.expand("mydomain") == "example.org"
    assert v.source("smtpd_relay_restrictions").kind == "default"
    assert v.source("smtpd_relay_restrictions").note == "compatibility_level 2"
    assert v.raw("no_such_parameter") is None and v.expand("no_such_parameter") == ""
    assert v.is_explicit("myhostname") and not v.is_explicit("mydomain")

    s = cfg.params("submission")
    assert s.get_list("smtpd_recipient_restrictions") == ["permit_sasl_authenticated", "reject"]
    src = s.source("smtpd_recipient_restrictions")
    assert (src.kind, src.line, src.service) == ("master.cf", 3, "submission")
    assert str(src) == "master.cf:3 (-o on submission)"
    assert s.source("smtpd_client_restrictions").line == 4
    assert s.get_list("smtpd_client_restrictions") == ["mx.example.org", "x"]
    assert s.main is v and v.main is v
    assert s.main.get_list("smtpd_recipient_restrictions") != s.get_list("smtpd_recipient_restrictions")
    assert s.expand("process_name") == "smtpd" and s.expand("service_name") == "submission"
    assert [x.key for x in cfg.smtpd_services()] == ["smtp/inet", "submission/inet"]
    assert cfg.service("submission").overrides["smtpd_recipient_restrictions"][0] == \
        "permit_sasl_authenticated,reject"
    with pytest.raises(ConfigError):
        cfg.params("nonexistent")


def test_lists_keep_braces_and_tables_whole(tmp_path):
    d = write(tmp_path, "smtpd_recipient_restrictions = permit_mynetworks,\n"
                        "  check_recipient_access inline:{ a@b=OK, { c@d = REJECT no } },\n"
                        "  { reject_rbl_client zen.example },reject\n"
                        "mynetworks = 127.0.0.0/8, $local_nets\n"
                        "smtpd_restriction_classes = local_nets\n"
                        "local_nets = 192.0.2.0/24 [::1]/128\n")
    v = load_config(d).params()
    assert v.get_list("smtpd_recipient_restrictions") == [
        "permit_mynetworks", "check_recipient_access",
        "inline:{ a@b=OK, { c@d = REJECT no } }", "{ reject_rbl_client zen.example }", "reject"]
    with_src = v.get_list_with_sources("mynetworks")
    assert [(t, s.line) for t, s in with_src] == [
        ("127.0.0.0/8", 4), ("192.0.2.0/24", 6), ("[::1]/128", 6)]


def test_bool_int_and_cache(tmp_path):
    d = write(tmp_path, "smtpd_helo_required = YES\nsmtpd_delay_reject = no\nsmtpd_soft_error_limit = 7\n")
    v = load_config(d).params()
    assert v.get_bool("smtpd_helo_required") is True
    assert v.get_bool("smtpd_delay_reject") is False
    assert v.get_bool("disable_vrfy_command") is False
    assert v.get_int("smtpd_soft_error_limit") == 7
    assert v.expand_result("smtpd_banner") is v.expand_result("smtpd_banner")


def test_duplicates_warn_naming_both_lines(tmp_path):
    d = write(tmp_path, "myhostname = a.example\nmydomain = example\nmyhostname = b.example\n",
              "smtp inet n - n - - smtpd -o x=1\nsmtp inet n - n - - smtpd\n")
    cfg = load_config(d)
    assert cfg.params().raw("myhostname") == "b.example"
    dup = [x for x in cfg.diagnostics if "overriding earlier entry" in x.message]
    assert len(dup) == 1 and dup[0].line == 3 and "(line 1)" in dup[0].message
    svc = [x for x in cfg.diagnostics if "duplicate service" in x.message]
    assert svc and svc[0].line == 2 and "line 1" in svc[0].message
    assert len(cfg.services) == 1 and cfg.services[0].overrides == {}


def test_syntax_errors_are_diagnostics_and_loading_goes_on(tmp_path):
    d = write(tmp_path, "myhostname = a.example\nthis is wrong\nmydomain = example\n",
              "smtp inet n - n\nsmtp inet n - n - - smtpd\nx tcp n - n - - smtpd\n")
    cfg = load_config(d)
    errors = [(Path(x.path).name, x.line, x.message) for x in cfg.diagnostics if x.severity == "error"]
    assert ("main.cf", 2, "missing '=' after attribute name: \"this is wrong\"") in errors
    assert ("master.cf", 1, "bad field count") in errors
    assert any(e[:2] == ("master.cf", 3) and e[2].startswith('invalid type field "tcp"') for e in errors)
    assert cfg.params().raw("mydomain") == "example"
    assert [s.key for s in cfg.services] == ["smtp/inet"]


def test_loop_is_an_error_value(tmp_path):
    d = write(tmp_path, "smtpd_restriction_classes = a, b\na = $b\nb = $a\n")
    v = load_config(d).params()
    assert v.expand_errors("a") == ['unreasonable macro call nesting: "a"']
    v.expand("b")  # no exception


def test_missing_main_cf_raises_config_error(tmp_path):
    with pytest.raises(ConfigError) as exc:
        load_config(tmp_path)
    assert "main.cf" in str(exc.value)
    (tmp_path / "main.cf").write_text("")
    cfg = load_config(tmp_path)  # a missing master.cf is a warning here
    assert cfg.services == [] and any("master.cf" in d.message for d in cfg.diagnostics)
    with pytest.raises(ConfigError):
        load_config(tmp_path, require_master=True)


def test_explicit_host_values(tmp_path):
    d = write(tmp_path, "compatibility_level = 2\n")
    cfg = load_config(d, hostname="box", host_values={"mynetworks": "127.0.0.0/8"})
    v = cfg.params()
    assert v.expand("myhostname") == "box.localdomain"
    assert v.expand("mydomain") == "localdomain"
    assert v.expand("mynetworks") == "127.0.0.0/8"
    assert v.source("mynetworks").kind == "host"


@pytest.mark.oracle
def test_hostname_dependent_defaults_match_postconf(tmp_path):
    """myhostname/mydomain follow the host name as postconf computes them."""
    need_postfix()
    if not shutil.which("unshare"):
        pytest.skip("unshare(1) is needed to give postconf another host name")
    write(tmp_path, "compatibility_level = 3.6\n")
    for name in ("mail.example.com", "a.b.c.example.org", "example.com", "bare"):
        r = subprocess.run(["unshare", "--uts", "sh", "-c",
                            f"hostname {name} && postconf -c {tmp_path} -x myhostname mydomain mydestination"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"cannot change the host name here: {r.stderr.strip()}")
        v = load_config(tmp_path, hostname=name).params()
        ours = "".join(f"{n} = {v.expand(n)}\n" for n in ("myhostname", "mydomain", "mydestination"))
        assert ours == r.stdout, name
