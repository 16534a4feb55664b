"""Signed incoming PDFs: never re-written. The sender's signatures are validated and recorded; the archival
copy (``archive.pdf``) is the original byte for byte plus the archive's incremental DSS and document
timestamp (PAdES B-LTA augmentation, :func:`pipeline.sign.augment_to_lta`), so the sender's signature stays
valid; without a TSA it is the original unchanged. The page texts are read from the original for search
(pages without a text layer, as in a signed scan, are OCR'd on a throw-away copy).

OCRmyPDF refuses signed input ("OCR would alter the signature") and a PDF/A rendition would break the
signature: before this path, the very documents agencies exchange every day went to quarantine.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from pipeline import ocr, sign
from pipeline.app.representations import SIGNED_ORIGINAL as REPRESENTATION
from pipeline.core.record import Event, IncomingSignature, SignatureFacts
from pipeline.core.settings import Settings


class NotPreserved(Exception):
    """The signed original cannot be preserved now (one line; e.g. the TSA does not answer)."""


def incoming_signatures(path: Path, settings: Settings) -> sign.IncomingSignatures:
    """The signatures ``path`` carries, validated now (an unsigned PDF gives ``signed == False``)."""
    roots = [p for p in settings.trust_roots if p.is_file()]
    return sign.inspect_incoming(path, roots)


def preserve(original: Path, found: sign.IncomingSignatures, settings: Settings, workdir: Path,
             language: str = "") -> tuple[ocr.OcrResult, SignatureFacts, list[IncomingSignature], Event]:
    """The archival copy of a signed original, its page texts, and what the record says about it."""
    started = datetime.now(UTC)
    roots = [p for p in settings.trust_roots if p.is_file()]
    out = workdir / "archive.pdf"
    signatures = found.signatures
    detail: dict[str, object] = {"representation": REPRESENTATION}
    if settings.sign.tsa_url:
        try:
            info = sign.augment_to_lta(original, out, roots, settings.sign.tsa_url)
        except sign.SigningError as exc:
            raise NotPreserved(str(exc)) from exc
        signatures, level, timestamped = info.signatures, info.level, True
        detail |= {"augmented": "B-LTA", "missing": info.missing, "timestamp_valid": info.timestamp_valid}
    else:  # no TSA configured: keep it exactly as received
        shutil.copyfile(original, out)
        level = min((s.level for s in signatures), default="", key=_rank)
        timestamped = any(s.timestamped for s in signatures)
        detail["augmented"] = "no (sign.tsa_url not set)"
    # A signed scan has no text layer: its pages are OCR'd on a throw-away copy.
    pages, ocr_failure = ocr.pages_for_search(original, workdir, language=language or settings.ocr.language,
                                              timeout_s=settings.ocr.timeout_s)
    if ocr_failure:
        detail["ocr"] = f"failed: {ocr_failure}"
    result = ocr.OcrResult(pdf_path=out, pages=pages, ocr_applied=any(p.confidence is not None for p in pages),
                           pdfa=ocr.claimed_pdfa(original) or "")
    first = signatures[0]
    facts = SignatureFacts(signed=True, level=level, field_name=first.field_name,
                           signer_subject=first.signer_subject, signed_at=first.signed_at, visible=False,
                           timestamped=timestamped)
    recorded = [IncomingSignature(field_name=s.field_name, signer_subject=s.signer_subject, signed_at=s.signed_at,
                                  level=s.level, status=s.status, reasons=list(s.problems)) for s in signatures]
    detail["signatures"] = [f"{s.field_name}: {s.status}" for s in signatures]
    event = Event(stage="preserve", started_at=started, finished_at=datetime.now(UTC), detail=detail)
    return result, facts, recorded, event


def _rank(level: str) -> int:
    return sign.LEVELS.index(level) if level in sign.LEVELS else -1
