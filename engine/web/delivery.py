"""Handing what an action queued to a dispatcher thread: the page answers at once, and the PDF rendering, the
signatures and the delivery happen off the request path (the case page shows their progress meanwhile).

A node running its own dispatcher (``exhorto serve``: ``app.state.dispatcher``) is woken, so that delivery starts
now rather than at its next interval. Without one (hub mode, small nodes, tests) the web starts its own, which
runs only when woken. Either way :func:`engine.outbox.dispatch_all` does the work, with its claims: nothing is sent
twice, and a crash leaves the message queued for the next run."""

from __future__ import annotations

import threading

from fastapi import Request

from engine.api.dispatcher import BackgroundDispatcher

_LOCK = threading.Lock()


def hand_over(request: Request) -> bool:
    """Dispatch what the current request queued, in the background; False when this node leaves delivery to a
    later run (no dispatcher of its own and ``dispatch_after_send`` off)."""
    state = request.app.state
    dispatcher = getattr(state, "dispatcher", None)
    if dispatcher is None:
        config = state.exhorto_web
        if not config.dispatch_after_send:
            return False
        with _LOCK:
            dispatcher = getattr(state, "web_dispatcher", None)
            if dispatcher is None:
                dispatcher = state.web_dispatcher = BackgroundDispatcher(config.db, None)
    dispatcher.wake()
    return True
