"""``exhorto pdf``: render a case's request (or one of its messages) as PDF/A, and get the JSON back out of
one.

    exhorto pdf CO-FGN/2026/000001 --lang fr --out request.pdf [--bilingual es]
    exhorto pdf CO-FGN/2026/000001 --message MESSAGE_ID --lang es --out refusal.pdf
    exhorto pdf extract request.pdf [--out payload.json]
    exhorto pdf verify request.pdf


One command rather than a group: ``pdf CASE`` and ``pdf extract|verify FILE`` cannot both be sub-commands of a group
whose first argument is a case reference.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from engine.cli._common import STATE, current_user, fail
from engine.i18n import N_, translate

WROTE = N_("Wrote {file} ({size} bytes, SHA-256 {sha256}).")
NO_FILE = N_("{file}: no such file.")
EXTRACT_NEEDS_FILE = N_("Say which PDF to read: exhorto pdf extract FILE.")
VERIFY_NEEDS_FILE = N_("Say which PDF to verify: exhorto pdf verify FILE.")


def pdf_command(
    target: str = typer.Argument(..., metavar="CASE|extract|verify",
                                 help="case reference or id; or 'extract' or 'verify'"),
    file: Path | None = typer.Argument(None, metavar="[FILE]", help="with 'extract' or 'verify': the PDF to read"),
    lang: str | None = typer.Option(None, "--lang", help="document language: es | pt | en | fr "
                                                          "(default: the global --lang, EXHORTO_LANG, en)"),
    bilingual: str | None = typer.Option(None, "--bilingual", help="second language, side by side"),
    message: str | None = typer.Option(None, "--message", help="render this message's form, not the request"),
    out: Path | None = typer.Option(None, "--out", help="where to write (default: the document's file name; "
                                                        "for extract: standard output)"),
    user: str | None = typer.Option(None, "--user", "-u", help="acting user (or EXHORTO_USER)"),
) -> None:
    """Render a case as PDF/A-3b with its JSON payload embedded, extract that payload from a PDF, or verify a
    PDF's electronic signature against this node's trust list (exit code 0 only when valid and trusted)."""
    lang = lang if lang is not None else STATE.lang  # the document's; messages follow the global --lang
    if target == "extract":
        _extract(file, out)
        return
    if target == "verify":
        _verify(file)
        return
    from engine import cases, directory
    from engine.documents import render_case, render_message
    from engine.privacy import read_case

    db = STATE.db()
    actor = directory.actor_for(db, current_user(user))  # who reads, and for which authority
    # The one read path (authorised, then logged) before anything is rendered or written. A message is looked up
    # within the case named: one of another case "does not exist", like a foreign case.
    record = read_case(db, cases.case_of_message(db, message, actor=actor, case=target).id or 0 if message else target,
                       actor=actor, channel="pdf", purpose="message document" if message else "request document",
                       detail={"message": message} if message else None)
    document = (render_message(db, message, lang, bilingual, case_id=record.id) if message
                else render_case(db, record.id or 0, lang, bilingual))
    path = out or Path(document.filename)
    path.write_bytes(document.content)
    from engine.privacy import record_files

    record_files(db, authority=actor.authority_code, actor=actor.username, kind="pdf", paths=[path],
                 cases=[record])  # outside retention's reach: recorded so it can be found and deleted
    typer.echo(translate(STATE.lang, WROTE).format(file=path, size=document.size, sha256=document.sha256))


def _extract(file: Path | None, out: Path | None) -> None:
    from engine.documents import extract_payload

    if file is None:
        raise fail(translate(STATE.lang, EXTRACT_NEEDS_FILE), 2)
    try:
        data = file.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise fail(translate(STATE.lang, NO_FILE).format(file=file), 2) from None
    payload = extract_payload(data, source=str(file))
    if out is None:
        sys.stdout.buffer.write(payload)  # the exact bytes: no re-encoding, no added newline
        sys.stdout.buffer.flush()
    else:
        out.write_bytes(payload)


def _verify(file: Path | None) -> None:
    from engine.documents import describe, verify_document

    if file is None:
        raise fail(translate(STATE.lang, VERIFY_NEEDS_FILE), 2)
    try:
        data = file.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise fail(translate(STATE.lang, NO_FILE).format(file=file), 2) from None
    verdict = verify_document(STATE.db(), data, source=str(file))
    for line in describe(verdict, STATE.lang):
        typer.echo(line)
    if not verdict.valid:
        raise typer.Exit(1)
