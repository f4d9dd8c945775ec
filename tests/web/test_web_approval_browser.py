"""The approval page in Chromium: what it says follows the "transmit right after approval" box without a reload,
axe-core finds no serious violation (wide and 360 px), and the confirmation names both effects."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import World
from tests.web.test_web_browser import Live, _page, live  # noqa: F401 - the module-scoped live server (browser: conftest)

pytestmark = pytest.mark.xdist_group("browser")


def test_the_approval_page_follows_the_box_and_passes_axe(browser: Any, live: Live) -> None:  # noqa: F811
    from axe_playwright_python.sync_playwright import Axe

    world = World(live.db)
    case = world.new_request("CO-FGN", "ES-MJ")
    world.act(case, "submit", "CO-FGN", "clerk")
    page = _page(browser, live, "co.judge", "fr")
    page.goto(f"{live.url}/web/cases/{case.id}/actions/approve")
    assert page.is_visible("#h-request") and page.is_visible(f"a[href='/web/cases/{case.id}/pdf/fr']")
    both = page.locator("li.when-transmit").first
    only = page.locator("li.when-keep").first
    assert both.is_visible() and not only.is_visible()
    assert "approuvée et transmise à ES-MJ (Ministerio de Justicia" in both.inner_text()
    assert "Espagne" in both.inner_text()
    page.uncheck("#transmit")
    assert only.is_visible() and not both.is_visible()
    assert "ne sera pas encore transmise" in only.inner_text()
    axe = Axe()
    for width in (1280, 360):
        page.set_viewport_size({"width": width, "height": 900})
        results = axe.run(page)
        serious = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
        assert not serious, f"approval page ({width} px): " + results.generate_report()
    page.check("#transmit")
    assert both.is_visible()
    page.click("form.editor button.primary[type=submit]")
    page.wait_for_url(f"{live.url}/web/cases/{case.id}")
    said = page.inner_text(".flash.success")
    assert "La demande a été approuvée et transmise à ES-MJ" in said and "Nouvel état" in said
    page.context.close()
