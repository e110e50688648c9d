"""Screens of the explorer app (help)."""
