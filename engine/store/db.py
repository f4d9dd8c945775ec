"""Database engine and transactions: SQLite by default (WAL, foreign keys), PostgreSQL via EXHORTO_DATABASE_URL."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, create_engine
from sqlalchemy.exc import DisconnectionError, OperationalError

if TYPE_CHECKING:
    from sqlmodel import Session

# SQLModel (pydantic, the ORM) is imported by the first session, not here: a command that reads with Core only
# (`exhorto case list`, engine/store/core_reads.py) starts without it (issue 19).

DEFAULT_SQLITE_PATH = Path("exhorto.db")
_READ_ONLY = "exhorto_read_only"  # execution option of reader connections


def database_url(url: str | None = None) -> str:
    return url or os.environ.get("EXHORTO_DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"


class Database:
    """One engine plus the transaction discipline every write uses.

    On SQLite each transaction starts with ``BEGIN IMMEDIATE``: writers queue on the busy timeout instead of failing
    when two read-then-write transactions race (WAL would otherwise refuse the second writer's stale snapshot).
    On PostgreSQL the default READ COMMITTED plus ``UPDATE … WHERE version = :v`` gives the same guarantee.
    """

    def __init__(self, url: str | None = None, **engine_kwargs: Any) -> None:
        self.url = database_url(url)
        self.engine: Engine = _make_engine(self.url, **engine_kwargs)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on any exception.

        The connection owns the transaction and the session joins it: the session flushes, the connection commits
        (or rolls back). Same semantics as a plain session, at about half the bookkeeping per transaction."""
        from sqlmodel import Session

        with self.engine.begin() as connection, Session(bind=connection, expire_on_commit=False) as session:
            yield session
            session.flush()

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A session for reading only. On SQLite its transaction is deferred: a WAL snapshot that neither waits
        for a writer nor holds one up (writers start with ``BEGIN IMMEDIATE``)."""
        from sqlmodel import Session

        with self.engine.connect() as connection:
            connection.execution_options(**{_READ_ONLY: True})
            with Session(bind=connection, expire_on_commit=False) as session:
                yield session

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A connection for reading with SQLAlchemy Core only (no ORM session), with the reader's transaction
        discipline (SQLite: a deferred, WAL-snapshot transaction)."""
        with self.engine.connect() as connection:
            connection.execution_options(**{_READ_ONLY: True})
            yield connection

    def create_all(self) -> None:
        """Create tables directly from the models (tests, demo). Production uses ``exhorto db upgrade``."""
        from sqlmodel import SQLModel

        import engine.store.models  # noqa: F401 - registers the tables

        SQLModel.metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()


def connection_of(session: Session) -> Connection:
    """The connection a :meth:`Database.transaction` session is bound to, without starting the session's own
    transaction bookkeeping (any other session: its connection)."""
    bind = session.bind
    return bind if isinstance(bind, Connection) else session.connection()


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


IDLE_PING_SECONDS = 10.0
_CHECKED_IN = "exhorto_checked_in"  # connection record info: monotonic time of the last return to the pool


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection at checkout only when it sat unused for IDLE_PING_SECONDS or more; a dead one
    raises DisconnectionError, on which the pool discards it and checks out another (SQLAlchemy's pessimistic
    disconnect handling, without a round trip on every busy checkout)."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_CHECKED_IN)
        if returned is None or time.monotonic() - returned < IDLE_PING_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # noqa: BLE001 - any failure of the ping means "use another connection"
            raise DisconnectionError(f"pooled connection unusable after {IDLE_PING_SECONDS:g} s idle") from error
        if not alive:
            raise DisconnectionError("pooled connection unusable")


def _make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # orjson parses the JSON columns (case payloads, audit details) about four times faster than the stdlib.
    kwargs.setdefault("json_serializer", _json_dumps)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if not url.startswith("sqlite"):
        # No ping before every checkout (a round trip per transaction, a fifth of a transition's): connections
        # are recycled after half an hour, pinged at checkout only after IDLE_PING_SECONDS unused (a restarted
        # server or a dropped idle connection is found there, and the pool takes a fresh one), and a connection
        # lost while in use invalidates the whole pool, so the next transaction starts on a fresh one. The write
        # that was on it fails with DatabaseUnavailable (retried when it carries an idempotency key).
        kwargs.setdefault("pool_recycle", 1800)
        engine = create_engine(url, **kwargs)
        if not kwargs.get("pool_pre_ping"):
            _ping_when_idle(engine)
        return engine
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("check_same_thread", False)
    connect_args.setdefault("timeout", 30)
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # Freed cells and pages are overwritten with zeros: a pseudonymised or deleted value does not linger in
        # the file's free space (retention then checkpoints the WAL; engine/privacy/_scrub.py).
        cursor.execute("PRAGMA secure_delete=ON")
        if ":memory:" not in url:
            with contextlib.suppress(Exception):  # read-only media keep their journal mode
                cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN" if connection.get_execution_options().get(_READ_ONLY) else
                                   "BEGIN IMMEDIATE")

    return engine


__all__ = ["Database", "OperationalError", "database_url"]
