"""Which representation of a document is its archival copy (``archive.pdf``), and why, in the user's terms.

Every document keeps its original byte for byte (``original/<name>``). The archival copy is:
- ``pdfa``: the PDF/A-2b rendition made from the original (OCR'd where needed), signed by the agency;
- ``signed-original``: a PDF the sender signed, never re-written (:mod:`pipeline.app.signed_original`);
- ``original``: a readable PDF that no converter could make PDF/A (:class:`pipeline.ocr.RenditionFailed`):
  a copy of the original with the agency signature appended as an incremental update, so the received bytes
  stay a prefix of the archival copy. An OAIS archive never refuses a record because its format is imperfect.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pikepdf

from pipeline import ocr
from pipeline.core.record import Event, RepresentationNote

PDFA = "pdfa"
SIGNED_ORIGINAL = "signed-original"
ORIGINAL = "original"
ORIGINAL_COPY = "original.pdf"  # the pipeline's own copy of the original in its work folder (signable)
RESAVED_COPY = "original-resaved.pdf"

_NOTES = {
    PDFA: ("Bản lưu trữ là bản PDF/A-2b tạo từ bản gốc; bản gốc được lưu kèm nguyên vẹn.",
           "The archival copy is a PDF/A-2b rendition of the original; the original is kept unchanged beside it."),
    SIGNED_ORIGINAL: ("PDF đã có chữ ký số của nơi gửi: bản lưu trữ là bản gốc giữ nguyên, chỉ bổ sung dữ liệu "
                      "xác thực và dấu thời gian.",
                      "The PDF carries the sender's digital signature: the archival copy is the original unchanged, "
                      "with validation data and a timestamp appended."),
}


def note_for(representation: str, changes: list[str] | None = None, detail: str = "") -> RepresentationNote:
    vi, en = _NOTES[representation]
    return RepresentationNote(vi=vi, en=en, detail=detail, changes=list(dict.fromkeys(changes or [])))


def no_rendition_note(failure: ocr.RenditionFailed) -> RepresentationNote:
    reason = failure.reason
    return RepresentationNote(vi=reason.vi, en=reason.en, detail=reason.detail)


def keep_original(original: Path, failure: ocr.RenditionFailed, workdir: Path, language: str = "vie",
                  timeout_s: int = 600) -> tuple[ocr.OcrResult, Event]:
    """The original as the archival copy (to be signed by the caller), its page texts (pages without a text
    layer OCR'd on a throw-away copy), and the event."""
    started = datetime.now(UTC)
    copy = workdir / ORIGINAL_COPY
    shutil.copyfile(original, copy)
    detail = {"representation": ORIGINAL, "reason": failure.reason.en, "detail": failure.reason.detail}
    pages, ocr_failure = ocr.pages_for_search(copy, workdir, language=language, timeout_s=timeout_s)
    if ocr_failure:
        detail["ocr"] = f"failed: {ocr_failure}"
    result = ocr.OcrResult(pdf_path=copy, pages=pages, ocr_applied=any(p.confidence is not None for p in pages),
                           pdfa="")
    event = Event(stage="pdfa", started_at=started, finished_at=datetime.now(UTC), outcome="no-rendition",
                  detail=detail)
    return result, event


RESAVED_CHANGE = ("the signer could not append to the received bytes, so the archival copy is qpdf's "
                  "unencrypted re-save of the original (content unchanged); the received bytes are original/<name>")
_RESAVE_WHEN = ("cannot read", "encryption credentials", "encrypted")


def needs_resave(message: str) -> bool:
    """True for a signer failure a structural re-save cures: unparsable for pyHanko, or owner-password
    encryption (pyHanko needs the credentials to append)."""
    return any(marker in message for marker in _RESAVE_WHEN)


def resaved(copy: Path) -> Path:
    """The original re-saved by qpdf (structure repaired, content untouched) for a signer that could not
    parse the received bytes; the received bytes themselves stay in ``original/<name>``."""
    target = copy.with_name(RESAVED_COPY)
    with pikepdf.open(copy) as pdf:  # saved without encryption (pikepdf's default)
        pdf.save(target, linearize=False, object_stream_mode=pikepdf.ObjectStreamMode.preserve)
    return target
