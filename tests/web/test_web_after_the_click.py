"""Approve-and-transmit answers before the request's PDF exists: the case page says the document is being prepared
(and reloads itself) until the node's dispatcher has rendered, signed and delivered it. Here the node runs its own
dispatcher (``exhorto serve``), stopped for the test, so that the page is seen before and after its run."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from engine import outbox, pki
from engine.api import Settings, create_app
from engine.lifecycle import State
from engine.store.db import Database
from engine.store.documents_models import Document
from engine.store.migrate import ensure_schema
from engine.store.models import Message
from tests.helpers import make_world
from tests.web.conftest import Web


@pytest.fixture
def node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Web:
    monkeypatch.setenv("EXHORTO_ATTACH_PDF", "1")
    db = Database(f"sqlite:///{tmp_path / 'node.db'}")
    ensure_schema(db)
    world = make_world(db)
    pki.create_ca(db, "node CA")  # CO-FGN signs its documents (PAdES)
    pki.issue_certificate(db, "CO-FGN")
    # A dispatcher every minute, not started (no lifespan under TestClient): nothing moves until the test says so.
    return Web(world=world, app=create_app(db, Settings(dispatch_interval=60)))


def test_the_page_answers_first_and_shows_the_document_being_prepared(node: Web) -> None:
    case = node.world.new_request("CO-FGN", "ES-MJ")
    node.world.act(case, "submit", "CO-FGN", "clerk")
    judge = node.client("co.judge")
    page = node.post(judge, f"/web/cases/{case.id}/actions/approve", [("transmit", "1"), ("intent", "apply")])
    assert page.status_code == 200 and page.url.path == f"/web/cases/{case.id}"
    assert node.world.refresh(case).state == State.TRANSMITTED
    assert "Preparing the document (PDF and signature) for ES-MJ" in page.text
    assert 'data-refresh="3"' in page.text  # app.js reloads the page while it is in progress
    with node.db.reader() as session:
        assert session.exec(select(Message.document_pending).where(Message.case_id == case.id)).one()
        assert session.exec(select(Document).where(Document.case_id == case.id)).all() == []

    outbox.dispatch_all(node.db)  # the dispatcher's run: render, sign, attach, deliver
    after = judge.get(f"/web/cases/{case.id}")
    assert node.world.refresh(case).state == State.DELIVERED
    assert "Preparing the document" not in after.text and "data-refresh" not in after.text
    with node.db.reader() as session:
        [document] = session.exec(select(Document).where(Document.case_id == case.id)).all()
        sent = session.exec(select(Message).where(Message.case_id == case.id)).one()
    assert document.message_id == sent.message_id and document.sha256 in {a["sha256"] for a in sent.attachments}
    assert b"/ByteRange" in document.content  # signed, by the dispatcher (pyHanko cannot sign in the event loop)


def test_the_french_page_says_it_in_french(node: Web) -> None:
    case = node.world.new_request("CO-FGN", "ES-MJ")
    node.world.act(case, "submit", "CO-FGN", "clerk")
    judge = node.client("co.judge", lang="fr")
    page = node.post(judge, f"/web/cases/{case.id}/actions/approve", [("transmit", "1"), ("intent", "apply")])
    assert "Préparation du document (PDF et signature) pour ES-MJ" in page.text
