"""The app factory: one FastAPI app per node, serving the REST API, the federation inbox and (later) the web UI."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from engine.api import deps, hardening, hot, problems
from engine.api.boundary import JsonBoundary, document_bodies
from engine.api.dispatcher import BackgroundDispatcher
from engine.api.routes import cases, directory, documents, forms, inbox, stats
from engine.api.settings import Settings
from engine.ops.telemetry import FASTAPI_TELEMETRY_OFF
from engine.store.db import Database

DESCRIPTION = """Electronic mutual legal assistance between central authorities.

Authenticate with `Authorization: Bearer <token>` (`exhorto token issue USER`). Every answer concerns your own
authority only: another authority's case is *not found*. Errors are RFC 9457 problem details
(`application/problem+json`), localized after `Accept-Language` (es, pt, en, fr). `POST /inbox` is for
counterpart nodes and is authenticated by the Ed25519 signature of the envelope instead."""


def freeze_startup_objects() -> None:
    """For a serving process, once its app is built: the objects made so far (modules, schemas, catalogs, ORM
    mappers, routes) live as long as the process, and ``gc.freeze`` keeps them out of the collector's scans,
    so that a full collection no longer stops every request in flight for tens of milliseconds."""
    gc.collect()
    gc.freeze()


def create_app(db: Database, settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        dispatcher = None
        if settings.dispatch_interval:
            dispatcher = BackgroundDispatcher(db, settings.dispatch_interval)
            dispatcher.start()
            app.state.dispatcher = dispatcher  # the web's actions wake it: delivery starts at once
        try:
            yield
        finally:
            # The node's dispatcher, and the one the web started when the node has none (engine/web/delivery.py).
            for running in (dispatcher, getattr(app.state, "web_dispatcher", None)):
                if running is not None:
                    running.stop()
            app.state.writes.close()

    app = FastAPI(title="exhorto", version="0.1.0", description=DESCRIPTION, lifespan=lifespan,
                  telemetry=FASTAPI_TELEMETRY_OFF, responses=problems.PROBLEM_RESPONSES)
    app.state.db = db
    app.state.settings = settings
    app.state.writes = deps.Writes(db)
    problems.install(app)
    app.add_middleware(JsonBoundary)  # the input boundary for JSON bodies, inside the hardening layer
    hardening.install(app)  # security headers, failed-login limiting, database outages as 503
    for module in (cases, documents, forms, directory, inbox, stats):
        app.include_router(module.router)

    document_bodies(app)  # the bodies that routes read themselves (engine.api.boundary.request_body)

    from engine.web import mount as mount_web

    mount_web(app, db)  # the web UI for clerks and judges, under /web

    @app.get("/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    # The two writes of every case's life go straight to their endpoints, inside the middlewares and the
    # exception handlers, instead of through FastAPI's router (issue 19; engine/api/hot.py).
    hot.install(app, (cases.create_case, cases.act))
    return app
