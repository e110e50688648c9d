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


@lru_cache(maxsize=None)
def reject_regex() -> tuple[re.Pattern, re.Pattern]:
    """The grammar's smtpd_reject rule as one regular expression, built from
    the grammar's own terminal definitions; every terminal is an atomic group
    so that, like lark's lexer, it never gives back what it matched.

    Returns (the whole message, one attribute)."""
    t = atomic_terminals().__getitem__
    sp = r"[ \t]*"
    plain_attr = f"{t('ATTR_NAME')}{sp}={sp}(?:{t('ANGLED')}|{t('BARE')})"
    whole = (f"(?P<queue_id>{t('QUEUE_ID')}){sp}:{sp}(?P<action>{t('ACTION')}){sp}:{sp}"
             f"(?P<command>{t('COMMAND')}){sp}from{sp}(?P<client>{t('CLIENT')}){sp}:{sp}"
             f"(?P<reply>{t('REPLY')}){sp}(?P<attrs>;{sp}{plain_attr}(?:{sp},?{sp}{plain_attr})*){sp}")
    attr = f"(?P<name>{t('ATTR_NAME')}){sp}={sp}(?P<value>{t('ANGLED')}|{t('BARE')})"
    return re.compile(whole), re.compile(attr)


@lru_cache(maxsize=None)
def delivery_regex() -> tuple[re.Pattern, re.Pattern]:
    """The grammar's delivery rule as one expression (built like
    reject_regex): (the whole message, one key=value attribute)."""
    t = atomic_terminals().__getitem__
    sp = r"[ \t]*"
    kv = f"{t('DKEY')}{sp}={sp}(?:{t('ANGLED')}|{t('DVALUE')})"
    whole = (f"(?P<queue_id>{t('QUEUE_ID')}){sp}:{sp}to={sp}(?P<angled>{t('ANGLED')})"
             f"(?P<attrs>(?:{sp},{sp}{kv})*){sp},{sp}status={sp}(?P<status>{t('STATUS')}){sp}"
             f"(?P<detail>{t('DETAIL')})?{sp}")
    attr = f"(?P<name>{t('DKEY')}){sp}={sp}(?P<value>{t('ANGLED')}|{t('DVALUE')})"
    return re.compile(whole), re.compile(attr)


@lru_cache(maxsize=None)
def content_regex() -> tuple[re.Pattern, re.Pattern]:
    """The grammar's content_check rule (cleanup's header/body checks) as
    one expression, built like reject_regex: (the whole message, one
    attribute)."""
    t = atomic_terminals().__getitem__
    sp = r"[ \t]*"
    attr = f"{t('ATTR_NAME')}{sp}={sp}(?:{t('ANGLED')}|{t('CONTENT_BARE')})"
    whole = (f"(?P<queue_id>{t('QUEUE_ID')}){sp}:{sp}(?P<action>{t('ACTION')}|{t('CONTENT_ACTION')}){sp}:{sp}"
             f"(?P<content_class>{t('CONTENT_CLASS')})(?P<content>{t('CONTENT')}){sp}from{sp}"
             f"(?P<origin>{t('ORIGIN')}){sp};(?P<attrs>(?:{sp}{attr})*){sp}(?::{sp}(?P<rest>{t('REST')}))?{sp}")
    one = f"(?P<name>{t('ATTR_NAME')}){sp}={sp}(?P<value>{t('ANGLED')}|{t('CONTENT_BARE')})"
    return re.compile(whole), re.compile(one)


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
