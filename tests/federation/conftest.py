"""Two nodes on loopback — CO-FGN (Bogotá) on node A, ES-MJ (Madrid) on node B — shared by the module's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.api import Settings
from tests.federation.nodes import Node, link, make_node

MAX_BYTES = 512 * 1024


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    folder: Path = tmp_path_factory.mktemp("nodes")
    a = make_node(folder, "node-a", "CO-FGN")
    b = make_node(folder, "node-b", "ES-MJ", settings=Settings(max_message_bytes=MAX_BYTES))
    link(a, b)
    yield a, b
    for node in (a, b):
        node.server.stop()
        node.db.dispose()
