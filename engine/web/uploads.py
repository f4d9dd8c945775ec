"""Attachment uploads: size limit, allowed types (by extension, confirmed by the file's first bytes where the
format has a signature), SHA-256, and storage with the case (content-addressed, so the same file twice is one
row).

The stored descriptor ``{name, media_type, size, sha256}`` is what forms list; the outbound transport carries
the content of every file so listed (engine.transport.sender)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from engine.errors import InvalidInput
from engine.i18n import N_
from engine.store.db import Database
from engine.store.federation_models import Attachment
from engine.store.models import utcnow
from engine.store.upsert import insert_ignore

ALLOWED: dict[str, str] = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".json": "application/json",
    ".xml": "application/xml",
    ".zip": "application/zip",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".mp3": "audio/mpeg",
    ".mp4": "video/mp4",
    ".wav": "audio/wav",
}
_ZIP = (b"PK\x03\x04",)
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/tiff": (b"II*\x00", b"MM\x00*"),
    "application/zip": _ZIP,
    "application/vnd.oasis.opendocument.text": _ZIP,
    "application/vnd.oasis.opendocument.spreadsheet": _ZIP,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _ZIP,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _ZIP,
}
_UNSAFE = re.compile(r"[\x00-\x1f/\\]+")


class UploadTooLarge(InvalidInput):
    code = "upload_too_large"
    template = N_("File {name} is too large: at most {limit} bytes are accepted.")


class UploadTypeNotAllowed(InvalidInput):
    code = "upload_type_not_allowed"
    template = N_("File {name} is not of an accepted type. Accepted: {allowed}.")


class UploadContentMismatch(InvalidInput):
    code = "upload_content_mismatch"
    template = N_("File {name} does not contain what its extension says.")


class UploadEmpty(InvalidInput):
    code = "upload_empty"
    template = N_("File {name} is empty.")


@dataclass(frozen=True)
class CheckedFile:
    name: str
    media_type: str
    size: int
    sha256: str
    content: bytes

    def descriptor(self) -> dict[str, object]:
        return {"name": self.name, "media_type": self.media_type, "size": self.size, "sha256": self.sha256}


def clean_name(filename: str) -> str:
    """The file's own name without any folder, control characters or over-long tail (max 255 characters)."""
    base = _UNSAFE.split(filename.replace("\\", "/"))[-1].strip() or "file"
    stem, dot, extension = base.rpartition(".")
    if dot and len(base) > 255:
        return stem[: 254 - len(extension)] + "." + extension
    return base[:255]


def check(filename: str, content: bytes, limit: int) -> CheckedFile:
    name = clean_name(filename)
    if len(content) > limit:
        raise UploadTooLarge(name=name, limit=limit)
    if not content:
        raise UploadEmpty(name=name)
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    media_type = ALLOWED.get(extension)
    if media_type is None:
        raise UploadTypeNotAllowed(name=name, allowed=", ".join(sorted(ALLOWED)))
    signatures = SIGNATURES.get(media_type)
    if signatures and not content.startswith(signatures):
        raise UploadContentMismatch(name=name)
    return CheckedFile(name, media_type, len(content), hashlib.sha256(content).hexdigest(), content)


def store(db: Database, *, authority: str, case_id: int, files: list[CheckedFile], now: datetime | None = None) -> None:
    """Keep the files with the case (idempotent: a file already held by the authority is not stored twice)."""
    now = now or utcnow()
    with db.transaction() as session:
        for item in files:
            insert_ignore(
                session,
                Attachment,
                {
                    "authority_code": authority,
                    "case_id": case_id,
                    "sha256": item.sha256,
                    "name": item.name,
                    "media_type": item.media_type,
                    "size": item.size,
                    "content": item.content,
                    "created_at": now,
                },
            )
