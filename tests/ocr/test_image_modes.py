"""Page images in the modes scanners and phones write, converted without losing a page or its content:
16-bit and 12-bit greyscale, CMYK, G4 fax, multi-frame TIFFs, EXIF rotations (mirrored too), fax resolutions,
multi-frame files that are not multi-page (an animated PNG)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pikepdf
from PIL import Image

from pipeline.devtools.samples import hostile
from pipeline.ocr import check_pages
from pipeline.ocr.images import images_to_pdf


def _count(pdf: Path) -> int:
    with pikepdf.open(pdf) as opened:
        return len(opened.pages)


def _convert(tmp_path: Path, *files: Path, pages: int) -> tuple[Path, list[str]]:
    out, notes = images_to_pdf(list(files), tmp_path / "out.pdf", tmp_path / "tmp")
    check_pages(list(files), "images", out, pages, tmp_path / "check")  # every page there, none blanked
    return out, notes


def test_16_bit_tiff_keeps_every_frame_and_its_content(tmp_path: Path) -> None:
    tif = hostile.tiff_16bit(tmp_path / "page1.tif", frames=3)
    out, notes = _convert(tmp_path, tif, pages=3)
    assert notes == [f"page {n}: I;16 image (16-bit values) converted to 8-bit L" for n in (1, 2, 3)]
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 3
        image = pikepdf.PdfImage(next(iter(pdf.pages[0].get_images().values()))).as_pil_image()
    expected = np.asarray(hostile.scan_tones(hostile.page_image((*hostile.LINES[:2], "trang 1"))), dtype=np.int16)
    assert np.abs(np.asarray(image.convert("L"), dtype=np.int16) - expected).max() <= 1  # scaled, not clipped


def test_12_bit_samples_in_a_16_bit_file_are_not_a_dark_page(tmp_path: Path) -> None:
    page = np.asarray(hostile.page_image(), dtype=np.uint32) * 4095 // 255
    tif = tmp_path / "page1.tif"
    Image.fromarray(page.astype(np.uint16)).save(tif, dpi=(300, 300))
    out, notes = _convert(tmp_path, tif, pages=1)
    assert notes == ["page 1: I;16 image (12-bit values) converted to 8-bit L"]
    with pikepdf.open(out) as pdf:
        image = pikepdf.PdfImage(next(iter(pdf.pages[0].get_images().values()))).as_pil_image()
    assert np.asarray(image.convert("L")).max() == 255  # the paper is white, not 1/16 grey


def test_cmyk_g4_and_pages_from_several_files(tmp_path: Path) -> None:
    cmyk = hostile.tiff(tmp_path / "a" / "page1.tif", mode="CMYK")
    fax = hostile.tiff(tmp_path / "b" / "page2.tif", mode="1", frames=2, compression="group4")
    out, notes = _convert(tmp_path, cmyk, fax, pages=3)
    assert notes == ["page 1: CMYK image converted to 8-bit RGB"]
    with pikepdf.open(out) as pdf:
        images = [next(iter(p.get_images().values())) for p in pdf.pages]
        assert images[0].ColorSpace == "/DeviceRGB"
        assert [str(pikepdf.PdfImage(i).filters) for i in images[1:]] == ["['/CCITTFaxDecode']"] * 2  # G4 kept


def test_exif_rotation_is_applied_to_the_pixels(tmp_path: Path) -> None:
    jpeg = hostile.exif_rotated_jpeg(tmp_path / "page1.jpg")  # stored portrait, shown landscape
    out, notes = _convert(tmp_path, jpeg, pages=1)
    assert notes == ["page 1: EXIF orientation 6 applied"]
    with pikepdf.open(out) as pdf:
        page = pdf.pages[0]
        box = [float(v) for v in page.mediabox]
        assert "/Rotate" not in page.obj and box[2] - box[0] > box[3] - box[1]  # upright, no /Rotate to stamp on


def test_mirrored_exif_orientation_is_applied_to_the_pixels(tmp_path: Path) -> None:
    upright = hostile.page_image()
    exif = Image.Exif()
    exif[0x0112] = 2  # mirrored: img2pdf refuses it, so the pixels are turned here
    jpeg = tmp_path / "page1.jpg"
    upright.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(jpeg, quality=95, exif=exif, dpi=(200, 200))
    out, notes = _convert(tmp_path, jpeg, pages=1)
    assert notes == ["page 1: EXIF orientation 2 applied"]
    with pikepdf.open(out) as pdf:
        image = pikepdf.PdfImage(next(iter(pdf.pages[0].get_images().values()))).as_pil_image().convert("L")
    diff = np.abs(np.asarray(image, dtype=np.int16) - np.asarray(upright, dtype=np.int16))
    assert diff.mean() < 8  # upright again (a mirrored page differs on every text stroke)


def test_fax_resolution_gives_the_physical_page_size(tmp_path: Path) -> None:
    tif = tmp_path / "page1.tif"
    hostile.page_image(mode="1").save(tif, compression="group4", dpi=(204, 98))
    for name, source in (("direct", tif), ("converted", tmp_path / "page1-16.tif")):
        if name == "converted":
            hostile.to_16bit(hostile.page_image()).save(source, dpi=(204, 98))
        out, _ = images_to_pdf([source], tmp_path / f"{name}.pdf", tmp_path / name)
        with pikepdf.open(out) as pdf:
            box = [float(v) for v in pdf.pages[0].mediabox]
        assert round(box[2] - box[0]) == round(620 / 204 * 72) and round(box[3] - box[1]) == round(300 / 98 * 72)


def test_an_animated_png_is_one_page(tmp_path: Path) -> None:
    from pipeline.scan.images import inspect_images

    frames = [hostile.page_image().convert("RGB"), Image.new("RGB", (620, 300), "white")]
    png = tmp_path / "page1.png"
    frames[0].save(png, save_all=True, append_images=frames[1:], dpi=(200, 200))
    with Image.open(png) as opened:
        assert getattr(opened, "n_frames", 1) == 2
    assert inspect_images([png]).page_count == 1  # intake and conversion count pages by the same rule
    out, _ = _convert(tmp_path, png, pages=1)
    assert _count(out) == 1
