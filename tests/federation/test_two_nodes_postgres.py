"""The core flow once more with node B on PostgreSQL (its own database), node A on SQLite."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from engine import outbox
from tests.conftest import PG_ADMIN_URL, PG_SKIP_REASON
from tests.federation.nodes import Node, link, make_node
from tests.helpers import example

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def mixed_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    if PG_SKIP_REASON is not None:
        pytest.skip(PG_SKIP_REASON)
    name = f"exhorto_fed_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    folder = tmp_path_factory.mktemp("mixed")
    a = make_node(folder, "node-a", "CO-FGN")
    b = make_node(folder, "node-b", "ES-MJ", url=PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    link(a, b)
    yield a, b
    for node in (a, b):
        node.server.stop()
        node.db.dispose()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_request_and_acknowledgement_between_sqlite_and_postgres_nodes(mixed_nodes: tuple[Node, Node]) -> None:
    a, b = mixed_nodes
    assert b.db.dialect == "postgresql"
    with a.client("clerk") as clerk, a.client("judge") as judge, b.client("clerk") as es_clerk:
        case = clerk.post("/cases", json={"counterpart": "ES-MJ", "payload": example("request")}).json()
        for client, action in ((clerk, "submit"), (judge, "approve"), (clerk, "transmit")):
            answer = client.post(f"/cases/{case['id']}/actions", json={"action": action, "version": case["version"]})
            assert answer.status_code == 200, answer.text
            case = answer.json()["case"]
        assert outbox.dispatch_all(a.db).delivered == 1
        theirs = next(c for c in es_clerk.get("/cases").json() if c["exchange_id"] == case["exchange_id"])
        answer = es_clerk.post(f"/cases/{theirs['id']}/actions", json={
            "action": "acknowledge", "payload": example("acknowledgement"), "version": theirs["version"]})
        assert answer.status_code == 200, answer.text
        assert outbox.dispatch_all(b.db).delivered == 1
        assert clerk.get(f"/cases/{case['id']}").json()["state"] == "acknowledged"
