"""The metadata files a transfer package carries beside the archival copies: one per document (the record as
the archive knows it, without storage internals such as keys and versions, which mean nothing elsewhere) and,
for a dossier, the dossier's own metadata (Circular 02/2019/TT-BNV: code, title, retention, access regime,
dates, number of documents and pages). Pydantic models, so the package can carry their JSON Schemas too."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from pipeline.app.transfer.common import Item, Transfer
from pipeline.core.record import DocumentMetadata, Event, Origin, RetentionFacts, SignatureFacts


class FileChecksum(BaseModel):
    sha256: str
    size: int


class ExportedDocument(BaseModel):
    """The metadata file written for each document (a BagIt tag file, an E-ARK descriptive metadata file): the
    record as the archive knows it, minus storage internals (keys, versions) that mean nothing elsewhere."""

    id: str  # the archive's document id: SHA-256 of the content as received
    file: str  # the payload file, relative to the package root
    name: str  # <Mã hồ sơ>.<STT>, or the id's first 16 characters outside a dossier
    metadata: DocumentMetadata
    origin: Origin
    representation: str
    pdfa: str
    page_count: int
    signature: SignatureFacts
    retention: RetentionFacts
    retain_until: date | None
    archived_at: datetime | None
    checksums: dict[str, FileChecksum]  # role in the archive (archive.pdf, original/<name> …) -> checksum
    events: list[Event]


def exported(item: Item, file: str) -> ExportedDocument:
    r = item.record
    return ExportedDocument(
        id=r.id, file=file, name=item.name, metadata=r.metadata, origin=r.origin, representation=r.representation,
        pdfa=r.pdfa, page_count=r.page_count, signature=r.signature, retention=r.retention,
        retain_until=r.retain_until, archived_at=r.archived_at, events=r.events,
        checksums={role: FileChecksum(sha256=a.sha256, size=a.size) for role, a in sorted(r.artefacts.items())})


class ExportedDossier(BaseModel):
    """The dossier (hồ sơ) of a transfer: what was registered of it (empty when only its documents name it) and
    the figures of the documents in this package."""

    code: str
    title: str = ""
    retention: str = ""  # the record class declared for the dossier
    access: str = ""  # restricted | unrestricted (Chế độ sử dụng 01 / 02)
    start_date: date | None = None
    closed_at: date | None = None
    documents: int
    pages: int
    first_issued: date | None = None
    last_issued: date | None = None


def exported_dossier(transfer: Transfer) -> ExportedDossier | None:
    if not transfer.dossier_code:
        return None
    issued = sorted(d for i in transfer.items if (d := i.record.metadata.issued_date) is not None)
    registered = transfer.dossier
    return ExportedDossier(
        code=transfer.dossier_code, title=registered.title if registered else "",
        retention=registered.retention if registered else "", access=registered.access.value if registered else "",
        start_date=registered.start_date if registered else None,
        closed_at=registered.closed_at if registered else None, documents=len(transfer.items),
        pages=sum(i.record.page_count for i in transfer.items), first_issued=issued[0] if issued else None,
        last_issued=issued[-1] if issued else None)
