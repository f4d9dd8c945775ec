"""Alembic environment: runs on the connection handed over by engine.store.migrate."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import engine.store.models  # noqa: F401 - registers the tables on SQLModel.metadata

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from engine.store.db import Database

        connection = Database(config.get_main_option("sqlalchemy.url")).engine.connect()
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
