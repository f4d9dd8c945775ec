"""The process's memory of verified API tokens (engine.tokens): it saves the token read on a busy client's
requests, and never lets a revoked, expired or deactivated token through for longer than it says."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from engine import tokens
from engine.store.db import Database
from engine.store.federation_models import ApiToken
from engine.store.models import User, utcnow
from tests.federation.nodes import Node


class Clock:
    """Stands for ``time.monotonic`` in engine.tokens, moved forward by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock()
    monkeypatch.setattr(tokens, "_clock", fake)
    monkeypatch.delenv(tokens.CACHE_ENV, raising=False)
    tokens.forget_verified()
    yield fake
    tokens.forget_verified()


def revoke_elsewhere(node: Node, row: ApiToken) -> None:
    """What ``exhorto token revoke`` in another process does: the row changes, this process is not told."""
    with node.db.transaction() as session:
        session.execute(update(ApiToken).where(ApiToken.id == row.id).values(revoked_at=utcnow()))


def test_a_token_revoked_here_is_refused_at_once(node: Node, clock: Clock) -> None:
    token, row = tokens.issue(node.db, "co.clerk", label="cache")
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(node.url + "/me", headers=headers).status_code == 200
    assert tokens.remembered(node.db, token) is not None  # the next request would not read the database
    assert tokens.revoke(node.db, row.prefix) == 1
    assert tokens.remembered(node.db, token) is None
    assert httpx.get(node.url + "/me", headers=headers).status_code == 401


def test_a_token_revoked_by_another_process_is_refused_within_the_cache_seconds(node: Node, clock: Clock) -> None:
    token, row = tokens.issue(node.db, "co.judge", label="cache")
    assert tokens.authenticate(node.db, token).username == "co.judge"
    revoke_elsewhere(node, row)
    # Within the cache's seconds the earlier verification stands (the documented bound) …
    clock.now += tokens.DEFAULT_CACHE_SECONDS / 2
    assert tokens.authenticate(node.db, token).username == "co.judge"
    # … and not a moment after: the database is read again and says no.
    clock.now += tokens.DEFAULT_CACHE_SECONDS / 2
    with pytest.raises(tokens.InvalidToken):
        tokens.authenticate(node.db, token)
    assert httpx.get(node.url + "/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_deactivated_user_is_refused_within_the_cache_seconds(node: Node, clock: Clock) -> None:
    token, _row = tokens.issue(node.db, "co.supervisor", label="cache")
    assert tokens.authenticate(node.db, token).username == "co.supervisor"
    with node.db.transaction() as session:
        session.execute(update(User).where(User.username == "co.supervisor").values(active=False))
    try:
        clock.now += tokens.DEFAULT_CACHE_SECONDS
        with pytest.raises(tokens.InvalidToken):
            tokens.authenticate(node.db, token)
    finally:
        with node.db.transaction() as session:
            session.execute(update(User).where(User.username == "co.supervisor").values(active=True))


def test_a_remembered_token_still_expires_on_time(node: Node, clock: Clock) -> None:
    token, _row = tokens.issue(node.db, "co.clerk", label="cache", valid_for=timedelta(hours=1))
    assert tokens.authenticate(node.db, token).username == "co.clerk"
    assert tokens.remembered(node.db, token) is not None
    later = utcnow() + timedelta(hours=1, seconds=1)
    assert tokens.remembered(node.db, token, now=later) is None
    with pytest.raises(tokens.InvalidToken):
        tokens.authenticate(node.db, token, now=later)


def test_failures_are_never_remembered_and_zero_seconds_turns_the_memory_off(
        node: Node, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(tokens.InvalidToken):
        tokens.authenticate(node.db, tokens.PREFIX + "unknown")
    assert tokens.remembered(node.db, tokens.PREFIX + "unknown") is None
    monkeypatch.setenv(tokens.CACHE_ENV, "0")
    token, row = tokens.issue(node.db, "co.clerk", label="cache")
    assert tokens.authenticate(node.db, token).username == "co.clerk"
    assert tokens.remembered(node.db, token) is None
    revoke_elsewhere(node, row)
    with pytest.raises(tokens.InvalidToken):  # no memory: the very next check reads the revocation
        tokens.authenticate(node.db, token)


@pytest.mark.parametrize(("raw", "seconds"), [("5", 5.0), ("0", 0.0), ("-1", tokens.DEFAULT_CACHE_SECONDS),
                                               ("soon", tokens.DEFAULT_CACHE_SECONDS),
                                               ("3600", tokens.DEFAULT_CACHE_SECONDS)])
def test_the_cache_seconds_setting(monkeypatch: pytest.MonkeyPatch, raw: str, seconds: float) -> None:
    monkeypatch.setenv(tokens.CACHE_ENV, raw)
    assert tokens.cache_seconds() == seconds


def test_a_token_is_remembered_only_for_the_database_that_verified_it(node: Node, clock: Clock,
                                                                      tmp_path: Path) -> None:
    """Two nodes in one process (tests, a hub beside a node): a token one database verified is not taken for the
    other's, where it would act for an authority that database never issued it to."""
    token, _row = tokens.issue(node.db, "co.clerk", label="cache")
    assert tokens.authenticate(node.db, token).username == "co.clerk"
    other = Database(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        assert tokens.remembered(node.db, token) is not None
        assert tokens.remembered(other, token) is None
    finally:
        other.dispose()
