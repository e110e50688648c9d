"""tui.core.cache.resolve_addr on a failing table: a repeat in the same
evaluation raises a new TableFailure that says what the first one said (the
table, its message and the lookups made), and that is what resolving again
without any memory says too."""
from __future__ import annotations

from pathlib import Path

import pytest

from tui.core.cache import TableCache, TableFailure, resolve_addr
from tui.core.config import load_config
from tui.core.rewrite.resolve import resolve_addr as plain_resolve_addr


class _Env:
    def __init__(self, cfg):
        self.view = cfg.params()
        self.main = self.view
        self.tables = TableCache().for_evaluation()


def _failure(fn, *args, **kw):
    with pytest.raises(TableFailure) as got:
        fn(*args, **kw)
    exc = got.value
    return exc, (exc.table, exc.message, str(exc), list(exc.lookups))


@pytest.mark.parametrize("transport_maps", ["", "texthash:{d}/transport"])
def test_a_failed_resolution_fails_again_alike(tmp_path: Path, transport_maps: str):
    d = tmp_path
    # a hash: map without its .db: every class lookup fails
    (d / "valias").write_text("va.example x\n")
    (d / "transport").write_text("example.net smtp:[relay.example]\n")
    (d / "main.cf").write_text(
        "myhostname = mx.example.com\nmydestination = localhost\n"
        f"virtual_alias_domains = hash:{d}/valias\n"
        f"transport_maps = {transport_maps.format(d=d)}\n")
    (d / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    cfg = load_config(d)
    env = _Env(cfg)
    addr = "someone@example.net"
    first_exc, first = _failure(resolve_addr, env, addr, with_transport=False)
    assert "valias" in first[0] and first[3]
    for with_transport in (False, True, False, True):
        again_exc, again = _failure(resolve_addr, env, addr, with_transport=with_transport)
        assert again == first
        assert again_exc is not first_exc and again_exc.lookups is not first_exc.lookups
        # a caller that adds to the lookups it was given changes nothing kept
        again_exc.lookups.append("added by a caller")
    fresh = _Env(load_config(d))
    _exc, plain = _failure(plain_resolve_addr, fresh, addr, False)
    assert plain == first
