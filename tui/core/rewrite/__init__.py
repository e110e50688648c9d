"""What trivial-rewrite does: canonicalize an address, resolve it to an
address class, transport and next hop, and route accepted mail.

Pure: these functions ask the tables they are given (env.tables, see
tui.core.postfix.maps.Tables) and keep nothing; what is remembered between
calls is tui.core.cache's (its resolve_addr and route)."""
