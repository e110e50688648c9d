"""Suggested edits, proven before anyone sees them.

A sysadmin pastes what the explainer prints, so an edit is shown only when
all of this holds:

- complete: every changed parameter gets its whole new value (never
  `$name, more` on `name` itself -- Postfix stops with "unreasonable macro
  call nesting" -- and never an ellipsis); main.cf through
  `postconf -e 'name = value'`, a master.cf override through
  `postconf -P 'service/type/name=value'` (postconf -P refuses white space
  in a value, so list items are joined with commas);
- it loads: the changes are applied to an in-memory copy of the
  configuration (`apply_changes`: the Config is rebuilt from the loaded
  main.cf entries and master.cf services, nothing is written anywhere) and
  that copy has no new diagnostic and no expansion error;
- it works: the traced transaction, evaluated again on the copy, gets the
  other verdict (rejected -> accepted, or a configuration smtpd refuses
  -> one it starts with), and that new reply is shown next to the edit;
- it is safe: mynetworks only ever gains the host's own addresses or
  private/loopback networks, and no unauthenticated client from the
  internet (a probe outside mynetworks, on every smtpd service) is
  accepted for a recipient the unchanged configuration refused it
  (relaying for a domain this server does not serve, or anything else
  the edit would open).

`prove(cfg, trace, changes, ...)` answers a `Proof` (or None: not shown).
Proofs are kept per configuration object, so asking again about the same
trace costs nothing.
"""
from __future__ import annotations

import ipaddress

from tui.core.cache import memos, resolve_addr
from tui.core.config.loader import Config
from tui.core.config.main_cf import MainEntry
from tui.core.config.mystrtok import split_quoted
from tui.core.config.syntax import LIST_SEPARATORS
from tui.core.dns import OfflineResolver, Resolver
from tui.core.expand import referenced_names
from tui.core.model import FrozenRecord, Source
from tui.core.postfix.addr_conf import CLASS_DEFAULT
from tui.core.postfix.inet_addr_local import interface_addrs
from tui.core.smtpd import Evaluator, evaluate
from tui.core.trace import Trace, Transaction

_set = object.__setattr__


class Change(FrozenRecord):
    """One parameter set to its whole new value, in main.cf (service None)
    or as a -o override of master.cf service SERVICE ("name/type")."""

    __slots__ = _fields = ("parameter", "value", "service")
    parameter: str
    value: str
    service: str | None

    def __init__(self, parameter: str, value: str, service: str | None = None):
        _set(self, "parameter", parameter)
        _set(self, "value", value)
        _set(self, "service", service)

    def command(self) -> str:
        if self.service is None:
            return f"postconf -e {_shell_quote(f'{self.parameter} = {self.value}')}"
        return f"postconf -P {_shell_quote(f'{self.service}/{self.parameter}={self.value}')}"


class Proof(FrozenRecord):
    """What applying the changes to a copy of the configuration showed."""

    __slots__ = _fields = ("changes", "reply", "accepted", "conditional", "expanded")
    changes: tuple[Change, ...]
    reply: str                  # the traced transaction's new reply
    accepted: bool
    conditional: bool           # the new verdict assumed DNS/policy checks pass
    expanded: tuple[tuple[str, str], ...]  # (parameter, postconf -x value) per change

    def __init__(self, changes: tuple[Change, ...], reply: str, accepted: bool, conditional: bool,
                 expanded: tuple[tuple[str, str], ...]):
        _set(self, "changes", changes)
        _set(self, "reply", reply)
        _set(self, "accepted", accepted)
        _set(self, "conditional", conditional)
        _set(self, "expanded", expanded)

    def command(self) -> str:
        return " && ".join(c.command() for c in self.changes) + " && postfix reload"


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def join_list(items: list[str], for_master: bool = False) -> str:
    """A list parameter's value: ", " between entries in main.cf; commas
    only (also inside "name argument" entries) in a -o override, because
    postconf -P does not accept white space."""
    if for_master:
        return ",".join(",".join(i.split()) for i in items)
    return ", ".join(items)


# ---------------------------------------------------------------------------
# The in-memory copy


def apply_changes(cfg: Config, changes: tuple[Change, ...] | list[Change]) -> Config:
    """A new Config: CFG's main.cf and master.cf as loaded, with CHANGES
    applied the way `postconf -e` / `postconf -P` would write them. Nothing
    is read from or written to disk (tables are opened from the same
    files when a trace needs them)."""
    main = dict(cfg.main)
    services = [s.replace(overrides=dict(s.overrides), args=list(s.args)) for s in cfg.services]
    last_line = max((e.line for e in main.values()), default=0)
    for ch in changes:
        if ch.service is None:
            old = main.get(ch.parameter)
            if old is not None and old.line > 0:
                main[ch.parameter] = MainEntry(ch.value, old.line)
            else:
                last_line += 1
                main[ch.parameter] = MainEntry(ch.value, last_line)
            continue
        name, _, typ = ch.service.partition("/")
        svc = next((s for s in services if s.name == name and s.type == (typ or "inet")), None)
        if svc is None:
            raise ValueError(f"no service {ch.service} in master.cf")
        old_o = svc.overrides.get(ch.parameter)
        src = old_o[1] if old_o is not None else Source("master.cf", svc.path, svc.line, service=svc.key)
        svc.overrides[ch.parameter] = (ch.value, src)
    return Config(cfg._config_dir_text, main, services, [], hostname=cfg.hostname,
                  host_values=cfg.host_values, master_path=cfg.master_path)


def load_problems(cfg: Config, new: Config, service: str) -> list[str]:
    """What the copy says that the original did not: diagnostics, and
    expansion errors (postconf's "unreasonable macro call nesting" and the
    like, which stop postconf and with it `postfix start`)."""
    before = {d.message for d in cfg.diagnostics}
    out = [d.message for d in new.diagnostics if d.message not in before]
    views = [new.params()]
    try:
        views.append(new.params(service))
    except Exception as exc:
        out.append(str(exc))
    for view in views:
        for name in view.names(explicit_only=True):
            if view.is_raw_parameter(name):
                continue
            for e in view.expand_errors(name):
                out.append(f"{name}: {e}")
    return list(dict.fromkeys(out))


# ---------------------------------------------------------------------------
# Safety

# Clients on the internet that are in no sane mynetworks (documentation
# ranges, RFC 5737); the first one outside the edited mynetworks is used.
PROBE_CLIENTS = ("203.0.113.77", "198.51.100.77", "192.0.2.177")
PROBE_DOMAIN = "relay-probe.invalid"


def _own_addresses(cfg: Config) -> set[str]:
    own = set()
    try:
        own = {str(ipaddress.ip_address(a)) for a in interface_addrs(cfg.params(), "inet_interfaces")}
    except Exception:
        pass
    return own


def _network_refusal(item: str, old: set[str], own: set[str]) -> str | None:
    """Why mynetworks may not gain ITEM (None: it may, or has it already)."""
    if item in old:
        return None
    text = item[1:-1] if item.startswith("[") and "]" in item else item
    text = text.replace("]/", "/")
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return f"mynetworks would gain {item!r}, which is not an address or network"
    if str(net.network_address) in own and net.num_addresses == 1:
        return None
    if net.is_loopback or (net.is_private and not net.is_global and net.prefixlen >= 8
                           and not _is_documentation(net)):
        return None
    return f"mynetworks would gain {item}, which is neither this host nor a private network"


def _networks_ok(cfg: Config, new: Config, changes) -> str | None:
    """None when every entry the changes add to mynetworks is the host's own
    address or a private/loopback network; otherwise why not."""
    if not any(c.parameter == "mynetworks" for c in changes):
        return None
    own = _own_addresses(cfg)
    for ch in changes:
        if ch.parameter != "mynetworks":
            continue
        view = new.params(ch.service) if ch.service else new.params()
        old_view = cfg.params(ch.service) if ch.service else cfg.params()
        old = set(old_view.get_list("mynetworks"))
        for item in view.get_list("mynetworks"):
            why = _network_refusal(item, old, own)
            if why:
                return why
    return None


def _networks_refused(cfg: Config, changes: tuple[Change, ...]) -> bool:
    """Would _networks_ok surely refuse CHANGES? Worked out without the
    changed copy where that is certain: a main.cf mynetworks value without
    `$` is its own expansion in the copy, so its entries are known. False
    when it cannot tell (the copy decides)."""
    own: set[str] | None = None
    for ch in changes:
        if ch.parameter != "mynetworks" or ch.service is not None or "$" in ch.value:
            continue
        if own is None:
            memo = memos(cfg).config_memo
            own = memo.get(_OWN)
            if own is None:
                own = memo[_OWN] = _own_addresses(cfg)
        old = set(cfg.params().get_list("mynetworks"))
        for item, _pos in split_quoted(ch.value, LIST_SEPARATORS):
            if _network_refusal(item, old, own):
                return True
    return False


_DOC_NETS = tuple(ipaddress.ip_network(n) for n in
                  ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"))


def _is_documentation(net) -> bool:
    return any(net.version == d.version and net.subnet_of(d) for d in _DOC_NETS)


def _in_mynetworks(cfg: Config, service: str, addr: str) -> bool:
    tx = Transaction(client_address=addr, client_name="unknown")
    try:
        ev = Evaluator(cfg, tx, service, OfflineResolver())
        return ev.mynetworks_match([]).matched
    except Exception:
        return True  # cannot tell: treat the probe as unusable


def _foreign_recipient(cfg: Config, tx: Transaction, service: str) -> str | None:
    """The traced recipient when the unchanged configuration does not serve
    its domain (address class default), else None."""
    rcpt = (tx.recipient or "").strip("<>")
    if "@" not in rcpt:
        return None
    try:
        ev = Evaluator(cfg, tx, service, OfflineResolver())
        r = resolve_addr(ev, rcpt, with_transport=False)
    except Exception:
        return rcpt  # cannot tell: probe it
    return rcpt if r.address_class == CLASS_DEFAULT or r.routed else None


def _opens_relay(cfg: Config, new: Config, tx: Transaction, service: str,
                 memo: "_ProbeMemo | None" = None) -> str | None:
    """None when no unauthenticated internet client gains anything: for each
    smtpd service, a probe client outside mynetworks sends to the traced
    recipient and to probe@ its domain (when this server does not serve
    that domain) and to an address in a domain nobody serves; each answer
    on the copy must be a refusal wherever the original refused. MEMO: what
    the probes answered before on this copy (they depend on the two
    configurations alone)."""
    if memo is None:
        memo = _ProbeMemo(cfg, new)
    rcpts = [f"postmaster@{PROBE_DOMAIN}", f"probe@{PROBE_DOMAIN}"]
    foreign = _foreign_recipient(cfg, tx, service)
    if foreign:
        rcpts.insert(0, foreign)
        # first an address of the same domain that is the same for every
        # traced recipient there: an edit that lets the internet relay to
        # the domain is refused on that probe, asked once per copy, and the
        # traced recipient's own probe is then not needed
        domain_probe = "probe@" + foreign.rpartition("@")[2]
        if domain_probe != foreign:
            rcpts.insert(0, domain_probe)
    for svc in new.smtpd_services():
        key = svc.key
        client = memo.client(key)
        if client is None:
            return f"every probe client is in mynetworks on {key}"
        for rcpt in rcpts:
            bad = memo.probe(key, client, rcpt)
            if bad:
                return bad
    return None


class _ProbeMemo:
    """_opens_relay's probes on one changed copy, each asked once: the probe
    client of each service, and per (service, client, recipient) why the
    probe opens something ("" when it does not). Nothing in them depends
    on the traced transaction but the recipient."""

    __slots__ = ("cfg", "new", "_clients", "_probes")

    def __init__(self, cfg: Config, new: Config):
        self.cfg = cfg
        self.new = new
        self._clients: dict[str, str | None] = {}
        self._probes: dict[tuple[str, str, str], str] = {}

    def client(self, key: str) -> str | None:
        if key in self._clients:
            return self._clients[key]
        got = self._clients[key] = next((a for a in PROBE_CLIENTS if not _in_mynetworks(self.new, key, a)), None)
        return got

    def probe(self, key: str, client: str, rcpt: str) -> str:
        k = (key, client, rcpt)
        got = self._probes.get(k)
        if got is None:
            if len(self._probes) > 10_000:
                self._probes.clear()
            got = self._probes[k] = _probe(self.cfg, self.new, key, client, rcpt)
        return got


def _probe(cfg: Config, new: Config, key: str, client: str, rcpt: str) -> str:
    """Why the probe from CLIENT to RCPT on service KEY shows that NEW opens
    something CFG refused ("" when it does not)."""
    probe = Transaction(client_address=client, client_name="unknown", helo="client.example.net",
                        sender="probe@example.net", recipient=rcpt)
    try:
        after = evaluate(new, probe, service=key, resolver=OfflineResolver())
    except Exception as exc:
        return f"the probe could not be evaluated on {key}: {exc}"
    if not after.accepted:
        return ""
    try:
        before = evaluate(cfg, probe, service=key, resolver=OfflineResolver())
    except Exception:
        return f"the probe could not be evaluated on {key}"
    if not before.accepted:
        return (f"an unauthenticated internet client ({client}) could then send to <{rcpt}> "
                f"on {key}: {after.reply}")
    return ""


# ---------------------------------------------------------------------------
# The proof


# What is remembered lives in the configuration's cache, in its content_memo:
# a proof evaluates on the tables as they are, so it is kept as long as the
# cache trusts what its tables answer (a table generation: until a watched
# file changes, at most a second). Each proof by (transaction, service,
# changes, ...); why a change set is refused whatever the transaction (it
# does not load, it opens mynetworks), by change set; and the changed copies
# themselves, the few most recently used -- a batch or a log asks the same
# edit for many transactions, and a copy's tables, once opened, answer the
# next one at once (few: each holds its own tables, and a mysql: table its
# own connection). The host's own addresses, and the change sets their
# mynetworks entries alone refuse, are kept while the configuration
# is loaded (config_memo).
_PROOFS = "suggest: proofs"
_REFUSED = "suggest: refused change sets"
_COPIES = "suggest: changed copies"
_NETWORKS_REFUSED = "suggest: change sets refused for their mynetworks entries"
_OWN = "suggest: the host's own addresses"
COPIES_KEPT = 8


class _Copy:
    """A changed copy and what depends on the changes alone, each worked
    out when first needed, in _check's order."""

    __slots__ = ("cfg", "changes", "new", "_problems", "_networks", "_expanded", "probes", "opened_last")

    def __init__(self, cfg: Config, changes: tuple[Change, ...]):
        self.cfg = cfg
        self.changes = changes
        self.new = apply_changes(cfg, changes)
        self._problems: dict[str, list[str]] = {}      # service -> load_problems()
        self._networks: list[str | None] = []
        self._expanded: tuple[tuple[str, str], ...] | None = None
        self.probes = _ProbeMemo(cfg, self.new)
        self.opened_last = False    # did the last proof that asked _opens_relay find it open?

    def opened(self, why: str | None) -> str | None:
        self.opened_last = bool(why)
        return why

    def load_problems(self, service: str) -> list[str]:
        got = self._problems.get(service)
        if got is None:
            got = self._problems[service] = load_problems(self.cfg, self.new, service)
        return got

    def networks(self) -> str | None:
        if not self._networks:
            self._networks.append(_networks_ok(self.cfg, self.new, self.changes))
        return self._networks[0]

    def expanded(self) -> tuple[tuple[str, str], ...]:
        if self._expanded is None:
            new = self.new
            self._expanded = tuple((ch.parameter, (new.params(ch.service) if ch.service else new.params())
                                    .expand(ch.parameter)) for ch in self.changes)
        return self._expanded


def _copy(cfg: Config, changes: tuple[Change, ...]) -> _Copy:
    copies = memos(cfg).content_memo.setdefault(_COPIES, {})
    got = copies.pop(changes, None)   # taken out and put back: the dict keeps use order
    if got is None:
        got = _Copy(cfg, changes)
        while len(copies) >= COPIES_KEPT:
            del copies[next(iter(copies))]
    copies[changes] = got
    return got


def prove(cfg: Config, trace: Trace, changes: tuple[Change, ...], resolver: Resolver | None = None,
          policy_answers: dict | None = None) -> Proof | None:
    """The Proof that CHANGES are complete, load, flip TRACE's verdict and
    are safe; None when any of that fails (`why_not` says why)."""
    return _prove(cfg, trace, changes, resolver, policy_answers)[0]


def why_not(cfg: Config, trace: Trace, changes: tuple[Change, ...], resolver: Resolver | None = None,
            policy_answers: dict | None = None) -> str:
    """Why prove() refused CHANGES ("" when it did not)."""
    return _prove(cfg, trace, changes, resolver, policy_answers, need_why=True)[1]


# the reason of a refusal that prove() was sure of without working out why
# (why_not() works it out when asked)
_UNSAID = "refused; the reason was not worked out"


def _prove(cfg, trace, changes, resolver, policy_answers, need_why: bool = False) -> tuple[Proof | None, str]:
    key = (trace.transaction, trace.service, changes, id(resolver) if resolver is not None else None,
           tuple(sorted((policy_answers or {}).items())))
    per_cfg = memos(cfg).content_memo.setdefault(_PROOFS, {})
    got = per_cfg.get(key)
    if got is None or (need_why and got[1] is _UNSAID):
        try:
            got = _check(cfg, trace, changes, resolver, policy_answers, need_why)
        except Exception as exc:  # a proof that cannot be made is a refusal
            got = (None, f"could not be checked: {exc}")
        per_cfg[key] = got
    return got


def _check(cfg, trace: Trace, changes, resolver, policy_answers,
           need_why: bool = True) -> tuple[Proof | None, str]:
    if not changes:
        return None, "no change"
    for ch in changes:
        if "..." in ch.value or "\n" in ch.value:
            return None, f"{ch.parameter}: the value is not complete"
        if ch.service is not None and any(c.isspace() for c in ch.value):
            return None, f"{ch.parameter}: postconf -P does not accept white space in a value"
        if ch.parameter in _refs_of(ch.value):
            return None, f"{ch.parameter} would refer to itself (unreasonable macro call nesting)"
    changes = tuple(changes)
    refused = memos(cfg).content_memo.setdefault(_REFUSED, {})
    why = refused.get((changes, trace.service))
    if why is not None:
        return None, why
    if not need_why:
        # refused whatever the copy says (a mynetworks entry that is not
        # allowed): no copy is built just to say so
        sure = memos(cfg).config_memo.setdefault(_NETWORKS_REFUSED, {})
        no = sure.get(changes)
        if no is None:
            if len(sure) > 10_000:
                sure.clear()
            no = sure[changes] = _networks_refused(cfg, changes)
        if no:
            return None, _UNSAID
    copy = _copy(cfg, changes)
    new = copy.new
    problems = copy.load_problems(trace.service)
    why = "the changed configuration does not load: " + "; ".join(problems) if problems else copy.networks()
    if why:
        refused[(changes, trace.service)] = why
        copies = memos(cfg).content_memo.get(_COPIES, {})  # (a new generation may have begun)
        if copies.get(changes) is copy:
            del copies[changes]
        return None, why
    expanded = copy.expanded()
    # a change that opens the server is refused whatever it does to the
    # traced transaction: when the last proof on this copy found it open,
    # that is asked first, and the transaction need not be evaluated on the
    # copy (the reason, which depends on the order, is then not worked out)
    asked = not need_why and copy.opened_last
    if asked:
        bad = copy.opened(_opens_relay(cfg, new, trace.transaction, trace.service, copy.probes))
        if bad:
            return None, _UNSAID
    after = evaluate(new, trace.transaction, service=trace.service, resolver=resolver or OfflineResolver(),
                     policy_answers=policy_answers)
    if trace.config_errors:
        if after.config_errors:
            return None, "smtpd would still refuse to start: " + after.config_errors[0]
    elif after.accepted == trace.accepted:
        return None, f"the verdict stays the same: {after.reply}"
    if not asked:
        bad = copy.opened(_opens_relay(cfg, new, trace.transaction, trace.service, copy.probes))
        if bad:
            return None, bad
    return Proof(changes, after.reply, after.accepted, after.conditional, expanded), ""


def _refs_of(value: str) -> set[str]:
    try:
        return set(referenced_names(value))
    except Exception:
        return set()
