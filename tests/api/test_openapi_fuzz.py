"""Schemathesis drives every operation of the published OpenAPI document with generated inputs and runs every
check it has (`--checks all`): no 5xx, every status, content type and header as declared, schema-valid input
accepted and invalid input rejected."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.federation.nodes import Node, colombian_node_with_a_case

ALL_CHECKS = list(schemathesis.checks.CHECKS.get_all())
# Examples per operation: a few in the suite; bench/fuzz.py runs this test with many more.
EXAMPLES = int(os.environ.get("EXHORTO_SCHEMATHESIS_EXAMPLES", "8"))


@pytest.fixture(scope="module")
def fuzzed_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    with colombian_node_with_a_case(tmp_path_factory.mktemp("fuzz"), "fuzz",
                                    {"EXHORTO_AUTH_MAX_FAILURES": "100000"}) as made:
        yield made


@pytest.fixture(scope="module")
def api_schema(fuzzed_node: Node) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_url(fuzzed_node.url + "/openapi.json")
    # The web UI (HTML forms, its own session auth) is not part of the REST contract fuzzed here.
    return schema.exclude(path_regex="^/web")


def test_no_server_errors(api_schema: schemathesis.BaseSchema, fuzzed_node: Node) -> None:
    # Driven by hand rather than through schemathesis' pytest plugin, which does not support this pytest.
    headers = {"Authorization": f"Bearer {fuzzed_node.token('clerk')}"}
    failures: list[str] = []
    examples = 0
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def exercise(case: schemathesis.Case) -> None:
            nonlocal examples
            examples += 1
            try:
                case.call_and_validate(base_url=fuzzed_node.url, headers=headers, checks=ALL_CHECKS)
            except AssertionError as failure:  # schemathesis' failures (grouped) are assertion errors
                failures.append(f"{case.method} {case.formatted_path}: {str(failure)[:600]}")

        exercise()
    # The figures the README's security section quotes (`pytest -s` shows them).
    print(f"schemathesis --checks all: {len(operations)} operations, {examples} examples, {len(failures)} failures")
    assert examples >= len(operations)
    assert failures == [], "\n".join(failures[:20])
