"""The input boundary seen from the web UI: every kind of bad input a browser (or someone posing as one) can post
to the editor — over 1 MiB, invalid UTF-8, absurd nesting, integers beyond 2^53, NaN/Infinity, a JSON body that is
not an object — gets a 4xx page with a clear message, never a 5xx, and the draft stays as it was."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from engine.cases import get_case
from tests.web.conftest import Web, csrf_of

MEASURE = [("/measures#count", "1"), ("/measures/0/type", "bank_records"),
           ("/measures/0/description", "Extractos bancarios.")]

# kind → the fields posted (on top of a valid draft's), and what the page must name.
BAD_FIELDS: dict[str, tuple[list[tuple[str, str]], str]] = {
    "over_1_mib": ([("/facts/summary", "x" * (1024 * 1024 + 16))], "1048576"),
    "integer_beyond_2_53": ([*MEASURE, ("/measures/0/amount/currency", "EUR"),
                             ("/measures/0/amount/value", str(2**53 + 1))], "/measures/0/amount/value"),
    "nan": ([*MEASURE, ("/measures/0/amount/currency", "EUR"), ("/measures/0/amount/value", "NaN")],
            "/measures/0/amount/value"),
    "infinity": ([*MEASURE, ("/measures/0/amount/currency", "EUR"), ("/measures/0/amount/value", "Infinity")],
                 "/measures/0/amount/value"),
    "overflowing_number": ([*MEASURE, ("/measures/0/amount/currency", "EUR"),
                            ("/measures/0/amount/value", "1e400")], "/measures/0/amount/value"),
}


def _draft(web: Web, client: TestClient) -> int:
    response = web.post(client, "/web/requests/new", [("counterpart", "ES-MJ")])
    assert response.status_code == 200
    match = re.search(r"/web/cases/(\d+)/edit$", str(response.url))
    assert match, response.url
    return int(match.group(1))


def _state(web: Web, case_id: int) -> tuple[int, dict[str, Any]]:
    case = get_case(web.db, case_id)
    return case.version, case.payload


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("kind", sorted(BAD_FIELDS))
def test_bad_form_values_get_a_4xx_page_naming_the_problem_and_save_nothing(sqlite_web: Web, kind: str) -> None:
    client = sqlite_web.client("co.clerk")
    case_id = _draft(sqlite_web, client)
    before = _state(sqlite_web, case_id)
    fields, named = BAD_FIELDS[kind]
    response = sqlite_web.post(client, f"/web/cases/{case_id}/edit", fields)
    assert 400 <= response.status_code < 500, (kind, response.status_code)
    assert "Traceback" not in response.text
    assert named in _text(response.text), (kind, _text(response.text)[:2000])
    assert _state(sqlite_web, case_id) == before


def _raw_post(client: TestClient, url: str, body: bytes, content_type: str) -> Any:
    return client.post(url, content=body, headers={"Content-Type": content_type})


def test_invalid_utf8_in_a_form_post_is_refused_or_kept_out(sqlite_web: Web) -> None:
    client = sqlite_web.client("co.clerk")
    case_id = _draft(sqlite_web, client)
    url = f"/web/cases/{case_id}/edit"
    token = csrf_of(client.get(url).text)
    before = _state(sqlite_web, case_id)
    prefix = f"csrf_token={quote(token)}&version={before[0]}&".encode()
    for body in (prefix + b"%2Ffacts%2Fsummary=%FF%FE%FD", prefix + b"%2Ffacts%2Fsummary=\xff\xfe\xfd"):
        response = _raw_post(client, url, body, "application/x-www-form-urlencoded")
        assert response.status_code < 500, response.text[:500]
        assert "Traceback" not in response.text
        version, payload = _state(sqlite_web, case_id)
        # Either refused (nothing saved) or decoded without a single undecodable byte reaching the store.
        summary = str(payload.get("facts", {}).get("summary", ""))
        assert response.status_code >= 400 or "\udcff" not in summary
        assert not any(0xD800 <= ord(c) <= 0xDFFF for c in summary)
    multipart = (b"--B\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n" + token.encode()
                 + b"\r\n--B\r\nContent-Disposition: form-data; name=\"/facts/summary\"\r\n\r\n"
                 + b"\xff\xfe\xfd\r\n--B--\r\n")
    response = _raw_post(client, url, multipart, "multipart/form-data; boundary=B")
    assert response.status_code < 500, response.text[:500]
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in str(_state(sqlite_web, case_id)[1]))


def test_absurd_nesting_in_form_field_names_is_refused_or_ignored(sqlite_web: Web) -> None:
    client = sqlite_web.client("co.clerk")
    case_id = _draft(sqlite_web, client)
    before = _state(sqlite_web, case_id)
    deep = "/facts" + "/x" * 10_000
    response = sqlite_web.post(client, f"/web/cases/{case_id}/edit", [(deep, "1"), (f"{deep}#count", "9" * 50),
                                                                      ("/measures#count", "9" * 50)])
    assert response.status_code < 500, response.text[:500]
    assert "Traceback" not in response.text
    # The editor is driven by the schema: a field it does not define is never stored, however deep.
    payload = _state(sqlite_web, case_id)[1]
    assert "x" not in payload.get("facts", {})
    assert set(payload) <= set(before[1]) | {"measures"}


JSON_BODIES: dict[str, bytes] = {
    "not_an_object": b"[1, 2, 3]",
    "ten_thousand_deep": b"[" * 10_000 + b"]" * 10_000,
    "integer_beyond_2_53": b'{"facts": {"summary": 9007199254740993}}',
    "nan": b'{"facts": {"summary": NaN}}',
    "invalid_utf8": b'{"facts": {"summary": "\xff\xfe"}}',
    "over_1_mib": b'{"facts": {"summary": "' + b"x" * (1024 * 1024 + 16) + b'"}}',
}


@pytest.mark.parametrize("kind", sorted(JSON_BODIES))
def test_json_posted_to_the_web_ui_is_a_4xx_and_stores_nothing(sqlite_web: Web, kind: str) -> None:
    client = sqlite_web.client("co.clerk")
    case_id = _draft(sqlite_web, client)
    before = _state(sqlite_web, case_id)
    for url in (f"/web/cases/{case_id}/edit", "/web/requests/new"):
        response = _raw_post(client, url, JSON_BODIES[kind], "application/json")
        assert 400 <= response.status_code < 500, (kind, url, response.status_code)
        assert "Traceback" not in response.text
        assert _text(response.text).strip(), "a page that says what went wrong"
    assert _state(sqlite_web, case_id) == before
    with sqlite_web.db.reader() as session:
        from sqlmodel import func, select

        from engine.store.models import Case

        assert session.exec(select(func.count()).select_from(Case)).one() == 1
