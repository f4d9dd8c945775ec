"""Dependencies shared by the routers: the database, the authenticated actor, the reader's language, own cases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from engine import cases, tokens
from engine.errors import RoleNotAllowed
from engine.guards import Actor
from engine.i18n import accept_language, negotiate
from engine.lifecycle import Role
from engine.store.db import Database
from engine.store.models import Case

_bearer = HTTPBearer(auto_error=False, description="API token issued with `exhorto token issue USER`")


# Dependencies that do no I/O are ``async``: FastAPI runs a plain ``def`` dependency in its thread pool, and each
# such hop costs far more than the function itself.
def database(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


async def get_db(request: Request) -> Database:
    return database(request)


DbDep = Annotated[Database, Depends(get_db)]


def request_language(request: Request) -> str:
    """Accept-Language first, then the user's preferred language, then English."""
    actor = getattr(request.state, "actor", None)
    return negotiate(accept_language(request.headers.get("accept-language")),
                     actor.language if actor is not None else None)


async def _language(request: Request) -> str:
    return request_language(request)


LangDep = Annotated[str, Depends(_language)]


# The dependencies of every request take the database and the language from the request itself rather than from
# dependencies of their own: FastAPI's cost per resolved dependency is a noticeable part of a write's (issue 19).
async def current_actor(request: Request,
                        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Actor:
    """The token's user: from the process's memory of tokens verified moments ago (no I/O, on the event loop),
    else read in the thread pool (``engine.tokens``: revocations take effect within a few seconds)."""
    token = credentials.credentials if credentials else None
    actor = tokens.remembered(token)
    if actor is None:
        actor = await run_in_threadpool(tokens.authenticate, database(request), token)
    request.state.actor = actor
    return actor


ActorDep = Annotated[Actor, Depends(current_actor)]


def _read_only(actor: Actor) -> RoleNotAllowed:
    return RoleNotAllowed(role=actor.role.value, action="write", allowed="clerk, judge, supervisor, system")


async def writer(actor: ActorDep, request: Request) -> AsyncIterator[Actor]:
    """Auditors read; they never change anything. Writers queue at the app's write gate: on SQLite one at a time
    in the event loop instead of in SQLite's busy handler, whose growing sleeps make long latency tails."""
    if actor.role == Role.AUDITOR:
        raise _read_only(actor)
    async with write_gate(request):
        yield actor


def write_gate(request: Request) -> asyncio.Semaphore:
    return request.app.state.write_gate  # type: ignore[no-any-return]


def make_write_gate(db: Database) -> asyncio.Semaphore:
    return asyncio.Semaphore(1 if db.dialect == "sqlite" else 16)


WriterDep = Annotated[Actor, Depends(writer)]


CaseId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the case's id (as listed by GET /cases)")]


def own_case(case_id: CaseId, actor: ActorDep, db: DbDep) -> Case:
    """The case if it belongs to the actor's authority; another authority's case is "not found"."""
    return cases.get_case(db, case_id, actor=actor)


CaseDep = Annotated[Case, Depends(own_case)]


async def case_writer(case_id: CaseId, actor: ActorDep, request: Request) -> AsyncIterator[Actor]:
    """:data:`WriterDep` for a route whose own write reads the case with the actor's authority (a lifecycle
    action: ``engine.store.queries.load_case``, another authority's case is "not found" there), so the case is
    not read a second time in a thread hop of its own. An auditor is still told 404 for another authority's
    case before 403 for writing."""
    if actor.role == Role.AUDITOR:
        await run_in_threadpool(cases.get_case, database(request), case_id, actor=actor)
        raise _read_only(actor)
    async with write_gate(request):
        yield actor


CaseWriterDep = Annotated[Actor, Depends(case_writer)]


def reading(purpose: str, channel: str = "api") -> object:
    """The case of a route that hands out its personal data: authorised, then written to the access log
    (engine.privacy.read_case) before the route runs, so a failed log means the route never answers with data."""
    def read(case_id: CaseId, actor: ActorDep, db: DbDep) -> Case:
        from engine.privacy import read_case

        return read_case(db, case_id, actor=actor, channel=channel, purpose=purpose)

    return Depends(read)
