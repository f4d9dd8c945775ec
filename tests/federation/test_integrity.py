"""Federation integrity (issue 21), end to end between two nodes on loopback, on SQLite and on PostgreSQL:
leaked keys can be revoked and backdating buys nothing; messages only leave for real endpoints; receipts are
bound to their envelope and settle after a rotation; files belong to one case; key imports name their
authority; two dispatchers settle each message once."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import func, select

from engine import keys, outbox, privacy
from engine.actions import apply_action
from engine.cases import create_case
from engine.directory import actor_for
from engine.errors import InvalidInput
from engine.inbox import receive_signed
from engine.store.federation_models import Attachment, AuthorityKey, SignedMessage
from engine.store.models import AuditEvent, Authority, Case, Message, utcnow
from engine.transport.base import TransportError
from engine.transport.envelope import Envelope, Receipt
from engine.transport.http import NodeTransport
from engine.transport.local import LocalTransport
from engine.transport.sender import accept_receipt, prepare
from engine.transport.signing import sign_receipt
from tests.federation.nodes import Node, linked_pair
from tests.federation.test_inbox_rejections import minutes_ago, post, resign, with_envelope
from tests.helpers import example


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    with linked_pair(request.param, tmp_path_factory.mktemp("integrity"), "int") as nodes:
        yield nodes


def transmitted(a: Node, payload: dict[str, Any] | None = None) -> tuple[Case, Envelope]:
    """A request approved and transmitted on node A, its message still in A's outbox."""
    clerk, judge = actor_for(a.db, "co.clerk"), actor_for(a.db, "co.judge")
    case = create_case(a.db, actor=clerk, counterpart="ES-MJ", payload=payload or example("request"))
    for action, actor in (("submit", clerk), ("approve", judge), ("transmit", clerk)):
        apply_action(a.db, case=case.reference, action=action, actor=actor)
    return case, outgoing(a, case.id, "request")


def outgoing(a: Node, case_id: int | None, kind: str) -> Envelope:
    with a.db.reader() as session:
        message = session.exec(select(Message).where(Message.case_id == case_id, Message.direction == "out",
                                                     Message.kind == kind)).one()
    return Envelope.from_message(message)


def status(node: Node, message_id: str, direction: str = "out") -> Message:
    with node.db.reader() as session:
        return session.exec(select(Message).where(Message.direction == direction,
                                                  Message.message_id == message_id)).one()


def later() -> Any:
    return utcnow() + timedelta(hours=2)  # past any backoff


# --- 1. freshness and revocation --------------------------------------------------------------------------------
def test_a_revoked_key_verifies_nothing_and_dates_are_checked_against_the_receivers_clock(
        pair: tuple[Node, Node]) -> None:
    a, b = pair
    _, envelope = transmitted(a)
    leaked = keys.signing_key(a.db, "CO-FGN")
    genuine = prepare(a.db, envelope)  # signed with the key that is about to leak
    revoked, successor = keys.revoke(a.db, leaked.key_id, compromised_at=utcnow() - timedelta(minutes=5))
    assert successor is not None and revoked.revoked_at is not None
    exported = keys.export_public(a.db, "CO-FGN")
    assert next(k for k in exported if k["key_id"] == leaked.key_id)["revoked_at"]  # revocations travel
    keys.import_public(b.db, exported, authority="CO-FGN")
    before = b.counts()
    # The thief signs with the leaked key: now, backdated to before the compromise, or in 2099.
    for sent_at in (utcnow().isoformat(), minutes_ago(30), "2099-01-01T00:00:00+00:00"):
        code, receipt = post(b, resign(genuine, leaked.private, leaked.key_id, sent_at=sent_at))
        assert (code, receipt["status"], receipt["reason"]) == (422, "rejected", "key_revoked"), sent_at
    assert b.counts() == before  # no case opened, nothing audited as coming from CO-FGN
    # A's queued message was signed with the revoked key: it is signed again with the successor and arrives.
    outbox.dispatch_all(a.db)
    assert status(a, envelope.message_id).status == "delivered"
    with b.db.reader() as session:
        log = session.exec(select(SignedMessage).where(SignedMessage.direction == "in",
                                                       SignedMessage.message_id == envelope.message_id)).one()
    assert log.key_id == successor.key_id


def test_the_current_key_cannot_date_a_message_outside_the_window(pair: tuple[Node, Node]) -> None:
    a, b = pair
    _, envelope = transmitted(a)
    current = keys.signing_key(a.db, "CO-FGN")
    genuine = prepare(a.db, envelope)
    before = b.counts()
    for sent_at in (minutes_ago(60), "2099-01-01T00:00:00+00:00"):
        code, receipt = post(b, resign(genuine, current.private, current.key_id, sent_at=sent_at))
        assert (code, receipt["reason"]) == (422, "not_fresh"), sent_at
    assert b.counts() == before


def test_after_a_rotation_the_old_key_cannot_backdate_its_way_in(pair: tuple[Node, Node]) -> None:
    a, b = pair
    _, envelope = transmitted(a)
    old = keys.signing_key(a.db, "CO-FGN")
    genuine = prepare(a.db, envelope)
    keys.rotate(a.db, "CO-FGN")
    keys.import_public(b.db, keys.export_public(a.db, "CO-FGN"), authority="CO-FGN")
    before = b.counts()
    for sent_at, reason in ((utcnow().isoformat(), "key_not_valid"), (minutes_ago(30), "not_fresh")):
        code, receipt = post(b, resign(genuine, old.private, old.key_id, sent_at=sent_at))
        assert (code, receipt["reason"]) == (422, reason), sent_at
    assert b.counts() == before
    outbox.dispatch_all(a.db)
    assert status(b, envelope.message_id, "in").status == "applied"


def test_an_envelope_without_a_canonical_form_is_malformed_not_a_crash(pair: tuple[Node, Node]) -> None:
    a, b = pair
    genuine = prepare(a.db, transmitted(a)[1])
    huge = [{"name": "x.pdf", "media_type": "application/pdf", "size": 2**53, "sha256": "0" * 64}]
    before = b.counts()
    code, receipt = post(b, with_envelope(genuine, attachments=huge))
    assert (code, receipt["reason"]) == (400, "malformed") and b.counts() == before


def test_a_message_queued_longer_than_the_window_is_signed_afresh_and_arrives(pair: tuple[Node, Node]) -> None:
    a, b = pair
    _, envelope = transmitted(a)
    with a.db.transaction() as session:  # written two days ago (node down, then back)
        row = session.exec(select(Message).where(Message.message_id == envelope.message_id)).one()
        row.created_at = utcnow() - timedelta(days=2)
        session.add(row)
    assert outbox.dispatch_all(a.db).delivered >= 1
    assert status(b, envelope.message_id, "in").status == "applied"


# --- 2. routing -------------------------------------------------------------------------------------------------
def _endpoint(a: Node, url: str | None) -> None:
    with a.db.transaction() as session:
        row = session.get(Authority, "ES-MJ")
        assert row is not None
        row.endpoint_url = url
        session.add(row)


def test_a_counterpart_without_endpoint_is_not_deliverable_and_nothing_is_faked(pair: tuple[Node, Node]) -> None:
    a, b = pair
    _endpoint(a, None)  # ES-MJ's public keys are imported, its endpoint is not set
    try:
        case, envelope = transmitted(a)
        summary = outbox.dispatch_all(a.db)
        assert summary.delivered == 0 and summary.retrying >= 1
        assert any("not deliverable" in e and "ES-MJ" in e for e in summary.errors)
        queued = status(a, envelope.message_id)
        assert queued.status == "pending" and "not deliverable" in (queued.last_error or "")
        with a.db.reader() as session:
            assert keys.served_authorities(session) == {"CO-FGN"}  # no private key made for ES-MJ
            assert session.exec(select(func.count()).select_from(Case).where(
                Case.exchange_id == case.exchange_id)).one() == 1  # no phantom ES-MJ case
            assert session.get(Case, case.id).state == "transmitted"  # type: ignore[union-attr]
        with pytest.raises(TransportError, match="not deliverable"):
            LocalTransport(a.db).deliver(envelope)
        with pytest.raises(keys.NoSigningKey):
            keys.ensure_signing_key(a.db, "ES-MJ")
        # An authority A has no key of at all is not served here either: A federates, it is no hub.
        stranger = create_case(a.db, actor=actor_for(a.db, "co.clerk"), counterpart="FR-MJ",
                               payload=example("request"))
        for action, user in (("submit", "co.clerk"), ("approve", "co.judge"), ("transmit", "co.clerk")):
            apply_action(a.db, case=stranger.reference, action=action, actor=actor_for(a.db, user))
        to_france = outgoing(a, stranger.id, "request")
        outbox.dispatch_all(a.db, now=later())
        assert "no endpoint URL registered for FR-MJ" in (status(a, to_france.message_id).last_error or "")
        assert keys.list_keys(a.db, "FR-MJ") == []
    finally:
        _endpoint(a, b.inbox)
    assert outbox.dispatch_all(a.db, now=utcnow() + timedelta(days=1)).delivered >= 1  # retried: endpoint known
    assert status(a, envelope.message_id).status == "delivered"
    assert status(b, envelope.message_id, "in").status == "applied"


# --- 3. receipts ------------------------------------------------------------------------------------------------
def test_a_stored_receipt_returned_after_a_rotation_settles_and_unblocks_the_exchange(
        pair: tuple[Node, Node]) -> None:
    a, b = pair
    case, envelope = transmitted(a)
    first = prepare(a.db, envelope)
    assert receive_signed(b.db, first).receipt["status"] == "delivered"  # applied; the HTTP answer is lost
    keys.rotate(b.db, "ES-MJ")
    keys.import_public(a.db, keys.export_public(b.db, "ES-MJ"), authority="ES-MJ")
    judge = actor_for(a.db, "co.judge")
    apply_action(a.db, case=case.reference, action="withdraw", actor=judge, payload=example("withdrawal"))
    withdrawal = outgoing(a, case.id, "withdrawal")
    outbox.dispatch_all(a.db)
    assert status(a, envelope.message_id).status == "delivered"
    assert status(a, withdrawal.message_id).status == "delivered"  # the later message was not blocked
    with b.db.reader() as session:
        theirs = session.exec(select(Case).where(Case.exchange_id == case.exchange_id)).one()
    assert theirs.state == "withdrawn"


def test_a_stored_receipt_whose_key_was_revoked_is_signed_again_and_settles(pair: tuple[Node, Node]) -> None:
    a, b = pair
    _, envelope = transmitted(a)
    first = prepare(a.db, envelope)
    stored = receive_signed(b.db, first)  # applied; the HTTP answer is lost
    _, successor = keys.revoke(b.db, stored.signature.key_id)
    assert successor is not None
    keys.import_public(a.db, keys.export_public(b.db, "ES-MJ"), authority="ES-MJ")
    with pytest.raises(TransportError, match="revoked"):
        accept_receipt(a.db, first, stored.to_dict())  # the old answer no longer proves anything
    outbox.dispatch_all(a.db)
    assert status(a, envelope.message_id).status == "delivered"
    with a.db.reader() as session:
        log = session.exec(select(SignedMessage).where(SignedMessage.direction == "out",
                                                       SignedMessage.message_id == envelope.message_id)).one()
    assert log.receipt is not None and log.receipt["signature"]["key_id"] == successor.key_id
    assert log.receipt["receipt"]["at"] == stored.receipt["at"]  # the same answer, signed again


def test_a_receipt_for_another_envelope_settles_nothing(pair: tuple[Node, Node]) -> None:
    a, b = pair
    _, envelope = transmitted(a)
    transmission = prepare(a.db, envelope)
    key = keys.signing_key(b.db, "ES-MJ")
    forged = sign_receipt(Receipt.now(envelope.message_id, "delivered", reference="X/1", envelope_sha256="0" * 64),
                          signer="ES-MJ", addressee="CO-FGN", private=key.private, key_id=key.key_id)
    with pytest.raises(TransportError, match="another envelope"):
        accept_receipt(a.db, transmission, forged.to_dict())
    unbound = sign_receipt(Receipt.now(envelope.message_id, "delivered", reference="X/1"),
                           signer="ES-MJ", addressee="CO-FGN", private=key.private, key_id=key.key_id)
    with pytest.raises(TransportError, match="another envelope"):
        accept_receipt(a.db, transmission, unbound.to_dict())
    right = sign_receipt(Receipt.now(envelope.message_id, "delivered", reference="X/1",
                                     envelope_sha256=transmission.envelope_sha256),
                         signer="ES-MJ", addressee="CO-FGN", private=key.private, key_id=key.key_id)
    assert accept_receipt(a.db, transmission, right.to_dict()).delivered


def test_a_stale_envelope_is_resigned_and_the_receipt_of_the_first_one_settles(
        pair: tuple[Node, Node], monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = pair
    monkeypatch.setenv(keys.FRESHNESS_ENV, "2")  # both nodes run in this process
    _, envelope = transmitted(a)
    first = prepare(a.db, envelope)
    assert receive_signed(b.db, first).receipt["status"] == "delivered"  # the answer is lost
    time.sleep(1.2)  # older than half the window: the next attempt signs again
    assert outbox.dispatch_all(a.db).delivered >= 1
    assert status(a, envelope.message_id).status == "delivered"
    with a.db.reader() as session:
        log = session.exec(select(SignedMessage).where(SignedMessage.direction == "out",
                                                       SignedMessage.message_id == envelope.message_id)).one()
    assert log.envelope_sha256 != first.envelope_sha256 and log.earlier_sha256 == [first.envelope_sha256]
    assert log.receipt is not None and log.receipt["receipt"]["envelope_sha256"] == first.envelope_sha256
    with b.db.reader() as session:
        assert session.exec(select(func.count()).select_from(Message).where(
            Message.direction == "in", Message.message_id == envelope.message_id)).one() == 1


# --- 4. files per case ------------------------------------------------------------------------------------------
def test_files_belong_to_their_case_for_listing_erasure_and_sending(pair: tuple[Node, Node]) -> None:
    a, b = pair
    payload = example("request")
    payload.pop("attachments", None)
    content = b"%PDF-1.4\n% the same court order in two cases\n"
    with a.client("clerk") as clerk, a.client("judge") as judge:
        first, second = (clerk.post("/cases", json={"counterpart": "ES-MJ", "payload": payload}).json()
                         for _ in range(2))
        for case in (first, second):
            answer = clerk.post(f"/cases/{case['id']}/attachments", params={"name": "orden.pdf"}, content=content,
                                headers={"Content-Type": "application/pdf"})
            assert answer.status_code in (200, 201), answer.text
        [entry] = clerk.get(f"/cases/{second['id']}/attachments").json()
        assert clerk.get(f"/cases/{second['id']}/attachments/{entry['sha256']}").content == content
        withdrawn = judge.post(f"/cases/{first['id']}/actions", json={
            "action": "withdraw", "payload": example("withdrawal"), "version": first["version"]})
        assert withdrawn.status_code == 200, withdrawn.text
        assert privacy.redact_case(a.db, first["id"], actor="co.supervisor", reason="manual") is not None
        assert clerk.get(f"/cases/{first['id']}/attachments").json() == []
        assert clerk.get(f"/cases/{second['id']}/attachments").json() == [entry]  # erased with case 1 only
        assert clerk.get(f"/cases/{second['id']}/attachments/{entry['sha256']}").content == content
    # A third case names that file in its payload without holding it: the file does not travel with it.
    third, envelope = transmitted(a, {**example("request"), "attachments": [
        {k: entry[k] for k in ("name", "media_type", "size", "sha256")} | {"description": "Orden"}]})
    shipped = prepare(a.db, envelope)
    assert entry["sha256"] not in shipped.contents
    assert entry["sha256"] not in {item["sha256"] for item in shipped.envelope["attachments"]}
    with a.db.reader() as session:
        rows = session.exec(select(Attachment.case_id).where(Attachment.sha256 == entry["sha256"])).all()
    assert sorted(rows) == [second["id"]]


# --- 5. key imports, concurrent dispatchers ---------------------------------------------------------------------
def test_a_key_import_accepts_only_the_named_authoritys_keys_and_never_widens_them(pair: tuple[Node, Node]) -> None:
    a, b = pair
    exported = keys.export_public(b.db, "ES-MJ")
    with a.db.reader() as session:
        known = {r.key_id: (r.valid_from, r.valid_until) for r in session.exec(select(AuthorityKey))}
    for authority, items in (("BR-MJSP", exported),  # ES-MJ's keys presented as another authority's
                             ("ES-MJ", [*exported, {**exported[0], "authority": "FR-MJ"}]),  # one smuggled in
                             ("CO-FGN", keys.export_public(a.db))):  # keys for an authority this node signs for
        with pytest.raises(InvalidInput):
            keys.import_public(a.db, items, authority=authority)
    widened = [{**item, "valid_from": "2000-01-01T00:00:00+00:00", "valid_until": None} for item in exported]
    keys.import_public(a.db, widened, authority="ES-MJ")
    with a.db.reader() as session:
        after = {r.key_id: (r.valid_from, r.valid_until) for r in session.exec(select(AuthorityKey))}
    assert after == known


class CountingTransport(NodeTransport):
    """The node's real transport, counting what each dispatcher hands over and making the two start together."""

    def __init__(self, a: Node, sent: Counter[str], start: threading.Barrier) -> None:
        super().__init__(a.db)
        self.sent, self.start, self.first = sent, start, True

    def deliver(self, envelope: Envelope) -> Receipt:
        if self.first:
            self.first = False
            with contextlib.suppress(threading.BrokenBarrierError):
                self.start.wait(timeout=5)
        self.sent[envelope.message_id] += 1
        return super().deliver(envelope)


def test_two_concurrent_dispatchers_settle_each_message_once(pair: tuple[Node, Node]) -> None:
    a, _ = pair
    outbox.dispatch_all(a.db, now=later())  # nothing left over from other tests
    queued = [transmitted(a) for _ in range(4)]
    sent: Counter[str] = Counter()
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        transport = CountingTransport(a, sent, start)
        try:
            outbox.dispatch(a.db, transport)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            transport.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert {m: sent[m] for _, e in queued for m in [e.message_id]} == {e.message_id: 1 for _, e in queued}
    with a.db.reader() as session:
        for case, envelope in queued:
            assert status(a, envelope.message_id).status == "delivered"
            events = Counter(session.exec(select(AuditEvent.action).where(AuditEvent.case_id == case.id)).all())
            assert events["record_delivery"] + events["delivery_confirmed"] == 1, events
