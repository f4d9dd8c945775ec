"""`exhorto restore` checks content, not only row counts, and is all or nothing: a backup with 16 flipped bytes in
a signed message, an altered PDF, a truncated file or another schema revision is refused in one line (exit 1, no
traceback) and leaves nothing in the target; a database already there stays exactly as it was."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.backup import backup, manifest_path
from engine.store.db import Database
from engine.store.migrate import head_revision, linear_head
from tests.ops.test_backup import _populate

EXHORTO = str(Path(sys.executable).with_name("exhorto"))


@pytest.fixture(scope="module")
def good_backup(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("restore-checks")
    db = Database(f"sqlite:///{folder / 'node.db'}")
    db.create_all()
    _populate(db)  # signed envelopes, their PDFs and attachments, audit chains
    file = folder / "node.backup"
    backup(db, file)
    db.dispose()
    with sqlite3.connect(file) as connection:
        assert connection.execute("SELECT count(*) FROM signed_message").fetchone()[0] > 0
        assert connection.execute("SELECT count(*) FROM document").fetchone()[0] > 0
    return file


def _copy(good: Path, folder: Path) -> Path:
    file = folder / "node.backup"
    shutil.copyfile(good, file)
    shutil.copyfile(manifest_path(good), manifest_path(file))
    return file


def _restore(file: Path, target: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EXHORTO_DATABASE_URL": f"sqlite:///{target}", "EXHORTO_LANG": "en"}
    return subprocess.run([EXHORTO, "restore", str(file), *extra], env=env, capture_output=True, text=True,
                          cwd=file.parent, check=False)


def _flip(data: bytearray, start: int, count: int = 16) -> None:
    """Flip ``count`` letters and digits from ``start`` on (case of letters, digits +1): the text stays valid JSON
    (or PDF syntax), so only a content check notices."""
    flipped = 0
    position = start
    while flipped < count:
        byte = data[position]
        if chr(byte).isalpha():
            data[position] = byte ^ 0x20
            flipped += 1
        elif chr(byte).isdigit():
            data[position] = ord(str((byte - 0x30 + 1) % 10))
            flipped += 1
        position += 1


def _flip_signed_message(file: Path) -> None:
    data = bytearray(file.read_bytes())
    start = data.find(b'"sent_at":"')  # inside a stored signed envelope (compact JSON)
    assert start > 0
    _flip(data, start)
    file.write_bytes(bytes(data))


def _alter_pdf(file: Path) -> None:
    """Damage a stored document's PDF, not an attachment (a PDF too, sometimes the same bytes): the first PDF whose
    start lies well within a database page and whose change shows in the document table only."""
    original = file.read_bytes()
    before = _blobs(file)
    start = original.find(b"%PDF-")
    while start > 0:
        if start % 4096 + 200 < 4096:  # within the page that holds the start of the blob
            data = bytearray(original)
            _flip(data, start + 20)
            file.write_bytes(bytes(data))
            after = _blobs(file)
            if after["attachment"] == before["attachment"] and after["document"] != before["document"]:
                return
        start = original.find(b"%PDF-", start + 1)
    file.write_bytes(original)
    raise AssertionError("no stored document starts within a database page")


def _blobs(file: Path) -> dict[str, list[bytes]]:
    with sqlite3.connect(file) as connection:
        found = {table: [bytes(row[0]) for row in connection.execute(f"SELECT content FROM {table} ORDER BY id")]
                 for table in ("document", "attachment")}
    connection.close()
    return found


def _truncate(file: Path) -> None:
    data = file.read_bytes()
    file.write_bytes(data[: len(data) // 2])


def _other_revision(file: Path) -> None:
    older = "0013_observatory"
    with sqlite3.connect(file) as connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (older,))
    connection.close()
    manifest = json.loads(manifest_path(file).read_text(encoding="utf-8"))
    manifest["revision"] = older
    manifest_path(file).write_text(json.dumps(manifest), encoding="utf-8")


DAMAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "signed-message": (_flip_signed_message, "envelope does not match its SHA-256"),
    "pdf": (_alter_pdf, "content does not match its SHA-256"),
    "truncated": (_truncate, "is damaged or truncated"),
    "revision": (_other_revision, f"schema revision 0013_observatory; this exhorto runs {linear_head()}."),
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_damaged_backup_is_refused_and_leaves_nothing(good_backup: Path, tmp_path: Path, damage: str) -> None:
    spoil, expected = DAMAGES[damage]
    file = _copy(good_backup, tmp_path)
    spoil(file)
    target = tmp_path / "target" / "restored.db"
    done = _restore(file, target)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in done.stderr and done.stdout == ""
    assert expected in lines[0], lines[0]
    assert "nothing was restored" in lines[0] or "does not match the backup" in lines[0], lines[0]
    # Nothing behind: no target file, no staging copy.
    assert not target.exists()
    assert not (tmp_path / "target").exists() or not any((tmp_path / "target").iterdir())


def test_a_database_in_place_is_untouched_by_a_refused_restore(good_backup: Path, tmp_path: Path) -> None:
    target = tmp_path / "restored.db"
    first = _restore(_copy(good_backup, tmp_path), target)
    assert first.returncode == 0 and "audit chains of 3 cases verified" in first.stdout, first.stderr
    before = target.read_bytes()
    spoiled = tmp_path / "spoiled"
    spoiled.mkdir()
    file = _copy(good_backup, spoiled)
    _alter_pdf(file)
    refused = _restore(file, target, "--force")
    assert refused.returncode == 1 and "document" in refused.stderr, refused.stderr
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["node.backup", "node.backup.manifest.json",
                                                          "restored.db", "spoiled"]


def test_good_backup_restores_at_the_code_revision(good_backup: Path, tmp_path: Path) -> None:
    target = tmp_path / "restored.db"
    done = _restore(_copy(good_backup, tmp_path), target)
    assert done.returncode == 0, done.stderr
    restored = Database(f"sqlite:///{target}")
    try:
        with restored.engine.connect() as connection:
            stored = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        assert stored == head_revision(restored)
    finally:
        restored.dispose()


@pytest.mark.postgres
def test_postgres_truncated_dump_is_refused_and_leaves_nothing(pg_database_url: str, tmp_path: Path) -> None:
    """PostgreSQL: the dump goes into a staging database on the same server first; a truncated dump is refused
    there, the staging database is dropped and the target stays empty; the whole dump then restores."""
    import uuid

    import psycopg

    from engine.backup import BackupDamaged, restore
    from tests.conftest import PG_ADMIN_URL, _empty_postgres

    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    source = Database(pg_database_url)
    _empty_postgres(source)
    _populate(source)
    file = tmp_path / "node.dump"
    backup(source, file)
    source.dispose()
    truncated = tmp_path / "truncated.dump"
    truncated.write_bytes(file.read_bytes()[: file.stat().st_size // 2])
    shutil.copyfile(manifest_path(file), manifest_path(truncated))
    name = f"exhorto_target_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    target = Database(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        with pytest.raises(BackupDamaged, match="nothing was restored"):
            restore(truncated, target)
        with target.engine.connect() as connection:
            assert connection.dialect.get_table_names(connection) == []
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            left = admin.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{name}_restore_%",))
            assert left.fetchall() == []
        assert restore(file, target).cases_verified == 3
    finally:
        target.dispose()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
