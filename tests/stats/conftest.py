"""The generated data set (built once per backend and process), shared read-only by the statistics tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.store.db import Database
from tests.stats.generate import Dataset, dataset


@pytest.fixture(scope="session")
def generated_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("generated")


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def generated(request: pytest.FixtureRequest, generated_folder: Path) -> Dataset:
    if request.param == "postgres":
        from tests.conftest import PG_SKIP_REASON

        if PG_SKIP_REASON is not None:
            pytest.skip(PG_SKIP_REASON)
    return dataset(request.param, generated_folder)


@pytest.fixture
def generated_db(generated: Dataset) -> Iterator[Database]:
    database = Database(generated.url)
    yield database
    database.dispose()  # no idle connection may stay open on a PostgreSQL template
