"""Plain, immutable rows the catalog hands out (no ORM objects escape the package)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from pipeline.core.actor import Actor
from pipeline.core.vocabulary import Classification, DocState, Origin, Role


@dataclass(frozen=True)
class DocumentRow:
    id: str
    doc_number: str
    doc_type: str
    title: str
    issuer: str
    issued_date: date | None
    signer: str
    unit: str
    language: str
    classification: Classification
    origin: Origin
    ocr_applied: bool
    page_count: int
    pdfa: str
    signed: bool
    signature_level: str
    signer_subject: str
    signed_at: datetime | None
    timestamped: bool
    batch: str
    source_path: str
    received_at: datetime | None
    archived_at: datetime | None
    state: DocState
    dossier_code: str = ""
    retention_class: str = ""
    retain_until: date | None = None  # None: permanent, or its trigger has not happened
    permanent: bool = False


@dataclass(frozen=True)
class StatsRow:
    """The light columns statistics need (no record JSON)."""

    origin: Origin
    page_count: int
    signed: bool
    unit: str
    doc_type: str
    classification: Classification
    received_at: datetime | None
    archived_at: datetime | None
    id: str = ""
    issued_date: date | None = None
    state: DocState = DocState.ARCHIVED  # disposed documents stay, as history
    representation: str = ""  # what archive.pdf is: "signed-original" when it arrived signed by its issuer


@dataclass(frozen=True)
class UserRow:
    name: str
    roles: frozenset[Role]
    clearance: Classification
    created_at: datetime
    disabled: bool = False
    password_hash: str | None = field(default=None, repr=False)

    def actor(self) -> Actor:
        return Actor(self.name, self.roles, self.clearance)


@dataclass(frozen=True)
class BatchRow:
    id: str
    name: str
    root: str
    actor: str
    started_at: datetime
    finished_at: datetime | None
    state: str
    counts: dict[DocState, int] = field(default_factory=dict)  # items per journal state


@dataclass(frozen=True)
class BatchItemRow:
    batch_id: str
    source_path: str
    doc_id: str | None
    state: DocState
    stage: str
    reason: str
    updated_at: datetime
    classification_rank: int | None = None  # the manifest's classification; None: unknown
