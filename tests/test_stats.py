from datetime import UTC, datetime

from pipeline.app.stats import compute_stats
from pipeline.core.record import DocumentMetadata, DocumentRecord, Origin, SignatureFacts, Source


def _record(i: int, origin: Origin, pages: int, signed: bool, unit: str) -> DocumentRecord:
    return DocumentRecord(id=f"{i:064x}", origin=origin, page_count=pages,
                          source=Source(batch="b", path=f"d{i}", files=[f"d{i}.pdf"], received_at=datetime.now(UTC)),
                          metadata=DocumentMetadata(unit=unit), signature=SignatureFacts(signed=signed))


def test_counts_by_origin_pages_signed_and_unit() -> None:
    records = [
        _record(1, Origin.SCANNED, 3, True, "Văn phòng"),
        _record(2, Origin.BORN_DIGITAL, 1, True, "Văn phòng"),
        _record(3, Origin.BORN_DIGITAL, 2, False, "Phòng Tài chính"),
        _record(4, Origin.MIXED, 4, True, "Phòng Tài chính"),
    ]
    stats = compute_stats(records)
    assert stats["documents"] == {"total": 4, "scanned": 1, "born_digital": 2, "mixed": 1}
    assert stats["pages"] == {"total": 10, "scanned": 3, "born_digital": 3, "mixed": 4}
    assert stats["signed"] == {"count": 3, "share": 0.75}
    assert stats["scanned_share"] == 0.25 and stats["scanned_share_ok"] is True
    assert stats["by_unit"]["Phòng Tài chính"] == {"total": 2, "scanned": 0, "born_digital": 1, "mixed": 1,
                                                     "signed": 1}


def test_scanned_majority_misses_target_and_empty_archive() -> None:
    stats = compute_stats([_record(1, Origin.SCANNED, 1, False, ""), _record(2, Origin.SCANNED, 1, False, "")])
    assert stats["scanned_share"] == 1.0 and stats["scanned_share_ok"] is False
    empty = compute_stats([])
    assert empty["documents"]["total"] == 0 and empty["signed"]["share"] == 0.0
