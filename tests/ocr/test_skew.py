"""The tilt of a scanned page found before OCR (pipeline/ocr/skew.py): within a tenth of a degree on text turned
either way, at 200 and 300 dpi, grey, colour or bitonal; nothing on a level, blank or pictorial page; the levelled
copy Tesseract reads is written only when the page is tilted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.devtools.samples import SAMPLE_DOCUMENTS, render_page
from pipeline.ocr import skew

TEXT = SAMPLE_DOCUMENTS["thong-bao"].pages[0]


@pytest.mark.parametrize(("degrees", "dpi"), [(-3.0, 300), (2.5, 300), (-1.2, 200), (0.6, 200), (7.5, 300)])
def test_the_tilt_of_text_turned_either_way_is_found(degrees: float, dpi: int) -> None:
    page = render_page(TEXT, dpi=dpi, rotate_deg=degrees, seed=11)
    assert skew.tilt(page, dpi) == pytest.approx(degrees, abs=0.1)


@pytest.mark.parametrize("mode", ["RGB", "1"])
def test_colour_and_bitonal_pages_are_measured_too(mode: str) -> None:
    page = render_page(TEXT, dpi=300, rotate_deg=-2.0, seed=12)
    converted = page.convert(mode) if mode == "RGB" else page.point(lambda v: 255 if v > 130 else 0).convert("1")
    assert skew.tilt(converted, 300) == pytest.approx(-2.0, abs=0.1)


def test_a_level_page_is_left_alone(tmp_path: Path) -> None:
    assert skew.level_copy(render_page(TEXT, dpi=300, seed=13), 300, tmp_path / "copy") == (None, 0.0)
    assert list(tmp_path.iterdir()) == []


def test_blank_and_pictorial_pages_have_no_tilt() -> None:
    rng = np.random.default_rng(3)
    blank = Image.new("L", (2480, 3508), 235)
    noise = Image.fromarray(rng.integers(0, 256, (1754, 1240), dtype=np.uint8))  # no lines at all
    photo = np.full((3508, 2480), 230, dtype=np.uint8)
    photo[600:2800, 400:2000] = rng.integers(40, 140, (2200, 1600), dtype=np.uint8)  # a dark picture, no text
    assert skew.tilt(blank, 300) == 0.0
    assert skew.tilt(noise, 150) == 0.0
    assert skew.tilt(Image.fromarray(photo), 300) == 0.0


def test_a_tilted_page_gets_a_levelled_copy_for_tesseract(tmp_path: Path) -> None:
    page = render_page(TEXT, dpi=300, rotate_deg=-2.5, seed=14)
    copy, degrees = skew.level_copy(page, 300, tmp_path / "copy")
    assert copy == tmp_path / "copy.pnm" and degrees == pytest.approx(-2.5, abs=0.1)
    with Image.open(copy) as levelled:
        assert levelled.size == page.size and levelled.mode == page.mode
        assert skew.tilt(levelled, 300) == 0.0  # level now (within skew.MIN_SKEW_DEG)
