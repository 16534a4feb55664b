"""Encoding of S3 user metadata values (pure functions; the server round trip is in test_store)."""

from __future__ import annotations

import unicodedata

import pytest

from pipeline.archive import usermeta


@pytest.mark.parametrize("value", [
    "07/CT-BTTTT", "Chỉ thị", "Bộ Thông tin và Truyền thông", "Tuyệt mật", "đ Đ ư Ư ơ Ơ",
    "=?UTF-8?B?bm90IGVuY29kZWQ=?=",  # ASCII that looks encoded must come back literally
    "line one\nline two", " leading space", "", "100% ASCII; a=b?c",
])
def test_round_trip(value: str) -> None:
    encoded = usermeta.encode_value(value)
    assert encoded.isascii() and "\n" not in encoded
    assert usermeta.decode_value(encoded) == value


def test_plain_ascii_is_left_readable() -> None:
    assert usermeta.encode_value("07/CT-BTTTT") == "07/CT-BTTTT"
    assert usermeta.encode_value("Chỉ thị").startswith("=?UTF-8?B?")


def test_nfc_and_cap() -> None:
    nfd = unicodedata.normalize("NFD", "Văn bản")
    assert usermeta.decode_value(usermeta.encode_value(nfd)) == "Văn bản"
    long = "ữ" * 500
    decoded = usermeta.decode_value(usermeta.encode_value(long))
    assert len(decoded) == usermeta.MAX_VALUE_CHARS and decoded.endswith("…")


def test_decode_headers_other_encoders() -> None:
    # Q-encoding and lower-case header names, as other S3 clients/servers may produce them.
    headers = {"X-Amz-Meta-Title": "=?utf-8?q?Gi=E1=BA=A5y_m=E1=BB=9Di?=", "Content-Type": "application/pdf",
               "x-amz-meta-doc-number": "15/GM-UBND"}
    assert usermeta.decode(headers) == {"title": "Giấy mời", "doc-number": "15/GM-UBND"}
    assert usermeta.encode({"Doc-Number": "15/GM-UBND"}) == {"x-amz-meta-doc-number": "15/GM-UBND"}
