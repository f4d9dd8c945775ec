"""The whole production topology as subprocesses: a full lifecycle over the API (two uvicorn workers,
outbox delivered by the workers), a scheduled Prefect sweep on a PostgreSQL-backed Prefect server sending an
escalation to a real SMTP server, and ``kill -9`` of an API worker in the middle of a transition."""

from __future__ import annotations

import os
import signal
import threading
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import text
from sqlmodel import func, select

from engine.audit import verify_all
from engine.store.deadline_models import Notification
from engine.store.models import AuditEvent, Case, Message
from engine.store.ops_models import IdempotencyKey
from tests.helpers import action_payload, example, wait_for
from tests.ops.conftest import StackHandle, alive

pytestmark = [pytest.mark.xdist_group("stack"), pytest.mark.postgres, pytest.mark.slow]

ROLE = {"submit": "clerk", "approve": "judge", "transmit": "clerk", "acknowledge": "clerk",
        "start_execution": "judge", "report_execution": "clerk", "close": "judge"}



def act(stack: StackHandle, authority: str, case_id: int, action: str,
        key: str | None = None) -> dict[str, Any]:
    with stack.client(authority, ROLE[action]) as client:
        version = client.get(f"/cases/{case_id}").json()["version"]
        answer = client.post(f"/cases/{case_id}/actions",
                             json={"action": action, "version": version, "payload": action_payload(action)},
                             headers={"Idempotency-Key": key or str(uuid.uuid4())})
    assert answer.status_code == 200, answer.text
    return answer.json()["case"]  # type: ignore[no-any-return]


def counterpart_id(stack: StackHandle, case_id: int) -> int:
    with stack.db.reader() as session:
        mine = session.get(Case, case_id)
        assert mine is not None
        other = session.exec(select(Case.id).where(Case.exchange_id == mine.exchange_id,
                                                   Case.id != case_id)).first()
    return other  # type: ignore[return-value]


def state(stack: StackHandle, case_id: int) -> str:
    with stack.db.reader() as session:
        row = session.get(Case, case_id)
        return row.state if row else ""


def new_case(stack: StackHandle) -> int:
    with stack.client("CO-FGN", "clerk") as client:
        created = client.post("/cases", json={"counterpart": "ES-MJ",
                                              "payload": example("request", "co-es-bank-records")})
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def audit_count(stack: StackHandle, case_id: int) -> int:
    with stack.db.reader() as session:
        return session.exec(select(func.count()).select_from(AuditEvent)
                            .where(AuditEvent.case_id == case_id)).one()


def test_stack_runs_a_lifecycle_and_a_scheduled_sweep_escalates(stack: StackHandle) -> None:
    assert len(stack.api_workers()) == 2  # uvicorn with two worker processes
    assert httpx.get(stack.prefect_api_url + "/health").json() is True

    # the full lifecycle over the API; the workers' dispatchers carry each message to the other side (hub)
    case_id = new_case(stack)
    for action in ("submit", "approve", "transmit"):
        act(stack, "CO-FGN", case_id, action)
    wait_for(lambda: state(stack, case_id) == "delivered", 60, "delivery")
    other = counterpart_id(stack, case_id)
    for action in ("acknowledge", "start_execution", "report_execution"):
        act(stack, "ES-MJ", other, action)
    wait_for(lambda: state(stack, case_id) == "executed", 60, "the execution report to arrive")
    assert act(stack, "CO-FGN", case_id, "close")["state"] == "closed"
    wait_for(lambda: state(stack, other) == "closed", 60, "the closure to arrive")

    # a second request lies unacknowledged at ES-MJ; its clock is moved back 20 days (time travel by SQL)
    # so the next scheduled sweep finds reminder, overdue notice and escalation all due
    late = new_case(stack)
    for action in ("submit", "approve", "transmit"):
        act(stack, "CO-FGN", late, action)
    wait_for(lambda: state(stack, late) == "delivered", 60, "delivery of the second request")
    late_other = counterpart_id(stack, late)
    with stack.db.transaction() as session:
        session.execute(text("UPDATE deadline SET started_at = started_at - interval '20 days', "
                             "due_at = due_at - interval '20 days', next_action_at = now() - interval '1 second' "
                             "WHERE case_id = :case AND kind = 'acknowledge'"), {"case": late_other})

    def escalation_mail() -> Any:
        return [m for m in list(stack.smtp.box.messages) if "supervisor@" in str(m["To"])]

    mails = wait_for(escalation_mail, 300, "a scheduled sweep to send the escalation", every=2)
    assert len(mails) == 1
    # it was the scheduler, nobody ran the flow by hand: the run that sent the mail is an auto-scheduled one. Its
    # COMPLETED state reaches Prefect's API a moment after the mail (seconds on a loaded machine), so wait for it.
    wait_for(lambda: _completed_scheduled_sweeps(stack) >= 1, 120, "the scheduled sweep to be recorded", every=2)

    # one more scheduled sweep changes nothing: exactly one mail per notification, none repeated
    seen = _completed_scheduled_sweeps(stack)
    wait_for(lambda: _completed_scheduled_sweeps(stack) > seen, 180, "another scheduled sweep", every=2)
    with stack.db.reader() as session:
        emails = session.exec(select(Notification).where(Notification.channel == "email")).all()
        assert {n.status for n in emails} == {"sent"}
        out = session.exec(select(Message.message_id, Message.status).where(Message.direction == "out")).all()
        received = session.exec(select(Message.message_id).where(Message.direction == "in")).all()
        assert {status for _, status in out} == {"delivered"}
        assert sorted(received) == sorted(m for m, _ in out)  # each message applied exactly once
        cases = session.exec(select(func.count()).select_from(Case)).one()
        assert verify_all(session) == (cases, [])
    ids = stack.smtp.box.message_ids()
    assert len(ids) == len(set(ids)) == len(emails)
    assert {"clerk", "judge", "supervisor"} <= {str(m["To"]).split("@")[0] for m in stack.smtp.box.messages}


def _completed_scheduled_sweeps(stack: StackHandle) -> int:
    body = {"flows": {"name": {"any_": ["deadline_sweep"]}},
            "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}, "limit": 200}
    runs = httpx.post(stack.prefect_api_url + "/flow_runs/filter", json=body, timeout=30).json()
    return sum(1 for run in runs if run.get("auto_scheduled"))


# --- kill -9 of an API worker in the middle of a transition ----------------------------------------
def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _worker_owning_port(workers: list[int], port: int) -> int | None:
    """The worker process holding the client end of the PostgreSQL connection from local ``port``."""
    wanted = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                wanted.add(fields[9])
    return next((pid for pid in workers if _socket_inodes(pid) & wanted), None)


def test_kill_9_of_a_worker_mid_transition_then_retry_applies_once(stack: StackHandle) -> None:
    case_id = new_case(stack)
    key = str(uuid.uuid4())
    before = audit_count(stack, case_id)
    admin_url = stack.database_url
    # Hold the idempotency row's unique slot in an open transaction: the worker's INSERT of it — its last
    # statement, after the state UPDATE and the audit INSERT — waits, mid-transaction, until we let go.
    blocker = psycopg.connect(admin_url)
    blocker.execute("INSERT INTO idempotency_key (username, key, request_sha256, response, created_at) "
                    "VALUES ('co.clerk', %s, 'x', '{}', now())", (key,))
    outcome: dict[str, Any] = {}

    def first_try() -> None:
        try:
            with stack.client("CO-FGN", "clerk") as client:
                outcome["response"] = client.post(f"/cases/{case_id}/actions",
                                                  json={"action": "submit", "version": 1},
                                                  headers={"Idempotency-Key": key})
        except httpx.HTTPError as error:
            outcome["error"] = error

    thread = threading.Thread(target=first_try)
    thread.start()
    try:
        with psycopg.connect(admin_url, autocommit=True) as watcher:
            def waiting_backend() -> Any:
                return watcher.execute(
                    "SELECT client_port FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO idempotency_key%'").fetchone()

            (port,) = wait_for(waiting_backend, 60, "the worker to block mid-transaction")
            # the transition's UPDATE and audit INSERT are done but not committed
            workers = stack.api_workers()
            victim = _worker_owning_port(workers, port)
            assert victim is not None, (workers, port)
            os.kill(victim, signal.SIGKILL)
            thread.join(timeout=60)
            assert "error" in outcome, outcome  # the client saw the connection die, no answer
    finally:
        blocker.rollback()
        blocker.close()
    # SIGKILL cannot be caught, but the kernel takes a moment to tear the process down: poll, don't race it
    wait_for(lambda: not alive(victim), 30, "the killed worker to be gone")
    wait_for(lambda: len(stack.api_workers()) == 2, 120, "uvicorn to replace the worker")
    # nothing of the killed transaction remains
    wait_for(lambda: state(stack, case_id) == "draft", 30, "the killed transaction to roll back")
    assert audit_count(stack, case_id) == before

    # the client retries with the same key: applied once, then answered from the stored response
    with stack.client("CO-FGN", "clerk") as client:
        path, body = f"/cases/{case_id}/actions", {"action": "submit", "version": 1}
        retry = client.post(path, json=body, headers={"Idempotency-Key": key})
        again = client.post(path, json=body, headers={"Idempotency-Key": key})
    assert retry.status_code == 200 and again.status_code == 200, (retry.text, again.text)
    assert "Idempotent-Replayed" not in retry.headers and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == retry.json() and retry.json()["case"]["state"] == "pending_approval"
    assert audit_count(stack, case_id) == before + 1
    with stack.db.reader() as session:
        keys = session.exec(select(func.count()).select_from(IdempotencyKey)
                            .where(IdempotencyKey.key == key)).one()
        assert keys == 1
        _, breaks = verify_all(session)
        assert breaks == []
