"""The transport contract: hand an envelope to the recipient's node and get its receipt back."""

from __future__ import annotations

from typing import Protocol

from engine.transport.envelope import Envelope, Receipt


class TransportError(Exception):
    """The recipient could not be reached or did not answer; the message stays queued for a retry."""


class Transport(Protocol):
    def deliver(self, envelope: Envelope) -> Receipt: ...
