"""The production stack, started ONCE per test session as `exhorto stack up` (a real subprocess tree on
loopback: Prefect server on PostgreSQL, the scheduled flows, the API under uvicorn workers), with a real
SMTP server.

Skipped, with the reason printed, when PostgreSQL is not reachable. Fresh databases per session, dropped at
the end; every process started is stopped (Ctrl-C to the stack, then SIGKILL to whatever would remain).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest

from engine import tokens
from engine.ops.stack import EXIT_FORCED, EXIT_STOPPED, GRACE_SECONDS, KILL_WAIT_SECONDS
from engine.seed import demo_username, seed_demo
from engine.store.db import Database
from tests.conftest import PG_ADMIN_URL, PG_SKIP_REASON
from tests.deadlines.conftest import SmtpServer
from tests.federation.nodes import free_port

SWEEP_EVERY = 30  # seconds between scheduled deadline sweeps in the test stack
STARTUP_TIMEOUT = 420


@dataclass
class StackHandle:
    process: subprocess.Popen[bytes]
    output: Path
    api_url: str
    prefect_api_url: str
    database_url: str
    db: Database
    smtp: SmtpServer
    home: Path
    issued: dict[str, str] = field(default_factory=dict)

    def token(self, authority: str, role: str) -> str:
        username = demo_username(authority, role)
        if username not in self.issued:
            self.issued[username] = tokens.issue(self.db, username, label="stack test")[0]
        return self.issued[username]

    def client(self, authority: str, role: str) -> httpx.Client:
        return httpx.Client(base_url=self.api_url, timeout=60,
                            headers={"Authorization": f"Bearer {self.token(authority, role)}"})

    def service_pids(self) -> dict[str, int]:
        text = self.output.read_text(errors="replace")
        return {m.group(1): int(m.group(2)) for m in re.finditer(r"^\s+(\S+)\s+pid (\d+)", text, re.M)}

    def api_workers(self) -> list[int]:
        """PIDs of the uvicorn worker processes (children of the API's supervisor, not its resource tracker)."""
        return [pid for pid in children(self.service_pids()["api"]) if "spawn_main" in _command(pid)]


def children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                    found.append(int(entry.name))
    return sorted(found)


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _create(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')


def _drop(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackHandle]:
    if PG_SKIP_REASON is not None:
        pytest.skip(f"the stack needs PostgreSQL: {PG_SKIP_REASON}")
    exhorto = Path(sys.executable).with_name("exhorto")
    if not exhorto.exists():
        pytest.skip(f"{exhorto} is not installed (pip install -e .)")
    home = tmp_path_factory.mktemp("stack")
    suffix = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
    app_db, prefect_db = f"exhorto_stack_{suffix}", f"exhorto_stack_prefect_{suffix}"
    server = PG_ADMIN_URL.rsplit("/", 1)[0]
    database_url = f"{server}/{app_db}"
    _create(app_db)
    smtp = SmtpServer()
    smtp.start()
    api_port, prefect_port = free_port(), free_port()
    env = {**os.environ,
           "EXHORTO_SMTP_HOST": smtp.box.host, "EXHORTO_SMTP_PORT": str(smtp.box.port),
           "EXHORTO_SMTP_FROM": "exhorto@es-mj.example",
           "EXHORTO_KEY_PASSPHRASE": os.environ.get("EXHORTO_KEY_PASSPHRASE", "exhorto-test-passphrase"),
           "EXHORTO_KEY_KDF_COST": "10",
           # the scheduler looks for deployments to schedule every 5 s instead of 60 s: the test waits less
           "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5",
           "PREFECT_LOGGING_LEVEL": "INFO"}
    for key in ("PREFECT_API_URL", "PREFECT_HOME", "PREFECT_SERVER_EPHEMERAL_ENABLED"):
        env.pop(key, None)
    output = home / "stack.out"
    command = [str(exhorto), "stack", "up", "--database-url", database_url, "--prefect-database", prefect_db,
               "--api-port", str(api_port), "--prefect-port", str(prefect_port), "--workers", "2",
               "--sweep-every", str(SWEEP_EVERY), "--dispatch-every", "3600", "--api-dispatch-every", "1",
               "--home", str(home / "home"), "--startup-timeout", str(STARTUP_TIMEOUT)]
    with output.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=env, cwd=home, start_new_session=True)
    db = Database(database_url)
    handle = StackHandle(process=process, output=output, api_url=f"http://127.0.0.1:{api_port}",
                         prefect_api_url=f"http://127.0.0.1:{prefect_port}/api", database_url=database_url,
                         db=db, smtp=smtp, home=home)
    try:
        deadline = time.monotonic() + 3 * STARTUP_TIMEOUT
        while "stack is up" not in output.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the stack did not start:\n" + output.read_text(errors="replace"))
            time.sleep(1)
        seed_demo(db)
        yield handle
    finally:
        _stop(handle)
        db.dispose()
        smtp.stop()
        _drop(app_db)
        _drop(prefect_db)


def _stop(handle: StackHandle) -> None:
    pids = handle.service_pids()
    if handle.process.poll() is None:
        handle.process.send_signal(signal.SIGINT)  # what Ctrl-C does
        try:
            # the supervisor's own bound is GRACE + KILL_WAIT seconds; the rest is slack for a loaded machine
            handle.process.wait(timeout=GRACE_SECONDS + KILL_WAIT_SECONDS + 90)
        except subprocess.TimeoutExpired:
            handle.process.kill()
            handle.process.wait(timeout=10)
    leftovers = [pid for pid in pids.values() if alive(pid) and _ours(pid)]
    for pid in leftovers:  # each service leads its own process group; nothing may outlive the test
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    # Documented in engine.ops.stack: 0 when every service ended within the grace period, 3 when one had to be
    # killed after it (a saturated machine can make Prefect's server slow to stop); never left running.
    assert handle.process.returncode in (EXIT_STOPPED, EXIT_FORCED), handle.output.read_text(errors="replace")[-3000:]
    assert "stack stopped" in handle.output.read_text(errors="replace")
    assert not leftovers, f"services still running after the stack stopped: {leftovers}"


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def _ours(pid: int) -> bool:
    command = _command(pid)
    return "engine.ops" in command or "workflows.serve" in command
