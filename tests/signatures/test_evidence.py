"""Delivery evidences named as e-CODEX / ETSI REM evidences: recorded with the event they attest, signed with the
stating authority's certificate, on the case timeline, exported as JSON + a signed PDF summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine import evidence, outbox, pki
from engine.cli import app
from engine.documents._pades import verify_pdf
from engine.privacy import record_access
from engine.store.db import Database
from engine.store.migrate import ensure_schema
from engine.web import services
from tests.helpers import World, make_world
from tests.signatures.conftest import PkiFixture


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("EXHORTO_ATTACH_PDF", "0")  # evidences do not depend on the PDFs
    db = Database(f"sqlite:///{tmp_path / 'hub.db'}")
    ensure_schema(db)
    make_world(db)
    pki.create_ca(db, "hub CA")
    pki.issue_certificate(db, "CO-FGN")
    pki.issue_certificate(db, "ES-MJ")
    return db


def _kinds(db: Database, case_id: int) -> list[tuple[str, str]]:
    with db.reader() as session:
        return [(e.kind, e.issuer_code) for e in evidence.list_for_case(session, case_id)]


def test_a_delivered_and_opened_request_has_its_evidences_signed(hub: Database, tmp_path: Path) -> None:
    world = World(hub)
    sent, received = world.transmitted()
    assert _kinds(hub, sent.id or 0) == [("SubmissionAcceptance", "CO-FGN"), ("RelayREMMDAcceptance", "CO-FGN"),
                                         ("Delivery", "CO-FGN")]
    assert _kinds(hub, received.id or 0) == []

    # The requested authority's clerk opens the case: retrieval, once however often it is read.
    clerk = world.actor("ES-MJ", "clerk")
    for _ in range(2):
        record_access(hub, clerk, channel="cli", purpose="case.show", case=received)
    assert _kinds(hub, received.id or 0) == [("Retrieval", "ES-MJ")]
    # The engine reading for itself is not a retrieval.
    assert _kinds(hub, sent.id or 0)[-1] == ("Delivery", "CO-FGN")
    # The Retrieval travels back to the sender (an "evidence" message, signed like every envelope) and lands on
    # the requesting case's timeline, as ES-MJ signed it; the message itself gets no evidences of its own.
    assert outbox.dispatch_all(hub).delivered == 1
    assert _kinds(hub, sent.id or 0)[-1] == ("Retrieval", "ES-MJ")
    assert _kinds(hub, received.id or 0) == [("Retrieval", "ES-MJ")]

    timeline = services.timeline(hub, sent, world.actor("CO-FGN", "clerk"))
    assert [i.title for i in timeline if i.kind == "evidence"] == ["SubmissionAcceptance", "RelayREMMDAcceptance",
                                                                 "Delivery", "Retrieval"]

    out = tmp_path / "evidence"
    result = CliRunner().invoke(app, ["--db", hub.url, "--lang", "pt", "case", "evidence", sent.reference,
                                      "--out", str(out), "--user", "co.clerk"])
    assert result.exit_code == 0, result.output
    document = json.loads((out / "evidence.json").read_text(encoding="utf-8"))
    assert [e["record"]["evidence"] for e in document["evidences"]] == ["SubmissionAcceptance",
                                                                        "RelayREMMDAcceptance", "Delivery",
                                                                        "Retrieval"]
    assert all(evidence.verify_record(e, document["certificates"]) for e in document["evidences"])
    retrieval = document["evidences"][-1]["record"]
    assert (retrieval["issuer"], retrieval["etsi_rem_event"]) == ("ES-MJ", "ContentRetrieval")
    delivery = document["evidences"][-2]["record"]
    assert delivery["etsi_rem_event"] == "ContentHandover"
    assert delivery["counterpart_receipt"]["receipt"]["status"] == "delivered"  # the recipient's signed receipt

    tampered = json.loads(json.dumps(document["evidences"][-2]))
    tampered["record"]["at"] = "2020-01-01T00:00:00+00:00"
    assert not evidence.verify_record(tampered, document["certificates"])

    trusted, crls = pki.trust_material(hub)
    verdict = verify_pdf((out / "evidence-summary.pdf").read_bytes(), trusted, crls)
    assert verdict.valid and "CO-FGN" in verdict.signer


def test_evidence_of_another_authoritys_case_is_not_found(hub: Database, tmp_path: Path) -> None:
    sent, _ = World(hub).transmitted()
    result = CliRunner().invoke(app, ["--db", hub.url, "case", "evidence", sent.reference, "--out",
                                      str(tmp_path / "x"), "--user", "es.clerk"])
    assert result.exit_code != 0 and not (tmp_path / "x").exists()
    assert "Traceback" not in result.output


def test_without_a_certificate_evidences_are_kept_unsigned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           test_pki: PkiFixture) -> None:
    monkeypatch.setenv("EXHORTO_ATTACH_PDF", "0")
    db = Database(f"sqlite:///{tmp_path / 'plain.db'}")
    ensure_schema(db)
    sent, _ = World(make_world(db).db).transmitted()
    with db.reader() as session:
        rows = evidence.list_for_case(session, sent.id or 0)
    assert [r.kind for r in rows] == ["SubmissionAcceptance", "RelayREMMDAcceptance", "Delivery"]
    assert all(r.signature is None for r in rows)


def test_an_unreachable_recipient_node_leaves_one_relay_failure_evidence(hub: Database) -> None:
    import socket

    from sqlmodel import select

    from engine.outbox import dispatch
    from engine.store.models import Authority

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with hub.transaction() as session:
        spain = session.exec(select(Authority).where(Authority.code == "ES-MJ")).one()
        spain.endpoint_url = f"http://127.0.0.1:{port}/inbox"
        session.add(spain)
    from engine import keys

    keys.generate(hub, "CO-FGN")  # the sending node's envelope key (the hub makes it on first local delivery)
    world = World(hub)
    case = world.new_request()
    for action, role in (("submit", "clerk"), ("approve", "judge"), ("transmit", "clerk")):
        world.act(case, action, "CO-FGN", role)
    from datetime import timedelta

    from engine.store.models import utcnow

    for hours in (0, 1):  # the outbox retries: still one failure evidence
        summary = dispatch(hub, now=utcnow() + timedelta(hours=hours))
        assert summary.retrying == 1
    kinds = _kinds(hub, case.id or 0)
    assert kinds == [("SubmissionAcceptance", "CO-FGN"), ("RelayREMMDFailure", "CO-FGN")]
    with hub.reader() as session:
        failure = evidence.list_for_case(session, case.id or 0)[-1]
    assert failure.signature is not None and "127.0.0.1" in failure.record["reason"]["detail"]
