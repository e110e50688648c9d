"""A Postfix configuration, loaded the way Postfix (postconf 3.7) reads it.

    cfg = load_config("/etc/postfix")
    view = cfg.params()              # main.cf + defaults
    view = cfg.params("submission")  # ... plus that service's -o overrides

Every parameter has a raw value, an expanded value (postconf -x) and a Source.
Problems in the files are Diagnostics (file, line, message in Postfix's words);
only a missing/unreadable main.cf raises ConfigError.

How the files are read: the physical lines become logical lines here, as
Postfix's readllines() does; the structure of each logical line comes from
the lark grammars grammars/main_cf.lark (`name = value`) and
grammars/master_cf.lark (a service entry: its fields, daemon options, -o
settings and arguments). Transformers below turn the parse trees into this
module's own objects; no lark type leaves this module, and a syntax error
becomes a SyntaxDiagnostic with Postfix's message.
"""
from __future__ import annotations

import functools

import os
from pathlib import Path

from tui.core.config import defaults as _defaults
from tui.core.config.main_cf import MainEntry, parse_main_cf
from tui.core.config.master_cf import Service, parse_master_cf
from tui.core.config.mystrtok import split_quoted
from tui.core.config.syntax import ConfigError, LIST_SEPARATORS, _read, printable
from tui.core.expand import ExpandResult, mac_expand, referenced_names
from tui.core.model import Diagnostic, Source


REST_CLASSES = "smtpd_restriction_classes"



@functools.lru_cache(maxsize=8192)
def _referenced(value: str) -> tuple[str, ...]:
    """referenced_names(), remembered: every Config scans the ~900 default
    values for the names they use, and a proof of a suggested edit builds a
    Config per candidate."""
    return tuple(referenced_names(value))

class Config:
    """The loaded configuration: main.cf, master.cf, defaults."""

    def __init__(self, config_dir: str | os.PathLike, main: dict[str, MainEntry],
                 services: list[Service], diagnostics: list[Diagnostic],
                 hostname: str | None = None, host_values: dict[str, str] | None = None,
                 master_path: str | None = None, master_missing: bool = False):
        self.config_dir = Path(config_dir)
        self._config_dir_text = str(config_dir)
        self.main_path = str(self.config_dir / "main.cf")
        self.master_path = master_path or str(self.config_dir / "master.cf")
        self.main = main
        self.services = services
        self.diagnostics = diagnostics
        self.defaults = _defaults.load_defaults()
        self.hostname = hostname or _defaults.host_name()
        self.host_values = dict(host_values or {})
        self._views: dict[str | None, ParamView] = {}
        # postconf reads on without master.cf (one warning); for a trace the
        # engine then assumes Postfix's stock smtp service, which is not a
        # service of this configuration (postconf -M lists none)
        self.master_missing = master_missing
        self.stock_service: Service | None = stock_smtp_service(self.master_path) \
            if self.master_missing else None
        self._register_parameters()

    def master_missing_note(self) -> str:
        """What a trace says when it ran in the assumed stock service."""
        return (f"{self.master_path} could not be read: assumed Postfix's stock service "
                f"'{STOCK_SMTP_LINE}' with no -o overrides")

    # -- services
    def service(self, name: str, type: str | None = None) -> Service | None:
        if type is None and "/" in name:
            name, type = name.split("/", 1)
        stock = self.stock_service
        if stock is not None and name == stock.name and type in (None, stock.type):
            return stock
        found = None
        for s in self.services:
            if s.name == name and (type is None or s.type == type):
                if type is None and s.type == "inet":
                    return s
                found = found or s
        return found

    def smtpd_services(self) -> list[Service]:
        if self.stock_service is not None:
            return [self.stock_service]
        return [s for s in self.services if s.type == "inet" and s.process_name == "smtpd"]

    # -- parameters
    def params(self, service: str | Service | None = None) -> ParamView:
        if isinstance(service, Service):
            svc = service
        elif service is None:
            svc = None
        else:
            svc = self.service(service)
            if svc is None:
                raise ConfigError(f"no such service in master.cf: {service}", self.master_path)
        key = svc.key if svc else None
        view = self._views.get(key)
        if view is None:
            base = None if svc is None else self.params()
            view = ParamView(self, svc, base)
            self._views[key] = view
        return view

    def is_known(self, name: str) -> bool:
        """In postconf's parameter table (built-in, service- or user-defined)."""
        return name in self._known

    def known_names(self) -> list[str]:
        """What plain `postconf` lists (sorted)."""
        return sorted(self._listed)

    def explicit_names(self) -> list[str]:
        """What `postconf -n` lists (sorted): known names set in main.cf."""
        return sorted(n for n in self.main if n in self._known)

    def default_value(self, name: str) -> str | None:
        """The default, before any host computation (None: unknown name)."""
        if name in self._service_defaults:
            return self._service_defaults[name]
        d = self.defaults.default(name)
        if d is not None:
            return d
        if name in self._user:
            return ""
        return None

    # postconf_user.c / postconf_service.c: which names postconf knows
    def _register_parameters(self) -> None:
        d = self.defaults
        self._service_defaults: dict[str, str] = {}
        self._service_param_owner: dict[str, str] = {}
        for s in self.services:
            for pname, pdef in _defaults.service_parameters(s.name, s.command):
                if d.default(pname) is None and pname not in self._service_defaults:
                    self._service_defaults[pname] = pdef
                    self._service_param_owner[pname] = s.key
        known = set(d.defaults) | set(d.legacy) | set(self._service_defaults)
        listed = set(d.defaults) | set(self._service_defaults)
        self._user: set[str] = set()
        local_valid: dict[str, set[str]] = {s.key: set() for s in self.services}

        def flag(name: str, scope: Service | None, where: str, line: int | None) -> None:
            supplied = False
            if scope is not None and name in scope.overrides:
                supplied = True
                local_valid[scope.key].add(name)
            elif name in self.main:
                supplied = True
                if name not in known:
                    known.add(name)
                    listed.add(name)
                    self._user.add(name)
            if scope is None:
                for s in self.services:
                    if name in s.overrides:
                        supplied = True
                        local_valid[s.key].add(name)
            if not supplied and name not in known:
                self.diagnostics.append(Diagnostic(
                    "warning", f"undefined parameter: {name}", where, line))

        def scan(value: str, scope: Service | None, where: str, line: int | None) -> None:
            if "$" in value:
                for ref in _referenced(value):
                    flag(ref, scope, where, line)

        for s in self.services:
            if not s.overrides:
                continue
            classes = s.overrides.get(REST_CLASSES)
            if classes is not None:
                for cname, _ in split_quoted(self._eval_in(classes[0], s), LIST_SEPARATORS):
                    flag(cname, s, s.path, classes[1].line)
            for pname, (pvalue, src) in list(s.overrides.items()):
                if pname in d.readonly:
                    self.diagnostics.append(Diagnostic(
                        "warning", printable(f"read-only parameter assignment: {pname}={pvalue}"), s.path, src.line))
                    del s.overrides[pname]
                    continue
                if pname in d.legacy:
                    listed.add(pname)
                if pname in d.raw:
                    continue
                scan(pvalue, s, s.path, src.line)
        for name in sorted(known):
            if name in d.raw or name in self.main:
                continue
            dv = self.default_value(name)
            if dv:
                scan(dv, None, self.main_path, None)
        classes_entry = self.main.get(REST_CLASSES)
        self.rest_classes: list[str] = []
        if classes_entry is not None:
            for cname, _ in split_quoted(self._eval_in(classes_entry.value, None), LIST_SEPARATORS):
                self.rest_classes.append(cname)
                flag(cname, None, self.main_path, classes_entry.line)
        for pname, entry in list(self.main.items()):
            if pname in d.readonly:
                self.diagnostics.append(Diagnostic(
                    "warning", printable(f"read-only parameter assignment: {pname}={entry.value}"),
                    self.main_path, entry.line))
                del self.main[pname]
                continue
            if pname in d.legacy:
                listed.add(pname)
            if pname in d.raw:
                continue
            scan(entry.value, None, self.main_path, entry.line)
        for s in self.services:
            for pname in s.overrides:
                if pname in self.rest_classes:
                    local_valid[s.key].add(pname)
        # Database tables configured in main.cf (`mysql:NAME`, no path) read
        # NAME_hosts, NAME_query, ...: postconf knows those names when a
        # parameter in use (not a restriction class) names such a table.
        in_use = [e.value for n, e in self.main.items() if n in known and n not in self.rest_classes]
        in_use += [v for s in self.services for v, _ in s.overrides.values()]
        for value in in_use:
            for pname in _defaults.dbms_parameters(value):
                known.add(pname)
                listed.add(pname)
        self._known = known
        self._listed = listed
        # unused parameters, as postconf warns
        for pname, entry in self.main.items():
            if pname not in known:
                self.diagnostics.append(Diagnostic(
                    "warning", printable(f"unused parameter: {pname}={entry.value}"), self.main_path, entry.line))
        for s in self.services:
            for pname, (pvalue, src) in s.overrides.items():
                if pname not in known and pname not in local_valid[s.key]:
                    self.diagnostics.append(Diagnostic(
                        "warning", printable(f"unused parameter: {pname}={pvalue}"), s.path, src.line))

    def _eval_in(self, value: str, scope: Service | None) -> str:
        """dict_eval() inside one name space only (main.cf, or a service's -o)."""
        if scope is None:
            return mac_expand(value, lambda n: e.value if (e := self.main.get(n)) else None).value
        return mac_expand(value, lambda n: v[0] if (v := scope.overrides.get(n)) else None).value


class ParamView:
    """Parameters as one process sees them: main.cf + defaults, optionally
    plus one master.cf service's -o overrides."""

    def __init__(self, cfg: Config, service: Service | None, base: ParamView | None):
        self.cfg = cfg
        self.service = service
        self._base = base
        self._exp_cache: dict[str, ExpandResult] = {}
        self._text_cache: dict[str, ExpandResult] = {}
        self._host_cache: dict[str, str] = {}
        self._list_cache: dict[str, tuple[str, ...]] = {}
        self._lws_cache: dict[str, tuple[tuple[str, Source], ...]] = {}
        self._bool_cache: dict[str, bool] = {}
        self._ro: dict[str, str] = {}
        if service is not None:
            pname = service.process_name
            self._ro = {"process_name": pname,
                        "service_name": service.name if service.name != pname else pname}

    @property
    def main(self) -> ParamView:
        return self._base if self._base is not None else self

    # -- raw values
    def _lookup(self, name: str) -> str | None:
        if self.service is not None:
            v = self._ro.get(name)
            if v is not None:
                return v
            o = self.service.overrides.get(name)
            if o is not None:
                return o[0]
        e = self.cfg.main.get(name)
        if e is not None:
            return e.value
        if not self.cfg.is_known(name):
            return None
        return self._default(name)

    def _default(self, name: str) -> str | None:
        cfg = self.cfg
        if name in cfg.defaults.host_params or name in cfg.host_values:
            if name in cfg.host_values:
                return cfg.host_values[name]
            v = self._host_cache.get(name)
            if v is None:
                v = self._compute_host(name)
                self._host_cache[name] = v
            return v
        return cfg.default_value(name)

    def _compute_host(self, name: str) -> str:
        cfg = self.cfg
        if name == "myhostname":
            dom = None
            if self.is_explicit("mydomain"):
                dom = self._expand_main_only("mydomain")
            return _defaults.default_myhostname(cfg.hostname, dom)
        if name == "mydomain":
            if self.is_explicit("myhostname"):
                host = self._expand_main_only("myhostname")
            else:
                host = self._default("myhostname") or ""
            return _defaults.default_mydomain(host)
        if name == "mynetworks":
            return _defaults.compute_mynetworks(
                self.expand("mynetworks_style"), self.expand("inet_interfaces"),
                self.expand("inet_protocols"))
        if name == "config_directory":
            return cfg._config_dir_text
        if name == "process_id":
            return str(os.getpid())
        if name == "process_name":
            return self._ro.get("process_name", "postconf")
        return cfg.default_value(name) or ""

    def _expand_main_only(self, name: str) -> str:
        """mail_conf_lookup_eval(): the explicit setting, expanded."""
        if self.service is not None and name in self.service.overrides:
            return mac_expand(self.service.overrides[name][0], self._lookup).value
        e = self.cfg.main.get(name)
        return self.cfg._eval_in(e.value, None) if e else ""

    def raw(self, name: str) -> str | None:
        """Unexpanded value; None if Postfix does not know the parameter."""
        return self._lookup(name)

    def is_explicit(self, name: str) -> bool:
        """Set in main.cf (or by this service's -o)."""
        if self.service is not None and name in self.service.overrides:
            return True
        e = self.cfg.main.get(name)
        return e is not None and e.line > 0

    def is_raw_parameter(self, name: str) -> bool:
        """Postfix never $-expands these (postconf -x shows them as written)."""
        return name in self.cfg.defaults.raw

    # -- expansion
    def expand_result(self, name: str) -> ExpandResult:
        r = self._exp_cache.get(name)
        if r is None:
            raw = self._lookup(name)
            if raw is None:
                r = ExpandResult("", [], True)
            elif name in self.cfg.defaults.raw:
                r = ExpandResult(raw)
            else:
                r = mac_expand(raw, self._lookup)
            self._exp_cache[name] = r
        return r

    def expand(self, name: str) -> str:
        """Fully expanded value (postconf -x); "" for an unknown name."""
        return self.expand_result(name).value

    def expand_errors(self, name: str) -> list[str]:
        """Expansion errors in Postfix's words (e.g. unreasonable macro call nesting)."""
        return self.expand_result(name).errors

    def expand_text_result(self, text: str) -> ExpandResult:
        r = self._text_cache.get(text)
        if r is None:
            r = mac_expand(text, self._lookup)
            self._text_cache[text] = r
        return r

    def expand_text(self, text: str) -> str:
        """Expand arbitrary text with this view's parameters."""
        return self.expand_text_result(text).value

    # -- provenance
    def source(self, name: str) -> Source:
        if self.service is not None:
            if name in self._ro:
                return Source("default", note=f"set by master(8) for {self.service.key}")
            o = self.service.overrides.get(name)
            if o is not None:
                return o[1]
        e = self.cfg.main.get(name)
        if e is not None:
            if e.line == 0:
                return Source("host", note="the configuration directory given")
            return Source("main.cf", self.cfg.main_path, e.line)
        cfg = self.cfg
        if name in cfg.defaults.host_params or name in cfg.host_values:
            note = "given explicitly" if name in cfg.host_values else None
            return Source("host", note=note)
        if name in cfg._service_param_owner:
            return Source("default", note=f"defined by master.cf service {cfg._service_param_owner[name]}")
        if cfg.defaults.depends_on_compat(name):
            return Source("default", note=f"compatibility_level {self.expand('compatibility_level')}")
        return Source("default")

    # -- names
    def names(self, explicit_only: bool = False) -> list[str]:
        if explicit_only:
            names = {n for n, e in self.cfg.main.items() if e.line > 0}
            if self.service is not None:
                names |= set(self.service.overrides)
            return sorted(names)
        names = set(self.cfg.known_names()) | set(self.cfg.main)
        if self.service is not None:
            names |= set(self.service.overrides)
        return sorted(names)

    # -- typed access
    def get_bool(self, name: str) -> bool:
        got = self._bool_cache.get(name)
        if got is None:
            got = self._bool_cache[name] = self._get_bool(name)
        return got

    def _get_bool(self, name: str) -> bool:
        v = self.expand(name).strip().lower()
        if v in ("yes", "true", "1"):
            return True
        if v in ("no", "false", "0"):
            return False
        dv = (self.cfg.default_value(name) or "").strip().lower()
        return dv == "yes"

    def get_int(self, name: str) -> int:
        v = self.expand(name).strip()
        try:
            return int(v)
        except ValueError:
            raise ConfigError(f"bad numerical configuration: {name} = {v}",
                              self.source(name).path, self.source(name).line) from None

    def get_list(self, name: str) -> list[str]:
        got = self._list_cache.get(name)
        if got is None:
            got = tuple(t for t, _ in split_quoted(self.expand(name), LIST_SEPARATORS))
            self._list_cache[name] = got
        return list(got)

    def get_list_with_sources(self, name: str) -> list[tuple[str, Source]]:
        """Each entry with the Source of the parameter whose raw text holds
        it (e.g. an entry that came from $mynetworks names mynetworks').
        Computed once per view (a trace asks for each restriction list)."""
        return list(self.list_with_sources_shared(name))

    def list_with_sources_shared(self, name: str) -> tuple[tuple[str, Source], ...]:
        """get_list_with_sources() as the cached tuple itself (no copy)."""
        got = self._lws_cache.get(name)
        if got is None:
            try:
                got = tuple(self._list_with_sources(name, (name,)))
            except _ReferenceLoop:
                # $a in b and $b in a: the entries are the expanded value's
                # (expand_errors() reports the loop), all from NAME itself
                own = self.source(name)
                got = tuple((t, own) for t in self.get_list(name))
            self._lws_cache[name] = got
        return got

    def _list_with_sources(self, name: str, seen: tuple[str, ...]) -> list[tuple[str, Source]]:
        own = self.source(name)
        raw = self.raw(name)
        if raw is None or name in self.cfg.defaults.raw:
            return [(t, own) for t in self.get_list(name)]
        out: list[tuple[str, Source]] = []
        for tok, _ in split_quoted(raw, LIST_SEPARATORS):
            ref = _single_reference(tok)
            if ref is not None and self.raw(ref) is not None:
                if ref != name and ref in seen:
                    raise _ReferenceLoop(ref)
                sub = self._list_with_sources(ref, seen + (ref,)) if ref != name else []
                out.extend(sub)
                continue
            for t, _ in split_quoted(self.expand_text(tok), LIST_SEPARATORS):
                out.append((t, own))
        return out


class _ReferenceLoop(Exception):
    """A list parameter that refers to itself through others."""


def _single_reference(tok: str) -> str | None:
    """"$name" / "${name}" / "$(name)" alone -> name."""
    if not tok.startswith("$") or len(tok) < 2:
        return None
    body = tok[1:]
    if body[0] in "({" and body[-1] == {"(": ")", "{": "}"}[body[0]]:
        body = body[1:-1]
    if body and all(c.isalnum() or c == "_" for c in body):
        return body
    return None


# The smtpd line of the master.cf that Postfix installs.
STOCK_SMTP_LINE = "smtp inet n - y - - smtpd"


def stock_smtp_service(master_path: str) -> Service:
    """Postfix's stock `smtp inet n - y - - smtpd` service, no -o overrides
    (what a configuration without master.cf is traced in)."""
    f = STOCK_SMTP_LINE.split()
    return Service(f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], [], {}, master_path, 0)


def load_config(config_dir: str | os.PathLike = "/etc/postfix", *,
                hostname: str | None = None,
                host_values: dict[str, str] | None = None,
                require_master: bool = False) -> Config:
    """Load DIR/main.cf and DIR/master.cf.

    hostname: use this instead of the host's name (myhostname/mydomain follow).
    host_values: explicit values for host-computed defaults, e.g.
    {"mynetworks": "127.0.0.0/8"}; their Source stays kind "host".
    Raises ConfigError only when main.cf (or, with require_master, master.cf)
    cannot be read, or when the grammars are missing (a broken install).
    An unreadable master.cf is otherwise a warning, in postconf's words
    (`open DIR/master.cf: No such file or directory`); the configuration
    then has no services of its own (cfg.master_missing), and
    cfg.service("smtp") is Postfix's stock smtp service, which a trace
    runs in and says so."""
    d = Path(config_dir)
    diags: list[Diagnostic] = []
    main_path = d / "main.cf"
    try:
        main_text = _read(main_path)
    except OSError as exc:
        raise ConfigError(f"open {main_path}: {exc.strerror or exc}", str(main_path)) from None
    main = parse_main_cf(main_text, str(main_path), diags,
                         preset={"config_directory": str(config_dir)})
    master_path = d / "master.cf"
    services: list[Service] = []
    master_missing = False
    try:
        master_text = _read(master_path)
    except OSError as exc:
        master_missing = True
        if require_master:
            raise ConfigError(f"open {master_path}: {exc.strerror or exc}", str(master_path)) from None
        diags.append(Diagnostic("warning", f"open {master_path}: {exc.strerror or exc}", str(master_path)))
    else:
        services = parse_master_cf(master_text, str(master_path), diags)
    return Config(config_dir, main, services, diags, hostname=hostname,
                  host_values=host_values, master_path=str(master_path),
                  master_missing=master_missing)
