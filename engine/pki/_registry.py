"""This node's certificates and trust list, in the database: a network CA, the authorities' signing identities
(issued here or imported from PKCS#12), the counterparts' CAs and certificates it trusts, and their CRLs."""

from __future__ import annotations

import base64
import threading
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding
from sqlmodel import Session, col, select

from engine.errors import InvalidInput, NotFound
from engine.i18n import N_
from engine.pki import _x509
from engine.pki._chain import TrustStore
from engine.pki._seal import require_passphrase, seal_key, unseal_key
from engine.pki._x509 import Identity
from engine.store.db import Database
from engine.store.models import utcnow
from engine.store.pki_models import OwnCertificate, RevocationList, TrustedCertificate
from engine.store.queries import load_authority


class CertificateNotFound(NotFound):
    code = "certificate_not_found"
    template = N_("No certificate matches {certificate}.")


class NoNetworkCa(NotFound):
    code = "no_network_ca"
    template = N_("This node has no network CA; create one with 'exhorto keys ca create' or import a "
                  "certificate with 'exhorto keys cert import-p12'.")


def _b64(certificate: x509.Certificate) -> str:
    return base64.b64encode(certificate.public_bytes(Encoding.DER)).decode()


def _own_row(identity: Identity, role: str, authority: str | None) -> OwnCertificate:
    cert = identity.certificate
    fingerprint = _x509.fingerprint(cert)
    return OwnCertificate(
        fingerprint=fingerprint, role=role, authority_code=authority, subject=cert.subject.rfc4514_string()[:500],
        issuer=cert.issuer.rfc4514_string()[:500], serial=format(cert.serial_number, "x"),
        not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
        certificate=cert.public_bytes(Encoding.DER), chain=[_b64(c) for c in identity.chain],
        private_key=seal_key(identity.key, fingerprint))


def _trusted_row(cert: x509.Certificate, label: str) -> TrustedCertificate:
    return TrustedCertificate(fingerprint=_x509.fingerprint(cert), label=label[:200],
                              subject=cert.subject.rfc4514_string()[:500], is_ca=_x509.is_ca(cert),
                              not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
                              certificate=cert.public_bytes(Encoding.DER))


def identity_of(row: OwnCertificate, cache_scope: str = "") -> Identity:
    return Identity(certificate=x509.load_der_x509_certificate(row.certificate),
                    key=unseal_key(row.private_key, row.fingerprint, cache_scope=cache_scope),
                    chain=tuple(x509.load_der_x509_certificate(base64.b64decode(c)) for c in row.chain))


# --- the network CA ---------------------------------------------------------------------------------------------
def create_ca(db: Database, common_name: str, *, country: str | None = None, organization: str | None = None,
              years: int = 10, now: datetime | None = None) -> OwnCertificate:
    """A new network CA for a closed network or a demo; it is trusted here at once."""
    if not common_name.strip():
        raise InvalidInput(field="name", reason="give the CA a name")
    if country is not None and len(country) != 2:
        raise InvalidInput(field="country", reason="an ISO 3166-1 alpha-2 code, e.g. ES")
    require_passphrase()
    ca = _x509.create_ca(_x509.name(common_name, country, organization), now=now or utcnow(), years=years)
    row = _own_row(ca, "ca", None)
    with db.transaction() as session:
        session.add(row)
        session.merge(_trusted_row(ca.certificate, f"network CA {common_name}"))
    return row


def _network_ca(session: Session, fingerprint: str | None) -> OwnCertificate:
    query = select(OwnCertificate).where(OwnCertificate.role == "ca", col(OwnCertificate.retired_at).is_(None))
    if fingerprint:
        query = query.where(col(OwnCertificate.fingerprint).startswith(fingerprint.lower()))
    rows = session.exec(query.order_by(col(OwnCertificate.created_at).desc())).all()
    if not rows:
        if fingerprint:
            raise CertificateNotFound(certificate=fingerprint)
        raise NoNetworkCa()
    return rows[0]


# --- signing identities ---------------------------------------------------------------------------------------
def issue_certificate(db: Database, authority: str, *, ca: str | None = None, years: int = 3,
                      now: datetime | None = None) -> OwnCertificate:
    """Issue ``authority`` a signing certificate from the network CA; it replaces the authority's previous one for
    new signatures (the old one keeps verifying what it signed)."""
    now = now or utcnow()
    require_passphrase()
    with db.reader() as session:
        who = load_authority(session, authority)
        issuer = identity_of(_network_ca(session, ca))
    identity = _x509.issue(issuer, _x509.name(who.name or who.code, who.country, who.code), now=now,
                           years=years)
    return _store_signing(db, authority, identity, now)


def import_pkcs12(db: Database, authority: str, data: bytes, password: str | None,
                  *, now: datetime | None = None) -> OwnCertificate:
    """Use a certificate and key from a PKCS#12 file (e.g. a qualified electronic seal) as the authority's signing
    identity."""
    now = now or utcnow()
    require_passphrase()
    identity = _x509.load_pkcs12(data, password)
    cert = identity.certificate
    if not cert.not_valid_before_utc <= now < cert.not_valid_after_utc:
        period = f"{cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d}"
        raise InvalidInput(field="file", reason=f"the certificate is not valid now (valid {period})")
    with db.reader() as session:
        load_authority(session, authority)
    return _store_signing(db, authority, identity, now)


def _store_signing(db: Database, authority: str, identity: Identity, now: datetime) -> OwnCertificate:
    row = _own_row(identity, "signing", authority)
    with db.transaction() as session:
        for old in session.exec(select(OwnCertificate).where(OwnCertificate.authority_code == authority,
                                                             OwnCertificate.role == "signing",
                                                             col(OwnCertificate.retired_at).is_(None))):
            if old.fingerprint != row.fingerprint:
                old.retired_at = now
                session.add(old)
        existing = session.get(OwnCertificate, row.fingerprint)
        if existing is None:
            session.add(row)
        else:
            existing.retired_at = None
            session.add(existing)
            row = existing
    return row


def signing_row(session: Session, authority: str, at: datetime) -> OwnCertificate | None:
    rows = session.exec(select(OwnCertificate).where(OwnCertificate.authority_code == authority,
                                                     OwnCertificate.role == "signing",
                                                     col(OwnCertificate.retired_at).is_(None))
                        .order_by(col(OwnCertificate.created_at).desc())).all()
    return next((r for r in rows if r.not_before <= at < r.not_after), None)


def signing_identity(db: Database, authority: str, *, at: datetime | None = None) -> Identity | None:
    """The certificate and key that sign for ``authority`` now, or None when it has none on this node."""
    with db.reader() as session:
        row = signing_row(session, authority, at or utcnow())
    return identity_of(row, db.url) if row is not None else None


def list_certificates(db: Database) -> list[OwnCertificate]:
    with db.reader() as session:
        return list(session.exec(select(OwnCertificate).order_by(col(OwnCertificate.role),
                                                                 col(OwnCertificate.authority_code),
                                                                 col(OwnCertificate.created_at))))


def export_chain(db: Database, authority: str) -> bytes:
    """PEM of the authority's current signing certificate and its issuers: what a counterpart adds to its trust
    list (the root, or the certificate itself)."""
    with db.reader() as session:
        load_authority(session, authority)
        row = signing_row(session, authority, utcnow())
    if row is None:
        raise CertificateNotFound(certificate=authority)
    certs = [x509.load_der_x509_certificate(row.certificate)]
    certs += [x509.load_der_x509_certificate(base64.b64decode(c)) for c in row.chain]
    return b"".join(c.public_bytes(Encoding.PEM) for c in certs)


# --- the trust list -------------------------------------------------------------------------------------------
def trust_add(db: Database, data: bytes, label: str = "") -> list[TrustedCertificate]:
    """Trust the certificate(s) in ``data`` (PEM, possibly several, or DER). Adding one again updates its label."""
    try:
        certs = (x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data
                 else [_x509.load_certificate(data)])
    except ValueError:
        raise InvalidInput(field="file", reason="not an X.509 certificate (PEM or DER)") from None
    rows = []
    with db.transaction() as session:
        for cert in certs:
            rows.append(session.merge(_trusted_row(cert, label or cert.subject.rfc4514_string())))
    return rows


def trust_list(db: Database) -> list[TrustedCertificate]:
    with db.reader() as session:
        return list(session.exec(select(TrustedCertificate).order_by(col(TrustedCertificate.added_at))))


def trust_remove(db: Database, fingerprint: str) -> TrustedCertificate:
    """Stop trusting a certificate (given by its fingerprint or a unique prefix of at least 8 hex digits)."""
    if len(fingerprint) < 8:
        raise InvalidInput(field="fingerprint", reason="give at least 8 hex digits")
    with db.transaction() as session:
        rows = session.exec(select(TrustedCertificate).where(
            col(TrustedCertificate.fingerprint).startswith(fingerprint.lower()))).all()
        if len(rows) != 1:
            raise CertificateNotFound(certificate=fingerprint)
        session.delete(rows[0])
        return rows[0]


def import_crl(db: Database, data: bytes) -> RevocationList:
    """Keep the CRL of a trusted CA (its signature checked against that CA); an older one than held is refused."""
    crl = _x509.load_crl(data)
    with db.transaction() as session:
        issuer = next((r for r in session.exec(select(TrustedCertificate).where(col(TrustedCertificate.is_ca)))
                       if _signed_by(crl, r)), None)
        if issuer is None:
            raise InvalidInput(field="file", reason=f"the CRL of {crl.issuer.rfc4514_string()} is not signed by "
                                                    "a CA on the trust list")
        held = session.get(RevocationList, issuer.fingerprint)
        this_update = crl.last_update_utc
        if held is not None and held.this_update > this_update:
            raise InvalidInput(field="file", reason="older than the CRL already imported for this CA")
        row = RevocationList(issuer_fingerprint=issuer.fingerprint, this_update=this_update,
                             next_update=crl.next_update_utc, revoked_count=len(list(crl)),
                             crl=crl.public_bytes(Encoding.DER))
        return session.merge(row)


def _signed_by(crl: x509.CertificateRevocationList, trusted: TrustedCertificate) -> bool:
    cert = x509.load_der_x509_certificate(trusted.certificate)
    if cert.subject != crl.issuer:
        return False
    try:
        return crl.is_signature_valid(cert.public_key())  # type: ignore[arg-type]
    except (InvalidSignature, TypeError):
        return False


def trust_material(db: Database) -> tuple[list[x509.Certificate], list[x509.CertificateRevocationList]]:
    """The trusted certificates and the CRLs held for them: the input of every trust decision on this node."""
    with db.reader() as session:
        trusted = [x509.load_der_x509_certificate(r.certificate) for r in session.exec(select(TrustedCertificate))]
        crls = [x509.load_der_x509_crl(r.crl) for r in session.exec(select(RevocationList))]
    return trusted, crls


_stores: dict[str, tuple[tuple[object, ...], TrustStore]] = {}
_stores_lock = threading.Lock()


def trust_store(db: Database) -> TrustStore:
    """This node's trust list and CRLs as a :class:`TrustStore`, rebuilt only when either changed (two small
    queries decide), so the chains it has validated stay cached between messages."""
    with db.reader() as session:
        version = (tuple(sorted(session.exec(select(TrustedCertificate.fingerprint)).all())),
                   tuple(sorted((issuer, str(update)) for issuer, update in session.exec(
                       select(RevocationList.issuer_fingerprint, RevocationList.this_update)).all())))
    with _stores_lock:
        held = _stores.get(db.url)
    if held is not None and held[0] == version:
        return held[1]
    trusted, crls = trust_material(db)
    store = TrustStore(trusted, crls)
    with _stores_lock:
        _stores[db.url] = (version, store)
    return store
