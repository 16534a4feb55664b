"""The one vocabulary of the records system: origins, THE classification ladder, roles and document states.

Every other module (search, catalog, CLI, API) uses these; nothing else defines its own ladder.
"""

from __future__ import annotations

from enum import StrEnum

from pipeline.core.text import fold


class Origin(StrEnum):
    """Reliability/origin of a document, as archivists record it."""

    SCANNED = "scanned"
    BORN_DIGITAL = "born_digital"
    MIXED = "mixed"


_LEVEL_ALIASES = {
    "": "public", "public": "public", "cong khai": "public", "thuong": "public",
    "internal": "internal", "noi bo": "internal",
    "mat": "mat", "toi mat": "toi-mat", "tuyet mat": "tuyet-mat",
}


class Classification(StrEnum):
    """Security classification of a document and clearance of a user, lowest to highest.

    A user with clearance X sees exactly the documents whose classification rank is ≤ rank(X); a document
    above it does not exist for that user (no hit, count, facet, snippet or suggestion)."""

    PUBLIC = "public"
    INTERNAL = "internal"
    MAT = "mat"
    TOI_MAT = "toi-mat"
    TUYET_MAT = "tuyet-mat"

    @property
    def rank(self) -> int:
        return list(Classification).index(self)

    @property
    def label_vi(self) -> str:
        return {"public": "Công khai", "internal": "Nội bộ", "mat": "Mật", "toi-mat": "Tối mật",
                "tuyet-mat": "Tuyệt mật"}[self.value]

    def allows(self, classification: Classification) -> bool:
        """True when a holder of this clearance may see a document of ``classification``."""
        return classification.rank <= self.rank

    @classmethod
    def parse(cls, value: str | Classification | None) -> Classification:
        """Accept the CLI levels and the Vietnamese spellings (Mật, Tối mật, Tuyệt mật, with or without marks).

        Unknown levels are an error, never silently 'public' or 'secret'."""
        if isinstance(value, Classification):
            return value
        key = " ".join(fold(value or "").replace("-", " ").replace("_", " ").split())
        if key not in _LEVEL_ALIASES:
            allowed = "public, internal, mat, toi-mat, tuyet-mat (or Mật, Tối mật, Tuyệt mật)"
            raise ValueError(f"unknown classification or clearance {value!r}; expected one of: {allowed}")
        return cls(_LEVEL_ALIASES[key])


class Role(StrEnum):
    """What a user may do (the service issue adds sign-in; the CLI acts as a named user)."""

    ARCHIVIST = "archivist"  # ingest, edit metadata
    STAFF = "staff"  # search, read
    RECORDS_OFFICER = "records-officer"  # retention, holds, disposal approval
    ADMIN = "admin"  # users, everything
    MONITOR = "monitor"  # the Prometheus metrics only (a scraper's token): reads no document


class DocState(StrEnum):
    """A document's state in its batch journal."""

    PLANNED = "planned"
    PROCESSING = "processing"
    ARCHIVED = "archived"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"
    FAILED = "failed"  # could not even be quarantined (e.g. storage down): the input stays where it was
    PENDING = "pending"  # submitted, not finished when the caller stopped waiting
    SKIPPED = "skipped"  # not a document (OS or office leftovers): left in the batch, with its reason
    DISPOSED = "disposed"  # destroyed under an approved disposal: only its residual record remains

    @property
    def final(self) -> bool:
        return self in (DocState.ARCHIVED, DocState.DUPLICATE, DocState.QUARANTINED, DocState.SKIPPED)
