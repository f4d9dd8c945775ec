"""Two authorities send signed quarterly returns through their outboxes to an observatory on a third node; the
observatory's combined figures are the sum of the authorities' own statistics, never reveal a suppressed cell
(by differencing with totals or across periods), and it refuses tampered, replayed or unacceptable returns."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlmodel import func, select

from engine import keys, observatory, outbox, stats
from engine.ids import new_id
from engine.observatory.figures import TOTAL, Row
from engine.observatory.sdmx import BREAKDOWN_CODES, DIRECTION_CODES
from engine.store.models import Message
from engine.store.observatory_models import StatisticalReturn
from engine.transport.envelope import Envelope
from engine.transport.sender import prepare
from engine.transport.signing import Transmission, parse_receipt, sign_envelope
from tests.observatory.conftest import AUTHORITIES, OBSERVATORY, QUARTERS, THRESHOLD, YEAR, Federation, supervisor

# breakdowns of `exhorto stats` with the same definition as the return's
SAME_AS_STATS = {"counterpart_country": "counterpart_country", "offence_category": "offence_category",
                 "measure_type": "measure_type", "outcome": "outcome"}


def returns_count(federation: Federation) -> int:
    with federation.observatory.db.reader() as session:
        return session.exec(select(func.count()).select_from(StatisticalReturn)).one()


@pytest.fixture(scope="module")
def sent(federation: Federation) -> Federation:
    for code, node in federation.authorities.items():
        # Returns use the stricter of the observatory's threshold and the sender's policy (default 5).
        stats.set_min_group(node.db, supervisor(code), THRESHOLD)
        for quarter in QUARTERS:
            observatory.queue_return(node.db, supervisor(code), observatory.parse_period(quarter))
        summary = outbox.dispatch_all(node.db)
        assert (summary.delivered, summary.rejected, summary.errors) == (4, 0, [])
    assert returns_count(federation) == 8
    return federation


def own_counts(federation: Federation, period: str) -> dict[tuple[str, str, str], int]:
    """Unsuppressed counts of both authorities' own `stats` for ``period``, added up."""
    span = observatory.parse_period(period)
    total: dict[tuple[str, str, str], int] = defaultdict(int)
    for code, node in federation.authorities.items():
        report = stats.compute(node.db, code, period=span, threshold=1)
        for cell in report.cells:
            if cell.section in SAME_AS_STATS and cell.count:
                total[(cell.direction, cell.section, cell.key)] += cell.count
        for direction, n in report.totals.items():
            total[(direction, "total", TOTAL)] += n or 0
    return total


@pytest.mark.parametrize("period", QUARTERS)
def test_combined_figures_are_the_sum_of_the_authorities_own_stats(sent: Federation, period: str) -> None:
    table = observatory.publish(sent.observatory.db, OBSERVATORY, observatory.parse_period(period))
    assert table.reporters == sorted(AUTHORITIES)
    expected = own_counts(sent, period)
    compared = 0
    for row in table.rows:
        if row.breakdown in (*SAME_AS_STATS, "total") and not row.hidden:
            assert row.count == expected[(row.direction, row.breakdown, row.category)], row
            compared += 1
    shown = {(r.direction, r.breakdown, r.category) for r in table.rows if r.breakdown in (*SAME_AS_STATS, "total")}
    hidden = set(expected) - {(r.direction, r.breakdown, r.category) for r in table.rows if not r.hidden}
    assert compared >= 10 and len(hidden) >= 10  # both visible and suppressed figures are exercised
    # A suppressed category has no row at all; nothing is published that the authorities did not count.
    assert shown <= set(expected)
    assert all(r.category == TOTAL for r in table.rows if r.hidden)


def _assert_no_lone_hidden_cell(rows: list[Row], threshold: int) -> None:
    for row in rows:
        assert row.hidden or row.count == 0 or row.count >= threshold, row
        assert not row.hidden or row.category == TOTAL, row  # a hidden category has no row at all


def test_suppressed_cells_cannot_be_recovered_by_differencing(sent: Federation) -> None:
    db = sent.observatory.db
    year = observatory.publish(db, OBSERVATORY, observatory.parse_period(YEAR))
    quarters = [observatory.publish(db, OBSERVATORY, observatory.parse_period(q)) for q in QUARTERS]
    for table in (year, *quarters):
        _assert_no_lone_hidden_cell(table.rows, THRESHOLD)
    # Differencing with totals: for single-valued breakdowns the members add up to the published total.
    for table in (year, *quarters):
        totals = {r.direction: r for r in table.rows if r.breakdown == "total"}
        for direction, total in totals.items():
            members = [r for r in table.rows if r.breakdown == "outcome" and r.direction == direction]
            if not total.hidden:  # what the missing outcome rows add up to: nothing, or no small group
                rest = (total.count or 0) - sum(m.count or 0 for m in members)
                assert rest == 0 or rest >= THRESHOLD
    # Differencing across periods: the year minus the other three quarters must never give a small group.
    by_quarter = [{r.identity: r for r in q.rows} for q in quarters]
    attacked = 0
    for row in year.rows:
        for i, quarter in enumerate(by_quarter):
            if row.identity not in quarter or quarter[row.identity].hidden:
                others = [q.get(row.identity) for j, q in enumerate(by_quarter) if j != i]
                if row.hidden or any(o is None or o.hidden for o in others):
                    continue
                attacked += 1
                rest = (row.count or 0) - sum(o.count or 0 for o in others if o is not None)
                assert rest == 0 or rest >= THRESHOLD, row.identity
    assert attacked >= 0


def _post(federation: Federation, body: bytes) -> dict[str, Any]:
    response = httpx.post(federation.observatory.inbox, content=body,
                          headers={"Content-Type": "application/json"}, timeout=30)
    signed = parse_receipt(response.content)
    with federation.observatory.db.reader() as session:
        key = keys.lookup(session, signed.signature.key_id)
    assert key is not None and key.authority_code == OBSERVATORY and signed.holds(keys.public_key(key))
    return signed.receipt


def _queued(federation: Federation, code: str, period: str) -> Transmission:
    node = federation.authorities[code]
    message = observatory.queue_return(node.db, supervisor(code), observatory.parse_period(period))
    with node.db.transaction() as session:  # this test delivers it by hand
        row = session.get(Message, message.id)
        assert row is not None
        row.status = "held"
        session.add(row)
    return prepare(node.db, Envelope.from_message(message))


def _resigned(federation: Federation, t: Transmission, signer: str, db: Any = None, **changes: Any) -> bytes:
    key = keys.signing_key(db or federation.authorities[signer].db, signer)
    envelope = Envelope.from_dict({**t.envelope, **changes})
    return sign_envelope(envelope, key.private, key.key_id, t.contents).to_bytes()


def test_tampered_replayed_and_unacceptable_returns_are_refused(sent: Federation) -> None:
    genuine = _queued(sent, "ES-CA", "2024-Q4")
    payload = genuine.envelope["payload"]
    before = returns_count(sent)

    tampered = genuine.to_dict()
    rows = [dict(r) for r in payload["rows"]]
    rows[0]["count"] = (rows[0]["count"] or 0) + 100
    tampered["envelope"] = {**tampered["envelope"], "payload": {**payload, "rows": rows}}
    assert _post(sent, json.dumps(tampered).encode())["reason"] == "bad_signature"

    first = _post(sent, genuine.to_bytes())
    assert first["status"] == "delivered" and first["reference"] == f"{OBSERVATORY}/2024-Q4/ES-CA"
    assert _post(sent, genuine.to_bytes()) == first  # a retransmission: same receipt, one effect
    assert returns_count(sent) == before + 1

    replay = _resigned(sent, genuine, "ES-CA", payload={**payload, "generated_at": "2026-12-01T00:00:00+00:00"})
    assert _post(sent, replay)["reason"] == "replay"
    again = _resigned(sent, genuine, "ES-CA", message_id=new_id())
    assert _post(sent, again)["reason"] == "duplicate_return"

    cases = {
        "out_of_period": {**payload, "period": "2024"},
        "not_suppressed": {**payload, "rows": [{**payload["rows"][0], "count": 2}, *payload["rows"][1:]]},
        "sender_mismatch": {**payload, "authority": "CO-CA"},
        "schema_invalid": {**payload, "rows": [{**payload["rows"][0], "name": "Juan Pérez"}]},
    }
    for reason, changed in cases.items():
        body = _resigned(sent, genuine, "ES-CA", message_id=new_id(), payload=changed)
        assert _post(sent, body)["reason"] == reason, reason
    future = _resigned(sent, genuine, "ES-CA", message_id=new_id(), payload={**payload, "period": "2026-Q4"})
    assert _post(sent, future)["reason"] == "out_of_period"  # not over when sent

    keys.generate(sent.observatory.db, "FR-CA")  # a genuine key of an authority the observatory does not trust
    signed_now = datetime.now(UTC).isoformat(timespec="microseconds")  # the key exists from now on, not before
    stranger = _resigned(sent, genuine, "FR-CA", db=sent.observatory.db, message_id=new_id(), **{"from": "FR-CA"},
                         payload={**payload, "authority": "FR-CA"}, sent_at=signed_now)
    assert _post(sent, stranger)["reason"] == "untrusted_sender"
    assert returns_count(sent) == before + 1


def test_sdmx_csv_read_back_gives_the_same_numbers(sent: Federation) -> None:
    table = observatory.publish(sent.observatory.db, OBSERVATORY, observatory.parse_period(YEAR))
    text = observatory.render(table, "sdmx")
    lines = list(csv.DictReader(io.StringIO(text)))
    assert {line["STRUCTURE_ID"] for line in lines} == {"EXHORTO:MLA_STATS(1.0)"}
    assert {line["TIME_PERIOD"] for line in lines} == {YEAR} and {line["FREQ"] for line in lines} == {"A"}
    read = {(line["DIRECTION"], line["BREAKDOWN"], line["CATEGORY"], line["CURRENCY"], line["INDICATOR"]):
            (line["OBS_VALUE"], line["CONF_STATUS"]) for line in lines}
    assert len(read) == len(lines)
    for row in table.rows:
        key = (DIRECTION_CODES[row.direction], BREAKDOWN_CODES[row.breakdown], row.category, row.currency, "REQ")
        value, status = read[key]
        assert (int(value) if value else None, status) == (row.count, "C" if row.hidden else "F")
    csv_rows = list(csv.DictReader(io.StringIO(observatory.render(table, "csv"))))
    assert [int(r["count"]) if r["count"] else None for r in csv_rows] == [r.count for r in table.rows]
    data = json.loads(observatory.render(table, "json"))
    assert [Row.from_dict(r) for r in data["rows"]] == [replace(r) for r in table.rows]


def test_markdown_names_measures_and_outcomes_in_the_readers_language(sent: Federation) -> None:
    table = observatory.publish(sent.observatory.db, OBSERVATORY, observatory.parse_period(YEAR))
    text = observatory.render(table, "md", "es")
    assert "Información bancaria y financiera" in text or "bank_records" not in text
    assert "| bank_records" not in text and "| executed" not in text


def test_web_page_shows_the_combined_figures_with_a_chart(sent: Federation) -> None:
    from fastapi.testclient import TestClient

    from engine import directory
    from engine.api import Settings, create_app

    db = sent.observatory.db
    directory.add_user(db, username="obs.analyst", authority=OBSERVATORY, role="auditor", preferred_language="es")
    directory.add_user(db, username="fr.clerk", authority="FR-CA", role="clerk")
    app = create_app(db, Settings())
    client = TestClient(app, headers={"Accept-Language": "es"})
    _login(db, client, "obs.analyst")
    page = client.get("/web/observatory", params={"period": YEAR})
    assert page.status_code == 200
    table = observatory.publish(db, OBSERVATORY, observatory.parse_period(YEAR))
    assert "data:image/png;base64," in page.text, [(r.breakdown, r.category, r.count) for r in table.rows]
    from engine.observatory.labels import category_label

    visible = [r for r in table.rows if not r.hidden and r.category != TOTAL and r.breakdown == "measure_type"]
    assert visible and all(category_label(r.breakdown, r.category, "es") in page.text for r in visible)
    assert "bank_records" not in page.text
    other = TestClient(app)
    _login(db, other, "fr.clerk")
    assert other.get("/web/observatory").status_code == 404  # not an observatory: no such page


def _login(db: Any, client: Any, username: str) -> None:
    from engine.web.passwords import set_password
    from tests.web.conftest import PASSWORD, csrf_of

    set_password(db, username, PASSWORD)
    page = client.get("/web/login")
    response = client.post("/web/login", data={"csrf_token": csrf_of(page.text), "username": username,
                                               "password": PASSWORD, "next": "/web/"})
    assert response.status_code == 200, response.text[:300]
