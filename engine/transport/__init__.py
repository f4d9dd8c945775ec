"""Transports between authorities' nodes."""

from engine.transport.base import Transport, TransportError
from engine.transport.envelope import Envelope, Receipt
from engine.transport.local import LocalTransport

__all__ = ["Envelope", "LocalTransport", "Receipt", "Transport", "TransportError"]
