"""Signature stage: PAdES signing of PDF/A files with pyHanko, and their verification.

Public API (everything else in this package is internal):

- :func:`sign_pdf` — PDF in, signed PDF out (incremental update, PDF/A kept), B-B to B-LTA, PKCS#12
  or PKCS#11 key, optional Decree 30 visible stamp.
- :func:`verify_pdf` — integrity, coverage, trust, timestamps, LTV, revocation, PDF/A claim, checksum.
- :func:`add_document_timestamp` / :func:`needs_renewal` — keep B-LTA files verifiable over decades.

The TEST PKI, its responders, the SoftHSM token and the ``pdfsig`` cross-check live in
:mod:`pipeline.devtools`: production code never imports them.
"""

from .defaults import resolve_level, visible_for
from .model import (
    LEVELS,
    VN_TZ,
    SignatureInfo,
    SignerConfig,
    SigningError,
    SignPolicy,
    StampNotPlaced,
    TestPki,
    VerificationReport,
)
from .pdfa import pdfa_claim, signed_pdfa_problems
from .renewal import add_document_timestamp, needs_renewal, timestamp_expiry
from .signer import sign_pdf
from .verify import verify_pdf

__all__ = [
    "LEVELS",
    "VN_TZ",
    "SignPolicy",
    "SignatureInfo",
    "SignerConfig",
    "SigningError",
    "StampNotPlaced",
    "TestPki",
    "VerificationReport",
    "add_document_timestamp",
    "needs_renewal",
    "pdfa_claim",
    "resolve_level",
    "sign_pdf",
    "signed_pdfa_problems",
    "timestamp_expiry",
    "verify_pdf",
    "visible_for",
]

from .augment import augment_to_lta
from .incoming import AugmentInfo, IncomingSignature, IncomingSignatures, inspect_incoming

__all__ += ["AugmentInfo", "IncomingSignature", "IncomingSignatures", "augment_to_lta", "inspect_incoming"]
