"""Page images → one image-only PDF (img2pdf: lossless, no re-encoding of JPEG or G4 data, keeps DPI).

Bilevel, greyscale and RGB images go to img2pdf as they are (every frame of a multi-page TIFF). Anything else is
converted frame by frame to an 8-bit PNG first, because a naive mode conversion silently destroys pages: Pillow's
16-bit → RGB clips every sample above 255 to white (a 16-bit scan became a blank page), and only the current frame
of a TIFF is converted (3 pages became 1). So: 16-bit, 32-bit and float samples are scaled from their own range
(:func:`pipeline.core.pixels.sample_range`), CMYK and other colour spaces converted to RGB, transparency
flattened onto white. An EXIF orientation (a phone photo) is applied to the pixels, not written as /Rotate: the
page is upright for OCR and for the visible stamp at its top right (which cannot be placed on a turned page).

Images without a usable resolution get ``DEFAULT_DPI`` (the archival minimum), so OCRmyPDF and readers see
the page at its physical size instead of img2pdf's 96 dpi guess. The rendition is then compared page by page
with these images (:mod:`pipeline.ocr.pagecheck`).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import img2pdf
import pikepdf
from PIL import Image, UnidentifiedImageError

from pipeline.core.limits import MAX_PAGE_PIXELS, MULTI_PAGE_IMAGE_FORMATS
from pipeline.core.pixels import DIRECT_MODES, to_eight_bit
from pipeline.ocr.pngpage import png_page
from pipeline.ocr.types import OcrError
from pipeline.tools import qpdf
from pipeline.tools.run import ToolError

MERGE_TIMEOUT_S = 600.0  # qpdf merging page PDFs: seconds even for a thousand pages
DEFAULT_DPI = 200
_MIN_SANE_DPI = 50
ORIENTATION = 0x0112
# EXIF orientation → the transposition that shows the image upright (as PIL.ImageOps.exif_transpose does).
_UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
            5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_90}


def _too_large(path: Path, pixels: int | None, max_pixels: int) -> OcrError:
    size = f"{round(pixels / 1e6, 1):g} megapixels" if pixels else "too many pixels"
    return OcrError(
        f"page image {path.name} is too large: {size} "
        f"(limit {round(max_pixels / 1e6, 1):g}): possible decompression bomb"
    )


def _check_size(path: Path, image: Image.Image, max_pixels: int) -> None:
    """Every frame's size against the limit, from the headers only (nothing decoded yet)."""
    for index in range(getattr(image, "n_frames", 1)):
        image.seek(index)
        if image.width * image.height > max_pixels:
            raise _too_large(path, image.width * image.height, max_pixels)
    image.seek(0)


@contextlib.contextmanager
def _quiet_bomb_warning() -> Iterator[None]:
    """Pillow warns above half its hard limit; ``max_pixels`` replaces that warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def _image_dpi(image: Image.Image) -> tuple[float, float] | None:
    """The image's resolution (x, y; fax TIFFs have 204 × 98), or None when missing or absurd."""
    dpi = image.info.get("dpi")
    if not dpi:
        return None
    x, y = float(dpi[0]), float(dpi[1] if len(dpi) > 1 else dpi[0])
    return (x, y) if min(x, y) >= _MIN_SANE_DPI else None


def page_frames(image: Image.Image) -> int:
    """How many pages an open image file holds (every frame of a TIFF; the first frame of anything else)."""
    return getattr(image, "n_frames", 1) if image.format in MULTI_PAGE_IMAGE_FORMATS else 1


def _orientation(image: Image.Image) -> int:
    if image.format == "PNG" and "exif" not in image.info:
        # Pillow decodes a whole PNG to look for an eXIf chunk after its pixels (0.1 s a 300-dpi A4 page); one
        # before them is read at open. A PNG with its orientation after the pixels is taken as upright.
        return 1
    try:
        return int(image.getexif().get(ORIENTATION, 1) or 1)
    except (ValueError, TypeError, OSError, SyntaxError):
        return 1


def _needs_conversion(image: Image.Image, frames: int) -> bool:
    if _orientation(image) != 1:
        return True
    for index in range(frames):
        image.seek(index)
        if image.mode not in DIRECT_MODES or "transparency" in image.info:
            image.seek(0)
            return True
    image.seek(0)
    return False


def _converted_frames(path: Path, image: Image.Image, frames: int, tmp_dir: Path, first: int
                      ) -> tuple[list[Path], list[str]]:
    """Each frame as an upright 8-bit PNG (its resolution kept); notes say what was done to which page."""
    turn = _UPRIGHT.get(_orientation(image))
    fallback = _image_dpi(image)
    written, notes = [], []
    for index in range(frames):
        image.seek(index)
        image.load()
        dpi = _image_dpi(image) or fallback
        page, change = to_eight_bit(image)
        if turn is not None:
            page = page.transpose(turn)
        out = tmp_dir / f"{path.stem}.{index + 1:05d}.png"
        page.save(out, "PNG", dpi=dpi or (DEFAULT_DPI, DEFAULT_DPI))
        written.append(out)
        if turn is not None:
            change = ", ".join(filter(None, [change, f"EXIF orientation {_orientation(image)} applied"]))
        if change:
            notes.append(f"page {first + index}: {change}")
        if dpi is None:
            notes.append(f"page {first + index}: no resolution in {path.name}, assumed {DEFAULT_DPI} dpi")
    return written, notes


def _direct(path: Path, image: Image.Image, frames: int, page: int) -> tuple[bytes, list[str]]:
    dpi = _image_dpi(image)
    if image.format == "PNG":  # its data copied (pngpage): img2pdf spent 0.3 s on a 300-dpi A4 page
        data = png_page(path, dpi or (DEFAULT_DPI, DEFAULT_DPI))
        if data is not None:
            return data, [] if dpi else [f"page {page}: no resolution in {path.name}, assumed {DEFAULT_DPI} dpi"]
    image.load()  # a broken image is refused here, with its name
    options: dict[str, object] = {"first_frame_only": frames == 1}
    notes = []
    if dpi is None:
        notes.append(f"page {page}: no resolution in {path.name}, assumed {DEFAULT_DPI} dpi")
        options["layout_fun"] = img2pdf.get_fixed_dpi_layout_fun((DEFAULT_DPI, DEFAULT_DPI))
    with _quiet_bomb_warning():
        return img2pdf.convert(str(path), **options), notes


def images_to_pdf(
    paths: list[Path], out: Path, tmp_dir: Path, *, max_pixels: int = MAX_PAGE_PIXELS
) -> tuple[Path, list[str]]:
    """Combine the page images into ``out`` (one page per TIFF frame, one per other image file); returns it
    and notes on what was adjusted. Raises OcrError for an unreadable image or one above ``max_pixels``."""
    pages = image_pages(paths, out, tmp_dir, max_pixels=max_pixels)
    return pages.pdf, pages.notes


# Files Tesseract reads as they are (Leptonica); a page from any other is taken from the PDF instead.
OCR_READABLE = frozenset({"PNG", "JPEG", "TIFF"})


@dataclass
class ImagePages:
    pdf: Path
    notes: list[str]
    files: list[Path | None]  # per page: a single-image file holding exactly its pixels (the input, or its
    # converted PNG), for OCR to read without taking it out of the PDF; None for a frame of a multi-page file


def image_pages(paths: list[Path], out: Path, tmp_dir: Path, *, max_pixels: int = MAX_PAGE_PIXELS) -> ImagePages:
    """:func:`images_to_pdf`, also naming each page's own image file."""
    if not paths:
        raise OcrError("no page images given")
    tmp_dir.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    parts: list[Path] = []
    files: list[Path | None] = []
    page = 1
    for index, path in enumerate(paths, start=1):
        try:
            with _quiet_bomb_warning(), Image.open(path) as image:
                _check_size(path, image, max_pixels)  # before decoding anything
                frames = page_frames(image)
                if _needs_conversion(image, frames):
                    pngs, done = _converted_frames(path, image, frames, tmp_dir, page)
                    data = img2pdf.convert([str(p) for p in pngs])
                    files += pngs
                else:
                    data, done = _direct(path, image, frames, page)
                    files += [path if image.format in OCR_READABLE else None] if frames == 1 else [None] * frames
        except Image.DecompressionBombError as exc:  # above Pillow's own hard limit
            match = re.search(r"\((\d+) pixels\)", str(exc))
            raise _too_large(path, int(match.group(1)) if match else None, max_pixels) from None
        except (OSError, UnidentifiedImageError, ValueError, EOFError, SyntaxError) as exc:
            raise OcrError(f"page image {path.name} is unreadable: {exc}") from exc
        except OcrError:
            raise
        except Exception as exc:  # img2pdf raises assorted types for bad images
            raise OcrError(f"page image {path.name} cannot be converted to PDF: {exc}") from exc
        notes += done
        page_pdf = tmp_dir / f"img{index:05d}.pdf"
        page_pdf.write_bytes(data)
        with pikepdf.open(page_pdf) as single:
            page += len(single.pages)
        parts.append(page_pdf)
    if len(parts) == 1:
        shutil.copyfile(parts[0], out)
    else:
        try:  # by qpdf, page by page from the files: memory stays flat however many pages
            qpdf.merge(parts, out, timeout=MERGE_TIMEOUT_S)
        except ToolError as exc:
            raise OcrError(str(exc)) from exc
    return ImagePages(out, notes, files if len(files) == page - 1 else [None] * (page - 1))
