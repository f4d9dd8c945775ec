"""Documents kept with their case and attached to outbound messages, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlmodel import func, select

from engine.canonical import canonical_json
from engine.documents import (
    Document,
    attach_outbound_document,
    extract_payload,
    list_documents,
    render_case,
    render_message,
    write_case_pdfs,
)
from engine.errors import CaseNotFound, MessageNotFound
from engine.i18n import translate
from engine.outbox import dispatch_all
from engine.store.db import Database
from engine.store.models import Case, Message
from tests.helpers import make_world


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _documents(db: Database) -> list[Document]:
    with db.reader() as session:
        return list(session.exec(select(Document).order_by(Document.id)))  # type: ignore[arg-type]


def _message(db: Database, kind: str, direction: str = "out") -> Message:
    with db.reader() as session:
        return session.exec(select(Message).where(Message.kind == kind, Message.direction == direction)).one()


def test_transmitted_request_carries_its_pdf_to_the_counterpart(db: Database) -> None:
    world = make_world(db)
    requesting, requested = world.transmitted("FR-MJ", "MX-FGR")
    sent = _message(db, "request")
    [document] = [d for d in _documents(db) if d.message_id == sent.message_id]
    entry = {
        "name": document.filename,
        "media_type": "application/pdf",
        "size": document.size,
        "sha256": document.sha256,
    }
    assert entry in sent.attachments and document.case_id == requesting.id
    # Recipient's language first (Mexico: es), the sender's (France: fr) beside it.
    assert (document.language, document.secondary_language) == ("es", "fr")
    assert document.size == len(document.content) and document.kind == "request"
    assert extract_payload(document.content) == canonical_json(requesting.payload)
    text = _text(document.content)
    assert "Solicitud de asistencia judicial" in text and "Demande d'entraide judiciaire" in text
    assert requesting.reference in text
    # The envelope delivered the attachment list with the message: the requested side has it too.
    assert entry in _message(db, "request", "in").attachments
    assert requested.state == "delivered"


def test_every_outbound_form_message_gets_a_document(db: Database) -> None:
    world = make_world(db)
    _, requested = world.transmitted()
    world.act(requested, "acknowledge", "ES-MJ", "clerk")
    ack = _message(db, "acknowledgement")
    [document] = [d for d in _documents(db) if d.message_id == ack.message_id]
    assert document.kind == "acknowledgement" and document.case_id == requested.id
    assert (document.language, document.secondary_language) == ("es", None)  # ES → CO: both Spanish
    assert [a["sha256"] for a in ack.attachments] == [document.sha256]
    assert "Acuse de recibo" in _text(document.content)


def test_a_preview_is_rendered_the_same_every_time_and_never_kept(db: Database) -> None:
    world = make_world(db)
    case = world.new_request()
    first = render_case(db, case.reference, "pt", bilingual="es")
    again = render_case(db, case.reference, "pt", bilingual="es")
    assert first.id is None and again.content == first.content and again.sha256 == first.sha256
    assert list_documents(db, case.reference) == []
    text = _text(first.content)
    assert translate("pt", "Draft — not transmitted; without legal effect") in text
    assert "Pedido de auxílio judiciário" in text and "Solicitud de asistencia judicial" in text
    with pytest.raises(CaseNotFound):
        render_case(db, "XX-NONE/2026/000001", "es")
    with pytest.raises(MessageNotFound):
        render_message(db, "00000000-0000-0000-0000-000000000000", "es")


def test_previews_of_a_transmitted_case_add_no_document(db: Database) -> None:
    world = make_world(db)
    requesting, _ = world.transmitted("FR-MJ", "MX-FGR")
    [sent] = list_documents(db, requesting.reference)
    # The copy transmitted is the one kept (tests/signatures/test_pades.py finds it again); others are previews.
    assert render_message(db, sent.message_id or "", "en").id is None
    assert render_case(db, requesting.reference, "en").id is None
    assert [d.id for d in list_documents(db, requesting.reference)] == [sent.id]


def test_a_rolled_back_action_leaves_no_document(db: Database) -> None:
    world = make_world(db)
    case = world.new_request()
    with pytest.raises(RuntimeError), db.transaction() as session:
        record = session.get(Case, case.id)
        assert record is not None
        message = Message(
            message_id="0190aaaa-0000-7000-8000-000000000001",
            direction="out",
            exchange_id=record.exchange_id,
            case_id=record.id,
            kind="withdrawal",
            sender_code="CO-FGN",
            recipient_code="ES-MJ",
            payload={"references": {"requesting": record.reference}, "reasons": "Ya no es necesaria."},
        )
        session.add(message)
        assert attach_outbound_document(session, record, message) is not None
        raise RuntimeError("crash before commit")
    with db.reader() as session:
        assert session.exec(select(func.count()).select_from(Document)).one() == 0


def test_attaching_can_be_switched_off(sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXHORTO_ATTACH_PDF", "0")
    world = make_world(sqlite_db)
    world.transmitted()
    assert not any("_request" in a["name"] for a in _message(sqlite_db, "request").attachments)
    assert _documents(sqlite_db) == []


def test_write_case_pdfs_writes_every_document_in_every_language(sqlite_db: Database, tmp_path: Path) -> None:
    world = make_world(sqlite_db)
    requesting, requested = world.transmitted("BR-MJSP", "PT-PGR")
    world.act(requested, "acknowledge", "PT-PGR", "clerk")
    dispatch_all(sqlite_db)
    paths = write_case_pdfs(sqlite_db, requesting.reference, tmp_path)
    assert len(paths) == 10 and all(p.parent == tmp_path and p.exists() for p in paths)
    names = [p.name for p in paths]
    assert names[:2] == [
        "BR-MJSP-2026-000001_01-request_es.pdf",
        "BR-MJSP-2026-000001_02-acknowledgement_es.pdf",
    ]
    assert {p.name.rsplit("_", 1)[1] for p in paths} == {"es.pdf", "pt-PT.pdf", "pt-BR.pdf", "en.pdf", "fr.pdf"}
    titles = {
        "es": "Acuse de recibo",
        "pt-PT": "Aviso de receção",
        "pt-BR": "Confirmação de recebimento",
        "en": "Acknowledgement of receipt",
        "fr": "Accusé de réception",
    }
    for path in paths:
        if "acknowledgement" in path.name:
            assert titles[path.stem.rsplit("_", 1)[1]] in _text(path.read_bytes())
    assert (
        write_case_pdfs(sqlite_db, requesting.reference, tmp_path, languages=("fr",))[0].read_bytes()
        == next(p for p in paths if p.name.endswith("01-request_fr.pdf")).read_bytes()
    )
