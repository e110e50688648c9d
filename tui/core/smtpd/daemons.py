"""The daemons smtpd waits for during a transaction, and which of them
exit at start-up.

smtpd asks anvil(8) about each new client (connection count and rate
limits), trivial-rewrite(8) to rewrite and resolve the sender at MAIL FROM,
and cleanup(8) for a queue file when it accepts the first recipient (or at
MAIL FROM with smtpd_delay_open_until_valid_rcpt = no). Each of them, like
smtpd, exits when it starts if a yes/no, number or time parameter it reads
has a value it cannot take (tui.core.postfix.mail_conf), or a list of
tables it opens has an entry that is not type:name (trivial-rewrite's
transport_maps, relocated_maps, ...). smtpd does not notice: master keeps
the daemon's socket open and throttles the service, so smtpd waits on it
and the client gets no reply to that command.

A daemon reads main.cf and the -o overrides of its own master.cf line:
the unix service smtpd's rewrite_service_name or cleanup_service_name
names; anvil's is always "anvil" (Postfix 3.7 has no parameter for it).
"""
from __future__ import annotations

from tui.core.config.params import param, param_list
from tui.core.model import Source
from tui.core.postfix.mail_conf import first_startup_error, opened_maps
from tui.core.postfix.maps import maps_create_error

# daemon -> the parameter that names its master.cf service (None: a fixed
# name), in the order a transaction meets them
SERVICE_PARAM: dict[str, str | None] = {
    "anvil": None,
    "trivial-rewrite": "rewrite_service_name",
    "cleanup": "cleanup_service_name",
}

# smtpd talks to anvil when one of these limits is on (smtpd.c)
ANVIL_LIMITS = ("smtpd_client_connection_rate_limit", "smtpd_client_connection_count_limit",
                "smtpd_client_message_rate_limit", "smtpd_client_recipient_rate_limit",
                "smtpd_client_new_tls_session_rate_limit", "smtpd_client_auth_rate_limit")

Fatal = tuple[str, str, Source | None, str]   # (parameter, fatal message, where it is set, service)


def daemon_fatals(cfg, view) -> dict[str, Fatal]:
    """The daemons that the smtpd service of VIEW waits for and that exit at
    start-up: daemon -> (parameter, its fatal message without "fatal: ",
    where that parameter is set, the master.cf service name). A daemon
    without its own master.cf line of that name (or with another program
    on it) reads main.cf alone."""
    out: dict[str, Fatal] = {}
    for daemon, service_param in SERVICE_PARAM.items():
        name = daemon if service_param is None else param(view, service_param)
        svc = cfg.service(name, "unix")
        dview = cfg.params(svc) if svc is not None and svc.process_name == daemon else cfg.params()
        bad = first_startup_error(daemon, lambda n: param(dview, n))
        if bad is None:   # then it opens its tables: dict_open() exits on an entry not type:name
            bad = _bad_table_list(dview, daemon)
        if bad is not None:
            pname, text = bad
            out[daemon] = (pname, text.removeprefix("fatal: "), dview.source(pname), name)
    return out


def _bad_table_list(view, daemon: str) -> tuple[str, str] | None:
    """(parameter, fatal message) of a list of tables DAEMON opens with an
    entry that is not type:name. A list that only takes the bad entry from
    another by its default ($transport_maps in
    address_verify_transport_maps) fails with the same words: the one set
    in main.cf or master.cf is named, where the entry can be fixed."""
    failing = [(p, err) for p in opened_maps(daemon)
               if (err := maps_create_error(param_list(view, p))) is not None]
    for p, err in failing:
        src = view.source(p)
        if src is not None and src.kind != "default":
            return p, err
    return failing[0] if failing else None
