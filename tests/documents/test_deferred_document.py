"""An action that leaves its PDF to the dispatcher (the web's ``defer_document``): the click writes the message
without a document; the dispatcher renders and signs it, lists it, and only then delivers the envelope. The
document carried is the one signed and kept, once, whatever crashes or retries happen in between."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from engine import documents, outbox, pki
from engine.actions import apply_action
from engine.store.db import Database
from engine.store.documents_models import Document
from engine.store.federation_models import Attachment
from engine.store.migrate import ensure_schema
from engine.store.models import Case, Message, utcnow
from engine.store.pki_models import DeliveryEvidence
from engine.transport.envelope import Envelope, Receipt
from tests.helpers import World, make_world


@pytest.fixture
def world(tmp_path: Path) -> World:
    db = Database(f"sqlite:///{tmp_path / 'hub.db'}")
    ensure_schema(db)
    world = make_world(db)
    pki.create_ca(db, "hub CA")
    pki.issue_certificate(db, "CO-FGN")
    return world


def _transmit_deferred(world: World) -> Case:
    case = world.new_request("CO-FGN", "ES-MJ")
    world.act(case, "submit", "CO-FGN", "clerk")
    world.act(case, "approve", "CO-FGN", "judge")
    apply_action(world.db, case=case.reference, action="transmit", actor=world.actor("CO-FGN", "clerk"),
                 payload={}, defer_document=True)
    return case


def _request(db: Database, case: Case) -> Message:
    with db.reader() as session:
        return session.exec(select(Message).where(Message.case_id == case.id, Message.kind == "request")).one()


def _documents(db: Database, case: Case) -> list[Document]:
    with db.reader() as session:
        return list(session.exec(select(Document).where(Document.case_id == case.id)))


class Recording:
    """A transport that records the envelopes it is given and delivers them to nobody."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    def deliver(self, envelope: Envelope) -> Receipt:
        self.envelopes.append(envelope)
        return Receipt.now(envelope.message_id, "delivered", reference="ES-MJ/2026/TEST")


def test_the_click_writes_no_document_and_the_dispatcher_sends_the_one_it_signed(world: World) -> None:
    case = _transmit_deferred(world)
    queued = _request(world.db, case)
    listed = list(queued.attachments)  # the files the request itself lists
    assert queued.document_pending and _documents(world.db, case) == []

    transport = Recording()
    summary = outbox.dispatch_all(world.db, transport)
    assert summary.delivered == 1
    sent = _request(world.db, case)
    assert not sent.document_pending and sent.status == "delivered"
    [document] = _documents(world.db, case)
    assert document.message_id == sent.message_id and b"/ByteRange" in document.content  # signed (PAdES)
    [envelope] = transport.envelopes
    assert envelope.attachments == sent.attachments == [*listed, {"name": document.filename, "size": document.size,
                                                                  "media_type": "application/pdf",
                                                                  "sha256": document.sha256}]
    with world.db.reader() as session:  # the transports carry the bytes kept under that digest
        kept = session.exec(select(Attachment).where(Attachment.sha256 == document.sha256)).one()
    assert kept.content == document.content
    assert documents.verify_document(world.db, kept.content).valid


def test_preparing_again_after_a_crash_or_by_a_second_dispatcher_keeps_one_document(world: World) -> None:
    case = _transmit_deferred(world)
    queued = _request(world.db, case)
    first = outbox.prepare_document(world.db, queued)  # then the dispatcher "dies" before delivering
    again = outbox.prepare_document(world.db, queued)  # a stale copy of the row: nothing is made twice
    assert first.attachments == again.attachments and len(first.attachments) == len(queued.attachments) + 1
    assert len(_documents(world.db, case)) == 1
    transport = Recording()
    outbox.dispatch_all(world.db, transport)
    assert transport.envelopes[0].attachments == first.attachments
    assert len(_documents(world.db, case)) == 1


def test_a_document_that_cannot_be_made_is_retried_later_and_nothing_is_sent(world: World,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    case = _transmit_deferred(world)
    render = documents.render_pdf

    def broken(request: object) -> object:
        raise RuntimeError("fonts missing")

    monkeypatch.setattr(documents, "render_pdf", broken)
    transport = Recording()
    summary = outbox.dispatch(world.db, transport)
    assert summary.retrying == 1 and transport.envelopes == []
    waiting = _request(world.db, case)
    assert waiting.document_pending and waiting.status == "pending" and waiting.attempts == 1
    assert waiting.last_error == "document: fonts missing" and waiting.next_attempt_at > utcnow()
    with world.db.reader() as session:  # not a relay failure: no delivery evidence says so
        assert session.exec(select(DeliveryEvidence).where(DeliveryEvidence.kind == "RelayREMMDFailure")).all() == []
    monkeypatch.setattr(documents, "render_pdf", render)  # the fonts are back
    outbox.dispatch(world.db, transport, now=waiting.next_attempt_at)
    assert len(transport.envelopes) == 1 and _request(world.db, case).status == "delivered"
