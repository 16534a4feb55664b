"""ArchiveStore: documents in S3 as the system of record (layout in :mod:`pipeline.archive.layout`)."""

from __future__ import annotations

import hashlib
import io
import mimetypes
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from minio.error import S3Error

from pipeline.archive import (
    audit_log,
    disposal,
    dossiers,
    layout,
    legal_hold,
    locks,
    metadata_versions,
    quarantine,
    usermeta,
)
from pipeline.archive.bucket import bucket_status, ensure_bucket
from pipeline.archive.client import (
    is_precondition_failed,
    iter_object,
    lock_headers,
    make_client,
    put_bytes_if_absent,
    s3_errors,
)
from pipeline.archive.errors import ArchiveError, NotFoundError
from pipeline.archive.fixity import sha256_chunks, sha256_file
from pipeline.archive.retention import AUDIT, RetentionPolicy, policy_for
from pipeline.core.audit import AuditEvent, UnreadableEvent
from pipeline.core.disposal import Proposal
from pipeline.core.dossier import Dossier
from pipeline.core.hold import Hold
from pipeline.core.record import Artefact, DocumentRecord, Event, PageInfo, nfc, utcnow
from pipeline.core.settings import S3Settings

PART_SIZE = 16 * 1024 * 1024  # multipart above this: big scans stream in parts, never whole in memory


def _content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def pdf_metadata(record: DocumentRecord, sha256: str) -> dict[str, str]:
    """The key facts carried as S3 user metadata on archive.pdf (decoded form)."""
    meta = record.metadata
    values = {
        "doc-number": meta.doc_number, "title": meta.title, "doc-type": meta.doc_type,
        "issuer": meta.issuer, "origin": record.origin.value,
        "classification": meta.classification.value, "unit": meta.unit,
        "doc-id": record.id, "sha256": sha256,
    }
    return {k: v for k, v in values.items() if v}


def metadata_bytes(record: DocumentRecord) -> bytes:
    """The exact bytes stored as ``metadata.json`` for this record."""
    return record.to_json().encode("utf-8")


def metadata_sha256(record: DocumentRecord) -> str:
    """SHA-256 of :func:`metadata_bytes`: the hash sealed into the audit trail at ingest and renewal."""
    return hashlib.sha256(metadata_bytes(record)).hexdigest()


class ArchiveStore:
    """One bucket; per document ``original/*``, ``text/NNNN.txt``, ``archive.pdf``, then
    ``metadata.json`` (the commit point). Plain S3 APIs only, so MinIO works unchanged.

    Every object is written under the Object Lock retention of ``retention`` (default: COMPLIANCE for
    ``s3.retention_days``, :func:`pipeline.archive.retention.policy_for`), in the same PUT."""

    def __init__(self, s3: S3Settings, retention: RetentionPolicy | None = None) -> None:
        self.settings = s3
        self.bucket = s3.bucket
        self.client = make_client(s3)
        self.retention: RetentionPolicy = retention or policy_for(s3)

    # ---- bucket ----------------------------------------------------------------------------------
    def ensure_bucket(self) -> None:
        """Create the bucket (versioning + Object Lock) if needed; raises ArchiveError for a bucket without
        Object Lock, where no locked object could be written."""
        ensure_bucket(self.client, self.bucket, self.settings.region)

    def bucket_status(self) -> dict[str, Any]:
        """Versioning and Object Lock state as the server reports them."""
        return bucket_status(self.client, self.bucket)

    # ---- documents -------------------------------------------------------------------------------
    def has_document(self, doc_id: str) -> bool:
        """True once metadata.json exists: the document is committed."""
        return self._exists(layout.metadata_key(doc_id))

    def store_document(self, record: DocumentRecord, originals: list[tuple[str, Path]], archive_pdf: Path,
                       page_texts: list[str], attachments: list[Path] | None = None,
                       before_commit: Callable[[DocumentRecord], None] | None = None) -> DocumentRecord:
        """Upload originals, attachments (files the original embedded), page texts, archive.pdf, then
        metadata.json last. Idempotent: a committed
        document is never rewritten and its stored record is returned. A crash before the commit leaves
        only uncommitted objects, which the next attempt overwrites (new versions). ``before_commit`` may still
        change the record once every file is uploaded (the store event's timer closes there)."""
        if self.has_document(record.id):
            return self.get_record(record.id)
        record = record.model_copy(deep=True)
        with s3_errors(f"storing document {record.id}"):
            for name, path in originals:
                self._put_file(record, layout.original_role(name), path)
            for path in attachments or []:  # the sender's bytes: never served as what their name claims
                self._put_file(record, layout.attachment_role(path.name), path, "application/octet-stream")
            self._put_texts(record, page_texts)
            self._put_file(record, layout.ARCHIVE_PDF, archive_pdf, "application/pdf", pdf=True)
            record.archived_at = utcnow()
            if before_commit is not None:
                before_commit(record)
            return self._commit(record)

    def _put_file(self, record: DocumentRecord, role: str, path: Path,
                  content_type: str | None = None, pdf: bool = False) -> str:
        sha, size = sha256_file(path)
        key = layout.key(record.id, role)
        metadata = usermeta.encode(pdf_metadata(record, sha)) if pdf else None
        self.client.fput_object(
            self.bucket, key, str(path), content_type=content_type or _content_type(path.name),
            metadata=metadata, part_size=PART_SIZE,
            retention=self.retention.retention_for(record, role),
            legal_hold=self.retention.legal_hold_for(record, role),
        )
        record.artefacts[role] = Artefact(key=key, sha256=sha, size=size,
                                          content_type=content_type or _content_type(path.name))
        return sha

    def _put_texts(self, record: DocumentRecord, page_texts: list[str]) -> None:
        pages = {p.number: p for p in record.pages}
        for number, text in enumerate(page_texts, start=1):
            role = layout.text_role(number)
            data = nfc(text).encode("utf-8")
            sha, size = sha256_chunks([data])
            key = layout.key(record.id, role)
            self._put_bytes(record, role, key, data, "text/plain; charset=utf-8")
            record.artefacts[role] = Artefact(key=key, sha256=sha, size=size,
                                              content_type="text/plain; charset=utf-8")
            page = pages.get(number)
            if page is None:
                page = pages[number] = PageInfo(number=number)
            page.text_key = key
            if not page.chars:
                page.chars = len(nfc(text))
        record.pages = [pages[n] for n in sorted(pages)]
        record.page_count = max(record.page_count, len(record.pages))

    def _put_bytes(self, record: DocumentRecord | None, role: str, key: str, data: bytes,
                   content_type: str) -> None:
        self.client.put_object(self.bucket, key, io.BytesIO(data), len(data), content_type=content_type,
                               retention=self.retention.retention_for(record, role),
                               legal_hold=self.retention.legal_hold_for(record, role))

    def _commit(self, record: DocumentRecord) -> DocumentRecord:
        """Write metadata.json only if absent: of two concurrent writers of one document exactly one
        commits; the other gets the committed record back."""
        data = metadata_bytes(record)
        headers = lock_headers(self.retention.retention_for(record, layout.METADATA),
                               self.retention.legal_hold_for(record, layout.METADATA))
        try:
            put_bytes_if_absent(self.client, self.bucket, layout.metadata_key(record.id), data,
                                "application/json", headers)
        except S3Error as exc:
            if is_precondition_failed(exc):
                return self.get_record(record.id)
            raise
        return record

    def replace_archive_pdf(self, doc_id: str, archive_pdf: Path, event: Event,
                            expected_metadata_sha256: str | None = None,
                            expected_pdf_sha256: str | None = None) -> DocumentRecord:
        """Store a new version of a committed document's archive.pdf (e.g. a renewed document timestamp)
        and then a new version of metadata.json with the new checksum and the event, both locked like the
        first ones. Earlier versions stay (locked) in the versioned bucket. The caller seals
        :func:`metadata_sha256` of the returned record into the audit trail.

        Nothing is written (ArchiveError) unless the stored metadata.json has the SHA-256
        ``expected_metadata_sha256`` (its seal) and records archive.pdf as ``expected_pdf_sha256`` (the file
        the new one was made from), when given: a renewal must never re-seal a tampered document."""
        with s3_errors(f"reading metadata.json of {doc_id}"):
            data = self.get_bytes(layout.metadata_key(doc_id))
        actual = hashlib.sha256(data).hexdigest()
        if expected_metadata_sha256 is not None and actual != expected_metadata_sha256:
            raise ArchiveError(f"metadata.json of {doc_id} (SHA-256 {actual}) does not match its seal "
                               f"{expected_metadata_sha256}: not replaced")
        try:
            record = DocumentRecord.from_json(data)
        except ValueError as exc:
            raise ArchiveError(f"metadata.json of {doc_id} is unreadable: {exc}") from exc
        current = record.artefacts[layout.ARCHIVE_PDF].sha256
        if expected_pdf_sha256 is not None and current != expected_pdf_sha256:
            raise ArchiveError(f"archive.pdf of {doc_id} (SHA-256 {expected_pdf_sha256}) is not the one its "
                               f"metadata.json records ({current}): not replaced")
        with s3_errors(f"replacing archive.pdf of {doc_id}"):
            self._put_file(record, layout.ARCHIVE_PDF, archive_pdf, "application/pdf", pdf=True)
            record.events.append(event)
            data = metadata_bytes(record)
            self._put_bytes(record, layout.METADATA, layout.metadata_key(doc_id), data, "application/json")
        return record

    def get_record(self, doc_id: str) -> DocumentRecord:
        try:
            data = self.get_bytes(layout.metadata_key(doc_id))
        except NotFoundError:
            raise NotFoundError(f"no document {doc_id} in bucket {self.bucket}") from None
        try:
            return DocumentRecord.from_json(data)
        except ValueError as exc:
            raise ArchiveError(f"metadata.json of {doc_id} is unreadable: {exc}") from exc

    def iter_records(self) -> Iterator[DocumentRecord]:
        """Every committed document (with metadata.json), in key order; uncommitted ones are skipped."""
        with s3_errors("listing documents"):
            prefixes = [o.object_name for o in
                        self.client.list_objects(self.bucket, prefix=f"{layout.DOCUMENTS}/")
                        if o.is_dir and o.object_name]
        for prefix in prefixes:
            doc_id = prefix.rstrip("/").rsplit("/", 1)[-1]
            try:
                yield self.get_record(doc_id)
            except NotFoundError:
                continue

    # ---- reading ---------------------------------------------------------------------------------
    def download(self, key: str, dest: Path) -> Path:
        """Stream an object to a file (written to a temporary name, then renamed)."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        with s3_errors(f"downloading {key}"):
            self.client.fget_object(self.bucket, key, str(dest))
        return dest

    def get_bytes(self, key: str) -> bytes:
        """A small object whole (texts, JSON). Use :meth:`download` for PDFs and scans."""
        with s3_errors(f"reading {key}"):
            return b"".join(iter_object(self.client, self.bucket, key))

    def pdf_user_metadata(self, doc_id: str) -> dict[str, str]:
        """The S3 user metadata of archive.pdf, decoded (names without ``x-amz-meta-``)."""
        key = layout.key(doc_id, layout.ARCHIVE_PDF)
        with s3_errors(f"reading metadata of {key}"):
            stat = self.client.stat_object(self.bucket, key)
        return usermeta.decode(dict(stat.metadata.items()) if stat.metadata else {})

    def page_texts(self, doc_id: str) -> list[str]:
        """Page texts in page order (NFC)."""
        record = self.get_record(doc_id)
        keys = [p.text_key or layout.key(doc_id, layout.text_role(p.number))
                for p in sorted(record.pages, key=lambda p: p.number)]
        return [self.get_bytes(k).decode("utf-8") for k in keys]

    # ---- fixity ----------------------------------------------------------------------------------
    def verify_fixity(self, doc_id: str, record: DocumentRecord | None = None,
                      skip: frozenset[str] = frozenset()) -> list[str]:
        """Re-hash every artefact listed in metadata.json (current version; or in ``record``, already read),
        except the roles in ``skip``. Problems, [] if intact."""
        record = record or self.get_record(doc_id)
        problems: list[str] = []
        for role, artefact in sorted(record.artefacts.items()):
            if role in skip:
                continue
            try:
                with s3_errors(f"reading {artefact.key}"):
                    sha, size = sha256_chunks(iter_object(self.client, self.bucket, artefact.key))
            except NotFoundError:
                problems.append(f"{role}: object missing ({artefact.key})")
                continue
            if sha != artefact.sha256:
                problems.append(f"{role}: sha256 mismatch ({artefact.key}: stored {artefact.sha256}, "
                                f"now {sha})")
            elif size != artefact.size:
                problems.append(f"{role}: size mismatch ({artefact.key}: {artefact.size} != {size})")
        return problems

    # ---- quarantine ------------------------------------------------------------------------------
    def quarantine(self, batch: str, name: str, source: Path | None, reason: str,
                   details: dict[str, Any] | None = None) -> str:
        """Keep a bad input byte for byte (if there is one) with ``<key>.reason.json``. Returns the key."""
        with s3_errors(f"quarantining {name}"):
            return quarantine.put(self.client, self.bucket, batch, name, source, reason, details,
                                  self.retention)

    def list_quarantine(self, batch: str | None = None) -> list[dict[str, Any]]:
        """Every quarantine entry (reason.json content plus ``key``), by key."""
        with s3_errors("listing quarantine"):
            return quarantine.entries(self.client, self.bucket, batch)

    # ---- helpers ---------------------------------------------------------------------------------
    def _exists(self, key: str) -> bool:
        try:
            with s3_errors(f"checking {key}"):
                self.client.stat_object(self.bucket, key)
            return True
        except NotFoundError:
            return False

    def object_versions(self, key: str) -> list[dict[str, Any]]:
        """All versions of one key, newest first (for audits and tests of versioning)."""
        with s3_errors(f"listing versions of {key}"):
            return [{"version_id": o.version_id, "is_latest": str(o.is_latest).lower() == "true",
                     "size": o.size, "last_modified": o.last_modified, "delete_marker": o.is_delete_marker}
                    for o in self.client.list_objects(self.bucket, prefix=key, include_version=True)
                    if o.object_name == key]

    def stored_versions(self, doc_id: str) -> list[tuple[str, bool]]:
        """(key, is the latest version) of every stored version of every object of ``doc_id``."""
        with s3_errors(f"listing the versions of {doc_id}"):
            return [(o.object_name or "", str(o.is_latest).lower() == "true")
                    for o in locks.document_versions(self.client, self.bucket, doc_id)]

    # ---- legal holds (pipeline.archive.legal_hold) ----------------------------------------------------
    def set_legal_hold(self, doc_id: str, on: bool) -> int:
        return legal_hold.set_document_hold(self.client, self.bucket, doc_id, on)

    def put_hold(self, hold: Hold) -> None:
        legal_hold.put_hold(self.client, self.bucket, hold, self.retention)

    def read_holds(self) -> list[Hold]:
        return legal_hold.read_holds(self.client, self.bucket)

    def extend_lock(self, record: DocumentRecord) -> int:
        """Lengthen the locks of every stored version of ``record`` to what the policy asks now."""
        wanted = self.retention.retention_for(record, layout.ARCHIVE_PDF)
        if wanted is None:
            return 0
        return locks.extend_document_lock(self.client, self.bucket, record.id, wanted.mode, wanted.retain_until_date)

    # ---- recomputed retention, dossiers (pipeline.archive.metadata_versions, .dossiers) -----------------
    def put_metadata_version(self, record: DocumentRecord, expected_metadata_sha256: str) -> datetime | None:
        """Store ``record`` as a new version of its metadata.json (nothing else changes), only over the version
        whose SHA-256 is ``expected_metadata_sha256`` (its seal), locked by the policy but never shorter than
        that version: returns the end of its lock. The caller seals :func:`metadata_sha256` of ``record``."""
        return metadata_versions.put_metadata_version(
            self.client, self.bucket, record.id, metadata_bytes(record), expected_metadata_sha256,
            self.retention.retention_for(record, layout.METADATA),
            self.retention.legal_hold_for(record, layout.METADATA))

    def put_dossier(self, dossier: Dossier) -> None:
        dossiers.put_dossier(self.client, self.bucket, dossier, self.retention)

    def read_dossiers(self) -> list[Dossier]:
        return dossiers.read_dossiers(self.client, self.bucket)

    def dossier_closed(self, code: str) -> date | None:
        """The closing date of the registered dossier ``code`` (None: open, not registered or no code)."""
        if not code:
            return None
        with s3_errors(f"reading dossier {code}"):
            found = dossiers.read_dossier(self.client, self.bucket, code)
        return found.closed_at if found is not None else None

    # ---- disposal (pipeline.archive.disposal) ------------------------------------------------------------
    def put_proposal(self, proposal: Proposal) -> None:
        disposal.put_proposal(self.client, self.bucket, proposal, self.retention)

    def read_proposals(self) -> list[Proposal]:
        return disposal.read_proposals(self.client, self.bucket)

    def get_proposal(self, proposal_id: str) -> Proposal | None:
        return disposal.get_proposal(self.client, self.bucket, proposal_id)

    def claim_disposal_run(self, proposal_id: str, run: int, actor: str) -> None:
        disposal.claim_run(self.client, self.bucket, proposal_id, run, actor, self.retention)

    def destroy_document(self, residual: DocumentRecord) -> tuple[int, str]:
        """Replace the document by its residual record and delete every other stored version (raises
        disposal.StillLocked, deleting nothing, while the storage still protects any of them). Returns the
        versions deleted and the SHA-256 of the residual metadata.json kept."""
        return disposal.destroy_document(self.client, self.bucket, residual, metadata_bytes(residual),
                                         self.retention)

    # ---- audit trail (segments under audit/, see pipeline.archive.audit_log) ---------------------------
    def append_audit(self, events: list[AuditEvent]) -> str:
        """Write one audit segment (put-if-absent, locked by the retention policy); raises
        audit_log.ChainConflict if another writer won."""
        return audit_log.append(self.client, self.bucket, events, self.retention.retention_for(None, AUDIT),
                                self.retention.legal_hold_for(None, AUDIT))

    def audit_head(self, known: AuditEvent | None = None) -> AuditEvent | None:
        """The last audit event (``known``, a cached head, narrows the listing)."""
        return audit_log.head(self.client, self.bucket, known)

    def read_audit(self) -> Iterator[AuditEvent | UnreadableEvent]:
        """Every audit event in seq order from S3 alone; unreadable bytes come out as UnreadableEvent."""
        return audit_log.read_all(self.client, self.bucket)

    def audit_history(self) -> list[audit_log.SegmentHistory]:
        """Audit segment keys overwritten or deleted after they were written."""
        return audit_log.segment_history(self.client, self.bucket)
