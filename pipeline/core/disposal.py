"""A disposal proposal (danh mục tài liệu hết giá trị đề nghị hủy): the list of documents whose retention has
ended, with the reason for each, reviewed by the appraisal council (Hội đồng xác định giá trị tài liệu) and
approved by a decision (Quyết định hủy tài liệu hết giá trị) before anything is destroyed.

States: ``pending`` → ``approved`` → ``executed`` | ``failed`` (a failed execution may be run again: only the
items not yet destroyed are tried). Each change is a new version of ``disposals/<id>.json`` in storage and an
audit event."""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator

from pipeline.core.text import nfc

# The document type of the disposal record itself: kept permanently whatever the schedule says (the proof of
# a destruction must outlive every record it lists).
DISPOSAL_RECORD_TYPE = "Biên bản hủy tài liệu"
DISPOSAL_RECORD_CLASS = "HUY"
DISPOSAL_RECORD_CLASS_NAME = "Hồ sơ hủy tài liệu hết giá trị (vĩnh viễn)"


class ProposalState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    EXECUTED = "executed"
    FAILED = "failed"
    REJECTED = "rejected"  # the council or the approver turned it down: nothing is destroyed


class ItemOutcome(StrEnum):
    WAITING = ""  # not executed yet
    DESTROYED = "destroyed"
    SKIPPED = "skipped"  # held, or no longer due: kept, with the reason
    FAILED = "failed"  # the storage refused (e.g. still locked): kept, with the reason; tried again on re-run


class ProposalItem(BaseModel):
    """One document of the list, as the council saw it."""

    id: str
    doc_number: str = ""
    title: str = ""
    doc_type: str = ""
    issued_date: date | None = None
    classification: str = ""
    dossier_code: str = ""
    retention_class: str = ""
    retention_years: int | None = None
    retain_until: date | None = None
    action: str = ""  # the schedule's action at the end: destroy | review
    reason: str = ""  # why it is proposed (bilingual one line)
    page_count: int = 0
    sha256: str = ""  # of the archival copy, as the council approved it
    destroyed_sha256: str = ""  # of the archival copy actually destroyed (a renewal may have changed it)
    outcome: ItemOutcome = ItemOutcome.WAITING
    outcome_reason: str = ""
    disposal_record: str = ""  # the id of the disposal record that lists it, once destroyed
    excluded: bool = False  # left out by the approval (the council kept it): never destroyed under this proposal


class Proposal(BaseModel):
    id: str  # P-<yyyymmdd>-<8 hex>
    state: ProposalState = ProposalState.PENDING
    items: list[ProposalItem] = Field(default_factory=list)
    note: str = ""
    created_by: str
    created_at: datetime
    decision: str = ""  # Quyết định số …
    council: str = ""  # names of the appraisal council
    approved_by: str = ""
    approved_at: datetime | None = None
    executed_by: str = ""
    executed_at: datetime | None = None
    approval_mac: str = ""  # HMAC (audit.seal_key) of what was approved: a proposal edited in storage is refused
    runs: int = 0  # executions claimed so far (each claims disposals/<id>/run-<n>: one at a time)
    disposal_records: list[str] = Field(default_factory=list)  # ids of the signed disposal record documents
    failure: str = ""
    rejected_by: str = ""
    rejection_reason: str = ""

    @field_validator("note", "decision", "council", "rejection_reason")
    @classmethod
    def _nfc(cls, value: str) -> str:
        return nfc(value).strip()

    def item_ids(self) -> list[str]:
        return [item.id for item in self.items]

    def approved_terms(self) -> bytes:
        """What an approval covers (its MAC is over these bytes): the decision, the council, who approved and
        when, and each document with the checksum and classification the council saw, and whether it was
        excluded."""
        terms = {"id": self.id, "decision": self.decision, "council": self.council, "approved_by": self.approved_by,
                 "approved_at": self.approved_at.isoformat() if self.approved_at else "",
                 "items": sorted([i.id, i.sha256, i.classification, i.excluded] for i in self.items)}
        return json.dumps(terms, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
