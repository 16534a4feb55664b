"""The document record: the one typed shape that flows through every stage and is stored as
``metadata.json``. Stages exchange these plain data objects, never each other's internals.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from pipeline.core.text import nfc
from pipeline.core.vocabulary import Classification, Origin

__all__ = ["Classification", "DocumentMetadata", "DocumentRecord", "Origin", "nfc", "rescan_pages", "utcnow"]

SCHEMA_VERSION = 1


def utcnow() -> datetime:
    return datetime.now(UTC)


class DocumentMetadata(BaseModel):
    """What archivists record about a document (manifest columns). All text NFC."""

    doc_number: str = ""
    doc_type: str = ""
    title: str = ""
    issuer: str = ""
    issued_date: date | None = None
    signer: str = ""
    unit: str = ""
    classification: Classification = Classification.PUBLIC
    language: str = ""
    # Circular 02/2019/TT-BNV fields (see shared/domain.md): the dossier (hồ sơ) the document belongs to and
    # its place in it, archive code, access regime, reliability, autograph, physical condition, keywords, notes.
    dossier_code: str = ""  # Mã hồ sơ: fonds code + catalogue number (or year) + dossier number
    order_in_dossier: int | None = Field(default=None, ge=1)  # Số thứ tự văn bản trong hồ sơ
    archive_code: str = ""  # Mã lưu trữ
    access_regime: str = ""  # restricted | unrestricted (Chế độ sử dụng 01 / 02)
    reliability: str = ""  # original | copy (Mức độ tin cậy 01 / 02)
    autograph: str = ""  # Bút tích: e.g. "chữ ký số", "chữ ký tay"
    physical_condition: str = ""  # Tình trạng vật lý
    keywords: str = ""  # Từ khóa, separated by ";"
    notes: str = ""  # Ghi chú

    @field_validator("doc_number", "doc_type", "title", "issuer", "signer", "unit", "language", "dossier_code",
                     "archive_code", "access_regime", "reliability", "autograph", "physical_condition", "keywords",
                     "notes")
    @classmethod
    def _nfc(cls, value: str) -> str:
        return nfc(value).strip()

    def export_name(self) -> str:
        """``<Mã hồ sơ>.<số thứ tự>`` (the digitized file's name in a transfer), or "" outside a dossier."""
        if not self.dossier_code or self.order_in_dossier is None:
            return ""
        return f"{self.dossier_code}.{self.order_in_dossier}"


class Source(BaseModel):
    """Provenance: where the document came from."""

    batch: str
    path: str  # relative path of the file or folder inside the batch
    files: list[str]  # original file names, in page order
    received_at: datetime = Field(default_factory=utcnow)
    # A document split from a scanned stream at separator sheets (path ``<input>#k``), or with blank pages dropped:
    # the input's pages (1-based) it is made of, those dropped as blank, and the separator sheet's page before it.
    pages: list[int] = Field(default_factory=list)  # empty: every page of the input
    blank_pages: list[int] = Field(default_factory=list)
    separator_page: int | None = None


class PageInfo(BaseModel):
    number: int  # 1-based
    text_key: str = ""
    chars: int = 0
    confidence: float | None = None  # mean OCR word confidence 0-100; None when not OCR'd
    # Share (0-1) of the OCR'd words that are Vietnamese syllables (pipeline.core.syllables); None when not OCR'd,
    # not in Vietnamese or too few words to judge.
    syllable_share: float | None = None
    # Why the page should be scanned again, one line "Vietnamese / English"; "" when its OCR looks fine.
    rescan: str = ""


class Artefact(BaseModel):
    key: str
    sha256: str
    size: int
    content_type: str = "application/octet-stream"
    version_id: str = ""  # S3 version of the stored object, when the server versions


class SignatureFacts(BaseModel):
    signed: bool = False
    level: str = ""  # PAdES level, e.g. B-B
    field_name: str = ""
    signer_subject: str = ""
    signer_cert_sha256: str = ""
    signed_at: datetime | None = None
    visible: bool = False
    timestamped: bool = False


class IncomingSignature(BaseModel):
    """A signature the document already carried when it arrived (a sender's), as validated at intake."""

    field_name: str = ""
    signer_subject: str = ""
    signed_at: datetime | None = None
    level: str = ""
    status: str = ""  # valid | indeterminate | invalid
    reasons: list[str] = Field(default_factory=list)


class RepresentationNote(BaseModel):
    """Which representation is the archival copy and why: one line in Vietnamese and in English for the
    archivist, the technical detail (tool messages, validator findings) for IT, and what the rendition
    changed (form flattened, fonts embedded …)."""

    vi: str = ""
    en: str = ""
    detail: str = ""
    changes: list[str] = Field(default_factory=list)


class ReviewDecision(BaseModel):
    """The records office's decision at the end of a ``review`` class (or any due document): keep it longer, or
    for good. A schedule recomputation never gives the document less than this."""

    decision: str  # the decision's reference, e.g. "Quyết định số …" or the council's minutes
    decided_by: str
    decided_at: datetime
    keep_until: date | None = None
    permanent: bool = False


class RetentionFacts(BaseModel):
    """The record class the schedule gave the document and what follows from it (pipeline.core.schedule)."""

    class_code: str = ""
    class_name: str = ""
    years: int | None = None  # None with permanent=True: vĩnh viễn
    permanent: bool = False
    trigger: str = ""  # issued | dossier-closed
    trigger_date: date | None = None  # None while the trigger has not happened (an open dossier)
    action: str = ""  # destroy | transfer | review, at the end of retention
    schedule: str = ""  # the schedule's version, for the audit of a schedule change
    review: ReviewDecision | None = None  # the last review decision, if any: it outlasts schedule changes


class DisposalFacts(BaseModel):
    """What is left of a destroyed document besides its metadata and events (the residual record): on whose
    decision it went, when, and the checksums of the objects destroyed."""

    proposal: str  # the disposal proposal it was listed in (P-…)
    decision: str  # Quyết định số … approving the destruction
    council: str = ""  # the appraisal council (Hội đồng xác định giá trị tài liệu)
    approved_by: str = ""
    executed_by: str = ""
    executed_at: datetime
    destroyed: dict[str, str] = Field(default_factory=dict)  # role -> sha256 of each object destroyed


class Event(BaseModel):
    """One pipeline step and its outcome; tool versions make results reproducible."""

    stage: str
    started_at: datetime
    finished_at: datetime
    outcome: str = "ok"
    tools: dict[str, str] = Field(default_factory=dict)
    detail: dict[str, Any] = Field(default_factory=dict)


class DocumentRecord(BaseModel):
    schema_version: int = SCHEMA_VERSION
    id: str
    source: Source
    metadata: DocumentMetadata = Field(default_factory=DocumentMetadata)
    origin: Origin
    ocr_applied: bool = False
    page_count: int = 0
    pages: list[PageInfo] = Field(default_factory=list)
    artefacts: dict[str, Artefact] = Field(default_factory=dict)  # role -> artefact
    signature: SignatureFacts = Field(default_factory=SignatureFacts)
    # What archive.pdf is (every representation keeps the original byte for byte under original/<name>):
    # "pdfa" the PDF/A rendition, signed; "signed-original" a sender-signed PDF never re-written, plus the
    # archive's incremental DSS + document timestamp; "original" a readable PDF no converter could make
    # PDF/A, kept as the archival copy with the agency signature appended (the note says why).
    representation: str = "pdfa"
    representation_note: RepresentationNote = Field(default_factory=RepresentationNote)
    incoming_signatures: list[IncomingSignature] = Field(default_factory=list)
    pdfa: str = ""  # claimed conformance, e.g. "2B"
    events: list[Event] = Field(default_factory=list)
    archived_at: datetime | None = None
    retention: RetentionFacts = Field(default_factory=RetentionFacts)
    retain_until: date | None = None  # end of retention; None: permanent, or its trigger has not happened
    disposal: DisposalFacts | None = None  # set on the residual record of a destroyed document

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, data: str | bytes) -> DocumentRecord:
        return cls.model_validate_json(data)


def rescan_pages(record: DocumentRecord) -> list[PageInfo]:
    """The pages of ``record`` listed for re-scan (their ``rescan`` says why), in page order."""
    return [page for page in record.pages if page.rescan]
