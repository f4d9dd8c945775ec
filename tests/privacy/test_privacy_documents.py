"""Engine-driven cases with real PDF documents (SQLite and PostgreSQL): subject-access export (JSON + PDF/A),
pseudonymisation of documents and signed envelopes, access log of reads (chained, tamper-evident), CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader
from sqlmodel import select
from typer.testing import CliRunner

from engine import audit, privacy
from engine.i18n import translate
from engine.outbox import dispatch_all
from engine.store.db import Database
from engine.store.documents_models import Document
from engine.store.federation_models import SignedMessage
from engine.store.models import Message
from engine.store.privacy_models import AccessLogEntry
from tests.helpers import World, make_world

NAMES = ("Restrepo", "Gaviria", "71234567", "PAB123456", "Serrano", "Marcela", "Ortiz")


def _closed_refusal(world: World) -> tuple[str, str]:
    req, rqd = world.transmitted()
    world.act(rqd, "acknowledge", "ES-MJ", "clerk")
    world.act(rqd, "refuse", "ES-MJ", "judge")
    dispatch_all(world.db)
    world.act(req, "close", "CO-FGN", "judge")
    dispatch_all(world.db)
    return req.reference, rqd.reference


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _embedded(content: bytes) -> dict[str, bytes]:
    with pikepdf.open(io.BytesIO(content)) as pdf:
        return {name: spec.get_file().read_bytes() for name, spec in pdf.attachments.items()}


@pytest.fixture
def world(db: Database, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("EXHORTO_ATTACH_PDF", "0")  # lifecycle only: PDFs are the next fixture's business
    return make_world(db)


@pytest.fixture
def pdf_world(db: Database, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("EXHORTO_ATTACH_PDF", "1")  # real documents with every message
    return make_world(db)


def test_export_then_pseudonymise_documents_and_envelopes(pdf_world: World) -> None:
    world = pdf_world
    db = world.db
    requesting, requested = _closed_refusal(world)
    dpo = world.actor("ES-MJ", "supervisor")

    data = privacy.subject_export(
        db, dpo, privacy.SubjectQuery(surname="restrepo  GAVIRIA", given_names="Juan Carlos")
    )
    assert [c["reference"] for c in data["cases"]] == [requested]
    case = data["cases"][0]
    assert case["roles"] == ["suspect"] and case["persons"][0]["birth_date"] == "1978-04-12"
    assert {m["type"] for m in case["measures"]} == {"bank_records", "asset_tracing"}
    assert case["counterpart"]["code"] == "CO-FGN" and case["closed_at"]
    by_document = privacy.subject_export(db, dpo, privacy.SubjectQuery(document_number="pab 123456"))
    assert [c["reference"] for c in by_document["cases"]] == [requested]
    pdf = privacy.subject_pdf(data, "es")
    text = _pdf_text(pdf)
    assert "Restrepo Gaviria" in text and translate("es", "Closed") in text and "Página 1 de" in text
    assert json.loads(_embedded(pdf)[privacy.JSON_NAME]) == data
    with pikepdf.open(io.BytesIO(pdf)) as document:
        assert "pdfaid:part" in str(document.open_metadata())

    with db.reader() as session:
        documents = session.exec(select(Document)).all()
        assert documents and any("Restrepo" in _pdf_text(d.content) for d in documents)
        assert session.exec(select(SignedMessage)).first() is not None
    for reference in (requesting, requested):
        redaction = privacy.redact_case(db, reference, actor="es.supervisor", reason="manual")
        assert redaction is not None and redaction.documents >= 1
    assert privacy.redact_case(db, requested, actor="es.supervisor") is None  # done once

    with db.reader() as session:
        for document in session.exec(select(Document)):
            text = _pdf_text(document.content)
            payload = _embedded(document.content)["payload.json"].decode()
            assert not any(name in text or name in payload for name in NAMES), document.filename
            assert "[P1]" in payload or document.kind != "request"
        for signed in session.exec(select(SignedMessage)):
            assert not any(name in json.dumps(signed.envelope, ensure_ascii=False) for name in NAMES)
        for message in session.exec(select(Message)):
            assert not any(name in json.dumps(message.payload, ensure_ascii=False) for name in NAMES)
        assert audit.verify_all(session)[1] == []
    gone = privacy.subject_export(db, dpo, privacy.SubjectQuery(surname="Restrepo Gaviria"))
    assert gone["cases"] == []


def test_refused_bad_input_writes_nothing(world: World) -> None:
    db = world.db
    _, requested = _closed_refusal(world)
    with pytest.raises(privacy.SubjectQueryEmpty):
        privacy.subject_export(db, world.actor("ES-MJ", "clerk"), privacy.SubjectQuery(given_names="Juan"))
    with pytest.raises(privacy.InvalidRetention) as error:
        privacy.set_policy(db, "ES-MJ", 0, by="es.supervisor")
    assert "0" in error.value.message("es")
    open_case = world.transmitted()[1]
    with pytest.raises(privacy.CaseNotClosed):
        privacy.redact_case(db, open_case.reference, actor="es.supervisor")
    with pytest.raises(privacy.NotAuthorisedForPersonalData):
        privacy.record_access(
            db, world.actor("CO-FGN", "clerk"), channel="api", purpose="case.show", case=open_case
        )
    with db.reader() as session:
        assert session.exec(select(AccessLogEntry)).all() == []
    assert privacy.get_policy(db, "ES-MJ") is None


def test_access_log_is_chained_and_tamper_evident(world: World) -> None:
    db = world.db
    req, rqd = world.transmitted()
    clerk, judge = world.actor("ES-MJ", "clerk"), world.actor("ES-MJ", "judge")
    for actor, purpose in ((clerk, "case.show"), (judge, "document"), (clerk, "case.history")):
        privacy.record_access(db, actor, channel="api", purpose=purpose, case=rqd)
    privacy.record_access(db, world.actor("CO-FGN", "clerk"), channel="web", purpose="case.show", case=req)
    assert privacy.verify_access_logs(db) == (2, [])
    entries = privacy.access_log(db, "ES-MJ", case=rqd)
    assert [(e.seq, e.username, e.purpose) for e in entries] == [
        (3, "es.clerk", "case.history"),
        (2, "es.judge", "document"),
        (1, "es.clerk", "case.show"),
    ]
    with db.transaction() as session:
        row = session.exec(
            select(AccessLogEntry).where(AccessLogEntry.seq == 2, AccessLogEntry.authority_code == "ES-MJ")
        ).one()
        row.username = "someone.else"
        session.add(row)
    checked, breaks = privacy.verify_access_logs(db)
    assert checked == 2 and [(b.authority, b.seq) for b in breaks] == [("ES-MJ", 2)]


def test_cli_reads_are_logged(world: World, tmp_path: Path) -> None:
    from alembic import command

    from engine.cli import app
    from engine.store.migrate import alembic_config

    db = world.db
    command.stamp(alembic_config(db), "head")
    _, requested = _closed_refusal(world)
    runner = CliRunner()
    env = {"EXHORTO_DATABASE_URL": db.url, "EXHORTO_USER": "es.judge"}
    assert runner.invoke(app, ["case", "show", requested], env=env).exit_code == 0
    assert runner.invoke(app, ["case", "history", requested], env=env).exit_code == 0
    result = runner.invoke(
        app,
        ["privacy", "export", "--surname", "Restrepo Gaviria", "--out", str(tmp_path / "subject")],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "subject.pdf").read_bytes().startswith(b"%PDF")
    assert json.loads((tmp_path / "subject.json").read_text())["cases"][0]["reference"] == requested
    log = runner.invoke(app, ["privacy", "log"], env=env)
    assert [line.split()[5] for line in log.output.splitlines()] == [
        "subject_export",
        "case.history",
        "case.show",
    ]
    assert runner.invoke(app, ["privacy", "verify"], env=env).output.strip() == "1 access logs verified"
    denied = runner.invoke(app, ["privacy", "retention", "set", "3"], env=env)
    assert denied.exit_code == 1 and "supervisor" in denied.output
    env["EXHORTO_USER"] = "es.supervisor"
    assert runner.invoke(app, ["privacy", "retention", "set", "3"], env=env).exit_code == 0
    shown = runner.invoke(app, ["privacy", "retention", "show"], env=env)
    assert "ES-MJ" in shown.output and "3 years" in shown.output
    bad = runner.invoke(app, ["--lang", "es", "privacy", "retention", "set", "500"], env=env)
    assert bad.exit_code != 0 and "500" in bad.output
    due = runner.invoke(app, ["privacy", "retention", "due", "--authority", "ES-MJ"], env=env)
    assert due.output.strip().endswith("0 cases due")
