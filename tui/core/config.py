"""A Postfix configuration, loaded the way Postfix (postconf 3.7) reads it.

    cfg = load_config("/etc/postfix")
    view = cfg.params()              # main.cf + defaults
    view = cfg.params("submission")  # ... plus that service's -o overrides

Every parameter has a raw value, an expanded value (postconf -x) and a Source.
Problems in the files are Diagnostics (file, line, message in Postfix's words);
only a missing/unreadable main.cf raises ConfigError.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tui.core import defaults as _defaults
from tui.core.expand import ExpandResult, mac_expand, referenced_names
from tui.core.model import Diagnostic, ExplorerError, Source

SPACE = " \t\r\n"
LIST_SEPARATORS = " \t\r\n,"          # CHARS_COMMA_SP
MASTER_TYPES = ("unix", "fifo", "inet", "pass", "unix-dgram")
REST_CLASSES = "smtpd_restriction_classes"


class ConfigError(ExplorerError):
    """main.cf (or master.cf when it is required) cannot be read."""


# ------------------------------------------------------------------ readers

@dataclass(frozen=True)
class LogicalLine:
    """One logical line: text joined from physical lines (newlines dropped,
    leading white space of continuation lines kept, as readllines() does)."""

    text: str
    line: int                 # first physical line
    last_line: int
    starts: tuple[tuple[int, int], ...] = ()   # (offset in text, physical line)

    def line_at(self, offset: int) -> int:
        """The physical line that holds text[offset]."""
        best = self.line
        for off, ln in self.starts:
            if off <= offset:
                best = ln
            else:
                break
        return best


def read_logical_lines(text: str, path: str, diagnostics: list[Diagnostic]) -> list[LogicalLine]:
    """Postfix's readllines(): comments (first non-blank '#') and blank lines
    are dropped, also between continuation lines; a line that starts with
    white space continues the previous one."""
    phys = text.split("\n")
    has_final_newline = text.endswith("\n")
    if has_final_newline:
        phys = phys[:-1]
    out: list[LogicalLine] = []
    cur: list[str] = []
    starts: list[tuple[int, int]] = []
    first = 0
    last = 0
    length = 0

    def flush() -> None:
        nonlocal cur, starts, length
        if cur:
            joined = "".join(cur)
            if joined[0] in SPACE:
                shown = joined[:30] + ("..." if len(joined) > 30 else "")
                diagnostics.append(Diagnostic(
                    "warning", f'logical line must not start with whitespace: "{shown}"',
                    path, first))
            else:
                out.append(LogicalLine(joined, first, last, tuple(starts)))
        cur, starts, length = [], [], 0

    for idx, raw in enumerate(phys, start=1):
        raw = raw.replace("\0", "")
        stripped = raw.lstrip(SPACE)
        if stripped == "" or stripped[0] == "#":
            continue  # comment or blank: never ends nor starts a logical line
        if raw[0] not in SPACE and cur:
            flush()
        if not cur:
            first = idx
        starts.append((length, idx))
        cur.append(raw)
        length += len(raw)
        last = idx
    flush()
    return out


def split_nameval(text: str) -> tuple[str, str] | str:
    """Postfix's split_nameval(): (name, value) or an error message."""
    i, n = 0, len(text)
    while i < n and text[i] in SPACE:
        i += 1
    if i >= n or text[i] == "=":
        return "missing attribute name"
    j = i
    while j < n and text[j] not in SPACE and text[j] != "=":
        j += 1
    k = j
    while k < n and text[k] in SPACE:
        k += 1
    if k >= n or text[k] != "=":
        return "missing '=' after attribute name"
    return text[i:j], text[k + 1:].strip(SPACE)


def split_quoted(text: str, sep: str = SPACE, parens: str = "{}") -> list[tuple[str, int]]:
    """mystrtokq(): tokens split on `sep`, but never inside balanced {}.
    Returns (token, offset) pairs."""
    out = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in sep:
            i += 1
        if i >= n:
            return out
        start = i
        level = 0
        while i < n:
            ch = text[i]
            if ch == parens[0]:
                level += 1
            elif level > 0 and ch == parens[1]:
                level -= 1
            elif level == 0 and ch in sep:
                break
            i += 1
        out.append((text[start:i], start))


def _balpar(text: str, parens: str = "{}") -> int:
    """balpar(): length of the balanced group at text[0], 0 if unbalanced."""
    level = 0
    for i, ch in enumerate(text):
        if ch == parens[0]:
            level += 1
        elif ch == parens[1]:
            level -= 1
            if level == 0:
                return i + 1
    return 0


def extract_braces(arg: str) -> tuple[str, str | None]:
    """extpar(..., EXTPAR_FLAG_STRIP): "{ text }" -> "text" (+ error)."""
    err = None
    if not arg.startswith("{"):
        return arg, f"no '{{' at start of text in \"{arg}\""
    n = _balpar(arg)
    if n == 0:
        err = f"missing '}}' in \"{arg}\""
        inner = arg[1:]
    else:
        if n != len(arg):
            err = f"syntax error after '}}' in \"{arg}\""
        inner = arg[1:n - 1]
    return inner.strip(SPACE), err


# ------------------------------------------------------------------ services

@dataclass
class Service:
    """One master.cf entry."""

    name: str
    type: str
    private: str
    unpriv: str
    chroot: str
    wakeup: str
    maxproc: str
    command: str
    args: list[str]
    overrides: dict[str, tuple[str, Source]]
    path: str
    line: int

    @property
    def key(self) -> str:
        return f"{self.name}/{self.type}"

    @property
    def process_name(self) -> str:
        return os.path.basename(self.command)

    def __str__(self) -> str:
        return self.key


def _parse_master_entry(ll: LogicalLine, path: str, diags: list[Diagnostic]) -> Service | None:
    toks = split_quoted(ll.text)
    if len(toks) < 8:
        diags.append(Diagnostic("error", "bad field count", path, ll.line))
        return None
    f = [t for t, _ in toks]
    raw = ll.text.replace("\n", " ")

    def bad(what: str, value: str) -> Service | None:
        diags.append(Diagnostic("error", f'invalid {what} field "{value}" in "{raw}"', path, ll.line))
        return None

    if f[1] not in MASTER_TYPES:
        return bad("type", f[1])
    for i, what in ((2, "private"), (3, "unprivileged"), (4, "chroot")):
        if len(f[i]) != 1 or f[i] not in "yn-":
            return bad(what, f[i])
    wake = f[5]
    digits = wake[:-1] if wake.endswith("?") else wake
    if not (wake[0] == "-" and len(digits) == 1) and not digits.isdigit() and digits != "":
        return bad("wakeup", wake)
    if f[6] != "-" and not f[6].isdigit():
        return bad("process_limit", f[6])

    name, typ = f[0], f[1]
    scope = f"{name}/{typ}"
    overrides: dict[str, tuple[str, Source]] = {}
    args: list[str] = []
    # Daemon options: -o name=value, -o { name = value }, -oname=value, -vo ...
    items = list(toks[8:])
    i = 0
    in_opts = True
    while i < len(items):
        arg, off = items[i]
        if in_opts and (not arg.startswith("-") or arg == "--"):
            in_opts = False
        if not in_opts:
            if arg.startswith("{"):
                inner, err = extract_braces(arg)
                if err:
                    diags.append(Diagnostic("warning", f"master.cf: {err}", path, ll.line_at(off)))
                args.append(inner)
            else:
                args.append(arg)
            i += 1
            continue
        # "-vo" -> "-v" "-o"
        opt_pos = arg.find("o", 1)
        if opt_pos > 1:
            items.insert(i + 1, ("-" + arg[opt_pos:], off + opt_pos - 1))
            arg = arg[:opt_pos]
        if arg[1:2] != "o":
            args.append(arg)
            i += 1
            continue
        if len(arg) > 2:
            value, voff = arg[2:], off + 2
            arg = "-o"
        elif i + 1 < len(items):
            value, voff = items[i + 1]
            i += 1
        else:
            args.append(arg)
            i += 1
            continue
        args.append("-o")
        if value.startswith("{"):
            inner, err = extract_braces(value)
            if err:
                diags.append(Diagnostic("warning", f"master.cf: {err}", path, ll.line_at(voff)))
            got = split_nameval(inner)
            if isinstance(got, str):
                diags.append(Diagnostic("warning", f'master.cf: {got}: "{inner}"', path, ll.line_at(voff)))
                args.append(inner)
                i += 1
                continue
            value = f"{got[0]}={got[1]}"
        args.append(value)
        got = split_nameval(value)
        if not isinstance(got, str):
            pname, pvalue = got
            overrides[pname] = (pvalue, Source("master.cf", path, ll.line_at(voff), service=name))
        i += 1
    return Service(name, typ, f[2], f[3], f[4], f[5], f[6], f[7], args,
                   overrides, path, ll.line)


# ------------------------------------------------------------------ config

@dataclass
class MainEntry:
    value: str
    line: int


class Config:
    """The loaded configuration: main.cf, master.cf, defaults."""

    def __init__(self, config_dir: str | os.PathLike, main: dict[str, MainEntry],
                 services: list[Service], diagnostics: list[Diagnostic],
                 hostname: str | None = None, host_values: dict[str, str] | None = None,
                 master_path: str | None = None):
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
        self._register_parameters()

    # -- services
    def service(self, name: str, type: str | None = None) -> Service | None:
        if type is None and "/" in name:
            name, type = name.split("/", 1)
        found = None
        for s in self.services:
            if s.name == name and (type is None or s.type == type):
                if type is None and s.type == "inet":
                    return s
                found = found or s
        return found

    def smtpd_services(self) -> list[Service]:
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
                for ref in referenced_names(value):
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
                        "warning", f"read-only parameter assignment: {pname}={pvalue}", s.path, src.line))
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
                    "warning", f"read-only parameter assignment: {pname}={entry.value}",
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
        self._known = known
        self._listed = listed
        # unused parameters, as postconf warns
        for pname, entry in self.main.items():
            if pname not in known:
                self.diagnostics.append(Diagnostic(
                    "warning", f"unused parameter: {pname}={entry.value}", self.main_path, entry.line))
        for s in self.services:
            for pname, (pvalue, src) in s.overrides.items():
                if pname not in known and pname not in local_valid[s.key]:
                    self.diagnostics.append(Diagnostic(
                        "warning", f"unused parameter: {pname}={pvalue}", s.path, src.line))

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
        it (e.g. an entry that came from $mynetworks names mynetworks')."""
        own = self.source(name)
        raw = self.raw(name)
        if raw is None or name in self.cfg.defaults.raw:
            return [(t, own) for t in self.get_list(name)]
        out: list[tuple[str, Source]] = []
        for tok, _ in split_quoted(raw, LIST_SEPARATORS):
            ref = _single_reference(tok)
            if ref is not None and self.raw(ref) is not None:
                sub = self.get_list_with_sources(ref) if ref != name else []
                out.extend(sub)
                continue
            for t, _ in split_quoted(self.expand_text(tok), LIST_SEPARATORS):
                out.append((t, own))
        return out


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


# ------------------------------------------------------------------ loading

def _read(path: Path) -> str:
    data = path.read_bytes()
    return data.decode("utf-8", errors="surrogateescape")


def parse_main_cf(text: str, path: str, diagnostics: list[Diagnostic],
                  preset: dict[str, str] | None = None) -> dict[str, MainEntry]:
    """name -> MainEntry. `preset` values come first with line 0, as postconf
    -c DIR puts config_directory=DIR in its dictionary before main.cf."""
    main: dict[str, MainEntry] = {n: MainEntry(v, 0) for n, v in (preset or {}).items()}
    for ll in read_logical_lines(text, path, diagnostics):
        got = split_nameval(ll.text)
        if isinstance(got, str):
            diagnostics.append(Diagnostic("error", f'{got}: "{ll.text}"', path, ll.line))
            continue
        name, value = got
        old = main.get(name)
        if old is not None and old.value != value:
            where = f" (line {old.line})" if old.line else ""
            diagnostics.append(Diagnostic(
                "warning", f"overriding earlier entry: {name}={old.value}{where}",
                path, ll.line))
        main[name] = MainEntry(value, ll.line)
    return main


def parse_master_cf(text: str, path: str, diagnostics: list[Diagnostic]) -> list[Service]:
    services: list[Service] = []
    for ll in read_logical_lines(text, path, diagnostics):
        svc = _parse_master_entry(ll, path, diagnostics)
        if svc is None:
            continue
        for i, old in enumerate(services):
            if old.name == svc.name and old.type == svc.type:
                diagnostics.append(Diagnostic(
                    "warning", f"duplicate service {svc.key}: this entry replaces the one "
                               f"at line {old.line}", path, ll.line))
                del services[i]
                break
        services.append(svc)
    return services


def load_config(config_dir: str | os.PathLike = "/etc/postfix", *,
                hostname: str | None = None,
                host_values: dict[str, str] | None = None,
                require_master: bool = False) -> Config:
    """Load DIR/main.cf and DIR/master.cf.

    hostname: use this instead of the host's name (myhostname/mydomain follow).
    host_values: explicit values for host-computed defaults, e.g.
    {"mynetworks": "127.0.0.0/8"}; their Source stays kind "host".
    Raises ConfigError only when main.cf (or, with require_master, master.cf)
    cannot be read."""
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
    try:
        master_text = _read(master_path)
    except OSError as exc:
        if require_master:
            raise ConfigError(f"open {master_path}: {exc.strerror or exc}", str(master_path)) from None
        diags.append(Diagnostic("warning", f"open {master_path}: {exc.strerror or exc}", str(master_path)))
    else:
        services = parse_master_cf(master_text, str(master_path), diags)
    return Config(config_dir, main, services, diags, hostname=hostname,
                  host_values=host_values, master_path=str(master_path))
