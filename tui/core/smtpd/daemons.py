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
smtpd waits just the same when that service is not in master.cf.
"""
from __future__ import annotations

from typing import NamedTuple

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


class Waited(NamedTuple):
    """Why smtpd waits for a daemon without end."""

    daemon: str           # anvil, trivial-rewrite or cleanup
    param: str            # the parameter to fix
    text: str             # the daemon's fatal message (without "fatal: "), or smtpd's warning
    src: Source | None    # where that parameter is set
    service: str          # the master.cf service smtpd connects to
    missing: bool = False  # True: no such service in master.cf (smtpd cannot connect, and retries)


# the socket class smtpd connects to: public/cleanup, private/rewrite, private/anvil
SOCKET_CLASS = {"anvil": "private", "trivial-rewrite": "private", "cleanup": "public"}


def daemon_fatals(cfg, view) -> dict[str, Waited]:
    """The daemons that the smtpd service of VIEW waits for without end:
    those that exit at start-up (a bad value in main.cf or the -o overrides
    of their own master.cf line; without such a line, main.cf alone), and
    those whose service, named in main.cf or a -o override, is not in
    master.cf as a unix service of the socket class smtpd connects to (smtpd
    logs "connect #N to subsystem CLASS/NAME: No such file or directory" and
    tries again)."""
    out: dict[str, Waited] = {}
    for daemon, service_param in SERVICE_PARAM.items():
        name = daemon if service_param is None else param(view, service_param)
        klass = SOCKET_CLASS[daemon]
        # a service named in main.cf or by a -o override (a content filter's
        # own cleanup, say) must be in master.cf; the stock names are taken
        # as there (a master.cf excerpt, as tests write them, leaves them out)
        if (service_param is not None and cfg.stock_service is None and view.is_explicit(service_param)
                and not any(s.name == name and s.type == "unix" and (s.private == "n") == (klass == "public")
                            for s in cfg.services)):
            out[daemon] = Waited(daemon, service_param, f"connect to subsystem {klass}/{name}: No such file or directory",
                                 view.source(service_param), name, True)
            continue
        svc = cfg.service(name, "unix")
        dview = cfg.params(svc) if svc is not None and svc.process_name == daemon else cfg.params()
        bad = first_startup_error(daemon, lambda n: param(dview, n))
        if bad is None:   # then it opens its tables: dict_open() exits on an entry not type:name
            bad = _bad_table_list(dview, daemon)
        if bad is not None:
            pname, text = bad
            out[daemon] = Waited(daemon, pname, text.removeprefix("fatal: "), dview.source(pname), name)
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
