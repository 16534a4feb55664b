"""The generated test documents are what the other tests and the demo assume they are."""

from __future__ import annotations

import csv
import subprocess
import unicodedata
from datetime import date
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pytest
from PIL import Image

from pipeline.core.record import Classification, DocumentMetadata
from pipeline.devtools.samples import (
    MANIFEST_COLUMNS,
    SAMPLE_DOCUMENTS,
    make_born_digital_pdf,
    make_corrupt_pdf,
    make_mixed_pdf,
    make_sample_batch,
    make_scanned_pdf,
    render_scanned_pages,
    vietnamese_font,
)


def _texts(path: Path) -> list[str]:
    doc = pdfium.PdfDocument(str(path))
    try:
        return [doc[i].get_textpage().get_text_range().strip() for i in range(len(doc))]
    finally:
        doc.close()


def _has_open_action(path: Path) -> bool:
    with pikepdf.open(path) as pdf:
        return "/OpenAction" in pdf.Root


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_sample_texts_are_nfc_vietnamese() -> None:
    assert {"thong-bao", "giay-moi", "chi-thi"} <= set(SAMPLE_DOCUMENTS)
    assert SAMPLE_DOCUMENTS["chi-thi"].doc_number == "07/CT-BTTTT"
    for doc in SAMPLE_DOCUMENTS.values():
        for text in (*doc.pages, doc.title, doc.issuer, doc.doc_type):
            assert text == unicodedata.normalize("NFC", text)
        assert any(ch in "".join(doc.pages) for ch in "ăâđêôơư")


def test_font_is_vietnamese_capable() -> None:
    from PIL import ImageFont

    font = ImageFont.truetype(str(vietnamese_font()), 20)
    # a glyph missing from the font renders as the same .notdef box; these must all differ from it
    notdef = font.getmask("\uffff").getbbox()
    for ch in "ĐđƯươỡẫệ":
        assert font.getmask(ch).getbbox() != notdef


def test_render_scanned_pages(tmp_path: Path) -> None:
    texts = list(SAMPLE_DOCUMENTS["giay-moi"].pages)
    paths = render_scanned_pages(texts, tmp_path / "a", rotate_deg=2.0, seed=1)
    assert [p.name for p in paths] == ["page1.png", "page2.png"]
    with Image.open(paths[0]) as image:
        assert image.mode == "L"
        assert round(image.info["dpi"][0]) == 200
        assert image.width * image.height < 1_100_000  # small pages keep OCR fast
        histogram = image.histogram()
        median = next(v for v in range(256) if sum(histogram[: v + 1]) * 2 >= image.width * image.height)
        assert median < 245, "paper should be grey, not white"
    again = render_scanned_pages(texts, tmp_path / "b", rotate_deg=2.0, seed=1)
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in again]
    other = render_scanned_pages(texts, tmp_path / "c", rotate_deg=2.0, seed=2)
    assert paths[0].read_bytes() != other[0].read_bytes()


@pytest.mark.parametrize(("fmt", "pil_format"), [("tiff", "TIFF"), ("jpeg", "JPEG")])
def test_other_image_formats(tmp_path: Path, fmt: str, pil_format: str) -> None:
    (path,) = render_scanned_pages(["Trang một"], tmp_path, fmt=fmt, dpi=150)
    assert path.name == f"page1.{fmt}"
    with Image.open(path) as image:
        assert image.format == pil_format
        assert round(image.info["dpi"][0]) == 150


def test_render_rejects_unknown_format_and_overlong_text(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format"):
        render_scanned_pages(["x"], tmp_path, fmt="bmp")
    with pytest.raises(ValueError, match="does not fit"):
        render_scanned_pages(["chữ " * 5000], tmp_path)


def test_born_digital_pdf(tmp_path: Path) -> None:
    paragraphs = ["Văn bản điện tử có chữ ký số.", "Số: 07/CT-BTTTT"]
    plain = make_born_digital_pdf(paragraphs, tmp_path / "a.pdf", title="Chỉ thị")
    assert _squash(_texts(plain)[0]) == _squash("Chỉ thị " + " ".join(paragraphs))
    fonts = subprocess.run(["pdffonts", str(plain)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(row.split()[-5] == "yes" for row in rows)  # every font embedded
    with pikepdf.open(plain) as pdf:
        assert "/OpenAction" not in pdf.Root
    with_action = make_born_digital_pdf(paragraphs, tmp_path / "b.pdf", with_open_action=True)
    with pikepdf.open(with_action) as pdf:
        assert str(pdf.Root.OpenAction.S) == "/JavaScript"


def test_scanned_and_mixed_pdfs(tmp_path: Path) -> None:
    images = render_scanned_pages(["Trang quét một", "Trang quét hai"], tmp_path / "img")
    scanned = make_scanned_pdf(images, tmp_path / "scan.pdf")
    assert _texts(scanned) == ["", ""]
    with pikepdf.open(scanned) as pdf:
        assert all(page.get_images() for page in pdf.pages)
    mixed = make_mixed_pdf(["Trang có chữ."], images[0], tmp_path / "mixed.pdf")
    assert _texts(mixed) == ["Trang có chữ.", ""]


def test_corrupt_pdf_is_unreadable(tmp_path: Path) -> None:
    bad = make_corrupt_pdf(tmp_path / "bad.pdf")
    assert bad.read_bytes().startswith(b"%PDF-")
    with pytest.raises(pikepdf.PdfError):
        pikepdf.open(bad)


def test_sample_batch(tmp_path: Path) -> None:
    batch = make_sample_batch(tmp_path / "batch")
    with (batch / "manifest.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == MANIFEST_COLUMNS
        rows = list(reader)
    paths = {row["path"] for row in rows}
    on_disk = {p.name for p in batch.iterdir() if p.name != "manifest.csv"}
    assert paths == on_disk
    folders = [batch / p for p in paths if (batch / p).is_dir()]
    pdfs = [batch / p for p in paths if p.endswith(".pdf")]
    assert len(folders) >= 2 and len(pdfs) >= 3
    assert any(len(list(folder.iterdir())) == 2 for folder in folders)
    page_count = sum(len(list(f.iterdir())) for f in folders)
    scanned_pdfs = born_digital = 0
    for pdf in pdfs:
        texts = _texts(pdf)
        page_count += len(texts)
        if all(texts):
            born_digital += 1
        elif not any(texts):
            scanned_pdfs += 1
    assert page_count <= 7
    assert scanned_pdfs >= 1 and born_digital >= 2
    assert sum(_has_open_action(p) for p in pdfs) == 1
    for row in rows:
        fields = {k: v for k, v in row.items() if k != "path"}
        fields["classification"] = Classification.parse(row["classification"])  # "nội bộ" → internal
        meta = DocumentMetadata.model_validate(fields)
        assert isinstance(meta.issued_date, date)
    by_number = {row["doc_number"]: row for row in rows}
    assert by_number["07/CT-BTTTT"]["doc_type"] == "Chỉ thị"
    assert by_number["07/CT-BTTTT"]["issuer"] == "Bộ Thông tin và Truyền thông"
    # deterministic: a second generation is byte-identical (ingest idempotency relies on content hashes)
    again = make_sample_batch(tmp_path / "again")
    for path in sorted(batch.rglob("*")):
        if path.is_file():
            assert path.read_bytes() == (again / path.relative_to(batch)).read_bytes(), path.name
