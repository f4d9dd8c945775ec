"""Ed25519 signing keys of authorities: generate, rotate, export and import; private keys encrypted at rest.

A node serves the authorities whose private keys it holds. The private key is stored as
``{"kdf": "scrypt", "n", "r", "p", "salt", "nonce", "ciphertext"}``: scrypt derives an AES-256-GCM key from the
passphrase in ``EXHORTO_KEY_PASSPHRASE`` and the key id is the associated data, so a ciphertext cannot be moved to
another key's row. Decrypted keys are cached per process (decrypting costs a deliberate ~0.1 s).

Counterparts' public keys are imported with a validity period; a message verifies against the key valid when it
was sent, so rotation never invalidates what was signed before it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from sqlmodel import Session, col, select

from engine.errors import ExhortoError, InvalidInput
from engine.i18n import N_
from engine.store.db import Database
from engine.store.federation_models import AuthorityKey
from engine.store.models import utcnow
from engine.store.queries import load_authority

PASSPHRASE_ENV = "EXHORTO_KEY_PASSPHRASE"
# log2 of scrypt's N. 15 (32 MiB, ~0.1 s) protects a stolen database; tests lower it through the environment.
KDF_COST_ENV = "EXHORTO_KEY_KDF_COST"
DEFAULT_KDF_COST = 15
FIRST_KEY_FROM = datetime(2000, 1, 1, tzinfo=UTC)


class KeyProblem(ExhortoError):
    code = "key_error"
    template = N_("Key problem.")


class PassphraseMissing(KeyProblem):
    code = "key_passphrase_missing"
    template = N_("Set the environment variable {env} to the passphrase that protects this node's private keys.")


class WrongPassphrase(KeyProblem):
    code = "key_wrong_passphrase"
    template = N_("The private key {key_id} cannot be decrypted: wrong passphrase in {env}.")


class NoSigningKey(KeyProblem):
    code = "no_signing_key"
    template = N_("Authority {authority} has no private signing key on this node; run 'exhorto keys generate'.")


class UnknownKey(KeyProblem):
    code = "unknown_key"
    template = N_("Key {key_id} is not registered.")


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_id_for(authority: str, public_raw: bytes) -> str:
    return f"{authority}#{hashlib.sha256(public_raw).hexdigest()[:16]}"


def public_raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


# --- encryption at rest -------------------------------------------------------------------------------------------
def _passphrase() -> bytes:
    value = os.environ.get(PASSPHRASE_ENV)
    if not value:
        raise PassphraseMissing(env=PASSPHRASE_ENV)
    return value.encode()


def _kdf(salt: bytes, n_log2: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=2**n_log2, r=r, p=p).derive(_passphrase())


def encrypt_private(key: Ed25519PrivateKey, key_id: str) -> dict[str, Any]:
    n_log2 = int(os.environ.get(KDF_COST_ENV, DEFAULT_KDF_COST))
    salt, nonce = os.urandom(16), os.urandom(12)
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    ciphertext = AESGCM(_kdf(salt, n_log2, 8, 1)).encrypt(nonce, raw, key_id.encode())
    return {"kdf": "scrypt", "n": n_log2, "r": 8, "p": 1, "salt": b64e(salt), "nonce": b64e(nonce),
            "cipher": "AES-256-GCM", "ciphertext": b64e(ciphertext)}


def decrypt_private(sealed: dict[str, Any], key_id: str) -> Ed25519PrivateKey:
    secret = _kdf(b64d(sealed["salt"]), int(sealed["n"]), int(sealed["r"]), int(sealed["p"]))
    try:
        raw = AESGCM(secret).decrypt(b64d(sealed["nonce"]), b64d(sealed["ciphertext"]), key_id.encode())
    except InvalidTag:
        raise WrongPassphrase(key_id=key_id, env=PASSPHRASE_ENV) from None
    return Ed25519PrivateKey.from_private_bytes(raw)


_cache: dict[tuple[str, str], Ed25519PrivateKey] = {}
_cache_lock = threading.Lock()


# --- registry -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SigningKey:
    key_id: str
    authority: str
    private: Ed25519PrivateKey


def _insert(session: Session, authority: str, key: Ed25519PrivateKey, valid_from: datetime) -> AuthorityKey:
    raw = public_raw(key)
    key_id = key_id_for(authority, raw)
    row = AuthorityKey(key_id=key_id, authority_code=authority, public_key=b64e(raw),
                       private_key=encrypt_private(key, key_id), valid_from=valid_from)
    session.add(row)
    return row


def generate(db: Database, authority: str, *, now: datetime | None = None) -> AuthorityKey:
    """Create the authority's first signing key. Refuses when it already has one (use :func:`rotate`)."""
    now = now or utcnow()
    _passphrase()
    with db.transaction() as session:
        load_authority(session, authority)
        if _current_private(session, authority, now) is not None:
            raise InvalidInput(field="authority", reason=f"{authority} already has a signing key; use rotate")
        # The first key has no predecessor to take over from: it covers the authority's whole past, so messages
        # queued (or dated) before it was generated can be signed. Rotation is what bounds keys in time.
        return _insert(session, authority, Ed25519PrivateKey.generate(), min(FIRST_KEY_FROM, now))


def rotate(db: Database, authority: str, *, now: datetime | None = None) -> AuthorityKey:
    """A new signing key from ``now``; the previous one stops signing but still verifies what it signed."""
    now = now or utcnow()
    _passphrase()
    with db.transaction() as session:
        load_authority(session, authority)
        for old in session.exec(select(AuthorityKey).where(AuthorityKey.authority_code == authority,
                                                           col(AuthorityKey.private_key).is_not(None),
                                                           col(AuthorityKey.valid_until).is_(None))):
            old.valid_until = now
            session.add(old)
        return _insert(session, authority, Ed25519PrivateKey.generate(), now)


def ensure_signing_key(db: Database, authority: str) -> None:
    """Hub mode: give a locally served authority a key the first time it signs."""
    with db.reader() as session:
        if _current_private(session, authority, utcnow()) is not None:
            return
    with contextlib.suppress(InvalidInput):  # a concurrent dispatcher generated it first
        generate(db, authority)


def _current_private(session: Session, authority: str, at: datetime) -> AuthorityKey | None:
    rows = session.exec(select(AuthorityKey).where(AuthorityKey.authority_code == authority,
                                                   col(AuthorityKey.private_key).is_not(None))
                        .order_by(col(AuthorityKey.valid_from).desc())).all()
    return next((r for r in rows if r.valid_from <= at and (r.valid_until is None or at < r.valid_until)), None)


def signing_key(db: Database, authority: str, *, at: datetime | None = None) -> SigningKey:
    """The authority's current private key (decrypted once per process)."""
    with db.reader() as session:
        row = _current_private(session, authority, at or utcnow())
    if row is None or row.private_key is None:
        raise NoSigningKey(authority=authority)
    cache_key = (db.url, row.key_id)
    with _cache_lock:
        private = _cache.get(cache_key)
    if private is None:
        private = decrypt_private(row.private_key, row.key_id)
        with _cache_lock:
            _cache[cache_key] = private
    return SigningKey(key_id=row.key_id, authority=authority, private=private)


def served_authorities(session: Session) -> set[str]:
    """Authorities whose private key this node holds: the ones it receives and signs for."""
    return set(session.exec(select(AuthorityKey.authority_code)
                            .where(col(AuthorityKey.private_key).is_not(None))).all())


def lookup(session: Session, key_id: str) -> AuthorityKey | None:
    return session.get(AuthorityKey, key_id)


def public_key(row: AuthorityKey) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(b64d(row.public_key))


def valid_at(row: AuthorityKey, at: datetime) -> bool:
    return row.valid_from <= at and (row.valid_until is None or at < row.valid_until)


# --- exchange of public keys --------------------------------------------------------------------------------------
def _public_dict(row: AuthorityKey) -> dict[str, Any]:
    return {"key_id": row.key_id, "authority": row.authority_code, "algorithm": "Ed25519",
            "public_key": row.public_key, "valid_from": row.valid_from.isoformat(),
            "valid_until": row.valid_until.isoformat() if row.valid_until else None}


def export_public(db: Database, authority: str | None = None) -> list[dict[str, Any]]:
    """Public keys (with validity) of the served authorities, or of one; what a counterpart imports."""
    with db.reader() as session:
        query = select(AuthorityKey).where(col(AuthorityKey.private_key).is_not(None))
        if authority:
            load_authority(session, authority)
            query = query.where(AuthorityKey.authority_code == authority)
        return [_public_dict(r) for r in session.exec(query.order_by(col(AuthorityKey.authority_code),
                                                                     col(AuthorityKey.valid_from)))]


def list_keys(db: Database, authority: str | None = None) -> list[AuthorityKey]:
    with db.reader() as session:
        query = select(AuthorityKey)
        if authority:
            query = query.where(AuthorityKey.authority_code == authority)
        return list(session.exec(query.order_by(col(AuthorityKey.authority_code), col(AuthorityKey.valid_from))))


def _parse_time(value: Any, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(field=field, reason="not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise InvalidInput(field=field, reason="give a time zone (e.g. Z or +00:00)")
    return parsed


def import_public(db: Database, items: list[dict[str, Any]] | dict[str, Any]) -> list[AuthorityKey]:
    """Register counterparts' public keys (the output of :func:`export_public`). Re-importing a key updates its
    validity period; a key id that does not match its key is refused."""
    entries = [items] if isinstance(items, dict) else list(items)
    imported: list[AuthorityKey] = []
    with db.transaction() as session:
        for index, item in enumerate(entries):
            where = f"keys[{index}]"
            if not isinstance(item, dict):
                raise InvalidInput(field=where, reason="expected an object")
            authority, key_text = item.get("authority"), item.get("public_key")
            if not isinstance(authority, str) or not isinstance(key_text, str):
                raise InvalidInput(field=where, reason="authority and public_key are required")
            load_authority(session, authority)
            try:
                raw = b64d(key_text)
                Ed25519PublicKey.from_public_bytes(raw)
            except ValueError:
                raise InvalidInput(field=f"{where}.public_key", reason="not a base64url Ed25519 key") from None
            key_id = key_id_for(authority, raw)
            if item.get("key_id", key_id) != key_id:
                raise InvalidInput(field=f"{where}.key_id", reason=f"does not match the key (expected {key_id})")
            valid_from = _parse_time(item.get("valid_from"), f"{where}.valid_from") or utcnow()
            valid_until = _parse_time(item.get("valid_until"), f"{where}.valid_until")
            row = session.get(AuthorityKey, key_id)
            if row is None:
                row = AuthorityKey(key_id=key_id, authority_code=authority, public_key=b64e(raw),
                                   valid_from=valid_from, valid_until=valid_until)
            elif row.private_key is None:
                row.valid_from, row.valid_until = valid_from, valid_until
            session.add(row)
            imported.append(row)
    return imported


def dumps(items: list[dict[str, Any]]) -> str:
    return json.dumps(items, ensure_ascii=False, indent=2)
