"""check_pdfa: the checks other stages (signing, e2e) reuse, on files that must fail."""

from __future__ import annotations

from pathlib import Path

import pikepdf
from PIL import Image

from pipeline.devtools.samples import make_born_digital_pdf, make_corrupt_pdf
from pipeline.ocr import check_pdfa, claimed_pdfa, tool_versions
from pipeline.ocr.images import images_to_pdf


def test_plain_pdf_is_not_pdfa(tmp_path: Path) -> None:
    plain = make_born_digital_pdf(["Văn bản thường, chưa phải PDF/A."], tmp_path / "plain.pdf")
    problems = check_pdfa(plain)
    assert any("XMP claims" in p for p in problems)
    assert any("/OutputIntents" in p for p in problems)
    assert any(p.startswith("pikepdf.pdfa:") for p in problems)
    assert claimed_pdfa(plain) == ""


def test_unembedded_font_is_reported(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)  # a standard-14 font: never embedded
    pdf.cell(text="Plain ASCII text")
    out = tmp_path / "helv.pdf"
    pdf.output(str(out))
    assert any("font not embedded" in p for p in check_pdfa(out))


def test_damaged_file_is_reported(tmp_path: Path) -> None:
    problems = check_pdfa(make_corrupt_pdf(tmp_path / "bad.pdf"))
    assert problems and problems[0].startswith("cannot open PDF")


def test_images_without_dpi_get_200_dpi_and_alpha_is_flattened(tmp_path: Path) -> None:
    rgba = tmp_path / "page1.png"
    Image.new("RGBA", (400, 600), (255, 255, 255, 0)).save(rgba)  # no dpi, transparent
    out, notes = images_to_pdf([rgba], tmp_path / "out.pdf", tmp_path / "tmp")
    assert any("flattened RGBA" in n for n in notes)
    assert any("assumed 200 dpi" in n for n in notes)
    with pikepdf.open(out) as pdf:
        box = pdf.pages[0].mediabox
        assert round(float(box[2]) - float(box[0]), 1) == round(400 / 200 * 72, 1)
        image = next(iter(pdf.pages[0].get_images().values()))
        assert "/SMask" not in image


def test_tool_versions() -> None:
    versions = tool_versions()
    assert versions["ocrmypdf"].startswith("17.")
    assert versions["pikepdf"].startswith("10.")
    assert versions["ghostscript"][0].isdigit()
    assert versions["tesseract"][0].isdigit()


def test_manifest_language_values_map_to_tesseract_codes() -> None:
    from pipeline.ocr.languages import tesseract_languages

    assert tesseract_languages("vi") == "vie"
    assert tesseract_languages("Tiếng Việt") == "vie"
    assert tesseract_languages("vi-VN, en") == "vie+eng"
    assert tesseract_languages("vie+eng") == "vie+eng"
    assert tesseract_languages("") == "vie"
    assert tesseract_languages("fra") == "fra"


def test_decompression_bomb_image_is_an_ocr_error(tmp_path: Path) -> None:
    """A 200-megapixel one-colour PNG (tens of KB) must be refused with a reason, not escape as
    PIL.Image.DecompressionBombError; a lower limit can be passed."""
    import pytest

    from pipeline.ocr import OcrError

    bomb = tmp_path / "page1.png"
    Image.new("1", (20000, 10000), 1).save(bomb)
    with pytest.raises(OcrError, match=r"page1.png is too large: 200 megapixels \(limit 150\)"):
        images_to_pdf([bomb], tmp_path / "out.pdf", tmp_path / "tmp")
    small = tmp_path / "page2.png"
    Image.new("L", (1000, 1000), 255).save(small)
    with pytest.raises(OcrError, match="decompression bomb"):
        images_to_pdf([small], tmp_path / "out.pdf", tmp_path / "tmp", max_pixels=500_000)


def test_a_damaged_image_stream_in_a_file_pikepdf_wrote_is_reported(tmp_path: Path) -> None:
    """For a file ``pikepdf.pdfa.save`` wrote, the structural check runs in this process (not ``qpdf --check``):
    it must still find a stream whose data is damaged, and say nothing about an intact one."""
    page = tmp_path / "page.png"
    Image.effect_noise((600, 800), 40).save(page, dpi=(200, 200))
    good, _notes = images_to_pdf([page], tmp_path / "good.pdf", tmp_path / "tmp")
    assert not [p for p in check_pdfa(good, passed_pikepdf=True) if p.startswith("syntax check")]
    with pikepdf.open(good) as pdf:
        image = next(iter(pdf.pages[0].get_images().values()))
        assert image.Filter == "/FlateDecode"
        raw = bytearray(image.read_raw_bytes())
        raw[len(raw) // 2: len(raw) // 2 + 64] = b"\xff" * 64  # the zlib data, damaged in the middle
        image.write(bytes(raw), filter=pikepdf.Name.FlateDecode, decode_parms=image.get("/DecodeParms"))
        pdf.save(tmp_path / "damaged.pdf")
    problems = check_pdfa(tmp_path / "damaged.pdf", passed_pikepdf=True)
    assert any(p.startswith("syntax check:") for p in problems), problems
