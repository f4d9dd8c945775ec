"""Tables of the X.509 area: this node's certificates (network CA, authorities' signing identities), the trust
list of counterparts' CAs and certificates, the revocation lists imported for them, and delivery evidences."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.store.models import utcnow
from engine.store.types import UTCDateTime


class OwnCertificate(SQLModel, table=True):
    """A certificate whose private key this node holds: a network CA (``role = "ca"``) or an authority's signing
    identity (``role = "signing"``). The private key is sealed with the node's passphrase (as Ed25519 keys are);
    a retired identity keeps its row so that what it signed stays verifiable."""

    __tablename__ = "own_certificate"

    fingerprint: str = Field(primary_key=True, max_length=64)  # SHA-256 of the DER certificate, hex
    role: str = Field(max_length=10)  # ca | signing
    authority_code: str | None = Field(default=None, foreign_key="authority.code", max_length=32, index=True)
    subject: str = Field(max_length=500)
    issuer: str = Field(max_length=500)
    serial: str = Field(max_length=64)  # hex
    not_before: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    not_after: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    certificate: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # DER
    chain: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # issuers, b64 DER
    private_key: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # sealed PKCS#8 DER
    retired_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class TrustedCertificate(SQLModel, table=True):
    """An entry of the node's trust list: a counterpart's CA (or a single certificate) whose signatures count."""

    __tablename__ = "trusted_certificate"

    fingerprint: str = Field(primary_key=True, max_length=64)
    label: str = Field(default="", max_length=200)
    subject: str = Field(max_length=500)
    is_ca: bool = Field(default=False)
    not_before: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    not_after: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    certificate: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # DER
    added_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class RevocationList(SQLModel, table=True):
    """The newest CRL imported for a trusted CA (its signature checked against that CA on import)."""

    __tablename__ = "revocation_list"

    issuer_fingerprint: str = Field(primary_key=True, max_length=64)
    this_update: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    next_update: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    revoked_count: int = 0
    crl: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # DER
    imported_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class DeliveryEvidence(SQLModel, table=True):
    """An e-CODEX / ETSI REM evidence about one message: who states what happened to it, when, signed by the
    stating authority's certificate. One evidence of a kind per message and issuer (retries add nothing)."""

    __tablename__ = "delivery_evidence"
    # Per case: in hub mode the sender's and the recipient's cases share one database, and a Retrieval stated by
    # the recipient is kept on both (the copy sent back to the sender's case).
    __table_args__ = (UniqueConstraint("case_id", "message_id", "kind", "issuer_code",
                                       name="uq_delivery_evidence_case_event"),)

    id: int | None = Field(default=None, primary_key=True)
    evidence_id: str = Field(max_length=36, unique=True)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    message_id: str = Field(max_length=36, index=True)
    kind: str = Field(max_length=40)  # SubmissionAcceptance, RelayREMMDFailure, Delivery, Retrieval, …
    issuer_code: str = Field(max_length=32)
    event_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    record: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # what was signed (canonical JSON)
    signature: str | None = Field(default=None, max_length=200)  # ECDSA P-256 over the canonical record, b64url
    certificate_fingerprint: str | None = Field(default=None, max_length=64)
    # An evidence stated by a counterpart (a Retrieval sent back): the certificates that verify its signature
    # (base64 DER, signer first), exported with it. NULL for the node's own evidences (own_certificate has them).
    certificates: list[str] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
