"""Envelopes and receipts signed with the authorities' X.509 identities (the certificates that sign their PDFs),
between two nodes on loopback, on SQLite and on PostgreSQL: the receiver checks the chain against its trust list,
validity at ``sent_at`` and the CRLs; rotation keeps stored messages verifiable, Ed25519 ones included."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, pkcs12
from sqlmodel import select

from engine import outbox, pki
from engine.inbox import verify_stored
from engine.pki import Identity, _x509
from engine.store.federation_models import SignedMessage
from engine.transport.sender import ENVELOPE_SIGNATURE_ENV, prepare
from engine.transport.signing import X509Signer, parse_receipt, sign_envelope, thumbprint
from tests.federation.nodes import Node, linked_pair
from tests.federation.test_inbox_rejections import minutes_ago, with_envelope
from tests.federation.test_integrity import status, transmitted


def _p12(identity: Identity) -> bytes:
    return pkcs12.serialize_key_and_certificates(b"seal", identity.key, identity.certificate,  # type: ignore[arg-type]
                                                 list(identity.chain), BestAvailableEncryption(b"pw"))


@pytest.fixture(scope="module")
def network_ca() -> Identity:
    return _x509.create_ca(_x509.name("exhorto federation test CA", "ES"), now=datetime.now(UTC) - timedelta(days=1))


def certify(node: Node, ca: Identity, *, now: datetime | None = None) -> Identity:
    """Give the node's authority a certificate from ``ca`` (as a PKCS#12 seal would come) — O = its code."""
    identity = _x509.issue(ca, _x509.name(f"Authority {node.served}", None, node.served),
                           now=now or datetime.now(UTC))
    pki.import_pkcs12(node.db, node.served, _p12(identity), "pw")
    return identity


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
         network_ca: Identity) -> Iterator[tuple[Node, Node]]:
    os.environ["EXHORTO_ATTACH_PDF"] = "0"  # the envelopes are under test, not the PDFs
    try:
        with linked_pair(request.param, tmp_path_factory.mktemp("x509"), "x509") as (a, b):
            for node in (a, b):
                certify(node, network_ca)
                pki.trust_add(node.db, network_ca.certificate.public_bytes(Encoding.PEM), "federation CA")
            yield a, b
    finally:
        os.environ.pop("EXHORTO_ATTACH_PDF", None)


def _logged(node: Node, message_id: str, direction: str) -> SignedMessage:
    with node.db.reader() as session:
        return session.exec(select(SignedMessage).where(SignedMessage.direction == direction,
                                                        SignedMessage.message_id == message_id)).one()


def _post(b: Node, body: bytes) -> tuple[int, dict]:
    response = httpx.post(b.inbox, content=body, headers={"Content-Type": "application/json"}, timeout=30)
    return response.status_code, parse_receipt(response.content).receipt


def test_envelope_and_receipt_are_signed_with_the_certificates_and_verify_on_both_sides(
        pair: tuple[Node, Node]) -> None:
    a, b = pair
    _, envelope = transmitted(a)
    transmission = prepare(a.db, envelope)
    signature = transmission.signature.to_dict()
    assert signature["alg"] == "ES256" and "key_id" not in signature
    leaf = base64.b64decode(signature["x5c"][0])
    assert signature["x5t#S256"] == thumbprint(leaf)
    assert outbox.dispatch_all(a.db).delivered == 1
    received, sent = _logged(b, envelope.message_id, "in"), _logged(a, envelope.message_id, "out")
    assert received.algorithm == sent.algorithm == "ES256" and received.certificates == signature["x5c"]
    assert verify_stored(b.db, received) and verify_stored(a.db, sent)
    # B's receipt is signed with ES-MJ's certificate, and A accepted it (the message is delivered).
    assert sent.receipt is not None and sent.receipt["signature"]["alg"] == "ES256"
    assert status(a, envelope.message_id).status == "delivered"


def test_tampering_a_foreign_ca_and_a_certificate_naming_another_authority_are_refused(
        pair: tuple[Node, Node], network_ca: Identity) -> None:
    a, b = pair
    _, envelope = transmitted(a)
    genuine = prepare(a.db, envelope)
    before = b.counts()
    code, receipt = _post(b, with_envelope(genuine, kind="acknowledgement"))
    assert (code, receipt["reason"]) == (422, "bad_signature")
    data = genuine.to_dict()
    for x5c, expected in ((["AAAA"], (422, "bad_signature")), (data["signature"]["x5c"] * 6, (400, "malformed"))):
        code, receipt = _post(b, json.dumps({**data, "signature": {**data["signature"], "x5c": x5c}}).encode())
        assert (code, receipt["reason"]) == expected, x5c[:1]
    # A certificate from a CA that B does not trust, with the right organization.
    stranger_ca = _x509.create_ca(_x509.name("stranger CA", "XX"), now=datetime.now(UTC))
    stranger = _x509.issue(stranger_ca, _x509.name("Impostor", None, "CO-FGN"), now=datetime.now(UTC))
    forged = sign_envelope(genuine.as_envelope(), X509Signer.of(stranger), "", genuine.contents)
    code, receipt = _post(b, forged.to_bytes())
    assert (code, receipt["reason"]) == (422, "untrusted_certificate")
    # A certificate from the trusted CA — but issued to another authority.
    other = _x509.issue(network_ca, _x509.name("Other", None, "FR-MJ"), now=datetime.now(UTC))
    forged = sign_envelope(genuine.as_envelope(), X509Signer.of(other), "", genuine.contents)
    code, receipt = _post(b, forged.to_bytes())
    assert (code, receipt["reason"]) == (422, "sender_key_mismatch")
    # Backdated beyond the freshness window.
    backdated = sign_envelope(replace(genuine.as_envelope(), sent_at=minutes_ago(60)),
                              X509Signer.of(pki.signing_identity(a.db, "CO-FGN")), "", genuine.contents)
    code, receipt = _post(b, backdated.to_bytes())
    assert (code, receipt["reason"]) == (422, "not_fresh")
    assert b.counts() == before


def test_untrusted_then_trusted_and_a_revoked_certificate(pair: tuple[Node, Node], network_ca: Identity) -> None:
    a, b = pair
    # B stops trusting the CA: A's message is refused for now (a configuration problem) and stays queued.
    removed = pki.trust_remove(b.db, pki.fingerprint(network_ca.certificate))
    try:
        _, envelope = transmitted(a)
        summary = outbox.dispatch_all(a.db)
        assert summary.delivered == 0 and "untrusted_certificate" in " ".join(summary.errors)
        assert status(a, envelope.message_id).status != "delivered"
    finally:
        pki.trust_add(b.db, removed.certificate, removed.label)
    outbox.dispatch_all(a.db, now=datetime.now(UTC) + timedelta(hours=2))
    assert status(a, envelope.message_id).status == "delivered"

    # The CA revokes CO-FGN's current certificate; B imports the CRL: nothing it signs is accepted any more.
    current = pki.signing_identity(a.db, "CO-FGN")
    assert current is not None
    crl = _x509.crl(network_ca, [(current.certificate.serial_number, datetime.now(UTC) - timedelta(minutes=1))],
                    now=datetime.now(UTC))
    pki.import_crl(b.db, crl.public_bytes(Encoding.DER))
    _, envelope = transmitted(a)
    code, receipt = _post(b, prepare(a.db, envelope).to_bytes())
    assert (code, receipt["reason"]) == (422, "key_revoked")
    # A new certificate (rotation): the queued message is signed again with it and arrives.
    certify(a, network_ca)
    outbox.dispatch_all(a.db, now=datetime.now(UTC) + timedelta(hours=4))
    assert status(a, envelope.message_id).status == "delivered"


def test_rotation_keeps_stored_messages_verifiable_ed25519_ones_included(
        pair: tuple[Node, Node], network_ca: Identity, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = pair
    monkeypatch.setenv(ENVELOPE_SIGNATURE_ENV, "ed25519")  # the first format: a node not yet switched
    _, old_format = transmitted(a)
    # (Counting deliveries would also count what an earlier test of this module left queued, e.g. an evidence.)
    outbox.dispatch_all(a.db)
    assert status(a, old_format.message_id).status == "delivered"
    assert _logged(b, old_format.message_id, "in").algorithm is None
    monkeypatch.delenv(ENVELOPE_SIGNATURE_ENV)
    _, before = transmitted(a)
    outbox.dispatch_all(a.db)
    assert status(a, before.message_id).status == "delivered"
    old_thumb = _logged(b, before.message_id, "in").key_id
    certify(a, network_ca)
    _, after = transmitted(a)
    outbox.dispatch_all(a.db)
    assert status(a, after.message_id).status == "delivered"
    assert _logged(b, after.message_id, "in").key_id != old_thumb
    for message_id in (old_format.message_id, before.message_id, after.message_id):
        assert verify_stored(b.db, _logged(b, message_id, "in")), message_id
        assert verify_stored(a.db, _logged(a, message_id, "out")), message_id
    stored = _logged(b, before.message_id, "in")
    stored.envelope = {**stored.envelope, "kind": "refusal"}
    assert not verify_stored(b.db, stored)


def test_the_counterparts_first_read_comes_back_as_a_signed_retrieval_evidence(pair: tuple[Node, Node]) -> None:
    from engine import evidence
    from engine.directory import actor_for
    from engine.privacy import record_access
    from engine.store.models import Case

    a, b = pair
    case, envelope = transmitted(a)
    outbox.dispatch_all(a.db)
    assert status(a, envelope.message_id).status == "delivered"
    with b.db.reader() as session:
        theirs = session.exec(select(Case).where(Case.exchange_id == case.exchange_id)).one()
    for _ in range(2):  # read twice: one Retrieval
        record_access(b.db, actor_for(b.db, "es.clerk"), channel="cli", purpose="case.show", case=theirs)
    assert outbox.dispatch_all(b.db).delivered == 1
    with a.db.reader() as session:
        document = evidence.evidence_document(session, session.get(Case, case.id))
    retrieval = document["evidences"][-1]
    assert (retrieval["record"]["evidence"], retrieval["record"]["issuer"]) == ("Retrieval", "ES-MJ")
    assert retrieval["record"]["message"]["message_id"] == envelope.message_id
    assert evidence.verify_record(retrieval, document["certificates"])  # with ES-MJ's certificate, sent along
    assert outbox.dispatch_all(b.db).attempted == 0


def test_a_refused_message_leaves_relay_rejection_and_non_delivery_evidences(pair: tuple[Node, Node]) -> None:
    from engine import evidence
    from engine.actions import apply_action
    from engine.cases import create_case
    from engine.directory import actor_for
    from engine.store.models import Authority
    from tests.helpers import example

    a, b = pair
    with a.db.transaction() as session:  # A believes FR-MJ lives on node B, which does not serve it
        france = session.get(Authority, "FR-MJ")
        assert france is not None
        france.endpoint_url = b.inbox
        session.add(france)
    case = create_case(a.db, actor=actor_for(a.db, "co.clerk"), counterpart="FR-MJ", payload=example("request"))
    for action, user in (("submit", "co.clerk"), ("approve", "co.judge"), ("transmit", "co.clerk")):
        apply_action(a.db, case=case.reference, action=action, actor=actor_for(a.db, user))
    assert outbox.dispatch_all(a.db).rejected == 1
    with a.db.reader() as session:
        rows = evidence.list_for_case(session, case.id or 0)
    assert [r.kind for r in rows] == ["SubmissionAcceptance", "RelayREMMDRejection", "NonDelivery"]
    refusal = rows[-1].record
    assert refusal["etsi_rem_event"] == "ContentHandoverFailure" and refusal["reason"]["code"] == "unknown_recipient"
    proof = refusal["counterpart_receipt"]  # node B's own negative receipt, signed with ES-MJ's certificate
    assert proof["receipt"]["status"] == "rejected" and proof["signature"]["alg"] == "ES256"
    assert all(r.signature is not None for r in rows)
