"""`exhorto backup` / `exhorto restore` on SQLite (online backup API) and PostgreSQL (pg_dump/pg_restore): the
restored database has the same row counts and every audit chain verifies; a damaged copy is caught."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from engine.backup import (
    BackupError,
    RestoreNotVerified,
    TargetNotEmpty,
    backup,
    manifest_path,
    restore,
    table_counts,
)
from engine.store.db import Database
from engine.store.migrate import upgrade
from tests.conftest import PG_ADMIN_URL
from tests.helpers import make_world

ROOT = Path(__file__).resolve().parents[2]


def _populate(db: Database) -> None:
    from alembic import command

    from engine.store.migrate import alembic_config, stored_revision

    if stored_revision(db) is None:  # created from the models: say so, as a migrated node's database would
        command.stamp(alembic_config(db), "head")
        db.dispose()
    world = make_world(db)
    requesting, requested = world.transmitted()
    world.act(requested, "acknowledge", "ES-MJ", "clerk")
    world.new_request("CO-FGN", "PT-PGR")  # a draft too


@pytest.fixture
def empty_target(db: Database, tmp_path: Path) -> Iterator[Database]:
    """An empty database of the same kind as ``db`` (no schema: the restore brings it)."""
    if db.dialect == "sqlite":
        target = Database(f"sqlite:///{tmp_path / 'restored.db'}")
        yield target
        target.dispose()
        return
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    name = f"exhorto_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    target = Database(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    yield target
    target.dispose()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_backup_then_restore_verifies(db: Database, empty_target: Database, tmp_path: Path) -> None:
    _populate(db)
    file = tmp_path / "node.backup"
    made = backup(db, file)
    with db.engine.connect() as connection:
        source_counts = table_counts(connection)
    assert made.counts == source_counts and made.cases_verified == 3
    assert made.counts["auditevent"] > 0 and made.counts["message"] > 0
    assert json.loads(manifest_path(file).read_text())["counts"] == source_counts
    with pytest.raises(BackupError):
        backup(db, file)  # never overwritten by accident

    done = restore(file, empty_target)
    assert done.counts == source_counts and done.cases_verified == 3
    # The restored node works: it can act on its cases.
    world = make_world.__globals__["World"](empty_target)
    world.act(world.new_request(), "submit", "CO-FGN", "clerk")

    with pytest.raises(TargetNotEmpty):
        restore(file, empty_target)  # holds data now: refused, nothing replaced
    again = restore(file, empty_target, force=True)
    assert again.counts == source_counts


def test_count_mismatch_is_reported(sqlite_db: Database, tmp_path: Path) -> None:
    _populate(sqlite_db)
    file = tmp_path / "node.backup"
    backup(sqlite_db, file)
    manifest = json.loads(manifest_path(file).read_text())
    manifest["counts"]["message"] += 1
    manifest_path(file).write_text(json.dumps(manifest))
    target = Database(f"sqlite:///{tmp_path / 'restored.db'}")
    with pytest.raises(RestoreNotVerified, match="message"):
        restore(file, target)


def test_tampered_audit_log_is_caught(sqlite_db: Database, tmp_path: Path) -> None:
    _populate(sqlite_db)
    file = tmp_path / "node.backup"
    backup(sqlite_db, file)
    with sqlite3.connect(file) as connection:
        connection.execute("UPDATE auditevent SET actor = 'mallory' WHERE seq = 2")
    target = Database(f"sqlite:///{tmp_path / 'restored.db'}")
    with pytest.raises(RestoreNotVerified, match="hash mismatch"):
        restore(file, target)


def test_wrong_inputs_are_refused(sqlite_db: Database, tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="manifest missing"):
        restore(tmp_path / "absent.backup", sqlite_db)
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a database")
    manifest_path(junk).write_text(json.dumps({"dialect": "sqlite", "revision": None, "counts": {},
                                               "created_at": "2026-11-23T00:00:00+00:00", "format": 1}))
    with pytest.raises(BackupError, match="neither a SQLite database nor a pg_dump archive"):
        restore(junk, sqlite_db)


def test_cli_backup_and_restore(tmp_path: Path) -> None:
    source = tmp_path / "node.db"
    env = {**os.environ, "EXHORTO_DATABASE_URL": f"sqlite:///{source}"}
    exhorto = [str(Path(sys.executable).with_name("exhorto"))]
    db = Database(f"sqlite:///{source}")
    upgrade(db)
    _populate(db)
    db.dispose()
    file = tmp_path / "out" / "node.backup"
    made = subprocess.run([*exhorto, "backup", str(file)], env=env, capture_output=True, text=True,
                          cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "audit chains of 3 cases verified" in made.stdout
    again = subprocess.run([*exhorto, "backup", str(file)], env=env, capture_output=True, text=True,
                           cwd=tmp_path)
    assert again.returncode == 1 and again.stderr.startswith("error: ") and "Traceback" not in again.stderr
    target_env = {**env, "EXHORTO_DATABASE_URL": f"sqlite:///{tmp_path / 'restored.db'}"}
    done = subprocess.run([*exhorto, "restore", str(file)], env=target_env, capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("restored ") and "3 cases verified" in done.stdout
