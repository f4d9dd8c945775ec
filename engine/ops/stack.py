"""The production topology on one machine, as supervised subprocesses on loopback (``exhorto stack up``).

* PostgreSQL (the machine's server): the node's database and a separate one for Prefect, created if absent;
* ``prefect server start`` with ``PREFECT_API_DATABASE_CONNECTION_URL`` pointing at that PostgreSQL database;
* ``python -m workflows.serve``: the ``deadline_sweep``, ``outbox_dispatch``, ``retention`` and ``housekeeping``
  deployments served to that server, whose scheduler fires them by itself;
* the API (REST, federation inbox, web UI) under uvicorn with several worker processes.

:func:`plan` says what to start (pure: tested without starting anything); :class:`Stack` starts the services
in order, waits for each to be healthy, prints the URLs, and stops everything on Ctrl-C, on SIGTERM or when a
service dies. Only processes it started are stopped. Each service logs to ``<home>/logs/<name>.log``.

Stopping is bounded, whatever the load: every service's process group (the service and what it started: uvicorn
workers, flow runs) gets SIGTERM at once, in reverse start order; whatever is still running
:data:`GRACE_SECONDS` later gets SIGKILL, and the supervisor waits at most :data:`KILL_WAIT_SECONDS` more for
the kernel to tear it down. A second Ctrl-C/SIGTERM skips the rest of the grace period. Exit codes of
``exhorto stack up``: :data:`EXIT_STOPPED` (stopped on request, everything ended within the grace period),
:data:`EXIT_FAILED` (could not start, or a service died), :data:`EXIT_FORCED` (stopped on request, but a service
had to be killed after the grace period).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
from sqlalchemy.engine import URL, make_url

from engine.errors import ExhortoError
from engine.i18n import N_
from engine.ops.crashes import with_heartbeat

GRACE_SECONDS = 20.0
KILL_WAIT_SECONDS = 10.0
EXIT_STOPPED, EXIT_FAILED, EXIT_FORCED = 0, 1, 3


class StackError(ExhortoError):
    code = "stack_failed"
    template = N_("The stack could not start: {reason}")


@dataclass(frozen=True)
class StackConfig:
    database_url: str = "postgresql://postgres@127.0.0.1:5432/exhorto"
    prefect_database: str = "exhorto_prefect"
    host: str = "127.0.0.1"
    api_port: int = 8000
    prefect_port: int = 4200
    workers: int = 2
    sweep_every: int = 900
    dispatch_every: int = 60
    api_dispatch_every: float = 0.0  # >0: each API worker also delivers the outbox this often (seconds)
    home: Path = Path(".exhorto-stack")
    startup_timeout: float = 180.0
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def prefect_api_url(self) -> str:
        return f"http://{self.host}:{self.prefect_port}/api"


@dataclass(frozen=True)
class Service:
    name: str
    argv: list[str]
    env: dict[str, str]
    health_url: str | None  # None: healthy once it has run a moment without exiting


def _url(raw: str) -> URL:
    url = make_url(raw)
    if not url.drivername.startswith("postgresql"):
        raise StackError(reason=f"the stack runs on PostgreSQL; got a {url.drivername} database URL")
    return url


def prefect_database_url(config: StackConfig) -> str:
    """Prefect's own database on the same server, through asyncpg (the driver Prefect's server uses)."""
    url = _url(config.database_url).set(drivername="postgresql+asyncpg", database=config.prefect_database)
    return url.render_as_string(hide_password=False)


def plan(config: StackConfig, python: str = sys.executable) -> list[Service]:
    """The services in start order, with their command lines and environments."""
    base = {**os.environ, **config.extra_env, "EXHORTO_DATABASE_URL": config.database_url}
    prefect_home = config.home / "prefect"
    prefect_env = {**base, "PREFECT_HOME": str(prefect_home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                   "PREFECT_API_DATABASE_CONNECTION_URL": prefect_database_url(config),
                   "PREFECT_API_URL": config.prefect_api_url}
    prefect_env.pop("PREFECT_SERVER_EPHEMERAL_ENABLED", None)
    prefect_env = with_heartbeat(prefect_env)  # flow runs whose process died are marked Crashed (engine.ops.crashes)
    api_env = {**base, "EXHORTO_DISPATCH_INTERVAL": str(config.api_dispatch_every or "")}
    if not config.api_dispatch_every:
        api_env.pop("EXHORTO_DISPATCH_INTERVAL")
    return [
        Service("prefect-server", [python, "-m", "prefect", "server", "start",
                                   "--host", config.host, "--port", str(config.prefect_port)],
                prefect_env, config.prefect_api_url + "/health"),
        # The database URL reaches the flows through EXHORTO_DATABASE_URL, never on a command line (ps) nor in
        # Prefect's deployment parameters: it may hold a password.
        Service("flows", [python, "-m", "workflows.serve", "--sweep-every", str(config.sweep_every),
                          "--dispatch-every", str(config.dispatch_every)],
                prefect_env, None),
        Service("api", [python, "-m", "uvicorn", "engine.ops.asgi:create", "--factory", "--host", config.host,
                        "--port", str(config.api_port), "--workers", str(config.workers),
                        "--log-level", "warning", "--no-server-header",
                        # requests in flight get a bounded time to finish, well inside the stack's grace period
                        "--timeout-graceful-shutdown", str(int(GRACE_SECONDS / 2))],
                api_env, config.api_url + "/health"),
    ]


def ensure_databases(config: StackConfig) -> list[str]:
    """Create the node's and Prefect's databases if absent; bring the node's schema to head. Returns the names
    of the databases created."""
    import psycopg
    from psycopg import sql

    from engine.store.db import Database
    from engine.store.migrate import ensure_schema

    url = _url(config.database_url)
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    created = []
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
            for name in (url.database, config.prefect_database):
                exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                            (name,)).fetchone()
                if not exists:
                    connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(str(name))))
                    created.append(str(name))
    except psycopg.OperationalError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        where = f"{url.host}:{url.port or 5432}"
        raise StackError(reason=f"PostgreSQL at {where} is not reachable: {first}") from None
    db = Database(config.database_url)
    try:
        ensure_schema(db)
    finally:
        db.dispose()
    return created


def healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).is_success
    except httpx.HTTPError:
        return False


@dataclass
class Running:
    service: Service
    process: subprocess.Popen[bytes]
    log: IO[bytes]


class Interrupts:
    """SIGINT and SIGTERM while the stack runs: the first asks it to stop (KeyboardInterrupt wherever the
    supervisor is), a later one only cuts the grace period short, so a shutdown under way is never abandoned
    half-done."""

    def __init__(self) -> None:
        self.requested = False
        self.hurry = False

    def __call__(self, _signum: int, _frame: object) -> None:
        if self.requested:
            self.hurry = True
            return
        self.requested = True
        raise KeyboardInterrupt


@contextmanager
def _interrupts() -> Iterator[Interrupts]:
    handler = Interrupts()
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield handler
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class Stack:
    def __init__(self, config: StackConfig, *, say: Callable[[str], None] = print,
                 services: list[Service] | None = None, interrupts: Interrupts | None = None) -> None:
        self.config, self.say = config, say
        self.services = services
        self.interrupts = interrupts or Interrupts()
        self.running: list[Running] = []

    def start(self) -> None:
        logs = self.config.home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        for service in self.services if self.services is not None else plan(self.config):
            log = (logs / f"{service.name}.log").open("ab")
            # A process group of its own: Ctrl-C reaches this supervisor only, which stops them in order.
            process = subprocess.Popen(service.argv, env=service.env, stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
            self.running.append(Running(service, process, log))
            self._wait_ready(self.running[-1])
            self.say(f"  {service.name:15} pid {process.pid:<7} log {logs / (service.name + '.log')}")

    def _wait_ready(self, run: Running) -> None:
        deadline = time.monotonic() + self.config.startup_timeout
        settle = time.monotonic() + 3
        while True:
            if run.process.poll() is not None:
                raise StackError(reason=f"{run.service.name} exited with {run.process.returncode}; "
                                        f"see {run.log.name}")
            if run.service.health_url is None and time.monotonic() >= settle:
                return
            if run.service.health_url is not None and healthy(run.service.health_url):
                return
            if time.monotonic() > deadline:
                raise StackError(reason=f"{run.service.name} was not ready within "
                                        f"{self.config.startup_timeout:.0f} s; see {run.log.name}")
            time.sleep(0.5)

    def watch(self, poll: float = 1.0) -> str:
        """Block until a service exits (returns its name); Ctrl-C / SIGTERM raise KeyboardInterrupt."""
        while True:
            for run in self.running:
                if run.process.poll() is not None:
                    return run.service.name
            time.sleep(poll)

    def stop(self, grace: float = GRACE_SECONDS, kill_wait: float = KILL_WAIT_SECONDS) -> list[str]:
        """Stop every service within ``grace + kill_wait`` seconds; returns the services that had to be killed."""
        for run in reversed(self.running):
            _signal_group(run.process, signal.SIGTERM)
        self._wait_gone(time.monotonic() + grace, interruptible=True)
        forced = [run for run in reversed(self.running) if _group_alive(run.process)]
        for run in forced:
            _signal_group(run.process, signal.SIGKILL)
        self._wait_gone(time.monotonic() + kill_wait, interruptible=False)
        for run in self.running:
            run.log.close()
        self.running.clear()
        return [run.service.name for run in forced]

    def _wait_gone(self, deadline: float, *, interruptible: bool) -> None:
        while any(_group_alive(run.process) for run in self.running) and time.monotonic() < deadline:
            if interruptible and self.interrupts.hurry:
                return
            time.sleep(0.1)


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    """Signal the service and the processes it started (uvicorn workers, flow runs): its own group only."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def _group_alive(process: subprocess.Popen[bytes]) -> bool:
    """Whether the service or anything in its process group still runs. Zombies do not count: where PID 1 does
    not reap orphans, a dead worker would otherwise look alive forever."""
    process.poll()  # reaps the leader once it has exited
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        state, pgid = fields[0], int(fields[2])
        if pgid == process.pid and state != "Z":
            return True
    return False


def up(config: StackConfig, *, say: Callable[[str], None] = print) -> int:
    """Start everything, print where it answers, run until Ctrl-C/SIGTERM; returns the exit code (module doc)."""
    with _interrupts() as interrupts:
        stack = Stack(config, say=say, interrupts=interrupts)
        outcome = EXIT_STOPPED
        try:
            try:
                created = ensure_databases(config)
                if created:
                    say(f"created databases: {', '.join(created)}")
                say("starting (logs in " + str(config.home / "logs") + "):")
                stack.start()
                say(f"API        {config.api_url}  (OpenAPI {config.api_url}/docs, web UI {config.api_url}/web/)")
                say(f"Prefect UI http://{config.host}:{config.prefect_port}  (API {config.prefect_api_url})")
                say(f"flows      deadline_sweep every {config.sweep_every} s, outbox_dispatch every "
                    f"{config.dispatch_every} s")
                say("stack is up; Ctrl-C stops it")
                ended = stack.watch()
                say(f"{ended} stopped unexpectedly; stopping the stack")
                outcome = EXIT_FAILED
            except KeyboardInterrupt:
                say(f"stopping (at most {GRACE_SECONDS:.0f} s; Ctrl-C again to stop at once)")
        finally:
            forced = stack.stop()
            if forced:
                say(f"killed after the grace period: {', '.join(forced)}")
            say("stack stopped")
    return EXIT_FORCED if forced and outcome == EXIT_STOPPED else outcome


__all__ = ["EXIT_FAILED", "EXIT_FORCED", "EXIT_STOPPED", "GRACE_SECONDS", "KILL_WAIT_SECONDS", "Interrupts",
           "Service", "Stack", "StackConfig", "StackError", "ensure_databases", "plan",
           "prefect_database_url", "up"]
