"""The browser session: one signed cookie holding the user, the CSRF token, the chosen language and a flash
note.

Signed (HMAC, itsdangerous) with the node's secret: ``EXHORTO_SECRET_KEY``, or for the embedded default a
random key generated once into a file readable by its owner only (``EXHORTO_SECRET_FILE``, default:
beside the SQLite database, e.g. ``exhorto.secret``). The key is never logged or shown.

CSRF: a random token bound to the session (synchronizer pattern); every POST form carries it in a hidden field
and the server compares it in constant time. Logging in starts a new session with a new token (no fixation),
and the session remembers a fingerprint of the password hash and of the last logout, so changing a password or
logging out ends every session of that user — including a copied cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from engine.store.models import User

SECRET_ENV = "EXHORTO_SECRET_KEY"
SECRET_FILE_ENV = "EXHORTO_SECRET_FILE"
DEFAULT_SECRET_FILE = Path("exhorto.secret")
COOKIE = "exhorto_session"
MAX_AGE = 8 * 3600  # a working day; the signature's timestamp is checked on every request


def default_secret_file(database_url: str) -> Path:
    """Beside the SQLite database (``exhorto.db`` → ``exhorto.secret``), else in the working directory."""
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        return Path(database_url.removeprefix("sqlite:///")).with_suffix(".secret")
    return DEFAULT_SECRET_FILE


def load_secret(default_file: Path = DEFAULT_SECRET_FILE) -> str:
    configured = os.environ.get(SECRET_ENV)
    if configured:
        return configured
    path = Path(os.environ.get(SECRET_FILE_ENV) or default_file)
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    secret = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting together do not overwrite each other's key; 0600: owner only.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret)
    return secret


@cache
def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="exhorto-web-session")


def session_fingerprint(user: User) -> str:
    """What a session remembers of its user: it changes when the password changes or the user logs out, which
    ends every browser session opened before (the cookie alone cannot be recalled)."""
    revoked = user.sessions_revoked_at.isoformat() if user.sessions_revoked_at else ""
    return hashlib.sha256(f"{user.password_hash or ''}|{revoked}".encode()).hexdigest()[:16]


@dataclass
class SessionData:
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    user: str | None = None
    fingerprint: str | None = None
    lang: str | None = None
    flash: list[tuple[str, str]] = field(default_factory=list)  # (kind, msgid), translated when shown

    def to_dict(self) -> dict[str, Any]:
        return {
            "c": self.csrf,
            "u": self.user,
            "p": self.fingerprint,
            "l": self.lang,
            "f": [list(f) for f in self.flash],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionData:
        return cls(
            csrf=str(data.get("c") or secrets.token_urlsafe(32)),
            user=data.get("u"),
            fingerprint=data.get("p"),
            lang=data.get("l"),
            flash=[(str(k), str(m)) for k, m in data.get("f") or []],
        )

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf.encode(), str(token).encode())


def encode(session: SessionData, secret: str) -> str:
    return _serializer(secret).dumps(session.to_dict())


def decode(cookie: str | None, secret: str) -> SessionData | None:
    """The session a cookie carries; None for a missing, forged or expired cookie."""
    if not cookie:
        return None
    try:
        data = _serializer(secret).loads(cookie, max_age=MAX_AGE)
    except BadSignature:
        return None
    return SessionData.from_dict(data) if isinstance(data, dict) else None
