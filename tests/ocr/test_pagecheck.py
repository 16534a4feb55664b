"""The page check: a rendition is compared with its input page by page (count, and no page blank where its input
page is not). The silent corruption it exists for: a 16-bit TIFF archived as a blank page, a 3-frame 16-bit TIFF
as one page; both passed every PDF/A check."""

from __future__ import annotations

from pathlib import Path

import img2pdf
import numpy as np
import pikepdf
import pytest
from PIL import Image

from pipeline.devtools.samples import hostile
from pipeline.ocr import PageMismatch, check_pages
from pipeline.ocr.images import images_to_pdf
from pipeline.ocr.pagecheck import CLEAR_INK, frame_pixels, ink


def _naive_rendition(tif: Path, out: Path, tmp: Path) -> Path:
    """What the OCR stage did before: frame 0 only, converted with Pillow's mode conversion (clips at 255)."""
    with Image.open(tif) as image:
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
    tmp.mkdir(parents=True, exist_ok=True)
    flat.save(tmp / "flat.png", dpi=(200, 200))
    out.write_bytes(img2pdf.convert(str(tmp / "flat.png")))
    return out


def test_a_blanked_16_bit_page_is_caught(tmp_path: Path) -> None:
    tif = hostile.tiff_16bit(tmp_path / "page1.tif")
    bad = _naive_rendition(tif, tmp_path / "bad.pdf", tmp_path / "tmp")
    with pytest.raises(PageMismatch, match=r"page\(s\) 1 of the PDF/A are blank but the input page\(s\) are not"):
        check_pages([tif], "images", bad, 1, tmp_path / "check")
    good, _ = images_to_pdf([tif], tmp_path / "good.pdf", tmp_path / "tmp2")
    result = check_pages([tif], "images", good, 1, tmp_path / "check2")
    assert result.blank == [] and result.ink[0] > CLEAR_INK and result.warnings() == []


def test_frames_lost_in_conversion_are_caught(tmp_path: Path) -> None:
    tif = hostile.tiff_16bit(tmp_path / "page1.tif", frames=3)
    bad = _naive_rendition(tif, tmp_path / "bad.pdf", tmp_path / "tmp")
    with pytest.raises(PageMismatch, match=r"the PDF/A has 1 page\(s\) but the input has 3"):
        check_pages([tif], "images", bad, 3, tmp_path / "check")
    good, _ = images_to_pdf([tif], tmp_path / "good.pdf", tmp_path / "tmp2")
    assert check_pages([tif], "images", good, 3, tmp_path / "check2").pages == 3


def test_blank_input_pages_are_counted_not_refused(tmp_path: Path) -> None:
    pages = [hostile.scan(tmp_path / "p1.png"), hostile.blank(tmp_path / "p2.png"), hostile.scan(tmp_path / "p3.png")]
    pdf, _ = images_to_pdf(pages, tmp_path / "out.pdf", tmp_path / "tmp")
    result = check_pages(pages, "images", pdf, 3, tmp_path / "check")
    assert result.blank == [2] and result.warnings() == ["1 blank page(s) of 3: 2"]


def test_a_pdf_page_emptied_by_a_rewrite_is_caught(tmp_path: Path) -> None:
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    source = make_born_digital_pdf(["Trang một của công văn."] + ["Đoạn văn dài để sang trang. " * 30] * 3,
                                   tmp_path / "in.pdf")
    with pikepdf.open(source) as pdf:
        count = len(pdf.pages)
        assert count >= 2
        pdf.pages[1].obj.Contents = pdf.make_stream(b"")
        pdf.save(tmp_path / "out.pdf")
    with pytest.raises(PageMismatch, match=r"page\(s\) 2 of the PDF/A are blank"):
        check_pages([source], "pdf", tmp_path / "out.pdf", count, tmp_path / "check")
    assert check_pages([source], "pdf", source, count, tmp_path / "check2").blank == []


@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB", "CMYK", "RGBA", "I;16", "I", "F", "12-bit"])
def test_ink_is_measured_in_every_image_mode(mode: str) -> None:
    page = hostile.page_image()
    if mode == "I;16":
        image = hostile.to_16bit(page)
    elif mode == "12-bit":  # a scanner's 12-bit samples in a 16-bit file
        image = Image.fromarray((np.asarray(page, dtype=np.uint32) * 4095 // 255).astype(np.uint16))
    elif mode == "I":
        image = Image.fromarray(np.asarray(page, dtype=np.int32) * 257, "I")
    elif mode == "F":
        image = Image.fromarray(np.asarray(page, dtype=np.float32) / 255.0)
    else:
        image = page.convert(mode)
    assert ink(frame_pixels(image)) > CLEAR_INK, mode
    white = Image.new(image.mode, image.size, image.getpixel((0, 0)))
    assert ink(frame_pixels(white)) == 0.0, mode


def test_transparent_pixels_count_as_paper() -> None:
    transparent = Image.new("RGBA", (300, 200), (0, 0, 0, 0))  # black, but fully transparent: a blank page
    assert ink(frame_pixels(transparent)) == 0.0


def test_colours_of_the_same_grey_are_ink() -> None:
    """Red on green of equal luminance: blank to a greyscale measure, content to this one (the real-world
    cmyk-jpeg.pdf, four colour blocks, was refused as blanked before the measure looked at colour)."""
    page = Image.new("RGB", (400, 300), (0, 150, 0))
    page.paste((255, 60, 60), (0, 0, 200, 300))
    assert abs(np.asarray(page.convert("L"), dtype=float).std()) < 30  # nearly one grey
    assert ink(frame_pixels(page)) > 0.4


def test_an_input_poppler_cannot_read_is_compared_through_its_repaired_copy(tmp_path: Path) -> None:
    source = Path(__file__).parents[1] / "corpus" / "realworld" / "cyclic-toc.pdf"  # trailer without /Size
    with pikepdf.open(source) as pdf:
        pdf.save(tmp_path / "rendition.pdf")
    result = check_pages([source], "pdf", tmp_path / "rendition.pdf", 1, tmp_path / "check")
    assert result.blank == [1]  # an empty page in both: counted, not refused
