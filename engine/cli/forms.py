"""``exhorto form …``: list the forms, print a schema, validate a JSON file with localized errors.

Exit codes: 0 valid, 2 invalid input (malformed or invalid document, unknown form, unreadable file), with a
one-line message per problem and no traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(
    help="Forms catalogue: JSON Schemas of every message.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

INVALID = 2


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(INVALID)


@app.command("list")
def list_command() -> None:
    """Each form with its current schema $id and its stored versions."""
    from engine import forms

    for name in forms.FORMS:
        older = [v for v in forms.versions(name) if v != forms.schema_id(name)]
        suffix = f"  (also: {', '.join(older)})" if older else ""
        typer.echo(f"{name:<22} {forms.schema_id(name)}{suffix}")


@app.command("schema")
def schema_command(name: str = typer.Argument(..., help="form name or exact schema $id")) -> None:
    """Print a schema (current version for a name, that exact version for a $id)."""
    from engine import forms

    try:
        schema = forms.load_schema(name)
    except forms.UnknownForm as e:
        raise _fail(e.message("en")) from None
    typer.echo(json.dumps(schema, ensure_ascii=False, indent=2))


@app.command("validate")
def validate_command(
    file: Path = typer.Argument(..., help="JSON file to validate ('-' for standard input)"),
    form: str | None = typer.Option(
        None, "--form", help='form name or $id [default: the file\'s "$schema", else request]'
    ),
    lang: str | None = typer.Option(None, "--lang", help="language of the errors: es | pt | en | fr "
                                                          "(default: the global --lang, EXHORTO_LANG, en)"),
    draft: bool = typer.Option(False, "--draft", help="check a draft: only what is present"),
    as_json: bool = typer.Option(False, "--json", help="print the errors as a JSON list"),
) -> None:
    """Validate a payload; on failure print every error (pointer, code, message) and exit 2."""
    from engine import forms
    from engine.cli._common import STATE, set_language

    lang = set_language(lang) if lang is not None else STATE.lang
    try:
        data = typer.get_binary_stream("stdin").read() if str(file) == "-" else file.read_bytes()
    except OSError as e:
        raise _fail(f"{file}: {e.strerror or e}") from None
    try:
        payload = forms.parse_json(data, lang=lang)
        target = form or _declared_schema(payload) or "request"
        errors = forms.validate(target, payload, complete=not draft, lang=lang)
    except forms.InvalidDocument as e:
        errors = e.errors
        target = form or "request"
    except forms.UnknownForm as e:
        raise _fail(e.message(lang)) from None
    if not errors:
        typer.echo(f"ok: {file} ({forms.schema_id(target)})")
        return
    if as_json:
        typer.echo(json.dumps([e.as_dict() for e in errors], ensure_ascii=False, indent=2))
    else:
        for error in errors:
            typer.echo(f"{error.pointer or '/'}\t{error.code}\t{error.message}")
    raise typer.Exit(INVALID)


def _declared_schema(payload: object) -> str | None:
    # A payload may name its own schema version, as the examples in forms/examples/ do.
    declared = payload.get("$schema") if isinstance(payload, dict) else None
    return declared if isinstance(declared, str) else None
