"""A real test PKI built with ``cryptography`` (CA, authority certificates, an RSA timestamp authority, a CRL), a
real RFC 3161 timestamp server on loopback, and the NSS database poppler's ``pdfsig`` trusts."""

from __future__ import annotations

import asyncio
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    pkcs12,
)
from cryptography.x509.oid import ExtendedKeyUsageOID

from engine.pki import Identity, _x509


@dataclass(frozen=True)
class PkiFixture:
    ca: Identity
    requesting: Identity  # CO-FGN
    requested: Identity  # ES-MJ
    revoked: Identity  # a CO-FGN certificate the CA revoked
    tsa: Identity
    crl: x509.CertificateRevocationList

    def ca_pem(self) -> bytes:
        return self.ca.certificate.public_bytes(Encoding.PEM)

    def p12(self, identity: Identity, password: str) -> bytes:
        return pkcs12.serialize_key_and_certificates(
            b"seal", identity.key, identity.certificate, list(identity.chain),  # type: ignore[arg-type]
            BestAvailableEncryption(password.encode()))


def _tsa(ca: Identity, now: datetime) -> Identity:
    """An RSA timestamp authority (pyHanko's reference TSA signs with RSA) certified for time stamping only."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (x509.CertificateBuilder().subject_name(_x509.name("Test TSA", "ES"))
            .issuer_name(ca.certificate.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
            .sign(ca.key, hashes.SHA256()))  # type: ignore[arg-type]
    return Identity(cert, key, (ca.certificate,))


@pytest.fixture(scope="session")
def test_pki() -> PkiFixture:
    now = datetime.now(UTC)
    ca = _x509.create_ca(_x509.name("exhorto test network CA", "ES", "exhorto tests"), now=now - timedelta(days=1))
    requesting = _x509.issue(ca, _x509.name("Fiscalía General de la Nación", "CO", "CO-FGN"), now=now)
    revoked = _x509.issue(ca, _x509.name("Fiscalía General de la Nación (revoked)", "CO", "CO-FGN"), now=now)
    return PkiFixture(ca=ca, requesting=requesting, requested=_x509.issue(ca, _x509.name("Ministerio", "ES", "ES-MJ"),
                                                                      now=now),
                   revoked=revoked, tsa=_tsa(ca, now),
                   crl=_x509.crl(ca, [(revoked.certificate.serial_number, now - timedelta(minutes=1))], now=now))


@pytest.fixture(scope="session")
def tsa_url(test_pki: PkiFixture) -> Iterator[str]:
    """An RFC 3161 timestamp server over HTTP on a free loopback port (pyHanko's TSA primitives answer)."""
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    tsa = test_pki.tsa
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(tsa.certificate.public_bytes(Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(tsa.key.private_bytes(Encoding.DER, PrivateFormat.PKCS8,
                                                                     NoEncryption())),
        certs_to_embed=SimpleCertificateStore.from_certs(
            [asn1_x509.Certificate.load(test_pki.ca.certificate.public_bytes(Encoding.DER))]))
    served: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Type") != "application/timestamp-query":
                self.send_error(415)
                return
            request = tsp.TimeStampReq.load(body)
            response = asyncio.run(stamper.async_request_tsa_response(request)).dump()
            served.append(len(response))
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(response)))
            self.end_headers()
            self.wfile.write(response)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def nss_db(test_pki: PkiFixture, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An NSS database trusting the test CA for signatures (the ",C," S/MIME flag is what pdfsig looks at)."""
    folder = tmp_path_factory.mktemp("nss")
    ca_file = folder / "ca.pem"
    ca_file.write_bytes(test_pki.ca_pem())
    subprocess.run(["certutil", "-N", "-d", f"sql:{folder}", "--empty-password"], check=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{folder}", "-n", "exhorto-test-ca", "-t", ",C,", "-i",
                    str(ca_file)], check=True)
    return folder


@dataclass(frozen=True)
class PdfSig:
    text: str

    @property
    def valid(self) -> bool:
        return "Signature Validation: Signature is Valid." in self.text

    @property
    def modified(self) -> bool:
        return "Digest Mismatch" in self.text or "Signature is Invalid" in self.text

    @property
    def trusted(self) -> bool:
        return "Certificate Validation: Certificate is Trusted." in self.text

    @property
    def whole(self) -> bool:
        return "Total document signed" in self.text


def pdfsig(path: Path, nss: Path) -> PdfSig:
    """poppler's verdict (it exits 0 even on a digest mismatch: read what it prints)."""
    result = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(path)], capture_output=True, text=True,
                            timeout=60)
    return PdfSig(result.stdout + result.stderr)
