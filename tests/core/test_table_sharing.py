"""One map file, one table object for every parameter view that would open
it the same way (tui.core.tables.view_signature): trivial-rewrite's class
lists (main.cf) and smtpd's checks (a service's view) read a big map once.
A service whose -o overrides change how the table is read (smtputf8_enable
folds keys differently, alias_maps makes it aliases(5)) gets its own, and
its answers are the ones a Config holding only that service would give."""
from __future__ import annotations

import json

from tui.core.cache import shared_cache
from tui.core import dns
from tui.core.config import load_config
from tui.core.smtpd import evaluate
from tui.core.tables import view_signature
from tui.core.tables.aliases import AliasTable
from tui.core.tables.files import FileTable
from tui.core.trace import Transaction

MAIN = """\
myhostname = mx.example.org
mydestination = localhost
mynetworks = 127.0.0.0/8
compatibility_level = 3.6
virtual_alias_domains = hash:{d}/valias
virtual_alias_maps = hash:{d}/valias
smtpd_recipient_restrictions = check_recipient_access hash:{d}/valias, reject_unauth_destination
"""

MASTER = """\
smtp      inet  n       -       n       -       -       smtpd
2525      inet  n       -       n       -       -       smtpd
  -o smtputf8_enable=no
2526      inet  n       -       n       -       -       smtpd
  -o alias_maps=hash:{d}/valias
"""


def _config(tmp_path):
    (tmp_path / "main.cf").write_text(MAIN.format(d=tmp_path))
    (tmp_path / "master.cf").write_text(MASTER.format(d=tmp_path))
    (tmp_path / "valias").write_text(
        "\u00c9t\u00e9.example  REJECT folded by casefold\n"
        "example.net  anything\n"
        "info@example.net  REJECT no info\n"
        "list: REJECT aliases format\n")
    return load_config(str(tmp_path))


def _trace(cfg, service, rcpt):
    tx = Transaction(client_address="192.0.2.1", client_name="unknown", helo="client.example",
                     sender="a@sender.example", recipient=rcpt)
    return json.dumps(evaluate(cfg, tx, service=service,
                               resolver=dns.StaticResolver(default=dns.NOTFOUND)).to_json(),
                      sort_keys=True)


def test_views_that_read_a_table_alike_share_it(tmp_path):
    cfg = _config(tmp_path)
    spec = f"hash:{tmp_path}/valias"
    main, smtp = cfg.params(), cfg.params("smtp")
    no_utf8, aliases = cfg.params("2525"), cfg.params("2526")
    assert view_signature(spec, main) == view_signature(spec, smtp) == (True, False)
    assert view_signature(spec, no_utf8) == (False, False)
    assert view_signature(spec, aliases) == (True, True)
    assert view_signature("mysql:/nonexistent.cf", main) is None
    assert view_signature("proxy:mysql:/nonexistent.cf", main) is None
    assert view_signature(f"proxy:{spec}", main) == (True, False)

    cache = shared_cache(cfg)
    t_main, t_smtp = cache.get(spec, main), cache.get(spec, smtp)
    t_no_utf8, t_alias = cache.get(spec, no_utf8), cache.get(spec, aliases)
    assert t_main is t_smtp
    assert type(t_main) is FileTable and t_main.fold.utf8
    assert t_no_utf8 is not t_main and not t_no_utf8.fold.utf8
    assert type(t_alias) is AliasTable
    assert len({id(t_main), id(t_no_utf8), id(t_alias)}) == 3


def test_a_shared_table_answers_as_a_private_one_would(tmp_path):
    rcpts = ["info@example.net", "\u00e9t\u00e9.example", "x@\u00c9T\u00c9.example", "list@example.net",
             "other@example.net"]
    services = ["smtp", "2525", "2526"]
    shared = _config(tmp_path)
    # every service on one Config, in an order that opens each table first
    # from another view, then each service on a Config of its own
    together = {(s, r): _trace(shared, s, r) for s in reversed(services) for r in rcpts}
    together.update({(s, r): _trace(shared, s, r) for s in services for r in rcpts})
    for s in services:
        alone = _config(tmp_path)
        for r in rcpts:
            assert _trace(alone, s, r) == together[(s, r)], (s, r)
    # and the fold really differs between the services (not a vacuous check)
    assert together[("smtp", "x@\u00c9T\u00c9.example")] != together[("2525", "x@\u00c9T\u00c9.example")]


def test_a_config_and_its_tables_are_freed(tmp_path):
    """The shared TableCache lives on its Config: once the caller drops the
    Config (a reload), the Config, the cache and the tables it opened are
    freed -- not kept alive by the cache's references to the views."""
    import gc
    import weakref

    cfg = _config(tmp_path)
    _trace(cfg, "smtp", "info@example.net")
    _trace(cfg, "2525", "info@example.net")
    table = shared_cache(cfg).get(f"hash:{tmp_path}/valias", cfg.params())
    refs = [weakref.ref(cfg), weakref.ref(table)]
    del cfg, table
    gc.collect()
    assert [r() for r in refs] == [None, None]


def test_an_answer_kept_across_generations_is_checked_once_in_each(tmp_path, monkeypatch):
    """cross_evaluation() keeps an answer while the tables it asked do not
    change. A new generation of checked tables (every MAX_AGE seconds, or at
    every evaluation without inotify) checks those tables once for it; the
    answer's later hits in that generation must not check them again -- they
    did, for every hit, once the generation the answer was made in ended --
    and a changed table must still make it be computed anew."""
    from tui.core import cache as C

    cfg = _config(tmp_path)
    spec = f"texthash:{tmp_path}/plain"
    (tmp_path / "plain").write_text("example.net  first\n")
    computed = []

    def answer():
        c = shared_cache(cfg)
        view = cfg.params()

        def compute():
            computed.append(1)
            return c.lookup(view, spec, "example.net", [])[1]
        return C.cross_evaluation(c, ("test", "example.net"), compute)

    checks = []
    unchanged = C.TableCache.unchanged
    monkeypatch.setattr(C.TableCache, "unchanged", lambda self, k, t: checks.append(k) or unchanged(self, k, t))
    assert answer() == "first" and len(computed) == 1
    shared_cache(cfg)._root._gen_until = 0.0     # the generation ends
    assert answer() == "first" and len(checks) == 1
    assert answer() == "first" and len(checks) == 1 and len(computed) == 1
    shared_cache(cfg)._root._gen_until = 0.0
    (tmp_path / "plain").write_text("example.net  second, longer\n")
    assert answer() == "second, longer" and len(computed) == 2
