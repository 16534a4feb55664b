"""Signature stage: PAdES signing of PDF/A files with pyHanko, and their verification.

Public API (everything else in this package is internal):

- :func:`sign_pdf` — PDF in, signed PDF out (incremental update, PDF/A kept), B-B to B-LTA, PKCS#12
  or PKCS#11 key, optional Decree 30 visible stamp.
- :func:`verify_pdf` — integrity, coverage, trust, timestamps, LTV, revocation, PDF/A claim, checksum.
- :func:`add_document_timestamp` / :func:`needs_renewal` — keep B-LTA files verifiable over decades.

The TEST PKI, its responders, the SoftHSM token and the ``pdfsig`` cross-check live in
:mod:`pipeline.devtools`: production code never imports them.

Names load on first use (PEP 562): a CLI command that never converts or signs does not pay for
OCRmyPDF and pyHanko at start-up (measured: `archive --help` 3.7 s, 2.5 s of it imports).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.core.lazy import lazy_names

if TYPE_CHECKING:
    from pipeline.sign.augment import augment_to_lta
    from pipeline.sign.defaults import resolve_level, visible_for
    from pipeline.sign.incoming import AugmentInfo, IncomingSignature, IncomingSignatures, inspect_incoming
    from pipeline.sign.model import (
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
    from pipeline.sign.pdfa import pdfa_claim, signed_pdfa_problems
    from pipeline.sign.renewal import add_document_timestamp, needs_renewal, timestamp_expiry
    from pipeline.sign.signer import sign_pdf
    from pipeline.sign.verify import verify_pdf

_WHERE = {  # name → its module, imported on first use
    "resolve_level": "pipeline.sign.defaults",
    "visible_for": "pipeline.sign.defaults",
    "LEVELS": "pipeline.sign.model",
    "VN_TZ": "pipeline.sign.model",
    "SignatureInfo": "pipeline.sign.model",
    "SignerConfig": "pipeline.sign.model",
    "SigningError": "pipeline.sign.model",
    "SignPolicy": "pipeline.sign.model",
    "StampNotPlaced": "pipeline.sign.model",
    "TestPki": "pipeline.sign.model",
    "VerificationReport": "pipeline.sign.model",
    "pdfa_claim": "pipeline.sign.pdfa",
    "signed_pdfa_problems": "pipeline.sign.pdfa",
    "add_document_timestamp": "pipeline.sign.renewal",
    "needs_renewal": "pipeline.sign.renewal",
    "timestamp_expiry": "pipeline.sign.renewal",
    "sign_pdf": "pipeline.sign.signer",
    "verify_pdf": "pipeline.sign.verify",
    "augment_to_lta": "pipeline.sign.augment",
    "AugmentInfo": "pipeline.sign.incoming",
    "IncomingSignature": "pipeline.sign.incoming",
    "IncomingSignatures": "pipeline.sign.incoming",
    "inspect_incoming": "pipeline.sign.incoming",
}

__all__ = [
    "LEVELS",
    "VN_TZ",
    "AugmentInfo",
    "IncomingSignature",
    "IncomingSignatures",
    "SignPolicy",
    "SignatureInfo",
    "SignerConfig",
    "SigningError",
    "StampNotPlaced",
    "TestPki",
    "VerificationReport",
    "add_document_timestamp",
    "augment_to_lta",
    "inspect_incoming",
    "needs_renewal",
    "pdfa_claim",
    "resolve_level",
    "sign_pdf",
    "signed_pdfa_problems",
    "timestamp_expiry",
    "verify_pdf",
    "visible_for",
]


__getattr__, __dir__ = lazy_names(__name__, _WHERE)
