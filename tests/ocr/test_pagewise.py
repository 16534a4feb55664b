"""The short road for scanned pages (pipeline/ocr/pagewise.py), on real Tesseract, pikepdf and poppler: a tilted page
is shown level with its text on its words, an upside-down page is turned, an image-only PDF takes the same road, a
page that is not a bare page image takes OCRmyPDF's, and nothing is written beside the input files."""

from __future__ import annotations

import math
import os
import re
import statistics
import subprocess
from pathlib import Path

import img2pdf
import numpy as np
import pikepdf
import pytest
from PIL import Image

from bench._pages import PageSpec, page_truth
from bench._pages import render_page as render_bench_page
from pipeline.devtools.samples import SAMPLE_DOCUMENTS, render_page
from pipeline.devtools.samples.pdfs import make_scanned_pdf
from pipeline.ocr import OcrRequest, OcrResult, check_pdfa, make_pdfa, pagewise, skew
from pipeline.ocr.hocr import words
from pipeline.tools import pdftoppm, tesseract
from tests.ocr.helpers import cer

TEXT = SAMPLE_DOCUMENTS["chi-thi"].pages[0]


def _fonts(pdf_path: Path) -> set[str]:
    with pikepdf.open(pdf_path) as pdf:
        found = set()
        for page in pdf.pages:
            for xobject in page.Resources.get("/XObject", {}).values():
                fonts = xobject.get("/Resources", {}).get("/Font", {})
                found |= {str(font.get("/BaseFont")) for font in fonts.values()}
        return found


def tesseract_text(image: Path) -> str:
    found, _ = tesseract.hocr(image, image.with_name("read"), "vie", 200, 120)
    return " ".join(words(found))


def _rendered_tilt(pdf_path: Path, folder: Path) -> float:
    """The tilt of the rendition as a reader sees it (rendered at 200 dpi); 0.0 when under skew.MIN_SKEW_DEG."""
    shown = pdftoppm.render_page_png(pdf_path, 1, folder, dpi=200)
    with Image.open(shown) as pixels:
        return skew.tilt(pixels, 200)


@pytest.fixture(scope="module", params=[2.5, -3.0], ids=["counter-clockwise 2.5°", "clockwise 3°"])
def tilted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> tuple[Path, OcrResult, float]:
    """A page turned by ``degrees``: clockwise by 3°, Tesseract read no word of it unless it was levelled first."""
    folder = tmp_path_factory.mktemp("tilted-input")
    page = folder / "page1.png"
    render_page(TEXT, dpi=300, rotate_deg=request.param, seed=3).save(page, dpi=(300, 300))
    result = make_pdfa(OcrRequest(inputs=[page], kind="images", needs_ocr=True), tmp_path_factory.mktemp("tilted"))
    return page, result, request.param


def test_a_tilted_page_is_shown_level_with_its_text_on_its_words(tilted: tuple[Path, OcrResult, float],
                                                                 tmp_path: Path) -> None:
    page, result, degrees = tilted
    assert "GlyphLessFont" in str(_fonts(result.pdf_path))  # Tesseract's own text layer: the short road
    assert check_pdfa(result.pdf_path, part="2") == []
    said = re.search(r"deskewed .*page 1 \(([-+][\d.]+)°\)", " ".join(result.fixes))
    assert said is not None and abs(float(said.group(1)) - degrees) <= 0.2, result.fixes
    assert _rendered_tilt(result.pdf_path, tmp_path) == 0.0  # level as shown (it was 2.5° or -3° before)
    assert cer(result.pages[0].text, TEXT) < 0.02
    assert result.pages[0].confidence is not None and result.pages[0].confidence > 80
    assert sorted(os.listdir(page.parent)) == ["page1.png"]  # Tesseract read the input; nothing written beside it
    assert _words_off_their_layer(result.pdf_path, tmp_path) < 1.0  # points; a 3° error moves a line's ends 13 pt


def test_a_full_page_tilted_clockwise_is_read(tmp_path: Path) -> None:
    """A full A4 page of the benchmark turned 2.98° clockwise (not faded, 300 dpi): Tesseract's layout analysis
    read no word of it as scanned (read level after the OCR, as this road first did: 100% CER)."""
    spec = PageSpec(number=4, dpi=300, tilt_deg=-2.98, faded=False)
    page = tmp_path / "in" / "page1.png"
    page.parent.mkdir()
    render_bench_page(spec).save(page, dpi=(300, 300))
    result = make_pdfa(OcrRequest(inputs=[page], kind="images", needs_ocr=True), tmp_path / "work")
    assert cer(result.pages[0].text, page_truth(spec)) < 0.01
    assert _rendered_tilt(result.pdf_path, tmp_path) == 0.0


def _words_off_their_layer(pdf_path: Path, folder: Path) -> float:
    """The median distance in points between where the text layer puts a word (pdftotext -bbox) and where
    Tesseract sees it on the page as rendered (200 dpi), over the words found once in both (at least 20), once the
    shift common to all words is taken away (a turn left between the two moves words by different amounts)."""
    html = folder / "layer.html"
    subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf_path), str(html)], check=True)
    layer = _unique(re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]+)<',
                               html.read_text(encoding="utf-8")), 1.0)
    found, _ = tesseract.hocr(pdftoppm.render_page_png(pdf_path, 1, folder, dpi=200), folder / "seen", "vie", 200, 120)
    seen = _unique(re.findall(r"ocrx_word[^>]*title='bbox (\d+) (\d+) (\d+) (\d+)[^>]*>([^<]+)<",
                              found.read_text(encoding="utf-8")), 72 / 200)
    both = layer.keys() & seen.keys()
    assert len(both) >= 20, (len(layer), len(seen))
    dx = statistics.median(layer[w][0] - seen[w][0] for w in both)  # the glyphless font's boxes sit ~2.5 pt up
    dy = statistics.median(layer[w][1] - seen[w][1] for w in both)  # and left of the ink, on a level page too
    return statistics.median(math.dist((layer[w][0] - dx, layer[w][1] - dy), seen[w]) for w in both)


def _unique(boxes: list[tuple[str, ...]], scale: float) -> dict[str, tuple[float, float]]:
    """Centre (points) of every word of four letters or more found exactly once."""
    names = [box[4] for box in boxes]
    return {box[4]: ((float(box[0]) + float(box[2])) / 2 * scale, (float(box[1]) + float(box[3])) / 2 * scale)
            for box in boxes if len(box[4]) >= 4 and names.count(box[4]) == 1}


def test_an_upside_down_page_is_turned(tmp_path: Path) -> None:
    page = tmp_path / "in" / "page1.png"
    page.parent.mkdir()
    render_page(TEXT, dpi=300, seed=4).rotate(180).save(page, dpi=(300, 300))
    result = make_pdfa(OcrRequest(inputs=[page], kind="images", needs_ocr=True), tmp_path / "work")
    assert any("turned 180°" in fix for fix in result.fixes), result.fixes
    assert cer(result.pages[0].text, TEXT) < 0.05
    seen = pdftoppm.render_page_png(result.pdf_path, 1, tmp_path, dpi=200)  # as a reader sees it: upright
    assert cer(tesseract_text(seen), TEXT) < 0.05


def test_an_image_only_pdf_takes_the_same_road(tmp_path: Path) -> None:
    texts = [SAMPLE_DOCUMENTS["chi-thi"].pages[0], SAMPLE_DOCUMENTS["thong-bao"].pages[0]]
    images = []
    for n, text in enumerate(texts, start=1):
        images.append(tmp_path / f"p{n}.png")
        render_page(text, dpi=200, seed=n).save(images[-1], dpi=(200, 200))
    scan = make_scanned_pdf(images, tmp_path / "scan.pdf")
    assert pagewise.eligible(scan)
    result = make_pdfa(OcrRequest(inputs=[scan], kind="pdf", needs_ocr=True), tmp_path / "work")
    assert "GlyphLessFont" in str(_fonts(result.pdf_path))
    assert len(result.pages) == 2
    assert all(cer(page.text, text) < 0.06 for page, text in zip(result.pages, texts, strict=True))


def test_a_page_that_is_not_a_bare_image_takes_ocrmypdfs_road(tmp_path: Path) -> None:
    image = tmp_path / "p.png"
    render_page(TEXT, dpi=200, seed=5).save(image, dpi=(200, 200))
    scan = make_scanned_pdf([image], tmp_path / "scan.pdf")
    with pikepdf.open(scan, allow_overwriting_input=True) as pdf:  # the image drawn on a margin-wide page
        page = pdf.pages[0]
        x0, y0, x1, y1 = (float(v) for v in page.mediabox)
        page.mediabox = [x0 - 36, y0 - 36, x1 + 36, y1 + 36]
        pdf.save(scan)
    assert not pagewise.eligible(scan)
    result = make_pdfa(OcrRequest(inputs=[scan], kind="pdf", needs_ocr=True), tmp_path / "work")
    assert "GlyphLessFont" not in str(_fonts(result.pdf_path)) and result.ocr_applied
    assert cer(result.pages[0].text, TEXT) < 0.06


def test_a_fax_page_with_two_resolutions_is_not_for_the_short_road(tmp_path: Path) -> None:
    image = tmp_path / "fax.png"
    Image.new("L", (1728, 1100), 255).save(image)
    pdf = tmp_path / "fax.pdf"
    pdf.write_bytes(img2pdf.convert(str(image), layout_fun=img2pdf.get_fixed_dpi_layout_fun((204, 98))))
    assert not pagewise.eligible(pdf)


def test_a_page_without_words_is_marked_ocrd_with_no_confidence(tmp_path: Path) -> None:
    picture = tmp_path / "in" / "photo.png"
    picture.parent.mkdir()
    rng = np.random.default_rng(1)
    pixels = np.full((1100, 800), 235, dtype=np.uint8)
    pixels[200:900, 150:650] = rng.integers(60, 120, (700, 500), dtype=np.uint8)  # a grey photograph, no text
    Image.fromarray(pixels).save(picture, dpi=(200, 200))
    result = make_pdfa(OcrRequest(inputs=[picture], kind="images", needs_ocr=True), tmp_path / "w")
    assert result.pages[0].ocr and result.pages[0].confidence is None


def test_a_page_whose_drawing_cannot_be_read_is_left_to_the_ladder(tmp_path: Path) -> None:
    image = tmp_path / "p.png"
    render_page(TEXT, dpi=200, seed=7).save(image, dpi=(200, 200))
    scan = make_scanned_pdf([image], tmp_path / "scan.pdf")
    with pikepdf.open(scan, allow_overwriting_input=True) as pdf:
        page = pdf.pages[0]
        page.Contents = pikepdf.Stream(pdf, b"q 1 0 0 (x) 0 0 cm /Im0 Do Q")  # a string where a number must be
        page.MediaBox = [0, 0, 0, 0]  # and a page of no size
        pdf.save(scan)
    assert not pagewise.eligible(scan)  # no exception: the other road decides


@pytest.mark.parametrize("turn", [0, 180])
def test_pages_encoded_beside_ocr_are_stored_as_the_profile_would_after_it(tmp_path: Path, turn: int) -> None:
    """The standard profile's JPEG, made in the OCR threads from the pixels Tesseract's copy came from, is byte for
    byte the one re-encoding the assembled PDF's image makes (an upside-down page: from the turned pixels)."""
    page = tmp_path / "in" / "page1.png"
    page.parent.mkdir()
    render_page(TEXT, dpi=300, rotate_deg=1.5, seed=8).rotate(turn).save(page, dpi=(300, 300))
    scan = make_scanned_pdf([page], tmp_path / "scan.pdf")
    outputs = []
    for early in (True, False):
        scratch = tmp_path / f"scratch-{early}"
        scratch.mkdir()
        pages = pagewise.ocr_pages(scan, scratch, "vie", 1, 120, rotate=True, deskew=True, files=[page],
                                   profile="standard")
        assert (pages[0].stored is not None) is True and pages[0].turned == turn
        if not early:
            pages[0].stored = None  # the profile's own pass over the assembled PDF
        out = tmp_path / f"out-{early}.pdf"
        notes = pagewise.assemble(scan, pages, out, scratch, "standard", "2").notes
        assert any("storage profile standard: page images stored 1 as JPEG" in note for note in notes), notes
        with pikepdf.open(out) as pdf:
            (image,) = pdf.pages[0].images.values()
            assert image.Filter == pikepdf.Name.DCTDecode
            outputs.append(image.read_raw_bytes())
    assert outputs[0] == outputs[1]
