"""Pure X.509 work with ``cryptography``: a network CA, authority certificates issued by it, PKCS#12 and CRL
parsing, fingerprints. No database here.

Profiles follow what PDF readers and EU validators accept: ECDSA P-256 with SHA-256; the CA is a self-signed root
(``cA``, ``keyCertSign``, ``cRLSign``); an authority certificate carries ``digitalSignature`` and
``nonRepudiation`` (content commitment), what a seal on a legal document needs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from cryptography.x509.oid import NameOID

from engine.errors import InvalidInput

MIN_RSA_BITS = 2048


@dataclass(frozen=True)
class Identity:
    """A certificate with its private key and the certificates of its issuers (nearest first)."""

    certificate: x509.Certificate
    key: PrivateKeyTypes
    chain: tuple[x509.Certificate, ...] = ()


def fingerprint(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.public_bytes(Encoding.DER)).hexdigest()


def _upper_bound(text: str, limit: int = 64) -> str:
    """X.509 caps a name attribute at 64 (encoded) bytes: cut long authority names at a character boundary."""
    text = text.strip()
    while len(text.encode()) > limit:
        text = text[:-1]
    return text.rstrip(" —-,")


def name(common_name: str, country: str | None = None, organization: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, _upper_bound(common_name))]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, _upper_bound(organization)))
    if country:
        attributes.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country.upper()))
    return x509.Name(attributes)


def create_ca(subject: x509.Name, *, now: datetime, years: int = 10) -> Identity:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject).public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Identity(certificate, key)


def issue(ca: Identity, subject: x509.Name, *, now: datetime, years: int = 3,
          key: PrivateKeyTypes | None = None) -> Identity:
    """An end-entity signing certificate for ``subject`` (a fresh P-256 key unless ``key`` is given)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    not_after = min(now + timedelta(days=365 * years), ca.certificate.not_valid_after_utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(ca.certificate.subject).public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.certificate.public_key()),  # type: ignore[arg-type]
                       critical=False)
        .sign(ca.key, hashes.SHA256())  # type: ignore[arg-type]
    )
    return Identity(certificate, key, (ca.certificate, *ca.chain))


def crl(ca: Identity, revoked: list[tuple[int, datetime]], *, now: datetime,
        days: int = 7) -> x509.CertificateRevocationList:
    """A CRL of ``ca`` listing (serial, revocation date) pairs."""
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca.certificate.subject)
               .last_update(now).next_update(now + timedelta(days=days)))
    for serial, when in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build())
    return builder.sign(ca.key, hashes.SHA256())  # type: ignore[arg-type]


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not cert_sign, content_commitment=not cert_sign, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=cert_sign, crl_sign=cert_sign,
                         encipher_only=False, decipher_only=False)


# --- reading ------------------------------------------------------------------------------------------------
def load_pkcs12(data: bytes, password: str | None, *, field: str = "file") -> Identity:
    try:
        key, certificate, others = pkcs12.load_key_and_certificates(data, password.encode() if password else None)
    except ValueError:
        raise InvalidInput(field=field, reason="not a PKCS#12 file, or wrong password") from None
    if key is None or certificate is None:
        raise InvalidInput(field=field, reason="the PKCS#12 file holds no private key with its certificate")
    check_signing_key(key, field)
    if key.public_key().public_numbers() != certificate.public_key().public_numbers():  # type: ignore[union-attr]
        raise InvalidInput(field=field, reason="the private key does not belong to the certificate")
    return Identity(certificate, key, order_chain(certificate, list(others)))


def check_signing_key(key: PrivateKeyTypes, field: str) -> None:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.name not in ("secp256r1", "secp384r1", "secp521r1"):
            raise InvalidInput(field=field, reason=f"curve {key.curve.name} is not accepted (use P-256)")
        return
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < MIN_RSA_BITS:
            raise InvalidInput(field=field, reason=f"RSA key of {key.key_size} bits is too short (3072 advised)")
        return
    raise InvalidInput(field=field, reason="only ECDSA (P-256) and RSA keys can sign PAdES documents")


def order_chain(leaf: x509.Certificate, others: list[x509.Certificate]) -> tuple[x509.Certificate, ...]:
    """The issuers of ``leaf`` nearest first, as far as ``others`` has them."""
    chain: list[x509.Certificate] = []
    current = leaf
    pool = list(others)
    while current.issuer != current.subject:
        parent = next((c for c in pool if c.subject == current.issuer), None)
        if parent is None:
            break
        chain.append(parent)
        pool.remove(parent)
        current = parent
    return tuple(chain)


def load_certificate(data: bytes, *, field: str = "file") -> x509.Certificate:
    try:
        return (x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data
                else x509.load_der_x509_certificate(data))
    except ValueError:
        raise InvalidInput(field=field, reason="not an X.509 certificate (PEM or DER)") from None


def load_crl(data: bytes, *, field: str = "file") -> x509.CertificateRevocationList:
    try:
        return x509.load_pem_x509_crl(data) if b"-----BEGIN" in data else x509.load_der_x509_crl(data)
    except ValueError:
        raise InvalidInput(field=field, reason="not a certificate revocation list (PEM or DER)") from None


def is_ca(certificate: x509.Certificate) -> bool:
    try:
        return bool(certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
