"""System-of-record fields: the authorities of a request and its references come from the case and the
directory; a payload that contradicts them is refused with the field, on every entry point; the web editor shows
them without letting anyone type them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from engine import tokens
from engine.api.app import create_app
from engine.cases import create_case, get_case, update_draft
from engine.cli import app as cli_app
from engine.errors import FormInvalid
from engine.store.db import Database
from engine.store.migrate import ensure_schema
from engine.system_fields import SYSTEM_FIELDS
from tests.helpers import World, example, make_world

CONTRADICTIONS: list[tuple[str, dict[str, Any]]] = [
    ("/requesting_authority/code", {"requesting_authority": {"code": "CO-FGN"}}),
    ("/requesting_authority/country", {"requesting_authority": {"country": "CO"}}),
    ("/requesting_authority/name", {"requesting_authority": {"name": "Fiscalía General de la Nación"}}),
    ("/requested_authority/code", {"requested_authority": {"code": "FR-MJ"}}),
    ("/requested_authority/name", {"requested_authority": {"name": "Someone else"}}),
    ("/references/requesting", {"references": {"requesting": "CO-FGN/2026/004512"}}),
    ("/references/requested", {"references": {"requested": "ES-MJ/2026/000123"}}),
]


def _merged(extra: dict[str, Any]) -> dict[str, Any]:
    payload = example("request", "co-es-bank-records")
    for block, values in extra.items():
        payload[block] = {**payload.get(block, {}), **values}
    return payload


@pytest.fixture
def world(sqlite_db: Database) -> World:
    return make_world(sqlite_db)


def test_the_engine_fills_the_system_fields_from_the_case_and_directory(world: World) -> None:
    case = create_case(world.db, actor=world.actor("PT-PGR", "clerk"), counterpart="ES-MJ",
                       payload={"language": "pt"})
    payload = case.payload
    assert payload["requesting_authority"]["code"] == "PT-PGR"
    assert payload["requesting_authority"]["country"] == "PT"
    assert payload["requesting_authority"]["name"].startswith("Procuradoria-Geral da República")
    assert payload["requested_authority"]["code"] == "ES-MJ"
    assert payload["references"] == {"requesting": case.reference}
    assert set(SYSTEM_FIELDS) >= {"/requesting_authority/code", "/references/requesting"}


@pytest.mark.parametrize(("pointer", "extra"), CONTRADICTIONS)
def test_a_payload_contradicting_the_system_is_refused_with_the_field(world: World, pointer: str,
                                                                      extra: dict[str, Any]) -> None:
    actor = world.actor("PT-PGR", "clerk")
    before = world.counts()
    with pytest.raises(FormInvalid) as refused:
        create_case(world.db, actor=actor, counterpart="ES-MJ", payload=_merged(extra))
    assert [e.pointer for e in refused.value.errors] == [pointer]
    assert world.counts() == before
    draft = create_case(world.db, actor=actor, counterpart="ES-MJ", payload={"language": "pt"})
    with pytest.raises(FormInvalid) as refused:
        update_draft(world.db, case=draft.reference, actor=actor, payload=_merged(extra))
    assert [e.pointer for e in refused.value.errors] == [pointer]
    assert get_case(world.db, draft.reference).version == draft.version


def test_cli_and_api_refuse_a_foreign_requesting_authority(world: World, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    forged = _merged({"requesting_authority": {"code": "CO-FGN", "country": "CO"}})
    token, _ = tokens.issue(world.db, "pt.clerk")
    before = world.counts()
    with TestClient(create_app(world.db)) as client:
        response = client.post("/cases", json={"counterpart": "ES-MJ", "payload": forged},
                               headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    assert {e["pointer"] for e in response.json()["errors"]} == {"/requesting_authority/code",
                                                                 "/requesting_authority/country"}
    assert world.counts() == before


def test_cli_refuses_a_foreign_requesting_authority(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    ensure_schema(db)
    world = make_world(db)
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(_merged({"requesting_authority": {"code": "CO-FGN"}})), encoding="utf-8")
    monkeypatch.setenv("EXHORTO_DATABASE_URL", db.url)
    result = CliRunner().invoke(cli_app, ["case", "create", "--to", "ES-MJ", "--payload", str(path),
                                          "--user", "pt.clerk"], catch_exceptions=False)
    assert result.exit_code == 2 and "/requesting_authority/code" in result.output, result.output
    assert "Traceback" not in result.output
    assert world.counts()[2] == 0


def test_the_web_editor_shows_the_system_fields_read_only(sqlite_db: Database) -> None:
    from tests.web.conftest import Web

    web = Web(world=make_world(sqlite_db), app=create_app(sqlite_db))
    case = create_case(sqlite_db, actor=web.world.actor("CO-FGN", "clerk"), counterpart="ES-MJ",
                       payload={"language": "es"})
    client = web.client("co.clerk")
    page = client.get(f"/web/cases/{case.id}/edit").text
    for pointer in SYSTEM_FIELDS:
        if pointer == "/references/requested":
            continue  # not known for a new draft: shown empty, disabled all the same
        tag = page[page.index(f'name="{pointer}"'):]
        tag = tag[:tag.index(">")]
        assert "disabled" in tag, (pointer, tag)
    assert 'name="/facts/summary"' not in page or "disabled" not in (
        page[page.index('name="/facts/summary"'):].split(">")[0])
