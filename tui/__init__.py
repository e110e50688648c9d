"""postfix-explorer: understand a Postfix configuration."""

__version__ = "0.1.0"
