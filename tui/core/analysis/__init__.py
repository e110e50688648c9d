"""Analyses built on the engine: mail-log triage."""
