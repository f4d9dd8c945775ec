"""Debian's Chromium for the browser tests, driven by Playwright (the package only: no browser download)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM = os.environ.get("EXHORTO_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@contextmanager
def served(db: Any, users: tuple[str, ...], password: str) -> Iterator[str]:
    """``db``'s node (the real app, UI at /web) on a free loopback port, ``users`` able to log in with
    ``password``: yields its base URL."""
    from engine.api import create_app
    from engine.web.passwords import set_password
    from tests.federation.nodes import Server, free_port

    for username in users:
        set_password(db, username, password)
    server = Server(create_app(db), free_port())
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()
        db.dispose()


def wait_for_focus(page: Any, selector: str, timeout_ms: float = 10_000) -> None:
    """Wait until ``selector`` holds the focus (app.js moves it once the page has loaded: on a busy machine, a
    moment after the page shows). Playwright's own assertion: a predicate string given to ``wait_for_function``
    is evaluated with ``eval`` once it has to poll, which the pages' Content-Security-Policy refuses."""
    from playwright.sync_api import expect

    expect(page.locator(selector)).to_be_focused(timeout=timeout_ms)
