"""Every entry point that hands out a case's personal data writes the access log first, through one read path.

The API and web route tables and the CLI's case commands are enumerated: each route or command that takes a case is
either known to log (and does: one entry, with who, what and which case) or listed here as showing no personal data,
with the reason — a new route fails these tests until it is classified. When the log cannot be written (a real
database refusal: a trigger that aborts inserts into ``access_log``), the data is not returned and nothing is
counted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import col, select
from typer.testing import CliRunner

from engine import tokens
from engine.api.app import create_app
from engine.store.db import Database
from engine.store.migrate import ensure_schema
from engine.store.models import Case
from engine.store.privacy_models import AccessLogEntry
from tests.helpers import World, make_world

SURNAME_FIELD = "surname"
REASONS = "Please add the account numbers of Quintero."
FILE_NAME = "quintero-passport.txt"
FILE_BODY = b"passport of Quintero"

# API: GET routes on one case. Logged, with the purpose written in the log …
API_LOGGED = {
    "/cases/{case_id}": "case detail",
    "/cases/{case_id}/history": "case.history",
    "/cases/{case_id}/document": "request document",
    "/cases/{case_id}/attachments": "attachment list",
    "/cases/{case_id}/attachments/{sha256}": "attachment download",
}
# … or showing no personal data.
API_NOT_PERSONAL = {
    "/cases/{case_id}/actions": "the lifecycle actions open to the caller",
    "/cases/{case_id}/audit": "whether the audit chain is intact, and where it breaks",
    "/cases/{case_id}/messages": "message kinds, parties (authorities), status and receipts — no content",
    "/cases/{case_id}/deadlines": "clock kinds and dates",
}
WEB_LOGGED = {
    "/web/cases/{case_id}": "case.show",
    "/web/cases/{case_id}/pdf/{lang}": "document",
    "/web/cases/{case_id}/documents/{document_id}": "document",
    "/web/cases/{case_id}/files/{sha256}": "attachment",
    "/web/cases/{case_id}/edit": "case.edit",
    # Approve, transmit and send back show the request being decided on; the other actions' pages show their form,
    # prefilled with references and measure types only, and log nothing (tests/web/test_web_approval.py).
    "/web/cases/{case_id}/actions/{action}": "case.review",
}
WEB_NOT_PERSONAL: dict[str, str] = {}
# CLI commands that take a case: logged (purpose) or not personal (reason).
CLI_LOGGED = {
    ("case", "show"): "case.show",
    ("case", "history"): "case.history",
    ("case", "evidence"): "case.evidence",
    ("pdf",): "request document",
}
CLI_NOT_PERSONAL = {
    ("case", "edit"): "writes a draft; prints the reference and version",
    ("case", "act"): "applies an action; prints the reference and new state",
    ("case", "clocks"): "clock kinds and dates",
    ("case", "create"): "opens a draft; prints the reference",
    ("case", "list"): "references, states and counterparts (authorities) only",
    ("case", "due"): "clocks due, by reference",
}


def _case_with_everything(world: World) -> tuple[Case, str]:
    """A request sent back once with reasons naming a person, then transmitted (its PDF is stored), carrying a
    file named after her."""
    case = world.new_request()
    world.act(case, "submit", "CO-FGN", "clerk")
    world.act(case, "send_back", "CO-FGN", "judge", {"reasons": REASONS})
    world.act(case, "submit", "CO-FGN", "clerk")
    world.act(case, "approve", "CO-FGN", "judge")
    world.act(case, "transmit", "CO-FGN", "clerk")
    from engine.store.federation_models import Attachment
    from engine.store.models import utcnow

    digest = __import__("hashlib").sha256(FILE_BODY).hexdigest()
    with world.db.transaction() as session:
        session.add(Attachment(authority_code="CO-FGN", case_id=case.id, name=FILE_NAME, media_type="text/plain",
                               size=len(FILE_BODY), sha256=digest, content=FILE_BODY, created_at=utcnow()))
    return world.refresh(case), digest


def _entries(db: Database) -> list[AccessLogEntry]:
    with db.reader() as session:
        return list(session.exec(select(AccessLogEntry).order_by(col(AccessLogEntry.seq))))


def _block_the_log(db: Database) -> None:
    with db.engine.begin() as connection:
        connection.execute(text("CREATE TRIGGER no_access_log BEFORE INSERT ON access_log "
                                "BEGIN SELECT RAISE(ABORT, 'access log refused'); END"))


def _reads_of(db: Database, case: Case) -> int:
    with db.reader() as session:
        found = session.get(Case, case.id)
        assert found is not None
        return found.access_reads


@pytest.fixture
def api(sqlite_db: Database) -> Iterator[tuple[World, Case, str, TestClient, dict[str, str]]]:
    world = make_world(sqlite_db)
    case, digest = _case_with_everything(world)
    token, _ = tokens.issue(sqlite_db, "co.auditor")
    with TestClient(create_app(sqlite_db), raise_server_exceptions=False) as client:
        yield world, case, digest, client, {"Authorization": f"Bearer {token}"}


def _api_url(path: str, case: Case, digest: str) -> str:
    return path.replace("{case_id}", str(case.id)).replace("{sha256}", digest)


def test_every_api_case_route_is_classified(api: Any) -> None:
    world, *_ = api
    paths = create_app(world.db).openapi()["paths"]
    routes = {path for path, operations in paths.items() if "get" in operations and "{case_id}" in path}
    assert routes == set(API_LOGGED) | set(API_NOT_PERSONAL), "classify the new route here (and log it if personal)"


@pytest.mark.parametrize("path", sorted(API_LOGGED | API_NOT_PERSONAL))
def test_api_route_logs_who_what_which_case_before_answering(api: Any, path: str) -> None:
    world, case, digest, client, headers = api
    before = len(_entries(world.db))
    response = client.get(_api_url(path, case, digest), headers=headers)
    assert response.status_code == 200, response.text
    new = _entries(world.db)[before:]
    if path in API_NOT_PERSONAL:
        assert new == []
        return
    assert [(e.username, e.authority_code, e.case_id, e.case_reference, e.purpose) for e in new] == [
        ("co.auditor", "CO-FGN", case.id, case.reference, API_LOGGED[path])]
    assert _reads_of(world.db, case) == case.access_reads + 1


@pytest.mark.parametrize("path", sorted(API_LOGGED))
def test_api_route_returns_nothing_when_the_log_cannot_be_written(api: Any, path: str) -> None:
    world, case, digest, client, headers = api
    _block_the_log(world.db)
    response = client.get(_api_url(path, case, digest), headers=headers)
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "access_log_unavailable"
    for secret in ("Quintero", "account numbers", FILE_NAME, "%PDF", case.payload["persons"][0][SURNAME_FIELD]):
        assert secret not in response.text
    assert _entries(world.db) == [] and _reads_of(world.db, case) == 0


# --- web -----------------------------------------------------------------------------------------------
@pytest.fixture
def web(sqlite_db: Database) -> Iterator[Any]:
    from tests.web.conftest import Web

    world = make_world(sqlite_db)
    case, digest = _case_with_everything(world)
    made = Web(world=world, app=create_app(sqlite_db))
    client = made.client("co.clerk")
    from engine import documents

    listed = documents.list_documents(sqlite_db, case.id or 0)
    yield world, case, digest, client, (listed[0].id if listed else None)


def _web_url(path: str, case: Case, digest: str, document: int | None, action: str) -> str:
    return (path.replace("{case_id}", str(case.id)).replace("{sha256}", digest).replace("{lang}", "es")
            .replace("{document_id}", str(document)).replace("{action}", action))


def test_every_web_case_route_is_classified(web: Any) -> None:
    from engine.web import PREFIX
    from engine.web.routes import __path__ as folder

    modules = [__import__(f"engine.web.routes.{p.stem}", fromlist=["router"])
               for p in Path(folder[0]).glob("*.py") if not p.stem.startswith("_")]
    routes = {PREFIX + r.path for m in modules for r in m.router.routes
              if "GET" in getattr(r, "methods", set()) and "{case_id}" in r.path}
    assert routes == set(WEB_LOGGED) | set(WEB_NOT_PERSONAL), "classify the new page here (and log it if personal)"


@pytest.mark.parametrize("path", sorted(WEB_LOGGED | WEB_NOT_PERSONAL))
def test_web_page_logs_before_showing_and_shows_nothing_when_it_cannot(web: Any, path: str) -> None:
    world, case, digest, client, document = web
    if document is None and "{document_id}" in path:
        pytest.skip("no stored document on this case")
    if path.endswith("/edit"):  # the page of a draft
        case = world.new_request()
    if path.endswith("/{action}"):  # the page of an approved request, before it is transmitted
        case = world.new_request()
        world.act(case, "submit", "CO-FGN", "clerk")
        world.act(case, "approve", "CO-FGN", "judge")
    url = _web_url(path, case, digest, document, "transmit")
    before = len(_entries(world.db))
    response = client.get(url)
    assert response.status_code == 200, response.text[:300]
    new = _entries(world.db)[before:]
    if path in WEB_NOT_PERSONAL:
        assert new == []
        return
    assert [(e.username, e.channel, e.case_id, e.purpose) for e in new] == [
        ("co.clerk", "web", case.id, WEB_LOGGED[path])]
    _block_the_log(world.db)
    refused = client.get(url)
    assert refused.status_code >= 400
    for secret in ("Quintero", FILE_NAME, "%PDF", case.payload["persons"][0][SURNAME_FIELD]):
        assert secret not in refused.text
    assert len(_entries(world.db)) == before + 1


# --- CLI -----------------------------------------------------------------------------------------------
@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[World, Case, Any]]:
    from engine.cli import app

    db = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    ensure_schema(db)
    world = make_world(db)
    case, _ = _case_with_everything(world)
    monkeypatch.setenv("EXHORTO_DATABASE_URL", db.url)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    yield world, case, lambda *args: runner.invoke(app, list(args), catch_exceptions=False)
    db.dispose()


def _case_commands() -> set[tuple[str, ...]]:
    import typer.main

    from engine.cli import app

    group = typer.main.get_command(app)
    found: set[tuple[str, ...]] = set()
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        subcommands = getattr(command, "commands", None)
        if name == "case" and subcommands:
            found |= {("case", sub) for sub in subcommands}
        elif any(p.name in ("case", "target") for p in command.params):
            found.add((name,))
    return found


def test_every_cli_case_command_is_classified() -> None:
    assert _case_commands() == set(CLI_LOGGED) | set(CLI_NOT_PERSONAL), "classify the new command here"


@pytest.mark.parametrize("command", sorted(CLI_LOGGED))
def test_cli_command_logs_first_and_writes_nothing_when_it_cannot(cli: Any, command: tuple[str, ...],
                                                                  tmp_path: Path) -> None:
    world, case, run = cli
    args = [*command, case.reference, "--user", "co.judge"]
    if command == ("case", "evidence"):
        args += ["--out", str(tmp_path / "evidence")]
    before = len(_entries(world.db))
    done = run(*args)
    assert done.exit_code == 0, done.output
    new = _entries(world.db)[before:]
    assert [(e.username, e.case_id, e.purpose) for e in new] == [("co.judge", case.id, CLI_LOGGED[command])]
    files = set(tmp_path.rglob("*"))
    _block_the_log(world.db)
    refused = run(*args)
    assert refused.exit_code != 0
    assert "access log of CO-FGN could not be written" in refused.output
    assert "Quintero" not in refused.output and "account numbers" not in refused.output
    assert set(tmp_path.rglob("*")) == files  # nothing new written to disk either
    assert len(_entries(world.db)) == before + 1
