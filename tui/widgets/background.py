"""Background work for the app: plain daemon threads that post messages.

Textual's thread workers run in the event loop's default executor, which
the loop waits for when it closes: one table stuck in a read (a MySQL
server that stopped answering, a FIFO) kept `q` from quitting and made a
second Ctrl-C print a traceback. A daemon thread is never waited for.

Work done here never touches widgets or the app's model: it computes a
result and posts a message; the widget that receives it changes state on
the UI thread.
"""
from __future__ import annotations

import threading
from typing import Callable

from textual.message import Message
from textual.message_pump import MessagePump


def start(name: str, fn: Callable[..., None], *args) -> threading.Thread:
    t = threading.Thread(target=fn, args=args, daemon=True, name=f"postfix-explorer: {name}")
    t.start()
    return t


def post(target: MessagePump, message: Message) -> None:
    """Post MESSAGE from a background thread; nothing happens once the app
    has closed (a late answer from a slow table is simply dropped)."""
    try:
        target.post_message(message)
    except RuntimeError:  # the event loop is closed: the user quit meanwhile
        pass
