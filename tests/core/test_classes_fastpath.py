"""The address-resolution fast paths of tui.core.classes against the slow ones.

AddrConf reads a view's settings once; _canonicalize, is_local_name,
_domain_class and _resolve_addr use it. Each must answer exactly what the
general code (resolve_local, _domain_class_files and the reference
canonicalize and _resolve_addr below, the code before the fast paths)
answers.
"""
from __future__ import annotations

import ipaddress

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tui.core.cache import TableCache, TableFailure, is_table
from tui.core.config.params import param, param_bool
from tui.core.postfix.mail_params import read_myorigin
from tui.core.postfix.addr_conf import (CLASS_ALIAS, CLASS_DEFAULT, CLASS_LOCAL, addr_conf,
                                        is_local_name)
from tui.core.postfix.mail_addr import mail_addr_keys, strip_extension
from tui.core.postfix.quote_822_local import is_dot_string, quote_822_local
from tui.core.postfix.match_list import (expand_patterns, parent_style, _ipv4_int, _namadr_list_match,
                                         _namadr_plan, _namadr_plan_match)
from tui.core.postfix.resolve_local import resolve_local
from tui.core.postfix.valid_hostname import valid_literal, valid_hostname
from tui.core.rewrite.canonicalize import canonicalize
from tui.core.rewrite.resolve import (Resolved, domain_class as _domain_class, _domain_class_files,
                                      resolve_addr as _resolve_addr, _transport_lookup)
from tui.core.config import load_config

_BASE = ("compatibility_level = 3.6\nmyhostname = mail.example.org\nmydomain = example.org\n"
         "myorigin = $mydomain\n")

CONFIGS = {
    "plain": (
        "mydestination = $myhostname, localhost, !neg.example, neg.example, Upper.Example\n"
        "virtual_alias_domains = alias.example, !alias2.example, hash:{d}/valias\n"
        "virtual_mailbox_domains = hash:{d}/vdomains, mbox2.example\n"
        "relay_domains = relay.example, hash:{d}/rdomains\n"
        "virtual_transport = lmtp:unix:private/dovecot\nrecipient_delimiter = +-\n"
    ),
    "flags": (
        "swap_bangpath = no\nallow_percent_hack = no\nappend_at_myorigin = no\n"
        "append_dot_mydomain = yes\nresolve_null_domain = yes\nallow_min_user = yes\n"
        "resolve_numeric_domain = yes\nrelayhost = [gw.example]\n"
        "parent_domain_matches_subdomains =\nshow_user_unknown_table_name = no\n"
        "mydestination = localhost.$mydomain, localhost\n"
        "virtual_alias_domains = hash:{d}/valias\n"
        "relay_domains = .relay.example, relay.example\n"
        "empty_address_recipient = postmaster\nrecipient_delimiter = +\n"
    ),
    "table_mydestination": (
        "mydestination = $myhostname, hash:{d}/localdoms\n"
        "virtual_mailbox_domains = mbox.example\n"
        "relay_domains = hash:{d}/rdomains\n"
    ),
    "file_lists": (
        "mydestination = $myhostname, localhost\n"
        "relay_domains = {d}/relayfile, other.example\n"
        "virtual_alias_domains = !{d}/aliasfile\n"
    ),
    "myorigin_file": (
        "myorigin = {d}/mailname\n"
        "mydestination = $myhostname\n"
        "virtual_alias_domains = alias.example\n"
    ),
}

DOMAINS = ["mail.example.org", "localhost", "neg.example", "upper.example", "alias.example",
           "alias2.example", "va.example", "vd.example", "mbox2.example", "mbox.example",
           "relay.example", "sub.relay.example", "rd.example", "sub.rd.example", "other.example",
           "ld.example", "file.example", "example.org", "nowhere.example", "x", "[127.0.0.1]",
           "[192.0.2.1]", "192.0.2.1", "bad_dom!", "localhost.example.org", "LocalHost",
           "mail.example.org.", "a..b", ""]


class _Env:
    def __init__(self, cfg):
        self.view = cfg.params()
        self.main = self.view
        self.tables = TableCache()


def _env(tmp_path, name):
    d = tmp_path
    (d / "valias").write_text("va.example x\n@alias.example y\n")
    (d / "vdomains").write_text("vd.example x\n")
    (d / "rdomains").write_text("rd.example x\n")
    (d / "localdoms").write_text("ld.example x\n")
    (d / "relayfile").write_text("file.example\n# c\n!sub.file.example\n")
    (d / "aliasfile").write_text("alias.example\n")
    (d / "mailname").write_text("# name\nOrigin.Example\n")
    (d / "main.cf").write_text(_BASE + CONFIGS[name].format(d=d))
    (d / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    return _Env(load_config(d))


_LOCAL = st.one_of(st.text(alphabet="abAB-_.!%@<>:+", max_size=8),
                   st.sampled_from(["postmaster", "owner-x", "x-request", "a+b", "a-b+c", "-x"]))
_ADDR = st.one_of(
    st.text(alphabet="abAB-_.!%@<>[]:1 \t\u00a0\u0130\u212a", max_size=24),
    st.builds(lambda p, l, d, q: p + l + "@" + d + q, st.sampled_from(["", " ", "<", "@", "\u00a0"]),
              _LOCAL, st.sampled_from(DOMAINS), st.sampled_from(["", " ", ">", ".", "\u00a0"])),
    st.builds(lambda l, d: l + "@" + d, _LOCAL, st.sampled_from(DOMAINS)),
    st.builds(lambda l, d, e: l + "%" + d + "@" + e, _LOCAL, st.sampled_from(DOMAINS),
              st.sampled_from(DOMAINS)),
    st.builds(lambda d, l: d + "!" + l, st.sampled_from(DOMAINS), _LOCAL),
    st.builds(lambda l, d: "<@r.example:" + l + "@" + d + ">", _LOCAL, st.sampled_from(DOMAINS)),
)


def _outcome(fn, *args):
    try:
        return ("ok", fn(*args))
    except TableFailure as exc:
        return ("fail", exc.table, exc.message, list(exc.lookups))


def _mail_addr_keys(env, view, address: str, strategy: str) -> list[tuple[str, bool]]:
    """mail_addr_keys as it was before AddrConf (read every setting anew),
    each key with a local part asked as mail_addr_find.c's find_addr() asks
    it: quoted first (quote_822_local), then as it is when that differs."""
    def find_addr(key: str, partial: bool, bare_localpart: bool = False) -> list[tuple[str, bool]]:
        ext = quote_822_local(key, bare_localpart)
        return [(ext, partial), (key, partial)] if ext != key else [(key, partial)]

    a = address
    delim = param(view, "recipient_delimiter")
    bare = strip_extension(a, delim)
    keys: list[tuple[str, bool]] = find_addr(a, False)
    if bare != a:
        keys += find_addr(bare, True)
    if "@" not in a:
        return keys
    local, dom = a.rsplit("@", 1)
    bare_local = bare.rsplit("@", 1)[0]
    if strategy == "default":
        is_local = dom == read_myorigin(view)
        if not is_local:
            try:
                is_local = resolve_local(env, view, dom, []) > 0
            except TableFailure:
                is_local = False
        if is_local:
            keys += find_addr(local, True, True)
            if bare_local != local:
                keys += find_addr(bare_local, True, True)
        keys.append(("@" + dom, True))
        return keys
    # access strategy
    parent = parent_style(view, "smtpd_access_maps")
    name = dom
    while name:
        keys.append((name, True))
        nxt = name.find(".", 1)
        if nxt < 0:
            break
        name = name[nxt + 1:] if parent else name[nxt:]
    keys += find_addr(local + "@", True)
    if bare_local != local:
        keys += find_addr(bare_local + "@", True)
    return keys


def _reference_canonicalize(view, addr: str, rescanned: bool = False) -> str:
    """classes.canonicalize as it was before AddrConf (read every setting anew),
    with its rule for a quoted local part (no swap in one quoted token)."""
    _get = param

    def _bool(view, name, _default):   # the default of the parameter itself applies
        return param_bool(view, name)
    a = addr.strip()
    if not a:
        return ""
    if a.startswith("@") and ":" in a:
        a = a.split(":", 1)[1]
    if "@" not in a and (rescanned or is_dot_string(a)):
        if _bool(view, "swap_bangpath", True) and "!" in a:
            host, user = a.split("!", 1)
            a = f"{user}@{host}"
        elif _bool(view, "allow_percent_hack", True) and "%" in a:
            i = a.rfind("%")
            a = a[:i] + "@" + a[i + 1:]
    if "@" not in a:
        if _bool(view, "append_at_myorigin", True):
            a = a + "@" + read_myorigin(view)
    else:
        local, dom = a.rsplit("@", 1)
        if dom and "." not in dom and not dom.startswith("[") and _bool(view, "append_dot_mydomain", False):
            md = _get(view, "mydomain").lower()
            if md:
                a = f"{local}@{dom}.{md}"
    if a.endswith(".") and not a.endswith("..") and not a.endswith("@."):
        a = a[:-1]
    return a


def _reference_resolve_addr(env, addr: str, with_transport: bool = True) -> Resolved:
    """classes._resolve_addr as it was before AddrConf (read every setting anew)."""
    view = env.main
    _get = param

    def _bool(view, name, _default):   # the default of the parameter itself applies
        return param_bool(view, name)
    lookups: list = []
    a = _reference_canonicalize(view, addr).lower()
    if not a:
        empty = _get(view, "empty_address_recipient") or "MAILER-DAEMON"
        a = _reference_canonicalize(view, empty).lower()
    saved_domain = None
    for _ in range(len(a) + 100):
        if a.endswith(".") and "@" in a and not a.endswith("..") and not a.endswith("@."):
            a = a[:-1]
        if _bool(view, "resolve_null_domain", False) and a.endswith("@"):
            a = a[:-1]
        if "@" in a:
            local, dom = a.rsplit("@", 1)
            if not dom or resolve_local(env, view, dom, lookups) <= 0:
                break
            a = local
            saved_domain = dom
        quoted = "@" not in a and a != "" and not is_dot_string(a)
        if not quoted and ("@" in a or (_bool(view, "swap_bangpath", True) and "!" in a)
                           or (_bool(view, "allow_percent_hack", True) and "%" in a)):
            a = _reference_canonicalize(view, a).lower()
            continue
        if quoted and _bool(view, "resolve_dequoted_address", True):
            if _bool(view, "allow_percent_hack", True) and "%" in a:
                i = a.rfind("%")
                a = _reference_canonicalize(view, a[:i] + "@" + a[i + 1:]).lower()
                continue
            if _bool(view, "swap_bangpath", True) and "!" in a:
                a = _reference_canonicalize(view, a, rescanned=True).lower()
                continue
        if not a:
            a = _reference_canonicalize(view, _get(view, "empty_address_recipient") or "MAILER-DAEMON").lower()
            continue
        if saved_domain is None and "@" not in a:
            a = a + "@" + _get(view, "myhostname").lower()
            continue
        break
    domain_is_local = "@" not in a
    if domain_is_local:
        a = a + "@" + (saved_domain or _get(view, "myhostname").lower())
    rcpt_domain = a.rsplit("@", 1)[1]
    res = Resolved(recipient=a, address_class=CLASS_DEFAULT, domain=rcpt_domain, lookups=lookups)
    if rcpt_domain.startswith("["):
        if not valid_literal(rcpt_domain):
            res.error = True
            return res
    elif not valid_hostname(rcpt_domain):
        try:
            ipaddress.ip_address(rcpt_domain)
            is_addr = True
        except ValueError:
            is_addr = False
        if is_addr and _bool(view, "resolve_numeric_domain", False):
            res.recipient = a = a.rsplit("@", 1)[0] + "@[" + rcpt_domain + "]"
            rcpt_domain = res.domain = "[" + rcpt_domain + "]"
            if resolve_local(env, view, rcpt_domain, lookups) > 0:
                domain_is_local = True
        else:
            res.error = True
            return res
    local_part_end = min([i for i in (a.find("@"), a.find("!"), a.find("%")) if i >= 0])
    if a[local_part_end + 1:] != rcpt_domain:
        res.routed = True
    if not domain_is_local:
        try:
            (res.address_class, res.class_pattern, res.transport, res.nexthop,
             res.transport_source, dlk) = _domain_class_files(env, view, rcpt_domain)
        except TableFailure as exc:
            lookups.extend(exc.lookups)
            exc.lookups = lookups
            raise
        lookups.extend(dlk)
        if res.address_class == CLASS_ALIAS:
            if res.recipient.startswith("-") and not _bool(view, "allow_min_user", False):
                res.error = True
            return res
    else:
        res.address_class = CLASS_LOCAL
        res.transport = _get(view, "local_transport")
        res.nexthop = rcpt_domain
        res.transport_source = "local_transport"
    if ":" in res.transport:
        ch, dest = res.transport.split(":", 1)
        res.transport = ch
        if dest:
            res.nexthop = dest
    if with_transport and res.address_class != CLASS_ALIAS:
        _transport_lookup(env, res, lookups)
    if res.recipient.startswith("-") and not _bool(view, "allow_min_user", False):
        res.error = True
    return res


_SETTINGS = settings(max_examples=250, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_conf_fast_paths_match_the_general_code(tmp_path, name):
    env = _env(tmp_path, name)
    view = env.view
    conf = addr_conf(env, view)
    assert addr_conf(env, view) is conf          # kept in config_memo
    assert (conf.local_map is None) == (name == "table_mydestination")
    assert (conf.class_lists is None) == (name == "file_lists")
    for dom in DOMAINS + [d.upper() for d in DOMAINS]:
        if conf.local_map is not None and "[" not in dom:
            assert is_local_name(conf.local_map, dom) == (resolve_local(env, view, dom, []) > 0), dom
        if dom:
            assert _outcome(_domain_class, env, view, dom.lower()) == \
                _outcome(_domain_class_files, env, view, dom.lower()), dom

    @_SETTINGS
    @given(_ADDR)
    def check(addr):
        assert canonicalize(view, addr, conf) == _reference_canonicalize(view, addr)
        for wt in (False, True):
            assert _outcome(_resolve_addr, env, addr, wt) == \
                _outcome(_reference_resolve_addr, env, addr, wt), (addr, wt)

    check()


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_mail_addr_keys_match_the_general_code(tmp_path, name):
    env = _env(tmp_path, name)
    view = env.view

    @_SETTINGS
    @given(_ADDR)
    def check(addr):
        for strategy in ("access", "default"):
            want = _mail_addr_keys(env, view, addr, strategy)
            assert mail_addr_keys(env, view, addr, strategy) == want, (addr, strategy)
            assert mail_addr_keys(env, view, addr, strategy) == want, (addr, strategy)  # memo

    check()


_NAMADR_ITEMS = ["127.0.0.0/8", "10.0.0.0/8", "!192.0.2.7", "192.0.2.0/24", "[2001:db8::]/32",
                 "2001:DB8::/32", ".trusted.example", "host.example", "10.1.2.3", "[10.1.2.4]",
                 "10.0.0.1/8", "bad/mask", "[::1]", "::1", "example.com", "!example.org", "[]",
                 "[", "!0.0.0.0/0", "::/0", "10.0.0.0/33", "[192.0.2.0]/25", "::ffff:10.0.0.0/104",
                 "!", "Upper.Example"]
_OCTET = st.one_of(st.integers(0, 300).map(str), st.sampled_from(["00", "01", "007", "", "1a", "ff"]))
_CLIENT_ADDR = st.one_of(
    st.builds(lambda *o: ".".join(o), _OCTET, _OCTET, _OCTET, _OCTET),
    st.sampled_from(["10.1.2.3", "10.1.2.4", "192.0.2.7", "192.0.2.8", "127.0.0.1", "::1",
                     "2001:db8::5", "2001:DB8::5", "::ffff:10.1.2.3", "fe80::1%eth0", "", "unknown",
                     "1.2.3", "1.2.3.4.5", "example.com"]),
    st.text(alphabet="0123456789abcdefABCDEF.:[]", max_size=16),
)
_CLIENT_NAME = st.one_of(
    st.sampled_from(["unknown", "host.example", "a.trusted.example", "trusted.example", "example.com",
                     "sub.example.com", "www.example.org", "example.org", "10.1.2.3", "upper.example",
                     "HOST.EXAMPLE", ""]),
    st.text(alphabet="ab.", max_size=6),
)


@_SETTINGS
@given(st.lists(st.sampled_from(_NAMADR_ITEMS), max_size=4), _CLIENT_NAME, _CLIENT_ADDR, st.booleans())
def test_namadr_plan_matches_the_general_code(items, name, addr, parent):
    plan = _namadr_plan(items)
    if plan is False:   # "2001:db8::/32" and "::1" are table names to Postfix's match lists
        assert any(is_table(i.lstrip("!")) for i in items)
        return
    name, addr = name.lower(), addr.lower()
    m = _namadr_list_match(None, None, expand_patterns(items), name, addr, parent, [])
    assert _namadr_plan_match(plan, name, addr, parent) == (m.matched, m.pattern, m.error)


def _ipv4_want(addr: str):
    try:
        return int(ipaddress.IPv4Address(addr))
    except ValueError:
        return None


def test_ipv4_int_matches_ipaddress():
    for o in ["0", "1", "00", "01", "001", "010", "255", "256", "300", "1000", "", "1a", "0x1", " 1",
              "1 ", "+1", "-1", "١", "1\x00", "1e2"]:
        for addr in (f"{o}.2.3.4", f"1.2.3.{o}", f"{o}.{o}.{o}.{o}", f"1.{o}.3", f"1.2.3.4.{o}"):
            assert _ipv4_int(addr) == _ipv4_want(addr), addr


@_SETTINGS
@given(st.one_of(st.text(alphabet="0123456789.", max_size=16),
                 st.builds(lambda *o: ".".join(o), _OCTET, _OCTET, _OCTET, _OCTET)))
def test_ipv4_int_matches_ipaddress_on_any_dotted_text(addr):
    assert _ipv4_int(addr) == _ipv4_want(addr)
