"""What travels between authorities: envelopes and the receipts that answer them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from engine.store.models import Message


@dataclass(frozen=True)
class Envelope:
    exchange_id: str
    message_id: str
    kind: str
    sender: str
    recipient: str
    sent_at: str
    schema_id: str | None
    payload: dict[str, Any]
    attachments: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: its deep copy of the payload cost more than signing the envelope.
        return {"exchange_id": self.exchange_id, "message_id": self.message_id, "kind": self.kind,
                "from": self.sender, "to": self.recipient, "sent_at": self.sent_at, "schema_id": self.schema_id,
                "payload": self.payload, "attachments": [dict(item) for item in self.attachments]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Envelope:
        return cls(exchange_id=data["exchange_id"], message_id=data["message_id"], kind=data["kind"],
                   sender=data["from"], recipient=data["to"], sent_at=data["sent_at"],
                   schema_id=data.get("schema_id"), payload=data["payload"],
                   attachments=list(data.get("attachments", [])))

    @classmethod
    def from_message(cls, message: Message) -> Envelope:
        return cls(exchange_id=message.exchange_id, message_id=message.message_id, kind=message.kind,
                   sender=message.sender_code, recipient=message.recipient_code,
                   sent_at=message.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
                   schema_id=message.schema_id, payload=message.payload, attachments=message.attachments)


@dataclass(frozen=True)
class Receipt:
    """The receiving node's answer: delivered (verified and applied, or already applied) or rejected with reason."""

    message_id: str
    status: str  # delivered | rejected
    at: str
    reference: str | None = None  # the recipient's local reference for the exchange
    reason: str | None = None  # machine-readable code, e.g. not_allowed_in_state
    detail: str | None = None  # human explanation (English)
    envelope_sha256: str | None = None  # SHA-256 of the canonical envelope answered: binds the receipt to it

    @property
    def delivered(self) -> bool:
        return self.status == "delivered"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Receipt:
        return cls(**{k: data.get(k) for k in ("message_id", "status", "at", "reference", "reason", "detail",
                                       "envelope_sha256")})

    @classmethod
    def now(cls, message_id: str, status: str, **kwargs: Any) -> Receipt:
        return cls(message_id=message_id, status=status,
                   at=datetime.now(UTC).isoformat(timespec="microseconds"), **kwargs)
