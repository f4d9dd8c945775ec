"""REST behaviour: optimistic locking (409), RFC 9457 problems localized after Accept-Language, token life cycle,
the published OpenAPI document, and the PDF download."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from engine import tokens
from engine.store.models import utcnow
from tests.federation.nodes import Node
from tests.helpers import example


def draft(client: httpx.Client) -> dict:
    response = client.post("/cases", json={"counterpart": "ES-MJ",
                                           "payload": example("request", "co-es-bank-records")})
    assert response.status_code == 201, response.text
    return response.json()


def test_concurrent_actions_one_wins_the_other_gets_409(node: Node) -> None:
    with node.client("clerk") as clerk, node.client("judge") as judge:
        case = draft(clerk)
        first = clerk.post(f"/cases/{case['id']}/actions", json={"action": "submit", "version": case["version"]})
        assert first.status_code == 200 and first.json()["case"]["version"] == case["version"] + 1
        late = judge.post(f"/cases/{case['id']}/actions", json={"action": "submit", "version": case["version"]})
        assert late.status_code == 409
        problem = late.json()
        assert late.headers["content-type"] == "application/problem+json"
        assert problem["code"] == "stale_version" and problem["status"] == 409
        assert problem["type"].endswith("/stale_version") and problem["instance"] == f"/cases/{case['id']}/actions"
        edit = clerk.put(f"/cases/{case['id']}/draft", json={"payload": {}, "version": case["version"]})
        assert edit.status_code in (409, 422)  # stale, or no longer a draft: never applied
        assert clerk.get(f"/cases/{case['id']}").json()["state"] == "pending_approval"


def test_errors_are_localized_after_accept_language(node: Node) -> None:
    bad = {"grounds": [], "reasons": ""}
    messages = {}
    for lang in ("es", "pt", "fr", "en"):
        with node.client("clerk", lang=f"{lang}-XX,{lang};q=0.9,en;q=0.1") as client:
            result = client.post("/forms/refusal/validate", json=bad)
            assert result.status_code == 200 and result.json()["valid"] is False
            messages[lang] = [e["message"] for e in result.json()["errors"]]
            missing = client.get("/cases/999999")
            assert missing.status_code == 404
            messages[lang + "-404"] = missing.json()["detail"]
    assert len({tuple(m) for k, m in messages.items() if not k.endswith("404")}) == 4
    assert messages["es-404"] == "El expediente 999999 no existe."
    assert messages["en-404"] == "Case 999999 does not exist."
    with node.client("clerk", lang="fr") as client:
        refused = client.post("/cases", json={"counterpart": "ES-MJ", "payload": {"language": 12}})
    assert refused.status_code == 422 and refused.json()["code"] == "form_invalid"
    assert refused.json()["errors"] and refused.json()["errors"][0]["pointer"] == "/language"


def test_invalid_bodies_are_problems(node: Node) -> None:
    with node.client("clerk") as client:
        case = draft(client)
        # Not a JSON object at all: the input boundary; an object of the wrong shape: the request model.
        for body, code in ((b"{not json", "invalid_document"), (b"[]", "invalid_document"),
                           (b'{"action": 5}', "request_invalid")):
            response = client.post(f"/cases/{case['id']}/actions", content=body,
                                   headers={"Content-Type": "application/json"})
            assert response.status_code == 422 and response.json()["code"] == code, response.text
        unknown = client.post(f"/cases/{case['id']}/actions", json={"action": "teleport", "version": 1})
        assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_action"
        wrong_state = client.post(f"/cases/{case['id']}/actions", json={"action": "transmit", "version": 1})
        assert wrong_state.status_code == 409 and wrong_state.json()["code"] == "action_not_allowed_in_state"
        assert client.get("/forms/nonsense/schema").status_code == 404


def test_tokens_expire_and_are_revoked(node: Node) -> None:
    token, row = tokens.issue(node.db, "co.auditor", label="short", valid_for=timedelta(hours=1))
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(node.url + "/me", headers=headers).json()["role"] == "auditor"
    with pytest.raises(tokens.InvalidToken):
        tokens.authenticate(node.db, token, now=utcnow() + timedelta(hours=2))  # expired by then
    assert tokens.revoke(node.db, row.prefix) == 1
    assert httpx.get(node.url + "/me", headers=headers).status_code == 401
    with node.db.reader() as session:
        from engine.store.federation_models import ApiToken

        stored = session.get(ApiToken, row.id)
    assert stored is not None and token not in (stored.token_hash, stored.prefix)  # only the hash is kept


def test_openapi_is_published_with_bearer_auth(node: Node) -> None:
    schema = httpx.get(node.url + "/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert {"/inbox", "/cases", "/cases/{case_id}/actions", "/forms/{form}/validate", "/deadlines",
            "/audit/verify", "/cases/{case_id}/document"} <= set(schema["paths"])
    assert any(s.get("scheme") == "bearer" for s in schema["components"]["securitySchemes"].values())


def test_pdf_download(node: Node) -> None:
    with node.client("judge", lang="pt") as judge:
        case = draft(node.client("clerk"))
        response = judge.get(f"/cases/{case['id']}/document")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and "_pt" in response.headers["content-disposition"]


def test_an_action_on_a_case_that_does_not_exist_is_not_found_with_or_without_a_key(node: Node) -> None:
    # The action reads its case inside its own transaction; the idempotency fingerprint is taken before that, so an
    # id beyond JSON's safe integers must not break it (found by tests/api/test_openapi_fuzz.py).
    with node.client("clerk") as client:
        for case_id in (999_999, 2**60):
            for headers in ({}, {"Idempotency-Key": f"missing-{case_id}"}):
                response = client.post(f"/cases/{case_id}/actions", json={"action": "submit", "version": 1},
                                       headers=headers)
                assert response.status_code == 404, (case_id, headers, response.text)
                assert response.json()["code"] == "case_not_found"


def test_write_routes_check_token_then_id_then_body(node: Node) -> None:
    """POST /cases and /cases/{id}/actions read their actor, id, key and body themselves (issue 19): the same
    answers, in the same order, and the same published operation as FastAPI's parameters gave."""
    bad_body = {"action": 5}
    assert httpx.post(node.url + "/cases/0/actions", json=bad_body).status_code == 401  # the token first
    assert httpx.post(node.url + "/cases", json={"payload": 3}).status_code == 401
    with node.client("clerk") as client:
        for case_id, code in (("0", "greater_than_equal"), (str(2**63), "less_than_equal"), ("x", "int_parsing")):
            response = client.post(f"/cases/{case_id}/actions", json={"action": "submit", "version": 1})
            assert response.status_code == 422, response.text
            assert response.json()["errors"][0]["pointer"] == "/path/case_id"
            assert response.json()["errors"][0]["code"] == code
        case = draft(client)
        response = client.post(f"/cases/{case['id']}/actions", json=bad_body)
        pointers = {e["pointer"]: e["code"] for e in response.json()["errors"]}
        assert response.status_code == 422 and pointers == {"/body/action": "string_type",
                                                               "/body/version": "missing"}
        as_text = client.post(f"/cases/{case['id']}/actions", content=b'{"action": "submit", "version": 1}',
                              headers={"Content-Type": "text/plain"})  # not JSON: never parsed past the boundary
        assert as_text.status_code == 422 and as_text.json()["errors"][0]["pointer"] == "/body"
        empty = client.post(f"/cases/{case['id']}/actions")
        assert empty.status_code == 422 and empty.json()["errors"][0]["pointer"] == "/body"
        created = client.post("/cases", json={"counterpart": "ES-MJ", "payload": 3})
        assert created.status_code == 422 and created.json()["errors"][0]["pointer"] == "/body/payload"
    with node.client("auditor") as auditor:  # may not write: 403, and another authority's case stays 404
        assert auditor.post("/cases", json={"counterpart": "ES-MJ"}).status_code == 403
        assert auditor.post(f"/cases/{case['id']}/actions", json={"action": "submit", "version": 1}
                            ).status_code == 403
        assert auditor.post("/cases/999999/actions", json={"action": "submit", "version": 1}).status_code == 404
    schema = httpx.get(node.url + "/openapi.json").json()
    act = schema["paths"]["/cases/{case_id}/actions"]["post"]
    assert act["security"] and [p["name"] for p in act["parameters"]] == ["case_id", "Idempotency-Key"]
    assert act["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ActionRequest"}
    assert {"ActionRequest", "CaseCreate"} <= set(schema["components"]["schemas"])
    assert schema["paths"]["/cases"]["post"]["requestBody"]["required"] is True
