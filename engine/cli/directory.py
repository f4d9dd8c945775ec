"""`exhorto authority …` and `exhorto user …`."""

from __future__ import annotations

import typer

from engine.cli._common import STATE

authority_app = typer.Typer(help="Register and list central authorities.", no_args_is_help=True)
user_app = typer.Typer(help="Register and list users.", no_args_is_help=True)


@authority_app.command("add")
def authority_add(
    code: str = typer.Argument(..., help="e.g. ES-MJ"),
    country: str = typer.Option(..., help="ISO 3166-1 alpha-2"),
    name: str = typer.Option(..., help="official name of the authority"),
    languages: str = typer.Option(..., help="comma-separated, among es,pt,en,fr"),
    timezone: str = typer.Option(..., help="IANA name, e.g. Europe/Madrid"),
    email: str = typer.Option(..., help="contact e-mail of the central authority"),
    endpoint: str | None = typer.Option(None, help="inbox URL for federation"),
) -> None:
    """Register an authority."""
    from engine import directory

    authority = directory.add_authority(STATE.db(), code=code, country=country.upper(), name=name,
                                        languages=[x.strip() for x in languages.split(",") if x.strip()],
                                        timezone=timezone, contact_email=email, endpoint_url=endpoint)
    typer.echo(f"authority {authority.code} registered")


@authority_app.command("list")
def authority_list() -> None:
    """Every registered authority: code, country, languages, timezone, name."""
    from engine import directory

    for a in directory.list_authorities(STATE.db()):
        typer.echo(f"{a.code:12} {a.country}  {','.join(a.languages):8} {a.timezone:24} {a.name}")


@user_app.command("add")
def user_add(
    username: str = typer.Argument(..., help="login name, e.g. ana"),
    authority: str = typer.Option(..., help="code of the user's authority, e.g. CO-FGN"),
    role: str = typer.Option(..., help="clerk | judge | supervisor | auditor | system"),
    language: str = typer.Option("en", help="preferred language"),
    full_name: str = typer.Option("", "--name", help="full name"),
    email: str | None = typer.Option(None, help="e-mail for notifications"),
) -> None:
    """Register a user of an authority."""
    from engine import directory

    user = directory.add_user(STATE.db(), username=username, authority=authority, role=role,
                              preferred_language=language, full_name=full_name, email=email)
    typer.echo(f"user {user.username} ({user.role}, {user.authority_code}) registered")


@user_app.command("list")
def user_list(authority: str | None = typer.Option(None, help="only this authority's users")) -> None:
    """Registered users: name, authority, role, language."""
    from engine import directory

    for u in directory.list_users(STATE.db(), authority):
        typer.echo(f"{u.username:20} {u.authority_code:12} {u.role:10} {u.preferred_language}  {u.full_name}")
