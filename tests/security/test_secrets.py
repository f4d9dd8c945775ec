"""Secrets come from the environment or files and never reach a log, an output line or a command line:
API tokens, passwords, the key passphrase, the session secret, SMTP/webhook credentials, database passwords."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlmodel import select

from engine.deadlines.sweep import sweep_once
from engine.notify.settings import NotifySettings
from engine.ops.stack import StackConfig, plan
from engine.store.models import Deadline
from engine.web.passwords import set_password
from tests.conftest import PG_ADMIN_URL, PG_SKIP_REASON
from tests.deadlines.conftest import SmtpServer
from tests.federation.nodes import make_node
from tests.helpers import action_payload, example

PASSWORD = "Pw-never-logged-0123"
DB_PASSWORD = "Db-password-never-shown-42"


def test_nothing_secret_is_logged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    session_secret = "session-secret-" + uuid.uuid4().hex
    monkeypatch.setenv("EXHORTO_SECRET_KEY", session_secret)
    caplog.set_level(logging.DEBUG)
    node = make_node(tmp_path, "node", "CO-FGN")
    smtp = SmtpServer()
    smtp.start()
    settings = NotifySettings(smtp_host=smtp.box.host, smtp_port=smtp.box.port,
                              smtp_password="smtp-secret-" + uuid.uuid4().hex,
                              webhook_url="http://127.0.0.1:9/unreachable", webhook_secret="hook-" + uuid.uuid4().hex)
    try:
        set_password(node.db, "co.clerk", PASSWORD)
        clerk = node.token("clerk")
        with httpx.Client(base_url=node.url) as web:  # a failed and a good login
            for password in ("wrong-" + PASSWORD, PASSWORD):
                page = web.get("/web/login").text
                csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
                web.post("/web/login", data={"username": "co.clerk", "password": password, "csrf_token": csrf})
        with node.client("clerk") as api:  # a lifecycle over the API, and a bad token
            case = api.post("/cases", json={"counterpart": "ES-MJ", "payload": example("request")}).json()
            api.post(f"/cases/{case['id']}/actions", json={"action": "submit", "version": 1})
            api.get("/cases", headers={"Authorization": "Bearer exh_" + "wrong" * 8})
        with node.client("judge") as judge:
            judge.post(f"/cases/{case['id']}/actions", json={"action": "approve", "version": 2})
        with node.client("clerk") as api:
            api.post(f"/cases/{case['id']}/actions",
                     json={"action": "transmit", "version": 3, "payload": action_payload("transmit")})
        from engine.outbox import dispatch_all

        dispatch_all(node.db)  # signs with the key unlocked by EXHORTO_KEY_PASSPHRASE
        with node.db.reader() as session:
            due = max(d.due_at for d in session.exec(select(Deadline)))
        sweep_once(node.db, now=due + timedelta(days=30), settings=settings)  # mail sent, webhook fails
    finally:
        smtp.stop()
        node.server.stop()
        node.db.dispose()
    assert smtp.box.messages  # the sweep really sent mail
    printed = capfd.readouterr()
    seen = caplog.text + printed.out + printed.err + "".join(str(m) for m in smtp.box.messages)
    secrets = [PASSWORD, clerk, clerk[4:], session_secret, os.environ["EXHORTO_KEY_PASSPHRASE"],
               settings.smtp_password.get_secret_value(), settings.webhook_secret.get_secret_value()]  # type: ignore[union-attr]
    for secret in secrets:
        assert secret not in seen
    assert settings.smtp_password.get_secret_value() not in repr(settings)  # type: ignore[union-attr]


def test_database_password_stays_out_of_output_and_command_lines(tmp_path: Path) -> None:
    config = StackConfig(database_url=f"postgresql://postgres:{DB_PASSWORD}@127.0.0.1:5432/exhorto")
    for service in plan(config):
        assert DB_PASSWORD not in " ".join(service.argv)  # visible to every user through ps
    if PG_SKIP_REASON is not None:
        pytest.skip(PG_SKIP_REASON)
    name = f"exhorto_secret_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgres@", f"postgres:{DB_PASSWORD}@") + f"/{name}"
        env = {**os.environ, "EXHORTO_DATABASE_URL": url}
        exhorto = str(Path(sys.executable).with_name("exhorto"))
        done = subprocess.run([exhorto, "db", "upgrade"], env=env, capture_output=True, text=True, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert DB_PASSWORD not in done.stdout + done.stderr and "***" in done.stdout
        backup = subprocess.run([exhorto, "backup", str(tmp_path / "b.dump")], env=env, capture_output=True,
                                text=True, cwd=tmp_path)
        assert backup.returncode == 0, backup.stderr
        assert DB_PASSWORD not in backup.stdout + backup.stderr
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
