"""The query language shared by mysql_table(5) and sqlite_table(5)
(Postfix's db_common.c): the .cf file, %-expansion of the query and of
result_format, the `domain` restriction, and how rows are joined.

Rules (mysql_table(5), checked against postmap 3.7):
  %%  a literal %
  %s  the whole key                          (quoted)
  %u  local part of user@domain, else the whole key; an empty local part
      ("@domain") suppresses the query       (quoted)
  %d  domain of user@domain; no '@' or an empty domain suppresses the query
  %1..%9  domain labels from the right (%1 = com); too few labels or no
      domain suppresses the query
  %S %U %D  in the query: same as lower case. In result_format: %s %u %d
      expand the RESULT value (a value with an empty local part / without a
      domain is skipped when %u / %d are used), %S %U %D %1..%9 the key.
  `domain = list`: only keys user@domain with a non-empty local part and a
      matching domain are looked up (exact names, /file, type:table).
A suppressed query is "not found" without any query being run.
Every column of every row (mysql) or the first column of every row
(sqlite: dict_sqlite reads column 0 only) goes through result_format; non-empty results are joined
with ","; more than expansion_limit values is an error.
The key is folded to lower case before all this (postmap -q and smtpd both
open tables with DICT_FLAG_FOLD_FIX).
"""
from __future__ import annotations

import re

from tui.core.model import Diagnostic
from tui.core.tables.base import LookupResult, Table, logical_lines, open_table
from tui.core.text import scrub_assignments

_WS = " \t\r\n\f\v"


class CfError(Exception):
    pass


CF_PARAMS = ("hosts", "user", "password", "dbname", "dbpath", "query", "result_format", "domain",
             "expansion_limit", "select_field", "table", "where_field", "additional_conditions",
             "require_result_set", "option_file", "option_group", "tls_cert_file", "tls_key_file",
             "tls_CAfile", "tls_CApath", "tls_ciphers", "tls_verify_cert", "idle_interval",
             "retry_interval")


def read_cf(path: str) -> tuple[dict[str, tuple[str, int]], list[Diagnostic]]:
    """Read a Postfix-style `name = value` .cf file. Returns
    {name: (value, line)} (last one wins) and diagnostics. Raises OSError."""
    from tui.core.safeio import read_text

    text = read_text(path)  # a FIFO or a device is refused, not waited on
    params: dict[str, tuple[str, int]] = {}
    diags: list[Diagnostic] = []
    for lineno, line in logical_lines(text):
        if lineno < 0:
            diags.append(Diagnostic("warning", "logical line must not start with whitespace", path, -lineno))
            continue
        name, eq, value = line.partition("=")
        name = name.strip(_WS)
        if not eq or not name or any(c in _WS for c in name):
            shown = _short(line)
            if "password" in line.lower():
                shown = "password..."  # never echo what may be a secret
            diags.append(Diagnostic("error", f'missing "=" after parameter name: "{shown}"',
                                    path, lineno))
            continue
        params[name] = (value.strip(_WS), lineno)
    return params, diags


def _short(s, n=50):
    return s if len(s) <= n else s[:n] + "..."


# ----------------------------------------------------------------------
# Expansion
_PCT = re.compile(r"%(.)?", re.S)


class Template:
    """A query or result_format template, pre-scanned for what it needs."""

    def __init__(self, text: str, is_query: bool):
        self.text = text
        self.is_query = is_query
        self.parts: list[tuple[str, str]] = []  # ("lit", text) | ("var", letter)
        self.errors: list[str] = []
        pos = 0
        for m in _PCT.finditer(text):
            if m.start() > pos:
                self.parts.append(("lit", text[pos:m.start()]))
            pos = m.end()
            c = m.group(1)
            if c is None:
                self.errors.append("'%' at end of template")
                continue
            if c == "%":
                self.parts.append(("lit", "%"))
            elif c in "sudSUD123456789":
                self.parts.append(("var", c))
            else:
                self.errors.append(f"invalid expansion %{c}")
        if pos < len(text):
            self.parts.append(("lit", text[pos:]))
        letters = {p[1] for p in self.parts if p[0] == "var"}
        self.letters = letters
        self.nparts = max((int(c) for c in letters if c.isdigit()), default=0)


def _split_addr(s: str) -> tuple[str, str | None]:
    at = s.rfind("@")
    if at < 0:
        return s, None
    return s[:at], s[at + 1:]


def _key_parts(key: str, letters, nparts, upper_only: bool):
    """Values of the key-derived expansions, or None to suppress."""
    local, domain = _split_addr(key)
    vals: dict[str, str] = {}
    want = {c.lower() for c in letters if not c.isdigit() and (c.isupper() or not upper_only)}
    if "s" in want:
        vals["s"] = key
    if "u" in want:
        if domain is not None and local == "":
            return None
        vals["u"] = local if domain is not None else key
    if "d" in want or nparts:
        if domain is None or domain == "":
            if "d" in want or nparts:
                return None
        if "d" in want:
            vals["d"] = domain
        if nparts:
            labels = [lab for lab in domain.split(".") if lab]  # mystrtok: empty labels vanish
            if nparts > len(labels):
                return None
            for i in range(1, nparts + 1):
                vals[str(i)] = labels[-i]
    return vals


def expand_query(tpl: Template, key: str, quote) -> str | None:
    """The query for `key`, or None when Postfix would not run it."""
    vals = _key_parts(key, tpl.letters, tpl.nparts, upper_only=False)
    if vals is None:
        return None
    out = []
    for kind, t in tpl.parts:
        if kind == "lit":
            out.append(t)
        else:
            out.append(quote(vals[t.lower()] if not t.isdigit() else vals[t]))
    return "".join(out)


def expand_result(tpl: Template, value: str, key: str) -> str | None:
    """One result value through result_format; None = skip this value."""
    if value is None or value == "":
        return None
    vlocal, vdomain = _split_addr(value)
    out = []
    kvals = None
    for kind, t in tpl.parts:
        if kind == "lit":
            out.append(t)
            continue
        if t == "s":
            out.append(value)
        elif t == "u":
            if vdomain is not None and vlocal == "":
                return None
            out.append(vlocal if vdomain is not None else value)
        elif t == "d":
            if vdomain is None or vdomain == "":
                return None
            out.append(vdomain)
        else:
            if kvals is None:
                kvals = _key_parts(key, {c for c in tpl.letters if c.isupper()} |
                                   {c for c in tpl.letters if c.isdigit()}, tpl.nparts, upper_only=True)
                if kvals is None:
                    return None
            out.append(kvals[t.lower()] if not t.isdigit() else kvals[t])
    return "".join(out)


# ----------------------------------------------------------------------
def mysql_quote(s: str) -> str:
    """mysql_real_escape_string for single-byte-safe charsets (latin1, utf8):
    NUL, \\n, \\r, \\, ', " and ^Z are backslash-escaped."""
    return s.translate(_MYSQL_ESC)


_MYSQL_ESC = {0: "\\0", 10: "\\n", 13: "\\r", 92: "\\\\", 39: "\\'", 34: '\\"', 26: "\\Z"}


def sqlite_quote(s: str) -> str:
    """sqlite3_mprintf("%q"): single quotes doubled."""
    return s.replace("'", "''")


class DomainFilter:
    """The `domain` parameter: Postfix's string_list matching -- names
    (case-insensitive, exact: no parent domains), /file entries, type:table
    lookups and !negation, tried in order, first match decides."""

    def __init__(self, text: str, fold, view=None):
        self.items: list[tuple[bool, str, object]] = []  # (negated, "name"|"table", value)
        self.errors: list[str] = []
        self._add(text, fold, view, depth=0)

    def _add(self, text, fold, view, depth):
        for item in re.split(r"[\s,]+", text.strip()):
            if not item:
                continue
            neg = False
            while item.startswith("!"):
                neg, item = not neg, item[1:]
            if item.startswith("/") and depth < 5:
                from tui.core.safeio import read_text

                try:
                    body = " ".join(ln for ln in read_text(item).splitlines()
                                    if not ln.lstrip().startswith("#"))
                except OSError as exc:
                    self.errors.append(f"cannot read {item}: {exc.strerror}")
                    continue
                self._add(body, fold, view, depth + 1)
            elif ":" in item:
                self.items.append((neg, "table", open_table(item, view)))
            else:
                self.items.append((neg, "name", fold(item)))

    def check(self, key: str) -> tuple[bool, str | None]:
        """(eligible, error) for a (folded) key."""
        at = key.rfind("@")
        if at <= 0:
            return False, None          # no domain, or "@domain": not looked up
        dom = key[at + 1:]
        for neg, kind, value in self.items:
            if kind == "name":
                hit = dom == value
            else:
                r = value.lookup(dom)
                if r.error:
                    return False, r.error
                hit = r.found
            if hit:
                return (not neg), None
        return False, None


class SqlTable(Table):
    """Common part of mysql: and sqlite: tables. Subclasses set `quote`
    and implement _connect_params(params) and _run(query) -> rows."""

    is_pattern = False
    quote = staticmethod(mysql_quote)
    label = "sql"
    all_columns = True
    raw_bytes = False  # True: the driver sends a key's undecodable bytes as they are (mysql)

    def __init__(self, spec, type_, name, fold, view=None):
        super().__init__(spec, type_, name, fold)
        self.path = name
        self.query: Template | None = None
        self.result_format = Template("%s", is_query=False)
        self.expansion_limit = 0
        self.domain: DomainFilter | None = None
        self._diags: list[Diagnostic] = []
        if name.startswith(("/", ".")):
            try:
                params, diags = read_cf(name)
            except OSError as exc:
                self._set_status("unreadable", f"cannot read {name}: {exc.strerror or exc}")
                return
        else:
            # Postfix: a name that is not a path names main.cf parameters
            # NAME_query, NAME_hosts, ... (cfg_parser)
            if view is None:
                self._set_status("unreadable", f"{name} is not a file name: its settings are the "
                                 f"main.cf parameters {name}_query, ... (no configuration loaded)")
                return
            params, diags = {}, []
            for pname in CF_PARAMS:
                try:
                    raw = view.raw(f"{name}_{pname}")
                    if raw is not None:
                        params[pname] = (view.expand(f"{name}_{pname}"), None)
                except Exception:
                    continue
            self.path = f"main.cf ({name}_*)"
        self._diags.extend(diags)
        self.params = {k: v for k, (v, _ln) in params.items()}
        self.param_lines = {k: ln for k, (_v, ln) in params.items()}
        try:
            self._configure(view)
        except CfError as exc:
            self._set_status("unreadable", f"{name}: {exc}", self._diags)
            return
        self._set_status("ok", self._describe(), self._diags)

    def _describe(self) -> str:
        return f"{self.label} table configured in {self.path}"

    def select(self, query: str) -> tuple[list, str | None]:
        """Run one read-only SELECT with this table's own connection settings
        (hosts, timeouts, the password kept secret) and return (rows, error).
        For callers that read the database behind a table, e.g. PostfixAdmin's
        tables (tui.core.postfixadmin). Never raises; the error names the
        table and never contains the password."""
        if not self.status.usable:
            return [], f"{self.spec}: {self.status.message}"
        if not query.lstrip().lower().startswith("select"):
            return [], f"{self.spec}: only SELECT queries are run"
        try:
            rows, err = self._run_select(query)
        except Exception as exc:  # a bug in a driver is still a value
            rows, err = [], f"{self.spec}: query failed: {exc}"
        return list(rows or []), (self._scrub(err) if err else None)

    def _configure(self, view) -> None:
        p = self.params
        q = p.get("query")
        if q is None:
            # the legacy form, Postfix 2.1 and earlier
            if "table" in p and "select_field" in p and "where_field" in p:
                q = (f"SELECT {p['select_field']} FROM {p['table']} WHERE {p['where_field']} = '%s'"
                     + (f" {p['additional_conditions']}" if p.get("additional_conditions") else ""))
            else:
                raise CfError('missing "query" parameter (or the legacy select_field, table, where_field)')
        self.query = Template(q, is_query=True)
        if self.query.errors:
            self._diags.append(Diagnostic("warning", f"query: {self.query.errors[0]}", self.path,
                                          self.param_lines.get("query")))
        self.result_format = Template(p.get("result_format", "%s"), is_query=False)
        lim = p.get("expansion_limit", "0")
        try:
            self.expansion_limit = int(lim)
        except ValueError:
            raise CfError(f'bad numerical configuration: expansion_limit = {lim}')
        dom = p.get("domain", "")
        if dom.strip():
            self.domain = DomainFilter(dom, self.fold, view)
            if self.domain.errors:
                # Postfix's match_list: an unreadable /file is fatal
                raise CfError(f"domain: {self.domain.errors[0]}")

    # -- lookup -------------------------------------------------------------
    def _lookup(self, key: str) -> LookupResult:
        if not self.status.usable or self.query is None:
            return LookupResult(False, None, f"{self.spec}: {self.status.message}", key)
        if key == "":
            # Postfix: 'table "...": empty query string -- ignored'
            return LookupResult(False, None, None, key, "not queried: empty key")
        fkey = self.fold(key)
        if not self.fold.utf8 and not self.raw_bytes:
            try:
                fkey.encode("utf-8")
            except UnicodeEncodeError:
                return LookupResult(False, None, None, key, "not queried: key is not valid UTF-8")
        if self.domain is not None:
            ok, err = self.domain.check(fkey)
            if err:
                return LookupResult(False, None, err, key)
            if not ok:
                return LookupResult(False, None, None, key,
                                    "not queried: key is not user@domain in the `domain` list")
        query = expand_query(self.query, fkey, self.quote)
        if query is None:
            return LookupResult(False, None, None, key,
                                "not queried: the key lacks a part the query needs (%u/%d/%1-9)")
        rows, err = self._run(query)
        if err is not None:
            return LookupResult(False, None, self._scrub(err), key, query)
        values: list[str] = []
        for row in rows:
            # mysql: every column; sqlite: the first column only (postmap 3.7)
            for v in (row if self.all_columns else row[:1]):
                if v is None:
                    continue
                if isinstance(v, bytes):
                    v = v.decode("utf-8", "surrogateescape")
                elif not isinstance(v, str):
                    v = _text(v)
                r = expand_result(self.result_format, v, fkey)
                if r is None:
                    continue
                values.append(r)
                if self.expansion_limit > 0 and len(values) > self.expansion_limit:
                    return LookupResult(False, None,
                                        f"{self.spec}: Expansion limit exceeded for key: '{fkey}'",
                                        key, query)
        value = ",".join(values)
        if not value:
            return LookupResult(False, None, None, key, query)
        return LookupResult(True, value, None, key, query)

    def _run(self, query: str) -> tuple[list, str | None]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _run_select(self, query: str) -> tuple[list, str | None]:
        """select()'s query (a whole table read, not a lookup)."""
        return self._run(query)

    def _scrub(self, text: str) -> str:
        return scrub_assignments(text)


def _text(v) -> str:
    if isinstance(v, float):
        s = "%.15g" % v
        if "." not in s and "e" not in s and "n" not in s:
            s += ".0"
        return s
    return str(v)
