"""Real nodes for federation and API tests: each its own SQLite database and a uvicorn server on a free
loopback port, running the same app as ``exhorto serve``."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlmodel import func, select

from engine import keys, tokens
from engine.api import Settings, create_app
from engine.seed import demo_username, seed_demo
from engine.store.db import Database
from engine.store.federation_models import Attachment, SignedMessage
from engine.store.models import AuditEvent, Authority, Case, Message

os.environ.setdefault("EXHORTO_KEY_PASSPHRASE", "exhorto-test-passphrase")
os.environ.setdefault("EXHORTO_KEY_KDF_COST", "10")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """uvicorn in a thread; stop() and start() again on the same port simulate a node going down and back."""

    def __init__(self, app: Any, port: int) -> None:
        self.app, self.port = app, port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"server on port {self.port} did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(timeout=20)


@dataclass
class Node:
    name: str
    db: Database
    served: str
    port: int
    server: Server
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def inbox(self) -> str:
        return self.url + "/inbox"

    def token(self, role: str, authority: str | None = None) -> str:
        username = demo_username(authority or self.served, role)
        if username not in self.tokens:
            self.tokens[username] = tokens.issue(self.db, username, label="tests")[0]
        return self.tokens[username]

    def client(self, role: str, authority: str | None = None, lang: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token(role, authority)}"}
        if lang:
            headers["Accept-Language"] = lang
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def counts(self) -> dict[str, int]:
        """Rows of every table a delivery could touch: proof that a rejection changed nothing."""
        with self.db.reader() as session:
            return {model.__name__: session.exec(select(func.count()).select_from(model)).one()
                    for model in (Case, Message, AuditEvent, SignedMessage, Attachment)}


def make_node(folder: Path, name: str, served: str, *, settings: Settings | None = None,
              url: str | None = None) -> Node:
    db = Database(url or f"sqlite:///{folder / (name + '.db')}")
    db.create_all()
    seed_demo(db)
    keys.generate(db, served)
    port = free_port()
    server = Server(create_app(db, settings or Settings()), port)
    server.start()
    return Node(name=name, db=db, served=served, port=port, server=server)


@contextmanager
def colombian_node_with_a_case(folder: Path, name: str, environment: dict[str, str]) -> Iterator[Node]:
    """A CO-FGN node holding one request to ES-MJ, started under ``environment`` (e.g. throttling limits read
    when the app is built), stopped and closed afterwards."""
    from engine.cases import create_case
    from engine.directory import actor_for
    from tests.helpers import example

    with pytest.MonkeyPatch.context() as patch:
        for variable, value in environment.items():
            patch.setenv(variable, value)
        made = make_node(folder, name, "CO-FGN")
    create_case(made.db, actor=actor_for(made.db, "co.clerk"), counterpart="ES-MJ",
                payload=example("request", "co-es-bank-records"))
    try:
        yield made
    finally:
        made.server.stop()
        made.db.dispose()


@contextmanager
def linked_pair(backend: str, folder: Path, prefix: str) -> Iterator[tuple[Node, Node]]:
    """CO-FGN (node A) and ES-MJ (node B), linked, each on its own SQLite file or PostgreSQL database (created
    here, dropped afterwards; skipped with the reason when PostgreSQL is absent)."""
    import psycopg

    from tests.conftest import PG_ADMIN_URL, PG_SKIP_REASON

    names: list[str] = []
    urls: dict[str, str | None] = {"a": None, "b": None}
    if backend == "postgresql":
        if PG_SKIP_REASON is not None:
            pytest.skip(PG_SKIP_REASON)
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            for side in urls:
                names.append(f"exhorto_{prefix}_{side}_{os.getpid()}_{uuid.uuid4().hex[:8]}")
                admin.execute(f'CREATE DATABASE "{names[-1]}"')
                urls[side] = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{names[-1]}"
    a = make_node(folder, "node-a", "CO-FGN", url=urls["a"])
    b = make_node(folder, "node-b", "ES-MJ", url=urls["b"])
    link(a, b)
    try:
        yield a, b
    finally:
        for node in (a, b):
            node.server.stop()
            node.db.dispose()
        if names:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                for name in names:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def link(a: Node, b: Node) -> None:
    """Each node learns the other's endpoint and public keys (what operators do with `exhorto keys export`)."""
    for here, there in ((a, b), (b, a)):
        keys.import_public(here.db, keys.export_public(there.db), authority=there.served)
        with here.db.transaction() as session:
            row = session.get(Authority, there.served)
            assert row is not None
            row.endpoint_url = there.inbox
            session.add(row)
