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
    user: str | None = None  # --user given at any level of the command line
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


LANG_HELP = "language of the messages: es | pt | en | fr (or EXHORTO_LANG)"
USER_HELP = "acting user (or EXHORTO_USER)"


def set_language(value: str) -> str:
    """The language of the messages from here on; an unsupported one is a one-line error."""
    try:
        STATE.lang = check_language(value)
    except UnsupportedLanguage as error:
        raise fail(str(error), 2) from None
    return STATE.lang


def _set_lang(value: str | None) -> None:
    if value is not None:
        set_language(value)


def _set_user(value: str | None) -> None:
    if value:
        STATE.user = value


def _carried(short_user: bool) -> list[Any]:
    """``--lang`` and ``--user`` as typer builds them (from a one-command app: public API only); they set the
    shared state and are not passed to the command."""
    carrier = typer.Typer()
    user_names = ["--user", "-u"] if short_user else ["--user"]

    @carrier.command()
    def carry(lang: str | None = typer.Option(None, "--lang", expose_value=False, callback=_set_lang,
                                              help=LANG_HELP),
              user: str | None = typer.Option(None, *user_names, expose_value=False, callback=_set_user,
                                              help=USER_HELP)) -> None:
        """Carries the options."""

    return list(typer.main.get_command(carrier).params)


_CARRIED: dict[bool, list[Any]] = {}


def _accept_everywhere(command: Any) -> None:
    """``--lang`` and ``--user`` work at every level (``exhorto case list --lang es`` as well as
    ``exhorto --lang es case list``): each group and command below the root that does not declare them itself
    gets options that set the shared state. A command's own ``--lang``/``--user`` (``pdf``, ``form validate``)
    keeps its meaning and sets the same state itself."""
    taken = {name for param in command.params for name in (*param.opts, *param.secondary_opts)}
    short_user = "-u" not in taken
    if short_user not in _CARRIED:
        _CARRIED[short_user] = _carried(short_user)
    command.params.extend(p for p in _CARRIED[short_user] if p.opts[0] not in taken)
    for sub in getattr(command, "commands", {}).values():
        _accept_everywhere(sub)


class ErrorReportingGroup(TyperGroup):
    """Turns the engine's errors into one clear line on stderr and a non-zero exit code, without a traceback."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Typer builds the sub-commands first and this root group last, on every run: the whole tree is here.
        for command in self.commands.values():
            _accept_everywhere(command)

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


def configure(db: str | None, language: str | None, user: str | None = None) -> None:
    STATE.db_url = db
    STATE._db = None
    STATE.user = user
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
    name = user or STATE.user or os.environ.get("EXHORTO_USER")
    if not name:
        raise fail("say who acts: --user NAME or EXHORTO_USER", 2)
    return name
