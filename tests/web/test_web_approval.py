"""The approval page shows the request (its content in the reviewer's language, a PDF preview in that language) and
says what will happen — approved only, or approved and transmitted to whom — and the confirmation names every
effect. Previews and downloads of a PDF never add a file to the case; a transmission keeps its document once."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, func, select

from engine import documents, tokens
from engine.lifecycle import State
from engine.store.documents_models import Document
from engine.store.models import Case
from engine.store.privacy_models import AccessLogEntry
from tests.web.conftest import Web, flashes

ES_MJ = "ES-MJ (Ministerio de Justicia — Subdirección General de Cooperación Jurídica Internacional, {country})"


def _pending(web: Web) -> Case:
    case = web.world.new_request("CO-FGN", "ES-MJ")
    web.world.act(case, "submit", "CO-FGN", "clerk")
    return web.world.refresh(case)


def _shown(html: str) -> list[str]:
    """The effects the page lists as visible now (the server hides the variant of the box's other state)."""
    section = re.search(r'<section class="effects".*?</section>', html, re.S)
    assert section, "the page says nothing of what will happen"
    return [unescape(text) for attrs, text in re.findall(r"<li([^>]*)>([^<]+)</li>", section.group(0))
            if "hidden" not in attrs]


def _reads(web: Web, case: Case) -> list[str]:
    with web.db.reader() as session:
        return list(session.exec(select(AccessLogEntry.purpose).where(AccessLogEntry.case_id == case.id)
                                 .order_by(col(AccessLogEntry.seq))))


def _documents(web: Web, case: Case) -> int:
    with web.db.reader() as session:
        return session.exec(select(func.count()).select_from(Document).where(Document.case_id == case.id)).one()


@pytest.mark.parametrize(("lang", "approved", "transmitted", "country"), [
    ("es", "La solicitud será aprobada y transmitida a", "Estado tras la acción: Transmitida.", "España"),
    ("fr", "La demande sera approuvée et transmise à", "État après l'action\u202f: Transmise.", "Espagne"),
    ("en", "The request will be approved and transmitted to", "State after the action: Transmitted.", "Spain"),
    ("pt_BR", "O pedido será aprovado e transmitido a", "Estado após a ação: Transmitido.", "Espanha"),
])
def test_the_approval_page_shows_the_request_and_says_what_will_happen(sqlite_web: Web, lang: str, approved: str,
                                                                     transmitted: str, country: str) -> None:
    web = sqlite_web
    case = _pending(web)
    judge = web.client("co.judge", lang=lang)
    page = judge.get(f"/web/cases/{case.id}/actions/approve")
    assert page.status_code == 200
    html = unescape(page.text)
    # The request itself, in the reviewer's language, and its PDF in that language.
    surname = case.payload["persons"][0]["surname"]
    glance, whole = html.split('<details class="request-full">', 1)
    assert surname in glance and case.payload["facts"]["summary"][:40] in glance  # at a glance …
    assert case.payload["persons"][0]["birth_place"] in whole  # … and the whole request one click away
    assert f"ES-MJ (Ministerio de Justicia — Subdirección General de Cooperación Jurídica Internacional, {country})" \
        in glance
    assert f'href="/web/cases/{case.id}/pdf/{lang}"' in html
    # Ticked by default: approved and transmitted, to whom, and the state that follows.
    assert 'id="transmit" name="transmit" value="1" checked' in html
    shown = _shown(page.text)
    assert shown == [f"{approved} {ES_MJ.format(country=country)}.", transmitted]
    assert "case.review" in _reads(web, case)  # the request's personal data was shown: the read is logged


def test_approval_without_transmission_says_so_before_and_after(sqlite_web: Web) -> None:
    web = sqlite_web
    case = _pending(web)
    judge = web.client("co.judge", lang="es")
    url = f"/web/cases/{case.id}/actions/approve"
    unticked = web.post(judge, url, [], page=url)  # the box not sent: approve only
    assert unticked.url.path == f"/web/cases/{case.id}"
    assert web.world.refresh(case).state == State.APPROVED
    assert flashes(unescape(unticked.text)) == [
        "La solicitud fue aprobada. Todavía no se ha transmitido. Nuevo estado: Aprobada."]
    # The approved request waits here: the case page offers to transmit it.
    again = judge.get(f"/web/cases/{case.id}")
    assert "Transmitir" in unescape(again.text)


def test_approve_and_transmit_confirms_both_effects_and_the_delivery(sqlite_web: Web) -> None:
    web = sqlite_web
    case = _pending(web)
    judge = web.client("co.judge", lang="es")
    url = f"/web/cases/{case.id}/actions/approve"
    done = web.post(judge, url, [("transmit", "1")])
    assert done.url.path == f"/web/cases/{case.id}"
    [said] = flashes(unescape(done.text))
    assert said.startswith(f"La solicitud fue aprobada y transmitida a {ES_MJ.format(country='España')}. "
                           "Está en cola de entrega")
    assert said.endswith("Nuevo estado: Transmitida.")
    web.reaches(case, State.DELIVERED)  # delivered right after the action, by the dispatcher thread it woke
    assert _documents(web, case) == 1  # the transmitted request's PDF, kept once


def test_the_page_of_an_action_that_sends_a_document_names_it_and_its_recipient(sqlite_web: Web) -> None:
    web = sqlite_web
    _, requested = web.world.transmitted("CO-FGN", "ES-MJ")
    clerk = web.client("es.clerk", lang="en")
    page = clerk.get(f"/web/cases/{requested.id}/actions/acknowledge")
    shown = _shown(page.text)
    assert shown[0].startswith("The document “Acknowledgement of receipt” will be sent to CO-FGN (Fiscalía")
    assert shown[-1] == "State after the action: Acknowledged."
    assert "case.review" not in _reads(web, requested)  # this page shows no content of the request


def test_previews_and_downloads_never_add_a_file_and_each_read_is_logged(sqlite_web: Web) -> None:
    web = sqlite_web
    case = web.world.new_request("CO-FGN", "ES-MJ")
    clerk = web.client("co.clerk", lang="es")
    urls = [f"/web/cases/{case.id}/pdf/{lang}" for lang in ("es", "fr", "pt_BR")]
    urls += [url + "?download=1" for url in urls] + urls
    for url in urls:
        response = clerk.get(url)
        assert response.status_code == 200 and response.content.startswith(b"%PDF")
    token, _ = tokens.issue(web.db, "co.clerk")
    api = TestClient(web.app, headers={"Authorization": f"Bearer {token}"})
    for lang in ("es", "en"):  # the API's PDF is the same preview
        assert api.get(f"/cases/{case.id}/document?lang={lang}").content.startswith(b"%PDF")
    assert _documents(web, case) == 0 and documents.list_documents(web.db, case.id or 0) == []
    assert _reads(web, case).count("document") == len(urls)
    assert _reads(web, case).count("request document") == 2
    assert 'id="h-files"' not in clerk.get(f"/web/cases/{case.id}").text  # nothing listed under "Files"
    # A transmission keeps the document it sent, once; previews of the sent case still add nothing.
    web.world.act(case, "submit", "CO-FGN", "clerk")
    web.world.act(case, "approve", "CO-FGN", "judge")
    web.world.act(case, "transmit", "CO-FGN", "clerk")
    for url in urls[:3]:
        assert clerk.get(url).status_code == 200
    assert _documents(web, case) == 1
    page = clerk.get(f"/web/cases/{case.id}").text
    files = re.search(r'<section class="card" aria-labelledby="h-files">.*?</section>', page, re.S)
    assert files and len(re.findall(r"\.pdf</a>", files.group(0))) == 1


def test_technical_details_are_behind_a_disclosure(sqlite_web: Web) -> None:
    web = sqlite_web
    _, requested = web.world.transmitted("CO-FGN", "ES-MJ")
    web.world.act(requested, "acknowledge", "ES-MJ", "clerk")
    html = unescape(web.client("es.clerk", lang="fr").get(f"/web/cases/{requested.id}").text)
    main = re.sub(r"<details class=\"technical\">.*?</details>", "", html, flags=re.S)
    for technical in ("system:", "SHA-256", "e-CODEX", "ETSI", "<dt>Version</dt>"):
        assert technical not in main, technical
        assert technical in html, technical  # still there, one click away
    assert "CO-FGN (automatique)" in main  # who received it, in words
    assert "Détails techniques" in html


def test_an_approval_whose_transmission_is_refused_stands_and_says_why(sqlite_web: Web,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.actions import apply_action
    from engine.web.routes import actions

    def stale_transmit(ctx: object, approved: object) -> object:  # the engine refuses it: someone acted meanwhile
        return apply_action(web.db, case=case.id or 0, action="transmit", actor=web.world.actor("CO-FGN", "judge"),
                            payload={}, expected_version=0)

    web = sqlite_web
    case = _pending(web)
    monkeypatch.setattr(actions, "_transmit", stale_transmit)
    judge = web.client("co.judge", lang="en")
    url = f"/web/cases/{case.id}/actions/approve"
    done = web.post(judge, url, [("transmit", "1")])
    assert done.url.path == f"/web/cases/{case.id}"
    assert web.world.refresh(case).state == State.APPROVED
    said = flashes(unescape(done.text))
    assert said[0] == "The request was approved. It has not been transmitted yet. New state: Approved."
    assert said[1].startswith("The request was not transmitted. ")
    assert '<div class="flash error" role="alert">The request was not transmitted.' in unescape(done.text)


def test_without_a_dispatcher_the_confirmation_says_the_next_run_delivers(sqlite_web: Web) -> None:
    """A node that leaves delivery to a later run (no dispatcher of its own, ``dispatch_after_send`` off) does not
    claim the request is delivered right away, and nothing is delivered by the page."""
    import dataclasses

    web = sqlite_web
    web.app.state.exhorto_web = dataclasses.replace(web.app.state.exhorto_web, dispatch_after_send=False)
    case = _pending(web)
    judge = web.client("co.judge", lang="en")
    done = web.post(judge, f"/web/cases/{case.id}/actions/approve", [("transmit", "1")])
    [said] = flashes(unescape(done.text))
    assert "the next delivery run sends it" in said and "delivered right away" not in said
    assert web.world.refresh(case).state == State.TRANSMITTED
