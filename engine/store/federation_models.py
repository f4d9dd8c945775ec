"""Tables of the federation and API area: signing keys, API tokens, signed-message log, attachment contents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.store.models import utcnow
from engine.store.types import UTCDateTime


class AuthorityKey(SQLModel, table=True):
    """An Ed25519 public key of an authority, valid for messages sent in [valid_from, valid_until).

    Keys of the authorities this node serves also hold the private key, encrypted with the node's passphrase; keys
    of counterparts (imported) hold the public half only. A rotated key keeps its row and verifies old messages."""

    __tablename__ = "authority_key"
    __table_args__ = (Index("ix_authority_key_owner", "authority_code", "valid_from"),)

    key_id: str = Field(primary_key=True, max_length=64)  # ES-MJ#<16 hex of sha256(public key)>
    authority_code: str = Field(foreign_key="authority.code", max_length=32)
    public_key: str = Field(max_length=64)  # raw 32 bytes, base64url without padding
    # none_as_null: a public-only key must be SQL NULL (not JSON null) for "IS NOT NULL" to find own keys.
    private_key: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    valid_from: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    valid_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # Revocation: the key verifies nothing received from revoked_at on (whatever the message claims), and
    # nothing at all it signed after compromised_at, the moment its owner believes it leaked.
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    compromised_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class ApiToken(SQLModel, table=True):
    """A bearer token for the REST API; only its SHA-256 is stored, the clear token is shown once."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)  # first characters, to recognise a token in lists
    username: str = Field(max_length=100, index=True)
    label: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class SignedMessage(SQLModel, table=True):
    """Evidence: the exact signed envelope sent or accepted for a message, and the signed receipt answering it."""

    __tablename__ = "signed_message"
    __table_args__ = (UniqueConstraint("direction", "message_id", name="uq_signed_message_direction_id"),)

    id: int | None = Field(default=None, primary_key=True)
    direction: str = Field(max_length=3)  # out | in
    message_id: str = Field(max_length=36)
    envelope_sha256: str = Field(max_length=64)
    key_id: str = Field(max_length=64)  # Ed25519 key id, or the x5t#S256 of the signer's certificate
    signature: str = Field(max_length=1024)  # base64url; an RSA-3072 seal's signature is 512 characters
    # The signature format (engine.transport.signing): NULL for the first one (Ed25519, rows stored before
    # X.509 envelopes), else ES256 / RS256 with the certificates that came with it (x5c, base64 DER, signer first),
    # so that a stored message stays verifiable after the signer's certificate is replaced.
    algorithm: str | None = Field(default=None, max_length=10)
    certificates: list[str] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    envelope: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    receipt: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # Outbound only: SHA-256 of the envelopes signed earlier for this message (re-signed when they grew stale); a
    # receipt answering any of them settles the message.
    earlier_sha256: list[str] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Attachment(SQLModel, table=True):
    """Content of a file attached to a case (uploaded, or received with a message), addressed by its SHA-256 within
    its case: the same file in two cases is two rows, read, sent and erased with each case."""

    __table_args__ = (UniqueConstraint("case_id", "sha256", name="uq_attachment_case_sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(foreign_key="authority.code", max_length=32)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    sha256: str = Field(max_length=64)
    name: str = Field(max_length=255)
    media_type: str = Field(max_length=100)
    size: int
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
