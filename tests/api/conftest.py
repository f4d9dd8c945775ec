"""One node with the demo authorities (hub mode) serving the REST API on a loopback port, shared per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.federation.nodes import Node, make_node


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    # The authorization tests fail authentication on purpose, many times: lift the failed-auth limit for them.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EXHORTO_AUTH_MAX_FAILURES", "100000")
        made = make_node(tmp_path_factory.mktemp("api"), "api", "CO-FGN")
    yield made
    made.server.stop()
    made.db.dispose()
