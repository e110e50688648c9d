"""The state of one evaluation: what the client said, the steps so far, the parameters read."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from tui.core.dns import OK as DNS_OK
from tui.core.cache import shared_cache
from tui.core.config.params import param, param_bool, param_int, param_list
from tui.core.dns import Resolver, UNKNOWN
from tui.core.model import FrozenRecord, Source
from tui.core.postfix.match_list import namadr_list_match, parent_style
from tui.core.postfix.peer_name import PEER_OK, client_name_status, normalize_client_address
from tui.core.trace import Lookup, NOT_EVALUATED, NO_MATCH, Step, Transaction


SMTPD_CHECK_DUNNO = 0
SMTPD_CHECK_OK = 1
SMTPD_CHECK_REJECT = 2
DICT_ERR_RETRY = -1
DICT_ERR_CONFIG = -2

NAME_CLIENT = "Client host"
NAME_REV_CLIENT = "Unverified Client host"
NAME_HELO = "Helo command"
NAME_SENDER = "Sender address"
NAME_RECIPIENT = "Recipient address"
NAME_SASL = "SASL login name"

MAIL_ERROR_POLICY = "policy"
MAIL_ERROR_SOFTWARE = "software"
MAIL_ERROR_RESOURCE = "resource"
MAIL_ERROR_DATA = "data"
MAIL_ERROR_BOUNCE = "bounce"
MAIL_ERROR_PROTOCOL = "protocol"


class _Longjmp(Exception):
    """smtpd's longjmp(smtpd_check_buf, status)."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


class _Defer:
    """defer_if_permit / defer_if_reject state; a new one is inactive (the
    class attributes are its initial values, set on the instance once
    raised)."""

    active: bool = False
    cls: str = ""
    code: int = 0
    dsn: str = ""
    reason: str = ""
    step: "_StepB | None" = None


class _StepB(FrozenRecord):
    """A Step while it is being evaluated (mutable); freeze() makes it the
    Step itself.

    Built like a Step (a FrozenRecord keeping its fields in its __dict__),
    so that freeze() can turn the object into a Step in place (its lookups
    made a tuple, its class changed) instead of copying eleven fields into
    a new object for every step of every trace. Until then it is an
    ordinary mutable object, equal only to itself."""

    __setattr__ = object.__setattr__   # type: ignore[assignment]
    __delattr__ = object.__delattr__
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __init__(self, parameter: str, entry: str, position: int | None, source: Source | None,
                 stage: str, depth: int):
        # in Step's field order: the frozen step's __dict__ is a Step's
        self.parameter = parameter
        self.entry = entry
        self.position = position
        self.source = source
        self.outcome = NO_MATCH
        self.stage = stage
        self.lookups: list = []
        self.reply: str | None = None
        self.detail = ""
        self.depth = depth
        self.conditional = False

    def freeze(self) -> Step:
        """This step, now a Step (immutable from here on: the evaluation
        that built it has ended)."""
        self.lookups = tuple(self.lookups)   # type: ignore[assignment]
        self.__class__ = Step   # type: ignore[assignment]
        return self   # type: ignore[return-value]


def _source(view, name: str) -> Source | None:
    return view.source(name)


def _list_with_sources(view, name: str):
    """The list's (entry, Source) pairs; read-only (shared by every trace)."""
    return view.list_with_sources_shared(name)


def _compat_level(view) -> float:
    raw = param(view, "compatibility_level").strip() or "0"
    try:
        parts = raw.split(".")
        return float(parts[0] + ("." + parts[1].zfill(3) if len(parts) > 1 else ""))
    except ValueError:
        return 0.0


class _ViewParams:
    """What the evaluator reads from one service's parameter view on every
    trace, read once per view of a Config (kept in the Config's memo).

    A Config and its views never change once loaded (a new main.cf is a new
    Config), so these values cannot go stale; nothing here comes from a
    table (table answers go through TableCache.lookup and its generation-checked
    caches). Values come from the service's own view (its master.cf -o
    overrides) except `main` and `alias_specs`, which trivial-rewrite takes
    from main.cf."""

    __slots__ = ("view", "main", "alias_specs", "delay_reject", "helo_required", "soft_bounce",
                 "reject_unlisted_sender", "reject_unlisted_recipient", "relay_before_rcpt",
                 "allow_untrusted_routing", "sasl_enable", "parent_access", "parent_mynetworks",
                 "mynetworks", "no_unknown_rcpt_checks", "footer_maps", "footer", "compat_level",
                 "relay_explicit", "client_list", "helo_list", "sender_list", "recipient_list",
                 "relay_list", "src_unlisted_sender", "src_unlisted_recipient", "ints", "rlists",
                 "startup_errors", "daemon_fatals", "queue_open_fatal", "command_filter", "strict_rfc821",
                 "inet_protocols", "rewrite_clients", "milters")

    def __init__(self, cfg, view, memo: dict):
        self.view = view
        main = self.main = getattr(view, "main", None) or cfg.params()
        alias_specs = memo.get(("alias_specs", main))
        if alias_specs is None:
            alias_specs = memo[("alias_specs", main)] = frozenset(
                set(param_list(main, "alias_maps")) | set(param_list(main, "alias_database")))
        self.alias_specs = alias_specs
        b = param_bool
        self.delay_reject = b(view, "smtpd_delay_reject")
        self.helo_required = b(view, "smtpd_helo_required")
        self.soft_bounce = b(view, "soft_bounce")
        self.reject_unlisted_sender = b(view, "smtpd_reject_unlisted_sender")
        self.reject_unlisted_recipient = b(view, "smtpd_reject_unlisted_recipient")
        self.relay_before_rcpt = b(view, "smtpd_relay_before_recipient_restrictions")
        self.allow_untrusted_routing = b(view, "allow_untrusted_routing")
        self.sasl_enable = b(view, "smtpd_sasl_auth_enable")
        self.parent_access = parent_style(view, "smtpd_access_maps")
        self.parent_mynetworks = parent_style(view, "mynetworks")
        self.mynetworks = tuple(param_list(view, "mynetworks"))
        self.no_unknown_rcpt_checks = "no_unknown_recipient_checks" in param_list(view, "receive_override_options")
        self.footer_maps = tuple(param_list(view, "smtpd_reject_footer_maps"))
        self.footer = view.raw("smtpd_reject_footer") or ""
        self.compat_level = _compat_level(view)
        self.relay_explicit = bool(view.is_explicit("smtpd_relay_restrictions"))
        self.client_list = _list_with_sources(view, "smtpd_client_restrictions")
        self.helo_list = _list_with_sources(view, "smtpd_helo_restrictions")
        self.sender_list = _list_with_sources(view, "smtpd_sender_restrictions")
        self.recipient_list = _list_with_sources(view, "smtpd_recipient_restrictions")
        self.relay_list = _list_with_sources(view, "smtpd_relay_restrictions")
        self.src_unlisted_sender = _source(view, "smtpd_reject_unlisted_sender")
        self.src_unlisted_recipient = _source(view, "smtpd_reject_unlisted_recipient")
        self.command_filter = param(view, "smtpd_command_filter")
        self.strict_rfc821 = b(view, "strict_rfc821_envelopes")
        self.inet_protocols = param(view, "inet_protocols")
        self.rewrite_clients = tuple(param_list(view, "local_header_rewrite_clients"))
        self.ints: dict = {}   # (name, default) -> _get_int's answer
        # the Config's parsed restriction lists (generic_checks), shared by its views
        rl = memo.get("rlists")
        if rl is None:
            rl = memo["rlists"] = {}
        self.rlists = rl
        self.startup_errors = None   # Evaluator._startup_checks() fills it in
        self.daemon_fatals = None    # and Evaluator._waited_daemons() this
        self.queue_open_fatal: tuple | None = None   # and Evaluator.queue_open_fatal() this (): none)
        self.milters = None          # and milters.session_milters() this


def _view_params(cfg, service, memo: dict) -> _ViewParams:
    """The _ViewParams of cfg's view for SERVICE, kept in memo (the Config's)
    by the service as given and by the view; cfg.params() raises for an
    unknown service, which is never kept."""
    view = cfg.params(service) if service else cfg.params()
    vp = memo.get(("view_params", view))
    if vp is None or vp.view is not view:
        vp = memo[("view_params", view)] = _ViewParams(cfg, view, memo)
    if service is None or isinstance(service, str):
        memo[("view_params_of", service)] = vp
    return vp


# client_name_status() answers, a function of the text alone: remembered
_name_status = lru_cache(maxsize=4096)(client_name_status)


class EvalState:
    """One evaluation's state and the primitives every restriction uses (parameters, steps, DNS)."""

    # initial state (an instance assigns its own as the evaluation goes)
    decider: _StepB | None = None

    error_text = ""

    warn_if_reject = 0

    recursion = 0

    dip_client = False

    dip_helo = False

    dip_sender = False

    discard = False

    conditional = False

    stage = "connect"

    sender: str | None = None

    recipient: str | None = None

    helo_name: str | None = None

    recipient_rcptmap_checked = False

    sender_rcptmap_checked = False

    # has the MAIL FROM stage of this RCPT reset sender_rcptmap_checked?
    # (smtpd_check_mail() does; smtpd_state_init() never sets it)
    sender_flag_reset = False

    where = "CONNECT"

    rcpt_count = 0

    def __init__(self, cfg, tx: Transaction, service: str, resolver: Resolver,
                 policy_answers: dict | None = None):
        self.cfg = cfg
        self.tx = tx
        self.service = service
        self.resolver = resolver
        self.policy_answers = policy_answers or {}
        tables = self.tables = shared_cache(cfg)
        memo = tables.config_memo
        vp = memo.get(("view_params_of", service)) if (service is None or isinstance(service, str)) else None
        if vp is None:
            vp = _view_params(cfg, service, memo)
        self.vp = vp
        self.view = vp.view
        self.main = vp.main
        tables.alias_specs = vp.alias_specs
        self.steps: list[_StepB] = []
        self.stack: list[_StepB] = []
        self.defer_if_permit = _Defer()
        self.defer_if_reject = _Defer()
        self.config_errors: list[str] = []
        self.warnings: list[str] = []
        self.notes: list[str] = []
        self.classes: dict[str, tuple[Any, Source | None]] = {}
        # the other state starts as the class attributes below
        name, self.name_status = _name_status(tx.client_name)
        self.client_name = name
        self.reverse_name, self.reverse_name_status = _name_status(tx.reverse_name)
        self.name_status_ok = self.name_status == PEER_OK
        self.reverse_name_status_ok = self.reverse_name_status == PEER_OK
        addr = tx.client_address
        if ":" in addr or addr[:1] == "0" or ".0" in addr:
            # IPv6, or IPv4 with leading zeros: smtpd's own normal form
            # (an IPv4-mapped IPv6 client is its IPv4 address)
            norm = normalize_client_address(addr, vp.inet_protocols)
            if norm is None and normalize_client_address(addr) is not None:
                self.notes.append(
                    f"inet_protocols = {vp.inet_protocols}: smtpd takes no connection from an IPv6 client "
                    f"such as {addr} (XCLIENT answers '501 5.5.4 Bad ADDR syntax'); the restrictions are "
                    f"traced as if it could connect")
            addr = norm or addr
        self.client_addr = addr
        self.namaddr = f"{name}[{addr}]"
        if cfg.master_missing:
            self.notes.append(cfg.master_missing_note())

    # ------------------------------------------------------------ parameters
    def p(self, name: str) -> str:
        return param(self.view, name)

    def plist(self, name: str) -> list[str]:
        return param_list(self.view, name)

    def pbool(self, name: str) -> bool:
        return param_bool(self.view, name)

    def pint(self, name: str, default: int) -> int:
        ints = self.vp.ints
        got = ints.get((name, default))
        if got is None:
            got = ints[(name, default)] = param_int(self.view, name, default)
        return got

    def source(self, name: str) -> Source | None:
        return _source(self.view, name)

    def mynetworks_match(self, lookups: list):
        """The client against mynetworks, as permit_mynetworks matches it
        (namadr_list_match's Match); the lookups made go to LOOKUPS."""
        vp = self.vp
        return namadr_list_match(self.tables, self.view, vp.mynetworks, self.client_name, self.client_addr,
                                 vp.parent_mynetworks, lookups)

    def list_with_sources(self, name: str):
        """The list's (entry, Source) pairs; read-only (shared by every trace)."""
        return _list_with_sources(self.view, name)

    # the env of the rewrite and postfix helpers (.view, .main, .tables)
    @property
    def env(self):
        return self

    # ------------------------------------------------------------ steps
    def begin(self, parameter: str, entry: str, position: int | None, source: Source | None) -> _StepB:
        sb = _StepB(parameter, entry, position, source, self.stage, len(self.stack))
        self.steps.append(sb)
        self.stack.append(sb)
        return sb

    def end(self, sb: _StepB, outcome: str | None = None, detail: str | None = None) -> None:
        if outcome is not None:
            sb.outcome = outcome
        if detail:
            sb.detail = (sb.detail + "; " if sb.detail else "") + detail
        if self.stack and self.stack[-1] is sb:
            self.stack.pop()

    @property
    def cur(self) -> _StepB | None:
        return self.stack[-1] if self.stack else None

    def add_lookups(self, lookups: list) -> None:
        if self.stack:
            self.stack[-1].lookups.extend(lookups)

    def note_cur(self, text: str) -> None:
        stack = self.stack
        if stack:
            cur = stack[-1]
            cur.detail = (cur.detail + "; " if cur.detail else "") + text

    def dns(self, name: str, rrtype: str):
        ans = self.resolver.lookup(name, rrtype)
        if ans.status == UNKNOWN:
            self.conditional = True
            if self.cur is not None:
                self.cur.conditional = True
        if self.cur is not None:
            self.cur.lookups.append(Lookup(f"dns:{rrtype}", name, ans.status == DNS_OK,
                                           ", ".join(ans.records) if ans.records else None,
                                           None, None, note=f"DNS {ans.status}"))
        return ans

    def needs_dns(self, what: str) -> int:
        self.conditional = True
        if self.cur is not None:
            self.cur.conditional = True
            self.cur.outcome = NOT_EVALUATED
            self.note_cur(f"needs DNS: not evaluated ({what}); assumed to pass")
        return SMTPD_CHECK_DUNNO

    def compat_level(self) -> float:
        return self.vp.compat_level
