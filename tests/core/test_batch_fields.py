"""What `trace --batch` says of a line whose fields it cannot take: an
unknown field first (all of them named), else the first field of the wrong
type in flag order; a line it can take becomes the transaction."""
from __future__ import annotations

import pytest

from tui.cli.batch import BatchError, _transaction
from tui.core.config import load_config
from tui.demo import demo_config_dir


@pytest.fixture(scope="module")
def cfg():
    return load_config(str(demo_config_dir()))


BASE = {"client_address": "192.0.2.9", "helo": "mail.example.net", "sender": "a@example.net",
        "recipient": "b@example.org"}


@pytest.mark.parametrize("extra, message", [
    ({"color": "blue"}, "unknown field(s): color"),
    ({"sender": 5, "zeta": 1, "alpha": None}, "unknown field(s): alpha, zeta"),
    ({"recipient": ["x"]}, "recipient must be a string"),
    ({"helo": 1, "sender": 2}, "helo must be a string"),
    ({"tls": 1}, "tls must be true, false, \"yes\" or \"no\""),
    ({"policy": "inet:127.0.0.1:9=DUNNO"}, "policy must be an object {server: action}"),
])
def test_refused(cfg, extra, message):
    with pytest.raises(BatchError) as exc:
        _transaction(dict(BASE, **extra), cfg)
    assert str(exc.value) == message


def test_taken(cfg):
    tx, service, policy = _transaction(dict(BASE, id=[1, 2], tls=False, sasl_login=None,
                                            policy={"inet:127.0.0.1:9": "DUNNO"}), cfg)
    assert (tx.client_address, tx.helo, tx.sender, tx.recipient, tx.tls) == (
        "192.0.2.9", "mail.example.net", "a@example.net", "b@example.org", False)
    assert service == "smtp" and policy == {"inet:127.0.0.1:9": "DUNNO"}
    assert _transaction(dict(BASE, tls="yes"), cfg)[0].tls is True
