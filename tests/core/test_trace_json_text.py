"""Trace.to_json_text() is json.dumps(Trace.to_json()), to the byte, also
when its memo of step texts was filled by other traces (trace --batch
keeps one memo for a whole input)."""
from __future__ import annotations

import itertools
import json

from tui.core.config import load_config
from tui.core.dns import OfflineResolver
from tui.core.model import Source
from tui.core.smtpd import evaluate
from tui.core.trace import Lookup, Step, Trace, Transaction
from tui.demo import demo_config_dir


def test_text_is_the_dumped_json_with_a_shared_memo():
    cfg = load_config(str(demo_config_dir()))
    resolver = OfflineResolver()
    memo: dict = {}
    n = routed = 0
    clients = ["127.0.0.1", "192.0.2.25", "10.1.2.3", "203.0.113.9"]
    rcpts = ["friend@example.com", "alice@example.org", "nobody@example.org", "postmaster@example.org",
             "Ünïcode@example.org", "x@elsewhere.example", "root@localhost"]
    for rnd in range(2):
        for svc, client, rcpt, helo in itertools.product(("smtp", "submission"), clients, rcpts,
                                                         ("mail.example.net", "nodots", None)):
            tr = evaluate(cfg, Transaction(client_address=client, client_name="unknown", helo=helo,
                                           sender="a@remote.example", recipient=rcpt), service=svc,
                          resolver=resolver)
            assert tr.to_json_text(memo) == json.dumps(tr.to_json())
            assert tr.to_json_text() == json.dumps(tr.to_json())
            n += 1
            routed += tr.route is not None
    assert n and routed and memo


def test_numbers_and_flags_are_not_confused():
    """True == 1 and hash alike; a step remembered with one must not give
    its text to a step with the other."""
    src = Source("main.cf", "/x/main.cf", 3)
    lk = (Lookup("hash:/x/a", "k", True, "OK"),)
    memo: dict = {}
    texts = set()
    for position, depth, conditional in ((1, 0, False), (True, 0, False), (1, False, False), (1, 0, 0)):
        step = Step("smtpd_client_restrictions", "check_client_access hash:/x/a", position, src, "permit",
                    "rcpt", lk, None, "", depth, conditional)
        tr = Trace(Transaction(client_address="192.0.2.1"), "smtp", 250, "250 Ok", "rcpt", (step,))
        text = tr.to_json_text(memo)
        assert text == json.dumps(tr.to_json())
        texts.add(text)
    assert len(texts) == 4


def test_json_text_is_json_dumps():
    """json_text(), the C encoder made once, prints what json.dumps prints,
    for every kind of JSON value (and refuses what it refuses)."""
    from hypothesis import given, settings, strategies as st

    from tui.core.trace import json_text

    scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
               | st.text())
    values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(st.text() | st.integers() | st.booleans() | st.none(), inner,
                                            max_size=4), max_leaves=20)

    @settings(max_examples=300, deadline=None)
    @given(values)
    def same(v):
        assert json_text(v) == json.dumps(v)

    same()
    for bad in (object(), {"a": {1, 2}}, [b"bytes"]):
        try:
            json.dumps(bad)
        except TypeError as exc:
            expected = str(exc)
        try:
            json_text(bad)
        except TypeError as exc:
            assert str(exc) == expected
        else:
            raise AssertionError(f"json_text accepted {bad!r}")
