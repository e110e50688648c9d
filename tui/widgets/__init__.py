"""Widgets of the explorer app (tree, detail pane, trace pane) and the
pure helpers they use (engine.py, descriptions.py)."""
