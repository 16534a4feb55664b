"""Electronic-document statistics computed exactly from the catalog, for what the actor may see: documents
above the actor's clearance are not counted, and their units do not appear."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from pipeline.app.context import Context
from pipeline.core.actor import Actor
from pipeline.core.record import DocumentRecord, Origin

SCANNED_SHARE_TARGET = 0.5  # Directive: scanned images < 50% of electronic documents


def archive_stats(ctx: Context, actor: Actor) -> dict[str, Any]:
    return compute_stats(ctx.catalog.stats_rows(actor.clearance.rank))


def _facts(row: Any) -> tuple[str, int, bool, str]:
    """(origin, pages, signed, unit) of a DocumentRecord or a catalog stats row."""
    if isinstance(row, DocumentRecord):
        return row.origin.value, row.page_count, row.signature.signed, row.metadata.unit
    return str(getattr(row.origin, "value", row.origin)), int(row.page_count), bool(row.signed), row.unit or ""


def compute_stats(records: Iterable[Any], scanned_target: float = SCANNED_SHARE_TARGET) -> dict[str, Any]:
    docs: Counter[str] = Counter()
    pages: Counter[str] = Counter()
    signed = 0
    by_unit: dict[str, Counter[str]] = {}
    for row in records:
        origin, page_count, is_signed, unit_name = _facts(row)
        docs[origin] += 1
        pages[origin] += page_count
        signed += int(is_signed)
        unit = by_unit.setdefault(unit_name, Counter())
        unit[origin] += 1
        unit["signed"] += int(is_signed)
    total = sum(docs.values())
    origins = [o.value for o in Origin]
    scanned_share = docs[Origin.SCANNED.value] / total if total else 0.0
    return {
        "documents": {"total": total, **{o: docs[o] for o in origins}},
        "pages": {"total": sum(pages.values()), **{o: pages[o] for o in origins}},
        "signed": {"count": signed, "share": round(signed / total, 4) if total else 0.0},
        "scanned_share": round(scanned_share, 4),
        "scanned_share_target": scanned_target,
        "scanned_share_ok": scanned_share < scanned_target,
        "by_unit": {
            unit: {"total": sum(c[o] for o in origins), **{o: c[o] for o in origins}, "signed": c["signed"]}
            for unit, c in sorted(by_unit.items())
        },
    }
