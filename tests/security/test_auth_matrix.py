"""Authentication across every authenticated operation of the published API, over real HTTP: missing, malformed,
unknown, expired and revoked tokens are a 401 (or a 429 once throttled), never a 5xx; per endpoint family, a
valid token is still served after more failures from the same address than the per-address limit, by other
principals; and a principal that keeps failing is throttled (429 + Retry-After) whatever family it tries."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from engine import tokens
from engine.store.models import utcnow
from tests.federation.nodes import Node, colombian_node_with_a_case

PER_PRINCIPAL = 3
PER_ADDRESS = 6


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    limits = {"EXHORTO_AUTH_MAX_FAILURES": str(PER_PRINCIPAL),
              "EXHORTO_AUTH_MAX_FAILURES_PER_ADDRESS": str(PER_ADDRESS),
              "EXHORTO_AUTH_WINDOW_SECONDS": "300"}
    with colombian_node_with_a_case(tmp_path_factory.mktemp("auth-matrix"), "auth", limits) as made:
        yield made


def _operations(node: Node) -> list[tuple[str, str]]:
    """(method, concrete path) of every operation the OpenAPI document says needs a bearer token."""
    spec = httpx.get(node.url + "/openapi.json").json()
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/web") or not operation.get("security"):
                continue
            concrete = path.replace("{case_id}", "1").replace("{form}", "request").replace("{sha256}", "0" * 64)
            found.append((method.upper(), concrete))
    return found


def _families(node: Node) -> dict[str, tuple[str, str]]:
    """One operation per endpoint family (the first path segment, and the case sub-resource)."""
    families: dict[str, tuple[str, str]] = {}
    for method, path in _operations(node):
        parts = path.strip("/").split("/")
        family = "/".join(parts[:3:2]) if parts[0] == "cases" and len(parts) > 2 else parts[0]
        families.setdefault(family, (method, path))
    return families


def _call(client: httpx.Client, method: str, path: str, authorization: str | bytes | None) -> httpx.Response:
    headers: dict[str, str | bytes] = {"Authorization": authorization} if authorization is not None else {}
    body: dict[str, Any] | None = {} if method in ("POST", "PUT") else None
    return client.request(method, path, headers=headers, json=body)


def _reset(node: Node) -> None:
    node.server.app.state.auth_limiter.clear()


def test_the_matrix_covers_the_api(node: Node) -> None:
    families = _families(node)
    assert {"cases", "cases/draft", "cases/actions", "cases/document", "cases/attachments", "forms", "me",
            "authorities", "deadlines", "audit", "stats", "privacy"} <= set(families), sorted(families)
    assert len(_operations(node)) >= 20


def test_no_operation_answers_5xx_to_a_bad_token(node: Node) -> None:
    expired, _ = tokens.issue(node.db, "co.clerk", label="expired", valid_for=timedelta(seconds=1),
                              now=utcnow() - timedelta(seconds=5))
    revoked, row = tokens.issue(node.db, "co.judge", label="revoked")
    assert tokens.revoke(node.db, row.prefix) == 1
    bad: dict[str, str | bytes | None] = {
        "missing": None, "empty": "", "no_scheme": expired, "basic": "Basic Y28uY2xlcms6eA==",
        "bearer_without_token": "Bearer", "unknown": "Bearer exh_unknownunknownunknown",
        "not_ours": "Bearer abc.def.ghi", "huge": "Bearer exh_" + "x" * 8000,
        "latin1": "Bearer exh_\xff\xfe".encode("latin-1"),
        "expired": f"Bearer {expired}", "revoked": f"Bearer {revoked}",
    }
    seen: list[str] = []
    with httpx.Client(base_url=node.url) as client:
        for (method, path), (kind, authorization) in itertools.product(_operations(node), bad.items()):
            _reset(node)
            answer = _call(client, method, path, authorization)
            seen.append(f"{method} {path} {kind}: {answer.status_code}")
            assert answer.status_code in (400, 401, 403, 431), seen[-1]
            if answer.status_code == 401:
                assert answer.headers.get("WWW-Authenticate", "").startswith("Bearer"), seen[-1]
                assert answer.headers["content-type"].startswith("application/problem+json"), seen[-1]
    _reset(node)


@pytest.mark.parametrize("who", ["clerk", "judge"])
def test_a_valid_token_is_served_after_other_principals_exhaust_the_address(node: Node, who: str) -> None:
    good = f"Bearer {node.token(who)}"
    with httpx.Client(base_url=node.url) as client:
        for family, (method, path) in _families(node).items():
            _reset(node)
            statuses = [_call(client, method, path, f"Bearer exh_{family[:4]}{n:08d}xxxxxxxx").status_code
                        for n in range(PER_ADDRESS + 2)]
            assert statuses[0] == 401 and statuses[-1] == 429, (family, statuses)
            served = _call(client, method, path, good)
            assert served.status_code not in (401, 429) and served.status_code < 500, (family, served.text[:300])
    _reset(node)


def test_a_principal_is_throttled_after_its_own_failures_in_every_family(node: Node) -> None:
    good = f"Bearer {node.token('clerk')}"
    with httpx.Client(base_url=node.url) as client:
        for family, (method, path) in _families(node).items():
            _reset(node)
            guess = "Bearer exh_samesamesamesame"
            statuses = [_call(client, method, path, guess).status_code for _ in range(PER_PRINCIPAL)]
            assert statuses == [401] * PER_PRINCIPAL, (family, statuses)
            blocked = _call(client, method, path, guess)
            assert blocked.status_code == 429, (family, blocked.status_code)
            assert blocked.headers["content-type"].startswith("application/problem+json")
            assert 0 < int(blocked.headers["Retry-After"]) <= 300, family
            assert _call(client, method, path, good).status_code not in (401, 429), family
    _reset(node)
