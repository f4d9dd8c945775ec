"""Hub mode: both authorities live in one database; delivery is a call into the same node's inbox.

The envelope is signed and verified exactly as over HTTP; authorities of a hub get a signing key on first use."""

from __future__ import annotations

from engine.store.db import Database
from engine.transport.envelope import Envelope, Receipt
from engine.transport.sender import accept_receipt, ensure_hub_keys, prepare


class LocalTransport:
    def __init__(self, db: Database) -> None:
        self.db = db

    def deliver(self, envelope: Envelope) -> Receipt:
        from engine.inbox import receive_signed

        ensure_hub_keys(self.db, envelope)
        transmission = prepare(self.db, envelope)
        return accept_receipt(self.db, transmission, receive_signed(self.db, transmission).to_dict())
