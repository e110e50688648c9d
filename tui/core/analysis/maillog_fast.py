"""The mail-log grammar's commonest messages as single regular expressions
(maillog.Reader's fast path): smtpd's refusals, delivery results and
cleanup's header/body checks actions, each built from the terminals of
grammars/maillog.lark, so that the grammar stays the one definition of
what a line may hold."""
from __future__ import annotations

import re
from functools import lru_cache

from tui.core.grammar import parser


@lru_cache(maxsize=None)
def atomic_terminals() -> dict[str, str]:
    """The grammar's terminals as regular expressions, each an atomic group
    without capturing groups: like lark's lexer, a terminal never gives back
    what it matched."""
    bare_group = re.compile(r"(?<!\\)\((?!\?)")
    return {t.name: "(?>" + bare_group.sub("(?:", t.pattern.to_regexp()) + ")" for t in parser("maillog").terminals}


_SP = r"[ \t]*"


def _attribute(key: str, value: str, capture: bool = False) -> str:
    """KEY=VALUE with the grammar's terminal KEY for the name and ANGLED or
    VALUE for the value; CAPTURE: as the groups "name" and "value"."""
    t = atomic_terminals()
    k, v = t[key], f"{t['ANGLED']}|{t[value]}"
    if capture:
        return f"(?P<name>{k}){_SP}={_SP}(?P<value>{v})"
    return f"{k}{_SP}={_SP}(?:{v})"


@lru_cache(maxsize=None)
def reject_regex() -> tuple[re.Pattern, re.Pattern]:
    """The grammar's smtpd_reject rule as one regular expression, built from
    the grammar's own terminal definitions; every terminal is an atomic group
    so that, like lark's lexer, it never gives back what it matched.

    Returns (the whole message, one attribute)."""
    t, sp = atomic_terminals().__getitem__, _SP
    plain_attr = _attribute("ATTR_NAME", "BARE")
    whole = (f"(?P<queue_id>{t('QUEUE_ID')}){sp}:{sp}(?P<action>{t('ACTION')}){sp}:{sp}"
             f"(?P<command>{t('COMMAND')}){sp}from{sp}(?P<client>{t('CLIENT')}){sp}:{sp}"
             f"(?P<reply>{t('REPLY')}){sp}(?P<attrs>;{sp}{plain_attr}(?:{sp},?{sp}{plain_attr})*){sp}")
    return re.compile(whole), re.compile(_attribute("ATTR_NAME", "BARE", capture=True))


@lru_cache(maxsize=None)
def delivery_regex() -> tuple[re.Pattern, re.Pattern]:
    """The grammar's delivery rule as one expression (built like
    reject_regex): (the whole message, one key=value attribute)."""
    t, sp = atomic_terminals().__getitem__, _SP
    whole = (f"(?P<queue_id>{t('QUEUE_ID')}){sp}:{sp}to={sp}(?P<angled>{t('ANGLED')})"
             f"(?P<attrs>(?:{sp},{sp}{_attribute('DKEY', 'DVALUE')})*){sp},{sp}status={sp}"
             f"(?P<status>{t('STATUS')}){sp}(?P<detail>{t('DETAIL')})?{sp}")
    return re.compile(whole), re.compile(_attribute("DKEY", "DVALUE", capture=True))


@lru_cache(maxsize=None)
def content_regex() -> tuple[re.Pattern, re.Pattern]:
    """The grammar's content_check rule (cleanup's header/body checks) as
    one expression, built like reject_regex: (the whole message, one
    attribute)."""
    t, sp = atomic_terminals().__getitem__, _SP
    whole = (f"(?P<queue_id>{t('QUEUE_ID')}){sp}:{sp}(?P<action>{t('ACTION')}|{t('CONTENT_ACTION')}){sp}:{sp}"
             f"(?P<content_class>{t('CONTENT_CLASS')})(?P<content>{t('CONTENT')}){sp}from{sp}"
             f"(?P<origin>{t('ORIGIN')}){sp};(?P<attrs>(?:{sp}{_attribute('ATTR_NAME', 'CONTENT_BARE')})*)"
             f"{sp}(?::{sp}(?P<rest>{t('REST')}))?{sp}")
    return re.compile(whole), re.compile(_attribute("ATTR_NAME", "CONTENT_BARE", capture=True))


def _with_attrs(f: dict, attr: re.Pattern) -> dict[str, str]:
    """F (a match's groups) with its "attrs" group split into attr_NAME fields."""
    for a in attr.finditer(f.pop("attrs", None) or ""):
        f["attr_" + a.group(1)] = a.group(2)
    return f


def content_fields(m: re.Match) -> dict[str, str]:
    return _with_attrs({k: v for k, v in m.groupdict().items() if v is not None}, content_regex()[1])


def delivery_fields(m: re.Match) -> dict[str, str]:
    return _with_attrs({k: v for k, v in m.groupdict().items() if v is not None}, delivery_regex()[1])


def reject_fields(m: re.Match) -> dict[str, str]:
    return _with_attrs(m.groupdict(), reject_regex()[1])
