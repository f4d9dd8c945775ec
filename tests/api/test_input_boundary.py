"""One input boundary: every bad-input kind × every entry point (CLI, REST API, /inbox, the engine the web UI
calls) gets a clear refusal naming the field — a one-line CLI error or a 4xx problem+json, never a traceback or a
5xx — and nothing is stored."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlmodel import func, select
from typer.testing import CliRunner

from engine.cases import create_case, update_draft
from engine.cli import app
from engine.directory import actor_for
from engine.errors import ExhortoError
from engine.forms import InvalidDocument
from engine.seed import seed_demo
from engine.store.db import Database
from engine.store.migrate import ensure_schema
from engine.store.models import AuditEvent, Case, Message
from tests.federation.nodes import Node
from tests.helpers import example

runner = CliRunner()

DEEP = 10_000
# name → (raw body of a payload, pointer the error names, HTTP status)
BAD_PAYLOADS: dict[str, tuple[bytes, str, int]] = {
    "too_large": (json.dumps({"language": "es", "notes": "x" * 1_300_000}).encode(), "", 413),
    "too_deep": (b'{"language": ' + b"[" * DEEP + b"]" * DEEP + b"}", "", 422),
    "not_utf8": (b'{"language": "es", "notes": "caf\xe9"}', "", 422),
    "big_integer": (b'{"language": "es", "urgency": {"level": "normal", "n": 9007199254740993}}', "/urgency/n",
                    422),
    "negative_big_integer": (b'{"language": "es", "n": -9007199254740992}', "/n", 422),
    "infinite": (b'{"language": "es", "n": 1e999}', "/n", 422),
    "nan": (b'{"language": "es", "n": NaN}', "", 422),
    "not_object": (b'["language", "es"]', "", 422),
}
CODES = {"too_large": "too_large", "too_deep": "too_deep", "not_utf8": "not_utf8", "big_integer": "number_range",
         "negative_big_integer": "number_range", "infinite": "number_range", "nan": "invalid_number",
         "not_object": "not_object"}


def _wrap(field: str, raw: bytes, **rest: Any) -> bytes:
    """An API body ``{…rest, field: <raw payload>}`` without parsing the (possibly invalid) payload."""
    head = json.dumps(rest)[:-1].encode()
    return head + (b", " if rest else b"") + f'"{field}": '.encode() + raw + b"}"


def _case_count(node: Node) -> int:
    return node.counts()["cases"]


@pytest.fixture(scope="module")
def draft(node: Node) -> dict[str, Any]:
    case = create_case(node.db, actor=actor_for(node.db, "co.clerk"), counterpart="ES-MJ",
                       payload=example("request", "co-es-bank-records"))
    return {"id": case.id, "reference": case.reference, "version": case.version}


@pytest.mark.parametrize("kind", BAD_PAYLOADS)
def test_api_refuses_bad_payloads_with_the_field(node: Node, draft: dict[str, Any], kind: str) -> None:
    raw, pointer, status = BAD_PAYLOADS[kind]
    before = node.counts()
    bodies: list[tuple[str, str, bytes]] = [
        ("POST", "/cases", _wrap("payload", raw, counterpart="ES-MJ")),
        ("PUT", f"/cases/{draft['id']}/draft", _wrap("payload", raw, version=draft["version"])),
        ("POST", f"/cases/{draft['id']}/actions", _wrap("payload", raw, action="submit",
                                                        version=draft["version"])),
    ]
    with node.client("clerk") as clerk:
        for method, path, body in bodies:
            response = clerk.request(method, path, content=body, headers={"Content-Type": "application/json"})
            assert response.status_code == status, (method, path, response.text[:300])
            assert response.headers["content-type"] == "application/problem+json"
            problem = response.json()
            if kind == "not_object":  # a payload inside the body: the request model names it
                assert problem["errors"][0]["pointer"].endswith("/payload"), problem
                continue
            assert problem["errors"][0]["code"] == CODES[kind], problem
            if pointer:
                assert problem["errors"][0]["pointer"].endswith(pointer), problem
        after = clerk.get(f"/cases/{draft['id']}").json()
    assert after["version"] == draft["version"]
    assert node.counts() == before


def test_api_action_with_an_integer_beyond_2_53_is_422_not_500(node: Node, draft: dict[str, Any]) -> None:
    with node.client("clerk") as clerk:
        response = clerk.post(f"/cases/{draft['id']}/actions", json={
            "action": "withdraw", "version": draft["version"], "payload": {"reasons": "x", "n": 2**60}})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == "/payload/n"


def test_api_refusals_speak_the_readers_language(node: Node) -> None:
    with node.client("clerk", lang="es") as clerk:
        response = clerk.post("/cases", content=_wrap("payload", b'{"n": 1e999}', counterpart="ES-MJ"),
                              headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert "número" in response.json()["detail"], response.json()


@pytest.mark.parametrize("body", [
    b'{"envelope": ' + b"[" * 1_000 + b"]" * 1_000 + b"}",
    b'{"envelope": ' + b"{\"a\": " * 5_000 + b"1" + b"}" * 5_000 + b"}",
    b'{"envelope": {"n": 9007199254740993}, "signature": {}}',
    b'{"envelope": {"n": 1e999}, "signature": {}}',
    b'{"envelope": "caf\xe9"}',
    b"[1]",
])
def test_inbox_refuses_bad_documents_with_a_4xx_receipt(node: Node, body: bytes) -> None:
    before = node.counts()
    response = httpx.post(node.inbox, content=body, headers={"Content-Type": "application/json"}, timeout=30)
    assert 400 <= response.status_code < 500, response.text[:300]
    assert response.json()["receipt"]["reason"] == "malformed"
    assert node.counts() == before


# --- the CLI ------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_db(tmp_path_factory: pytest.TempPathFactory) -> Any:
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('cli') / 'cli.db'}")
    ensure_schema(db)
    seed_demo(db)
    yield db
    db.dispose()


def _counts(db: Database) -> tuple[int, int, int]:
    with db.reader() as session:
        return tuple(session.exec(select(func.count()).select_from(model)).one()  # type: ignore[return-value]
                     for model in (Case, AuditEvent, Message))


@pytest.fixture
def cli(cli_db: Database, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    monkeypatch.setenv("EXHORTO_DATABASE_URL", cli_db.url)
    monkeypatch.delenv("EXHORTO_USER", raising=False)

    def invoke(*args: str) -> Any:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


@pytest.mark.parametrize("kind", BAD_PAYLOADS)
def test_cli_refuses_bad_payload_files_in_one_line(cli_db: Database, cli: Callable[..., Any], tmp_path: Any,
                                                   kind: str) -> None:
    case = create_case(cli_db, actor=actor_for(cli_db, "co.clerk"), counterpart="ES-MJ",
                       payload=example("request", "co-es-bank-records"))
    raw, pointer, _ = BAD_PAYLOADS[kind]
    path = tmp_path / f"{kind}.json"
    path.write_bytes(raw)
    before = _counts(cli_db)
    for args in (["case", "create", "--to", "ES-MJ", "--payload", str(path)],
                 ["case", "edit", case.reference, "--payload", str(path)],
                 ["case", "act", case.reference, "submit", "--payload", str(path)]):
        result = cli(*args, "--user", "co.clerk")
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert result.exit_code == 2, (args, result.output[:300])
        assert len(lines) == 1 and lines[0].startswith("error:"), (args, result.output[:300])
        assert "Traceback" not in result.output and str(path) in lines[0]
        if pointer:
            assert pointer in lines[0], lines[0]
    assert _counts(cli_db) == before


# --- the engine (what the web UI and every Python caller go through) -------------------------------------------
@pytest.mark.parametrize("payload", [
    {"language": "es", "notes": "x" * 1_300_000},
    {"language": "es", "n": 2**53},
    {"language": "es", "n": float("inf")},
    {"language": "es", "notes": "\ud800"},
])
def test_engine_refuses_what_the_boundary_refuses(node: Node, draft: dict[str, Any], payload: Any) -> None:
    actor = actor_for(node.db, "co.clerk")
    before = node.counts()
    with pytest.raises(InvalidDocument):
        create_case(node.db, actor=actor, counterpart="ES-MJ", payload=payload)
    with pytest.raises(ExhortoError):
        update_draft(node.db, case=draft["id"], actor=actor, payload=payload)
    assert node.counts() == before


def test_a_file_upload_without_content_type_is_not_taken_for_json(node: Node, draft: dict[str, Any]) -> None:
    with node.client("clerk") as clerk:
        response = clerk.post(f"/cases/{draft['id']}/attachments", params={"name": "notes.txt"},
                              content=b"[not json at all")
    assert response.status_code == 201, response.text
