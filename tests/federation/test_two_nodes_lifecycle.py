"""A whole exchange between two nodes over HTTP: request, clarification round, execution report with an
attached file, closure — every step through the REST API, every message signed, verified and receipted."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
from sqlmodel import select

from engine import evidence as evidences
from engine import outbox
from engine.audit import verify_all
from engine.lifecycle import ACTIONS
from engine.store.federation_models import SignedMessage
from engine.store.models import Message
from tests.federation.nodes import Node
from tests.helpers import example, report


def act(client: httpx.Client, case: dict[str, Any], action: str, payload: dict[str, Any] | None = None
        ) -> dict[str, Any]:
    response = client.post(f"/cases/{case['id']}/actions",
                           json={"action": action, "payload": payload or {}, "version": case["version"]})
    assert response.status_code == 200, response.text
    return response.json()["case"]


def read(client: httpx.Client, case_id: int) -> dict[str, Any]:
    response = client.get(f"/cases/{case_id}")
    assert response.status_code == 200, response.text
    return response.json()


def deliver(node: Node, expected: int = 1) -> None:
    summary = outbox.dispatch_all(node.db)
    assert (summary.delivered, summary.rejected, summary.retrying) == (expected, 0, 0), summary.errors


def test_full_lifecycle_over_http(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    co_clerk, co_judge = a.client("clerk"), a.client("judge")
    es_clerk, es_judge = b.client("clerk"), b.client("judge")

    created = co_clerk.post("/cases", json={"counterpart": "ES-MJ", "payload": example("request")})
    assert created.status_code == 201, created.text
    case = created.json()
    case = act(co_clerk, case, "submit")
    case = act(co_judge, case, "approve")
    case = act(co_clerk, case, "transmit")
    assert case["state"] == "transmitted"
    deliver(a)
    case = read(co_clerk, case["id"])
    assert case["state"] == "delivered" and case["counterpart_reference"].startswith("ES-MJ/")

    # Node B: the request arrived as a new case of ES-MJ.
    theirs = next(c for c in es_clerk.get("/cases").json() if c["exchange_id"] == case["exchange_id"])
    assert theirs["side"] == "requested" and theirs["state"] == "delivered"
    assert theirs["reference"] == case["counterpart_reference"]

    # Clarification round.
    theirs = act(es_clerk, read(es_clerk, theirs["id"]), "request_clarification", example("clarification_request"))
    deliver(b, expected=2)  # ES-MJ's first read of the case went back as a Retrieval evidence, then the action
    case = read(co_clerk, case["id"])
    assert case["state"] == "clarification_requested"
    with a.db.reader() as session:
        stated = [(e.kind, e.issuer_code) for e in evidences.list_for_case(session, case["id"])]
    assert ("Retrieval", "ES-MJ") in stated
    case = act(co_clerk, case, "answer_clarification", example("clarification_answer"))
    deliver(a)
    theirs = read(es_clerk, theirs["id"])
    assert theirs["state"] == "acknowledged"

    # Execution with an attached file that travels with the report.
    theirs = act(es_judge, theirs, "start_execution")
    evidence = b"%PDF-1.7\n% extractos bancarios certificados\n" + bytes(range(256)) * 40
    uploaded = es_clerk.post(f"/cases/{theirs['id']}/attachments", params={"name": "extractos año 2025 \"C\".pdf"},
                             content=evidence, headers={"Content-Type": "application/pdf"})
    assert uploaded.status_code == 201, uploaded.text
    descriptor = uploaded.json()
    assert descriptor["sha256"] == hashlib.sha256(evidence).hexdigest()
    final = report("final")
    final["evidence"] = [{**descriptor, "description": "Extractos bancarios certificados"}]
    theirs = act(es_clerk, read(es_clerk, theirs["id"]), "report_execution", final)
    assert theirs["state"] == "executed"
    deliver(b)
    case = read(co_clerk, case["id"])
    assert case["state"] == "executed"
    listed = co_clerk.get(f"/cases/{case['id']}/attachments").json()
    assert descriptor in listed  # with the rendered PDF of each form received, which travel the same way
    downloaded = co_clerk.get(f"/cases/{case['id']}/attachments/{descriptor['sha256']}")
    assert downloaded.status_code == 200 and downloaded.content == evidence
    assert downloaded.headers["content-type"] == "application/pdf"
    assert downloaded.headers["content-disposition"].endswith("extractos%20a%C3%B1o%202025%20%22C%22.pdf")

    case = act(co_judge, case, "close", example("closure"))
    deliver(a)
    assert read(es_clerk, theirs["id"])["state"] == "closed"

    # Every message was signed by its sender and answered by a signed receipt; nothing is left pending.
    for node in (a, b):
        with node.db.reader() as session:
            out = session.exec(select(Message).where(Message.direction == "out")).all()
            signed = {s.message_id: s for s in session.exec(select(SignedMessage))}
            checked, breaks = verify_all(session)
        assert out and all(m.status == "delivered" for m in out)
        assert all(signed[m.message_id].receipt is not None for m in out)
        assert checked >= 1 and breaks == []
    moves = set(ACTIONS) | {"create"}  # other entries (e.g. deadline notes) may interleave
    history = [e["action"] for e in co_clerk.get(f"/cases/{case['id']}/history").json() if e["action"] in moves]
    assert history == ["create", "submit", "approve", "transmit", "record_delivery",
                       "record_clarification_request", "answer_clarification", "record_execution", "close"]
