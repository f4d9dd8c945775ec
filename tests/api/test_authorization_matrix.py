"""Every endpoint × every role × own / other authority. Another authority's case is always 404 (never 403: its
existence is not revealed); an auditor never changes anything; a missing token is 401."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from engine.cases import create_case
from engine.directory import actor_for
from tests.federation.nodes import Node
from tests.helpers import example

ROLES = ("clerk", "judge", "supervisor", "auditor")
ALL = dict.fromkeys(ROLES, 200)
DRAFTERS = {"clerk": 200, "judge": 200, "supervisor": 403, "auditor": 403}
FILE = b"annex: certified statement\n"

Body = Callable[[dict[str, Any]], dict[str, Any]]
# (method, path under /cases/{id} or absolute, JSON body from the case, expected status per role on own case,
#  needs a fresh draft per role)
CASE_ENDPOINTS: list[tuple[str, str, Body | None, dict[str, int], bool]] = [
    ("GET", "", None, ALL, False),
    ("PUT", "/draft", lambda c: {"payload": c["payload"], "version": c["version"]}, DRAFTERS, True),
    ("GET", "/actions", None, ALL, False),
    ("POST", "/actions", lambda c: {"action": "submit", "version": c["version"]}, DRAFTERS, True),
    ("GET", "/history", None, ALL, False),
    ("GET", "/audit", None, ALL, False),
    ("GET", "/messages", None, ALL, False),
    ("GET", "/deadlines", None, ALL, False),
    ("GET", "/attachments", None, ALL, False),
    ("POST", "/attachments?name=annex.txt", None, {"clerk": 201, "judge": 201, "supervisor": 201,
                                                   "auditor": 403}, False),
    ("GET", "/attachments/{sha256}", None, ALL, False),
    ("GET", "/document?lang=fr", None, ALL, False),
]
GLOBAL_ENDPOINTS: list[tuple[str, str, Any, dict[str, int]]] = [
    ("GET", "/cases", None, ALL),
    ("POST", "/cases", {"counterpart": "ES-MJ", "payload": {"language": "es"}},
     {"clerk": 201, "judge": 201, "supervisor": 403, "auditor": 403}),
    ("GET", "/me", None, ALL),
    ("GET", "/authorities", None, ALL),
    ("GET", "/deadlines", None, ALL),
    ("GET", "/forms", None, ALL),
    ("GET", "/forms/request/schema", None, ALL),
    ("POST", "/forms/refusal/validate", {"grounds": []}, ALL),
    ("GET", "/audit/verify", None, {"clerk": 403, "judge": 200, "supervisor": 200, "auditor": 200}),
]


def fresh_case(node: Node) -> dict[str, Any]:
    case = create_case(node.db, actor=actor_for(node.db, "co.clerk"), counterpart="ES-MJ",
                       payload=example("request", "co-es-bank-records"))
    return {"id": case.id, "version": case.version, "payload": case.payload}


def call(client: httpx.Client, method: str, path: str, body: Any) -> httpx.Response:
    if path.split("?")[0].endswith("/attachments") and method == "POST":
        return client.post(path, content=FILE, headers={"Content-Type": "text/plain"})
    return client.request(method, path, content=None if body is None else json.dumps(body),
                          headers={"Content-Type": "application/json"})


@pytest.fixture(scope="module")
def shared_case(node: Node) -> dict[str, Any]:
    case = fresh_case(node)
    with node.client("clerk") as clerk:
        uploaded = clerk.post(f"/cases/{case['id']}/attachments", params={"name": "annex.txt"}, content=FILE,
                              headers={"Content-Type": "text/plain"})
    assert uploaded.status_code == 201, uploaded.text
    return {**case, "sha256": uploaded.json()["sha256"]}


@pytest.mark.parametrize("role", ROLES)
def test_case_endpoints_own_and_other_authority(node: Node, shared_case: dict[str, Any], role: str) -> None:
    own, other = node.client(role), node.client(role, authority="FR-MJ")
    for method, suffix, body_of, expected, fresh in CASE_ENDPOINTS:
        case = fresh_case(node) if fresh else shared_case
        path = f"/cases/{case['id']}" + suffix.replace("{sha256}", shared_case["sha256"])
        body = body_of(case) if body_of else None
        response = call(other, method, path, body)
        assert response.status_code == 404, (role, "other", method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert "FR-MJ" not in response.text and "CO-FGN" not in response.text  # says nothing about the owner
        response = call(own, method, path, body)
        assert response.status_code == expected[role], (role, "own", method, path, response.text)
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("role", ROLES)
def test_global_endpoints(node: Node, shared_case: dict[str, Any], role: str) -> None:
    with node.client(role) as own, node.client(role, authority="FR-MJ") as other:
        for method, path, body, expected in GLOBAL_ENDPOINTS:
            response = call(own, method, path, body)
            assert response.status_code == expected[role], (role, method, path, response.text)
        # Lists never show another authority's cases.
        assert all(c["reference"].startswith("FR-MJ/") for c in other.get("/cases").json())
        assert shared_case["id"] in {c["id"] for c in own.get("/cases").json()}


def test_every_endpoint_needs_a_token(node: Node, shared_case: dict[str, Any]) -> None:
    paths = [(m, f"/cases/{shared_case['id']}" + s.replace("{sha256}", shared_case["sha256"]))
             for m, s, _, _, _ in CASE_ENDPOINTS] + [(m, p) for m, p, _, _ in GLOBAL_ENDPOINTS]
    with httpx.Client(base_url=node.url) as anonymous:
        for method, path in paths:
            for headers in ({}, {"Authorization": "Bearer exh_not-a-token"}, {"Authorization": "Basic eDp5"}):
                response = anonymous.request(method, path, headers=headers)
                assert response.status_code == 401, (method, path, headers, response.text)
                assert response.headers["www-authenticate"] == "Bearer"
        assert anonymous.get("/health").status_code == 200
        assert anonymous.get("/federation/keys").json()[0]["authority"] == "CO-FGN"
