"""Test helpers: demo world, example payloads, driving a case along the lifecycle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import func, select

# Hub delivery signs with per-authority Ed25519 keys encrypted at rest (engine.keys): a test passphrase, and a cheap
# scrypt cost so that each test's fresh keys do not cost 0.1 s apiece.
os.environ.setdefault("EXHORTO_KEY_PASSPHRASE", "exhorto-test-passphrase")
os.environ.setdefault("EXHORTO_KEY_KDF_COST", "10")

from engine.actions import apply_action
from engine.cases import create_case, get_case
from engine.directory import actor_for
from engine.guards import Actor
from engine.outbox import dispatch_all
from engine.seed import DEMO_AUTHORITIES, demo_username, seed_demo
from engine.store.db import Database
from engine.store.models import AuditEvent, Case, Message
from engine.system_fields import without_system_fields

EXAMPLES = Path(__file__).resolve().parents[1] / "forms" / "examples"


@cache
def _example(form: str, slug: str | None) -> str:
    folder = EXAMPLES / form
    path = folder / f"{slug}.json" if slug else sorted(folder.glob("*.json"))[0]
    return path.read_text(encoding="utf-8")


def example(form: str, slug: str | None = None) -> dict[str, Any]:
    """A fresh copy of a valid example payload of ``form``, without the fields the system sets
    (engine.system_fields): the engine fills them from the case and the directory."""
    return without_system_fields(json.loads(_example(form, slug)), form)


def report(kind: str) -> dict[str, Any]:
    """A valid execution report of type ``partial`` or ``final``."""
    for path in sorted((EXAMPLES / "execution_report").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("report_type") == kind:
            return without_system_fields(data, "execution_report")
    raise LookupError(kind)


# Payload each action needs (None: no form).
def action_payload(action: str) -> dict[str, Any]:
    forms = {"acknowledge": "acknowledgement", "request_clarification": "clarification_request",
             "answer_clarification": "clarification_answer", "refuse": "refusal", "postpone": "postponement",
             "withdraw": "withdrawal", "close": "closure"}
    if action == "report_partial_execution":
        return report("partial")
    if action == "report_execution":
        return report("final")
    if action in forms:
        return example(forms[action])
    if action == "send_back":
        return {"reasons": "Please add the account numbers."}
    return {}


@dataclass
class World:
    db: Database

    def actor(self, authority: str, role: str) -> Actor:
        return actor_for(self.db, demo_username(authority, role))

    def new_request(self, sender: str = "CO-FGN", recipient: str = "ES-MJ", *, slug: str | None = None) -> Case:
        payload = example("request", slug or "co-es-bank-records")
        return create_case(self.db, actor=self.actor(sender, "clerk"), counterpart=recipient, payload=payload)

    def act(self, case: Case | str | int, action: str, authority: str, role: str,
            payload: dict[str, Any] | None = None) -> Case:
        ref = case.reference if isinstance(case, Case) else case
        outcome = apply_action(self.db, case=ref, action=action, actor=self.actor(authority, role),
                               payload=action_payload(action) if payload is None else payload)
        return outcome.case

    def transmitted(self, sender: str = "CO-FGN", recipient: str = "ES-MJ") -> tuple[Case, Case]:
        """A request approved, transmitted and delivered: (requesting record, requested record)."""
        case = self.new_request(sender, recipient)
        self.act(case, "submit", sender, "clerk")
        self.act(case, "approve", sender, "judge")
        self.act(case, "transmit", sender, "clerk")
        dispatch_all(self.db)
        return get_case(self.db, case.reference), self.counterpart(case)

    def counterpart(self, case: Case) -> Case:
        with self.db.reader() as session:
            return session.exec(select(Case).where(Case.exchange_id == case.exchange_id,
                                                   Case.id != case.id)).one()

    def refresh(self, case: Case) -> Case:
        return get_case(self.db, case.reference)

    def counts(self) -> tuple[int, int, int]:
        """(audit events, messages, cases) — to prove that a refused action wrote nothing."""
        with self.db.reader() as session:
            return (session.exec(select(func.count()).select_from(AuditEvent)).one(),
                    session.exec(select(func.count()).select_from(Message)).one(),
                    session.exec(select(func.count()).select_from(Case)).one())


def make_world(db: Database) -> World:
    seed_demo(db, DEMO_AUTHORITIES)
    return World(db)


def wait_for(predicate: Any, timeout: float, what: str, every: float = 0.5) -> Any:
    """``predicate()``'s first truthy value, polled every ``every`` s; fails the test after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def serving_node(folder: Path, port: int, *options: str) -> subprocess.Popen[bytes]:
    """``exhorto serve --port port *options`` with its own SQLite database in ``folder`` (output piped), returned
    once it answers /health. Fails the test with what it printed if it stops, or is not up within 90 s."""
    env = {**os.environ, "EXHORTO_DATABASE_URL": f"sqlite:///{folder / 'node.db'}"}
    command = [str(Path(sys.executable).with_name("exhorto")), "serve", "--port", str(port), *options]
    process = subprocess.Popen(command, env=env, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return process
        except httpx.ConnectError:
            pass
        if process.poll() is not None or time.monotonic() >= deadline:
            if process.poll() is None:
                process.kill()
            output, _ = process.communicate(timeout=10)
            raise AssertionError(f"exhorto serve did not come up: {output.decode(errors='replace')}")
        time.sleep(0.3)
