"""`exhorto serve` (the node's HTTP app) and `exhorto token …` (API tokens)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import typer

from engine.cli._common import STATE

# Requests in flight get this long to finish after Ctrl-C/SIGTERM; then their connections are closed.
SHUTDOWN_GRACE_SECONDS = 10

token_app = typer.Typer(help="API tokens (stored hashed; shown once).", no_args_is_help=True)


def serve(host: str = typer.Option("127.0.0.1", help="interface to listen on"),
          port: int = typer.Option(8000, help="TCP port"),
          dispatch_interval: float = typer.Option(5.0, help="seconds between outbox deliveries; 0 disables"),
          log_level: str = typer.Option("info", help="uvicorn log level: debug | info | warning | error"),
          access_log: bool = typer.Option(True, "--access-log/--no-access-log",
                                          help="one line per request (client, method, path, status) at log level "
                                               "info; turn off where a reverse proxy keeps that log"),
          tls_cert: str | None = typer.Option(None, envvar="EXHORTO_TLS_CERT", help="PEM certificate: HTTPS"),
          tls_key: str | None = typer.Option(None, envvar="EXHORTO_TLS_KEY", help="PEM private key"),
          tls_client_ca: str | None = typer.Option(None, envvar="EXHORTO_TLS_CLIENT_CA",
                                                   help="require client certificates from this CA (mutual TLS)"),
          ) -> None:
    """Run this node: REST API, OpenAPI at /docs, federation inbox at POST /inbox, outbox dispatcher.

    Ctrl-C or SIGTERM stops it within SHUTDOWN_GRACE_SECONDS + the dispatcher's stop wait, exit code 0."""
    import signal

    import uvicorn

    from engine.api import Settings, create_app
    from engine.api.app import freeze_startup_objects
    from engine.keys import check_node_can_sign
    from engine.transport.tls import server_options

    tls = server_options(tls_cert, tls_key, tls_client_ca)
    check_node_can_sign(STATE.db())  # a one-line error now rather than a dispatcher failing every few seconds
    app = create_app(STATE.db(), Settings.from_env(dispatch_interval=dispatch_interval or None))
    freeze_startup_objects()
    # uvicorn re-raises the stop signal once it has shut down; with the default SIGTERM action the process would
    # then die "killed by SIGTERM". A stop on request is a normal end: exit code 0, as for Ctrl-C.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
    # The per-request line stays on by default: an operator expects to see who called what and with which answer
    # (failed logins included) without setting anything up. It costs ~0.2 ms of CPU per request (~10% of a
    # saturated node's throughput, docs/performance.md), which a node behind a logging reverse proxy can spare.
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=access_log,
                timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS, **tls)


@token_app.command("issue")
def issue(username: str = typer.Argument(..., help="the user the token acts as"),
          label: str = typer.Option("", help="what the token is for"),
          days: int | None = typer.Option(None, help="expires after this many days (default: "
                                                     "EXHORTO_TOKEN_DAYS, 90)")) -> None:
    """Create a token for a user and print it once. Every token expires."""
    from engine import tokens

    token, row = tokens.issue(STATE.db(), username, label=label,
                              valid_for=timedelta(days=days) if days is not None else None)
    typer.echo(token)
    typer.echo(f"token {row.prefix}… for {username}" + (f", expires {row.expires_at:%Y-%m-%d}" if row.expires_at
                                                        else ""), err=True)


@token_app.command("list")
def list_(username: str | None = typer.Option(None, "--user", help="only this user's tokens")) -> None:
    """Tokens by prefix: user, state (active, expired, revoked), dates, label; never the token itself."""
    from engine import tokens

    for row in tokens.list_tokens(STATE.db(), username):
        expired = row.expires_at is not None and row.expires_at <= datetime.now(UTC)
        state = "revoked" if row.revoked_at else "expired" if expired else "active"
        expires = f"{row.expires_at:%Y-%m-%d}" if row.expires_at else "never"
        typer.echo(f"{row.prefix}…  {row.username:20} {state:8} {row.created_at:%Y-%m-%d} "
                   f"expires {expires}  {row.label}")


@token_app.command("revoke")
def revoke(prefix: str = typer.Argument(..., help="the token or its first characters as listed")) -> None:
    """Revoke the tokens starting with PREFIX: they stop working at once."""
    from engine import tokens

    count = tokens.revoke(STATE.db(), prefix)
    typer.echo(f"{count} token(s) revoked")
