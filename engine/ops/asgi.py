"""ASGI entry point for process managers: ``uvicorn engine.ops.asgi:create --factory --workers N``.

Each worker builds its own app on the database named by ``EXHORTO_DATABASE_URL`` (settings from the
environment, see :class:`engine.api.Settings`); the schema is expected to be current (``exhorto db upgrade``).
"""

from __future__ import annotations

from typing import Any


def create() -> Any:
    from engine.api import Settings, create_app
    from engine.api.app import freeze_startup_objects
    from engine.keys import check_node_can_sign
    from engine.store.db import Database

    db = Database()
    check_node_can_sign(db)  # the worker does not start: the stack reports the API as failed, with the reason
    app = create_app(db, Settings.from_env())
    freeze_startup_objects()
    return app
