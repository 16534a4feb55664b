"""Born-digital PDFs that are PDF/A but for the declaration are declared by pikepdf in-process (no OCRmyPDF
process); what pikepdf will not declare still goes down the OCRmyPDF / Ghostscript ladder."""

from __future__ import annotations

from pathlib import Path

import pikepdf

from pipeline.devtools.samples import make_born_digital_pdf
from pipeline.devtools.samples.awkward import unembedded_font
from pipeline.ocr import OcrRequest, check_pdfa, make_pdfa


def _producer(path: Path) -> str:
    with pikepdf.open(path) as pdf:
        return str(pdf.open_metadata().get("pdf:Producer", ""))


def test_a_born_digital_pdf_is_declared_in_process(tmp_path: Path) -> None:
    source = make_born_digital_pdf(["Công văn số 12/UBND về việc lưu trữ hồ sơ điện tử."], tmp_path / "cv.pdf")
    result = make_pdfa(OcrRequest(inputs=[source], kind="pdf", needs_ocr=False), tmp_path / "w")
    assert _producer(result.pdf_path).startswith("pikepdf")
    assert check_pdfa(result.pdf_path, part="2") == [] and result.pdfa == "2B" and not result.ocr_applied
    assert result.pages[0].text.startswith("Công văn số 12/UBND")


def test_what_pikepdf_will_not_declare_takes_the_ladder(tmp_path: Path) -> None:
    source = unembedded_font(tmp_path / "helvetica.pdf")  # PDF/A needs the font embedded: Ghostscript's job
    result = make_pdfa(OcrRequest(inputs=[source], kind="pdf", needs_ocr=False), tmp_path / "w")
    assert check_pdfa(result.pdf_path, part="2") == []
    assert any("Ghostscript" in fix for fix in result.fixes), result.fixes
