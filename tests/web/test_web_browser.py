"""The UI in a real browser: Debian's headless Chromium driven by Playwright, uvicorn on a loopback port.

One request goes the whole way through the pages: the CO-FGN clerk drafts it (and first meets the server-side
errors), submits it; the CO-FGN judge approves and transmits it; the ES-MJ clerk acknowledges it; the ES-MJ
judge decides to execute; the ES-MJ clerk reports execution with an uploaded file; the CO-FGN clerk sees it
executed with the evidence. One test per language checks the labels. ``EXHORTO_SCREENSHOTS=docs/screenshots``
keeps the screenshots of the main pages there (for the README); otherwise they go to a temporary folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from engine.store.db import Database
from tests.helpers import make_world
from tests.web.browser import CHROMIUM, served, wait_for_focus
from tests.web.conftest import PASSWORD

pytest.importorskip("playwright.sync_api", reason="the playwright package drives the browser")
if not shutil.which(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM}", allow_module_level=True)

pytestmark = pytest.mark.xdist_group("browser")
USERS = ("co.clerk", "co.judge", "es.clerk", "es.judge")
EVIDENCE = b"%PDF-1.4\n% certified bank statements (test file)\n%%EOF\n"


@dataclass
class Live:
    url: str
    db: Database
    shots: Path


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("web-browser")
    db = Database(f"sqlite:///{folder / 'exhorto.db'}")
    db.create_all()
    make_world(db)
    shots = Path(os.environ.get("EXHORTO_SCREENSHOTS") or folder / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with served(db, USERS, PASSWORD) as url:
        yield Live(url=url, db=db, shots=shots)


def _page(browser: Any, live: Live, username: str | None, lang: str = "en") -> Any:
    context = browser.new_context(
        locale=lang, viewport={"width": 1280, "height": 900}, extra_http_headers={"Accept-Language": lang}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live.url}/web/login")
    if username:
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("form[action='/web/login'] button[type=submit]")
        page.wait_for_url(f"{live.url}/web/")
    return page


def _shot(page: Any, live: Live, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(live.shots / f"{name}.png"), full_page=False)


def _state(page: Any) -> str:
    return page.get_attribute("h1 .state", "class").split("state-")[-1]


def _reload(page: Any) -> None:
    """Reload ``page``. While a message is on its way the case page reloads itself (app.js); when that happens at
    the same moment, ours is aborted and the page's own reload is the one to wait for."""
    from playwright.sync_api import Error

    try:
        page.reload()
    except Error as error:
        if "ERR_ABORTED" not in str(error):
            raise
        page.wait_for_load_state()


def _wait_for_state(page: Any, state: str, seconds: float = 20) -> None:
    """Messages travel once the page that sent them has answered (background dispatch): reload until then."""
    deadline = time.monotonic() + seconds
    while _state(page) != state:
        assert time.monotonic() < deadline, f"state stayed {_state(page)}, expected {state}"
        time.sleep(0.3)
        _reload(page)


def _fill(page: Any, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = page.locator(f'[name="{name}"]')
        section = page.locator(f'details:has([name="{name}"])')  # the editor's sections start closed
        if section.count() and not section.evaluate("d => d.open"):
            section.locator("summary").click()
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def _act(page: Any, action: str) -> None:
    page.click(f"a[href$='/actions/{action}']")
    page.wait_for_url(re.compile(f"/actions/{action}$"))


def _submit_action(page: Any) -> None:
    page.click("form.editor .actions button[name=intent][value=apply]")
    page.wait_for_url(re.compile(r"/web/cases/\d+$"))


def test_request_from_draft_to_execution_in_the_browser(browser: Any, live: Live) -> None:
    # --- CO-FGN clerk: a new draft, first submitted incomplete, then complete -------------------------------
    clerk = _page(browser, live, "co.clerk", "es")
    clerk.click("a[href='/web/requests/new']")
    clerk.select_option("#counterpart", "ES-MJ")
    clerk.click("form[action='/web/requests/new'] button[type=submit]")
    clerk.wait_for_url(re.compile(r"/web/cases/\d+/edit$"))
    case_url = clerk.url.removesuffix("/edit")
    assert "CO-FGN" in (clerk.text_content("#f-requesting_authority") or "")  # from the directory, read-only
    _fill(
        clerk,
        {
            "/legal_basis/kind": "treaty",
            "/legal_basis/instrument": "BILATERAL",
            "/legal_basis/article": "Art. 5",
            "/urgency/level": "normal",
            "/confidentiality/level": "confidential",
            "/procedural_stage": "investigation",
            "/persons/0/role": "suspect",
            "/persons/0/surname": "Restrepo Gómez",
            "/persons/0/given_names": "Julián",
            "/offences/0/national_description": "Lavado de activos",
            "/offences/0/legal_provision": "Art. 323 CP",
            "/offences/0/iccs_code": "0703",
            "/measures/0/type": "bank_records",
            "/measures/0/description": "Extractos de la cuenta 0049-1234.",
            "/contact_person/email": "not an e-mail",
        },
    )
    clerk.click("button[name=intent][value=submit]")
    # a malformed value: the draft is not even saved, the error is next to the field
    assert clerk.locator("#error-summary").is_visible()
    # focus moved to the error list (by app.js once the page has loaded: on a busy machine, a moment after it shows)
    wait_for_focus(clerk, "#error-summary")
    assert clerk.get_attribute('[name="/contact_person/email"]', "aria-invalid") == "true"
    assert "Correo electrónico" in clerk.inner_text("#f-contact_person-email-err")
    _fill(clerk, {"/contact_person/email": "dai@fiscalia.example.co"})
    clerk.click("button[name=intent][value=submit]")
    # well-formed but incomplete: saved as a draft, not submitted; what is missing is listed
    assert "Hechos" in clerk.inner_text("#f-facts-err")
    _shot(clerk, live, "editor-errors")
    _fill(
        clerk,
        {
            "/facts/summary": "Transferencias fraccionadas a cuentas en España entre 2024 y 2025.",
            "/facts/link_to_measures": "Los extractos permiten seguir el destino de los fondos.",
            # request v2: a treaty request carries the items of UNTOC Art. 18(15)(b) and (f)
            "/proceedings/subject_matter": "Investigación penal por lavado de activos.",
            "/proceedings/conducting_authority": "Fiscalía General de la Nación, Dirección contra el Lavado de Activos",
            "/purpose": "Seguir el destino de los fondos para su comiso.",
        },
    )
    clerk.click("button[name=intent][value=submit]")
    clerk.wait_for_url(case_url)
    assert _state(clerk) == "pending_approval"
    reference = clerk.inner_text("h1").split()[0]

    # --- CO-FGN judge: approves and transmits ---------------------------------------------------------------
    judge = _page(browser, live, "co.judge", "en")
    assert reference in judge.inner_text("#s-approvals ~ table caption, section[aria-labelledby=s-approvals]")
    judge.click(f"section[aria-labelledby=s-approvals] a:text('{reference}')")
    _act(judge, "approve")
    assert judge.is_checked("#transmit")
    _submit_action(judge)
    _wait_for_state(judge, "delivered")
    _shot(judge, live, "case")

    # --- ES-MJ clerk: the request arrived; acknowledge receipt ----------------------------------------------
    es_clerk = _page(browser, live, "es.clerk", "es")
    _shot(es_clerk, live, "inbox")
    incoming = es_clerk.locator("section[aria-labelledby=s-incoming] tbody a").first
    incoming.click()
    assert _state(es_clerk) == "delivered"
    _act(es_clerk, "acknowledge")
    assert es_clerk.input_value('[name="/received_at"]')  # prefilled with the delivery time
    _fill(es_clerk, {"/remarks": "Se ha turnado al Juzgado Central de Instrucción."})
    _shot(es_clerk, live, "action-acknowledge")
    _submit_action(es_clerk)
    assert _state(es_clerk) == "acknowledged"
    requested_url = es_clerk.url

    # --- ES-MJ judge: decides to execute --------------------------------------------------------------------
    es_judge = _page(browser, live, "es.judge", "es")
    es_judge.goto(requested_url)
    _act(es_judge, "start_execution")
    _submit_action(es_judge)
    assert _state(es_judge) == "in_execution"

    # --- ES-MJ clerk: reports execution with the evidence uploaded ------------------------------------------
    _reload(es_clerk)
    _act(es_clerk, "report_execution")
    assert es_clerk.input_value('[name="/report_type"]') == "final"
    assert es_clerk.input_value('[name="/measures_executed/0/type"]') == "bank_records"
    _fill(es_clerk, {"/measures_executed/0/status": "executed", "/measures_executed/0/date": "2026-11-20"})
    es_clerk.set_input_files(
        'input[name="upload:/evidence"]',
        files=[{"name": "extractos.pdf", "mimeType": "application/pdf", "buffer": EVIDENCE}],
    )
    es_clerk.fill('[name="/evidence#description"]', "Extractos bancarios certificados")
    _submit_action(es_clerk)
    assert _state(es_clerk) == "executed"

    # --- CO-FGN clerk: the case shows executed, with the evidence and the whole timeline --------------------
    clerk.goto(case_url)
    _wait_for_state(clerk, "executed")
    digest = hashlib.sha256(EVIDENCE).hexdigest()
    link = clerk.locator(f"section[aria-labelledby=h-files] a[href$='/files/{digest}']")
    assert link.inner_text() == "extractos.pdf"
    # the report is read on the page: the evidence listed with the sender's description, linked to its copy
    report = clerk.locator("section[aria-labelledby=h-messages] article.incoming").last
    assert "Extractos bancarios certificados" in report.inner_text()
    assert report.locator(f"a[href$='/files/{digest}']").inner_text() == "extractos.pdf"
    timeline = clerk.inner_text("ol.timeline")
    for event in ("Aprobar", "Transmitir", "Registrar la entrega", "Registrar la ejecución"):
        assert event in timeline, event
    with clerk.expect_download() as download:
        link.click()
    assert Path(download.value.path()).read_bytes() == EVIDENCE
    clerk.goto(f"{live.url}/web/tracking?state=executed")
    assert reference in clerk.inner_text("table.cases")
    _shot(clerk, live, "tracking")
    pdf = clerk.request.get(f"{case_url}/pdf/pt")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF-")


LABELS = {
    "es": ("Iniciar sesión", "Bandeja de entrada", "Seguimiento", "Solicitudes recibidas"),
    "pt_PT": ("Iniciar sessão", "Caixa de entrada", "Acompanhamento", "Pedidos recebidos"),
    "pt_BR": ("Entrar", "Caixa de entrada", "Acompanhamento", "Pedidos recebidos"),
    "en": ("Log in", "Inbox", "Tracking", "Incoming requests"),
    "fr": ("Se connecter", "Boîte de réception", "Suivi", "Demandes reçues"),
}


@pytest.mark.parametrize("lang", list(LABELS))
def test_labels_in_each_language(browser: Any, live: Live, lang: str) -> None:
    login_label, inbox, tracking, incoming = LABELS[lang]
    page = _page(browser, live, None, lang.replace("_", "-"))
    assert page.get_attribute("html", "lang") == lang.replace("_", "-")
    assert page.inner_text("h1") == login_label
    page.fill("#username", "es.judge")
    page.fill("#password", PASSWORD)
    page.click("form[action='/web/login'] button[type=submit]")
    page.wait_for_url(f"{live.url}/web/")
    assert page.inner_text("h1") == inbox
    assert page.inner_text("nav a[href='/web/tracking']") == tracking
    assert page.inner_text("#s-incoming").startswith(incoming)
    other = {"es": "fr", "pt_PT": "es", "pt_BR": "pt_PT", "en": "pt_BR", "fr": "en"}[lang]
    page.click(f"form.lang button[value={other}]")  # the switch wins over the browser's language
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == other.replace("_", "-")
    assert page.inner_text("h1") == LABELS[other][1]
    page.context.close()
