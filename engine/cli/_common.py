"""Shared plumbing for the CLI: database, acting user, language, one-line errors.

The CLI parses its arguments before it imports the engine: modules under ``engine/cli/`` import only typer, the
standard library and light engine modules at the top, and the rest inside the commands that use it, so that
``exhorto --help`` starts in a fraction of a second (tests/test_cli_startup.py keeps it so).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from engine.errors import ExhortoError, FormInvalid
from engine.i18n import UnsupportedLanguage, check_language

if TYPE_CHECKING:
    from engine.store.db import Database


class State:
    db_url: str | None = None
    lang: str = "en"
    _db: Database | None = None

    def db(self) -> Database:
        if self._db is None:
            from engine.store.db import Database
            from engine.store.migrate import ensure_schema

            self._db = Database(self.db_url)
            ensure_schema(self._db)
        return self._db


STATE = State()


def lang() -> str:
    return STATE.lang


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


class ErrorReportingGroup(TyperGroup):
    """Turns the engine's errors into one clear line on stderr and a non-zero exit code, without a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except FormInvalid as error:
            typer.echo(f"error: {error.message(STATE.lang)}", err=True)
            for item in error.errors:
                typer.echo(f"  {item.pointer or '/'}: {item.message}", err=True)
            raise typer.Exit(2) from None
        except ExhortoError as error:
            typer.echo(f"error: {error.message(STATE.lang)}", err=True)
            raise typer.Exit(2 if error.code in {"invalid_input", "form_invalid"} else 1) from None
        except UnsupportedLanguage as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(2) from None


def configure(db: str | None, language: str | None) -> None:
    STATE.db_url = db
    STATE._db = None
    try:
        STATE.lang = check_language(language or os.environ.get("EXHORTO_LANG", "en"))
    except UnsupportedLanguage as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None


def read_json(path: Path | None) -> dict[str, Any]:
    """A JSON object from a file (``-`` for stdin) through the input boundary (size, UTF-8, depth, numbers,
    object at the top); a refusal is one line naming the file, the field and the reason."""
    if path is None:
        return {}
    from engine.forms import InvalidDocument, accept_document

    try:
        raw = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except FileNotFoundError:
        raise fail(f"{path}: no such file", 2) from None
    except (IsADirectoryError, PermissionError) as error:
        raise fail(f"{path}: cannot be read ({error.strerror})", 2) from None
    try:
        return accept_document(raw, lang=STATE.lang)
    except InvalidDocument as error:
        where = error.errors[0].pointer
        raise fail(f"{path}: {where + ': ' if where else ''}{error.errors[0].message}", 2) from None


def current_user(user: str | None) -> str:
    name = user or os.environ.get("EXHORTO_USER")
    if not name:
        raise fail("say who acts: --user NAME or EXHORTO_USER", 2)
    return name
