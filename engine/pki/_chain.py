"""Whether a certificate chain carried by an envelope or a receipt (``x5c``) leads to this node's trust list, and
for which period and revocation state — decided once per chain and cached, so that verifying a message costs one
signature check and a dictionary lookup.

No network: anchors are the trust list (a counterpart's CA, or a single pinned certificate) and revocation comes
from the CRLs imported for those CAs. The path is built from the chain the signer sent; each link's signature is
checked, every issuer must be a CA, and the validity windows of the whole path are intersected, so a message
signed at ``sent_at`` is accepted only when every certificate on the path was valid then."""

from __future__ import annotations

import base64
import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import NameOID

from engine.pki._x509 import fingerprint, is_ca

MAX_DEPTH = 4
CACHE_SIZE = 4096


@dataclass(frozen=True)
class ChainResult:
    """What a chain is worth here. ``problem`` is None when it leads to the trust list."""

    leaf: x509.Certificate
    public_key: CertificatePublicKeyTypes
    thumbprint: str  # x5t#S256 of the leaf: base64url SHA-256 of its DER
    problem: str | None
    not_before: datetime | None = None  # intersection of the path's validity windows
    not_after: datetime | None = None
    revoked_at: datetime | None = None  # earliest revocation on the path (CRLs held here)
    names: frozenset[str] = frozenset()  # organization / organizationIdentifier values of the leaf's subject

    def valid_at(self, moment: datetime) -> bool:
        return (self.not_before is not None and self.not_after is not None
                and self.not_before <= moment < self.not_after)

    def names_authority(self, code: str) -> bool:
        """The certificate speaks for authority ``code``: its subject carries the code as organization (what
        ``exhorto keys cert issue`` writes) or as organizationIdentifier."""
        return code in self.names


class Untrusted(ValueError):
    """The chain cannot be parsed at all (``str()`` says why)."""


def _names(cert: x509.Certificate) -> frozenset[str]:
    values = set()
    for oid in (NameOID.ORGANIZATION_NAME, NameOID.ORGANIZATION_IDENTIFIER):
        values |= {str(a.value) for a in cert.subject.get_attributes_for_oid(oid)}
    return frozenset(values)


def _issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    if child.issuer != parent.subject:
        return False
    try:
        child.verify_directly_issued_by(parent)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


class TrustStore:
    """The trust list and CRLs of one node at one moment, with the chains already decided."""

    def __init__(self, trusted: list[x509.Certificate], crls: list[x509.CertificateRevocationList]) -> None:
        self._pinned = {fingerprint(c) for c in trusted}
        self._anchors = [c for c in trusted if is_ca(c)]
        self._crls: dict[x509.Name, list[x509.CertificateRevocationList]] = {}
        for item in crls:
            self._crls.setdefault(item.issuer, []).append(item)
        self._cache: dict[tuple[str, ...], ChainResult] = {}
        self._lock = threading.Lock()

    def check(self, x5c: tuple[str, ...] | list[str]) -> ChainResult:
        """The verdict on ``x5c`` (base64 DER, signer first); raises :class:`Untrusted` when it is not X.509."""
        key = tuple(x5c)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        result = self._decide(key)
        with self._lock:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = result
        return result

    def _decide(self, x5c: tuple[str, ...]) -> ChainResult:
        if not x5c or len(x5c) > MAX_DEPTH + 1:
            raise Untrusted(f"x5c: expected 1 to {MAX_DEPTH + 1} certificates")
        try:
            ders = [base64.b64decode(c, validate=True) for c in x5c]
            certs = [x509.load_der_x509_certificate(d) for d in ders]
            leaf = certs[0]
            public = leaf.public_key()
        except (ValueError, TypeError) as error:
            raise Untrusted(f"x5c: not base64 DER certificates ({error})") from None
        thumb = base64.urlsafe_b64encode(hashlib.sha256(ders[0]).digest()).rstrip(b"=").decode()
        base = {"leaf": leaf, "public_key": public, "thumbprint": thumb, "names": _names(leaf)}
        path = [leaf]
        anchored = fingerprint(leaf) in self._pinned
        pool = certs[1:]
        while not anchored and len(path) <= MAX_DEPTH:
            current = path[-1]
            anchor = next((a for a in self._anchors if _issued_by(current, a)), None)
            if anchor is not None:
                path.append(anchor)
                anchored = True
                break
            parent = next((p for p in pool if is_ca(p) and _issued_by(current, p)), None)
            if parent is None:
                break
            pool.remove(parent)
            path.append(parent)
            anchored = fingerprint(parent) in self._pinned
        if not anchored:
            return ChainResult(**base, problem=f"the certificate of {leaf.subject.rfc4514_string()} does not "
                                               "chain to this node's trust list")
        revoked = [self._revoked_at(cert) for cert in path[:-1]]
        known = [r for r in revoked if r is not None]
        return ChainResult(**base, problem=None,
                           not_before=max(c.not_valid_before_utc for c in path),
                           not_after=min(c.not_valid_after_utc for c in path),
                           revoked_at=min(known) if known else None)

    def _revoked_at(self, cert: x509.Certificate) -> datetime | None:
        for item in self._crls.get(cert.issuer, []):
            entry = item.get_revoked_certificate_by_serial_number(cert.serial_number)
            if entry is not None:
                return entry.revocation_date_utc
        return None
