"""Signed envelopes and receipts on the wire.

A *transmission* is what one node posts to another's ``/inbox``::

    {"envelope": {exchange_id, message_id, kind, from, to, sent_at, schema_id, payload,
                  attachments: [{name, media_type, size, sha256}]},
     "signature": {"alg": "ES256", "x5t#S256": base64url, "x5c": [base64 DER, …], "value": base64url},
     "contents": {sha256: base64 of the attached file, …}}

The signature object is versioned by its ``alg``:

* ``ES256`` (ECDSA with SHA-256; ``RS256`` for an RSA seal): the authority's X.509 signing identity — the same
  certificate that signs its PDFs. ``x5c`` carries the signer's certificate and its issuers (base64 DER, signer
  first), ``x5t#S256`` the base64url SHA-256 of the signer's certificate, ``value`` the base64url of the DER
  signature (what ``openssl dgst -sha256 -sign`` writes). The receiver checks the chain against its trust list
  and CRLs (:mod:`engine.pki._chain`).
* ``Ed25519`` (the first format, still accepted and still produced for an authority without a certificate):
  ``{"alg": "Ed25519", "key_id": "ES-MJ#…", "value": base64url}``, a bare key exchanged with ``exhorto keys
  export|import``.

The signature covers the RFC 8785 canonical JSON of the envelope only; the files travel beside it and are bound to
it by the hashes it lists. A signed receipt has the same shape with ``receipt`` instead of ``envelope``.
This module parses and checks shapes and signatures; it never touches the database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding

from engine.canonical import canonical_json, sha256_hex
from engine.keys import b64d, b64e
from engine.transport.envelope import Envelope, Receipt

ALGORITHM = ED25519 = "Ed25519"
ES256, RS256 = "ES256", "RS256"
X509_ALGORITHMS = (ES256, RS256)
ENVELOPE_FIELDS = ("exchange_id", "message_id", "kind", "from", "to", "sent_at", "schema_id", "payload",
                   "attachments")
RECEIPT_FIELDS = ("message_id", "status", "at", "reference", "reason", "detail", "envelope_sha256", "from", "to")


# Levels a payload sits below the top of a transmission ({"envelope": {"payload": …}}), with room to spare.
ENVELOPE_DEPTH = 4


class Malformed(ValueError):
    """The bytes are not a transmission (or receipt) of the expected shape; ``str()`` says what is wrong."""


@dataclass(frozen=True)
class Signature:
    key_id: str  # Ed25519: "ES-MJ#<16 hex>"; X.509: the x5t#S256 thumbprint of the signer's certificate
    value: str  # base64url of the signature
    alg: str = ED25519
    x5c: tuple[str, ...] = ()  # X.509 only: base64 DER certificates, signer first

    @property
    def x509(self) -> bool:
        return self.alg in X509_ALGORITHMS

    def to_dict(self) -> dict[str, Any]:
        if self.x509:
            return {"alg": self.alg, "x5t#S256": self.key_id, "x5c": list(self.x5c), "value": self.value}
        return {"alg": ED25519, "key_id": self.key_id, "value": self.value}


def thumbprint(der: bytes) -> str:
    """JOSE's ``x5t#S256``: base64url (no padding) of the SHA-256 of the DER certificate."""
    return b64e(hashlib.sha256(der).digest())


@dataclass(frozen=True)
class X509Signer:
    """An authority's X.509 signing identity, ready to sign envelopes and receipts (built once per certificate)."""

    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    key_id: str
    x5c: tuple[str, ...]
    alg: str

    @classmethod
    def of(cls, identity: Any) -> X509Signer:
        """From an :class:`engine.pki.Identity` (certificate, key, issuers)."""
        ders = [c.public_bytes(Encoding.DER) for c in (identity.certificate, *identity.chain)]
        alg = ES256 if isinstance(identity.key, ec.EllipticCurvePrivateKey) else RS256
        return cls(key=identity.key, key_id=thumbprint(ders[0]), alg=alg,
                   x5c=tuple(base64.b64encode(d).decode() for d in ders))

    def sign(self, data: bytes) -> Signature:
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            value = self.key.sign(data, ec.ECDSA(hashes.SHA256()))
        else:
            value = self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return Signature(key_id=self.key_id, value=b64e(value), alg=self.alg, x5c=self.x5c)


PrivateSigner = Ed25519PrivateKey | X509Signer


def sign_bytes(private: PrivateSigner, key_id: str, data: bytes) -> Signature:
    if isinstance(private, X509Signer):
        return private.sign(data)
    return Signature(key_id=key_id, value=b64e(private.sign(data)))


def signature_holds(public: Ed25519PublicKey, signature: Signature, data: bytes) -> bool:
    try:
        public.verify(b64d(signature.value), data)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def x509_signature_holds(public: Any, signature: Signature, data: bytes) -> bool:
    """``signature`` (ES256 or RS256) over ``data`` by the certificate key ``public``."""
    try:
        raw = b64d(signature.value)
        if signature.alg == ES256 and isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(raw, data, ec.ECDSA(hashes.SHA256()))
        elif signature.alg == RS256 and isinstance(public, rsa.RSAPublicKey):
            public.verify(raw, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


@dataclass(frozen=True)
class Transmission:
    envelope: dict[str, Any]
    signature: Signature
    contents: dict[str, bytes] = field(default_factory=dict)

    @cached_property
    def signed_bytes(self) -> bytes:
        """The canonical envelope, computed once per transmission (it is signed, hashed and verified)."""
        return canonical_json(self.envelope)

    @property
    def envelope_sha256(self) -> str:
        return sha256_hex(self.signed_bytes)

    def to_dict(self) -> dict[str, Any]:
        return {"envelope": self.envelope, "signature": self.signature.to_dict(),
                "contents": {k: base64.b64encode(v).decode() for k, v in self.contents.items()}}

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")).encode()

    def as_envelope(self) -> Envelope:
        return Envelope.from_dict(self.envelope)


def sign_envelope(envelope: Envelope, private: PrivateSigner, key_id: str,
                  contents: dict[str, bytes] | None = None) -> Transmission:
    data = envelope.to_dict()
    signed = canonical_json(data)
    transmission = Transmission(envelope=data, signature=sign_bytes(private, key_id, signed),
                                contents=dict(contents or {}))
    transmission.__dict__["signed_bytes"] = signed  # the bytes just signed: no second canonicalisation
    return transmission


def signature_from_dict(value: Any) -> Signature:
    if not isinstance(value, dict):
        raise Malformed("signature: expected an object {alg, key_id, value} or {alg, x5t#S256, x5c, value}")
    alg = value.get("alg")
    if alg in X509_ALGORITHMS:
        thumb, x5c, sig = value.get("x5t#S256"), value.get("x5c"), value.get("value")
        if not isinstance(thumb, str) or not thumb or not isinstance(sig, str) or not sig:
            raise Malformed("signature: x5t#S256 and value must be non-empty strings")
        if not (isinstance(x5c, list) and 0 < len(x5c) <= 5 and all(isinstance(c, str) and c for c in x5c)):
            raise Malformed("signature.x5c: expected a list of 1 to 5 base64 DER certificates, signer first")
        if len(thumb) > 64 or len(sig) > 800:
            raise Malformed("signature: x5t#S256 or value too long")
        return Signature(key_id=thumb, value=sig, alg=alg, x5c=tuple(x5c))
    if alg != ED25519:
        raise Malformed(f"signature.alg: expected {ED25519}, {ES256} or {RS256}")
    key_id, sig = value.get("key_id"), value.get("value")
    if not isinstance(key_id, str) or not key_id or not isinstance(sig, str) or not sig:
        raise Malformed("signature: key_id and value must be non-empty strings")
    return Signature(key_id=key_id, value=sig)


def _check_envelope(envelope: Any) -> dict[str, Any]:
    if not isinstance(envelope, dict):
        raise Malformed("envelope: expected an object")
    missing = [f for f in ENVELOPE_FIELDS if f not in envelope]
    if missing:
        raise Malformed(f"envelope: missing {', '.join(missing)}")
    unknown = sorted(set(envelope) - set(ENVELOPE_FIELDS))
    if unknown:
        raise Malformed(f"envelope: unknown fields {', '.join(unknown)}")
    for name in ("exchange_id", "message_id", "kind", "from", "to", "sent_at"):
        if not isinstance(envelope[name], str) or not envelope[name]:
            raise Malformed(f"envelope.{name}: expected a non-empty string")
    if len(envelope["message_id"]) > 36 or len(envelope["exchange_id"]) > 36:
        raise Malformed("envelope: message_id and exchange_id are UUIDs (36 characters)")
    if envelope["schema_id"] is not None and not isinstance(envelope["schema_id"], str):
        raise Malformed("envelope.schema_id: expected a string or null")
    if not isinstance(envelope["payload"], dict):
        raise Malformed("envelope.payload: expected an object")
    attachments = envelope["attachments"]
    if not isinstance(attachments, list):
        raise Malformed("envelope.attachments: expected a list")
    for index, item in enumerate(attachments):
        if not (isinstance(item, dict) and isinstance(item.get("sha256"), str)
                and isinstance(item.get("size"), int) and isinstance(item.get("name"), str)):
            raise Malformed(f"envelope.attachments[{index}]: expected {{name, media_type, size, sha256}}")
    return envelope


def parse_transmission(body: bytes | str | dict[str, Any]) -> Transmission:
    """The transmission in ``body``, or :class:`Malformed` naming the first problem."""
    if isinstance(body, dict):
        data: Any = body
    else:
        from engine.forms import MAX_DEPTH, InvalidDocument, accept_document

        try:  # the input boundary (UTF-8, strict JSON, depth, number range, object); the size was checked before
            data = accept_document(body, max_bytes=len(body) * 4 + 1, max_depth=MAX_DEPTH + ENVELOPE_DEPTH)
        except InvalidDocument as error:
            problem = error.errors[0]
            raise Malformed(f"{problem.pointer + ': ' if problem.pointer else ''}{problem.message}") from None
    if not isinstance(data, dict):
        raise Malformed("expected a JSON object {envelope, signature, contents}")
    envelope = _check_envelope(data.get("envelope"))
    signature = signature_from_dict(data.get("signature"))
    raw_contents = data.get("contents", {})
    if not isinstance(raw_contents, dict):
        raise Malformed("contents: expected an object {sha256: base64}")
    contents: dict[str, bytes] = {}
    for digest, text in raw_contents.items():
        try:
            contents[digest] = base64.b64decode(text, validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise Malformed(f"contents[{digest}]: not base64") from None
    return Transmission(envelope=envelope, signature=signature, contents=contents)


# --- receipts -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SignedReceipt:
    receipt: dict[str, Any]
    signature: Signature

    @property
    def signer(self) -> str:
        return str(self.receipt.get("from", ""))

    def to_dict(self) -> dict[str, Any]:
        return {"receipt": self.receipt, "signature": self.signature.to_dict()}

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")).encode()

    def as_receipt(self) -> Receipt:
        return Receipt.from_dict(self.receipt)

    def holds(self, public: Any) -> bool:
        data = canonical_json(self.receipt)
        if self.signature.x509:
            return x509_signature_holds(public, self.signature, data)
        return signature_holds(public, self.signature, data)


def sign_receipt(receipt: Receipt, *, signer: str, addressee: str, private: PrivateSigner,
                 key_id: str) -> SignedReceipt:
    data = {**receipt.to_dict(), "from": signer, "to": addressee}
    return SignedReceipt(receipt=data, signature=sign_bytes(private, key_id, canonical_json(data)))


def parse_receipt(body: bytes | str | dict[str, Any]) -> SignedReceipt:
    try:
        data: Any = body if isinstance(body, dict) else json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise Malformed(f"receipt is not valid JSON: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("receipt"), dict):
        raise Malformed("expected a JSON object {receipt, signature}")
    receipt = data["receipt"]
    if receipt.get("status") not in ("delivered", "rejected") or not isinstance(receipt.get("message_id"), str):
        raise Malformed("receipt: status must be delivered or rejected, with a message_id")
    return SignedReceipt(receipt=receipt, signature=signature_from_dict(data.get("signature")))
