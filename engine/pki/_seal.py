"""Private keys at rest: sealed by :func:`engine.keys.seal`, as Ed25519 keys are (scrypt from the passphrase in
``EXHORTO_KEY_PASSPHRASE`` → AES-256-GCM, the owner's id as associated data so a ciphertext cannot be moved to
another row), here for any key serialised as PKCS#8 DER."""

from __future__ import annotations

import threading
from typing import Any

from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_der_private_key,
)

from engine.keys import require_passphrase, seal, unseal

__all__ = ["require_passphrase", "seal_key", "unseal_key"]


def seal_key(key: PrivateKeyTypes, owner_id: str) -> dict[str, Any]:
    der = key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    return {**seal(der, owner_id), "format": "PKCS8-DER"}


_cache: dict[tuple[str, str], PrivateKeyTypes] = {}
_cache_lock = threading.Lock()


def unseal_key(sealed: dict[str, Any], owner_id: str, *, cache_scope: str = "") -> PrivateKeyTypes:
    """The private key (decrypted once per process and scope: scrypt costs a deliberate ~0.1 s)."""
    with _cache_lock:
        cached = _cache.get((cache_scope, owner_id))
    if cached is not None:
        return cached
    key = load_der_private_key(unseal(sealed, owner_id), password=None)
    with _cache_lock:
        _cache[(cache_scope, owner_id)] = key
    return key
