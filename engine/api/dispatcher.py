"""A background outbox dispatcher for ``exhorto serve``: delivers queued messages every few seconds.

Deployments may instead run the Prefect dispatch flow; both call :func:`engine.outbox.dispatch`, which is safe to
run concurrently (a message is settled once, receipts are idempotent)."""

from __future__ import annotations

import logging
import threading

from engine import outbox
from engine.store.db import Database
from engine.transport.http import NodeTransport

log = logging.getLogger("exhorto.dispatcher")

# How long a stopping server waits for a delivery in flight. Cutting one short loses nothing: the message stays
# queued and is sent again (the receiver answers a repeat with the same receipt).
STOP_WAIT_SECONDS = 5.0


class BackgroundDispatcher:
    """Runs :func:`engine.outbox.dispatch_all` in its own thread every ``interval`` seconds and whenever
    :meth:`wake` is called (an action just queued a message); ``interval=None``: only when woken. A wake during a
    run causes one more run, so nothing queued is left waiting for the next interval."""

    def __init__(self, db: Database, interval: float | None) -> None:
        self.db, self.interval = db, interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._start = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="exhorto-dispatcher", daemon=True)

    def start(self) -> None:
        with self._start:
            if not self._thread.is_alive() and not self._stop.is_set():
                self._thread.start()

    def wake(self) -> None:
        """Dispatch now (in the dispatcher's thread; the caller does not wait). Starts the thread if needed."""
        self._wake.set()
        if not self._thread.is_alive():
            self.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=STOP_WAIT_SECONDS)

    def _run(self) -> None:
        transport = NodeTransport(self.db)
        try:
            while True:
                self._wake.wait(self.interval)
                if self._stop.is_set():
                    return
                self._wake.clear()
                try:
                    summary = outbox.dispatch_all(self.db, transport)
                except Exception:  # noqa: BLE001 - keep dispatching; the error is logged with its traceback
                    log.exception("outbox dispatch failed")
                    continue
                if summary.attempted:
                    log.info("dispatched: %d delivered, %d rejected, %d retrying", summary.delivered,
                             summary.rejected, summary.retrying)
        finally:
            transport.close()
