"""Page images of a scanned document: validate them and count pages (multi-frame TIFF counts frames)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from pipeline.scan.origin import UnreadableInput

IMAGE_SUFFIXES = {".png", ".tif", ".tiff", ".jpg", ".jpeg"}
MIN_DPI = 200  # Circular 05/2025/TT-BNV: digitized copies at least 200 dpi


@dataclass
class ImageInspection:
    page_count: int
    dpi: list[int | None] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def inspect_images(files: list[Path]) -> ImageInspection:
    result = ImageInspection(page_count=0)
    for path in files:
        try:
            with Image.open(path) as img:
                img.verify()
            with Image.open(path) as img:
                frames = getattr(img, "n_frames", 1)
                img.load()
                dpi_info = img.info.get("dpi")
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise UnreadableInput(f"{path.name}: unreadable image ({exc})") from None
        dpi = round(float(dpi_info[0])) if dpi_info and dpi_info[0] else None
        if dpi is not None and dpi < MIN_DPI:
            result.warnings.append(f"{path.name}: {dpi} dpi is below the {MIN_DPI} dpi minimum")
        result.page_count += frames
        result.dpi.append(dpi)
    return result
