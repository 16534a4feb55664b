"""Test inputs for the archive stage: a record from pipeline.core.record, page files, a real small PDF."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pikepdf

from pipeline.core.record import (
    Classification,
    DocumentMetadata,
    DocumentRecord,
    Origin,
    PageInfo,
    Source,
)

TITLE = "Về việc đẩy mạnh sử dụng văn bản điện tử và chữ ký số trong hoạt động của cơ quan nhà nước"
PAGE_TEXTS = [
    "CHỈ THỊ\nVề việc đẩy mạnh sử dụng văn bản điện tử\nBộ Thông tin và Truyền thông",
    "Các cơ quan, đơn vị thực hiện nghiêm túc Chỉ thị này. Tuyệt đối không để lộ, lọt thông tin.",
]


def make_pdf(path: Path, marker: str) -> Path:
    """A small real PDF whose bytes differ per marker."""
    with pikepdf.new() as pdf:
        pdf.add_blank_page(page_size=(200, 200))
        pdf.docinfo["/Title"] = marker
        pdf.save(path, static_id=True)
    return path


@dataclass
class Inputs:
    record: DocumentRecord
    originals: list[tuple[str, Path]]
    pdf: Path
    texts: list[str]


def make_inputs(tmp_path: Path, tag: str, texts: list[str] | None = None) -> Inputs:
    """Two scanned page files, a PDF and page texts (given in NFD, as some tools emit them)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    originals = []
    for n in (1, 2):
        page = tmp_path / f"trang{n}.png"
        page.write_bytes(f"fake scan {tag} page {n}".encode() * 50)
        originals.append((page.name, page))
    doc_id = hashlib.sha256(b"".join(p.read_bytes() for _, p in originals)).hexdigest()
    pdf = make_pdf(tmp_path / "signed.pdf", f"{tag} {doc_id}")
    record = DocumentRecord(
        id=doc_id,
        source=Source(batch="lô-01", path=f"công-văn-{tag}", files=[n for n, _ in originals]),
        metadata=DocumentMetadata(
            doc_number="07/CT-BTTTT", doc_type="Chỉ thị", title=TITLE, issuer="Bộ Thông tin và Truyền thông",
            unit="Văn phòng Bộ", classification=Classification.MAT, language="vie",
        ),
        origin=Origin.SCANNED,
        ocr_applied=True,
        page_count=2,
        pages=[PageInfo(number=1, confidence=91.5), PageInfo(number=2, confidence=88.0)],
    )
    raw = texts if texts is not None else PAGE_TEXTS
    return Inputs(record, originals, pdf, [unicodedata.normalize("NFD", t) for t in raw])


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
