"""The operator's path of README/docs/operations.md, run as written against a REAL Prefect server: stock
``prefect server start`` (a subprocess on a free loopback port, its home in a temporary directory, telemetry off),
``prefect work-pool create``, ``prefect deploy --all`` from ``prefect.yaml`` in a fresh checkout directory,
``exhorto orchestrator detect-crashes``, ``prefect worker start`` with the worker's environment (database URL, SMTP,
key passphrase, EXHORTO_HOME) — then a scheduled sweep fires by itself and mails an escalation to a real SMTP
server, and a run whose worker was killed is marked Crashed by Prefect so the next sweep runs.

The only change to the copy of ``prefect.yaml``: the sweep every 10 s instead of 900 s, so that the schedule fires
while the test waits.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlmodel import select

from engine.ops.telemetry import TELEMETRY_OFF
from engine.store.db import Database
from engine.store.deadline_models import Notification
from engine.store.migrate import ensure_schema
from engine.store.models import Deadline, utcnow
from tests.deadlines.conftest import SmtpServer
from tests.federation.nodes import free_port
from tests.helpers import World, make_world, wait_for
from tests.ops.conftest import children

pytestmark = [pytest.mark.xdist_group("prefect-deploy"), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SWEEP_EVERY = 10
HEARTBEAT = 30  # Prefect's minimum heartbeat period; crash detection after 2 missed ones
STARTUP = 180.0



def clean_environ() -> dict[str, str]:
    """This process's environment without any Prefect or exhorto setting a test or a shell may have left."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "EXHORTO_"))} | TELEMETRY_OFF


@dataclass
class Deployed:
    api: str
    checkout: Path
    db: Database
    smtp: SmtpServer
    env: dict[str, str]
    logs: Path
    world: World
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def run(self, *argv: str, timeout: float = 180) -> str:
        done = subprocess.run(argv, cwd=self.checkout, env=self.env, capture_output=True, timeout=timeout)
        output = (done.stdout + done.stderr).decode(errors="replace")
        assert done.returncode == 0, f"{' '.join(argv)} exited {done.returncode}:\n{output[-4000:]}"
        return output

    def start(self, name: str, *argv: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("ab") as sink:
            process = subprocess.Popen(argv, cwd=self.checkout, env=env or self.env, stdout=sink,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.processes.append(process)
        return process

    def start_worker(self) -> subprocess.Popen[bytes]:
        return self.start("worker", str(BIN / "prefect"), "worker", "start", "--pool", "exhorto")

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def sweeps(self, *states: str) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"flows": {"name": {"any_": ["deadline_sweep"]}}, "sort": "START_TIME_DESC",
                                "limit": 200}
        if states:
            body["flow_runs"] = {"state": {"type": {"any_": list(states)}}}
        answer = httpx.post(f"{self.api}/flow_runs/filter", json=body, timeout=30)
        answer.raise_for_status()
        return list(answer.json())

    def deployment(self, name: str) -> dict[str, Any]:
        answer = httpx.get(f"{self.api}/deployments/name/{name}", timeout=30)
        answer.raise_for_status()
        return dict(answer.json())


def stop(process: subprocess.Popen[bytes]) -> None:
    """End a process group this test started: SIGTERM, then SIGKILL."""
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def descendants(pid: int) -> list[int]:
    found = []
    for child in children(pid):
        found += [child, *descendants(child)]
    return found


def make_overdue(deployed: Deployed) -> str:
    """A delivered request whose acknowledgement clock is moved back 20 days (time travel by SQL): at the next
    sweep on the real clock, reminder, overdue notice and escalation are all due. Returns the requested case's
    reference."""
    db = deployed.db
    _, requested = deployed.world.transmitted("FR-MJ", "MX-FGR")
    with db.transaction() as session:
        clock = session.exec(select(Deadline).where(Deadline.case_id == requested.id,
                                                    Deadline.kind == "acknowledge")).one()
        clock.started_at -= timedelta(days=20)
        clock.due_at -= timedelta(days=20)
        clock.next_action_at = utcnow() - timedelta(seconds=1)
        session.add(clock)
    return requested.reference


def notices_of(db: Database, reference: str) -> list[Notification]:
    with db.reader() as session:
        return [n for n in session.exec(select(Notification)).all() if n.data.get("case") == reference]


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    base = tmp_path_factory.mktemp("deploy")
    logs = base / "logs"
    logs.mkdir()
    # a fresh checkout: prefect.yaml, and the flows' code the worker runs (the engine is installed in the venv)
    checkout = base / "checkout"
    checkout.mkdir()
    (checkout / "workflows").symlink_to(ROOT / "workflows", target_is_directory=True)
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    for deployment in spec["deployments"]:
        if deployment["name"] == "deadline-sweep":
            deployment["schedules"] = [{"interval": SWEEP_EVERY}]
    (checkout / "prefect.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))

    db = Database(f"sqlite:///{base / 'node.db'}")
    ensure_schema(db)
    smtp = SmtpServer()
    smtp.start()
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    prefect = {"PREFECT_HOME": str(base / "prefect-home"), "PREFECT_API_URL": api,
               "PREFECT_LOGGING_LEVEL": "INFO"}
    worker = {
        "EXHORTO_HOME": str(checkout),  # prefect.yaml's pull step runs the flows from here
        "EXHORTO_DATABASE_URL": db.url,
        "EXHORTO_SMTP_HOST": smtp.box.host, "EXHORTO_SMTP_PORT": str(smtp.box.port),
        "EXHORTO_SMTP_FROM": "plazos@exhorto.example",
        "EXHORTO_SMTP_TIMEOUT": "600",  # a mail server that stalls holds the run (the crash test needs that)
        "EXHORTO_KEY_PASSPHRASE": "exhorto-test-passphrase", "EXHORTO_KEY_KDF_COST": "10",
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(HEARTBEAT),
        "PREFECT_WORKER_QUERY_SECONDS": "2",  # the worker polls every 2 s instead of 10: the test waits less
    }
    env = clean_environ() | prefect | worker
    handle = Deployed(api=api, checkout=checkout, db=db, smtp=smtp, env=env, logs=logs, world=make_world(db))
    try:
        server_env = clean_environ() | prefect | {
            # the scheduler looks for deployments to schedule every 5 s instead of 60 s: the test waits less
            "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5"}
        server = handle.start("server", str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1",
                              "--port", str(port), env=server_env)

        def healthy() -> bool:
            assert server.poll() is None, "prefect server start exited:\n" + handle.log("server")
            with suppress(httpx.HTTPError):
                return httpx.get(f"{api}/health", timeout=5).is_success
            return False

        wait_for(healthy, STARTUP, "prefect server start to answer")
        handle.run(str(BIN / "prefect"), "work-pool", "create", "exhorto", "--type", "process")
        handle.run(str(BIN / "prefect"), "--no-prompt", "deploy", "--all", timeout=300)
        handle.run(str(BIN / "exhorto"), "orchestrator", "detect-crashes", "--heartbeat", str(HEARTBEAT),
                   "--missed", "2")
        handle.start_worker()
        yield handle
    finally:
        for process in reversed(handle.processes):
            stop(process)
        smtp.stop()
        db.dispose()
        shutil.rmtree(base / "prefect-home", ignore_errors=True)


def test_deploy_all_and_a_worker_run_the_scheduled_sweep(deployed: Deployed) -> None:
    reference = make_overdue(deployed)

    def sent() -> bool:
        notices = notices_of(deployed.db, reference)
        return bool(notices) and {n.status for n in notices} == {"sent"}

    wait_for(sent, 180, "a scheduled sweep to send the overdue case's notices", every=2)
    # it was the scheduler: the run is an auto-scheduled one, and it completed (its state reaches the API a moment
    # after the mail)
    completed = wait_for(lambda: [r for r in deployed.sweeps("COMPLETED") if r["auto_scheduled"]], 120,
                         "the scheduled sweep to complete\n" + deployed.log("worker"), every=2)
    run = completed[-1]
    assert run["name"].startswith("deadline-sweep 20"), run["name"]  # named after the moment it stands for
    assert "database_url" not in run["parameters"]
    ids = deployed.smtp.box.message_ids()  # one mail per notice, none twice
    assert sorted(ids) == sorted(f"<{n.uid}@exhorto>" for n in notices_of(deployed.db, reference))

    sweep = deployed.deployment("deadline_sweep/deadline-sweep")
    assert sweep["global_concurrency_limit"]["limit"] == 1  # one sweep at a time
    assert sweep["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
    assert "database_url" not in sweep["parameter_openapi_schema"]["properties"]
    assert sweep["parameters"] == {"batch_size": 500}
    names = {deployed.deployment(f"{flow}/{name}")["name"] for flow, name in (
        ("deadline_sweep", "deadline-sweep"), ("outbox_dispatch", "outbox-dispatch"), ("retention", "retention"),
        ("housekeeping", "housekeeping"))}
    assert names == {"deadline-sweep", "outbox-dispatch", "retention", "housekeeping"}


def test_a_run_whose_worker_died_is_marked_crashed_and_the_next_sweep_runs(deployed: Deployed) -> None:
    stalled = threading.Event()
    release = threading.Event()

    def stall(_accepted: int) -> None:  # the mail server takes the first message and then hangs
        stalled.set()
        release.wait(timeout=600)

    worker = deployed.processes[-1]
    deployed.smtp.box.on_mail = stall
    try:
        reference = make_overdue(deployed)
        wait_for(stalled.is_set, 120, "a scheduled sweep to start sending", every=0.5)
        running = wait_for(lambda: deployed.sweeps("RUNNING"), 60, "the sending sweep to be RUNNING")
        assert len(running) == 1
        victim = running[0]["id"]
        # the machine dies under the worker: the worker and every process it started, at once
        doomed = [worker.pid, *descendants(worker.pid)]
        for pid in doomed:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        deployed.smtp.box.on_mail = None
        release.set()

    def state() -> dict[str, Any]:
        answer = httpx.get(f"{deployed.api}/flow_runs/{victim}", timeout=30)
        answer.raise_for_status()
        return dict(answer.json()["state"])

    # no heartbeat for 2 periods: Prefect's automation marks the run Crashed (it would otherwise stay RUNNING)
    crashed = wait_for(lambda: state()["type"] == "CRASHED" and state(), 4 * HEARTBEAT + 60,
                       "the dead run to be marked Crashed", every=2)
    assert "heartbeat" in (crashed["message"] or "").lower(), crashed

    # the slot is free: with a worker back, the next scheduled sweep runs to completion
    seen = {r["id"] for r in deployed.sweeps("COMPLETED")}
    deployed.start_worker()
    wait_for(lambda: [r for r in deployed.sweeps("COMPLETED") if r["id"] not in seen and r["auto_scheduled"]],
             180, "a scheduled sweep after the crash to complete\n" + deployed.log("worker"), every=2)
    assert notices_of(deployed.db, reference)  # the crashed sweep had queued them; the lease resends the stuck one
