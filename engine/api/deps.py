"""Dependencies shared by the routers: the database, the authenticated actor, the reader's language, own cases."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field, TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from engine import cases, tokens
from engine.errors import RoleNotAllowed
from engine.guards import Actor
from engine.i18n import accept_language, negotiate
from engine.lifecycle import Role
from engine.store.db import Database
from engine.store.models import Case

T = TypeVar("T")
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
    return await _authenticated(request, credentials)


async def _authenticated(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Actor:
    token = credentials.credentials if credentials else None
    actor = tokens.remembered(database(request), token)
    if actor is None:
        actor = await run_in_threadpool(tokens.authenticate, database(request), token)
    request.state.actor = actor
    return actor


ActorDep = Annotated[Actor, Depends(current_actor)]


def _read_only(actor: Actor) -> RoleNotAllowed:
    return RoleNotAllowed(role=actor.role.value, action="write", allowed="clerk, judge, supervisor, system")


def _may_write(actor: Actor) -> Actor:
    """``actor``, unless an auditor: auditors read; they never change anything."""
    if actor.role == Role.AUDITOR:
        raise _read_only(actor)
    return actor


async def writer(actor: ActorDep) -> Actor:
    """The actor if it may write (:func:`_may_write`). The route then hands its write to :func:`writes`."""
    return _may_write(actor)


class Writes:
    """How the app's writes queue. On SQLite one at a time, in one writer thread of their own, in the order they
    came: not in SQLite's busy handler, whose growing sleeps make long latency tails, and without the event loop
    handing a gate from one write to the next (under load the next write waited for the loop to resume the
    finished one; the writer thread goes on with the next at once). On PostgreSQL at most 16 at a time in the
    thread pool."""

    def __init__(self, db: Database) -> None:
        self._serial = db.dialect == "sqlite"
        self._executor = self._writer_thread()
        self._gate = asyncio.Semaphore(16)

    def _writer_thread(self) -> ThreadPoolExecutor | None:
        # Its thread starts with the first write.
        return ThreadPoolExecutor(1, thread_name_prefix="exhorto-writer") if self._serial else None

    async def run(self, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``func(*args, **kwargs)``, a write, run in its turn outside the event loop."""
        if self._executor is None:
            async with self._gate:
                return await run_in_threadpool(func, *args, **kwargs)
        call = functools.partial(contextvars.copy_context().run, func, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def close(self) -> None:
        """At the app's shutdown: wait for the write in progress; a later start gets a new writer thread."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = self._writer_thread()


def writes(request: Request) -> Writes:
    return request.app.state.writes  # type: ignore[no-any-return]


WriterDep = Annotated[Actor, Depends(writer)]


CASE_ID_HELP = "the case's id (as listed by GET /cases)"
CaseId = Annotated[int, Path(ge=1, le=2**63 - 1, description=CASE_ID_HELP)]
_CASE_ID = TypeAdapter(Annotated[int, Field(ge=1, le=2**63 - 1)])


def path_case_id(request: Request) -> int:
    """:data:`CaseId` read by the route itself: the same checks, the same 422 naming ``path/case_id``."""
    try:
        return _CASE_ID.validate_python(request.path_params["case_id"])
    except ValidationError as error:
        raise RequestValidationError([{**e, "loc": ("path", "case_id", *e["loc"])}
                                      for e in error.errors(include_url=False)]) from None


def own_case(case_id: CaseId, actor: ActorDep, db: DbDep) -> Case:
    """The case if it belongs to the actor's authority; another authority's case is "not found"."""
    return cases.get_case(db, case_id, actor=actor)


CaseDep = Annotated[Case, Depends(own_case)]


# The two write routes of every case's life (create, act) resolve their actor themselves, in the same order as
# the dependencies above (token, then the auditor's 404/403), instead of through FastAPI's dependency tree: its
# solving costs several times the check itself per request (issue 19). Their OpenAPI operations keep the bearer
# scheme through ``BEARER_SECURITY``.
BEARER_SECURITY: dict[str, Any] = {"security": [{_bearer.scheme_name: []}]}


async def request_writer(request: Request) -> Actor:
    """:func:`writer` without a dependency: the request's actor if it may write."""
    return _may_write(await _authenticated(request, await _bearer(request)))


async def request_case_writer(request: Request) -> Actor:
    """:func:`request_writer` for a route whose own write reads the case with the actor's authority (a lifecycle
    action: ``engine.store.queries.load_case``, another authority's case is "not found" there), so the case is
    not read a second time in a thread hop of its own. An auditor is still told 404 for another authority's
    case before 403 for writing."""
    actor = await _authenticated(request, await _bearer(request))
    if actor.role == Role.AUDITOR:
        await run_in_threadpool(cases.get_case, database(request), path_case_id(request), actor=actor)
        raise _read_only(actor)
    return actor


def reading(purpose: str, channel: str = "api") -> object:
    """The case of a route that hands out its personal data: authorised, then written to the access log
    (engine.privacy.read_case) before the route runs, so a failed log means the route never answers with data."""
    def read(case_id: CaseId, actor: ActorDep, db: DbDep) -> Case:
        from engine.privacy import read_case

        return read_case(db, case_id, actor=actor, channel=channel, purpose=purpose)

    return Depends(read)
