"""Builders for catalog tests: document records and audit events with every field the catalog maps."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta, timezone

from pipeline.core.record import DocumentMetadata, DocumentRecord, PageInfo, SignatureFacts, Source
from pipeline.core.vocabulary import Classification, Origin

ICT = timezone(timedelta(hours=7))  # Vietnam time: inputs in +07:00 must come back as the same instant in UTC
T0 = datetime(2026, 3, 14, 9, 30, 15, 123456, tzinfo=ICT)


def doc_id(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def make_record(seed: str, *, classification: Classification | str = Classification.PUBLIC,
                title: str = "Quyết định về việc phê duyệt kế hoạch", unit: str = "Phòng Hành chính",
                doc_type: str = "Quyết định", pages: int = 2, level: str = "B-B", id_: str | None = None,
                origin: Origin = Origin.SCANNED, offset_min: int = 0) -> DocumentRecord:
    at = T0 + timedelta(minutes=offset_min)
    return DocumentRecord(
        id=id_ or doc_id(seed),
        source=Source(batch="lo-2026-03", path=f"hop-01/{seed}.pdf", files=[f"{seed}-{i}.tif" for i in range(pages)],
                      received_at=at),
        origin=origin,
        metadata=DocumentMetadata(doc_number=f"{seed}/QĐ-UBND", doc_type=doc_type, title=title,
                                  issuer="Ủy ban nhân dân tỉnh", issued_date=date(2025, 12, 31),
                                  signer="Nguyễn Văn Ấn", unit=unit, language="vie",
                                  classification=Classification.parse(classification)),
        ocr_applied=origin is not Origin.BORN_DIGITAL,
        page_count=pages,
        pages=[PageInfo(number=i + 1, text_key=f"t/{i + 1}.txt", chars=100 * (i + 1), confidence=91.25 + i)
               for i in range(pages)],
        signature=SignatureFacts(signed=True, level=level, field_name="AgencySignature",
                                 signer_subject="CN=Văn thư, O=UBND", signed_at=at + timedelta(seconds=30),
                                 timestamped=level != "B-B"),
        pdfa="2B",
        archived_at=at + timedelta(minutes=1),
    )


def audit_event(seq: int, *, actor: str = "admin", action: str = "document.view", obj: str = "doc-1",
                at: datetime | None = None, detail: dict | None = None) -> dict:
    when = (at or datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=seq)).astimezone(UTC)
    return {"seq": seq, "at": when.isoformat(), "actor": actor, "action": action, "object": obj,
            "outcome": "ok", "detail": detail if detail is not None else {"ghi_chú": "xem tài liệu", "n": seq},
            "prev": hashlib.sha256(str(seq - 1).encode()).hexdigest() if seq > 1 else "",
            "hash": hashlib.sha256(str(seq).encode()).hexdigest()}
