"""Shared fixtures: each test gets an empty database on SQLite and, when the server is up, on PostgreSQL.

PostgreSQL: one fresh database per test worker (created from the machine's ``test`` database, dropped at the end),
emptied between tests. Absent server → those parameters are skipped with the reason printed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlmodel import SQLModel

from engine.store.db import Database

# Hub mode signs every envelope; tests use a throw-away passphrase for the keys they generate.
os.environ.setdefault("EXHORTO_KEY_PASSPHRASE", "exhorto-test-passphrase")

PG_ADMIN_URL = os.environ.get("EXHORTO_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_available() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except Exception as error:  # noqa: BLE001 - any failure means "not available here"
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {str(error).strip().splitlines()[0]}"


PG_SKIP_REASON = _pg_available()


def pytest_report_header(config: pytest.Config) -> str:
    return "postgresql: " + ("available" if PG_SKIP_REASON is None else f"SKIPPED — {PG_SKIP_REASON}")


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    if PG_SKIP_REASON is not None:
        pytest.skip(PG_SKIP_REASON)
    name = f"exhorto_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    database = Database(url)
    database.create_all()
    database.dispose()
    yield url
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _empty_postgres(db: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'exhorto.db'}")
        database.create_all()
    else:
        database = Database(request.getfixturevalue("pg_database_url"))
        _empty_postgres(database)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'exhorto.db'}")
    database.create_all()
    yield database
    database.dispose()
