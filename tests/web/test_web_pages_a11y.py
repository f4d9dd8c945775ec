"""Every page of a day's casework, in each language, in a real browser (Debian's Chromium, Playwright, uvicorn on
loopback): axe-core finds no serious or critical violation, and at 360 px nothing is wider than the screen (tables
scroll within their own box). The world is built once: a draft, a request awaiting approval, one answered both
ways, requests received (to acknowledge, to report on), a delivery failing, and an observatory with a return.

``EXHORTO_SCREENSHOTS=docs/screenshots`` also keeps an image of each page (``web-<page>.png`` at 1280 px, in
English; ``web-<page>-360.png`` for a few at 360 px): ``make screenshots`` does that."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.store.db import Database
from tests.helpers import World, make_world
from tests.web.browser import CHROMIUM, served
from tests.web.conftest import PASSWORD

pytest.importorskip("playwright.sync_api", reason="the playwright package drives the browser")
pytest.importorskip("axe_playwright_python", reason="axe-playwright-python bundles axe-core")
if not shutil.which(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM}", allow_module_level=True)

pytestmark = pytest.mark.xdist_group("browser")
USERS = ("co.clerk", "co.judge", "co.supervisor", "es.clerk", "es.judge", "obs.analyst")
LANGUAGES = ("es", "pt-PT", "pt-BR", "en", "fr")
NARROW = 360
SHOT_NARROW = frozenset({"inbox", "editor", "case-requesting"})
# The innermost elements that reach past the right edge of the screen (to name what overflows).
WIDER_THAN_SCREEN = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > innerWidth + 1
               && ![...e.children].some(c => c.getBoundingClientRect().right > innerWidth + 1))
  .slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


@dataclass(frozen=True)
class Page:
    name: str
    user: str | None
    path: str


@dataclass
class Site:
    url: str
    pages: list[Page]
    shots: Path | None


class _Unreachable:
    def deliver(self, envelope: Any) -> Any:
        from engine.transport.base import TransportError

        raise TransportError("ES-MJ unreachable: connection refused")


def _observatory(world: World) -> None:
    """PT-OBS, to which both authorities report, with this quarter's return of each received."""
    from engine import directory, observatory, outbox, stats
    from engine.guards import Actor
    from engine.lifecycle import Role
    from engine.store.models import utcnow

    db = world.db
    directory.add_authority(db, code="PT-OBS", country="PT", name="Observatório conjunto", languages=["pt"],
                            timezone="Europe/Lisbon", contact_email="observatorio@example.pt")
    observatory.register(db, "PT-OBS", granularity="quarter", threshold=2)
    directory.add_user(db, username="obs.analyst", authority="PT-OBS", role="auditor", preferred_language="pt")
    now = utcnow()
    quarter = observatory.parse_period(f"{now.year}-Q{(now.month - 1) // 3 + 1}")  # this quarter's cases…
    after = now + timedelta(days=100)  # …reported once it is over
    for code in ("CO-FGN", "ES-MJ"):
        observatory.add_member(db, "PT-OBS", code)
        supervisor = Actor(username=f"{code[:2].lower()}.supervisor", authority_code=code, role=Role("supervisor"),
                           language="en")
        stats.set_min_group(db, supervisor, 2)
        observatory.queue_return(db, supervisor, quarter, now=after)
    outbox.dispatch_all(db, now=after)


def _world(db: Database) -> list[Page]:
    """The cases behind the pages, and the pages: (name, who looks, path)."""
    from engine.outbox import dispatch, dispatch_all
    from engine.store.models import utcnow

    world = make_world(db)
    draft = world.new_request("CO-FGN", "ES-MJ")
    pending = world.new_request("CO-FGN", "ES-MJ", slug="co-es-bank-records")
    world.act(pending, "submit", "CO-FGN", "clerk")
    answered, requested = world.transmitted("CO-FGN", "ES-MJ")
    for action, role in (("acknowledge", "clerk"), ("start_execution", "judge"), ("report_execution", "clerk")):
        world.act(requested, action, "ES-MJ", role)
    _, to_acknowledge = world.transmitted("CO-FGN", "ES-MJ")
    _, in_execution = world.transmitted("CO-FGN", "ES-MJ")
    world.act(in_execution, "acknowledge", "ES-MJ", "clerk")
    world.act(in_execution, "start_execution", "ES-MJ", "judge")
    dispatch_all(db)
    stuck = world.new_request("CO-FGN", "ES-MJ")
    for action, role in (("submit", "clerk"), ("approve", "judge"), ("transmit", "clerk")):
        world.act(stuck, action, "CO-FGN", role)
    dispatch(db, _Unreachable(), now=utcnow())
    _observatory(world)
    return [
        Page("login", None, "/web/login"),
        Page("inbox", "co.judge", "/web/"),
        Page("inbox-requested", "es.clerk", "/web/"),
        Page("tracking", "co.clerk", "/web/tracking"),
        Page("new-request", "co.clerk", "/web/requests/new"),
        Page("editor", "co.clerk", f"/web/cases/{draft.id}/edit"),
        Page("case-requesting", "co.clerk", f"/web/cases/{answered.id}"),
        Page("case-requested", "es.clerk", f"/web/cases/{requested.id}"),
        Page("case-failing", "co.clerk", f"/web/cases/{stuck.id}"),
        Page("action-approve", "co.judge", f"/web/cases/{pending.id}/actions/approve"),
        Page("action-send-back", "co.judge", f"/web/cases/{pending.id}/actions/send_back"),
        Page("action-acknowledge", "es.clerk", f"/web/cases/{to_acknowledge.id}/actions/acknowledge"),
        Page("action-refuse", "es.judge", f"/web/cases/{to_acknowledge.id}/actions/refuse"),
        Page("action-report", "es.clerk", f"/web/cases/{in_execution.id}/actions/report_execution"),
        Page("operations", "co.supervisor", "/web/operations"),
        Page("observatory", "obs.analyst", "/web/observatory"),
    ]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("web-pages")
    db = Database(f"sqlite:///{folder / 'exhorto.db'}")
    db.create_all()
    pages = _world(db)
    shots = os.environ.get("EXHORTO_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
    with served(db, USERS, PASSWORD) as url:
        yield Site(url=url, pages=pages, shots=Path(shots) if shots else None)


def _logged_in(browser: Any, site: Site, username: str | None, lang: str) -> Any:
    context = browser.new_context(locale=lang, viewport={"width": 1280, "height": 900},
                                  extra_http_headers={"Accept-Language": lang})
    page = context.new_page()
    page.set_default_timeout(20_000)
    if username:
        page.goto(f"{site.url}/web/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("form[action='/web/login'] button[type=submit]")
        page.wait_for_url(f"{site.url}/web/")
    return page


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_passes_axe_and_fits_360_px(browser: Any, site: Site, lang: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    problems: list[str] = []
    screens: dict[str | None, Any] = {}
    for spec in site.pages:
        if spec.user not in screens:
            screens[spec.user] = _logged_in(browser, site, spec.user, lang)
        # A page of its own for each URL: a case page still preparing its document reloads itself (app.js), and a
        # reload firing during the next navigation of the same tab would abort it.
        page = screens[spec.user].context.new_page()
        page.set_viewport_size({"width": 1280, "height": 900})
        response = page.goto(f"{site.url}{spec.path}")
        assert response is not None and response.status == 200, f"{spec.name}: HTTP {response and response.status}"
        # The page holds still while it is checked, as it does for a reader who has started typing: axe can take
        # longer than the 3 s after which a page still preparing its document reloads itself.
        page.evaluate("document.dispatchEvent(new Event('input'))")
        if site.shots and lang == "en":
            page.screenshot(path=str(site.shots / f"web-{spec.name}.png"))
        page.set_viewport_size({"width": NARROW, "height": 800})
        results = axe.run(page)
        serious = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
        if serious:
            problems.append(f"{spec.name} ({lang}, {NARROW} px): {results.generate_report()}")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > NARROW:
            wide = page.evaluate(WIDER_THAN_SCREEN)
            problems.append(f"{spec.name} ({lang}) is {width} px wide at {NARROW} px: {wide}")
        if site.shots and lang == "en" and spec.name in SHOT_NARROW:
            page.screenshot(path=str(site.shots / f"web-{spec.name}-{NARROW}.png"))
        page.close()
    for page in screens.values():
        page.context.close()
    assert not problems, "\n".join(problems)
