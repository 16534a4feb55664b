"""Signed originals, first half: what signatures an incoming PDF already carries and whether they hold
(:func:`inspect_incoming`), per signature, reusing :func:`pipeline.sign.verify.verify_pdf`'s per-signature pass
(integrity, coverage, trust, timestamp, LTV, revocation). :mod:`pipeline.sign.augment` preserves them."""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from asn1crypto import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import DocumentSecurityStore, EmbeddedPdfSignature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from .model import (
    STATUS_INDETERMINATE,
    STATUS_INVALID,
    STATUS_VALID,
    SigningError,
    VerificationReport,
    first_line,
)
from .precheck import load_roots
from .revocation import cms_revinfo
from .verify import _check_signature, _dss, _guarded, verify_pdf

log = logging.getLogger(__name__)
DOC_TIMESTAMP = "/DocTimeStamp"


@dataclass
class IncomingSignature:
    """One signature (not a document timestamp) found in an incoming PDF."""

    field_name: str
    signer_subject: str = ""
    signed_at: datetime | None = None  # signature timestamp if any, else the signer-claimed time
    timestamped: bool = False
    level: str = ""  # best guess: B-B, B-T, B-LT, B-LTA
    status: str = STATUS_INVALID  # valid, indeterminate, invalid
    problems: list[str] = field(default_factory=list)
    intact: bool = False
    trusted: bool = False
    revocation: str = ""
    covers_whole_document: bool = False  # its byte range ends at the end of the file
    covers_signed_revision: bool = False  # intact over the revision it signed; later changes allowed
    signed_revision: int = 0
    ltv: bool = False  # validates offline at its (signature or document) timestamp time from embedded data


@dataclass
class IncomingSignatures:
    """What an incoming PDF carries; ``status`` is the document's bottom line (from ``verify_pdf``)."""

    signed: bool = False
    signatures: list[IncomingSignature] = field(default_factory=list)
    document_timestamps: int = 0
    status: str = ""  # "" when unsigned; else valid / indeterminate / invalid
    problems: list[str] = field(default_factory=list)  # document-level findings of verify_pdf
    sha256: str = ""


@dataclass
class AugmentInfo:
    """Outcome of :func:`augment_to_lta`, for the document record."""

    src_sha256: str
    dst_sha256: str
    src_size: int
    dst_size: int
    signatures: list[IncomingSignature]  # the sender's signatures, as validated after augmentation
    timestamped_at: datetime | None = None
    timestamp_valid: bool = False
    status: str = ""  # verify_pdf's verdict on the augmented file
    level: str = ""  # lowest PAdES level among the sender's signatures after augmentation
    verify_level: str = ""  # verify_pdf's level (it counts signature timestamps only, not document ones)
    missing: list[str] = field(default_factory=list)  # validation material that could not be fetched
    problems: list[str] = field(default_factory=list)  # verify_pdf's findings on the augmented file


def _reader(data: bytes | BinaryIO) -> PdfFileReader:
    return PdfFileReader(io.BytesIO(data) if isinstance(data, bytes) else data, strict=False)


def _split(reader: PdfFileReader) -> tuple[list[EmbeddedPdfSignature], list[EmbeddedPdfSignature]]:
    embedded = list(reader.embedded_signatures)
    return (
        [s for s in embedded if s.sig_object_type != DOC_TIMESTAMP],
        [s for s in embedded if s.sig_object_type == DOC_TIMESTAMP],
    )


def _coverage(sig: EmbeddedPdfSignature) -> tuple[bool, bool]:
    """(covers the whole file, covers the revision it signed with no change its DocMDP disallows).

    pyHanko's own integrity summary (coverage, difference analysis, DocMDP), as computed by the
    validation that just ran on ``sig``.
    """
    try:
        if not sig._integrity_checked:
            sig.compute_integrity_info()
        summary = sig.summarise_integrity_info()
    except Exception:
        return False, False
    coverage = summary["coverage"]
    whole = coverage == SignatureCoverageLevel.ENTIRE_FILE
    revision = coverage in (SignatureCoverageLevel.ENTIRE_FILE, SignatureCoverageLevel.ENTIRE_REVISION)
    return whole, whole or (revision and summary["docmdp_ok"] is True)


def _one(
    sig: EmbeddedPdfSignature,
    roots: list[x509.Certificate],
    dss: DocumentSecurityStore | None,
    online: bool,
    doc_timestamps: list[tuple[int, datetime]],
) -> IncomingSignature:
    """One signature through verify.py's per-signature pass, with a report of its own."""
    rep = VerificationReport()
    _guarded(_check_signature, sig, roots, dss, rep, online)
    whole, revision_ok = _coverage(sig)
    # verify.py's coverage allows only LTA updates after a signature; a later signature (form filling
    # permitted by the signer's DocMDP) is no disallowed modification of this one.
    prefix = f"signature {sig.field_name!r}: "
    problems = [p for p in rep.problems if not (revision_ok and p.startswith(prefix + "the document was changed"))]
    revoked = prefix + "the signer certificate is revoked" in rep.problems
    ok = rep.intact and rep.trusted and revision_ok and not revoked and rep.timestamp_valid is not False
    status = STATUS_INVALID
    if ok:
        status = STATUS_INDETERMINATE if rep.status == STATUS_INDETERMINATE else STATUS_VALID
    info = IncomingSignature(
        field_name=sig.field_name,
        signer_subject=rep.signer,
        signed_at=rep.signed_at,
        timestamped=rep.timestamp_at is not None,
        status=status,
        problems=problems,
        intact=rep.intact,
        trusted=rep.trusted,
        revocation=rep.revocation,
        covers_whole_document=whole,
        covers_signed_revision=revision_ok,
        signed_revision=sig.signed_revision,
    )
    if status == STATUS_INVALID and not problems:
        info.problems.append(prefix + "changes after it are not permitted")
    has_revinfo = (dss is not None and bool(dss.ocsps or dss.crls)) or bool(cms_revinfo(sig))
    later = sorted(t for r, t in doc_timestamps if r > sig.signed_revision)
    if rep.timestamp_at is None and later and has_revinfo:
        # A document timestamp is the proof of existence (ETSI EN 319 142-1 allows it for B-T): is the
        # signer good at that time from the file's own data alone (offline, hard-fail)?
        info.ltv = _offline_trusted(sig, roots, dss, later[0])
    else:
        info.ltv = rep.ltv
    if rep.timestamp_at is None and not later:
        info.level = "B-B"
    elif not (has_revinfo and info.ltv):
        info.level = "B-T"
    else:
        # Without a signature timestamp the first document timestamp is the B-T one; B-LTA needs another.
        needed = 1 if rep.timestamp_at is not None else 2
        info.level = "B-LTA" if len(later) >= needed else "B-LT"
    return info


def _inspect_data(data: bytes | BinaryIO, roots: list[x509.Certificate], online: bool
                  ) -> tuple[list[IncomingSignature], int]:
    reader = _reader(data)
    sigs, timestamps = _split(reader)
    dss = _dss(reader, VerificationReport())
    stamps = [(t.signed_revision, _token_time(t)) for t in timestamps]
    return [_one(s, roots, dss, online, stamps) for s in sigs], len(timestamps)


def _token_time(ts: EmbeddedPdfSignature) -> datetime:
    """genTime of a document timestamp's token (validated separately by verify_pdf)."""
    return ts.signed_data["encap_content_info"]["content"].parsed["gen_time"].native


def _offline_trusted(sig: EmbeddedPdfSignature, roots, dss, moment: datetime) -> bool:
    from .revocation import validate

    try:
        context = _context(roots, dss, False, "hard-fail", moment=moment, retroactive_revinfo=True,
                           **cms_revinfo(sig))
        return bool(validate(sig, context).trusted)
    except Exception:
        return False


def inspect_incoming(path: Path, trust_roots: list[Path], online: bool = True) -> IncomingSignatures:
    """Every signature of ``path`` (field, signer, time, level guess, status with reasons, coverage).

    The file is only read, and read from disk as needed, never whole into memory: every incoming PDF passes
    here, a 1,000-page scan too. ``online=False`` never contacts OCSP/CRL servers.
    """
    path = Path(path)
    roots = load_roots(list(trust_roots)) if trust_roots else []
    try:
        with path.open("rb") as fh:
            result = IncomingSignatures(sha256=hashlib.file_digest(fh, "sha256").hexdigest())
            fh.seek(0)
            try:
                result.signatures, result.document_timestamps = _inspect_data(fh, roots, online)
            except Exception as exc:  # unreadable: nothing to report per signature
                result.problems.append(f"signatures cannot be read: {type(exc).__name__}: {first_line(exc, True)}")
                return result
    except OSError as exc:
        raise SigningError(f"cannot read {path}: {exc.strerror}") from exc
    result.signed = bool(result.signatures)
    if not result.signed:
        return result
    report = verify_pdf(path, list(trust_roots), online=online)
    per_sig = {s.field_name for s in result.signatures}
    result.problems = [p for p in report.problems if not any(p.startswith(f"signature {n!r}") for n in per_sig)]
    statuses = [s.status for s in result.signatures]
    if STATUS_INVALID in statuses or (report.status == STATUS_INVALID and result.problems):
        result.status = STATUS_INVALID
    elif STATUS_INDETERMINATE in statuses:
        result.status = STATUS_INDETERMINATE
    else:
        result.status = STATUS_VALID
    return result

def _context(roots: list[x509.Certificate], dss: DocumentSecurityStore | None, online: bool, mode: str,
             **extra) -> ValidationContext:
    kwargs = {"trust_roots": roots, "allow_fetching": online, "revocation_mode": mode, **extra}
    return dss.as_validation_context(kwargs) if dss is not None else ValidationContext(**kwargs)
