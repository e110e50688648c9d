"""The evaluator's shortcuts give what the plain code gave.

- restrictions._parse_restrictions (a list parsed once per Config) pairs each
  restriction with its argument, position, entry text and deprecation note
  exactly as the item-by-item walk generic_checks used to do (_reference
  below is that walk's parsing, kept verbatim);
- restrictions.DISPATCH knows the names the old if-chain knew;
- Lookup/Step/Trace.make build what the dataclass constructors build.
"""
from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest
from hypothesis import given, settings, strategies as st

from tui.core import smtpd as R
from tui.core.smtpd import access as R_access
from tui.core.smtpd import state as R_state
from tui.core.smtpd import walk as R_walk
from tui.core.smtpd.registry import DOMAIN, TABLE

# the old dispatch tables, as the restriction registry now holds them
DISPATCH = {n: r.handler for n, r in R.RESTRICTIONS.items()}
ACCESS_CHECKS = {n for n, r in R.RESTRICTIONS.items() if r.arg == TABLE}
DOMAIN_ARG = {n for n, r in R.RESTRICTIONS.items() if r.arg == DOMAIN}
DEPRECATED = R.deprecated_names()
from tui.core.model import Source
from tui.core.smtpd.state import _StepB
from tui.core.trace import Lookup, Step, Trace, Transaction

# restriction names lint reported before DISPATCH existed (read from the
# if-chain of Evaluator.one() and generic_checks())
OLD_NAMES = {
    'check_ccert_access', 'check_client_a_access', 'check_client_access', 'check_client_mx_access',
    'check_client_ns_access', 'check_etrn_access', 'check_helo_a_access', 'check_helo_access',
    'check_helo_mx_access', 'check_helo_ns_access', 'check_policy_service', 'check_recipient_a_access',
    'check_recipient_access', 'check_recipient_maps', 'check_recipient_mx_access',
    'check_recipient_ns_access', 'check_relay_domains', 'check_reverse_client_hostname_a_access',
    'check_reverse_client_hostname_access', 'check_reverse_client_hostname_mx_access',
    'check_reverse_client_hostname_ns_access', 'check_sasl_access', 'check_sender_a_access',
    'check_sender_access', 'check_sender_mx_access', 'check_sender_ns_access', 'defer',
    'defer_if_permit', 'defer_if_reject', 'defer_unauth_destination', 'permit', 'permit_auth_destination',
    'permit_dnswl_client', 'permit_inet_interfaces', 'permit_mx_backup', 'permit_mynetworks',
    'permit_naked_ip_address', 'permit_rhswl_client', 'permit_sasl_authenticated',
    'permit_tls_all_clientcerts', 'permit_tls_clientcerts', 'reject',
    'reject_authenticated_sender_login_mismatch', 'reject_invalid_helo_hostname',
    'reject_invalid_hostname', 'reject_known_sender_login_mismatch', 'reject_maps_rbl',
    'reject_multi_recipient_bounce', 'reject_non_fqdn_helo_hostname', 'reject_non_fqdn_hostname',
    'reject_non_fqdn_recipient', 'reject_non_fqdn_sender', 'reject_plaintext_session', 'reject_rbl',
    'reject_rbl_client', 'reject_rhsbl_client', 'reject_rhsbl_helo', 'reject_rhsbl_recipient',
    'reject_rhsbl_reverse_client', 'reject_rhsbl_sender', 'reject_sender_login_mismatch',
    'reject_unauth_destination', 'reject_unauth_pipelining',
    'reject_unauthenticated_sender_login_mismatch', 'reject_unknown_address', 'reject_unknown_client',
    'reject_unknown_client_hostname', 'reject_unknown_helo_hostname', 'reject_unknown_hostname',
    'reject_unknown_recipient_domain', 'reject_unknown_reverse_client_hostname',
    'reject_unknown_sender_domain', 'reject_unlisted_recipient', 'reject_unlisted_sender',
    'reject_unverified_recipient', 'reject_unverified_sender', 'sleep', 'warn_if_reject',
}


def test_dispatch_knows_the_old_names():
    assert set(DISPATCH) == OLD_NAMES
    for name, h in DISPATCH.items():
        assert (h is None) == (name == "warn_if_reject"), name


def _reference(items):
    """generic_checks' own parsing before the lists were parsed once: one
    (kind, name, lname, arg, entry, pos, src, extra) per restriction."""
    out = []
    i = 0
    pos = 0
    n = len(items)
    while i < n:
        name, src = items[i]
        pos += 1
        lname = name.lower()
        if lname == "warn_if_reject":
            out.append((R_walk._R_WARN, name, lname, None, name, pos, src, None))
            i += 1
            continue
        arg = None
        if ":" in name and not lname.startswith("{"):
            out.append((R_walk._R_TABLE, name, lname, name, name, pos, src, None))
            i += 1
            continue
        entry = name
        i += 1
        if lname in ACCESS_CHECKS:
            if i >= n or ":" not in items[i][0]:
                bad = items[i][0] if i < n else ""
                out.append((R_walk._R_BAD, name, lname, None, name, pos, src,
                            f"restriction {lname}: bad argument \"{bad}\": need maptype:mapname"))
                break
            arg = items[i][0]
            entry = f"{name} {arg}"
            i += 1
        elif lname in DOMAIN_ARG or lname == "check_policy_service" or lname == "sleep":
            if i < n:
                arg = items[i][0]
                entry = f"{name} {arg}"
                i += 1
        extra = f"deprecated name (use {DEPRECATED[lname]})" if lname in DEPRECATED else None
        out.append((R_walk._R_PLAIN, name, lname, arg, entry, pos, src, extra))
    return out


_words = st.sampled_from(sorted(DISPATCH) + [
    "hash:/etc/postfix/access", "cidr:/x", "{ inline }", "{a:b}", "zen.spamhaus.org", "10",
    "myclass", "Permit_MyNetworks", "REJECT_RBL", "Check_Sender_Access", "inet:127.0.0.1:1",
    "bogus_name", "Warn_If_Reject", "CHECK_RELAY_DOMAINS",
])
_sources = st.sampled_from([None, Source("default"), Source("main.cf", None, 3)])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(_words, _sources), max_size=14))
def test_parse_is_the_walks_parse(items):
    parsed = R_walk._parse_restrictions(tuple(items))
    ref = _reference(items)
    assert [(k, name, lname, arg, entry, pos, src, extra)
            for k, name, lname, _h, arg, entry, pos, src, extra in parsed] == ref
    for k, _name, lname, h, *_ in parsed:
        if k == R_walk._R_PLAIN:
            assert h is DISPATCH.get(lname)


def test_parsed_lists_are_kept_by_identity():
    memo: dict = {}
    items = (("permit_mynetworks", None), ("reject", None))
    first = R_walk._parsed_restrictions(memo, items)
    assert R_walk._parsed_restrictions(memo, items) is first
    same_text = tuple(list(items))
    assert R_walk._parsed_restrictions(memo, same_text) == first
    as_list = list(items)
    assert R_walk._parsed_restrictions(memo, as_list) == first
    assert id(as_list) not in memo   # only the views' shared tuples are kept


_text = st.one_of(st.none(), st.text(max_size=8))


@settings(max_examples=100, deadline=None)
@given(_text, st.text(max_size=8), st.booleans(), _text, _text, _text, _text)
def test_lookup_make(table, key, found, value, error, where, note):
    a = Lookup.make(table, key, found, value, error, where, note)
    b = Lookup(table, key, found, value, error, where, note)
    assert a == b and hash(a) == hash(b) and vars(a) == vars(b) and list(vars(a)) == list(vars(b))
    assert a.to_json() == b.to_json() and a.result == b.result


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=8), st.text(max_size=8), st.one_of(st.none(), st.integers(1, 9)), _sources,
       st.sampled_from(("no match", "permit", "reject")), st.sampled_from(("helo", "rcpt")), _text,
       st.text(max_size=8), st.integers(0, 3), st.booleans())
def test_step_and_trace_make(parameter, entry, position, source, outcome, stage, reply, detail, depth,
                             conditional):
    lk = (Lookup("hash:/x", "k", True, "OK", None, "/x:1", None),)
    # a step as the evaluator builds it, then frozen into its Step in place
    sb = _StepB(parameter, entry, position, source, stage, depth)
    sb.outcome, sb.reply, sb.detail, sb.conditional = outcome, reply, detail, conditional
    sb.lookups.extend(lk)
    a = sb.freeze()
    b = Step(parameter, entry, position, source, outcome, stage, lk, reply, detail, depth, conditional)
    assert a is sb and type(a) is Step
    assert a == b and hash(a) == hash(b) and vars(a) == vars(b) and list(vars(a)) == list(vars(b))
    assert a.to_json() == b.to_json() and repr(a) == repr(b)
    with pytest.raises(FrozenInstanceError):
        a.outcome = "permit"
    tx = Transaction("192.0.2.1")
    args = (tx, "smtp", 250, "250 2.1.5 Ok", stage, (a,), None if depth else 0, conditional, ("e",),
            ("w",), None, ("n",))
    ta, tb = Trace.make(*args), Trace(*args)
    assert ta == tb and vars(ta) == vars(tb) and list(vars(ta)) == list(vars(tb))
    assert ta.to_json() == tb.to_json()


# ---------------------------------------------------------------- per-view parameters
from pathlib import Path  # noqa: E402

from tui.core.config.params import param_bool, param_int, param_list
from tui.core.postfix.match_list import parent_style
from tui.core.postfix.valid_hostname import valid_hostaddr
from tui.core import dns  # noqa: E402
from tui.core.config import load_config  # noqa: E402
from tui.core.smtpd import Evaluator, evaluate  # noqa: E402

_MAIN = """\
compatibility_level = {level}
myhostname = mx.example.com
mydomain = example.com
mydestination = $myhostname, localhost
inet_interfaces = 127.0.0.1
mynetworks = 127.0.0.0/8
smtpd_helo_restrictions = reject_invalid_helo_hostname
smtpd_sender_restrictions = reject_non_fqdn_sender, check_sender_access inline:{{ bad@example.net=REJECT }}
smtpd_recipient_restrictions = check_recipient_access inline:{{ x@example.com=OK, y@example.com=DUNNO }},
    reject_unlisted_recipient
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
relay_domains = relay.example
{extra}
"""

# -o settings a service may carry: every value the evaluator reads per view
_OVERRIDES = {
    "smtpd_delay_reject": ["yes", "no"],
    "smtpd_helo_required": ["yes", "no"],
    "soft_bounce": ["yes", "no"],
    "smtpd_reject_unlisted_sender": ["yes", "no"],
    "smtpd_reject_unlisted_recipient": ["yes", "no"],
    "smtpd_relay_before_recipient_restrictions": ["yes", "no"],
    "allow_untrusted_routing": ["yes", "no"],
    "smtpd_sasl_auth_enable": ["yes", "no"],
    "parent_domain_matches_subdomains": ["smtpd_access_maps", "mynetworks", "relay_domains",
                                         "smtpd_access_maps,mynetworks"],
    "mynetworks": ["127.0.0.0/8", "192.0.2.0/24", "example.net"],
    "receive_override_options": ["no_unknown_recipient_checks", "no_header_body_checks"],
    "smtpd_reject_footer": ["see http://example.com/$client_address", "\\c (footer)"],
    "smtpd_reject_footer_maps": ["inline:{ 554=mapped }", "inline:{ x=y }"],
    "relay_domains_reject_code": ["554", "450", "bogus"],
    "smtpd_client_restrictions": ["permit_mynetworks, reject", "check_client_access inline:{ 192.0.2.1=REJECT }"],
    "smtpd_recipient_restrictions": ["permit_sasl_authenticated, reject_unauth_destination",
                                     "reject_non_fqdn_recipient, permit_auth_destination, reject"],
    "smtpd_relay_restrictions": ["reject_unauth_destination", "permit_mx_backup, defer_unauth_destination"],
    "smtpd_command_filter": ["", "inline:{ x=y }"],
    "strict_rfc821_envelopes": ["yes", "no"],
    "inet_protocols": ["ipv4", "all"],
    "local_header_rewrite_clients": ["permit_inet_interfaces", "permit_mynetworks, permit_sasl_authenticated"],
}

_TXS = [
    Transaction(client_address="192.0.2.1", client_name="a.example.net", helo="a.example.net",
                sender="bad@example.net", recipient="x@example.com"),
    Transaction(client_address="127.0.0.1", client_name="localhost", helo=None,
                sender="s@example.net", recipient="bob@relay.example"),
    Transaction(client_address="192.0.2.9", client_name="unknown", helo="bad_helo!",
                sender="", recipient="y@example.com", sasl_login="u"),
    Transaction(client_address="198.51.100.3", client_name="b.example.net", helo="b.example.net",
                sender="s@sub.example.net", recipient="u@elsewhere.example"),
    Transaction(client_address="192.0.2.1", client_name="a.example.net", helo="a.example.net",
                sender="nofqdn", recipient="a%b@example.com"),
]


def _slow(view, cfg):
    """What _ViewParams holds, read the plain way."""
    def lws(name):
        try:
            return view.list_with_sources_shared(name)
        except Exception:  # pragma: no cover
            return None
    try:
        footer = view.raw("smtpd_reject_footer") or ""
    except Exception:  # pragma: no cover
        footer = ""
    raw = (view.expand("compatibility_level") or "").strip() or "0"
    try:
        parts = raw.split(".")
        level = float(parts[0] + ("." + parts[1].zfill(3) if len(parts) > 1 else ""))
    except ValueError:
        level = 0.0
    return {
        "main": getattr(view, "main", None) or cfg.params(),
        "delay_reject": param_bool(view, "smtpd_delay_reject"),
        "helo_required": param_bool(view, "smtpd_helo_required"),
        "soft_bounce": param_bool(view, "soft_bounce"),
        "reject_unlisted_sender": param_bool(view, "smtpd_reject_unlisted_sender"),
        "reject_unlisted_recipient": param_bool(view, "smtpd_reject_unlisted_recipient"),
        "relay_before_rcpt": param_bool(view, "smtpd_relay_before_recipient_restrictions"),
        "allow_untrusted_routing": param_bool(view, "allow_untrusted_routing"),
        "sasl_enable": param_bool(view, "smtpd_sasl_auth_enable"),
        "parent_access": parent_style(view, "smtpd_access_maps"),
        "parent_mynetworks": parent_style(view, "mynetworks"),
        "mynetworks": tuple(param_list(view, "mynetworks")),
        "no_unknown_rcpt_checks": "no_unknown_recipient_checks" in param_list(view, "receive_override_options"),
        "footer_maps": tuple(param_list(view, "smtpd_reject_footer_maps")),
        "footer": footer,
        "compat_level": level,
        "relay_explicit": view.is_explicit("smtpd_relay_restrictions"),
        "client_list": lws("smtpd_client_restrictions"),
        "helo_list": lws("smtpd_helo_restrictions"),
        "sender_list": lws("smtpd_sender_restrictions"),
        "recipient_list": lws("smtpd_recipient_restrictions"),
        "relay_list": lws("smtpd_relay_restrictions"),
        "src_unlisted_sender": view.source("smtpd_reject_unlisted_sender"),
        "src_unlisted_recipient": view.source("smtpd_reject_unlisted_recipient"),
        "command_filter": view.expand("smtpd_command_filter") or "",
        "strict_rfc821": param_bool(view, "strict_rfc821_envelopes"),
        "inet_protocols": view.expand("inet_protocols") or "",
        "rewrite_clients": tuple(param_list(view, "local_header_rewrite_clients")),
    }


def _setup(d: Path, level: str, extra: str, services: list[dict]) -> None:
    (d / "main.cf").write_text(_MAIN.format(level=level, extra=extra))
    lines = []
    for i, over in enumerate(services):
        name = "smtp" if i == 0 else f"127.0.0.{i}:25"
        lines.append(f"{name} inet n - n - - smtpd")
        lines.extend(f"  -o {{ {k} = {v} }}" for k, v in over.items())
    (d / "master.cf").write_text("\n".join(lines) + "\n")


_service_overrides = st.dictionaries(st.sampled_from(sorted(_OVERRIDES)), st.integers(0, 3), max_size=6)


@settings(max_examples=25, deadline=None)
@given(level=st.sampled_from(["0", "3.6"]),
       main_extra=_service_overrides,
       services=st.lists(_service_overrides, min_size=1, max_size=3),
       order=st.lists(st.tuples(st.integers(0, 2), st.integers(0, len(_TXS) - 1)), min_size=1, max_size=8))
def test_view_params_follow_each_service(tmp_path_factory, level, main_extra, services, order):
    def pick(over):
        return {k: _OVERRIDES[k][i % len(_OVERRIDES[k])] for k, i in over.items()}
    d = tmp_path_factory.mktemp("vp")
    extra = "\n".join(f"{k} = {v}" for k, v in pick(main_extra).items())
    services = [pick(s) for s in services]
    _setup(d, level, extra, services)
    names = ["smtp"] + [f"127.0.0.{i}:25" for i in range(1, len(services))]
    cfg = load_config(d)
    resolver = dns.StaticResolver(default=dns.NOTFOUND)
    # traces on one Config, services interleaved, equal traces on a fresh Config each
    for si, ti in order:
        svc = names[si % len(names)]
        got = evaluate(cfg, _TXS[ti], service=svc, resolver=resolver)
        want = evaluate(load_config(d), _TXS[ti], service=svc, resolver=resolver)
        assert got.to_json() == want.to_json()
    # what each view's memo holds is what the view says
    for svc in [None] + names + [None] + names:
        ev = Evaluator(cfg, _TXS[0], svc, resolver)
        view = cfg.params(svc) if svc else cfg.params()
        assert ev.view is view and ev.vp.view is view
        slow = _slow(view, cfg)
        for k, v in slow.items():
            assert getattr(ev.vp, k) == v, (svc, k)
        assert ev.main is slow["main"]
        for name, default in (("relay_domains_reject_code", 554), ("reject_code", 554)):
            assert ev.pint(name, default) == param_int(view, name, default)
            assert ev.pint(name, default) == param_int(view, name, default)


# ---------------------------------------------------------------- not-asked partial keys
_TABLE_FILES = {
    "clients.cidr": "192.0.2.0/24 REJECT cidr\n10.1.0.0/16 OK\n2001:db8::/32 DUNNO\n",
    "helo.regexp": "/^mail\\./ REJECT regexp\n/example\\.net$/ OK\n",
    "access": "example.com REJECT hash\n.example.org DUNNO\n192.0.2 REJECT net\n10.1 OK\nmail.example.net OK\n",
}


def _tables(d: Path) -> list[str]:
    return [f"cidr:{d}/clients.cidr", f"regexp:{d}/helo.regexp", f"texthash:{d}/access",
            "inline:{ example.com=REJECT, 192.0.2=OK, com=DUNNO }", "static:DUNNO",
            f"unionmap:{{cidr:{d}/clients.cidr, texthash:{d}/access}}", "ldap:/nonexistent.cf"]


_names = st.lists(st.sampled_from(["mail", "example", "com", "net", "org", "a", "b", "sub"]),
                  min_size=1, max_size=4).map(".".join)
_addrs = st.one_of(
    st.tuples(st.sampled_from([10, 192, 198]), st.integers(0, 2), st.integers(0, 2), st.integers(0, 255))
    .map(lambda t: "%d.%d.%d.%d" % t),
    st.sampled_from(["2001:db8::1", "2001:db8:0:1::5", "::1", "fe80::1"]))


@settings(max_examples=120, deadline=None)
@given(table=st.integers(0, 6), name=st.one_of(_names, _addrs), addr=_addrs, parent=st.booleans())
def test_skipping_not_asked_keys_changes_nothing(tmp_path_factory, table, name, addr, parent):
    d = tmp_path_factory.mktemp("na")
    for fname, text in _TABLE_FILES.items():
        (d / fname).write_text(text)
    spec = _tables(d)[table]
    (d / "main.cf").write_text(
        "compatibility_level = 3.6\nmyhostname = mx.example.com\n"
        f"parent_domain_matches_subdomains = {'smtpd_access_maps' if parent else ''}\n")
    (d / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    tx = Transaction(client_address=addr, client_name=name, helo=name, sender="s@example.com",
                     recipient="r@example.com")
    results = []
    for skip in (False, True):
        R_access._SKIP_NOT_ASKED = skip
        try:
            ev = Evaluator(load_config(d), tx, "smtp", dns.StaticResolver(default=dns.NOTFOUND))
            out = []
            for walk in (lambda: ev.check_domain_access(spec, name, name, R_state.NAME_HELO, "check_helo_access"),
                         lambda: ev.check_addr_access(spec, addr, addr, R_state.NAME_CLIENT, "check_client_access"),
                         lambda: ev.check_namadr_access(spec, name, addr, addr, R_state.NAME_CLIENT,
                                                        "check_client_access")):
                sb = ev.begin("smtpd_client_restrictions", f"check_client_access {spec}", 1, None)
                try:
                    got = walk()
                except R_state._Longjmp as lj:
                    got = ("longjmp", lj.status)
                ev.end(sb)
                out.append((got, sb.freeze().to_json(), ev.error_text, list(ev.warnings)))
            results.append(out)
        finally:
            R_access._SKIP_NOT_ASKED = True
    assert results[0] == results[1]


@settings(max_examples=2000, deadline=None)
@given(st.one_of(st.text(alphabet="0123456789.:abcdefxyzABCDEF%-[]", max_size=45),
                 st.text(max_size=20), _addrs, _names,
                 st.tuples(st.integers(0, 300), st.integers(0, 300), st.integers(0, 300), st.integers(0, 300))
                 .map(lambda t: "%d.%d.%d.%d" % t)))
def test_maybe_hostaddr_is_valid_hostaddr(name):
    assert R_access._maybe_hostaddr(name) == valid_hostaddr(name)


def test_maybe_hostaddr_examples():
    for name in ["192.0.2.1", "192.0.2", "1.2.3.4.5", "01.2.3.4", "::1", "fe80::1%eth0", "2001:db8::",
                 "host.example.com", "", ".", "1.2.3.", "١٢.1.1.1", "1.2.3.4 ", "[1.2.3.4]"]:
        assert R_access._maybe_hostaddr(name) == valid_hostaddr(name), name


# ---------------------------------------------------------------- client names, remembered
@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["unknown", "UNKNOWN", " [UNAVAILABLE] ", "[tempunavail]",
                                                      "", "  ", "h.example.net", " H.Example.NET "]),
                          st.text(max_size=12)), min_size=1, max_size=6))
def test_name_status_is_client_name_status(names):
    from tui.core.postfix.peer_name import client_name_status
    for text in names + names:   # each asked twice: the second answer is the remembered one
        assert R_state._name_status(text) == client_name_status(text)
