"""`exhorto keys …`: signing keys of the authorities this node serves, and counterparts' public keys."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from engine.cli._common import STATE, fail

app = typer.Typer(help="Ed25519 signing keys (private keys encrypted with EXHORTO_KEY_PASSPHRASE).",
                  no_args_is_help=True)


@app.command("generate")
def generate(authority: str = typer.Argument(..., help="authority served by this node, e.g. ES-MJ")) -> None:
    """Create the authority's signing key."""
    from engine import keys

    row = keys.generate(STATE.db(), authority)
    typer.echo(f"key {row.key_id} generated for {authority}")


@app.command("rotate")
def rotate(authority: str = typer.Argument(..., help="authority served by this node, e.g. ES-MJ")) -> None:
    """Replace the signing key; the old one keeps verifying what it signed. Export and send the new key."""
    from engine import keys

    row = keys.rotate(STATE.db(), authority)
    typer.echo(f"key {row.key_id} now signs for {authority}; export it to your counterparts")


@app.command("export")
def export(authority: str | None = typer.Argument(None, help="one authority (default: all served here)"),
           out: Path | None = typer.Option(None, help="write to this file instead of stdout")) -> None:
    """Public keys with their validity periods, as JSON for counterparts to import."""
    from engine import keys

    text = keys.dumps(keys.export_public(STATE.db(), authority))
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"public keys written to {out}")
    else:
        typer.echo(text)


@app.command("revoke")
def revoke(key_id: str = typer.Argument(..., help="e.g. CO-FGN#0123456789abcdef (see 'exhorto keys list')"),
           compromised_at: str | None = typer.Option(
               None, "--compromised-at",
               help="when the key is believed to have leaked, ISO 8601 (default: now)")) -> None:
    """Revoke a key: from now on it verifies nothing received; an own signing key is replaced by a new one.
    Export and send the result to your counterparts: the revocation travels with the export."""
    from engine import keys

    when = keys.parse_time(compromised_at, "--compromised-at") if compromised_at else None
    row, successor = keys.revoke(STATE.db(), key_id, compromised_at=when)
    since = row.compromised_at.isoformat() if row.compromised_at else "-"
    typer.echo(f"key {row.key_id} revoked (compromised at {since})")
    if successor is not None:
        typer.echo(f"key {successor.key_id} now signs for {successor.authority_code}; export it to your counterparts")


@app.command("import")
def import_(path: Path = typer.Argument(..., help="JSON from 'exhorto keys export' (- for stdin)"),
            authority: str = typer.Option(
                ..., "--authority", help="the counterpart whose keys these are; keys of others are refused")) -> None:
    """Register a counterpart's public keys (and revocations)."""
    from engine import keys

    try:
        text = typer.get_text_stream("stdin").read() if str(path) == "-" else path.read_text(encoding="utf-8")
        data = json.loads(text)
    except FileNotFoundError:
        raise fail(f"{path}: no such file", 2) from None
    except json.JSONDecodeError as error:
        raise fail(f"{path}: not valid JSON (line {error.lineno}: {error.msg})", 2) from None
    for row in keys.import_public(STATE.db(), data, authority=authority):
        typer.echo(f"imported {row.key_id} ({row.authority_code})")


@app.command("list")
def list_(authority: str | None = typer.Option(None, help="only this authority's keys")) -> None:
    """Every key known here: own (private) and counterparts' (public)."""
    from engine import keys

    for row in keys.list_keys(STATE.db(), authority):
        until = row.valid_until.isoformat() if row.valid_until else "-"
        kind = "own" if row.private_key else "public"
        revoked = f" REVOKED {row.revoked_at.isoformat()}" if row.revoked_at else ""
        typer.echo(f"{row.key_id:34} {kind:6} from {row.valid_from.isoformat()} until {until}{revoked}")


# X.509 identities and the trust list (issue 17) live in their own module.
from engine.cli.certificates import register as _register_certificates  # noqa: E402

_register_certificates(app)
