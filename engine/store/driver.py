"""Core statements run on the database driver's own cursor, for the few statements of the transition hot path.

SQLAlchemy's work per execution (result metadata from the cursor description, processors looked up per result,
events, the execution context) cost about as much CPU as the database driver itself: on PostgreSQL, where a
transition is one locked SELECT and one write statement, it was a fifth of a transition's client CPU; on SQLite,
where a transition is a locked SELECT, an UPDATE and one or two INSERTs, each in-process and cheap, it was a
quarter (issue 19, docs/performance.md). A :class:`DriverStatement` is compiled once per dialect by SQLAlchemy, so
the SQL is the same (named parameters for psycopg, positional ones for sqlite3), and keeps SQLAlchemy's semantics
where they matter:

* values go through the column types' own bind processors and come back through their result processors;
* a driver error is raised as SQLAlchemy raises it (:class:`sqlalchemy.exc.DBAPIError` subclasses), and a lost
  connection is invalidated (``connection_invalidated``), so callers (engine.idempotency's retry, the API's 503)
  see no difference;
* it runs on the SQLAlchemy connection's own driver connection, inside its transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError


class DriverStatement:
    def __init__(self, statement: Any, dialect: Dialect) -> None:
        self.statement = statement
        compiled = statement.compile(dialect=dialect)
        self.sql: str = compiled.string
        self.params = frozenset(compiled.binds)
        # sqlite3 takes the values in the order of the statement's ``?`` marks; psycopg takes them by name.
        self._order: tuple[str, ...] | None = tuple(compiled.positiontup or ()) if dialect.positional else None
        self._binds: dict[str, Callable[[Any], Any]] = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self._binds[name] = processor
        self.columns = [column.key for column in statement.exported_columns]
        self._results = [(i, p) for i, column in enumerate(statement.exported_columns)
                         if (p := column.type.dialect_impl(dialect).result_processor(dialect, None)) is not None]

    def first(self, connection: Connection, params: Mapping[str, Any], *,
              commit: bool = False) -> tuple[Any, ...] | None:
        """The first row the statement returns (None when it returns none), values processed as SQLAlchemy would.

        ``commit``: the statement is the transaction's last, and the COMMIT is sent with it (PostgreSQL's
        pipeline mode): one round trip, so a row lock the transaction holds is released a round trip sooner.
        Writers of one busy case queue on that lock (issue 19, docs/performance.md). SQLAlchemy's own COMMIT
        at the end of its transaction block then finds nothing to commit. On an error nothing is committed: the
        server rolls the transaction back, and the error is raised as without ``commit``. With a libpq older than
        14 (no pipeline mode), or on SQLite (in-process: no round trip to save), the statement runs alone and
        SQLAlchemy's COMMIT ends the transaction."""
        # Only a statement with result columns has a row to fetch (no cursor.description: building it is a tenth
        # of a transition's CPU on a wide row).
        row = self._run(connection, params, commit=commit, fetch=bool(self.columns))[1]
        if row is None or not self._results:
            return row
        processed = list(row)
        for i, processor in self._results:
            processed[i] = processor(processed[i])
        return tuple(processed)

    def write(self, connection: Connection, params: Mapping[str, Any]) -> Written:
        """Run an UPDATE or INSERT without RETURNING: how many rows it changed, and the id of the row an INSERT
        added (sqlite3's ``lastrowid``, the rowid, which is the integer primary key; psycopg has none, None)."""
        cursor = self._run(connection, params, commit=False, fetch=False)[0]
        return Written(rowcount=cursor.rowcount, lastrowid=getattr(cursor, "lastrowid", None))

    def _run(self, connection: Connection, params: Mapping[str, Any], *, commit: bool,
             fetch: bool) -> tuple[Any, tuple[Any, ...] | None]:
        binds = self._binds
        if self._order is None:
            values: Any = {name: (binds[name](value) if name in binds else value) for name, value in params.items()}
        else:
            values = tuple(binds[name](params[name]) if name in binds else params[name] for name in self._order)
        driver = connection.connection  # the pooled driver connection, in the connection's transaction
        cursor = _cursor(connection, driver)
        try:
            if self._order is not None:  # sqlite3: its own statement cache prepares; no pipeline, no COMMIT here
                cursor.execute(self.sql, values)
            elif commit and _pipelines():
                with driver.driver_connection.pipeline():
                    cursor.execute(self.sql, values, prepare=True)
                    _cursor(connection, driver, _COMMITTER).execute(b"COMMIT")
            else:
                cursor.execute(self.sql, values, prepare=True)
            row = cursor.fetchone() if fetch else None
        except connection.dialect.loaded_dbapi.Error as error:
            lost = connection.dialect.is_disconnect(error, driver, cursor)
            if lost:  # as SQLAlchemy does on a disconnect: every connection of the pool made before is suspect
                connection.engine.pool._invalidate(driver, error)  # noqa: SLF001 - SQLAlchemy's own reaction
                connection.invalidate(error)
            raise DBAPIError.instance(self.sql, values, error, connection.dialect.loaded_dbapi.Error,
                                      connection_invalidated=lost, dialect=connection.dialect) from error
        return cursor, row


class Written(NamedTuple):
    rowcount: int
    lastrowid: int | None


@cache
def _pipelines() -> bool:
    """Whether the driver's libpq has pipeline mode (14 and later; psycopg's binary wheels bundle a recent one)."""
    import psycopg

    return bool(psycopg.Pipeline.is_supported())


# Connection record info: (driver connection, a cursor of it), for the statements and for the pipelined COMMIT
# (a cursor of its own: the statement's row is fetched from the statement's cursor after both are sent).
_CURSOR, _COMMITTER = "exhorto_driver_cursor", "exhorto_driver_committer"


def _cursor(connection: Connection, driver: Any, key: str = _CURSOR) -> Any:
    """One reused cursor per driver connection and ``key`` (kept in the pool record's info, which a new or
    invalidated connection starts without)."""
    info = connection.info
    held = info.get(key)
    # sqlite3's cursors have no ``closed``; this module never closes the ones it keeps.
    if held is None or held[0] is not driver.driver_connection or getattr(held[1], "closed", False):
        held = info[key] = (driver.driver_connection, driver.driver_connection.cursor())
    return held[1]


_COMPILED: dict[tuple[int, type], DriverStatement] = {}


def compiled(statement: Any, dialect: Dialect) -> DriverStatement:
    """``statement`` compiled for ``dialect``, once (statements are module-level constants)."""
    key = (id(statement), type(dialect))
    found = _COMPILED.get(key)
    if found is None or found.statement is not statement:  # an id reused by another (short-lived) statement
        found = _COMPILED[key] = DriverStatement(statement, dialect)
    return found
