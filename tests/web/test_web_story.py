"""The case page tells the whole story: what the counterpart said (acknowledgement remarks, questions and answers,
grounds, executed measures, evidence with descriptions) is read on the page in the reader's language; deadlines
in the reader's zone with the counterpart's local day; why a message is not delivered yet."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from sqlmodel import select

from engine.store.deadline_models import Notification
from engine.store.models import AuditEvent, Case, Message, utcnow
from engine.store.privacy_models import AccessLogEntry
from engine.transport.base import Transport, TransportError
from engine.transport.envelope import Envelope, Receipt
from tests.helpers import action_payload, wait_for
from tests.web.conftest import Web


def _page(web: Web, username: str, case_id: int, lang: str) -> str:
    response = web.client(username, lang=lang).get(f"/web/cases/{case_id}")
    assert response.status_code == 200, response.text[:300]
    return unescape(response.text)


def test_the_requesting_side_reads_the_answers_on_the_case_page(sqlite_web: Web) -> None:
    web = sqlite_web
    requesting, requested = web.world.transmitted("CO-FGN", "ES-MJ")
    acknowledgement = action_payload("acknowledge")
    web.world.act(requested, "acknowledge", "ES-MJ", "clerk", acknowledgement)
    web.world.act(requested, "start_execution", "ES-MJ", "judge")
    report = action_payload("report_execution")
    web.world.act(requested, "report_execution", "ES-MJ", "clerk", report)
    from engine.outbox import dispatch_all

    dispatch_all(web.db)
    before = _reads(web)
    page = _page(web, "co.clerk", requesting.id or 0, "en")
    assert _reads(web) == before + 1  # the read is logged like every other
    # the acknowledgement's remarks and the report's measures and evidence, with the forms' own labels
    assert acknowledgement["remarks"][:60] in page
    assert "Acknowledgement of receipt" in page or "Acknowledgement" in page
    measure = report["measures_executed"][0]
    assert measure["description"] in page
    for item in report["evidence"]:
        assert item["name"] in page and item["description"] in page
    assert 'id="h-messages"' in page and page.count('class="message incoming"') >= 2
    # the same page in Spanish uses the Spanish labels of the same forms
    spanish = _page(web, "co.clerk", requesting.id or 0, "es")
    assert "Mensajes" in spanish and "Mensaje recibido:" in spanish


def test_deadlines_show_the_readers_time_and_the_counterparts_day(sqlite_web: Web) -> None:
    web = sqlite_web
    requesting, _ = web.world.transmitted("CO-FGN", "ES-MJ")
    page = _page(web, "co.clerk", requesting.id or 0, "en")
    deadlines = re.sub(r"<[^>]+>", " ", page.split('id="h-clocks"')[1].split("</section>")[0])  # text shown
    assert "America/Bogota" in deadlines and ":59:59" not in deadlines
    assert "Local date at ES-MJ: " in deadlines  # the day it falls on in Madrid, beside it


class _Unreachable(Transport):
    def deliver(self, envelope: Envelope) -> Receipt:
        raise TransportError("ES-MJ unreachable: connection refused")


def test_an_undelivered_message_says_why_and_when_it_is_retried(sqlite_web: Web) -> None:
    web = sqlite_web
    from engine.outbox import dispatch

    case = web.world.new_request("CO-FGN", "ES-MJ")
    web.world.act(case, "submit", "CO-FGN", "clerk")
    web.world.act(case, "approve", "CO-FGN", "judge")
    web.world.act(case, "transmit", "CO-FGN", "clerk")
    queued = _page(web, "co.clerk", case.id or 0, "en")
    assert "Waiting for delivery to ES-MJ since" in queued
    now = utcnow()
    dispatch(web.db, _Unreachable(), now=now)
    dispatch(web.db, _Unreachable(), now=now + timedelta(minutes=5))
    with web.db.reader() as session:
        message = session.exec(select(Message).where(Message.case_id == case.id)).one()
    assert message.attempts == 2 and message.status == "pending"
    page = _page(web, "co.clerk", case.id or 0, "en")
    assert "ES-MJ unreachable since" in page and "attempt 3 at" in page
    assert re.search(r'<details class="technical">(?:(?!</details>).)*connection refused', page, re.S)  # disclosed


def _reads(web: Web) -> int:
    with web.db.reader() as session:
        return len(session.exec(select(AccessLogEntry)).all())


def _stuck_request(web: Web) -> tuple[Case, Message]:
    """A transmitted request whose two delivery attempts failed (the counterpart was unreachable)."""
    from engine.outbox import dispatch

    case = web.world.new_request("CO-FGN", "ES-MJ")
    for action, role in (("submit", "clerk"), ("approve", "judge"), ("transmit", "clerk")):
        web.world.act(case, action, "CO-FGN", role)
    now = utcnow()
    dispatch(web.db, _Unreachable(), now=now)
    dispatch(web.db, _Unreachable(), now=now + timedelta(seconds=20))
    with web.db.reader() as session:
        message = session.exec(select(Message).where(Message.case_id == case.id)).one()
    return case, message


def test_supervisors_see_what_is_not_delivered_and_retry_it(sqlite_web: Web) -> None:
    web = sqlite_web
    case, message = _stuck_request(web)
    failed = Notification(uid="n-1", case_id=case.id, channel="email", recipient="judge@example.org",
                          subject="Deadline near", body="…", status="failed", attempts=5,
                          last_error="SMTP 550 mailbox unavailable")
    with web.db.transaction() as session:
        session.add(failed)
    with web.db.reader() as session:
        notification_id = session.exec(select(Notification.id).where(Notification.uid == "n-1")).one()
    # clerks and judges: no such page, no such retry
    clerk = web.client("co.clerk")
    assert "/web/operations" not in clerk.get("/web/").text
    assert clerk.get("/web/operations").status_code == 404
    refused = web.post(clerk, f"/web/operations/messages/{message.message_id}/retry", page="/web/")
    assert refused.status_code == 404
    # another authority's supervisor does not see it and cannot retry it
    spanish = web.client("es.supervisor")
    assert case.reference not in spanish.get("/web/operations").text
    other = web.post(spanish, f"/web/operations/messages/{message.message_id}/retry", page="/web/operations")
    assert other.status_code == 404
    supervisor = web.client("co.supervisor", lang="es")
    page = unescape(supervisor.get("/web/operations").text)
    assert case.reference in page and "connection refused" in page and "SMTP 550" in page
    # a retry without the form's token is refused and changes nothing
    forged = supervisor.post(f"/web/operations/messages/{message.message_id}/retry", data={"csrf_token": "x"})
    assert forged.status_code == 403
    retried = web.post(supervisor, f"/web/operations/messages/{message.message_id}/retry", page="/web/operations")
    assert retried.url.path == "/web/operations" and retried.status_code == 200
    def delivered() -> bool:  # the hub delivers it right away, in the web's dispatcher thread
        with web.db.reader() as session:
            return session.get(Message, message.id).status == "delivered"

    wait_for(delivered, 30, "the retried message delivered", 0.1)
    with web.db.reader() as session:
        events = session.exec(select(AuditEvent.action, AuditEvent.actor).where(AuditEvent.case_id == case.id)).all()
    assert ("retry_delivery", "co.supervisor") in events
    requeued = web.post(supervisor, f"/web/operations/notifications/{notification_id}/retry", page="/web/operations")
    assert requeued.status_code == 200
    with web.db.reader() as session:
        row = session.get(Notification, notification_id)
        assert (row.status, row.attempts) == ("pending", 0)
        assert session.exec(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                     AuditEvent.action == "retry_notification")).first()


def test_questions_answers_and_grounds_are_read_on_both_sides(sqlite_web: Web) -> None:
    web = sqlite_web
    requesting, requested = web.world.transmitted("CO-FGN", "ES-MJ")
    web.world.act(requested, "request_clarification", "ES-MJ", "clerk",
                  {"questions": ["¿Incluye cuentas como autorizado?"], "reply_by": "2026-12-10"})
    from engine.outbox import dispatch_all

    dispatch_all(web.db)
    web.world.act(requesting, "answer_clarification", "CO-FGN", "clerk", {"answers": ["Sí, también como autorizado."]})
    dispatch_all(web.db)
    web.world.act(requested, "refuse", "ES-MJ", "judge",
                  {"grounds": ["ne_bis_in_idem"], "reasons": "Ya juzgado en España en 2024."})
    dispatch_all(web.db)
    for username, case in (("co.clerk", requesting), ("es.clerk", requested)):
        page = _page(web, username, case.id or 0, "es")
        messages = page.split('id="h-messages"')[1].split("</section>")[0]
        assert "¿Incluye cuentas como autorizado?" in messages and "Sí, también como autorizado." in messages
        assert "Ya juzgado en España en 2024." in messages
        assert "bis in idem" in messages.lower() and "ne_bis_in_idem" not in messages  # the ground's name


def _summary(html: str, box: str) -> list[tuple[str, str]]:
    block = html.split(f'id="{box}"')[1].split("</div>")[0]
    return re.findall(r'<li><a href="#([^"]+)">([^<]+)</a></li>', unescape(block))


def test_submitting_shows_every_problem_at_once_in_page_order_and_names_the_group(sqlite_web: Web) -> None:
    from tests.helpers import example
    from tests.web.conftest import form_items

    web = sqlite_web
    client = web.client("co.clerk", lang="es")
    created = web.post(client, "/web/requests/new", [("counterpart", "ES-MJ")])
    url = str(created.url).removeprefix("http://testserver")
    payload = example("request", "co-es-bank-records")
    payload["contact_person"]["email"] = "no es un correo"
    del payload["facts"], payload["purpose"]
    response = web.post(client, url, [*form_items("request", payload), ("intent", "submit")])
    assert response.status_code == 422
    items = _summary(response.text, "error-summary")
    targets = [target for target, _ in items]
    # the format error and both missing fields in one round, in the order of the page: the request's sections
    # (UNTOC Art. 18(15): 1 the requesting authority and its contact, 3 the facts, 6 the purpose)
    assert targets.index("f-contact_person-email") < targets.index("f-facts") < targets.index("f-purpose")
    email = dict(items)["f-contact_person-email"]
    # which section, and which of the e-mail fields
    assert email.startswith("1. Identidad de la autoridad que hace la solicitud › Persona de contacto › "), email
    # a draft opened again lists what it still lacks
    saved = web.post(client, url, [*form_items("request", payload | {"contact_person": {"name": "M. Ortiz"}}),
                                   ("intent", "save")])
    assert saved.status_code == 200, saved.text[:300]
    reopened = client.get(url).text
    missing = [target for target, _ in _summary(reopened, "checklist-title")]
    assert "f-facts" in missing and "f-purpose" in missing and 'id="error-summary"' not in reopened
