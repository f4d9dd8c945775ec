"""Real Prefect flow runs (one test server per session) delivering to real SMTP and webhook servers."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from engine.store.db import Database
from engine.store.deadline_models import Escalation, Notification
from engine.store.models import Case, Deadline
from tests.deadlines.conftest import Hooks, SmtpServer
from tests.helpers import make_world

pytestmark = pytest.mark.xdist_group("prefect")
ROOT = Path(__file__).resolve().parents[2]


def overdue_world(db: Database) -> tuple[Case, datetime]:
    """A delivered request and a moment when every level of its acknowledgement ladder is due."""
    world = make_world(db)
    _, requested = world.transmitted("FR-MJ", "MX-FGR")
    with db.reader() as session:
        due = session.exec(
            select(Deadline.due_at).where(Deadline.case_id == requested.id, Deadline.kind == "acknowledge")
        ).one()
    return requested, due + timedelta(days=10)


def notices(db: Database, **where: str) -> list[Notification]:
    with db.reader() as session:
        query = select(Notification).order_by(col(Notification.id))
        for key, value in where.items():
            query = query.where(getattr(Notification, key) == value)
        return list(session.exec(query))


def url_of(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=False)


@pytest.fixture(autouse=True)
def node_database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The flows read the database URL from the environment (never a parameter): the test's database."""
    name = "db" if "db" in request.fixturenames else "sqlite_db"
    monkeypatch.setenv("EXHORTO_DATABASE_URL", url_of(request.getfixturevalue(name)))


@pytest.fixture
def mail_env(monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer) -> SmtpServer:
    monkeypatch.setenv("EXHORTO_SMTP_HOST", smtp.box.host)
    monkeypatch.setenv("EXHORTO_SMTP_PORT", str(smtp.box.port))
    monkeypatch.setenv("EXHORTO_SMTP_FROM", "plazos@exhorto.example")
    monkeypatch.delenv("EXHORTO_WEBHOOK_URL", raising=False)
    return smtp


def test_sweep_flow_mails_each_notice_once_in_the_recipients_language(
    prefect_harness: str, db: Database, mail_env: SmtpServer
) -> None:
    from workflows.deadlines import deadline_sweep

    requested, now = overdue_world(db)
    summary = deadline_sweep(now=now, batch_size=1)
    assert summary["batches"] >= 2 and summary["failed"] == 0  # batch size 1: several batches
    sent = notices(db)
    assert summary["sent"] == len(sent) == len(mail_env.box.messages) > 0
    assert {n.status for n in sent} == {"sent"}
    assert sorted(mail_env.box.message_ids()) == sorted(f"<{n.uid}@exhorto>" for n in sent)
    french = [m for m in mail_env.box.messages if m["To"] == "bepi@justice.example.fr"]
    # The counterpart's contact point gets exactly one French mail per escalation of its clocks: acknowledge, and
    # decide too when the calendar makes it due by then (which depends on the day the test runs).
    to_counterpart = [n for n in sent if n.recipient == "bepi@justice.example.fr"]
    assert len(french) == len(to_counterpart) == len({n.escalation_id for n in to_counterpart}) >= 1
    assert {m["Content-Language"] for m in french} == {"fr"}
    assert all(requested.reference in m.get_payload(decode=True).decode() for m in french)

    again = deadline_sweep(now=now + timedelta(hours=1))
    assert again["levels"] == 0 and again["sent"] == 0
    assert len(mail_env.box.messages) == len(sent)


def test_mail_server_down_retries_later_and_loses_nothing(
    prefect_harness: str, sqlite_db: Database, mail_env: SmtpServer
) -> None:
    from workflows.deadlines import deadline_sweep

    db = sqlite_db
    _, now = overdue_world(db)
    mail_env.stop()
    down = deadline_sweep(now=now)
    assert down["sent"] == 0 and down["retrying"] == len(notices(db)) > 0
    for n in notices(db):
        assert n.status == "pending" and n.attempts == 1 and "unavailable" in (n.last_error or "")
        assert n.next_attempt_at > now
    early = deadline_sweep(now=now + timedelta(seconds=10))
    assert early["sent"] == early["retrying"] == 0  # backoff: not yet
    mail_env.start()
    up = deadline_sweep(now=now + timedelta(hours=1))
    assert up["sent"] == len(notices(db)) == len(mail_env.box.messages)
    assert {(n.status, n.attempts) for n in notices(db)} == {("sent", 2)}


def test_signed_webhook_with_retry(
    prefect_harness: str,
    sqlite_db: Database,
    mail_env: SmtpServer,
    webhook: Hooks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from workflows.deadlines import deadline_sweep

    db = sqlite_db
    secret = "s3cret-for-tests"
    monkeypatch.setenv("EXHORTO_WEBHOOK_URL", webhook.url)
    monkeypatch.setenv("EXHORTO_WEBHOOK_SECRET", secret)
    webhook.fail_first = 1
    requested, now = overdue_world(db)
    first = deadline_sweep(now=now)
    hooks = notices(db, channel="webhook")
    assert first["retrying"] == 1 and len(webhook.received) == len(hooks) - 1
    deadline_sweep(now=now + timedelta(hours=1))
    assert {n.status for n in notices(db, channel="webhook")} == {"sent"}
    assert len(webhook.received) == len(hooks)
    deliveries = set()
    for headers, body in webhook.received:
        timestamp = headers["X-Exhorto-Timestamp"]
        expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        assert headers["X-Exhorto-Signature"] == f"sha256={expected}"
        event = json.loads(body)
        assert event["id"] == headers["X-Exhorto-Delivery"] and event["event"].startswith("deadline.")
        deliveries.add(event["id"])
    assert len(deliveries) == len(hooks)
    assert any(json.loads(b)["case"] == requested.reference for _, b in webhook.received)


CRASHING_SWEEP = """
import sys
from datetime import datetime
from workflows.deadlines import deadline_sweep
deadline_sweep(now=datetime.fromisoformat(sys.argv[1]), batch_size=1)
"""


def test_killed_mid_batch_then_rerun_sends_every_level_exactly_once(
    prefect_harness: str, db: Database, mail_env: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep process is SIGKILLed by the mail server when half of the notices have been accepted."""
    from workflows.deadlines import deadline_sweep

    world = make_world(db)
    for sender, recipient in (("FR-MJ", "MX-FGR"), ("CO-FGN", "ES-MJ")):
        world.transmitted(sender, recipient)
    with db.reader() as session:
        latest = max(session.exec(select(Deadline.due_at).where(Deadline.kind == "acknowledge")).all())
    now = latest + timedelta(days=10)
    env = {**os.environ, "PREFECT_API_URL": prefect_harness, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", CRASHING_SWEEP, now.isoformat()],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    killed_after: list[int] = []

    def crash(accepted: int) -> None:
        with db.reader() as session:
            queued = len(session.exec(select(Notification.id)).all())
        if not killed_after and queued and accepted >= queued // 2:
            killed_after.append(accepted)
            os.kill(process.pid, signal.SIGKILL)

    mail_env.box.on_mail = crash
    process.wait(timeout=180)
    mail_env.box.on_mail = None
    assert process.returncode == -signal.SIGKILL, (
        process.stderr.read().decode()[-2000:] if process.stderr else ""
    )
    assert killed_after and len(mail_env.box.messages) == killed_after[0]
    unsent = [n for n in notices(db) if n.status != "sent"]
    assert unsent  # the crash left work behind

    # the rerun comes after the lease of the notice that was being sent when the process died: the lease runs
    # on the real clock (not the sweep's now), so it is shortened to 1 s and allowed to run out
    monkeypatch.setenv("EXHORTO_NOTIFY_LEASE_SECONDS", "1")
    time.sleep(1.2)
    deadline_sweep(now=now + timedelta(minutes=30))
    everything = notices(db)
    assert {n.status for n in everything} == {"sent"}
    received = mail_env.box.message_ids()
    assert len(received) == len(set(received)) == len(everything)
    with db.reader() as session:
        claimed = session.exec(select(Escalation.deadline_id, Escalation.level)).all()
        clocks = session.exec(select(Deadline).where(Deadline.status == "running")).all()
    assert len(claimed) == len(set(claimed))
    # every level that was due was claimed: nothing skipped
    assert all(d.next_action_at is None or d.next_action_at > now for d in clocks)
