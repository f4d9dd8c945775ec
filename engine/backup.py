"""Backup and restore of a node's database, with proof that the copy is whole.

* SQLite: the ``sqlite3`` online backup API copies a consistent snapshot while the node keeps running.
* PostgreSQL: ``pg_dump --format=custom`` reads a snapshot exported by a REPEATABLE READ transaction in
  which the row counts are taken too, so the manifest describes exactly what the dump holds; ``pg_restore``
  brings it back.

Next to ``FILE`` a manifest ``FILE.manifest.json`` records the dialect, the schema revision and the row count
of every table. A restore is all or nothing: the backup goes into a staging copy (a temporary file next to the
target, or a temporary database on the same PostgreSQL server), is verified there — integrity, schema revision,
counts, stored files' and signed envelopes' hashes (:mod:`engine.backup_checks`), every case's audit chain
(:func:`engine.audit.verify_all`) — and only then replaces the target. Passwords in database URLs go to the tools
through the environment (``PGPASSWORD``), never on a command line or in a message.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from engine.audit import verify_all
from engine.errors import ExhortoError
from engine.i18n import N_
from engine.store.db import Database
from engine.store.models import utcnow

FORMAT = 1
SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(ExhortoError):
    code = "backup_failed"
    template = N_("Backup or restore failed: {reason}")


class TargetNotEmpty(ExhortoError):
    code = "restore_target_not_empty"
    template = N_("The target database already holds {rows} rows; use --force to replace its contents.")


class BackupDamaged(BackupError):
    code = "backup_damaged"
    template = N_("{file} is damaged or truncated ({detail}); nothing was restored.")


class SchemaRevisionMismatch(BackupError):
    code = "backup_schema_revision"
    template = N_("The backup is at schema revision {backup}; this exhorto runs {head}. Restore it with the "
                  "version that wrote it, then run “exhorto db upgrade”; nothing was restored.")


class RestoreNotVerified(ExhortoError):
    code = "restore_not_verified"
    template = N_("The restored database does not match the backup: {problems}")


@dataclass
class Manifest:
    dialect: str
    revision: str | None
    counts: dict[str, int]
    created_at: str = field(default_factory=lambda: utcnow().isoformat(timespec="seconds"))
    format: int = FORMAT

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**{k: data[k] for k in ("dialect", "revision", "counts", "created_at", "format")})
        except FileNotFoundError:
            raise BackupError(reason=f"{path}: manifest missing (written next to every backup)") from None
        except (ValueError, KeyError, TypeError) as error:
            raise BackupError(reason=f"{path}: not a backup manifest ({error})") from None


@dataclass(frozen=True)
class Report:
    """What a backup or restore did: the file, the table counts, the cases whose chains were checked."""

    file: Path
    dialect: str
    counts: dict[str, int]
    cases_verified: int

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def manifest_path(file: Path) -> Path:
    return file.with_name(file.name + ".manifest.json")


def _tables() -> list[str]:
    import engine.store.models  # noqa: F401 - registers every table

    return sorted(SQLModel.metadata.tables)


def table_counts(connection: Connection) -> dict[str, int]:
    """Rows per table of the schema (tables absent from this database count as missing, not zero)."""
    present = set(connection.dialect.get_table_names(connection))
    return {name: int(connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one())
            for name in _tables() if name in present}


def _revision(connection: Connection) -> str | None:
    if "alembic_version" not in set(connection.dialect.get_table_names(connection)):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _verify_chains(db: Database) -> int:
    with db.reader() as session:
        checked, breaks = verify_all(session)
    if breaks:
        raise RestoreNotVerified(problems="; ".join(str(b) for b in breaks[:5]))
    return checked


# --- SQLite --------------------------------------------------------------------------------
def _sqlite_path(db: Database) -> Path:
    database = make_url(db.url).database
    if not database or database == ":memory:":
        raise BackupError(reason="an in-memory SQLite database cannot be backed up")
    return Path(database)


def _sqlite_copy(source: Path, target: Path) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)  # page by page, consistent even while the node writes
    finally:
        dst.close()
        src.close()


def _backup_sqlite(db: Database, file: Path) -> Report:
    _sqlite_copy(_sqlite_path(db), file)
    copy = Database(f"sqlite:///{file}")
    try:
        with copy.engine.connect() as connection:
            counts, revision = table_counts(connection), _revision(connection)
        checked = _verify_chains(copy)
    finally:
        copy.dispose()
    Manifest(dialect="sqlite", revision=revision, counts=counts).write(manifest_path(file))
    return Report(file=file, dialect="sqlite", counts=counts, cases_verified=checked)


# --- PostgreSQL ----------------------------------------------------------------------------
def _libpq(db: Database) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, and the environment that carries the password."""
    url = make_url(db.url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    path = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    if path is None:
        raise BackupError(reason=f"{name} is not installed (PostgreSQL client tools are needed)")
    return path


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise BackupError(reason=f"{Path(command[0]).name} exited with {done.returncode}: "
                                 f"{lines[-1] if lines else 'no message'}")


def _backup_postgres(db: Database, file: Path) -> Report:
    url, env = _libpq(db)
    # One REPEATABLE READ snapshot for the counts and for pg_dump: the manifest is exact even under writes.
    with (db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection,
          connection.begin()):
        snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        counts, revision = table_counts(connection), _revision(connection)
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              f"--snapshot={snapshot}", f"--file={file}", f"--dbname={url}"], env)
    with db.reader() as session:
        checked, breaks = verify_all(session)
    if breaks:  # the live database itself is damaged: say so rather than archive it silently
        raise BackupError(reason="audit chain broken in the source: " + "; ".join(map(str, breaks[:5])))
    Manifest(dialect="postgresql", revision=revision, counts=counts).write(manifest_path(file))
    return Report(file=file, dialect="postgresql", counts=counts, cases_verified=checked)


def _restore_postgres(file: Path, db: Database) -> None:
    url, env = _libpq(db)
    _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
          "--single-transaction", "--exit-on-error", f"--dbname={url}", str(file)], env)


# --- public --------------------------------------------------------------------------------
def backup(db: Database, file: Path, *, force: bool = False) -> Report:
    """Copy ``db`` into ``file`` (+ its manifest) and check the copy; never overwrites without ``force``."""
    if file.exists() and not force:
        raise BackupError(reason=f"{file} exists; use --force to overwrite it")
    file.parent.mkdir(parents=True, exist_ok=True)
    if file.exists():
        file.unlink()
    if db.dialect == "sqlite":
        return _backup_sqlite(db, file)
    if db.dialect == "postgresql":
        return _backup_postgres(db, file)
    raise BackupError(reason=f"unsupported database {db.dialect}")


def _kind(file: Path) -> str:
    try:
        with file.open("rb") as handle:
            head = handle.read(16)
    except FileNotFoundError:
        raise BackupError(reason=f"{file}: no such file") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise BackupError(reason=f"{file}: neither a SQLite database nor a pg_dump archive")


def _rows(db: Database) -> int:
    with db.engine.connect() as connection:
        return sum(table_counts(connection).values())


def _damaged(file: Path, error: BaseException | str) -> BackupError:
    """A file the database engine cannot read to the end: one line, no traceback."""
    detail = str(getattr(error, "orig", None) or error).strip().splitlines()
    return BackupDamaged(file=str(file), detail=detail[0] if detail else type(error).__name__)


def _verify_copy(copy: Database, manifest: Manifest, file: Path) -> Report:
    """Everything a restore promises, checked in the staging copy: structure, schema revision, row counts, every
    stored file's and signed envelope's hash, every audit chain. Raises with every problem found, in one line."""
    from engine import backup_checks as checks
    from engine.store.migrate import head_revision

    try:
        with copy.engine.connect() as connection:
            problems = checks.integrity(connection)
            if problems:  # a structurally broken file: its content cannot be trusted to read further
                raise RestoreNotVerified(problems=checks.summarise(problems))
            present = set(connection.dialect.get_table_names(connection))
            stored, head = _revision(connection), head_revision(copy)
            if stored == manifest.revision and stored != head:
                raise SchemaRevisionMismatch(backup=stored or "-", head=head or "-")
            problems += checks.revision(manifest.revision, stored, head)
            counts = table_counts(connection)
            problems += [f"{name}: {counts.get(name, 'missing')} rows, backup had {expected}"
                         for name, expected in sorted(manifest.counts.items()) if counts.get(name) != expected]
            problems += checks.stored_files(connection, present)
            problems += checks.signed_envelopes(connection, present)
        if problems:
            raise RestoreNotVerified(problems=checks.summarise(problems))
        checked = _verify_chains(copy)
    except (sqlite3.DatabaseError, DBAPIError) as error:
        raise _damaged(file, error) from None
    return Report(file=file, dialect=manifest.dialect, counts=counts, cases_verified=checked)


def _restore_sqlite(file: Path, db: Database, manifest: Manifest, force: bool) -> Report:
    target = _sqlite_path(db).resolve()
    if target.exists():  # never opened when absent: a refused restore must not leave even an empty file
        existing = _rows(db)
        if existing and not force:
            raise TargetNotEmpty(rows=existing)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Staged next to the target (same file system, so space is checked where it matters) and removed either way.
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".exhorto-restore-") as folder:
        staging = Path(folder) / "staging.db"
        try:
            _sqlite_copy(file, staging)
        except sqlite3.DatabaseError as error:
            raise _damaged(file, error) from None
        copy = Database(f"sqlite:///{staging}")
        try:
            report = _verify_copy(copy, manifest, file)
        finally:
            copy.dispose()
        db.dispose()  # no pooled connection may hold the old pages while they are replaced
        _sqlite_copy(staging, target)  # one write transaction on the target: all pages or none
    return report


def _staging_postgres(db: Database) -> tuple[Database, str]:
    """An empty database next to the target, on the same server, for the unchecked copy."""
    import uuid

    url = make_url(db.url)
    name = f"{(url.database or 'exhorto')[:40]}_restore_{uuid.uuid4().hex[:8]}"
    try:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except DBAPIError as error:
        raise BackupError(reason=f"cannot create the staging database {name} to check the backup in "
                                 f"({str(error.orig).strip().splitlines()[0]})") from None
    return Database(url.set(database=name).render_as_string(hide_password=False)), name


def _drop_postgres(db: Database, name: str) -> None:
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _restore_postgres_checked(file: Path, db: Database, manifest: Manifest, force: bool) -> Report:
    existing = _rows(db)
    if existing and not force:
        raise TargetNotEmpty(rows=existing)
    staging, name = _staging_postgres(db)
    try:
        try:
            _restore_postgres(file, staging)
        except BackupError as error:
            raise _damaged(file, str(error.params.get("reason"))) from None
        report = _verify_copy(staging, manifest, file)
    finally:
        staging.dispose()
        _drop_postgres(db, name)
    # Verified: now into the target, in one transaction (pg_restore --single-transaction), so all or nothing.
    _restore_postgres(file, db)
    db.dispose()
    return report


def restore(file: Path, db: Database, *, force: bool = False) -> Report:
    """Bring ``file`` back into ``db`` (same kind of database), all or nothing: the backup is restored into a
    staging copy first and verified there — the database's integrity check, the schema revision against the
    manifest and this code's Alembic head, row counts, the SHA-256 of every stored document and attachment, every
    signed envelope's hash and signature, every audit chain — and only a copy that passes replaces the target.
    A failed check leaves the target as it was (and creates none)."""
    manifest = Manifest.read(manifest_path(file))
    kind = _kind(file)
    if kind != db.dialect or manifest.dialect != kind:
        raise BackupError(reason=f"{file} is a {kind} backup; the target database is {db.dialect}")
    if kind == "sqlite":
        return _restore_sqlite(file, db, manifest, force)
    return _restore_postgres_checked(file, db, manifest, force)


__all__ = ["BackupDamaged", "BackupError", "Manifest", "Report", "RestoreNotVerified", "SchemaRevisionMismatch",
           "TargetNotEmpty", "backup", "manifest_path", "restore", "table_counts"]
