"""Actions on incoming requests through the generated forms (refusal with grounds, clarification and its answer,
postponement), deadline badges and the overdue filter, PDFs in each language."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from html import unescape

from pypdf import PdfReader
from sqlmodel import select

from engine.lifecycle import State
from engine.store.models import Deadline, utcnow
from tests.web.conftest import Web, flashes


def test_refusal_needs_grounds_and_reasons_then_reaches_the_requesting_side(web: Web) -> None:
    requesting, requested = web.world.transmitted("MX-FGR", "FR-MJ")
    judge = web.client("fr.judge", lang="fr")
    url = f"/web/cases/{requested.id}/actions/refuse"
    form = judge.get(url).text
    assert "Motifs de refus" in form and "Absence de double incrimination" in unescape(form)
    before = web.world.counts()
    incomplete = web.post(judge, url, [("/grounds", "other")])
    assert incomplete.status_code == 422
    assert re.search(r'id="f-reasons-err"><li>[^<]+</li>', incomplete.text)
    assert re.search(r'id="f-other_ground-err"><li>[^<]+</li>', incomplete.text)  # "other" needs its explanation
    assert web.world.counts() == before
    refused = web.post(
        judge,
        url,
        [
            ("/grounds", "no_double_criminality"),
            ("/grounds", "ne_bis_in_idem"),
            ("/reasons", "Les faits ne sont pas punissables en droit français."),
        ],
    )
    assert refused.url.path == f"/web/cases/{requested.id}"
    assert web.world.refresh(requested).state == State.REFUSED
    web.reaches(requesting, State.REFUSED)  # delivered right after the action, the page not waiting for it
    mexican = web.client("mx.clerk", lang="es")
    page = unescape(mexican.get(f"/web/cases/{requesting.id}").text)
    assert "Mensaje recibido" in page and "Denegación" in page


def test_clarification_request_and_answer_through_the_forms(sqlite_web: Web) -> None:
    web = sqlite_web
    requesting, requested = web.world.transmitted("CO-FGN", "ES-MJ")
    spanish = web.client("es.clerk", lang="es")
    asked = web.post(
        spanish,
        f"/web/cases/{requested.id}/actions/request_clarification",
        [("/questions", "¿Incluye cuentas como autorizado?\nPrecisen el periodo."), ("/reply_by", "2026-12-10")],
    )
    assert asked.url.path == f"/web/cases/{requested.id}", asked.text[:300]
    web.reaches(requesting, State.CLARIFICATION_REQUESTED)
    assert web.world.refresh(requested).state == State.CLARIFICATION_REQUESTED
    colombian = web.client("co.clerk", lang="es")
    answered = web.post(
        colombian,
        f"/web/cases/{requesting.id}/actions/answer_clarification",
        [("/answers", "Sí, también.\nDe enero de 2024 a junio de 2025.")],
    )
    assert answered.url.path == f"/web/cases/{requesting.id}", answered.text[:500]
    web.reaches(requested, State.ACKNOWLEDGED)
    assert web.world.refresh(requesting).state == State.ACKNOWLEDGED


def test_postponement_by_the_judge(sqlite_web: Web) -> None:
    web = sqlite_web
    requesting, requested = web.world.transmitted("CO-FGN", "ES-MJ")
    web.world.act(requested, "acknowledge", "ES-MJ", "clerk")
    web.world.act(requested, "start_execution", "ES-MJ", "judge")
    judge = web.client("es.judge", lang="es")
    url = f"/web/cases/{requested.id}/actions/postpone"
    response = web.post(
        judge,
        url,
        [
            ("/ground", "ongoing_investigation"),
            ("/reasons", "Investigación abierta."),
            ("/expected_until", "2027-03-01"),
        ],
    )
    assert response.url.path == f"/web/cases/{requested.id}"
    assert "Hecho: Aplazar la ejecución." in unescape(" ".join(flashes(response.text)))
    web.reaches(requesting, State.POSTPONED)
    # the clerk may not postpone: the action is not offered, its URL is not found
    clerk = web.client("es.clerk")
    assert "/actions/postpone" not in clerk.get(f"/web/cases/{requested.id}").text
    assert clerk.get(url).status_code == 404


def test_deadline_badges_and_the_overdue_filter(web: Web) -> None:
    requesting, requested = web.world.transmitted("CO-FGN", "ES-MJ")
    other, _ = web.world.transmitted("CO-FGN", "BR-MJSP")
    clerk = web.client("es.clerk", lang="en")
    assert '<span class="badge overdue">' not in clerk.get("/web/").text
    with web.db.transaction() as session:
        clock = session.exec(
            select(Deadline).where(Deadline.case_id == requested.id, Deadline.status == "running")
        ).first()
        assert clock is not None
        clock.due_at = utcnow() - timedelta(hours=1)
        session.add(clock)
    inbox = clerk.get("/web/").text
    assert '<span class="badge overdue">Overdue' in inbox
    overdue = clerk.get("/web/tracking?overdue=1").text
    assert requested.reference in overdue
    colombian = web.client("co.clerk", lang="en")
    by_country = colombian.get("/web/tracking?country=BR").text
    assert other.reference in by_country and requesting.reference not in by_country
    urgency = requesting.urgency
    other_urgency = "normal" if urgency == "urgent" else "urgent"
    assert (
        requesting.reference in colombian.get(f"/web/tracking?state=delivered&urgency={urgency}&side=requesting").text
    )
    assert requesting.reference not in colombian.get(f"/web/tracking?urgency={other_urgency}").text
    assert requesting.reference not in colombian.get("/web/tracking?side=requested").text


def test_pdf_preview_and_download_in_each_language(sqlite_web: Web) -> None:
    web = sqlite_web
    requesting, _ = web.world.transmitted("CO-FGN", "ES-MJ")
    client = web.client("co.judge")
    titles = {"fr": "entraide", "pt": "auxílio", "en": "assistance", "es": "asistencia"}
    for lang, word in titles.items():
        response = client.get(
            f"/web/cases/{requesting.id}/pdf/{lang}", params={"download": "1"} if lang == "en" else None
        )
        assert response.headers["content-type"] == "application/pdf"
        assert "object-src" not in response.headers["content-security-policy"]  # the PDF viewer may show it
        disposition = response.headers["content-disposition"]
        assert disposition.startswith("attachment" if lang == "en" else "inline")
        text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text().lower()
        assert word in text, (lang, text[:200])
    assert client.get(f"/web/cases/{requesting.id}/pdf/de").status_code == 404


def test_timeline_shows_clock_events_and_escalations(sqlite_web: Web) -> None:
    from engine.deadlines.sweep import sweep_once

    web = sqlite_web
    _, requested = web.world.transmitted("CO-FGN", "ES-MJ")
    sweep_once(web.db, now=utcnow() + timedelta(days=60), send=False)  # every level of the ladder falls due
    page = unescape(web.client("es.supervisor", lang="es").get(f"/web/cases/{requested.id}").text)
    timeline = page[page.index('<ol class="timeline">') :]
    assert 'class="tl-escalation"' in timeline and 'class="tl-clock"' in timeline
    assert "Recordatorio" in timeline and "Acuse de recibo" in timeline  # levels and clocks named in Spanish
    assert "Solicitud recibida" in timeline  # the audit event that opened the requested side's record
