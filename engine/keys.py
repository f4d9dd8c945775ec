"""Ed25519 signing keys of authorities: generate, rotate, export and import; private keys encrypted at rest.

A node serves the authorities whose private keys it holds. The private key is stored as
``{"kdf": "scrypt", "n", "r", "p", "salt", "nonce", "ciphertext"}``: scrypt derives an AES-256-GCM key from the
passphrase in ``EXHORTO_KEY_PASSPHRASE`` and the key id is the associated data, so a ciphertext cannot be moved to
another key's row. Decrypted keys are cached per process (decrypting costs a deliberate ~0.1 s).

Counterparts' public keys are imported with a validity period, per authority (``import_public(…,
authority=X)`` accepts X's keys only and never widens a known key's validity). Whether a key vouches for a
message or a receipt is decided in one place, the *trust* section below (:func:`message_problem`,
:func:`receipt_problem`), so that another identity scheme (X.509) can replace it:

* a message verifies against the key valid when it was sent, and ``sent_at`` must lie within
  :func:`freshness` of the receiver's clock, so a backdated or future-dated envelope is refused;
* a revoked key verifies nothing received after its revocation is known here, whatever the message claims;
* a receipt verifies against a key valid at some moment between when it was issued and now, so a receipt stored
  before a rotation still settles the message it answers.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from engine.pki import ChainResult

PASSPHRASE_ENV = "EXHORTO_KEY_PASSPHRASE"
# log2 of scrypt's N. 15 (32 MiB, ~0.1 s) protects a stolen database; tests lower it through the environment.
KDF_COST_ENV = "EXHORTO_KEY_KDF_COST"
DEFAULT_KDF_COST = 15
# How far a message's signed sent_at may lie from the receiver's clock (either way); queued messages are re-signed
# before they get that old (see engine.transport.sender.prepare).
FRESHNESS_ENV = "EXHORTO_MESSAGE_FRESHNESS_SECONDS"
DEFAULT_FRESHNESS_SECONDS = 600


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
def require_passphrase() -> bytes:
    value = os.environ.get(PASSPHRASE_ENV)
    if not value:
        raise PassphraseMissing(env=PASSPHRASE_ENV)
    return value.encode()


def _kdf(salt: bytes, n_log2: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=2**n_log2, r=r, p=p).derive(require_passphrase())


def seal(secret: bytes, owner_id: str) -> dict[str, Any]:
    """``secret`` encrypted at rest: scrypt from the passphrase → AES-256-GCM, the owner's id as associated data so
    a ciphertext cannot be moved to another row. Every private key this node keeps (Ed25519 envelope keys, X.509
    certificate keys) is sealed here."""
    n_log2 = int(os.environ.get(KDF_COST_ENV, DEFAULT_KDF_COST))
    salt, nonce = os.urandom(16), os.urandom(12)
    ciphertext = AESGCM(_kdf(salt, n_log2, 8, 1)).encrypt(nonce, secret, owner_id.encode())
    return {"kdf": "scrypt", "n": n_log2, "r": 8, "p": 1, "salt": b64e(salt), "nonce": b64e(nonce),
            "cipher": "AES-256-GCM", "ciphertext": b64e(ciphertext)}


def unseal(sealed: dict[str, Any], owner_id: str) -> bytes:
    secret = _kdf(b64d(sealed["salt"]), int(sealed["n"]), int(sealed["r"]), int(sealed["p"]))
    try:
        return AESGCM(secret).decrypt(b64d(sealed["nonce"]), b64d(sealed["ciphertext"]), owner_id.encode())
    except InvalidTag:
        raise WrongPassphrase(key_id=owner_id, env=PASSPHRASE_ENV) from None


def encrypt_private(key: Ed25519PrivateKey, key_id: str) -> dict[str, Any]:
    return seal(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()), key_id)


def decrypt_private(sealed: dict[str, Any], key_id: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(unseal(sealed, key_id))


_cache: dict[tuple[str, str], Ed25519PrivateKey] = {}
_cache_lock = threading.Lock()


def check_node_can_sign(db: Database) -> None:
    """Refuse to run a node that holds private keys it cannot open: without the passphrase (or with a wrong one)
    every outbound message would fail at dispatch, again and again, while cases showed "transmitted". Raises
    :class:`PassphraseMissing` or :class:`WrongPassphrase`; a node holding no private key needs no passphrase."""
    with db.reader() as session:
        row = session.exec(select(AuthorityKey).where(col(AuthorityKey.private_key).is_not(None)).limit(1)).first()
    if row is not None and row.private_key is not None:
        decrypt_private(row.private_key, row.key_id)


# --- registry -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SigningKey:
    key_id: str
    authority: str
    private: Any  # Ed25519PrivateKey here; an engine.transport.signing.X509Signer for an X.509 identity


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
    require_passphrase()
    with db.transaction() as session:
        load_authority(session, authority)
        if _current_private(session, authority, now) is not None:
            raise InvalidInput(field="authority", reason=f"{authority} already has a signing key; use rotate")
        # Valid from now, not from some distant past: a leaked key must not vouch for backdated messages. Messages
        # queued before it exist are signed when sent, with sent_at = the signing time.
        return _insert(session, authority, Ed25519PrivateKey.generate(), now)


def rotate(db: Database, authority: str, *, now: datetime | None = None) -> AuthorityKey:
    """A new signing key from ``now``; the previous one stops signing but still verifies what it signed."""
    now = now or utcnow()
    require_passphrase()
    with db.transaction() as session:
        load_authority(session, authority)
        for old in session.exec(select(AuthorityKey).where(AuthorityKey.authority_code == authority,
                                                           col(AuthorityKey.private_key).is_not(None),
                                                           col(AuthorityKey.valid_until).is_(None))):
            old.valid_until = now
            session.add(old)
        return _insert(session, authority, Ed25519PrivateKey.generate(), now)


def revoke(db: Database, key_id: str, *, compromised_at: datetime | None = None,
           now: datetime | None = None) -> tuple[AuthorityKey, AuthorityKey | None]:
    """Revoke a key from ``now``; ``compromised_at`` (default: now) is when it is believed to have leaked.

    An own key that was signing is replaced by a new one (returned second); export both (the revocation travels
    with the export) to the counterparts. A counterpart's key is revoked here only (e.g. on its owner's word)."""
    now = now or utcnow()
    compromised_at = min(compromised_at or now, now)
    with db.transaction() as session:
        row = session.get(AuthorityKey, key_id)
        if row is None:
            raise UnknownKey(key_id=key_id)
        if row.revoked_at is not None:
            raise InvalidInput(field="key_id", reason=f"{key_id} is already revoked (since {row.revoked_at})")
        was_signing = row.private_key is not None and usable(row, now)
        row.revoked_at, row.compromised_at = now, compromised_at
        row.valid_until = _earliest(row.valid_until, compromised_at)
        session.add(row)
        authority = row.authority_code
    successor = None
    if was_signing:
        with db.transaction() as session:
            successor = _insert(session, authority, Ed25519PrivateKey.generate(), now)
    return row, successor


def ensure_signing_key(db: Database, authority: str) -> None:
    """Hub mode: give a locally served authority a key the first time it signs — never one known here by its
    public keys only (a counterpart on another node: a key made here would let this node speak for it)."""
    with db.reader() as session:
        if _current_private(session, authority, utcnow()) is not None:
            return
        owned = session.exec(select(AuthorityKey.private_key).where(AuthorityKey.authority_code == authority)).all()
        if owned and all(k is None for k in owned):
            raise NoSigningKey(authority=authority)
    with contextlib.suppress(InvalidInput):  # a concurrent dispatcher generated it first
        generate(db, authority)


def _current_private(session: Session, authority: str, at: datetime) -> AuthorityKey | None:
    rows = session.exec(select(AuthorityKey).where(AuthorityKey.authority_code == authority,
                                                   col(AuthorityKey.private_key).is_not(None))
                        .order_by(col(AuthorityKey.valid_from).desc())).all()
    return next((r for r in rows if usable(r, at)), None)


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


def usable(row: AuthorityKey, at: datetime) -> bool:
    """Valid at ``at`` and not revoked by then: what signing (and verifying at ``at``) needs."""
    return valid_at(row, at) and (row.revoked_at is None or at < row.revoked_at)


# --- trust: the one place that decides whether a key vouches for a message or a receipt -------------------------
def freshness() -> timedelta:
    return timedelta(seconds=int(os.environ.get(FRESHNESS_ENV, DEFAULT_FRESHNESS_SECONDS)))


def fresh(sent_at: datetime, now: datetime, *, share: float = 1.0) -> bool:
    """``sent_at`` within ``share`` × the freshness window of ``now``, either way."""
    return abs(now - sent_at) <= freshness() * share


def message_problem(row: AuthorityKey, sent_at: datetime, now: datetime) -> tuple[str, str] | None:
    """Why ``row`` does not vouch for a message it signed with ``sent_at``, received ``now`` — or None.

    The receiver compares ``sent_at`` with its own clock, so a backdated (or future-dated) envelope cannot borrow a
    retired key's validity; a revoked key verifies nothing received once its revocation is known here."""
    if row.revoked_at is not None and row.revoked_at <= now:
        return "key_revoked", f"key {row.key_id} was revoked on {row.revoked_at.isoformat()}"
    if not fresh(sent_at, now):
        return "not_fresh", (f"sent_at {sent_at.isoformat()} is more than {int(freshness().total_seconds())} s "
                             f"from this node's clock ({now.isoformat()})")
    if not valid_at(row, sent_at):
        return "key_not_valid", f"key {row.key_id} was not valid at {sent_at.isoformat()}"
    return None


def receipt_problem(row: AuthorityKey, issued_at: datetime, sent_at: datetime, now: datetime) -> str | None:
    """Why ``row`` does not vouch for a receipt issued at ``issued_at`` answering a message first sent at
    ``sent_at`` — or None. A receipt stored before a rotation and returned after it still settles (the key was
    valid when it was issued); a receipt cannot predate the message it answers nor come from the future."""
    window = freshness()
    if row.revoked_at is not None and row.revoked_at <= now:
        return f"key {row.key_id} is revoked"
    if issued_at < sent_at - window or issued_at > now + window:
        return f"issued at {issued_at.isoformat()}, outside [{sent_at.isoformat()}, now]"
    # Valid at some moment in [issued_at, now]: a receipt re-signed after a revocation carries its original time.
    if row.valid_from > now or (row.valid_until is not None and row.valid_until <= issued_at):
        return f"key {row.key_id} was not valid when the receipt was issued ({issued_at.isoformat()})"
    return None


def certificate_problem(chain: ChainResult, signer: str, sent_at: datetime, now: datetime) -> tuple[str, str] | None:
    """The X.509 counterpart of :func:`message_problem`: why a certificate chain (already checked against the
    trust list, see :class:`engine.pki.TrustStore`) does not vouch for a message from ``signer`` sent at
    ``sent_at`` and received ``now`` — or None. Same rules: a revocation known here (CRL) refuses everything from
    its date on; ``sent_at`` must be fresh; every certificate on the path must have been valid at ``sent_at`` (an
    expired or replaced certificate still verifies the messages it signed while valid)."""
    if chain.problem is None and chain.names_authority(signer) and chain.revoked_at is None \
            and fresh(sent_at, now) and chain.valid_at(sent_at):
        return None  # the common case, without formatting the subject for a message nobody reads
    subject = chain.leaf.subject.rfc4514_string()
    if not chain.names_authority(signer):
        return "sender_key_mismatch", f"the certificate of {subject} does not name the sender {signer}"
    if chain.problem is not None:
        return "untrusted_certificate", chain.problem
    if chain.revoked_at is not None and chain.revoked_at <= now:
        return "key_revoked", f"the certificate of {subject} was revoked on {chain.revoked_at.isoformat()}"
    if not fresh(sent_at, now):
        return "not_fresh", (f"sent_at {sent_at.isoformat()} is more than {int(freshness().total_seconds())} s "
                             f"from this node's clock ({now.isoformat()})")
    if not chain.valid_at(sent_at):
        return "key_not_valid", f"the certificate chain of {subject} was not valid at {sent_at.isoformat()}"
    return None


def certificate_receipt_problem(chain: ChainResult, signer: str, issued_at: datetime, sent_at: datetime,
                                now: datetime) -> str | None:
    """The X.509 counterpart of :func:`receipt_problem` (same window, same revocation rule)."""
    subject = chain.leaf.subject.rfc4514_string()
    if not chain.names_authority(signer):
        return f"the certificate of {subject} does not name {signer}"
    if chain.problem is not None:
        return chain.problem
    if chain.revoked_at is not None and chain.revoked_at <= now:
        return f"the certificate of {subject} is revoked"
    window = freshness()
    if issued_at < sent_at - window or issued_at > now + window:
        return f"issued at {issued_at.isoformat()}, outside [{sent_at.isoformat()}, now]"
    if chain.not_before is None or chain.not_after is None or chain.not_before > now \
            or chain.not_after <= issued_at:
        return f"the certificate chain of {subject} was not valid when the receipt was issued"
    return None


# --- exchange of public keys --------------------------------------------------------------------------------------
def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _public_dict(row: AuthorityKey) -> dict[str, Any]:
    return {"key_id": row.key_id, "authority": row.authority_code, "algorithm": "Ed25519",
            "public_key": row.public_key, "valid_from": row.valid_from.isoformat(),
            "valid_until": _iso(row.valid_until), "revoked_at": _iso(row.revoked_at),
            "compromised_at": _iso(row.compromised_at)}


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


def parse_time(value: Any, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(field=field, reason="not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise InvalidInput(field=field, reason="give a time zone (e.g. Z or +00:00)")
    return parsed


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    """The earlier of two bounds, None meaning "no bound": a re-import may only shorten a validity."""
    return b if a is None else a if b is None else min(a, b)


def import_public(db: Database, items: list[dict[str, Any]] | dict[str, Any], *,
                  authority: str) -> list[AuthorityKey]:
    """Register ``authority``'s public keys (the output of :func:`export_public` on its node), with revocations.

    Only that authority's keys are accepted — the file's own ``authority`` field is never trusted to name another —
    and never for an authority this node signs for. A key already known keeps the narrowest validity either side
    ever stated (a re-import can end or revoke a key, not revive or widen it); a key id that does not match its key
    is refused. Nothing is written unless every entry is valid."""
    entries = [items] if isinstance(items, dict) else list(items)
    imported: list[AuthorityKey] = []
    with db.transaction() as session:
        load_authority(session, authority)
        if authority in served_authorities(session):
            raise InvalidInput(field="authority", reason=f"{authority} is served by this node; its keys are made here")
        for index, item in enumerate(entries):
            where = f"keys[{index}]"
            if not isinstance(item, dict):
                raise InvalidInput(field=where, reason="expected an object")
            named, key_text = item.get("authority"), item.get("public_key")
            if not isinstance(named, str) or not isinstance(key_text, str):
                raise InvalidInput(field=where, reason="authority and public_key are required")
            if named != authority:
                raise InvalidInput(field=f"{where}.authority",
                                   reason=f"a key of {named}; this import accepts keys of {authority} only")
            try:
                raw = b64d(key_text)
                Ed25519PublicKey.from_public_bytes(raw)
            except ValueError:
                raise InvalidInput(field=f"{where}.public_key", reason="not a base64url Ed25519 key") from None
            key_id = key_id_for(authority, raw)
            if item.get("key_id", key_id) != key_id:
                raise InvalidInput(field=f"{where}.key_id", reason=f"does not match the key (expected {key_id})")
            valid_from = parse_time(item.get("valid_from"), f"{where}.valid_from") or utcnow()
            valid_until = parse_time(item.get("valid_until"), f"{where}.valid_until")
            revoked_at = parse_time(item.get("revoked_at"), f"{where}.revoked_at")
            compromised_at = parse_time(item.get("compromised_at"), f"{where}.compromised_at")
            if revoked_at is not None:
                # Known here from now on at the latest: what arrives after this import is refused.
                revoked_at = min(revoked_at, utcnow())
                compromised_at = min(compromised_at or revoked_at, revoked_at)
                valid_until = _earliest(valid_until, compromised_at)
            row = session.get(AuthorityKey, key_id)
            if row is None:
                row = AuthorityKey(key_id=key_id, authority_code=authority, public_key=b64e(raw),
                                   valid_from=valid_from, valid_until=valid_until, revoked_at=revoked_at,
                                   compromised_at=compromised_at)
            else:
                row.valid_from = max(row.valid_from, valid_from)
                row.valid_until = _earliest(row.valid_until, valid_until)
                row.revoked_at = _earliest(row.revoked_at, revoked_at)
                row.compromised_at = _earliest(row.compromised_at, compromised_at)
            session.add(row)
            imported.append(row)
    return imported


def dumps(items: list[dict[str, Any]]) -> str:
    return json.dumps(items, ensure_ascii=False, indent=2)
