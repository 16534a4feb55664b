"""Quarantine: bad inputs kept byte for byte with a readable reason."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pipeline.archive import ArchiveStore


def test_quarantine_keeps_input_and_reason(store: ArchiveStore, tmp_path: Path) -> None:
    bad = tmp_path / "hỏng.pdf"
    bad.write_bytes(b"%PDF-1.7\n garbage \x00\xff truncated")
    details = {"stage": "ocr", "exit_code": 2, "tệp": "hỏng.pdf"}
    key = store.quarantine("lô 02", "thư mục/hỏng.pdf", bad, "PDF bị hỏng: không đọc được bảng xref",
                           details)
    assert key == "quarantine/lô 02/thư mục/hỏng.pdf"
    assert store.get_bytes(key) == bad.read_bytes()

    (entry,) = store.list_quarantine("lô 02")
    assert entry["key"] == key
    assert entry["reason"] == "PDF bị hỏng: không đọc được bảng xref"
    assert entry["details"] == details
    assert entry["batch"] == "lô 02" and entry["stored"] is True
    assert entry["sha256"] == hashlib.sha256(bad.read_bytes()).hexdigest()
    assert entry["size"] == bad.stat().st_size
    assert entry["time"].endswith("+00:00")


def test_quarantine_without_a_file(store: ArchiveStore) -> None:
    """A problem with no usable file (e.g. an empty folder) still leaves its reason."""
    key = store.quarantine("lô 03", "thư-mục-rỗng", None, "thư mục không có trang ảnh nào")
    (entry,) = store.list_quarantine("lô 03")
    assert entry["key"] == key and entry["stored"] is False and entry["reason"].startswith("thư mục")
    keys = {o.object_name for o in store.client.list_objects(store.bucket, prefix="quarantine/lô 03/",
                                                              recursive=True)}
    assert keys == {key + ".reason.json"}


def test_list_quarantine_filters_by_batch(store: ArchiveStore, tmp_path: Path) -> None:
    f = tmp_path / "x.png"
    f.write_bytes(b"\x89PNG broken")
    store.quarantine("lô 04", "x.png", f, "ảnh hỏng")
    store.quarantine("lô 05", "x.png", f, "ảnh hỏng lần hai")
    assert [e["reason"] for e in store.list_quarantine("lô 05")] == ["ảnh hỏng lần hai"]
    batches = {e["batch"] for e in store.list_quarantine()}
    assert {"lô 04", "lô 05"} <= batches


@pytest.mark.parametrize("name", ["", "/", "../..", "./"])
def test_unusable_names_still_keep_the_reason(store: ArchiveStore, name: str) -> None:
    key = store.quarantine("lô 06", name, None, f"tên không dùng được: {name!r}")
    assert key == "quarantine/lô 06/_unnamed"
    assert f"tên không dùng được: {name!r}" in {e["reason"] for e in store.list_quarantine("lô 06")}


def test_names_cannot_escape_the_batch(store: ArchiveStore) -> None:
    key = store.quarantine("lô 07", "../../documents/abc/metadata.json", None, "thử thoát thư mục")
    assert key == "quarantine/lô 07/documents/abc/metadata.json"
