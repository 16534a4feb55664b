"""Documents: idempotent upsert, clearance filtering inside SQL, literal prefixes, UTC datetimes, NFC text."""

from __future__ import annotations

import unicodedata
from datetime import UTC, timedelta

from pipeline.catalog import Catalog, DocumentRow
from pipeline.core.vocabulary import Classification, DocState, Origin

from .helpers import T0, make_record

PUBLIC = Classification.PUBLIC.rank
TOP = Classification.TUYET_MAT.rank


def test_upsert_is_idempotent_and_replaces_pages(catalog: Catalog) -> None:
    record = make_record("a", pages=3)
    catalog.upsert_document(record)
    first = catalog.snapshot()
    catalog.upsert_document(record)
    assert catalog.snapshot() == first
    assert catalog.count_documents(TOP) == 1
    assert [p["number"] for p in first["documents"][0]["pages"]] == [1, 2, 3]

    changed = record.model_copy(update={"page_count": 1, "pages": record.pages[:1], "pdfa": "3B"})
    catalog.upsert_document(changed, state="quarantined")
    snap = catalog.snapshot()["documents"]
    assert len(snap) == 1
    assert [p["number"] for p in snap[0]["pages"]] == [1]
    assert snap[0]["page_count"] == 1 and snap[0]["pdfa"] == "3B" and snap[0]["state"] == "quarantined"
    assert catalog.get_record(record.id, TOP) == changed


def test_get_record_round_trips_and_keeps_stored_json(catalog: Catalog) -> None:
    record = make_record("b")
    stored = record.model_dump_json()  # compact, as another writer might have stored it
    catalog.upsert_document(record, record_json=stored)
    assert catalog.get_record(record.id, PUBLIC) == record
    assert catalog.snapshot()["documents"][0]["record"]["id"] == record.id
    assert catalog.get_record("0" * 64, TOP) is None


def test_documents_above_clearance_do_not_exist(catalog: Catalog) -> None:
    open_doc = make_record("open", classification="public", unit="Văn phòng")
    secret = make_record("secret", classification="Tuyệt mật", unit="Phòng Cơ yếu", level="B-LTA")
    middle = make_record("middle", classification="mat")
    for record in (open_doc, secret, middle):
        catalog.upsert_document(record)

    assert catalog.get_record(secret.id, PUBLIC) is None
    assert catalog.get_record(secret.id, Classification.TOI_MAT.rank) is None
    assert catalog.get_record(secret.id, TOP) == secret
    assert catalog.resolve_prefix(secret.id[:6], PUBLIC) == []
    assert catalog.resolve_prefix(secret.id[:6], TOP) == [secret.id]
    assert [r.id for r in catalog.list_documents(PUBLIC)] == [open_doc.id]
    assert {r.id for r in catalog.list_documents(Classification.MAT.rank)} == {open_doc.id, middle.id}
    assert len(catalog.list_documents(TOP)) == 3
    assert catalog.count_documents(PUBLIC) == 1
    assert catalog.count_documents(Classification.INTERNAL.rank) == 1
    assert catalog.count_documents(Classification.MAT.rank) == 2
    assert catalog.count_documents(TOP) == 3
    assert [r.unit for r in catalog.stats_rows(PUBLIC)] == ["Văn phòng"]
    assert {r.classification for r in catalog.stats_rows(TOP)} == {
        Classification.PUBLIC, Classification.MAT, Classification.TUYET_MAT}
    assert [r.id for r in catalog.iter_records(PUBLIC)] == [open_doc.id]
    assert sorted(r.id for r in catalog.iter_records(TOP)) == sorted([open_doc.id, secret.id, middle.id])
    # A Classification (or its Vietnamese spelling) works as the bound too.
    assert catalog.count_documents(Classification.TUYET_MAT) == 3
    assert catalog.count_documents("Mật") == 2
    # Renewal is a system task: it sees every level.
    assert catalog.documents_with_level("B-LTA") == [secret.id]


def test_prefix_wildcards_are_literal(catalog: Catalog) -> None:
    ids = ["a_c1", "abc2", "a%x3", "azx4", "a\\b5", "Abc6"]
    for i, id_ in enumerate(ids):
        catalog.upsert_document(make_record(str(i), id_=id_))
    assert catalog.resolve_prefix("a_", TOP) == ["a_c1"]
    assert catalog.resolve_prefix("a%", TOP) == ["a%x3"]
    assert catalog.resolve_prefix("a\\", TOP) == ["a\\b5"]
    assert catalog.resolve_prefix("ab", TOP) == ["abc2"]  # case-sensitive on both engines
    assert catalog.resolve_prefix("A", TOP) == ["Abc6"]
    assert catalog.resolve_prefix("%", TOP) == []
    assert catalog.resolve_prefix("_", TOP) == []
    assert catalog.resolve_prefix("", TOP) == []
    assert catalog.resolve_prefix("a", TOP) == sorted(i for i in ids if i.startswith("a"))


def test_list_rows_typed_ordered_and_limited(catalog: Catalog) -> None:
    records = [make_record(f"r{i}", offset_min=i, origin=Origin.BORN_DIGITAL if i % 2 else Origin.SCANNED)
               for i in range(5)]
    for record in records:
        catalog.upsert_document(record)
    rows = catalog.list_documents(TOP)
    assert [r.id for r in rows] == [r.id for r in reversed(records)]  # newest archived first
    assert [r.id for r in catalog.list_documents(TOP, limit=2)] == [records[4].id, records[3].id]
    row = rows[-1]
    assert isinstance(row, DocumentRow)
    assert row.classification is Classification.PUBLIC and row.state is DocState.ARCHIVED
    assert row.origin is Origin.SCANNED and rows[1].origin is Origin.BORN_DIGITAL
    assert row.page_count == 2 and row.signed is True and row.ocr_applied is True and row.pdfa == "2B"
    assert row.batch == "lo-2026-03" and row.source_path == "hop-01/r0.pdf"
    assert row.issued_date.isoformat() == "2025-12-31"


def test_datetimes_come_back_utc_aware(catalog: Catalog) -> None:
    record = make_record("t")
    catalog.upsert_document(record)
    row = catalog.list_documents(TOP)[0]
    for value, expected in ((row.received_at, T0), (row.archived_at, T0 + timedelta(minutes=1)),
                            (row.signed_at, T0 + timedelta(seconds=30))):
        assert value is not None and value.tzinfo is not None and value.utcoffset() == timedelta(0)
        assert value == expected and value.microsecond == 123456
    stats = catalog.stats_rows(TOP)[0]
    assert stats.archived_at == T0 + timedelta(minutes=1) and stats.archived_at.tzinfo == UTC
    snap = catalog.snapshot()["documents"][0]
    assert snap["archived_at"] == (T0 + timedelta(minutes=1)).astimezone(UTC).isoformat()
    assert snap["archived_at"].endswith("+00:00")


def test_vietnamese_text_round_trips_nfc(catalog: Catalog) -> None:
    decomposed = unicodedata.normalize("NFD", "Báo cáo tổng kết công tác lưu trữ năm 2025 – Sở Nội vụ")
    unit = unicodedata.normalize("NFD", "Chi cục Văn thư – Lưu trữ")
    record = make_record("vi", title=decomposed, unit=unit)
    catalog.upsert_document(record)
    expected = unicodedata.normalize("NFC", decomposed)
    row = catalog.list_documents(TOP)[0]
    assert row.title == expected and unicodedata.is_normalized("NFC", row.title)
    assert row.unit == unicodedata.normalize("NFC", unit)
    assert row.signer == "Nguyễn Văn Ấn" and row.signer_subject == "CN=Văn thư, O=UBND"
    assert catalog.get_record(record.id, TOP).metadata.title == expected
    assert catalog.stats_rows(TOP)[0].unit == unicodedata.normalize("NFC", unit)


def test_delete_all_documents_removes_pages(catalog: Catalog) -> None:
    for i in range(3):
        catalog.upsert_document(make_record(str(i)))
    assert catalog.delete_all_documents() == 3
    assert catalog.count_documents(TOP) == 0
    assert catalog.snapshot()["documents"] == []
    # Pages went too: re-adding one document shows only its own pages.
    catalog.upsert_document(make_record("0"))
    assert [p["number"] for p in catalog.snapshot()["documents"][0]["pages"]] == [1, 2]
