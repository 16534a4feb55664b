"""make_pdfa on real Tesseract `vie`, real OCRmyPDF, pikepdf, qpdf and pdffonts (no mocks)."""

from __future__ import annotations

import subprocess
import unicodedata
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pytest
from PIL import Image

from pipeline.devtools.samples import SAMPLE_DOCUMENTS, make_mixed_pdf, render_page
from pipeline.ocr import OcrRequest, OcrResult, check_pdfa, claimed_pdfa, make_pdfa
from tests.ocr.helpers import cer


def qpdf_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True, check=False)


def assert_archival(result: OcrResult, pages: int) -> None:
    assert result.pdf_path.is_file()
    assert result.pdfa == "2B"
    assert claimed_pdfa(result.pdf_path) == "2B"
    assert check_pdfa(result.pdf_path) == []
    assert qpdf_check(result.pdf_path).returncode == 0
    assert [p.number for p in result.pages] == list(range(1, pages + 1))
    for page in result.pages:
        assert page.text == unicodedata.normalize("NFC", page.text)
    assert set(result.tools) >= {"ocrmypdf", "tesseract", "ghostscript", "pikepdf"}
    assert result.tools["tesseract"].startswith("5.")


@pytest.fixture(scope="module")
def scanned_images_result(invitation_pages: list[Path], tmp_path_factory: pytest.TempPathFactory) -> OcrResult:
    request = OcrRequest(inputs=invitation_pages, kind="images", needs_ocr=True)
    return make_pdfa(request, tmp_path_factory.mktemp("work-images"))


def test_scanned_pages_are_ocred_into_pdfa(scanned_images_result: OcrResult) -> None:
    result = scanned_images_result
    assert_archival(result, pages=2)
    assert result.ocr_applied
    assert all(fix.startswith("deskewed (the page drawing turned") for fix in result.fixes), result.fixes
    expected = SAMPLE_DOCUMENTS["giay-moi"].pages
    for page, source in zip(result.pages, expected, strict=True):
        assert cer(page.text, source) < 0.05, page.text
        assert page.confidence is not None and 80 <= page.confidence <= 100
    assert "GIẤY MỜI" in result.pages[0].text
    assert "chuyển đổi số" in result.pages[1].text


def test_output_keeps_scan_resolution(scanned_images_result: OcrResult) -> None:
    """Digitized copies must stay at ≥ 200 dpi: page images are not downsampled."""
    with pikepdf.open(scanned_images_result.pdf_path) as pdf:
        page = pdf.pages[0]
        width_pt = float(page.mediabox[2]) - float(page.mediabox[0])
        images = list(page.get_images().values())
        assert images, "the page image is gone"
        dpi = int(images[0].Width) / (width_pt / 72)
    assert dpi >= 199


def test_scanned_pdf_is_ocred(scanned_directive_pdf: Path, tmp_path: Path) -> None:
    result = make_pdfa(OcrRequest(inputs=[scanned_directive_pdf], kind="pdf", needs_ocr=True), tmp_path)
    assert_archival(result, pages=1)
    assert result.ocr_applied
    page = result.pages[0]
    assert "07/CT-BTTTT" in page.text
    assert cer(page.text, SAMPLE_DOCUMENTS["chi-thi"].pages[0]) < 0.05, page.text
    assert page.confidence is not None and page.confidence > 80


def test_born_digital_keeps_text_and_drops_open_action(born_digital_with_open_action: Path, tmp_path: Path) -> None:
    source_text = _pdfium_texts(born_digital_with_open_action)
    request = OcrRequest(inputs=[born_digital_with_open_action], kind="pdf", needs_ocr=False)
    result = make_pdfa(request, tmp_path)
    assert_archival(result, pages=1)
    assert not result.ocr_applied
    assert result.pages[0].confidence is None
    assert _pdfium_texts(result.pdf_path) == source_text  # byte-for-byte the same text layer
    assert "Văn phòng Bộ hướng dẫn các đơn vị lập hồ sơ điện tử" in result.pages[0].text
    assert any("/OpenAction" in fix for fix in result.fixes)
    with pikepdf.open(result.pdf_path) as pdf:
        assert "/OpenAction" not in pdf.Root
    with pikepdf.open(born_digital_with_open_action) as original:
        assert "/OpenAction" in original.Root, "the input must not be modified"


def test_mixed_pdf_ocrs_only_the_image_page(tmp_path: Path) -> None:
    doc = SAMPLE_DOCUMENTS["ke-hoach"]
    image = tmp_path / "scan.png"
    render_page(doc.pages[0], rotate_deg=1.0, seed=5).save(image, dpi=(200, 200))
    mixed = make_mixed_pdf(["Trang một là văn bản điện tử gốc."], image, tmp_path / "mixed.pdf")
    result = make_pdfa(OcrRequest(inputs=[mixed], kind="pdf", needs_ocr=True), tmp_path / "work")
    assert_archival(result, pages=2)
    assert result.ocr_applied
    first, second = result.pages
    assert first.text == "Trang một là văn bản điện tử gốc."
    assert first.confidence is None
    assert second.confidence is not None
    assert cer(second.text, doc.pages[0]) < 0.05, second.text


def test_sideways_jpeg_without_dpi_is_rotated_and_read(tmp_path: Path) -> None:
    """A page scanned sideways, JPEG, no resolution in the file: rotate, assume 200 dpi, OCR."""
    doc = SAMPLE_DOCUMENTS["thong-bao"]
    page = tmp_path / "page1.jpg"
    render_page(doc.pages[0], seed=11).transpose(Image.Transpose.ROTATE_90).save(page, quality=90)
    result = make_pdfa(OcrRequest(inputs=[page], kind="images", needs_ocr=True), tmp_path / "work")
    assert_archival(result, pages=1)
    assert any("assumed 200 dpi" in fix for fix in result.fixes)
    assert cer(result.pages[0].text, doc.pages[0]) < 0.05, result.pages[0].text


def _pdfium_texts(path: Path) -> list[str]:
    doc = pdfium.PdfDocument(str(path))
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()
