"""The sectioned request editor in a real browser (Debian's headless Chromium through Playwright, as in
test_web_browser.py): sections opened from the keyboard, the ICCS picker, the marks after a save, axe-core with no
serious or critical violation (sections closed, all open, and after a failed submission) and nothing wider than a
360 px screen. ``EXHORTO_SCREENSHOTS=docs/screenshots`` keeps the editor's screenshot for docs/web.md."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.browser import wait_for_focus
from tests.web.test_web_browser import Live, _page, live
from tests.web.test_web_pages_a11y import WIDER_THAN_SCREEN

pytestmark = pytest.mark.xdist_group("browser")
__all__ = ["live"]  # the live server fixture of the browser tests (browser: tests/web/conftest.py)


def _new_draft(page: Any, live: Live, counterpart: str) -> str:
    page.goto(f"{live.url}/web/requests/new")
    page.select_option("#counterpart", counterpart)
    page.click("form[action='/web/requests/new'] button[type=submit]")
    page.wait_for_url(re.compile(r"/web/cases/\d+/edit$"))
    return str(page.url)


def _open_all(page: Any) -> None:
    sections = page.locator("form.editor details.section")
    for index in range(sections.count()):
        if not sections.nth(index).evaluate("d => d.open"):
            sections.nth(index).locator("> summary").click()


def _serious(axe: Any, page: Any, where: str) -> None:
    results = axe.run(page)
    serious = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not serious, f"{where}: " + results.generate_report()


def test_sections_open_from_the_keyboard_and_the_iccs_picker_posts_the_code(browser: Any, live: Live) -> None:
    page = _page(browser, live, "co.clerk", "es")
    url = _new_draft(page, live, "ES-MJ")
    sections = page.locator("form.editor details.section")
    assert sections.count() == 11  # the front and UNTOC Art. 18(15)'s items 1-10
    assert page.locator("form.editor details[open]").count() == 0
    closed_height = page.evaluate("document.documentElement.scrollHeight")
    assert closed_height < 3000, closed_height  # was one 7,272 px page
    facts = page.locator("#s-3")
    facts.locator("summary").focus()
    page.keyboard.press("Enter")  # <details> is a native disclosure: no script needed
    assert facts.evaluate("d => d.open")
    assert page.is_visible('[name="/offences/0/iccs_code"]')
    assert page.get_attribute('[name="/offences/0/iccs_code"]', "list") == "iccs-entries"
    page.fill('[name="/offences/0/iccs_code"]', "0701 — Fraude")
    page.click("form.editor .actions button[name=intent][value=save]")
    page.wait_for_url(url)
    # saved as the code; shown again with its title; the section's mark still says what it lacks
    page.locator("#s-3 > summary").click()
    assert page.input_value('[name="/offences/0/iccs_code"]') == "0701 — Fraude"
    assert "Faltan" in page.inner_text("#s-3 > summary")
    page.context.close()


@pytest.mark.parametrize("lang", ["es", "fr"])
def test_the_sectioned_editor_passes_axe_and_fits_a_small_screen(browser: Any, live: Live, lang: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    page = _page(browser, live, "es.clerk", lang)
    url = _new_draft(page, live, "FR-MJ")  # an EIO: Annex A's sections A-L
    assert page.inner_text("#s-A > summary").startswith("A. ")
    for width in (1280, 360):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url)
        _serious(axe, page, f"sections closed ({lang}, {width} px)")
        _open_all(page)
        _serious(axe, page, f"sections open ({lang}, {width} px)")
        if width == 360:
            wide = page.evaluate(WIDER_THAN_SCREEN)
            assert page.evaluate("document.documentElement.scrollWidth") <= 360, f"editor overflows: {wide}"
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(url)
    page.locator("#s-front > summary").click()
    page.fill('[name="/legal_basis/article"]', "Art. 1")
    page.locator("#s-K > summary").click()
    page.fill('[name="/contact_person/email"]', "not an e-mail")
    page.click("form.editor .actions button[name=intent][value=submit]")
    page.wait_for_selector("#error-summary")
    # app.js moves the focus once the page has loaded: on a busy machine, a moment after the summary shows
    wait_for_focus(page, "#error-summary")
    assert page.locator("#s-K").evaluate("d => d.open")  # the section with the error is open
    _serious(axe, page, f"after a failed submission ({lang})")
    if lang == "es":  # for docs/web.md: the sections with their marks, one open with its pickers
        page.goto(url)
        page.locator("#s-E > summary").click()
        page.locator("form.editor").evaluate("f => f.scrollIntoView()")
        page.screenshot(path=str(live.shots / "editor-sections.png"), full_page=False)
    page.context.close()
