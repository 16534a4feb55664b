"""Page images of a scanned document: validate them and count pages (multi-frame TIFF counts frames). Their
resolution is checked against ``scan.min_dpi`` when the document is processed (pipeline.app.selection)."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from pipeline.core.limits import MAX_PAGE_PIXELS, MULTI_PAGE_IMAGE_FORMATS
from pipeline.scan.origin import UnreadableInput

IMAGE_SUFFIXES = {".png", ".tif", ".tiff", ".jpg", ".jpeg"}


class ImageTooLarge(UnreadableInput):
    """A page image with more pixels than the limit (possibly a decompression bomb)."""


@dataclass
class ImageInspection:
    page_count: int
    dpi: list[int | None] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _too_large(name: str, pixels: int | None, limit: int) -> ImageTooLarge:
    size = f"{round(pixels / 1e6, 1):g} megapixels" if pixels else "too many pixels"
    return ImageTooLarge(
        f"{name}: page image is too large: {size} (limit {round(limit / 1e6, 1):g}): possible decompression bomb"
    )


def _pillow_pixels(exc: Exception) -> int | None:
    """The pixel count in Pillow's DecompressionBombError message, if it says one."""
    match = re.search(r"\((\d+) pixels\)", str(exc))
    return int(match.group(1)) if match else None


def _inspect_one(path: Path, max_pixels: int) -> tuple[int, int | None]:
    """(pages, dpi) of one image file: every frame of a TIFF is a page, only the first of any other format (an MPO
    photo's preview, an animated PNG); the size of every frame is checked before any decoding. The dpi is the
    lower of the two axes (a fax's 204 × 98)."""
    if path.stat().st_size == 0:
        raise UnreadableInput(f"{path.name}: empty file (0 bytes)")
    with warnings.catch_warnings():
        # Pillow warns above half its hard limit; our own limit below replaces that warning.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as img:
                for index in range(getattr(img, "n_frames", 1)):
                    img.seek(index)
                    if img.width * img.height > max_pixels:
                        raise _too_large(path.name, img.width * img.height, max_pixels)
                frames = getattr(img, "n_frames", 1) if img.format in MULTI_PAGE_IMAGE_FORMATS else 1
            with Image.open(path) as img:
                img.verify()
            with Image.open(path) as img:
                for index in reversed(range(frames)):  # every page decodes (a damaged third frame is found here)
                    img.seek(index)
                    img.load()
                dpi_info = img.info.get("dpi")
        except Image.DecompressionBombError as exc:
            raise _too_large(path.name, _pillow_pixels(exc), max_pixels) from None
        except FileNotFoundError:
            raise  # vanished: the batch planner reports it as such, not as a damaged image
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            detail = str(exc).replace(str(path), path.name)  # never the server's folders in a reason
            raise UnreadableInput(f"{path.name}: unreadable image ({detail})") from None
    dpi = round(min(float(v) for v in dpi_info[:2])) if dpi_info and all(dpi_info[:2]) else None
    return frames, dpi


def inspect_images(files: list[Path], *, max_pixels: int = MAX_PAGE_PIXELS) -> ImageInspection:
    """Open every page image, refuse unreadable or oversized ones (UnreadableInput / ImageTooLarge)."""
    result = ImageInspection(page_count=0)
    for path in files:
        frames, dpi = _inspect_one(path, max_pixels)
        result.page_count += frames
        result.dpi.append(dpi)
    return result
