"""Postfix library functions the engine needs, each module named after its
Postfix counterpart (maps.c, match_list.c, mail_addr_find.c, dsn_util.c,
valid_hostname.c, resolve_local.c, inet_addr_local.c). They ask tables
through the Tables their caller passes (maps.py) and never import
tui.core.cache."""
