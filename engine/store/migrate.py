"""Schema migrations (Alembic) driven from Python: ``exhorto db upgrade`` and the embedded default's auto-upgrade."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from engine.store.db import Database

if TYPE_CHECKING:  # Alembic is imported only when there is something to migrate: every CLI command checks
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*$", re.M)


def alembic_config(db: Database) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return config


def head_revision(db: Database) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(db)).get_current_head()


def current_revision(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> None:
    from alembic import command

    config = alembic_config(db)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def ensure_schema(db: Database) -> None:
    """Bring the database to the newest schema if it is behind (cheap when it is current).

    The cheap check reads the stored revision with one SELECT and the head from the version files' own
    ``revision``/``down_revision`` lines, without importing Alembic (a fifth of a CLI command's start-up); any
    doubt (no version table, a branched history, a mismatch) goes to Alembic, which decides.
    """
    head = linear_head()
    if head is not None and stored_revision(db) == head:
        return
    if current_revision(db) != head_revision(db):
        upgrade(db)


def linear_head() -> str | None:
    """The newest revision when the history is one chain (as Alembic would say), else None."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        values = dict(_ASSIGNMENT.findall(path.read_text(encoding="utf-8")))
        try:
            revision = ast.literal_eval(values["revision"])
            parent = ast.literal_eval(values.get("down_revision", "None"))
        except (KeyError, ValueError, SyntaxError):
            return None
        if not isinstance(revision, str) or not (parent is None or isinstance(parent, str)):
            return None  # a merge or something unusual: Alembic decides
        revisions.add(revision)
        if parent is not None:
            parents.add(parent)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def stored_revision(db: Database) -> str | None:
    """The revision recorded in the database (one row of ``alembic_version``), None if there is none."""
    try:
        with db.engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except SQLAlchemyError:  # no such table yet
        return None
    return rows[0] if len(rows) == 1 else None


def autogenerate(db: Database, message: str) -> None:
    """Developer helper: write a new revision from the difference between the models and ``db``."""
    from alembic import command

    config = alembic_config(db)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
