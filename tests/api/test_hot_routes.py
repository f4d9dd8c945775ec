"""The two writes dispatched without FastAPI's router (engine/api/hot.py) answer exactly as through the router:
the same statuses, problem bodies and headers for successes and for every kind of refusal."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from starlette.responses import Response

from engine import tokens
from engine.api import hot
from engine.api.app import create_app
from engine.seed import seed_demo
from engine.store.db import Database
from tests.helpers import example

# Values that differ from one created case to the next.
VOLATILE = {"id", "reference", "exchange_id", "created_at", "updated_at", "audit_seq", "instance", "detail",
            "payload", "case"}  # the payload and some refusals hold the case's reference


def normalized(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "…" if k in VOLATILE else normalized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalized(v) for v in value]
    return value


def answers(client: TestClient, token: dict[str, str], key: str) -> list[Any]:
    """A create, the four kinds of actions' answers and the refusals of both routes, normalized."""
    def post(path: str, who: str | None, body: Any = None, **extra: Any) -> Any:
        headers = {"Authorization": f"Bearer {token[who]}"} if who else {}
        headers.update(extra.pop("headers", {}))
        response = client.request(extra.pop("method", "POST"), path, json=body, headers=headers,
                                  follow_redirects=False, **extra)
        kept = sorted((k, v) for k, v in response.headers.items() if k not in ("content-length", "date"))
        try:
            content = response.json()
        except ValueError:
            content = response.text
        return response.status_code, kept, normalized(content)

    case = client.post("/cases", json={"counterpart": "ES-MJ", "payload": example("request", "co-es-bank-records")},
                       headers={"Authorization": f"Bearer {token['clerk']}"}).json()
    act = f"/cases/{case['id']}/actions"
    return [
        post("/cases", "clerk", {"counterpart": "ES-MJ", "payload": {}}),
        post("/cases", None, {"counterpart": "ES-MJ"}),
        post("/cases", "clerk", {"counterpart": "ES-MJ", "payload": 3}),
        post("/cases", "clerk", {"counterpart": "XX-NONE", "payload": {}}),
        post("/cases", "auditor", {"counterpart": "ES-MJ"}),
        post("/cases", "clerk", None, content=b"[1,", headers={"Content-Type": "application/json"}),
        post("/cases/", "clerk", {"counterpart": "ES-MJ"}),
        post("/cases/0/actions", "clerk", {"action": "submit", "version": 1}),
        post("/cases/x/actions", "clerk", {"action": "submit", "version": 1}),
        post("/cases/999999/actions", "clerk", {"action": "submit", "version": 1}),
        post(act, "clerk", {"action": 5}),
        post(act, "clerk", {"action": "submit", "version": 99}),
        post(act, "auditor", {"action": "submit", "version": 1}),
        post(act, "clerk", {"action": "submit", "version": 1}, method="PUT"),
        post(act, "fr", {"action": "submit", "version": 1}),
        post(act, "clerk", {"action": "fly", "version": 1}),
        post(act, "clerk", {"action": "submit", "version": 1}, headers={"Idempotency-Key": key}),
        post(act, "clerk", {"action": "submit", "version": 1}, headers={"Idempotency-Key": key}),
    ]


@pytest.fixture
def app(sqlite_db: Database) -> FastAPI:
    seed_demo(sqlite_db)
    return create_app(sqlite_db)


def test_hot_routes_answer_as_the_router_does(app: FastAPI, sqlite_db: Database) -> None:
    users = {"clerk": "co.clerk", "auditor": "co.auditor", "fr": "fr.clerk"}
    token = {who: tokens.issue(sqlite_db, user)[0] for who, user in users.items()}
    stack = app.router.middleware_stack
    assert isinstance(stack, hot.HotRoutes)
    with TestClient(app) as client:
        direct = answers(client, token, "first")
        app.router.middleware_stack = stack.app  # the router alone, as before
        routed = answers(client, token, "second")
    for one, other in zip(direct, routed, strict=True):
        assert one == other
    statuses = [status for status, _, _ in direct]
    assert statuses[0] == 201 and statuses[-2:] == [200, 200] and 401 in statuses and 403 in statuses
    assert 404 in statuses and 405 in statuses and 307 in statuses


def test_only_routes_that_read_everything_themselves_are_dispatched_directly() -> None:
    app = FastAPI()

    @app.post("/plain")
    async def plain(request: Request) -> Response:
        return Response()

    @app.post("/with-a-parameter")
    async def with_a_parameter(request: Request, limit: int = 3) -> Response:
        return Response()

    with pytest.raises(ValueError, match="takes the request alone"):
        hot.install(app, [with_a_parameter])
    with pytest.raises(ValueError, match="not routes of this app"):
        hot.install(app, [answers])  # type: ignore[list-item]
    hot.install(app, [plain])
    assert isinstance(app.router.middleware_stack, hot.HotRoutes)
