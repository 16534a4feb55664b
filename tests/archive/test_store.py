"""ArchiveStore against a real SeaweedFS S3 server: layout, checksums, commit point, idempotence."""

from __future__ import annotations

import hashlib
import io
import os
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest
from minio.commonconfig import COMPLIANCE

from pipeline.archive import ArchiveError, ArchiveStore, NotFoundError
from pipeline.archive.layout import metadata_key
from pipeline.archive.store import metadata_sha256
from pipeline.core.record import Event
from tests.archive.helpers import PAGE_TEXTS, TITLE, make_inputs, make_pdf, sha256_of


def _prefix_keys(store: ArchiveStore, prefix: str) -> set[str]:
    return {o.object_name for o in store.client.list_objects(store.bucket, prefix=prefix, recursive=True)}


def test_store_and_read_back(store: ArchiveStore, tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path, "read-back")
    doc_id = inputs.record.id
    stored = store.store_document(inputs.record, inputs.originals, inputs.pdf, inputs.texts)

    prefix = f"documents/{doc_id}/"
    assert _prefix_keys(store, prefix) == {
        prefix + k for k in ("original/trang1.png", "original/trang2.png", "archive.pdf",
                             "text/0001.txt", "text/0002.txt", "metadata.json")}
    assert set(stored.artefacts) == {"original/trang1.png", "original/trang2.png", "archive.pdf",
                                     "text/0001.txt", "text/0002.txt"}
    assert stored.archived_at is not None
    assert [p.text_key for p in stored.pages] == [prefix + "text/0001.txt", prefix + "text/0002.txt"]
    assert stored.pages[0].confidence == 91.5  # what the caller recorded is kept
    assert stored.pages[0].chars == len(PAGE_TEXTS[0])
    assert inputs.record.archived_at is None  # the caller's record is not mutated

    assert store.has_document(doc_id)
    again = store.get_record(doc_id)
    assert again == stored
    assert again.metadata.title == TITLE

    # Byte for byte, and the recorded SHA-256 is the SHA-256 of what is stored.
    for name, path in inputs.originals:
        art = stored.artefacts[f"original/{name}"]
        assert store.get_bytes(art.key) == path.read_bytes()
        assert art.sha256 == sha256_of(path) and art.size == path.stat().st_size
    pdf_copy = store.download(stored.artefacts["archive.pdf"].key, tmp_path / "out" / "copy.pdf")
    assert pdf_copy.read_bytes() == inputs.pdf.read_bytes()
    assert stored.artefacts["archive.pdf"].sha256 == sha256_of(inputs.pdf)
    assert stored.artefacts["archive.pdf"].content_type == "application/pdf"
    for role, art in stored.artefacts.items():
        assert hashlib.sha256(store.get_bytes(art.key)).hexdigest() == art.sha256, role

    # Page texts come back NFC even though they were handed over in NFD.
    texts = store.page_texts(doc_id)
    assert texts == PAGE_TEXTS
    assert all(unicodedata.is_normalized("NFC", t) for t in texts)
    assert store.verify_fixity(doc_id) == []


def test_vietnamese_user_metadata_round_trips(store: ArchiveStore, tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path, "user-meta")
    stored = store.store_document(inputs.record, inputs.originals, inputs.pdf, inputs.texts)

    meta = store.pdf_user_metadata(stored.id)
    assert meta["title"] == TITLE
    assert meta["doc-number"] == "07/CT-BTTTT"
    assert meta["doc-type"] == "Chỉ thị"
    assert meta["issuer"] == "Bộ Thông tin và Truyền thông"
    assert meta["unit"] == "Văn phòng Bộ"
    assert meta["classification"] == "mat"
    assert meta["origin"] == "scanned"
    assert meta["sha256"] == stored.artefacts["archive.pdf"].sha256
    assert meta["doc-id"] == stored.id

    # On the wire the values are ASCII encoded words, not raw UTF-8.
    raw = store.client.stat_object(store.bucket, stored.artefacts["archive.pdf"].key).metadata
    raw_issuer = next(v for k, v in raw.items() if k.lower() == "x-amz-meta-issuer")
    assert raw_issuer.isascii() and raw_issuer.startswith("=?UTF-8?B?")


def test_metadata_json_is_written_last(store: ArchiveStore, tmp_path: Path) -> None:
    """A store that fails after the originals and texts leaves no metadata.json: not a document."""
    inputs = make_inputs(tmp_path, "half-written")
    doc_id = inputs.record.id
    with pytest.raises(ArchiveError):
        store.store_document(inputs.record, inputs.originals, tmp_path / "missing.pdf", inputs.texts)
    keys = _prefix_keys(store, f"documents/{doc_id}/")
    assert f"documents/{doc_id}/original/trang1.png" in keys
    assert f"documents/{doc_id}/text/0002.txt" in keys
    assert metadata_key(doc_id) not in keys
    assert not store.has_document(doc_id)
    assert doc_id not in {r.id for r in store.iter_records()}
    with pytest.raises(NotFoundError, match="no document"):
        store.get_record(doc_id)

    # The redo completes the document; metadata.json is the newest object of the document.
    stored = store.store_document(inputs.record, inputs.originals, inputs.pdf, inputs.texts)
    assert store.has_document(doc_id) and store.verify_fixity(doc_id) == []
    objects = list(store.client.list_objects(store.bucket, prefix=f"documents/{doc_id}/", recursive=True))
    newest = max(objects, key=lambda o: (o.last_modified, o.object_name == metadata_key(doc_id)))
    assert newest.object_name == metadata_key(doc_id)
    assert stored.archived_at is not None


def test_second_store_is_idempotent(store: ArchiveStore, tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path, "twice")
    first = store.store_document(inputs.record, inputs.originals, inputs.pdf, inputs.texts)
    changed = inputs.record.model_copy(deep=True)
    changed.metadata.title = "Tiêu đề khác"
    second = store.store_document(changed, inputs.originals, inputs.pdf, inputs.texts)
    assert second == first
    assert second.metadata.title == TITLE
    for key in (metadata_key(first.id), first.artefacts["archive.pdf"].key):
        assert len(store.object_versions(key)) == 1, key  # nothing was written again


def test_concurrent_commit_keeps_the_first(store: ArchiveStore, tmp_path: Path) -> None:
    """Two writers racing on one document: metadata.json is put with If-None-Match, the loser gets
    the committed record back and no second version appears."""
    inputs = make_inputs(tmp_path, "race")
    first = store.store_document(inputs.record, inputs.originals, inputs.pdf, inputs.texts)
    late = first.model_copy(deep=True)
    late.metadata.title = "Bản ghi của tiến trình đến sau"
    assert store._commit(late) == first
    assert store.get_record(first.id).metadata.title == TITLE
    assert len(store.object_versions(metadata_key(first.id))) == 1


def test_iter_records_lists_committed_documents(store: ArchiveStore, tmp_path: Path) -> None:
    a = store.store_document(*_args(make_inputs(tmp_path / "a", "iter-a")))
    b = store.store_document(*_args(make_inputs(tmp_path / "b", "iter-b")))
    pending = make_inputs(tmp_path / "c", "iter-pending")
    with pytest.raises(ArchiveError):
        store.store_document(pending.record, pending.originals, tmp_path / "nope.pdf", pending.texts)
    records = {r.id: r for r in store.iter_records()}
    assert records[a.id] == a and records[b.id] == b
    assert pending.record.id not in records
    assert all(r.archived_at is not None for r in records.values())


def test_fixity_detects_changed_and_missing_objects(store: ArchiveStore, tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path, "fixity")
    stored = store.store_document(inputs.record, inputs.originals, inputs.pdf, inputs.texts)
    assert store.verify_fixity(stored.id) == []

    text_key = stored.artefacts["text/0001.txt"].key
    forged = "CHỈ THỊ (đã bị sửa)".encode()
    store.client.put_object(store.bucket, text_key, io.BytesIO(forged), len(forged))
    versions = store.object_versions(text_key)
    assert len(versions) == 2 and sum(v["is_latest"] for v in versions) == 1  # the original is kept
    problems = store.verify_fixity(stored.id)
    assert len(problems) == 1 and problems[0].startswith("text/0001.txt: sha256 mismatch")

    store.client.remove_object(store.bucket, stored.artefacts["original/trang2.png"].key)
    problems = store.verify_fixity(stored.id)
    assert any(p.startswith("original/trang2.png: object missing") for p in problems)
    assert len(problems) == 2


def test_large_original_streams_in_parts(store: ArchiveStore, tmp_path: Path) -> None:
    """Above the part size the upload is multipart; the checksum is still that of the whole file."""
    inputs = make_inputs(tmp_path, "large")
    big = tmp_path / "scan-600dpi.tif"
    with big.open("wb") as fh:
        for _ in range(18):
            fh.write(os.urandom(1024 * 1024))
    stored = store.store_document(inputs.record, [("scan-600dpi.tif", big)], inputs.pdf, inputs.texts)
    art = stored.artefacts["original/scan-600dpi.tif"]
    assert art.size == 18 * 1024 * 1024 and art.sha256 == sha256_of(big)
    etag = store.client.stat_object(store.bucket, art.key).etag
    assert "-" in etag  # multipart ETag (<md5>-<parts>)
    assert store.verify_fixity(stored.id) == []
    assert store.client.get_object_retention(store.bucket, art.key).mode == COMPLIANCE  # multipart is locked too


def test_replace_archive_pdf_checks_the_seal_and_the_current_file(store: ArchiveStore, tmp_path: Path) -> None:
    """What a renewal relies on: nothing is written unless metadata.json still has its sealed hash and records
    the archive.pdf the new version was made from; the returned record hashes to the new metadata.json."""
    inputs = make_inputs(tmp_path, "replace")
    stored = store.store_document(inputs.record, inputs.originals, inputs.pdf, inputs.texts)
    key = stored.artefacts["archive.pdf"].key
    sealed = metadata_sha256(stored)
    assert hashlib.sha256(store.get_bytes(metadata_key(stored.id))).hexdigest() == sealed
    assert metadata_sha256(store.get_record(stored.id)) == sealed  # stable round trip (the lost-commit-race path)
    renewed = make_pdf(tmp_path / "renewed.pdf", "renewed")
    event = Event(stage="renew-timestamp", started_at=datetime.now(UTC), finished_at=datetime.now(UTC))

    with pytest.raises(ArchiveError, match="does not match its seal"):
        store.replace_archive_pdf(stored.id, renewed, event, expected_metadata_sha256="0" * 64)
    with pytest.raises(ArchiveError, match=r"is not the one its metadata\.json records"):
        store.replace_archive_pdf(stored.id, renewed, event, expected_metadata_sha256=sealed,
                                  expected_pdf_sha256="f" * 64)
    assert len(store.object_versions(key)) == 1  # refused before any write

    updated = store.replace_archive_pdf(stored.id, renewed, event, expected_metadata_sha256=sealed,
                                        expected_pdf_sha256=stored.artefacts["archive.pdf"].sha256)
    assert updated.artefacts["archive.pdf"].sha256 == sha256_of(renewed)
    assert hashlib.sha256(store.get_bytes(metadata_key(stored.id))).hexdigest() == metadata_sha256(updated)
    assert len(store.object_versions(key)) == 2 and store.verify_fixity(stored.id) == []


def test_missing_objects_raise_archive_error(store: ArchiveStore, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        store.get_bytes("documents/nothing-here/metadata.json")
    with pytest.raises(ArchiveError, match="no document"):
        store.get_record("0" * 64)
    with pytest.raises(ArchiveError):
        store.download("documents/nothing-here/archive.pdf", tmp_path / "x.pdf")
    assert not store.has_document("0" * 64)


def test_unreachable_server_is_an_archive_error(s3_server, tmp_path: Path) -> None:
    from tests.conftest import free_s3_ports

    (port,) = free_s3_ports(1)
    dead = ArchiveStore(s3_server.s3.model_copy(update={"endpoint": f"127.0.0.1:{port}"}))
    with pytest.raises(ArchiveError):
        dead.has_document("x")


def _args(inputs):  # type: ignore[no-untyped-def]
    return inputs.record, inputs.originals, inputs.pdf, inputs.texts
