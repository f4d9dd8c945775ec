"""Alembic migrations produce exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import engine.store.models  # noqa: F401
from engine.store.db import Database
from engine.store.migrate import (
    alembic_config,
    current_revision,
    ensure_schema,
    head_revision,
    linear_head,
    stored_revision,
    upgrade,
)
from tests.conftest import PG_ADMIN_URL, PG_SKIP_REASON


def _diff(db: Database) -> list[object]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))


def test_single_head(tmp_path: Path) -> None:
    script = ScriptDirectory.from_config(alembic_config(Database(f"sqlite:///{tmp_path / 'x.db'}")))
    assert len(script.get_heads()) == 1


def test_quick_schema_check_agrees_with_alembic(tmp_path: Path) -> None:
    """ensure_schema's check without Alembic (the CLI's start-up) reads the same head and stored revision."""
    db = Database(f"sqlite:///{tmp_path / 'quick.db'}")
    assert stored_revision(db) is None  # no version table yet: Alembic decides
    assert linear_head() == head_revision(db)
    ensure_schema(db)
    assert stored_revision(db) == current_revision(db) == linear_head()


def test_quick_schema_check_defers_on_a_branched_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.store.migrate as migrate

    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    for name, parent in (("a", None), ("b", "a"), ("c", "a")):
        (versions / f"{name}.py").write_text(f"revision = {name!r}\ndown_revision = {parent!r}\n", encoding="utf-8")
    monkeypatch.setattr(migrate, "MIGRATIONS", tmp_path / "migrations")
    assert linear_head() is None  # two heads
    (versions / "d.py").write_text("revision = 'd'\ndown_revision = ('b', 'c')\n", encoding="utf-8")
    assert linear_head() is None  # a merge revision


def test_sqlite_migrations_match_models(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'migrated.db'}")
    assert current_revision(db) is None
    ensure_schema(db)
    assert current_revision(db) == head_revision(db)
    assert _diff(db) == []
    ensure_schema(db)  # idempotent


@pytest.mark.postgres
def test_postgres_migrations_match_models() -> None:
    if PG_SKIP_REASON:
        pytest.skip(PG_SKIP_REASON)
    name = f"exhorto_mig_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        db = Database(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
        upgrade(db)
        assert _diff(db) == []
        db.dispose()
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
