"""Private keys at rest: sealed exactly as :mod:`engine.keys` seals Ed25519 keys (scrypt from the passphrase in
``EXHORTO_KEY_PASSPHRASE`` → AES-256-GCM, the owner's id as associated data so a ciphertext cannot be moved to
another row), here for any key serialised as PKCS#8 DER."""

from __future__ import annotations

import os
import threading
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_der_private_key,
)

from engine.keys import DEFAULT_KDF_COST, KDF_COST_ENV, PASSPHRASE_ENV, PassphraseMissing, WrongPassphrase, b64d, b64e


def require_passphrase() -> bytes:
    value = os.environ.get(PASSPHRASE_ENV)
    if not value:
        raise PassphraseMissing(env=PASSPHRASE_ENV)
    return value.encode()


def _kdf(salt: bytes, n_log2: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=2**n_log2, r=r, p=p).derive(require_passphrase())


def seal_key(key: PrivateKeyTypes, owner_id: str) -> dict[str, Any]:
    n_log2 = int(os.environ.get(KDF_COST_ENV, DEFAULT_KDF_COST))
    salt, nonce = os.urandom(16), os.urandom(12)
    der = key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    ciphertext = AESGCM(_kdf(salt, n_log2, 8, 1)).encrypt(nonce, der, owner_id.encode())
    return {"kdf": "scrypt", "n": n_log2, "r": 8, "p": 1, "salt": b64e(salt), "nonce": b64e(nonce),
            "cipher": "AES-256-GCM", "format": "PKCS8-DER", "ciphertext": b64e(ciphertext)}


_cache: dict[tuple[str, str], PrivateKeyTypes] = {}
_cache_lock = threading.Lock()


def unseal_key(sealed: dict[str, Any], owner_id: str, *, cache_scope: str = "") -> PrivateKeyTypes:
    """The private key (decrypted once per process and scope: scrypt costs a deliberate ~0.1 s)."""
    with _cache_lock:
        cached = _cache.get((cache_scope, owner_id))
    if cached is not None:
        return cached
    secret = _kdf(b64d(sealed["salt"]), int(sealed["n"]), int(sealed["r"]), int(sealed["p"]))
    try:
        der = AESGCM(secret).decrypt(b64d(sealed["nonce"]), b64d(sealed["ciphertext"]), owner_id.encode())
    except InvalidTag:
        raise WrongPassphrase(key_id=owner_id, env=PASSPHRASE_ENV) from None
    key = load_der_private_key(der, password=None)
    with _cache_lock:
        _cache[(cache_scope, owner_id)] = key
    return key
