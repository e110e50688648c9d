"""unix:passwd.byname -- the password database of THIS host.

Postfix's local(8) uses it for local recipients. The explorer may run on
another machine than the mail server: the status says whose accounts these
are. Values are formatted as getpwnam(3) entries the way dict_unix does:
name:passwd:uid:gid:gecos:dir:shell. unix:group.byname works too.
"""
from __future__ import annotations

import socket

from tui.core.tables.base import Entry, LookupResult, Table


class UnixTable(Table):
    is_pattern = False

    def __init__(self, spec, type_, name, fold):
        super().__init__(spec, type_, name, fold)
        host = socket.gethostname()
        if name == "passwd.byname":
            try:
                import pwd  # noqa: F401
            except ImportError:
                self._set_status("unreadable", "this system has no password database")
                return
            self._set_status("ok", f"read from the password database of THIS host ({host}), "
                             "which may not be the mail server")
        elif name == "group.byname":
            self._set_status("ok", f"read from the group database of THIS host ({host}), "
                             "which may not be the mail server")
        else:
            self._set_status("unreadable", f"unknown table: unix:{name}")

    def _lookup(self, key: str) -> LookupResult:
        if not self.status.usable:
            return LookupResult(False, None, f"{self.spec}: {self.status.message}", key)
        if self.name == "passwd.byname":
            import pwd
            try:
                pw = pwd.getpwnam(self.fold(key))
            except (KeyError, ValueError):
                return LookupResult(False, None, None, key)
            value = ":".join([pw.pw_name, pw.pw_passwd, str(pw.pw_uid), str(pw.pw_gid),
                              pw.pw_gecos, pw.pw_dir, pw.pw_shell])
            return LookupResult(True, value, None, key, "getpwnam() on this host")
        import grp
        try:
            gr = grp.getgrnam(self.fold(key))
        except (KeyError, ValueError):
            return LookupResult(False, None, None, key)
        value = ":".join([gr.gr_name, gr.gr_passwd or "", str(gr.gr_gid), ",".join(gr.gr_mem)])
        return LookupResult(True, value, None, key, "getgrnam() on this host")

    def _count(self):
        return len(self._all())

    def _all(self):
        if not self.status.usable:
            return []
        if self.name == "passwd.byname":
            import pwd
            return sorted((p.pw_name, ":".join([p.pw_name, p.pw_passwd, str(p.pw_uid), str(p.pw_gid),
                                                p.pw_gecos, p.pw_dir, p.pw_shell])) for p in pwd.getpwall())
        import grp
        return sorted((g.gr_name, ":".join([g.gr_name, g.gr_passwd, str(g.gr_gid), ",".join(g.gr_mem)]))
                      for g in grp.getgrall())

    def _entries(self, offset, limit, search):
        items = [(k, v) for k, v in self._all() if not search or search.lower() in (k + " " + v).lower()]
        return [Entry(k, v, None) for k, v in items[offset:offset + limit]]
