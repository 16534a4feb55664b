"""Verify every signature and document timestamp of a PDF with pyHanko and summarise the facts.

Two passes per signature: one "now" (revocation looked up online if reachable, soft-fail), and one
offline at the time of the signature timestamp using only the data embedded in the file (DSS,
hard-fail). The offline pass is the LTV answer: can this file still be validated when the
certificates have expired and the responders are gone? Either pass being trusted makes the
signature trusted, so an archived B-LT/B-LTA file stays valid after its certificate expires.

A soft-fail "trusted" does not prove the signer was not revoked: when the offline pass does not
cover the signer, a third pass asks again in hard-fail mode (now, online if allowed, with the
revocation data embedded in the file and in the CMS). If that cannot establish the revocation status,
the report is "indeterminate" (not valid), never "valid".
"""

from __future__ import annotations

import enum
import hashlib
import io
import tempfile
from datetime import datetime
from pathlib import Path

from asn1crypto import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import (
    DocumentSecurityStore,
    EmbeddedPdfSignature,
    validate_pdf_timestamp,
)
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel

from pipeline.tools import qpdf
from pipeline.tools.run import ToolError

from .byte_coverage import unsigned_bytes_problems
from .cmscheck import contents_problems, dss_problems
from .model import (
    REVOCATION_UNCHECKED,
    STATUS_INDETERMINATE,
    STATUS_INVALID,
    STATUS_VALID,
    VN_TZ,
    SigningError,
    VerificationReport,
    first_line,
)
from .pdfa import pdfa_claim
from .precheck import load_roots
from .revisions import (
    trailing_bytes_problems,
    unsigned_info_problems,
    unsigned_metadata_problems,
    unsigned_structure_problems,
)
from .revocation import NO_SOURCE, REVOKED, UNKNOWN, revocation_check, revocation_summary, validate, validation_context
from .signer import subject_rfc4514


def _dss(reader: PdfFileReader, report: VerificationReport) -> DocumentSecurityStore | None:
    try:
        return DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return None
    except Exception as exc:  # a damaged DSS: validation goes on without it, the file is not valid
        report.problems.append(f"the document security store cannot be read: {first_line(exc)}")
        report.dss_damaged = True
        return None


def _covers(status) -> bool:
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return True
    level = status.modification_level
    return (
        status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and level is not None
        and level <= ModificationLevel.LTA_UPDATES
    )


def _describe_modification(status) -> str:
    level = status.modification_level
    if status.coverage not in (SignatureCoverageLevel.ENTIRE_FILE, SignatureCoverageLevel.ENTIRE_REVISION):
        return "the signed byte range does not cover the document"
    if level is None:
        return "later changes to the document could not be analysed"
    return f"the document was changed after signing ({level.name.lower().replace('_', ' ')})"


def verify_pdf(
    path: Path, trust_roots: list[Path], *, online: bool = True, expected_sha256: str | None = None
) -> VerificationReport:
    """Check ``path``: integrity, coverage, trust, timestamps, LTV, revocation, PDF/A claim.

    ``online=False`` never contacts OCSP/CRL/AIA servers (revocation only from embedded data).
    ``expected_sha256`` (the archive's stored checksum) must match the file when given.
    """
    report = _verify(Path(path), trust_roots, online)
    if expected_sha256 is not None and report.sha256 != expected_sha256.lower():
        report.problems.append("SHA-256 differs from the stored checksum")
        report.checksum_ok, report.valid, report.status = False, False, STATUS_INVALID
    elif expected_sha256 is not None:
        report.checksum_ok = True
    return report


def _verify(path: Path, trust_roots: list[Path], online: bool) -> VerificationReport:
    report = VerificationReport()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"cannot read {path}: {exc.strerror}") from exc
    report.sha256 = hashlib.sha256(data).hexdigest()
    report.pdfa = pdfa_claim(path)
    roots = load_roots(list(trust_roots)) if trust_roots else []
    if not roots:
        report.problems.append("no trust anchors configured")
    try:
        _verify_signatures(data, roots, online, report)
    except Exception as exc:  # a damaged file can fail anywhere inside pyHanko/asn1crypto: a finding
        report.valid = report.intact = False
        report.status = STATUS_INVALID
        report.problems.append(f"the file is damaged or altered: {type(exc).__name__}: {first_line(exc)}")
    return report


def _verify_signatures(data: bytes, roots: list[x509.Certificate], online: bool, report: VerificationReport) -> None:
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as exc:
        report.problems.append(f"not a readable PDF: {type(exc).__name__}: {first_line(exc)}")
        return
    signatures = [s for s in embedded if s.sig_object_type != "/DocTimeStamp"]
    timestamps = [s for s in embedded if s.sig_object_type == "/DocTimeStamp"]
    report.signatures, report.document_timestamps = len(signatures), len(timestamps)
    if not signatures:
        report.problems.append("the document has no signature")
        return
    dss = _dss(reader, report)
    dss_damage: list[str] = []
    if dss is not None:
        embedded_certs = [c for sig in embedded for c in [*sig.other_embedded_certs, sig.signer_cert]]
        dss_damage = dss_problems(dss, roots, embedded_certs)
        report.problems.extend(dss_damage)
    results = [_guarded(_check_signature, sig, roots, dss, report, online) for sig in signatures]
    ts_ok = [_guarded(_check_doc_timestamp, ts, roots, dss, report, online) for ts in timestamps]
    last_sig_revision = max(s.signed_revision for s in signatures)
    has_lta_ts = any(ts.signed_revision > last_sig_revision for ts in timestamps)
    report.level = _level(report, dss, has_lta_ts)
    report.valid = all(results) and all(ts_ok) and report.intact and report.trusted and report.covers_whole_document
    has_revinfo = dss is not None and bool(dss.ocsps or dss.crls)
    if has_revinfo and report.timestamp_at is not None and not report.ltv:
        report.problems.append("the embedded long-term validation data does not validate the signature")
        report.valid = False
    last_signed = max(s.signed_revision for s in embedded)
    contents = [bytes(s.sig_object["/Contents"]) for s in embedded]
    metadata_damage = unsigned_metadata_problems(reader, last_signed)
    metadata_damage += unsigned_structure_problems(reader, last_signed, contents)
    uncovered = unsigned_info_problems(reader, last_signed) + unsigned_bytes_problems(reader, data)
    uncovered += trailing_bytes_problems(reader, data)
    if uncovered:  # bytes or document information that no signature covers: the file is not what was signed
        report.covers_whole_document = False
    report.problems.extend(metadata_damage + uncovered)
    structure = qpdf_problems(data)
    report.problems.extend(structure)
    if dss_damage or metadata_damage or uncovered or structure or report.dss_damaged:
        report.valid = False
    # Everything else holds but a signer's revocation status is unknown (_check_signature said so): indeterminate.
    undetermined = report.status == STATUS_INDETERMINATE
    report.status = STATUS_INVALID if not report.valid else STATUS_INDETERMINATE if undetermined else STATUS_VALID
    report.valid = report.status == STATUS_VALID


def qpdf_problems(data: bytes) -> list[str]:
    """``qpdf --check`` on the whole file: structural damage anywhere, signed or not, is a finding
    (e.g. a broken keyword in an unsigned DSS revision that lenient parsers read past)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as tmp:
        tmp.write(data)
        tmp.flush()
        try:
            findings = qpdf.check(Path(tmp.name), label="file")
        except ToolError as exc:
            return [f"{exc}: the file structure was not checked"]
    if not findings:
        return []
    detail = next((f for f in findings if "WARNING" in f or "ERROR" in f.upper()), findings[0])
    return [f"qpdf finds the file structure damaged: {detail.split(': ', 1)[-1].strip()}"]


def _guarded(check, sig: EmbeddedPdfSignature, roots, dss, report: VerificationReport, online: bool) -> bool:
    """Run one check; a damaged file can make pyHanko or asn1crypto fail anywhere: that is a finding."""
    try:
        return check(sig, roots, dss, report, online)
    except Exception as exc:
        report.intact = False
        report.problems.append(
            f"{sig.field_name!r} cannot be checked, the file is damaged or altered: "
            f"{type(exc).__name__}: {first_line(exc)}"
        )
        return False


def _check_signature(
    sig: EmbeddedPdfSignature,
    roots: list[x509.Certificate],
    dss: DocumentSecurityStore | None,
    report: VerificationReport,
    online: bool,
) -> bool:
    name = sig.field_name
    try:
        status = validate(sig, validation_context(roots, dss, allow_fetching=online, revocation_mode="soft-fail"))
    except Exception as exc:  # corrupted files fail anywhere inside pyHanko: all mean invalid
        report.problems.append(
            f"signature {name!r} cannot be validated, the file is damaged or altered: {first_line(exc)}"
        )
        return False
    first = report.signer == ""
    unsigned_damage = contents_problems(sig, roots)
    report.problems.extend(unsigned_damage)
    intact = bool(status.intact and status.valid) and not unsigned_damage
    covers = _covers(status)
    ltv_status = _ltv_status(sig, status, roots, dss)
    trusted = bool(status.trusted) or (ltv_status is not None and ltv_status.trusted)
    ts = status.timestamp_validity
    ts_ok = ts is None or bool(ts.intact and ts.valid and ts.trusted)
    # Revoked now but proven good at the timestamp time from embedded data: signed before revocation.
    revoked = status.revoked and not (ltv_status is not None and ltv_status.trusted)
    checked = revocation_check(sig, status, ltv_status, roots, dss, online)
    if checked == REVOKED:
        revoked = True
    unknown = checked in (UNKNOWN, NO_SOURCE) and trusted and not revoked
    if first:
        report.intact, report.covers_whole_document, report.trusted = intact, covers, trusted
        report.signer = subject_rfc4514(status.signing_cert)
        claimed = ts.timestamp if ts is not None else status.signer_reported_dt
        report.signed_at = claimed.astimezone(VN_TZ) if claimed is not None else None
        report.timestamp_valid = None if ts is None else ts_ok
        report.timestamp_at = ts.timestamp.astimezone(VN_TZ) if ts is not None else None
        report.ltv = ltv_status is not None and ltv_status.bottom_line
        path = status.validation_path or (ltv_status.validation_path if ltv_status else None)
        if path is not None:
            report.chain = [c.subject.human_friendly for c in path.iter_certs(include_root=True)]
            report.trust_anchor = report.chain[0] if report.chain else ""
        report.revocation = revocation_summary(status, ltv_status, checked)
    else:
        report.intact &= intact
        report.covers_whole_document &= covers
        report.trusted &= trusted
    if not intact:
        report.problems.append(f"signature {name!r} is broken: the signed bytes were altered")
    if not covers:
        report.problems.append(f"signature {name!r}: {_describe_modification(status)}")
    if revoked:
        report.problems.append(f"signature {name!r}: the signer certificate is revoked")
    elif not trusted:
        indic = status.trust_problem_indic
        why = indic.name if isinstance(indic, enum.Enum) else "no trusted chain" if indic is None else str(indic)
        report.problems.append(f"signature {name!r}: signer not trusted ({why})")
    if not ts_ok:
        report.problems.append(f"signature {name!r}: its timestamp is not valid or not trusted")
    if unknown:
        report.status = STATUS_INDETERMINATE
        why = ("the signer certificate names no OCSP responder and no CRL" if checked == NO_SOURCE else
               f"no OCSP/CRL answer ({'responders unreachable' if online else 'offline check'}) and no "
               "embedded revocation data covers the signer certificate")
        report.problems.append(f"signature {name!r}: {REVOCATION_UNCHECKED}: {why}")
    return intact and covers and trusted and ts_ok and not revoked


def _ltv_status(
    sig: EmbeddedPdfSignature,
    status: PdfSignatureStatus,
    roots: list[x509.Certificate],
    dss: DocumentSecurityStore | None,
) -> PdfSignatureStatus | None:
    """Validate offline, at the signature-timestamp time, from embedded data only (hard-fail)."""
    ts = status.timestamp_validity
    if ts is None or dss is None or not roots:
        return None
    moment: datetime = ts.timestamp
    try:
        context = validation_context(
            roots, dss, allow_fetching=False, revocation_mode="hard-fail", moment=moment, retroactive_revinfo=True
        )
        return validate(sig, context)
    except Exception:
        return None


def _check_doc_timestamp(
    ts: EmbeddedPdfSignature,
    roots: list[x509.Certificate],
    dss: DocumentSecurityStore | None,
    report: VerificationReport,
    online: bool,
) -> bool:
    try:
        status = validate_pdf_timestamp(
            ts, validation_context=validation_context(roots, dss, allow_fetching=online, revocation_mode="soft-fail")
        )
    except Exception as exc:  # corrupted files fail anywhere inside pyHanko: all mean invalid
        report.problems.append(
            f"a document timestamp cannot be validated, the file is damaged or altered: {first_line(exc)}"
        )
        return False
    damage = contents_problems(ts, roots)
    report.problems.extend(damage)
    ok = bool(status.intact and status.valid and status.trusted and _covers(status)) and not damage
    if not ok:
        report.problems.append("a document timestamp is broken, untrusted, or followed by unsigned changes")
    return ok


def _level(report: VerificationReport, dss: DocumentSecurityStore | None, lta: bool) -> str:
    if report.timestamp_at is None:
        return "B-B"
    has_revinfo = dss is not None and bool(dss.ocsps or dss.crls)
    if not (has_revinfo and report.ltv):
        return "B-T"
    return "B-LTA" if lta else "B-LT"
