"""cidr tables without if/endif or "!" are searched through a prefix index
(tui/core/tables/cidr.py, CidrTable._build_index). The index must give the
answer of the rule-by-rule scan Postfix does (first matching rule in file
order) for every key; tests/oracle/test_postmap_files.py checks both paths
against the real postmap."""
from __future__ import annotations

import ipaddress

from hypothesis import given, settings, strategies as st

from tui.core.tables import open_table


def _scan(table, key):
    saved = table._index
    table._index = None
    try:
        return table.lookup(key)
    finally:
        table._index = saved


v4_nets = st.builds(lambda a, n: f"{ipaddress.ip_network((a, n), strict=False).network_address}/{n}",
                    st.integers(0, 2 ** 32 - 1), st.sampled_from([0, 1, 8, 12, 16, 23, 24, 30, 31, 32]))
v6_nets = st.builds(lambda a, n: f"{ipaddress.ip_network((a, n), strict=False).network_address}/{n}",
                    st.integers(0, 2 ** 128 - 1), st.sampled_from([0, 16, 32, 64, 127, 128]))
v4_keys = st.integers(0, 2 ** 32 - 1).map(lambda a: str(ipaddress.IPv4Address(a)))
v6_keys = st.integers(0, 2 ** 128 - 1).map(lambda a: str(ipaddress.IPv6Address(a)))


@settings(max_examples=150, deadline=None)
@given(nets=st.lists(st.one_of(v4_nets, v6_nets), min_size=1, max_size=40),
       keys=st.lists(st.one_of(v4_keys, v6_keys), min_size=1, max_size=20), data=st.data())
def test_index_answers_like_the_scan(tmp_path_factory, nets, keys, data):
    path = tmp_path_factory.mktemp("cidr") / "map.cidr"
    path.write_text("".join(f"{n} result{i}\n" for i, n in enumerate(nets)))
    t = open_table(f"cidr:{path}")
    assert t._index is not None
    # keys inside some of the rules' networks too, not only random ones
    for n in data.draw(st.lists(st.sampled_from(nets), max_size=5)):
        net = ipaddress.ip_network(n)
        keys.append(str(net.network_address + data.draw(st.integers(0, net.num_addresses - 1))))
    for k in keys + ["not-an-address", "1.2.3", "[1.2.3.4]"]:
        ours, scan = t.lookup(k), _scan(t, k)
        assert (ours.found, ours.value, ours.where) == (scan.found, scan.value, scan.where), k


def test_if_blocks_and_negation_keep_the_scan(tmp_path):
    p = tmp_path / "m.cidr"
    p.write_text("if 10.0.0.0/8\n10.1.0.0/16 a\nendif\n0.0.0.0/0 b\n")
    assert open_table(f"cidr:{p}")._index is None
    p.write_text("!10.0.0.0/8 not-ten\n0.0.0.0/0 b\n")
    assert open_table(f"cidr:{p}")._index is None
    p.write_text("10.0.0.0/8 ten\n10.1.0.0/16 never\n0.0.0.0/0 any\n")
    t = open_table(f"cidr:{p}")
    assert t._index is not None
    assert t.lookup("10.1.2.3").value == "ten" and t.lookup("10.1.2.3").where.endswith(":1")
    assert t.lookup("11.0.0.1").value == "any"
    assert not t.lookup("::1").found


@settings(max_examples=2000, deadline=None)
@given(st.one_of(
    st.tuples(*[st.integers(0, 300)] * 4).map(lambda t: ".".join(map(str, t))),
    st.text(alphabet="0123456789.:abcdef\n \u0661", max_size=16),
    st.sampled_from(["1.2.3.4\n", "01.2.3.4", "1.2.3", "1.2.3.4.5", "\u0661.2.3.4", "255.255.255.255",
                     "0.0.0.0", "256.1.1.1", "::1", "1.2.3.4 "])))
def test_parse_addr_is_inet_pton(text):
    """parse_addr's IPv4 shortcut agrees with ipaddress (which raises where
    the old code raised)."""
    from tui.core.tables.cidr import _IPV4, parse_addr
    try:
        want = (4, int(ipaddress.IPv4Address(text))) if _IPV4.match(text) and ":" not in text else "other"
    except ValueError:
        want = ValueError
    try:
        got = parse_addr(text)
    except ValueError:
        got = ValueError
    if want != "other":
        assert got == want, text
