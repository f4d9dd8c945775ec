"""Privacy fixtures: a private copy of the generated data set per backend, and the Prefect test server."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

from engine.store.db import Database
from tests.stats.generate import Dataset, clone

os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="prefect-home-"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def erasable(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dataset]:
    """A copy of the generated data set that the module's tests may change (retention runs on it)."""
    if request.param == "postgres":
        from tests.conftest import PG_SKIP_REASON

        if PG_SKIP_REASON is not None:
            pytest.skip(PG_SKIP_REASON)
    yield clone(request.param, tmp_path_factory.mktemp("erasable"))


@pytest.fixture
def erasable_db(erasable: Dataset) -> Iterator[Database]:
    database = Database(erasable.url)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[str]:
    """One Prefect test server per session: reuse the one the deadlines tests started, else start it."""
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        yield str(PREFECT_API_URL.value())
        return
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield str(PREFECT_API_URL.value())
