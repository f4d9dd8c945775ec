"""X.509 identities of authorities: a network CA, signing certificates (issued here or imported from PKCS#12),
the trust list of counterparts' CAs and certificates, and their revocation lists (CRL files)."""

from engine.pki._chain import ChainResult, TrustStore, Untrusted
from engine.pki._registry import (
    CertificateNotFound,
    NoNetworkCa,
    create_ca,
    export_chain,
    identity_of,
    import_crl,
    import_pkcs12,
    issue_certificate,
    list_certificates,
    signing_identity,
    signing_row,
    trust_add,
    trust_list,
    trust_material,
    trust_remove,
    trust_store,
)
from engine.pki._x509 import Identity, fingerprint

__all__ = [
    "CertificateNotFound",
    "Identity",
    "NoNetworkCa",
    "create_ca",
    "export_chain",
    "fingerprint",
    "identity_of",
    "import_crl",
    "import_pkcs12",
    "issue_certificate",
    "list_certificates",
    "signing_identity",
    "signing_row",
    "trust_add",
    "trust_list",
    "trust_material",
    "trust_remove",
    "trust_store",
    "ChainResult",
    "TrustStore",
    "Untrusted",
]
