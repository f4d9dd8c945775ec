"""The web UI for clerks and judges: server-rendered pages (Jinja2) in es/pt/en/fr, on the node's FastAPI app.

>>> from engine.api import create_app        # doctest: +SKIP
>>> app = create_app(db)                     # the UI is mounted at /web by the app factory

:func:`mount` adds the pages and the static files to any FastAPI app; :mod:`engine.web.passwords` (no FastAPI)
sets and checks the passwords users log in with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

    from engine.store.db import Database

__all__ = ["PREFIX", "mount"]

PREFIX = "/web"


def mount(app: FastAPI, db: Database, **config: Any) -> None:
    """Serve the UI under ``/web`` (pages) and ``/web/static`` (CSS, JS) of ``app``, on ``db``.

    ``config`` overrides :class:`engine.web.context.WebConfig` fields (``secret``, ``max_upload_bytes``,
    ``dispatch_after_send``, ``secure_cookie``); the rest comes from the environment."""
    from pathlib import Path

    from fastapi.staticfiles import StaticFiles

    from engine.web.context import config_from_env
    from engine.web.routes import actions, auth, cases, editor, home, observatory, operations

    settings = getattr(app.state, "settings", None)
    # A node running its own outbox dispatcher (``exhorto serve``) delivers; otherwise the page that sent does.
    config.setdefault("dispatch_after_send", not getattr(settings, "dispatch_interval", None))
    app.state.exhorto_web = config_from_env(db, **config)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=Path(__file__).with_name("static")), name="web-static")
    for module in (auth, home, editor, cases, actions, observatory, operations):
        app.include_router(module.router, prefix=PREFIX, include_in_schema=False)
