"""A plain PNG copied into a PDF page as it is (pipeline/ocr/pngpage.py): the page shows exactly the PNG's pixels
at its resolution; any other PNG is left to img2pdf; a damaged one is refused."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image

from pipeline.ocr.images import images_to_pdf
from pipeline.ocr.pngpage import png_page
from pipeline.ocr.types import OcrError


def _noise(mode: str, size: tuple[int, int] = (301, 157)) -> Image.Image:
    rng = np.random.default_rng(7)
    if mode == "1":
        return Image.fromarray(rng.integers(0, 2, size[::-1], dtype=np.uint8) * 255).convert("1")
    shape = size[::-1] + ((3,) if mode == "RGB" else ())
    return Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)


@pytest.mark.parametrize("mode", ["L", "RGB", "1"])
def test_the_page_shows_the_pngs_pixels_at_its_resolution(mode: str, tmp_path: Path) -> None:
    source = tmp_path / f"{mode}.png"
    _noise(mode).save(source, dpi=(200, 200))
    data = png_page(source, (200.0, 200.0))
    assert data is not None
    with pikepdf.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[0]
        assert [round(float(v), 2) for v in page.mediabox] == [0, 0, round(301 * 72 / 200, 2), round(157 * 72 / 200, 2)]
        (image,) = page.get_images().values()
        shown = pikepdf.PdfImage(image).as_pil_image()
    with Image.open(source) as original:
        assert np.array_equal(np.asarray(shown.convert("L" if mode != "RGB" else "RGB")),
                              np.asarray(original.convert("L" if mode != "RGB" else "RGB")))


def test_other_pngs_are_left_to_img2pdf(tmp_path: Path) -> None:
    palette = tmp_path / "p.png"
    _noise("L").convert("P").save(palette)
    alpha = tmp_path / "a.png"
    _noise("L").convert("LA").save(alpha)
    profiled = tmp_path / "icc.png"
    _noise("RGB").save(profiled, icc_profile=b"\0" * 200)
    assert png_page(palette, (300, 300)) is None
    assert png_page(alpha, (300, 300)) is None
    assert png_page(profiled, (300, 300)) is None


def test_a_damaged_png_is_refused_with_its_name(tmp_path: Path) -> None:
    good = tmp_path / "trang.png"
    _noise("L").save(good, dpi=(300, 300))
    data = bytearray(good.read_bytes())
    data[60] ^= 0xFF  # inside the first IDAT chunk: its CRC no longer matches
    bad = tmp_path / "hong.png"
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="damaged"):
        png_page(bad, (300, 300))
    with pytest.raises(OcrError, match=r"hong\.png is unreadable"):
        images_to_pdf([bad], tmp_path / "out.pdf", tmp_path / "tmp")
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(good.read_bytes()[:-30])
    with pytest.raises(OcrError, match=r"cut\.png is unreadable"):
        images_to_pdf([truncated], tmp_path / "out2.pdf", tmp_path / "tmp")
