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
    def __init__(self, db: Database, interval: float) -> None:
        self.db, self.interval = db, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="exhorto-dispatcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=STOP_WAIT_SECONDS)

    def _run(self) -> None:
        transport = NodeTransport(self.db)
        try:
            while not self._stop.wait(self.interval):
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
