"""One authorization path on the command line: every command that reads or changes a case needs an identified
user; another authority's case — by reference or by numeric id — answers exactly as a case that does not exist;
every read of personal data (including PDF renders) is in the access log before it is shown or written."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import func, select
from typer.testing import CliRunner

from engine.cli import app
from engine.store.db import Database
from engine.store.migrate import ensure_schema
from engine.store.models import AuditEvent, Case, Message
from engine.store.privacy_models import AccessLogEntry
from tests.helpers import World, make_world

runner = CliRunner()
MISSING_ID = "999999"
MISSING_REFERENCE = "CO-FGN/2026/999999"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, Case, str]]:
    folder = tmp_path_factory.mktemp("cli-authz")
    db = Database(f"sqlite:///{folder / 'cli.db'}")
    ensure_schema(db)
    made = make_world(db)
    requesting, _ = made.transmitted("CO-FGN", "ES-MJ")
    with db.reader() as session:
        message_id = session.exec(select(Message.message_id).where(Message.case_id == requesting.id)).first()
    assert message_id is not None
    yield made, requesting, message_id
    db.dispose()


def _counts(db: Database) -> dict[str, int]:
    with db.reader() as session:
        return {m.__name__: session.exec(select(func.count()).select_from(m)).one()
                for m in (Case, AuditEvent, Message, AccessLogEntry)}


@pytest.fixture
def cli(world: tuple[World, Case, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Any]:
    monkeypatch.setenv("EXHORTO_DATABASE_URL", world[0].db.url)
    monkeypatch.delenv("EXHORTO_USER", raising=False)
    monkeypatch.chdir(tmp_path)  # `pdf` writes into the working folder by default

    def invoke(*args: str) -> Any:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


# Commands on a case, with the case identifier as {case}.
COMMANDS: list[list[str]] = [
    ["case", "show", "{case}"],
    ["case", "show", "{case}", "--json"],
    ["case", "history", "{case}"],
    ["case", "clocks", "{case}"],
    ["case", "act", "{case}", "withdraw", "--reasons", "no longer needed"],
    ["deadlines", "extend", "{case}", "execution", "--by", "5", "--reasons", "x"],
    ["pdf", "{case}", "--lang", "es"],
]


def _fill(command: list[str], case: str) -> list[str]:
    return [part.replace("{case}", case) for part in command]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
@pytest.mark.parametrize("by", ["reference", "id"])
def test_other_authority_case_answers_as_a_missing_case(world: tuple[World, Case, str], cli: Callable[..., Any],
                                                        command: list[str], by: str) -> None:
    made, case, _ = world
    ident, missing = (case.reference, MISSING_REFERENCE) if by == "reference" else (str(case.id), MISSING_ID)
    before = _counts(made.db)
    for user in ("fr.clerk", "fr.judge", "es.supervisor", "pt.auditor"):
        foreign = cli(*_fill(command, ident), "--user", user)
        absent = cli(*_fill(command, missing), "--user", user)
        assert foreign.exit_code == absent.exit_code != 0, (user, foreign.output)
        assert foreign.output == absent.output.replace(missing, ident), (user, foreign.output, absent.output)
        assert "CO-FGN" not in foreign.output.replace(ident, "") and "Traceback" not in foreign.output
    assert _counts(made.db) == before
    assert not list(Path.cwd().glob("*.pdf"))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
@pytest.mark.parametrize("user", [None, "nobody"])
def test_every_case_command_needs_an_identified_user(world: tuple[World, Case, str], cli: Callable[..., Any],
                                                     command: list[str], user: str | None) -> None:
    made, case, _ = world
    before = _counts(made.db)
    result = cli(*_fill(command, case.reference), *(["--user", user] if user else []))
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code != 0 and len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert ("--user" in lines[0]) if user is None else ("nobody" in lines[0])
    assert _counts(made.db) == before
    assert not list(Path.cwd().glob("*.pdf"))


def test_pdf_is_logged_before_it_is_written(world: tuple[World, Case, str], cli: Callable[..., Any]) -> None:
    made, case, message_id = world
    before = _counts(made.db)["AccessLogEntry"]
    rendered = cli("pdf", case.reference, "--lang", "es", "--out", "request.pdf", "--user", "co.auditor")
    assert rendered.exit_code == 0, rendered.output
    message = cli("pdf", case.reference, "--message", message_id, "--lang", "es", "--out", "msg.pdf",
                  "--user", "co.clerk")
    assert message.exit_code == 0, message.output
    with made.db.reader() as session:
        entries = session.exec(select(AccessLogEntry).order_by(AccessLogEntry.id.desc()).limit(2)).all()  # type: ignore[union-attr]
    assert _counts(made.db)["AccessLogEntry"] == before + 2
    assert {(e.username, e.channel, e.case_id) for e in entries} == {
        ("co.auditor", "pdf", case.id), ("co.clerk", "pdf", case.id)}
    # Another authority's user: the message "does not exist", nothing rendered, nothing logged.
    foreign = cli("pdf", case.reference, "--message", message_id, "--lang", "es", "--user", "fr.clerk")
    absent = cli("pdf", MISSING_REFERENCE, "--message", message_id, "--lang", "es", "--user", "fr.clerk")
    assert foreign.exit_code == absent.exit_code != 0
    assert foreign.output == absent.output.replace(MISSING_REFERENCE, case.reference)
    assert _counts(made.db)["AccessLogEntry"] == before + 2


def test_pdf_message_is_bound_to_its_case(world: tuple[World, Case, str], cli: Callable[..., Any]) -> None:
    """``pdf CASE --message ID`` renders ID only if it is a message of CASE: a message of another case of the
    same authority answers as a message that does not exist (same words), and nothing is logged or written."""
    made, case, message_id = world
    other = made.new_request("CO-FGN", "ES-MJ")  # a draft of the same authority: no messages
    before = _counts(made.db)
    missing_id = "00000000-0000-7000-8000-000000000000"
    wrong = cli("pdf", other.reference, "--message", message_id, "--lang", "es", "--user", "co.clerk")
    absent = cli("pdf", other.reference, "--message", missing_id, "--lang", "es", "--user", "co.clerk")
    assert wrong.exit_code == absent.exit_code != 0
    assert wrong.output == absent.output.replace(missing_id, message_id)
    assert wrong.output.strip() == f"error: Message {message_id} does not exist."  # pdf --lang: the document's
    assert _counts(made.db) == before and not list(Path.cwd().glob("*.pdf"))
    # On a hub the same message is the requested side's too, on its own case: rendered for that case, as a preview
    # (a rendering is kept only as the document of a message sent, never for a read).
    with made.db.reader() as session:
        received = session.exec(select(Message).where(Message.message_id == message_id,
                                                      Message.direction == "in")).one()
        requested = session.get(Case, received.case_id)
    assert requested is not None and requested.authority_code == "ES-MJ"
    ok = cli("pdf", requested.reference, "--message", message_id, "--lang", "es", "--out", "in.pdf",
             "--user", "es.clerk")
    assert ok.exit_code == 0, ok.output
    from engine.store.documents_models import Document

    with made.db.reader() as session:
        kept = session.exec(select(Document).where(Document.message_id == message_id)).all()
    assert requested.id not in {d.case_id for d in kept} and Path("in.pdf").read_bytes().startswith(b"%PDF-")
