"""Three nodes on loopback: two authorities (ES-CA, CO-CA), each with its own generated cases, and an
observatory (PT-OBS, quarterly returns) that trusts both. Returns travel signed through the outbox over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine import directory, keys, observatory
from engine.api import Settings, create_app
from engine.guards import Actor
from engine.lifecycle import Role
from engine.store.db import Database
from tests.federation.nodes import Node, Server, free_port, link
from tests.stats.generate import generate

OBSERVATORY = "PT-OBS"
AUTHORITIES = ("ES-CA", "CO-CA")
YEAR = "2025"
THRESHOLD = 3  # small: the generated authorities handle a few dozen requests a quarter
QUARTERS = tuple(f"{YEAR}-Q{q}" for q in range(1, 5))


@dataclass
class Federation:
    authorities: dict[str, Node]
    observatory: Node


def _node(folder: Path, name: str, served: str, db: Database) -> Node:
    keys.generate(db, served)
    port = free_port()
    server = Server(create_app(db, Settings()), port)
    server.start()
    return Node(name=name, db=db, served=served, port=port, server=server)


def _add_observatory_authority(db: Database) -> None:
    directory.add_authority(db, code=OBSERVATORY, country="PT", name="Observatório conjunto", languages=["pt"],
                            timezone="Europe/Lisbon", contact_email="observatorio@example.pt")
    observatory.register(db, OBSERVATORY, granularity="quarter", threshold=THRESHOLD)


def supervisor(authority: str) -> Actor:
    return Actor(username=f"{authority.lower()}.supervisor", authority_code=authority, role=Role("supervisor"),
                 language="en")


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    folder = tmp_path_factory.mktemp("observatory")
    nodes: dict[str, Node] = {}
    for seed, code in enumerate(AUTHORITIES, start=11):
        db = Database(f"sqlite:///{folder / (code + '.db')}")
        db.create_all()
        generate(db, exchanges=6000, seed=seed)
        _add_observatory_authority(db)
        observatory.add_member(db, OBSERVATORY, code)
        nodes[code] = _node(folder, code.lower(), code, db)
    db = Database(f"sqlite:///{folder / 'observatory.db'}")
    db.create_all()
    for code in AUTHORITIES:
        directory.add_authority(db, code=code, country=code[:2], name=f"Central authority {code[:2]}",
                                languages=["es"], timezone="UTC", contact_email=f"ca@{code[:2].lower()}.example")
    directory.add_authority(db, code="FR-CA", country="FR", name="Central authority FR", languages=["fr"],
                            timezone="Europe/Paris", contact_email="ca@fr.example")
    _add_observatory_authority(db)
    for code in AUTHORITIES:
        observatory.add_member(db, OBSERVATORY, code)
    obs = _node(folder, "observatory", OBSERVATORY, db)
    for node in nodes.values():
        link(node, obs)
    yield Federation(authorities=nodes, observatory=obs)
    for node in (*nodes.values(), obs):
        node.server.stop()
        node.db.dispose()
