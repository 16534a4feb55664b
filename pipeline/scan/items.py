"""What intake finds in a batch: documents (:class:`IntakeItem`), inputs that cannot be documents
(:class:`IntakeProblem`) and files left alone (:class:`IntakeSkip`), with the content ids that make ingest
idempotent."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from pipeline.core.record import DocumentMetadata, Origin
from pipeline.scan.separator import SeparatorMeta


@dataclass
class IntakeItem:
    """One document found in a batch, ready for OCR."""

    source_path: str  # relative POSIX path in the batch (NFC)
    files: list[Path]  # absolute paths, page order
    kind: Literal["images", "pdf"]
    origin: Origin
    needs_ocr: bool
    page_count: int
    doc_id: str  # SHA-256 of the content: same content, same id (idempotent ingest)
    metadata: DocumentMetadata
    has_manifest_row: bool = False
    warnings: list[str] = field(default_factory=list)
    # When the records office received it (manifest ``received_at``: paper back-loaded later); None: the batch's.
    received_at: datetime | None = None
    # Which of the pages of ``files`` (0-based, in order) the document is made of; None: all of them. Set when a
    # stream is split at separator sheets or blank pages are dropped (pipeline.scan.streams).
    pages: list[int] | None = None
    dropped: list[int] = field(default_factory=list)  # pages of ``files`` dropped as blank (0-based)
    part: int = 0  # k of a stream's k-th document (source_path ``<input>#k``); 0: the whole input
    separator: SeparatorMeta | None = None  # what the separator sheet before it says (over the manifest's row)
    separator_page: int | None = None  # that sheet's page in the stream (1-based)
    profile: str = ""  # how its scanned page images are stored (scan.profile's values); "": the configuration's

    @property
    def input_path(self) -> str:
        """The input's path in the batch (``source_path`` without a stream document's ``#k``)."""
        return self.source_path.rsplit("#", 1)[0] if self.part else self.source_path


@dataclass
class IntakeProblem:
    """Input that cannot become a document (or a manifest row that cannot apply), with its reason."""

    source_path: str
    reason: str
    files: list[Path] = field(default_factory=list)  # what to quarantine byte for byte (may be empty)


@dataclass
class IntakeSkip:
    """A file or folder that is not a document and is left where it is (OS or office leftovers)."""

    source_path: str
    reason: str  # one line, Vietnamese / English


Found = IntakeItem | IntakeProblem | IntakeSkip


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def content_id(files: list[Path]) -> str:
    """Id of a document: hash of its page contents in order (file names do not matter)."""
    if len(files) == 1:
        return sha256_file(files[0])
    digest = hashlib.sha256(b"archive-doc-v1\n")
    for path in files:
        digest.update(sha256_file(path).encode() + b"\n")
    return digest.hexdigest()
