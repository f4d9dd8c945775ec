"""The production topology on one machine, as supervised subprocesses on loopback (``exhorto stack up``).

* PostgreSQL (the machine's server): the node's database and a separate one for Prefect, created if absent;
* ``prefect server start`` with ``PREFECT_API_DATABASE_CONNECTION_URL`` pointing at that PostgreSQL database;
* ``python -m workflows.serve``: the ``deadline_sweep``, ``outbox_dispatch``, ``retention`` and ``housekeeping``
  deployments served to that server, whose scheduler fires them by itself;
* the API (REST, federation inbox, web UI) under uvicorn with several worker processes.

:func:`plan` says what to start (pure: tested without starting anything); :class:`Stack` starts the services
in order, waits for each to be healthy, prints the URLs, and stops everything — in reverse order, TERM then
KILL after a grace period — on Ctrl-C, on SIGTERM or when a service dies. Only processes it started are
stopped. Each service logs to ``<home>/logs/<name>.log``.
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
    api_env = {**base, "EXHORTO_DISPATCH_INTERVAL": str(config.api_dispatch_every or "")}
    if not config.api_dispatch_every:
        api_env.pop("EXHORTO_DISPATCH_INTERVAL")
    return [
        # Prefect's CLI through a shim that makes its scheduler work on SQLAlchemy 2.1 (see prefect_server).
        Service("prefect-server", [python, "-m", "engine.ops.prefect_server", "server", "start",
                                   "--host", config.host, "--port", str(config.prefect_port)],
                prefect_env, config.prefect_api_url + "/health"),
        # The database URL reaches the flows through EXHORTO_DATABASE_URL, never on a command line (ps) nor in
        # Prefect's deployment parameters: it may hold a password.
        Service("flows", [python, "-m", "workflows.serve", "--sweep-every", str(config.sweep_every),
                          "--dispatch-every", str(config.dispatch_every)],
                prefect_env, None),
        Service("api", [python, "-m", "uvicorn", "engine.ops.asgi:create", "--factory", "--host", config.host,
                        "--port", str(config.api_port), "--workers", str(config.workers),
                        "--log-level", "warning", "--no-server-header"],
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


class Stack:
    def __init__(self, config: StackConfig, *, say: Callable[[str], None] = print) -> None:
        self.config, self.say = config, say
        self.running: list[Running] = []

    def start(self) -> None:
        logs = self.config.home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        for service in plan(self.config):
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

    def stop(self, grace: float = 20.0) -> None:
        for run in reversed(self.running):
            if run.process.poll() is None:
                _signal_group(run.process, signal.SIGTERM)
        for run in reversed(self.running):
            try:
                run.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _signal_group(run.process, signal.SIGKILL)
                run.process.wait(timeout=10)
            run.log.close()
        self.running.clear()


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    """Signal the service and the processes it started (uvicorn workers, flow runs): its own group only."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    previous = signal.getsignal(signal.SIGTERM)

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def up(config: StackConfig, *, say: Callable[[str], None] = print) -> int:
    """Start everything, print where it answers, run until Ctrl-C; returns the exit code."""
    stack = Stack(config, say=say)
    with _terminate_as_interrupt():
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
            return 1
        except KeyboardInterrupt:
            say("stopping")
            return 0
        finally:
            stack.stop()
            say("stack stopped")


__all__ = ["Service", "Stack", "StackConfig", "StackError", "ensure_databases", "plan",
           "prefect_database_url", "up"]
