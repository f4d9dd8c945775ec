"""Fault injection: a dispatcher killed between send and mark-sent, PostgreSQL backends terminated in the middle
of a transaction, SMTP and webhook targets down for a while. Each test ends with exact counts and verified audit
chains. (``kill -9`` of an API worker is in test_stack.py, on the real multi-worker stack.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlmodel import col, func, select

from engine import keys
from engine.actions import apply_action
from engine.audit import verify_all
from engine.cases import create_case
from engine.deadlines.sweep import sweep_once
from engine.directory import actor_for
from engine.idempotency import DatabaseUnavailable, act_once
from engine.notify.settings import NotifySettings
from engine.seed import seed_demo
from engine.store.db import Database
from engine.store.deadline_models import Notification
from engine.store.migrate import upgrade
from engine.store.models import AuditEvent, Authority, Case, Deadline, Message
from tests.deadlines.conftest import Hooks, SmtpServer
from tests.federation.nodes import Node, free_port, make_node
from tests.helpers import example, make_world


def wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def count(db: Database, model: Any, *where: Any) -> int:
    with db.reader() as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def chains_verify(db: Database) -> int:
    with db.reader() as session:
        checked, breaks = verify_all(session)
    assert breaks == []
    return checked


# --- dispatcher killed after the receiver applied, before it recorded the receipt --------------------------
class KillingProxy:
    """Loopback relay in front of a node's /inbox. While armed, it forwards the transmission, lets the
    receiver apply it, then SIGKILLs the dispatcher process before handing the receipt back."""

    def __init__(self, target: str) -> None:
        self.target, self.victim, self.armed, self.forwarded = target, 0, True, 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                answer = httpx.post(proxy.target, content=body, headers={"Content-Type": "application/json"},
                                    timeout=60)
                proxy.forwarded += 1
                if proxy.armed and proxy.victim:
                    os.kill(proxy.victim, signal.SIGKILL)
                    return
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, *args: Any) -> None:
                return None

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/inbox"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Node]:
    node = make_node(tmp_path, "node-b", "ES-MJ")
    yield node
    node.server.stop()
    node.db.dispose()


def _sender(tmp_path: Path, receiver: Node, inbox_url: str) -> Database:
    """Node A (CO-FGN), migrated like a production node so that `exhorto dispatch` runs on it."""
    db = Database(f"sqlite:///{tmp_path / 'node-a.db'}")
    upgrade(db)
    seed_demo(db)
    keys.generate(db, "CO-FGN")
    keys.import_public(db, keys.export_public(receiver.db), authority="ES-MJ")
    keys.import_public(receiver.db, keys.export_public(db), authority="CO-FGN")
    with db.transaction() as session:
        row = session.get(Authority, "ES-MJ")
        assert row is not None
        row.endpoint_url = inbox_url
        session.add(row)
    return db


def _dispatch(db: Database, proxy: KillingProxy | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EXHORTO_DATABASE_URL": db.url}
    process = subprocess.Popen([str(Path(sys.executable).with_name("exhorto")), "dispatch"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proxy is not None:
        proxy.victim = process.pid
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def test_dispatcher_killed_between_send_and_mark_sent(tmp_path: Path, receiver: Node) -> None:
    proxy = KillingProxy(receiver.inbox)
    try:
        sender = _sender(tmp_path, receiver, proxy.url)
        clerk, judge = actor_for(sender, "co.clerk"), actor_for(sender, "co.judge")
        case = create_case(sender, actor=clerk, counterpart="ES-MJ", payload=example("request"))
        for action, actor in (("submit", clerk), ("approve", judge), ("transmit", clerk)):
            apply_action(sender, case=case.reference, action=action, actor=actor)

        killed = _dispatch(sender, proxy)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        assert proxy.forwarded == 1
        # the receiver applied it; the sender never learnt so: still pending, still transmitted
        assert count(receiver.db, Message, Message.direction == "in") == 1
        assert count(receiver.db, Case) == 1
        with sender.reader() as session:
            out = session.exec(select(Message).where(Message.direction == "out")).one()
            assert (out.status, out.sent_at) == ("pending", None)
            assert session.get(Case, case.id).state == "transmitted"  # type: ignore[union-attr]

        proxy.armed = False
        resent = _dispatch(sender)
        assert resent.returncode == 0, resent.stderr
        assert resent.stdout.strip().startswith("delivered 1,")
        assert proxy.forwarded == 2  # the same message went twice…
        # …and was applied once: one inbound row, one requested record, one receipt event on it
        assert count(receiver.db, Message, Message.direction == "in") == 1
        assert count(receiver.db, Case) == 1
        with receiver.db.reader() as session:
            requested = session.exec(select(Case)).one()
            actions = session.exec(select(AuditEvent.action).where(AuditEvent.case_id == requested.id)).all()
        assert len(actions) == 1
        with sender.reader() as session:
            out = session.exec(select(Message).where(Message.direction == "out")).one()
            assert out.status == "delivered" and out.receipt["reference"] == requested.reference
            assert session.get(Case, case.id).state == "delivered"  # type: ignore[union-attr]
        assert count(sender, AuditEvent, AuditEvent.case_id == case.id) == 5  # create, 3 moves, delivery
        assert chains_verify(sender) == 1 and chains_verify(receiver.db) == 1
        sender.dispose()
    finally:
        proxy.close()


# --- PostgreSQL backend terminated in the middle of a transaction ------------------------------------------
def _terminate_when_blocked(db: Database, table: str) -> int:
    """Wait for a backend blocked on a lock while inserting into ``table``; terminate it; return its pid."""
    with psycopg.connect(db.url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as admin:
        def blocked() -> Any:
            return admin.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND wait_event_type = 'Lock' AND query LIKE %s",
                                 (f"%INSERT INTO {table} %",)).fetchone()

        (pid,) = wait_for(blocked, 30, f"a backend blocked inserting into {table}")
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    return int(pid)


@pytest.fixture
def pg(db: Database) -> Database:
    if db.dialect != "postgresql":
        pytest.skip("pg_terminate_backend is a PostgreSQL fault")
    return db


def _render(outcome: Any) -> dict[str, Any]:
    return {"state": outcome.case.state, "seq": outcome.event.seq}


@pytest.mark.parametrize("keyed", [True, False], ids=["with-key-retried", "without-key-clear-error"])
def test_backend_terminated_mid_transaction(pg: Database, keyed: bool) -> None:
    world = make_world(pg)
    case = world.new_request()
    clerk = world.actor("CO-FGN", "clerk")
    before = world.counts()
    # Take the audit row the action will write (seq 2) in an open transaction: the action's INSERT waits there,
    # after its compare-and-set UPDATE of the case (on PostgreSQL one statement: the INSERT selects from the
    # UPDATE's RETURNING), until its backend is terminated.
    blocker = psycopg.connect(pg.url.replace("postgresql+psycopg://", "postgresql://"))
    blocker.execute("INSERT INTO auditevent (case_id, seq, at, actor, action, detail, prev_hash, hash) "
                    "VALUES (%s, 2, now(), 'blocker', 'blocker', '{}', '', '')", (case.id,))
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["answer"] = act_once(pg, key="retry-me" if keyed else None, case=case.id or 0,
                                        action="submit", actor=clerk, payload=None, expected_version=1,
                                        render=_render)
        except Exception as error:  # noqa: BLE001 - asserted below
            result["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    try:
        _terminate_when_blocked(pg, "auditevent")
        if keyed:  # the retry blocks on the same row again: let it through now
            wait_for(lambda: _blocked_count(pg) == 1, 30, "the retry to reach the same point")
    finally:
        blocker.rollback()
        blocker.close()
    thread.join(timeout=60)

    if keyed:
        assert "error" not in result, result
        assert result["answer"].response == {"state": "pending_approval", "seq": 2}
        assert world.counts() == (before[0] + 1, before[1], before[2])
        assert world.refresh(case).version == 2
    else:
        assert isinstance(result.get("error"), DatabaseUnavailable)
        assert world.counts() == before  # no partial write: no event, no state change
        assert world.refresh(case).state == "draft" and world.refresh(case).version == 1
    chains_verify(pg)


def _blocked_count(db: Database) -> int:
    with psycopg.connect(db.url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as admin:
        row = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                            "AND wait_event_type = 'Lock'").fetchone()
    return int(row[0]) if row else 0


def test_api_answers_503_when_the_database_is_gone(tmp_path: Path) -> None:
    node = make_node(tmp_path, "node", "CO-FGN")
    token = node.token("clerk")
    node.db.engine.dispose()
    original = node.db.engine
    node.db.engine = Database(f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere").engine
    try:
        answer = httpx.get(node.url + "/cases", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"] and answer.json()["code"] == "database_unavailable"
    finally:
        node.db.engine = original
        node.server.stop()
        node.db.dispose()


# --- notification targets down for a while -----------------------------------------------------------------
class DownThenUpWebhook:
    """A webhook receiver that refuses connections (not listening) until started."""

    def __init__(self) -> None:
        self.port = free_port()
        self.hooks = Hooks(url=f"http://127.0.0.1:{self.port}/hooks/exhorto")
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        hooks = self.hooks

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                hooks.received.append((dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def test_smtp_and_webhook_down_then_up(db: Database) -> None:
    world = make_world(db)
    _, requested = world.transmitted()
    with db.reader() as session:
        ack = session.exec(select(Deadline).where(Deadline.case_id == requested.id,
                                                  Deadline.kind == "acknowledge")).one()
    smtp, hook = SmtpServer(), DownThenUpWebhook()  # neither listening yet
    settings = NotifySettings(smtp_host=smtp.box.host, smtp_port=smtp.box.port, webhook_url=hook.hooks.url,
                              webhook_secret="s3cret-webhook-key", notify_retry_seconds=60, smtp_timeout=5,
                              webhook_timeout=5)
    late = ack.due_at + timedelta(days=10)
    try:
        down = sweep_once(db, now=late, settings=settings)
        assert down.levels >= 3 and down.sent == 0 and down.retrying == down.queued > 0
        with db.reader() as session:
            rows = session.exec(select(Notification).order_by(col(Notification.id))).all()
        assert {r.status for r in rows} == {"pending"} and all(r.last_error for r in rows)  # logged
        assert len(down.errors) == len(rows)
        # still down a minute later: retried, still queued, nothing lost
        assert sweep_once(db, now=late + timedelta(minutes=2), settings=settings).retrying == len(rows)

        smtp.start()
        hook.start()
        up = sweep_once(db, now=late + timedelta(hours=1), settings=settings)
        assert up.sent == len(rows) and up.retrying == 0 and up.levels == 0
        again = sweep_once(db, now=late + timedelta(days=1), settings=settings)
        assert (again.sent, again.levels, again.queued) == (0, 0, 0)  # nothing twice
    finally:
        smtp.stop()
        hook.stop()
    emails = [r for r in rows if r.channel == "email"]
    hooks = [r for r in rows if r.channel == "webhook"]
    assert len(smtp.box.messages) == len(emails) and len(set(smtp.box.message_ids())) == len(emails)
    assert len(hook.hooks.received) == len(hooks) > 0
    with db.reader() as session:
        final = session.exec(select(Notification)).all()
    assert {r.status for r in final} == {"sent"} and all(r.attempts == 3 for r in final)
    chains_verify(db)
