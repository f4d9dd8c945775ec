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
from engine.actions import apply_action
from engine.api.app import create_app
from engine.cases import create_case, get_case, update_draft
from engine.cli import app as cli_app
from engine.errors import FormInvalid
from engine.store.db import Database
from engine.store.migrate import ensure_schema
from engine.system_fields import SYSTEM_FIELDS
from tests.helpers import World, action_payload, example, make_world

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
    assert set(SYSTEM_FIELDS["request"]) >= {"/requesting_authority/code", "/references/requesting"}


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
    for pointer in SYSTEM_FIELDS["request"]:
        # shown as a value, never as an input (nothing of it is posted): in a read-only block with its own id, or
        # with the authority block it belongs to
        assert f'name="{pointer}"' not in page, pointer
        own, block = (f'<div class="fixed" id="f{p.replace("/", "-")}"' for p in (pointer, pointer.rpartition("/")[0]))
        assert own in page or block in page, pointer
        if pointer == "/references/requested":
            shown = page[page.index(own):]
            assert "<dd>—</dd>" in shown[:shown.index("</div>")]  # not known for a new draft
    assert "CO-FGN" in page and "ES-MJ" in page
    assert 'name="/facts/summary"' in page and "disabled" not in (
        page[page.index('name="/facts/summary"'):].split(">")[0])


# Action forms: the references (every form) and the acknowledgement's receiving authority are the system's too.
ACTION_CONTRADICTIONS: list[tuple[str, dict[str, Any]]] = [
    ("/references/requesting", {"references": {"requesting": "CO-FGN/1999/000001"}}),
    ("/references/requested", {"references": {"requested": "ES-MJ/1999/000001"}}),
    ("/receiving_authority/code", {"receiving_authority": {"code": "FR-MJ"}}),
    ("/receiving_authority/country", {"receiving_authority": {"country": "FR"}}),
    ("/receiving_authority/name", {"receiving_authority": {"name": "Ministère de la Justice"}}),
]


def test_every_action_form_has_its_references_from_the_system() -> None:
    from engine import forms
    from engine.lifecycle import TRANSITIONS

    action_forms = {row.form for row in TRANSITIONS if row.form} | {"request"}
    for form in action_forms:
        declared = forms.load_schema(form).get("properties", {})
        assert "references" not in declared or {"/references/requesting", "/references/requested"} <= set(
            SYSTEM_FIELDS[form]), form
    assert {"/receiving_authority/code", "/receiving_authority/name"} <= set(SYSTEM_FIELDS["acknowledgement"])


def test_the_engine_fills_the_acknowledgements_references_and_receiving_authority(world: World) -> None:
    requesting, received = world.transmitted("CO-FGN", "ES-MJ")
    outcome = apply_action(world.db, case=received.reference, action="acknowledge",
                           actor=world.actor("ES-MJ", "clerk"), payload=action_payload("acknowledge"))
    assert outcome.message is not None
    sent = outcome.message.payload
    assert sent["references"] == {"requesting": requesting.reference, "requested": received.reference}
    assert sent["receiving_authority"]["code"] == "ES-MJ"
    assert sent["receiving_authority"]["country"] == "ES"
    assert sent["receiving_authority"]["unit"]  # what the system does not know stays the user's
    assert sent["executing_authority"]["code"] == "ES-FGE"


@pytest.mark.parametrize(("pointer", "extra"), ACTION_CONTRADICTIONS)
def test_an_acknowledgement_contradicting_the_system_is_refused_with_the_field(world: World, pointer: str,
                                                                               extra: dict[str, Any]) -> None:
    _, received = world.transmitted("CO-FGN", "ES-MJ")
    payload = action_payload("acknowledge")
    for block, values in extra.items():
        payload[block] = {**payload.get(block, {}), **values}
    before = world.counts()
    with pytest.raises(FormInvalid) as refused:
        apply_action(world.db, case=received.reference, action="acknowledge",
                     actor=world.actor("ES-MJ", "clerk"), payload=payload)
    assert [e.pointer for e in refused.value.errors] == [pointer]
    assert world.counts() == before
    assert world.refresh(received).state == received.state


def test_a_withdrawal_naming_another_reference_is_refused_over_the_api(world: World) -> None:
    requesting, _ = world.transmitted("CO-FGN", "ES-MJ")
    forged = {**action_payload("withdraw"), "references": {"requesting": "CO-FGN/1999/000001"}}
    token, _ = tokens.issue(world.db, "co.judge")
    before = world.counts()
    with TestClient(create_app(world.db)) as client:
        response = client.post(f"/cases/{requesting.id}/actions", json={"action": "withdraw", "payload": forged,
                                                                        "version": requesting.version},
                               headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422, response.text
    assert [e["pointer"] for e in response.json()["errors"]] == ["/references/requesting"]
    assert world.counts() == before
