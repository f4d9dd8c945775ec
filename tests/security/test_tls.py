"""TLS and mutual TLS between federated nodes, with a CA and certificates generated here by `cryptography`: a
request travels only when the receiver's certificate is trusted and the sender presents a client certificate
from the receiver's client CA; `exhorto serve` with --tls-* options serves HTTPS and requires client certs."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlmodel import select

from engine import keys
from engine.actions import apply_action
from engine.api import Settings, create_app
from engine.cases import create_case
from engine.directory import actor_for
from engine.outbox import dispatch_all
from engine.seed import seed_demo
from engine.store.db import Database
from engine.store.models import Authority, Case, Message
from engine.transport.tls import server_options
from tests.federation.nodes import free_port
from tests.helpers import example

# A TLS handshake with client certificates against an in-process server can take longer than httpx's default
# 5 s when both cores are saturated; the assertions are about what the server answers, not how fast.
HTTP_TIMEOUT = 60.0


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write(folder: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> tuple[str, str]:
    cert_path, key_path = folder / f"{stem}.pem", folder / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def _ca(common: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(common)).issuer_name(_name(common))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return cert, key


def _leaf(common: str, ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey], *,
          server: bool) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(common)).issuer_name(ca[0].subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server
                                                     else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
    return builder.sign(ca[1], hashes.SHA256()), key


@dataclass
class Pki:
    ca: str
    server: tuple[str, str]
    client: tuple[str, str]
    rogue_client: tuple[str, str]  # signed by another CA
    rogue_ca: str


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ca, rogue = _ca("exhorto test federation CA"), _ca("somebody else's CA")
    ca_path = folder / "ca.pem"
    ca_path.write_bytes(ca[0].public_bytes(serialization.Encoding.PEM))
    rogue_path = folder / "rogue-ca.pem"
    rogue_path.write_bytes(rogue[0].public_bytes(serialization.Encoding.PEM))
    return Pki(ca=str(ca_path), server=_write(folder, "es-mj-server", *_leaf("es-mj.example", ca, server=True)),
               client=_write(folder, "co-fgn-client", *_leaf("co-fgn.example", ca, server=False)),
               rogue_client=_write(folder, "rogue-client", *_leaf("co-fgn.example", rogue, server=False)),
               rogue_ca=str(rogue_path))


@dataclass
class Pair:
    sender: Database
    receiver: Database
    port: int


@pytest.fixture
def pair(tmp_path: Path, pki: Pki) -> Iterator[Pair]:
    """CO-FGN (sender, no server needed) and ES-MJ served over HTTPS with mutual TLS required."""
    sender, receiver = (Database(f"sqlite:///{tmp_path / name}") for name in ("a.db", "b.db"))
    for db, served in ((sender, "CO-FGN"), (receiver, "ES-MJ")):
        db.create_all()
        seed_demo(db)
        keys.generate(db, served)
    keys.import_public(sender, keys.export_public(receiver), authority="ES-MJ")
    keys.import_public(receiver, keys.export_public(sender), authority="CO-FGN")
    port = free_port()
    with sender.transaction() as session:
        row = session.get(Authority, "ES-MJ")
        assert row is not None
        row.endpoint_url = f"https://127.0.0.1:{port}/inbox"
        session.add(row)
    config = uvicorn.Config(create_app(receiver, Settings()), host="127.0.0.1", port=port, log_level="warning",
                            **server_options(*pki.server, client_ca=pki.ca))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "HTTPS node did not start"
        time.sleep(0.02)
    yield Pair(sender, receiver, port)
    server.should_exit = True
    thread.join(timeout=20)
    sender.dispose()
    receiver.dispose()


def _transmit(db: Database) -> None:
    clerk, judge = actor_for(db, "co.clerk"), actor_for(db, "co.judge")
    case = create_case(db, actor=clerk, counterpart="ES-MJ", payload=example("request"))
    for action, actor in (("submit", clerk), ("approve", judge), ("transmit", clerk)):
        apply_action(db, case=case.reference, action=action, actor=actor)


def _received(db: Database) -> int:
    with db.reader() as session:
        return len(session.exec(select(Case)).all())


def _attempt(pair: Pair, monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[int, str]:
    for name in ("EXHORTO_TLS_CA", "EXHORTO_TLS_CLIENT_CERT", "EXHORTO_TLS_CLIENT_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    summary = dispatch_all(pair.sender)
    with pair.sender.reader() as session:
        message = session.exec(select(Message).where(Message.direction == "out")).one()
        # a failed attempt is rescheduled; make the next one due now
        message.next_attempt_at = message.created_at
        session.add(message)
        session.commit()
    return summary.delivered, "; ".join(summary.errors)


def test_mutual_tls_between_nodes(pair: Pair, pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    _transmit(pair.sender)
    client = {"EXHORTO_TLS_CLIENT_CERT": pki.client[0], "EXHORTO_TLS_CLIENT_KEY": pki.client[1]}

    # the receiver's certificate is not trusted by the default bundle: nothing travels
    delivered, errors = _attempt(pair, monkeypatch, **client)
    assert delivered == 0 and "CERTIFICATE_VERIFY_FAILED" in errors
    # trusted server, but no client certificate: the receiver refuses the handshake
    delivered, errors = _attempt(pair, monkeypatch, EXHORTO_TLS_CA=pki.ca)
    assert delivered == 0 and errors
    # a client certificate from another CA is refused too
    delivered, errors = _attempt(pair, monkeypatch, EXHORTO_TLS_CA=pki.ca,
                                 EXHORTO_TLS_CLIENT_CERT=pki.rogue_client[0],
                                 EXHORTO_TLS_CLIENT_KEY=pki.rogue_client[1])
    assert delivered == 0 and errors
    assert _received(pair.receiver) == 0  # none of those reached the inbox

    delivered, errors = _attempt(pair, monkeypatch, EXHORTO_TLS_CA=pki.ca, **client)
    assert (delivered, errors) == (1, "")
    assert _received(pair.receiver) == 1
    with pair.sender.reader() as session:
        assert session.exec(select(Case)).one().state == "delivered"


def test_https_responses_carry_hsts(pair: Pair, pki: Pki) -> None:
    context = ssl.create_default_context(cafile=pki.ca)
    context.load_cert_chain(*pki.client)
    answer = httpx.get(f"https://127.0.0.1:{pair.port}/health", verify=context, timeout=HTTP_TIMEOUT)
    assert answer.status_code == 200
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")


def test_exhorto_serve_with_tls_options(tmp_path: Path, pki: Pki) -> None:
    port = free_port()
    env = {**os.environ, "EXHORTO_DATABASE_URL": f"sqlite:///{tmp_path / 'node.db'}"}
    command = [str(Path(sys.executable).with_name("exhorto")), "serve", "--port", str(port),
               "--dispatch-interval", "0", "--log-level", "warning", "--tls-cert", pki.server[0],
               "--tls-key", pki.server[1], "--tls-client-ca", pki.ca]
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        trusted = ssl.create_default_context(cafile=pki.ca)
        trusted.load_cert_chain(*pki.client)
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.get(f"https://127.0.0.1:{port}/health", verify=trusted, timeout=HTTP_TIMEOUT)
                break
            except httpx.ConnectError:
                assert process.poll() is None and time.monotonic() < deadline, process.stdout
                time.sleep(0.3)
        assert answer.status_code == 200
        anonymous = ssl.create_default_context(cafile=pki.ca)  # no client certificate
        with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
            httpx.get(f"https://127.0.0.1:{port}/health", verify=anonymous, timeout=HTTP_TIMEOUT).raise_for_status()
        with pytest.raises(httpx.ConnectError):  # a client that trusts another CA refuses this server
            httpx.get(f"https://127.0.0.1:{port}/health", verify=ssl.create_default_context(cafile=pki.rogue_ca),
                      timeout=HTTP_TIMEOUT)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_tls_options_are_checked(tmp_path: Path) -> None:
    from engine.errors import InvalidInput

    with pytest.raises(InvalidInput, match="no such file"):
        server_options(str(tmp_path / "absent.pem"), None)
    ca = tmp_path / "ca.pem"
    ca.write_text("-")
    with pytest.raises(InvalidInput, match="--tls-cert"):
        server_options(None, None, str(ca))
    assert server_options(None, None) == {}
