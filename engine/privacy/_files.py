"""Files written outside the database: recorded so that an operator can find them when the data must go.

Retention pseudonymises what the database holds; a PDF written to a folder is out of its reach. Each such file
is recorded (path, SHA-256, size, who, when) in ``external_file`` and, for each case it concerns, as a
``file_written`` event of the case's audit chain (hashes only: a path may name a person, and the chain is never
erased). When retention redacts the case it lists these files in its
``redact`` event and returns them as warnings: deleting them is the operator's job.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from engine import audit
from engine.store.db import Database
from engine.store.models import Case, utcnow
from engine.store.privacy_models import ExternalFile
from engine.store.queries import load_case

FILE_ACTION = "file_written"
KINDS = ("pdf", "demo_pdf", "evidence", "subject_export")


def _digest(path: Path) -> tuple[str, int]:
    data = path.read_bytes()
    return hashlib.sha256(data).hexdigest(), len(data)


def record_files(
    db: Database,
    *,
    authority: str,
    actor: str,
    kind: str,
    paths: Sequence[Path],
    cases: Iterable[Case | int | str] = (),
    now: datetime | None = None,
) -> list[ExternalFile]:
    """Record ``paths`` (already written) as concerning ``cases`` of ``authority``, in one transaction; each case
    gets one ``file_written`` audit event listing them."""
    assert kind in KINDS, kind
    now = now or utcnow()
    files = [(str(p.resolve()), *_digest(p)) for p in paths]
    rows: list[ExternalFile] = []
    with db.transaction() as session:
        targets = [load_case(session, c.id if isinstance(c, Case) else c) for c in cases]
        for case in targets or [None]:
            case_id = case.id if case is not None else None
            for path, sha256, size in files:
                row = ExternalFile(authority_code=case.authority_code if case else authority, case_id=case_id,
                                   kind=kind, path=path, sha256=sha256, size=size, actor=actor, at=now)
                session.add(row)
                rows.append(row)
            if case is not None:
                audit.append(session, case, at=now, actor=actor, action=FILE_ACTION, from_state=None,
                             to_state=None, detail={"kind": kind, "sha256": [h for _, h, _ in files]})
    return rows


def outside_files(db: Database, case_id: int) -> list[dict[str, Any]]:
    with db.reader() as session:
        return files_of_case(session, case_id)


def files_of_case(session: Session, case_id: int) -> list[dict[str, Any]]:
    """The files written outside the database about one case, oldest first."""
    rows = session.exec(select(ExternalFile).where(ExternalFile.case_id == case_id).order_by(col(ExternalFile.id)))
    return [{"kind": r.kind, "path": r.path, "sha256": r.sha256, "actor": r.actor,
             "at": r.at.isoformat(timespec="seconds")} for r in rows]
