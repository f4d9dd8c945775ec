"""What a restore checks in a copy before it replaces anything: the file is a sound database, it is at the schema
revision this code runs, and every stored byte still matches the hash recorded for it.

Row counts and audit chains (checked in :mod:`engine.backup`) do not see a document, an attachment or a signed
envelope that was altered in place: their rows are all there, only their content changed. Each of them carries
its own SHA-256 (and each envelope its Ed25519 signature), so each is recomputed here.

Every function returns problems as short one-line strings; the caller reports the first few in one message.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from engine.canonical import canonical_json, sha256_hex

# A backup with thousands of damaged rows is described by its first few; the rest are counted.
SHOWN = 5


def integrity(connection: Connection) -> list[str]:
    """The database engine's own structural check (SQLite: ``PRAGMA integrity_check``; PostgreSQL checked the
    archive while ``pg_restore`` read it, and has no equivalent without extensions)."""
    if connection.dialect.name != "sqlite":
        return []
    rows = [str(row[0]) for row in connection.execute(text("PRAGMA integrity_check")).fetchall()]
    return [] if rows == ["ok"] else [f"integrity check: {' | '.join(rows[:3])}"]


def stored_files(connection: Connection, present: set[str]) -> list[str]:
    """Documents and attachments whose bytes no longer have the SHA-256 (and size) recorded with them."""
    problems: list[str] = []
    for table, label in (("document", "document"), ("attachment", "attachment")):
        if table not in present:
            continue
        for row in connection.execute(text(f'SELECT id, case_id, sha256, size, content FROM "{table}"')):
            content = bytes(row.content or b"")
            if sha256_hex(content) != row.sha256 or len(content) != row.size:
                problems.append(f"{label} {row.id} of case {row.case_id}: content does not match its SHA-256")
    return problems


def _as_object(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return None
    return parsed if isinstance(parsed, dict) else None


def signed_envelopes(connection: Connection, present: set[str]) -> list[str]:
    """Signed envelopes whose canonical form no longer hashes to the recorded SHA-256, or whose signature no
    longer holds for the key that made it (when that key is known here)."""
    if "signed_message" not in present:
        return []
    from engine.keys import b64d
    from engine.transport.signing import Signature, signature_holds

    keys: dict[str, str] = {}
    if "authoritykey" in present:
        keys = {str(r.key_id): str(r.public_key)
                for r in connection.execute(text("SELECT key_id, public_key FROM authoritykey"))}
    problems: list[str] = []
    rows = connection.execute(text("SELECT id, direction, message_id, envelope_sha256, key_id, signature, envelope "
                                   "FROM signed_message"))
    for row in rows:
        where = f"signed message {row.message_id} ({row.direction})"
        envelope = _as_object(row.envelope)
        if envelope is None:
            problems.append(f"{where}: envelope unreadable")
            continue
        signed = canonical_json(envelope)
        if sha256_hex(signed) != row.envelope_sha256:
            problems.append(f"{where}: envelope does not match its SHA-256")
            continue
        public = keys.get(str(row.key_id))
        if public is not None:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

            try:
                key = Ed25519PublicKey.from_public_bytes(b64d(public))
            except ValueError:
                problems.append(f"{where}: key {row.key_id} unreadable")
                continue
            if not signature_holds(key, Signature(key_id=str(row.key_id), value=str(row.signature)), signed):
                problems.append(f"{where}: signature does not hold")
    return problems


def revision(manifest_revision: str | None, stored: str | None, head: str | None) -> list[str]:
    """The manifest, the copy and this code agree on the schema revision."""
    if manifest_revision != stored:
        return [f"schema revision {stored or 'none'} in the file, {manifest_revision or 'none'} in its manifest"]
    if stored != head:  # the caller says this one alone, in the user's language
        return [f"schema revision {stored or 'none'}; this exhorto runs {head or 'none'}"]
    return []


def summarise(problems: list[str]) -> str:
    shown = "; ".join(p.replace("\n", " ") for p in problems[:SHOWN])
    more = len(problems) - SHOWN
    return shown + (f"; and {more} more" if more > 0 else "")


__all__ = ["integrity", "revision", "signed_envelopes", "stored_files", "summarise"]
