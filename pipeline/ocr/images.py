"""Page images → one image-only PDF (img2pdf: lossless, no re-encoding of JPEG, keeps DPI).

Images without a usable resolution get ``DEFAULT_DPI`` (the archival minimum), so OCRmyPDF and
readers see the page at its physical size instead of img2pdf's 96 dpi guess.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import img2pdf
import pikepdf
from PIL import Image, UnidentifiedImageError

from pipeline.core.limits import MAX_PAGE_PIXELS
from pipeline.ocr.types import OcrError

DEFAULT_DPI = 200
_MIN_SANE_DPI = 50


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


def _image_dpi(image: Image.Image) -> float | None:
    dpi = image.info.get("dpi")
    if not dpi:
        return None
    x = float(dpi[0])
    return x if x >= _MIN_SANE_DPI else None


def _normalised_copy(path: Path, image: Image.Image, tmp_dir: Path) -> Path:
    """Flatten alpha / odd modes onto white: img2pdf refuses transparency, PDF/A dislikes it."""
    rgb = Image.new("RGB", image.size, "white")
    rgb.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
    out = tmp_dir / f"{path.stem}.flat.png"
    rgb.save(out, "PNG", dpi=(_image_dpi(image) or DEFAULT_DPI,) * 2)
    return out


def images_to_pdf(
    paths: list[Path], out: Path, tmp_dir: Path, *, max_pixels: int = MAX_PAGE_PIXELS
) -> tuple[Path, list[str]]:
    """Combine the page images into ``out``; returns it and notes on what was adjusted.
    Raises OcrError for an unreadable image or one above ``max_pixels``."""
    if not paths:
        raise OcrError("no page images given")
    tmp_dir.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    merged = pikepdf.new()
    for index, path in enumerate(paths, start=1):
        try:
            with _quiet_bomb_warning(), Image.open(path) as image:
                _check_size(path, image, max_pixels)  # before decoding anything
                image.load()
                source = path
                if image.mode in {"RGBA", "LA", "P", "PA", "I;16", "I", "F", "CMYK"} or "transparency" in image.info:
                    source = _normalised_copy(path, image, tmp_dir)
                    notes.append(f"page {index}: flattened {image.mode} image to RGB")
                dpi = _image_dpi(image)
        except Image.DecompressionBombError as exc:  # above Pillow's own hard limit
            match = re.search(r"\((\d+) pixels\)", str(exc))
            raise _too_large(path, int(match.group(1)) if match else None, max_pixels) from None
        except (OSError, UnidentifiedImageError, ValueError, EOFError) as exc:
            raise OcrError(f"page image {path.name} is unreadable: {exc}") from exc
        if dpi is None:
            notes.append(f"page {index}: no resolution in {path.name}, assumed {DEFAULT_DPI} dpi")
            layout = img2pdf.get_fixed_dpi_layout_fun((DEFAULT_DPI, DEFAULT_DPI))
        else:
            layout = None
        try:
            with _quiet_bomb_warning():
                data = img2pdf.convert(str(source), layout_fun=layout) if layout else img2pdf.convert(str(source))
        except Exception as exc:  # img2pdf raises assorted types for bad images
            raise OcrError(f"page image {path.name} cannot be converted to PDF: {exc}") from exc
        page_pdf = tmp_dir / f"img{index:05d}.pdf"
        page_pdf.write_bytes(data)
        with pikepdf.open(page_pdf) as single:
            merged.pages.extend(single.pages)
    merged.save(out)
    return out, notes
