"""Hub mode: both authorities live in one database; delivery is a call into the same node's inbox."""

from __future__ import annotations

from engine.store.db import Database
from engine.transport.envelope import Envelope, Receipt


class LocalTransport:
    def __init__(self, db: Database) -> None:
        self.db = db

    def deliver(self, envelope: Envelope) -> Receipt:
        from engine.inbox import receive

        return receive(self.db, envelope)
