"""The directives' figures over a set of documents, and their grouping by unit, type and period.

Every figure is a count first (shares are counts over counts, so they always add up and can be checked by
hand); each target figure carries its target and whether it is met. The documents come from the catalog, one
row per content id (a re-ingested duplicate is one row) and within the reader's clearance; destroyed documents
stay, as history of the periods they were held in.

What the figures mean:

- documents and pages by origin (scanned, born_digital, mixed); the parts add up to ``total``.
- ``scanned_share``: scanned documents over all documents (target: below ``scanned_share_max``). A mixed
  document (born-digital with scanned pages) is counted apart, not as scanned.
- ``signed``: archival copies carrying a digital signature (the issuer's or the archive's own seal).
- ``issuer_signed`` / ``signed_share``: documents that arrived signed digitally by their issuer (kept as the signed
  original) over all documents: the directives' "share of documents digitally signed" (target:
  ``signed_share_min``). The archive's own signature on a scan does not make an issued document signed.
- ``units``: named units with at least one issuer-signed document over named units.
- ``electronic_share``: documents received electronically (born digital) over all documents that are not secret
  (Mật and above are excluded from electronic exchange by the directives; target: ``electronic_exchange_min``).
- ``electronic_only_on_paper``: documents of the electronic-only types (``stats.electronic_only_types``, folded
  match) that arrived on paper (scanned or mixed); target 0.
- ``processing``: working time from receipt to archived (median, p90 nearest-rank, in seconds) and how many were
  archived within the deadline (target share: ``on_time_share_min``).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pipeline.app.statistics.periods import period_key
from pipeline.core.text import fold
from pipeline.core.vocabulary import Classification, Origin

ORIGINS = tuple(o.value for o in Origin)
SECRET_RANK = Classification.MAT.rank


@dataclass(frozen=True)
class Targets:
    scanned_share_max: float = 0.5
    signed_share_min: float = 0.95
    electronic_exchange_min: float = 0.95
    on_time_share_min: float = 1.0
    deadline_s: float = 2 * 3600.0

    def to_dict(self) -> dict[str, float]:
        return {"scanned_share_max": self.scanned_share_max, "signed_share_min": self.signed_share_min,
                "electronic_exchange_min": self.electronic_exchange_min,
                "on_time_share_min": self.on_time_share_min, "deadline_hours": self.deadline_s / 3600}


@dataclass(frozen=True)
class Fact:
    """One document, as the figures see it."""

    id: str
    origin: str
    pages: int
    signed: bool  # the archival copy carries a signature (issuer's or archive's)
    issuer_signed: bool  # arrived signed by its issuer
    unit: str
    doc_type: str
    secret: bool  # Mật or above
    received_day: date | None  # Vietnam calendar day of receipt
    electronic_only: bool  # its type is one of the electronic-only types
    disposed: bool
    processing_s: float | None  # working seconds from receipt to archived; None: not archived


def electronic_only_matcher(types: Iterable[str]) -> Callable[[str], bool]:
    """Folded, whitespace-normalised equality, as the retention schedule matches document types."""
    wanted = {" ".join(fold(t).split()) for t in types if t.strip()}
    return lambda doc_type: " ".join(fold(doc_type).split()) in wanted


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _target(part: int, whole: int, target: float, rule: str) -> dict[str, Any]:
    """A share against its target; ``met`` from the exact fraction (4999/10000 is below 50% though it shows as
    0.5), None when there is nothing to count."""
    met = None if not whole else (part / whole < target if rule == "<" else part / whole >= target)
    return {"value": share(part, whole), "target": target, "rule": rule, "met": met}


def nearest_rank(values: Sequence[float], fraction: float) -> float | None:
    """The smallest value with at least ``fraction`` of the values at or below it (an observed value)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def figures(facts: Sequence[Fact], targets: Targets) -> dict[str, Any]:
    """Every figure for ``facts`` (see the module docstring)."""
    docs = {o: sum(f.origin == o for f in facts) for o in ORIGINS}
    pages = {o: sum(f.pages for f in facts if f.origin == o) for o in ORIGINS}
    total = len(facts)
    signed = sum(f.signed for f in facts)
    issuer_signed = sum(f.issuer_signed for f in facts)
    units = {f.unit for f in facts if f.unit}
    signing = {f.unit for f in facts if f.unit and f.issuer_signed}
    open_docs = [f for f in facts if not f.secret]
    electronic = sum(f.origin == Origin.BORN_DIGITAL.value for f in open_docs)
    on_paper: dict[str, int] = {}
    for f in facts:
        if f.electronic_only and f.origin != Origin.BORN_DIGITAL.value:
            on_paper[f.doc_type] = on_paper.get(f.doc_type, 0) + 1
    times = [f.processing_s for f in facts if f.processing_s is not None]
    on_time = sum(t <= targets.deadline_s for t in times)
    scanned = _target(docs[Origin.SCANNED.value], total, targets.scanned_share_max, "<")
    on_paper_count = sum(on_paper.values())
    return {
        "documents": {**docs, "total": total},
        "pages": {**pages, "total": sum(pages.values())},
        "disposed": sum(f.disposed for f in facts),
        "signed": {"count": signed, "share": share(signed, total)},
        "issuer_signed": {"count": issuer_signed, "share": share(issuer_signed, total)},
        "units": {"count": len(units), "signing": len(signing), "share": share(len(signing), len(units))},
        "electronic": {"count": electronic, "of": len(open_docs), "share": share(electronic, len(open_docs))},
        "electronic_only_on_paper": {"count": on_paper_count, "by_type": dict(sorted(on_paper.items()))},
        "processing": {"count": len(times), "median_s": _seconds(statistics.median(times) if times else None),
                       "p90_s": _seconds(nearest_rank(times, 0.9)), "within_deadline": on_time,
                       "share": share(on_time, len(times))},
        "scanned_share": scanned["value"],  # the first figures' keys, kept for their readers (None: no documents)
        "scanned_share_target": targets.scanned_share_max,
        "scanned_share_ok": scanned["met"],
        "targets": {
            "scanned_share": scanned,
            "signed_share": _target(issuer_signed, total, targets.signed_share_min, ">="),
            "electronic_share": _target(electronic, len(open_docs), targets.electronic_exchange_min, ">="),
            "on_time_share": _target(on_time, len(times), targets.on_time_share_min, ">="),
            "electronic_only_on_paper": {"value": on_paper_count, "target": 0, "rule": "=",
                                         "met": on_paper_count == 0},
        },
    }


GROUPINGS = ("unit", "type", "month", "quarter", "year")


def group_key(fact: Fact, by: str) -> str:
    if by == "unit":
        return fact.unit
    if by == "type":
        return fact.doc_type
    return period_key(fact.received_day, by) if fact.received_day else ""  # type: ignore[arg-type]


def grouped(facts: Iterable[Fact], by: Sequence[str], targets: Targets) -> list[dict[str, Any]]:
    """One entry per combination of ``by`` values that has documents, in key order: ``{"key": {"unit": …,
    "month": …}, **figures}``."""
    groups: dict[tuple[str, ...], list[Fact]] = {}
    for fact in facts:
        groups.setdefault(tuple(group_key(fact, b) for b in by), []).append(fact)
    return [{"key": dict(zip(by, key, strict=True)), **figures(members, targets)}
            for key, members in sorted(groups.items())]
