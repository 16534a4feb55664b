"""Signature stage: PAdES signing of PDF/A files with pyHanko, and their verification.

Public API (everything else in this package is internal):

- :func:`sign_pdf` — PDF in, signed PDF out (incremental update, PDF/A kept), B-B to B-LTA, PKCS#12
  or PKCS#11 key, optional Decree 30 visible stamp.
- :func:`verify_pdf` — integrity, coverage, trust, timestamps, LTV, revocation, PDF/A claim, checksum.
- :func:`add_document_timestamp` / :func:`needs_renewal` — keep B-LTA files verifiable over decades.
- :func:`init_test_pki` / :func:`load_test_pki` / :func:`find_test_pki` — a throwaway TEST PKI, and
  :class:`Responders` / :func:`responder_urls` to serve its OCSP, CRLs and TSA on loopback.
- :func:`pdfsig_check` — poppler's ``pdfsig`` as an independent validator.
"""

from .defaults import resolve_level, resolve_tsa_url, visible_for
from .model import (
    LEVELS,
    VN_TZ,
    SignatureInfo,
    SignerConfig,
    SigningError,
    SignPolicy,
    TestPki,
    VerificationReport,
)
from .pdfa import pdfa_claim, signed_pdfa_problems
from .pdfsig import PdfsigResult, PdfsigSignature, pdfsig_check
from .renewal import add_document_timestamp, needs_renewal, timestamp_expiry
from .responders import Responders, responder_urls
from .signer import sign_pdf
from .stamp import make_test_seal
from .testpki import find_test_pki, init_test_pki, load_test_pki
from .verify import verify_pdf

__all__ = [
    "LEVELS",
    "VN_TZ",
    "PdfsigResult",
    "PdfsigSignature",
    "Responders",
    "SignPolicy",
    "SignatureInfo",
    "SignerConfig",
    "SigningError",
    "TestPki",
    "VerificationReport",
    "add_document_timestamp",
    "find_test_pki",
    "init_test_pki",
    "load_test_pki",
    "make_test_seal",
    "needs_renewal",
    "pdfa_claim",
    "pdfsig_check",
    "resolve_level",
    "resolve_tsa_url",
    "responder_urls",
    "sign_pdf",
    "signed_pdfa_problems",
    "timestamp_expiry",
    "verify_pdf",
    "visible_for",
]
