"""`exhorto user passwd USER`: set the password a user logs in to the web UI with."""

from __future__ import annotations

import sys

import typer

from engine.cli._common import STATE


def passwd_command(
    username: str = typer.Argument(..., help="the user whose password is set"),
    stdin: bool = typer.Option(False, "--stdin", help="read the password from the first line of stdin"),
) -> None:
    """Set a user's web password: asked twice at a terminal, or read from stdin; never an argument."""
    from engine.web.passwords import set_password

    if stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    set_password(STATE.db(), username, password)
    typer.echo(f"password set for {username}")


def register(user_app: typer.Typer) -> None:
    user_app.command("passwd")(passwd_command)
