"""What trivial-rewrite does: canonicalize an address, resolve it to an
address class, transport and next hop, and route accepted mail."""
