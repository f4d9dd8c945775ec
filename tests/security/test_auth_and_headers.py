"""Passwords hashed with Argon2id, failed authentications rate limited (web login and bearer tokens), tokens
that expire and can be revoked, and the browser protections every response carries — over real HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from engine import tokens
from engine.ops.ratelimit import FailureLimiter, Limits
from engine.store.models import User, utcnow
from engine.web.passwords import check_login, set_password
from tests.federation.nodes import Node, make_node

PASSWORD = "correct horse battery staple"


@pytest.fixture
def node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Node]:
    monkeypatch.setenv("EXHORTO_AUTH_MAX_FAILURES", "3")
    monkeypatch.setenv("EXHORTO_AUTH_MAX_FAILURES_PER_ADDRESS", "6")
    monkeypatch.setenv("EXHORTO_AUTH_WINDOW_SECONDS", "300")
    monkeypatch.setenv("EXHORTO_SECRET_KEY", "test-session-secret-" + "x" * 20)
    created = make_node(tmp_path, "node", "CO-FGN")
    yield created
    created.server.stop()
    created.db.dispose()


def test_passwords_are_argon2id_hashes(node: Node) -> None:
    set_password(node.db, "co.clerk", PASSWORD)
    with node.db.reader() as session:
        stored = session.exec(select(User.password_hash).where(User.username == "co.clerk")).one()
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored
    assert check_login(node.db, "co.clerk", PASSWORD) is not None
    assert check_login(node.db, "co.clerk", PASSWORD + "!") is None
    assert check_login(node.db, "nobody", PASSWORD) is None


def test_limiter_sliding_window() -> None:
    now = [1000.0]
    limiter = FailureLimiter(Limits(max_failures=2, window_seconds=60, max_clients=2), clock=lambda: now[0])
    assert limiter.retry_after("a") == 0
    limiter.failed("a")
    now[0] += 10
    limiter.failed("a")
    assert limiter.retry_after("a") == pytest.approx(50)  # until the first failure leaves the window
    assert limiter.retry_after("b") == 0  # per client
    now[0] += 51
    assert limiter.retry_after("a") == 0
    limiter.failed("b")
    limiter.failed("c")
    limiter.failed("d")  # bounded memory: the least recent client is forgotten
    assert len(limiter._failures) == 2


def test_bearer_failures_are_limited_per_token_and_never_lock_out_a_valid_token(node: Node) -> None:
    good = node.token("clerk")
    with httpx.Client(base_url=node.url) as client:
        for _ in range(3):
            answer = client.get("/cases", headers={"Authorization": "Bearer exh_guess"})
            assert answer.status_code == 401
        blocked = client.get("/cases", headers={"Authorization": "Bearer exh_guess"})
        assert blocked.status_code == 429 and blocked.json()["code"] == "too_many_failures"
        assert 0 < int(blocked.headers["Retry-After"]) <= 300
        # The refusal carries the security headers every answer carries, once each.
        assert blocked.headers["X-Content-Type-Options"] == "nosniff" and "Content-Security-Policy" in blocked.headers
        assert blocked.headers["Cache-Control"] == "no-store"
        assert len(blocked.headers.get_list("X-Frame-Options")) == 1
        # Same address, another credential: a valid token is served.
        assert client.get("/cases", headers={"Authorization": f"Bearer {good}"}).status_code == 200
        # Many different bad tokens from the address: over its (higher) limit, bad tokens get 429 …
        statuses = [client.get("/cases", headers={"Authorization": f"Bearer exh_other{n:05d}x"}).status_code
                    for n in range(6)]
        assert statuses[:3] == [401, 401, 401] and statuses[-1] == 429, statuses
        # … and a valid token still does not.
        assert client.get("/cases", headers={"Authorization": f"Bearer {good}"}).status_code == 200
        assert client.get("/health").status_code == 200  # requests without a secret are not affected


def _login(client: httpx.Client, username: str, password: str) -> httpx.Response:
    page = client.get("/web/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None, page.text[:500]
    return client.post("/web/login", data={"username": username, "password": password,
                                           "csrf_token": token.group(1), "next": "/web/"})


def test_web_login_is_rate_limited(node: Node) -> None:
    set_password(node.db, "co.clerk", PASSWORD)
    with httpx.Client(base_url=node.url) as client:
        for _ in range(3):
            assert _login(client, "co.clerk", "wrong password!").status_code == 401
        refused = _login(client, "co.clerk", PASSWORD)  # even the right password waits now
        assert refused.status_code == 429 and "Retry-After" in refused.headers
        set_password(node.db, "co.judge", PASSWORD)  # another user behind the same address is not locked out
        assert _login(client, "co.judge", PASSWORD).status_code in (200, 302, 303)
    node_limiter = node.server.app.state.auth_limiter
    node_limiter.clear()
    with httpx.Client(base_url=node.url) as client:
        assert _login(client, "co.clerk", PASSWORD).status_code in (302, 303)


def test_tokens_expire_by_default_and_zero_days_is_refused(node: Node, monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from engine.cli import app
    from engine.seed import seed_demo
    from engine.store.db import Database
    from engine.store.migrate import ensure_schema

    _, row = tokens.issue(node.db, "co.clerk", label="default")
    assert row.expires_at is not None
    assert timedelta(days=89) < row.expires_at - utcnow() <= timedelta(days=90)
    monkeypatch.setenv("EXHORTO_TOKEN_DAYS", "7")
    assert tokens.issue(node.db, "co.clerk")[1].expires_at - utcnow() <= timedelta(days=7)  # type: ignore[operator]
    cli_db = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    ensure_schema(cli_db)
    seed_demo(cli_db)
    monkeypatch.setenv("EXHORTO_DATABASE_URL", cli_db.url)
    runner = CliRunner()
    zero = runner.invoke(app, ["token", "issue", "co.clerk", "--days", "0"])
    assert zero.exit_code != 0 and "days" in zero.output and "exh_" not in zero.output
    issued = runner.invoke(app, ["token", "issue", "co.clerk", "--label", "cli"])
    assert issued.exit_code == 0 and "expires" in issued.output
    listed = runner.invoke(app, ["token", "list", "--user", "co.clerk"]).output
    assert all("expires 20" in line for line in listed.splitlines()), listed


def test_tokens_expire_and_can_be_revoked(node: Node) -> None:
    short, _ = tokens.issue(node.db, "co.clerk", label="short", valid_for=timedelta(seconds=1),
                            now=utcnow() - timedelta(seconds=5))
    lasting, row = tokens.issue(node.db, "co.judge", label="lasting")
    with httpx.Client(base_url=node.url) as client:
        expired = client.get("/cases", headers={"Authorization": f"Bearer {short}"})
        assert expired.status_code == 401 and expired.headers["WWW-Authenticate"] == "Bearer"
        assert client.get("/cases", headers={"Authorization": f"Bearer {lasting}"}).status_code == 200
        assert tokens.revoke(node.db, row.prefix) == 1
        revoked = client.get("/cases", headers={"Authorization": f"Bearer {lasting}"})
        assert revoked.status_code == 401
    with node.db.reader() as session:  # only the hash is stored
        from engine.store.federation_models import ApiToken

        stored = [t.token_hash for t in session.exec(select(ApiToken))]
    assert lasting not in stored and tokens.token_hash(lasting) in stored


def test_security_headers(node: Node) -> None:
    with httpx.Client(base_url=node.url) as client:
        for path in ("/health", "/web/login", "/cases"):
            answer = client.get(path)
            assert answer.headers["X-Content-Type-Options"] == "nosniff"
            assert answer.headers["X-Frame-Options"] == "DENY"
            assert answer.headers["Referrer-Policy"] == "same-origin"
            assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
            assert answer.headers["Cache-Control"] == "no-store"
            assert "Strict-Transport-Security" not in answer.headers  # plain HTTP: HSTS only over TLS
        docs = client.get("/docs")
        assert "Content-Security-Policy" not in docs.headers  # Swagger UI loads from its CDN
        assert docs.headers["X-Frame-Options"] == "DENY"
