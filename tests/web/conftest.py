"""Web UI fixtures: the node's real app (create_app, UI mounted at /web) driven through HTTP with TestClient,
and helpers that post forms the way a browser does (CSRF token and version taken from the page)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.api import create_app
from engine.store.db import Database
from engine.web import schema_form
from engine.web.passwords import set_password
from tests.helpers import World, make_world, wait_for

# Cheap Argon2 parameters and a fixed session key: what the tests check is the behaviour, not the cost.
os.environ.setdefault("EXHORTO_PASSWORD_COST", "test")
os.environ.setdefault("EXHORTO_SECRET_KEY", "exhorto-web-tests-secret")

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def flashes(html: str) -> list[str]:
    return [m.strip() for m in re.findall(r'<div class="flash [a-z]+" role="[a-z]+">([^<]+)</div>', html)]


def form_items(form: str, payload: dict[str, Any], lang: str = "en", timezone: str = "UTC") -> list[tuple[str, str]]:
    """The fields a browser posts for ``payload`` in the editor generated from ``form``."""
    items: list[tuple[str, str]] = []

    def emit(field: schema_form.Field) -> None:
        if field.kind == "object":
            for sub in field.children:
                emit(sub)
        elif field.kind in ("array", "files"):
            items.append((f"{field.pointer}#count", str(len(field.children))))
            for sub in field.children:
                emit(sub)
        elif field.kind == "choices":
            items.extend((field.pointer, value) for value in field.value)
        else:
            items.append((field.pointer, field.value))

    for top in schema_form.build(form, payload, schema_form.Context(lang=lang, timezone=timezone)):
        emit(top)
    return items


def as_form(items: list[tuple[str, str]]) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for key, value in items:
        data.setdefault(key, []).append(value)
    return data


@dataclass
class Web:
    world: World
    app: Any
    passwords: set[str] = field(default_factory=set)

    @property
    def db(self) -> Database:
        return self.world.db

    def client(self, username: str | None = None, lang: str = "en") -> TestClient:
        client = TestClient(self.app, headers={"Accept-Language": lang})
        if username:
            self.login(client, username)
        return client

    def login(self, client: TestClient, username: str) -> None:
        if username not in self.passwords:  # setting it again would end the user's other sessions
            set_password(self.db, username, PASSWORD)
            self.passwords.add(username)
        page = client.get("/web/login")
        response = client.post(
            "/web/login",
            data={
                "csrf_token": csrf_of(page.text),
                "username": username,
                "password": PASSWORD,
                "next": "/web/",
            },
        )
        assert response.status_code == 200 and str(response.url).endswith("/web/"), response.text[:500]

    def reaches(self, record: Any, state: str, seconds: float = 30) -> None:
        """Messages travel in a dispatcher thread once the page that sent them has answered: wait until the
        counterpart's ``record`` is in ``state``."""
        wait_for(lambda: self.world.refresh(record).state == state, seconds, f"{record.reference} {state}", 0.1)

    def post(
        self,
        client: TestClient,
        url: str,
        items: list[tuple[str, str]] | None = None,
        files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
        *,
        page: str | None = None,
    ) -> Any:
        """Post a form as the page at ``page`` (default ``url``) would, with its CSRF token and version."""
        html = client.get(page or url).text
        fields = [("csrf_token", csrf_of(html))]
        version = VERSION.search(html)
        if version:
            fields.append(("version", version.group(1)))
        return client.post(url, data=as_form(fields + list(items or [])), files=files)


@pytest.fixture
def web(db: Database) -> Iterator[Web]:
    world = make_world(db)
    yield Web(world=world, app=create_app(db))


@pytest.fixture
def sqlite_web(sqlite_db: Database) -> Iterator[Web]:
    world = make_world(sqlite_db)
    yield Web(world=world, app=create_app(sqlite_db))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, for one test module (tests.web.browser)."""
    from tests.web.browser import chromium

    with chromium() as launched:
        yield launched
