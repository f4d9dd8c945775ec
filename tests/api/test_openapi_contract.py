"""The published OpenAPI document says what the app answers: problem+json for every error status, 405 with
``Allow``, and an ``/inbox`` schema whose bodies reach the signature check (422), not the shape check (400)."""

from __future__ import annotations

import httpx

from tests.federation.nodes import Node

STATUSES = ("401", "403", "404", "409", "413", "422", "429")


def test_every_operation_declares_its_problems(node: Node) -> None:
    document = httpx.get(node.url + "/openapi.json").json()
    for path, item in document["paths"].items():
        if path.startswith("/web"):
            continue
        for method, operation in item.items():
            for status in STATUSES:
                declared = operation["responses"].get(status)
                assert declared is not None, (method, path, status)
                if path != "/inbox" or status not in ("413", "422"):
                    assert "application/problem+json" in declared["content"], (method, path, status)


def test_405_carries_allow(node: Node) -> None:
    with node.client("clerk") as client:
        response = client.delete("/cases")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_a_body_of_the_published_inbox_schema_is_not_malformed(node: Node) -> None:
    body = {"envelope": {"exchange_id": "e", "message_id": "m", "kind": "request", "from": "ES-MJ", "to": "CO-FGN",
                         "sent_at": "x", "schema_id": None, "payload": {}, "attachments": []},
            "signature": {"alg": "Ed25519", "key_id": "k", "value": "v"}, "contents": {}}
    response = httpx.post(node.inbox, json=body, timeout=30)
    assert response.status_code == 422, response.text
    assert response.json()["receipt"]["reason"] != "malformed"
