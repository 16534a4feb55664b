"""Plain data exchanged with callers (orchestrator, CLI, REST): no engine types leak out of here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from pipeline.core.vocabulary import Classification

# Lowest to highest, from the one ladder in pipeline.core.vocabulary.
CLASSIFICATIONS = tuple(c.value for c in Classification)
FACETS = ("doc_type", "issuer", "unit", "origin", "year", "signed")
FIELDS = ("title", "content", "number")


def clearance_rank(level: str) -> int:
    """Rank of a classification / clearance level (CLI names or Vietnamese spellings such as "Tối mật")."""
    return Classification.parse(level).rank


class SearchError(Exception):
    """Base class of search errors callers may show to users."""


class StaleIndexError(SearchError):
    """The index on disk was written by another format version (or another engine)."""


class IndexLockedError(SearchError):
    """Another writer held the index lock for longer than the retry budget."""


@dataclass
class IndexDoc:
    id: str
    doc_number: str = ""
    title: str = ""
    doc_type: str = ""
    issuer: str = ""
    unit: str = ""
    signer: str = ""
    origin: str = "scanned"  # "scanned" | "born_digital" | "mixed"
    classification: str = "public"  # one of CLASSIFICATIONS
    issued_date: date | None = None
    signed: bool = False
    pages: list[str] = field(default_factory=list)  # NFC page texts, index 0 = page 1


@dataclass
class SearchQuery:
    text: str
    clearance: str = "public"
    doc_type: str | None = None
    issuer: str | None = None
    unit: str | None = None
    origin: str | None = None
    signed: bool | None = None
    date_from: date | None = None
    date_to: date | None = None
    fields: list[str] | None = None  # subset of FIELDS; None = all
    sort: str = "relevance"  # or "date" (newest first)
    page: int = 1
    page_size: int = 10


@dataclass
class Hit:
    id: str
    doc_number: str
    title: str
    score: float
    origin: str
    page: int | None  # 1-based page of the best content match; None when only metadata matched
    snippet: str  # HTML-escaped text, matched words wrapped in <b>…</b>


@dataclass
class SearchResults:
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]  # facet name (FACETS) -> value -> count, on the whole result set
    near_matches: bool = False  # True when fuzzy (OCR-tolerant) matching produced the results
    did_you_mean: str | None = None
