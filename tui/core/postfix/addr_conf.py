"""The address-rewriting settings of one parameter view, read once."""
from __future__ import annotations

from tui.core.config.params import param, param_bool, param_int, param_list
from tui.core.postfix.maps import is_table
from tui.core.postfix.match_list import expand_patterns, parent_style


CLASS_LOCAL = "local"
CLASS_ALIAS = "virtual_alias"
CLASS_VIRTUAL = "virtual_mailbox"
CLASS_RELAY = "relay"

# The table that validates recipients of each address class (smtpd's
# check_rcpt_maps): parameter, reply-code parameter, "User unknown in ... table".
RECIPIENT_MAPS = {
    CLASS_LOCAL: ("local_recipient_maps", "unknown_local_recipient_reject_code", "local recipient"),
    CLASS_VIRTUAL: ("virtual_mailbox_maps", "unknown_virtual_mailbox_reject_code", "virtual mailbox"),
    CLASS_RELAY: ("relay_recipient_maps", "unknown_relay_recipient_reject_code", "relay recipient"),
}
CLASS_DEFAULT = "default"

CLASS_TEXT = {
    CLASS_LOCAL: "local (mydestination / inet_interfaces / proxy_interfaces)",
    CLASS_ALIAS: "virtual alias (virtual_alias_domains)",
    CLASS_VIRTUAL: "virtual mailbox (virtual_mailbox_domains)",
    CLASS_RELAY: "relay (relay_domains)",
    CLASS_DEFAULT: "default (none of mydestination, virtual_alias_domains, "
                   "virtual_mailbox_domains, relay_domains)",
}

_CLASS_LISTS = ("mydestination", "virtual_alias_domains", "virtual_mailbox_domains", "relay_domains")


def _shareable_view(view) -> bool:
    if param(view, "myorigin").strip().startswith("/"):
        return False
    for name in _CLASS_LISTS:
        for item in param_list(view, name):
            if item.lstrip("!").startswith("/"):
                return False
    return True


class AddrConf:
    """What address resolution reads from one parameter view, read once per
    view (a view's values never change; addr_conf() keeps it). Only
    configuration: nothing here depends on a table's contents."""

    __slots__ = ("swap_bangpath", "allow_percent_hack", "append_at_myorigin",
                 "append_dot_mydomain", "mydomain", "myorigin", "myhostname",
                 "resolve_null_domain", "allow_min_user", "empty_recipient",
                 "local_transport", "transport_maps", "local_map", "shareable",
                 "class_lists", "relay_parent", "show_table", "virtual_transport",
                 "relay_transport", "default_transport", "relayhost", "delim",
                 "access_parent", "no_unknown_recipient_checks",
                 "recipient_mapping", "sender_mapping", "recipient_maps", "double_bounce",
                 "virtual_alias_maps", "resolve_dequoted")

    def __init__(self, view):
        self.swap_bangpath = param_bool(view, "swap_bangpath")
        self.allow_percent_hack = param_bool(view, "allow_percent_hack")
        self.append_at_myorigin = param_bool(view, "append_at_myorigin")
        self.append_dot_mydomain = param_bool(view, "append_dot_mydomain")
        self.mydomain = param(view, "mydomain").lower()
        myorigin = param(view, "myorigin").strip()
        # None: myorigin names a file, read each time (read_myorigin)
        self.myorigin = None if myorigin.startswith("/") else myorigin.lower()
        self.myhostname = param(view, "myhostname").lower()
        self.resolve_null_domain = param_bool(view, "resolve_null_domain")
        self.resolve_dequoted = param_bool(view, "resolve_dequoted_address")
        self.allow_min_user = param_bool(view, "allow_min_user")
        self.empty_recipient = param(view, "empty_address_recipient") or "MAILER-DAEMON"
        self.local_transport = param(view, "local_transport")
        self.transport_maps = tuple(param_list(view, "transport_maps"))
        # mydestination without a table or /file: {name: match}, the first
        # pattern equal to a name decides (string_list_match); None otherwise
        pats = expand_patterns(param_list(view, "mydestination"))
        local_map = None
        if isinstance(pats, tuple) and not any(is_table(p) or p.startswith("__nofile__:")
                                               for _m, p in pats):
            local_map = {}
            for match, pat in pats:
                local_map.setdefault(pat, match)
        self.local_map = local_map
        self.shareable = _shareable_view(view)
        # the class lists, parsed: ((match, pattern, is a table), ...) each;
        # None when a list names a /file (read anew each time: _domain_class)
        lists = None
        if not any(item.lstrip("!").startswith("/") for name in _CLASS_LISTS[1:]
                   for item in param_list(view, name)):
            lists = tuple(tuple((m, p, is_table(p)) for m, p in expand_patterns(param_list(view, name)))
                          for name in ("virtual_alias_domains", "virtual_mailbox_domains",
                                       "relay_domains"))
        self.class_lists = lists
        self.relay_parent = parent_style(view, "relay_domains")
        self.show_table = param_bool(view, "show_user_unknown_table_name")
        self.virtual_transport = param(view, "virtual_transport")
        self.relay_transport = param(view, "relay_transport")
        self.default_transport = param(view, "default_transport")
        self.relayhost = param(view, "relayhost").strip()
        self.delim = param(view, "recipient_delimiter")
        self.access_parent = parent_style(view, "smtpd_access_maps")
        # validate_recipient(): the address mappings that make a recipient
        # known, as (parameter, tables) with tables, in the order asked
        self.no_unknown_recipient_checks = (
            "no_unknown_recipient_checks" in param_list(view, "receive_override_options"))
        self.recipient_mapping = tuple(
            (p, tuple(param_list(view, p))) for p in ("recipient_canonical_maps", "canonical_maps",
                                                 "virtual_alias_maps") if param_list(view, p))
        self.sender_mapping = tuple(
            (p, tuple(param_list(view, p))) for p in ("recipient_canonical_maps", "sender_canonical_maps",
                                                 "canonical_maps", "virtual_alias_maps")
            if param_list(view, p))
        self.recipient_maps = {p: tuple(param_list(view, p)) for p, _c, _w in RECIPIENT_MAPS.values()}
        self.double_bounce = (param(view, "double_bounce_sender") or "double-bounce").lower()
        self.virtual_alias_maps = tuple(param_list(view, "virtual_alias_maps"))


def addr_conf(env, view) -> AddrConf:
    """The AddrConf of view, kept in the config_memo of env.tables (see
    tui.core.postfix.maps.Tables) when there is one, under the view itself
    (its other users key by tuples)."""
    try:
        memo = env.tables.config_memo
    except AttributeError:
        return AddrConf(view)
    conf = memo.get(view)
    if conf is None:
        conf = memo[view] = AddrConf(view)
    return conf


class RouteConf:
    """What route() reads besides AddrConf: the service's
    receive_override_options and content_filter, main.cf's virtual alias
    expansion settings. Read once per pair of views (route_conf())."""

    __slots__ = ("no_address_mappings", "content_filter", "recursion_limit", "expansion_limit",
                 "propagate")

    def __init__(self, service, main):
        self.no_address_mappings = "no_address_mappings" in param_list(service, "receive_override_options")
        self.content_filter = param(service, "content_filter").strip()
        self.recursion_limit = param_int(main, "virtual_alias_recursion_limit", 1000)
        self.expansion_limit = param_int(main, "virtual_alias_expansion_limit", 1000)
        self.propagate = "virtual" in param_list(main, "propagate_unmatched_extensions")


def route_conf(env) -> RouteConf:
    """The RouteConf of env.view and env.main, kept like addr_conf()'s."""
    try:
        memo = env.tables.config_memo
    except AttributeError:
        return RouteConf(env.view, env.main)
    key = ("route settings", env.view, env.main)
    conf = memo.get(key)
    if conf is None:
        conf = memo[key] = RouteConf(env.view, env.main)
    return conf


def is_local_name(local_map: dict, dom: str) -> bool:
    """resolve_local() > 0 for a name without "[" when mydestination is a
    list of plain names (AddrConf.local_map): no table, no lookups."""
    d = dom.lower()
    if d.endswith("."):
        d = d[:-1]
    if not d or d.endswith("."):
        return False
    return local_map.get(d) is True
