"""After retention: make the erased values unreachable in the database files, not only in the current rows.

Pseudonymising a row leaves copies behind: on SQLite the old page images in the write-ahead log and the freed
space of pages; on PostgreSQL the old tuple versions (dead tuples, TOAST chunks) until vacuum. What each backend
guarantees, and what it does not (WAL archives, backups), is in docs/privacy.md.

* SQLite: every connection runs with ``PRAGMA secure_delete=ON`` (see :mod:`engine.store.db`), so freed cells
  and freelist pages are overwritten with zeros when the row changes; a ``wal_checkpoint(TRUNCATE)`` then copies
  the new pages into the database file and empties the WAL, where the pre-redaction page images were.
* PostgreSQL: ``VACUUM`` of the touched tables (outside a transaction, as PostgreSQL requires) removes the dead
  tuples from the tables and their TOAST relations; ``full=True`` rewrites the tables into new files
  (``VACUUM FULL``, an exclusive lock while it runs) so no page of the old files is kept by the database.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect

from engine.store.db import Database

# Tables whose rows retention rewrites or deletes (their old versions are what must go).
TOUCHED = ("case", "message", "signed_message", "document", "attachment", "idempotency_key", "notification",
           "audit_text", "deadline_event")


ATTEMPTS = 4  # PostgreSQL: vacuum runs while an older snapshot keeps dead row versions (pauses 2, 4, 6 s)
PAUSE = 2.0


@dataclass(frozen=True)
class ScrubResult:
    backend: str
    complete: bool  # False: a reader kept the SQLite WAL from being emptied; the next run retries
    detail: str

    def as_dict(self) -> dict[str, object]:
        return {"backend": self.backend, "complete": self.complete, "detail": self.detail}


def scrub(db: Database, *, tables: tuple[str, ...] = TOUCHED, full: bool = False) -> ScrubResult:
    """Checkpoint (SQLite) or vacuum (PostgreSQL) so the erased values are gone from the database files."""
    if db.dialect == "sqlite":
        return _sqlite(db, full)
    return _postgres(db, tables, full)


def _sqlite(db: Database, full: bool) -> ScrubResult:
    # A raw DB-API connection is in autocommit mode (``isolation_level=None`` in engine.store.db): a checkpoint
    # or VACUUM cannot run inside the BEGIN that SQLAlchemy connections issue.
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if full:
            cursor.execute("VACUUM")
        for attempt in range(ATTEMPTS):  # a reader still in the WAL blocks the TRUNCATE: wait for it to finish
            busy, log_frames, done = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            complete = busy == 0 and (log_frames in (0, -1) or log_frames == done)
            if complete:
                break
            time.sleep(PAUSE * (attempt + 1))
        cursor.close()
    finally:
        raw.close()
    return ScrubResult("sqlite", complete, f"wal_checkpoint(TRUNCATE): busy={busy} log={log_frames} "
                                           f"checkpointed={done}" + (", VACUUM" if full else ""))


def _postgres(db: Database, tables: tuple[str, ...], full: bool, attempts: int = ATTEMPTS) -> ScrubResult:
    """VACUUM VERBOSE reports the dead row versions it had to keep because an older snapshot may still see them
    (an open transaction, or a CREATE DATABASE anywhere on the server): then the old values are still in the
    files, so the run is retried after a pause and, if they stay, reported incomplete (the next run retries)."""
    command = "VACUUM (FULL, ANALYZE, VERBOSE)" if full else "VACUUM (ANALYZE, VERBOSE)"
    kept: dict[str, int] = {}
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        existing = set(inspect(connection).get_table_names())
        names = [t for t in tables if t in existing]
        notices: list[str] = []
        driver = connection.connection.driver_connection

        def collect(diagnostic: Any) -> None:
            notices.append(f"{diagnostic.message_primary or ''} {diagnostic.message_detail or ''}")

        driver.add_notice_handler(collect)
        try:
            for attempt in range(attempts):
                notices.clear()
                for name in names:
                    connection.exec_driver_sql(f'{command} "{name}"')
                kept = _not_removable(notices)
                if not kept:
                    break
                time.sleep(PAUSE * (attempt + 1))
        finally:
            driver.remove_notice_handler(collect)
    detail = f"{command.replace(', VERBOSE', '')} {', '.join(names)}"
    if kept:
        detail += "; dead row versions an older snapshot still sees: " + ", ".join(f"{k} {v}" for k, v in kept.items())
    return ScrubResult("postgresql", not kept, detail)


_KEPT = (re.compile(r"(\d+) are dead but not yet removable"), re.compile(r"(\d+) dead row versions cannot be removed"))
_RELATION = re.compile(r'"([\w.]+)"')


def _not_removable(notices: list[str]) -> dict[str, int]:
    """Relations whose VACUUM VERBOSE output says dead row versions were kept, with how many."""
    kept: dict[str, int] = {}
    for notice in notices:
        for pattern in _KEPT:
            for match in pattern.finditer(notice):
                if int(match.group(1)):
                    relation = _RELATION.search(notice)
                    key = relation.group(1) if relation else "?"
                    kept[key] = kept.get(key, 0) + int(match.group(1))
    return kept
