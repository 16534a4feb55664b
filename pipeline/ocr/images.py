"""Page images → one image-only PDF (img2pdf: lossless, no re-encoding of JPEG, keeps DPI).

Images without a usable resolution get ``DEFAULT_DPI`` (the archival minimum), so OCRmyPDF and
readers see the page at its physical size instead of img2pdf's 96 dpi guess.
"""

from __future__ import annotations

from pathlib import Path

import img2pdf
import pikepdf
from PIL import Image, UnidentifiedImageError

from pipeline.ocr.types import OcrError

DEFAULT_DPI = 200
_MIN_SANE_DPI = 50


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


def images_to_pdf(paths: list[Path], out: Path, tmp_dir: Path) -> tuple[Path, list[str]]:
    """Combine the page images into ``out``; returns it and notes on what was adjusted."""
    if not paths:
        raise OcrError("no page images given")
    tmp_dir.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    merged = pikepdf.new()
    for index, path in enumerate(paths, start=1):
        try:
            with Image.open(path) as image:
                image.load()
                source = path
                if image.mode in {"RGBA", "LA", "P", "PA", "I;16", "I", "F", "CMYK"} or "transparency" in image.info:
                    source = _normalised_copy(path, image, tmp_dir)
                    notes.append(f"page {index}: flattened {image.mode} image to RGB")
                dpi = _image_dpi(image)
        except (OSError, UnidentifiedImageError, ValueError) as exc:
            raise OcrError(f"page image {path.name} is unreadable: {exc}") from exc
        if dpi is None:
            notes.append(f"page {index}: no resolution in {path.name}, assumed {DEFAULT_DPI} dpi")
            layout = img2pdf.get_fixed_dpi_layout_fun((DEFAULT_DPI, DEFAULT_DPI))
        else:
            layout = None
        try:
            data = img2pdf.convert(str(source), layout_fun=layout) if layout else img2pdf.convert(str(source))
        except Exception as exc:  # img2pdf raises assorted types for bad images
            raise OcrError(f"page image {path.name} cannot be converted to PDF: {exc}") from exc
        page_pdf = tmp_dir / f"img{index:05d}.pdf"
        page_pdf.write_bytes(data)
        with pikepdf.open(page_pdf) as single:
            merged.pages.extend(single.pages)
    merged.save(out)
    return out, notes
