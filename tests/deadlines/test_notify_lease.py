"""The lease of a notification being sent runs on the real clock, whatever ``now`` a sweep was given.

A sweep's ``now`` may be injected (replays, `exhorto deadlines sweep --now`, tests); it decides which notices are
due. How long ago a sender took a notice is measured on the wall clock: otherwise a crashed replay of a future
moment blocks its notice until that moment, and a replay takes a notice that another sender holds right now.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from engine.deadlines.sweep import sweep_once
from engine.notify.dispatch import _claim, deliver_pending
from engine.notify.settings import NotifySettings
from engine.store.db import Database
from engine.store.deadline_models import Notification
from engine.store.models import Deadline
from tests.deadlines.conftest import SmtpServer
from tests.helpers import make_world


def queued(db: Database) -> tuple[list[int], datetime]:
    """Notices queued by a sweep at a moment when the whole ladder is due (not sent); that moment."""
    world = make_world(db)
    _, requested = world.transmitted("FR-MJ", "MX-FGR")
    with db.reader() as session:
        due = session.exec(select(Deadline.due_at).where(Deadline.case_id == requested.id,
                                                         Deadline.kind == "acknowledge")).one()
    moment = due + timedelta(days=10)
    assert sweep_once(db, now=moment, send=False).queued > 0
    with db.reader() as session:
        ids = list(session.exec(select(Notification.id).order_by(col(Notification.id))))
    return ids, moment  # type: ignore[return-value]


def settings(smtp: SmtpServer, lease_seconds: int = 600) -> NotifySettings:
    return NotifySettings(smtp_host=smtp.box.host, smtp_port=smtp.box.port, smtp_from="plazos@exhorto.example",
                          webhook_url=None, notify_lease_seconds=lease_seconds)


def row(db: Database, notification_id: int) -> Notification:
    with db.reader() as session:
        found = session.get(Notification, notification_id)
    assert found is not None
    return found


def test_a_claim_is_dated_by_the_wall_clock_not_the_injected_now(db: Database, smtp: SmtpServer) -> None:
    ids, moment = queued(db)
    future = max(moment, datetime.now(UTC)) + timedelta(days=30)  # a replay of a moment still to come
    before = datetime.now(UTC)
    taken = _claim(db, ids[0], future, timedelta(seconds=600))  # ... whose process then died
    after = datetime.now(UTC)
    assert taken is not None and row(db, ids[0]).status == "sending"
    claimed_at = row(db, ids[0]).claimed_at
    assert claimed_at is not None and before <= claimed_at <= after, claimed_at


def test_a_replay_of_the_future_does_not_take_a_notice_another_sender_holds(
    db: Database, smtp: SmtpServer
) -> None:
    ids, moment = queued(db)
    assert _claim(db, ids[0], moment, timedelta(seconds=600)) is not None  # a live sender has it now
    replay = deliver_pending(db, settings=settings(smtp), now=max(moment, datetime.now(UTC)) + timedelta(days=1))
    assert replay.sent == len(ids) - 1  # every other notice, not the one held
    assert row(db, ids[0]).status == "sending"
    assert len(smtp.box.messages) == len(ids) - 1


def test_a_notice_left_sending_by_a_crashed_replay_is_sent_once_the_real_lease_ran_out(
    db: Database, smtp: SmtpServer
) -> None:
    ids, moment = queued(db)
    future = max(moment, datetime.now(UTC)) + timedelta(days=30)
    assert _claim(db, ids[0], future, timedelta(seconds=1)) is not None  # the replay died while sending
    time.sleep(1.2)  # the lease (1 s) runs out on the wall clock
    deliver_pending(db, settings=settings(smtp, lease_seconds=1), now=None)  # a sweep on the real clock
    assert row(db, ids[0]).status == "sent" and row(db, ids[0]).attempts == 2
    assert f"<{row(db, ids[0]).uid}@exhorto>" in smtp.box.message_ids()
