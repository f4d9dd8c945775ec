"""`exhorto demo`: two real exchanges through the hub on an embedded SQLite database, a printed summary, and the
PDFs of each exchange in es, pt, en and fr.

1. Colombia's Fiscalía asks Spain's Ministry of Justice for bank records (money laundering): one clarification
   round, a partial and a final execution report, closure.
2. Brazil's Ministry of Justice asks Portugal's PGR for a witness hearing by videoconference: refused, closed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from sqlmodel import select

from engine import audit, cases, directory
from engine.actions import apply_action
from engine.documents import write_case_pdfs
from engine.i18n import LANGUAGES, translate
from engine.keys import PASSPHRASE_ENV
from engine.lifecycle import STATE_LABELS, State
from engine.outbox import dispatch_all
from engine.privacy import record_files
from engine.seed import demo_username, seed_demo
from engine.store.db import Database
from engine.store.migrate import ensure_schema
from engine.store.models import Authority, Case
from engine.system_fields import without_system_fields

Say = Callable[[str], None]
DEMO_PASSPHRASE = "exhorto-demo-only"


def example(form: str, slug: str) -> dict[str, Any]:
    text = files("forms").joinpath(f"examples/{form}/{slug}.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@dataclass
class Story:
    title: str
    sender: str
    recipient: str
    request: str  # example slug
    steps: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)  # (side, action, payload)


def _stories() -> list[Story]:
    pt_refusal = {
        "grounds": ["no_double_criminality"],
        "reasons": "Os factos descritos não constituem infração penal segundo o direito português e a medida "
                   "requerida não consta da lista de infrações dispensadas do controlo da dupla incriminação.",
    }
    pt_closure = {"outcome": "refused", "remarks": "Processo encerrado na sequência da recusa."}
    annex_b = {  # EIO Annex B: the confirmation of receipt, sections A-E
        "received_at": "2026-12-02T10:00:00+01:00", "request_issued_on": "2026-12-01",
        "receiving_authority": {"code": "ES-MJ", "country": "ES", "name": "Ministerio de Justicia"},
        "receiving_representative": {"name": "Ana Ruiz Ferrer", "position": "Subdirectora general adjunta"},
        "receiving_languages": ["es", "fr"],
        "executing_authority": {"code": "ES-AN", "country": "ES", "name": "Audiencia Nacional",
                                "unit": "Juzgado Central de Instrucción n.º 3"},
        "transferred_on": "2026-12-02",
        "remarks": "La orden se ha transmitido al Juzgado Central de Instrucción n.º 3 para su ejecución.",
        "signature": {"name": "Ana Ruiz Ferrer", "position": "Subdirectora general adjunta", "place": "Madrid",
                      "date": "2026-12-02"},
    }
    return [
        Story("Colombia → Spain: bank records (money laundering)", "CO-FGN", "ES-MJ", "co-es-bank-records", [
            ("A", "submit", None), ("A", "approve", None), ("A", "transmit", None),
            ("B", "acknowledge", example("acknowledgement", "es-co-receipt")),
            ("B", "request_clarification", example("clarification_request", "es-co-account-holders")),
            ("A", "answer_clarification", example("clarification_answer", "co-es-account-holders")),
            ("B", "start_execution", None),
            ("B", "report_partial_execution", example("execution_report", "es-co-partial")),
            ("B", "report_execution", example("execution_report", "es-co-final")),
            ("A", "close", example("closure", "es-co-executed")),
        ]),
        Story("Brazil → Portugal: witness hearing by videoconference", "BR-MJSP", "PT-PGR",
              "br-pt-witness-videoconference", [
                  ("A", "submit", None), ("A", "approve", None), ("A", "transmit", None),
                  ("B", "acknowledge", {"received_at": "2026-11-23T10:00:00+00:00",
                                        "remarks": "Pedido recebido e registado."}),
                  ("B", "refuse", pt_refusal),
                  ("A", "close", pt_closure),
              ]),
        Story("France → Spain: European Investigation Order (interception of telecommunications)", "FR-MJ",
              "ES-MJ", "fr-es-eio-interception", [
                  ("A", "submit", None), ("A", "approve", None), ("A", "transmit", None),
                  ("B", "acknowledge", annex_b),
              ]),
        Story("Spain → Mexico: UN Convention against Corruption, Art. 46 (bank records)", "ES-MJ", "MX-FGR",
              "es-mx-uncac-bank-records", [
                  ("A", "submit", None), ("A", "approve", None), ("A", "transmit", None),
                  ("B", "acknowledge", {"received_at": "2026-12-03T09:00:00-06:00",
                                        "remarks": "Solicitud recibida y turnada para su ejecución."}),
              ]),
    ]


ROLE = {"submit": "clerk", "approve": "judge", "transmit": "clerk", "acknowledge": "clerk",
        "request_clarification": "clerk", "answer_clarification": "clerk", "start_execution": "judge",
        "report_partial_execution": "clerk", "report_execution": "clerk", "refuse": "judge", "close": "judge"}


def _with_references(payload: dict[str, Any], requesting: Case, requested: Case | None) -> dict[str, Any]:
    body = {k: v for k, v in without_system_fields(payload).items() if k != "$schema"}
    body["references"] = {"requesting": requesting.reference,
                          **({"requested": requested.reference} if requested else {})}
    return body


def run_story(db: Database, story: Story, say: Say) -> tuple[Case, Case]:
    # The authorities and references are the system's: the engine fills them from the case and the directory.
    request = without_system_fields(example("request", story.request))
    request.pop("$schema", None)
    clerk = directory.actor_for(db, demo_username(story.sender, "clerk"))
    requesting = cases.create_case(db, actor=clerk, counterpart=story.recipient, payload=request)
    requested: Case | None = None
    for side, action, payload in story.steps:
        authority = story.sender if side == "A" else story.recipient
        target = requesting if side == "A" else requested
        assert target is not None
        actor = directory.actor_for(db, demo_username(authority, ROLE[action]))
        body = _with_references(payload, requesting, requested) if payload is not None else None
        outcome = apply_action(db, case=target.reference, action=action, actor=actor, payload=body)
        dispatch_all(db)
        say(f"  {actor.username:12} {action:26} → {outcome.case.reference} {outcome.case.state}")
        with db.reader() as session:
            requested = session.exec(select(Case).where(Case.exchange_id == requesting.exchange_id,
                                                        Case.id != requesting.id)).first()
    assert requested is not None
    return cases.get_case(db, requesting.reference), requested


def _label(state: str, lang: str) -> str:
    return translate(lang, STATE_LABELS[State(state)])


def run_demo(out: Path, *, fresh: bool = True, db_url: str | None = None, say: Say = print,
             languages: tuple[str, ...] = LANGUAGES) -> list[Case]:
    out.mkdir(parents=True, exist_ok=True)
    if not os.environ.get(PASSPHRASE_ENV):  # the demo's keys are throw-away; production sets its own secret
        os.environ[PASSPHRASE_ENV] = DEMO_PASSPHRASE
        say(f"(demo: signing keys are protected with a demo passphrase; set {PASSPHRASE_ENV} in production)")
    url = db_url or f"sqlite:///{out / 'exhorto-demo.db'}"
    if fresh and db_url is None:
        for suffix in ("", "-wal", "-shm"):
            (out / f"exhorto-demo.db{suffix}").unlink(missing_ok=True)
    db = Database(url)
    ensure_schema(db)
    with db.reader() as session:
        seeded = session.get(Authority, "CO-FGN") is not None
    if not seeded:
        seed_demo(db)
    say(f"exhorto demo — database {db.url}")
    records: list[Case] = []
    for story in _stories():
        say(f"\n{story.title}")
        requesting, requested = run_story(db, story, say)
        records += [requesting, requested]
    say("\nSummary")
    for record in records:
        lang = _language_of(db, record.authority_code)
        say(f"  {record.reference:22} {record.side:10} {record.state:20} ({_label(record.state, lang)})"
            f"  counterpart {record.counterpart_reference}")
    for record in records:
        say(f"\nAudit trail of {record.reference}")
        for event in cases.history(db, record.reference):
            say(f"  {event.seq:2} {event.at:%Y-%m-%d %H:%M:%S}Z {event.actor:20} {event.action:28} "
                f"{event.from_state or '∅'} → {event.to_state}  {event.hash[:12]}…")
    with db.reader() as session:
        checked, breaks = audit.verify_all(session)
    say(f"\nAudit chains verified: {checked - len(breaks)}/{checked} intact")
    say(f"\nDocuments (PDF/A-3b with the JSON payload embedded) in {', '.join(languages)}:")
    for record in records:
        if record.side == "requesting":
            paths = write_case_pdfs(db, record.reference, out / "pdf", languages=languages)
            # Out of retention's reach: recorded so that an operator finds them when the case is pseudonymised.
            record_files(db, authority=record.authority_code, actor="system:demo", kind="demo_pdf", paths=paths,
                         cases=[record.reference])
            for path in paths:
                say(f"  {path}")
    db.dispose()
    return records


def _language_of(db: Database, authority: str) -> str:
    with db.reader() as session:
        found = session.get(Authority, authority)
    return found.languages[0] if found and found.languages else "en"
