"""The engine's small value classes (tui/core/model.py's Record and
FrozenRecord, used instead of dataclasses because creating a dataclass
costs start-up time) behave as the dataclasses they replace did: the
same constructor, equality of the same class field by field, repr, hash
and immutability for the frozen ones, no hash for the mutable ones.

Each class is checked against a dataclass built here from its own field
list, so that a field added to one but not the other shows up too."""
from __future__ import annotations

import dataclasses

import pytest

from tui.core.config.defaults import DefaultsTable, IfAddr
from tui.core.config.main_cf import MainEntry, Setting
from tui.core.config.master_cf import Service, _Entry, _Flag, _Option, _Word
from tui.core.config.syntax import LogicalLine, SyntaxDiagnostic
from tui.core.dns import DnsAnswer, StaticResolver
from tui.core.postfix.match_list import MatchResult
from tui.core.rewrite.resolve import Resolved
from tui.core.smtpd.envelope import Extracted
from tui.core.smtpd.recipient_maps import Validation
from tui.core.smtpd.registry import Restriction
from tui.core.model import Diagnostic, Source
from tui.core.tables.base import Entry, LookupResult, TableStatus
from tui.core.trace import Lookup, Route, RouteTarget, Step, Trace, Transaction

# class -> (frozen?, positional arguments, the same with one field changed)
CASES = {
    Source: (True, ("main.cf", "/x/main.cf", 3, None, None), ("main.cf", "/x/main.cf", 4, None, None)),
    Diagnostic: (True, ("error", "bad", "/x/main.cf", 2), ("warning", "bad", "/x/main.cf", 2)),
    SyntaxDiagnostic: (True, ("error", "bad", "/x", 2, 5, 2, "a b"), ("error", "bad", "/x", 2, 6, 2, "a b")),
    LogicalLine: (True, ("a = b", 1, 2, ((0, 1),)), ("a = b", 1, 3, ((0, 1),))),
    Setting: (True, ("a", "b", 0, 4), ("a", "b", 0, None)),
    MainEntry: (False, ("b", 3), ("c", 3)),
    _Word: (True, ("{ x }", 40, True, "x", None), ("{ x }", 41, True, "x", None)),
    _Flag: (True, ("-v", 40), ("-v", 41)),
    _Option: (True, ("", _Word("a=b", 43), 40, False), ("", _Word("a=b", 43), 40, True)),
    _Entry: (False, ([_Word("smtp", 0)], []), ([_Word("smtp", 0)], [_Flag("-v", 40)])),
    Service: (False, ("smtp", "inet", "n", "-", "n", "-", "-", "smtpd", [], {}, "/x/master.cf", 1),
              ("smtp", "inet", "n", "-", "n", "-", "-", "smtpd", ["-v"], {}, "/x/master.cf", 1)),
    TableStatus: (True, ("ok", "", ()), ("stale", "", ())),
    LookupResult: (True, (True, "OK", None, "k", "/x/access:1"), (True, "OK", None, "k", "/x/access:2")),
    Entry: (True, ("k", "v", 1), ("k", "v", 2)),
    DefaultsTable: (True, ("3.7", {}, frozenset(), frozenset(), {}, frozenset()),
                    ("3.8", {}, frozenset(), frozenset(), {}, frozenset())),
    IfAddr: (True, (1, "127.0.0.1", 8, 0), (1, "127.0.0.1", 16, 0)),
    DnsAnswer: (True, ("ok", ("192.0.2.1",)), ("ok", ("192.0.2.2",))),
    StaticResolver: (False, ({}, set(), "unknown", "static"), ({}, set(), "notfound", "static")),
    Transaction: (True, ("192.0.2.1", "unknown", None, "", "a@b", None, None, None, None),
                  ("192.0.2.1", "unknown", "h", "", "a@b", None, None, None, False)),
    Lookup: (True, ("hash:/x", "k", True, "OK", None, "/x:1", None), ("hash:/x", "k", False, None, None, None, None)),
    Step: (True, ("smtpd_recipient_restrictions", "permit_mynetworks", 1, None, "permit", "rcpt", (), None, "", 0,
                  False),
           ("smtpd_recipient_restrictions", "permit_mynetworks", 2, None, "permit", "rcpt", (), None, "", 0,
            False)),
    RouteTarget: (True, ("a@b", "default", "smtp", "b", "default_transport", ()),
                  ("a@b", "default", "relay", "b", "default_transport", ())),
    Route: (True, ("a@b", "default", "b", (), (), (), ()), ("a@b", "relay", "b", (), (), (), ())),
    MatchResult: (False, (True, "10.0.0.0/8", None, []), (True, "10.0.0.0/16", None, [])),
    Resolved: (False, ("a@b", "default", "b", "smtp", "b", False, False, [], None, "default_transport"),
               ("a@b", "relay", "b", "smtp", "b", False, False, [], None, "default_transport")),
    Validation: (False, (False, 550, "5.1.1", "User unknown", "virtual_mailbox_maps", None, None, None, [], None,
                         None),
                 (False, 550, "5.1.1", "User unknown", "local_recipient_maps", None, None, None, [], None, None)),
    Extracted: (True, ("a@b", None, None, ()), ("a@c", None, None, ())),
    Restriction: (True, ("permit", None, "none", None), ("permit", None, "table", None)),
    Trace: (True, (Transaction("192.0.2.1"), "smtp", 250, "250 2.1.5 Ok", "rcpt", (), None, False, (), (), None, ()),
            (Transaction("192.0.2.1"), "smtp", 554, "554 5.7.1 no", "rcpt", (), None, False, (), (), None, ())),
}


def _twin(cls, frozen: bool):
    """The dataclass the class stands for: same name, same fields."""
    return dataclasses.make_dataclass(cls.__qualname__, list(cls._all_fields), frozen=frozen)


@pytest.mark.parametrize("cls", list(CASES), ids=lambda c: c.__qualname__)
def test_behaves_like_the_dataclass_it_replaces(cls):
    frozen, args, other = CASES[cls]
    twin = _twin(cls, frozen)
    a, b, c = cls(*args), cls(*args), cls(*other)
    ta, tc = twin(*args), twin(*other)
    assert repr(a) == repr(ta)
    assert (a == b, a == c, a != c) == (True, ta == tc, ta != tc) == (True, False, True)
    assert a != ta and a != args     # another class is never equal
    kwargs = dict(zip(cls._all_fields, args))
    assert cls(**kwargs) == a
    # replace() is dataclasses.replace: every field changed alike, a new object
    changed = dict(zip(cls._all_fields, other))
    assert repr(a.replace(**changed)) == repr(dataclasses.replace(ta, **changed))
    assert a.replace(**changed) == c and a.replace() == a and a.replace() is not a
    name = cls._all_fields[0]
    if frozen:
        try:
            hash(ta)
        except TypeError:        # a field holds a dict: unhashable, as the dataclass was
            with pytest.raises(TypeError):
                hash(a)
        else:
            assert hash(a) == hash(b)
            assert len({a, b, c}) == 2
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(a, name, args[0])
        with pytest.raises(dataclasses.FrozenInstanceError):
            delattr(a, name)
    else:
        with pytest.raises(TypeError):
            hash(a)
        setattr(c, name, args[0])
        assert getattr(c, name) == args[0]


def test_defaults_are_the_dataclasses_defaults():
    assert Source("default") == Source("default", None, None, None, None)
    assert Diagnostic("error", "m") == Diagnostic("error", "m", None, None)
    assert SyntaxDiagnostic("error", "m").text == "" and SyntaxDiagnostic("error", "m").column is None
    assert TableStatus("ok") == TableStatus("ok", "", ())
    assert LookupResult(False) == LookupResult(False, None, None, "", None)
    assert DnsAnswer("ok").records == ()
    r1, r2 = StaticResolver(), StaticResolver()
    assert r1 == r2 and r1.records == {} and r1.records is not r2.records
    assert r1.name == "static" and r1.default == "unknown"
    # a list default is a new list for each object (dataclasses' default_factory)
    for make in (lambda: MatchResult(False), lambda: Resolved("a@b", "default", "b"), lambda: Validation(True)):
        x, y = make(), make()
        assert x.lookups == [] and x.lookups is not y.lookups
    assert Resolved("a@b", "default", "b") == Resolved("a@b", "default", "b", "", "", False, False, [], None, "")
    assert Validation(True) == Validation(True, 0, "", "", None, None, None, None, [], None, None)
    assert Extracted("a@b", None) == Extracted("a@b", None, None, ())
    assert Restriction("permit", None) == Restriction("permit", None, "none", None)


def test_a_subclass_is_not_equal_to_its_base():
    assert SyntaxDiagnostic("error", "m") != Diagnostic("error", "m")
    assert Diagnostic("error", "m") != SyntaxDiagnostic("error", "m")
