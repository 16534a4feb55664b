"""Electronic-document statistics computed exactly from the archive (the system of record)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from pipeline.record import DocumentRecord, Origin

SCANNED_SHARE_TARGET = 0.5  # Directive: scanned images < 50% of electronic documents


def compute_stats(records: Iterable[DocumentRecord], scanned_target: float = SCANNED_SHARE_TARGET
                  ) -> dict[str, Any]:
    docs: Counter[str] = Counter()
    pages: Counter[str] = Counter()
    signed = 0
    by_unit: dict[str, Counter[str]] = {}
    for record in records:
        origin = record.origin.value
        docs[origin] += 1
        pages[origin] += record.page_count
        signed += int(record.signature.signed)
        unit = by_unit.setdefault(record.metadata.unit or "", Counter())
        unit[origin] += 1
        unit["signed"] += int(record.signature.signed)
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
