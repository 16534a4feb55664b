"""Every page of a rendition checked against its input before it is archived: the same number of pages, and no
page blank where its input page is not.

Why: a conversion can fail silently. A 16-bit TIFF flattened by a naive mode conversion became a white page, and
a 3-frame TIFF one white page, both archived as valid PDF/A (the validators check structure, not content). So the
rendition's pages are rendered as small thumbnails (one ``pdftoppm`` run) and measured for ink; any blank one is
compared with its input page (the image frame read here with its own depth-aware scaling, or the original PDF's
page rendered the same way, from a qpdf-repaired copy if poppler cannot read the original). Cheap: a thumbnail is
400 pixels on its longer side.

Ink is the share of thumbnail pixels that differ from the page's background (the median of each colour channel)
by more than :data:`DEVIATION` in some channel: paper grain and scanner noise average out in a thumbnail, text and
lines do not, a white-on-black page counts like a black-on-white one, and colours of equal grey (red on green)
still differ. (Measured on the real-world corpus: a greyscale measure saw a four-colour page as blank.)
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pikepdf
from PIL import Image

from pipeline.core.limits import MULTI_PAGE_IMAGE_FORMATS
from pipeline.ocr.types import OcrError
from pipeline.tools import pdftoppm
from pipeline.tools.run import ToolError

THUMB = 400  # pixels on the longer side
DEVIATION = 0.2  # how far from the background (0..1) a thumbnail pixel must be to count as ink
BLANK_INK = 0.001  # below this share of ink pixels a page is blank
# A rendition page is "lost" only when its input page clearly has ink (twice the blank level) and the rendition
# page has less than a quarter of it: borderline pages never quarantine a good document over rendering noise.
CLEAR_INK = 2 * BLANK_INK
LOST_RATIO = 0.25


class PageMismatch(OcrError):
    """The rendition does not show what its input shows (pages missing, added or blanked): never archived."""


@dataclass
class PageCheck:
    pages: int
    blank: list[int] = field(default_factory=list)  # 1-based pages blank in the rendition and in the input
    ink: list[float] = field(default_factory=list)  # per rendition page

    def warnings(self) -> list[str]:
        if not self.blank:
            return []
        listed = ", ".join(map(str, self.blank[:20])) + (" …" if len(self.blank) > 20 else "")
        return [f"{len(self.blank)} blank page(s) of {self.pages}: {listed}"]


def ink(pixels: np.ndarray) -> float:
    """Share of pixels of a thumbnail (height × width × channels, or height × width; values 0..1) that stand out
    from its background."""
    if pixels.size == 0:
        return 0.0
    layers = pixels.reshape(pixels.shape[0], pixels.shape[1], -1)
    background = np.median(layers.reshape(-1, layers.shape[2]), axis=0)
    outstanding = (np.abs(layers - background) > DEVIATION).any(axis=2)
    return float(np.count_nonzero(outstanding)) / outstanding.size


def _thumb_size(size: tuple[int, int]) -> tuple[int, int]:
    scale = min(1.0, THUMB / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def sample_range(mode: str, top: float) -> float:
    """The full scale of a frame's samples from its largest value: 1 for float samples in 0..1, else the smallest
    of 8, 12 (scanners' 12-bit data in 16-bit files) or 16 bits that holds it."""
    if mode == "F" and top <= 1.0:
        return 1.0
    return next((float(full) for full in (255, 4095, 65535) if top <= full), max(top, 1.0))


def frame_pixels(frame: Image.Image) -> np.ndarray:
    """A frame of any mode as a thumbnail, values 0..1 (grey or RGB), transparency on white, 16-bit and float
    samples scaled from their own range (not clipped at 255 as a plain 8-bit conversion does)."""
    mode = frame.mode
    if mode == "1" or (mode == "P" and "transparency" not in frame.info):
        frame = frame.convert("RGB" if mode == "P" else "L")
    elif mode in ("RGBA", "LA", "PA", "P", "RGBa", "La") or "transparency" in frame.info:
        rgba = frame.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        frame = Image.alpha_composite(white, rgba).convert("RGB")
    small = frame.resize(_thumb_size(frame.size), Image.Resampling.BOX)
    if mode.startswith("I;16") or mode in ("I", "F"):
        values = np.asarray(small, dtype=np.float64)
        return np.clip(values / sample_range(mode, float(values.max(initial=0.0))), 0.0, 1.0)
    if small.mode not in ("L", "RGB"):
        small = small.convert("RGB")  # CMYK, YCbCr, LAB …
    return np.asarray(small, dtype=np.float64) / 255.0


def _image_frames(paths: list[Path]) -> Iterator[Image.Image]:
    """Every page of the page images in order: all frames of a TIFF, the first of anything else."""
    for path in paths:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                frames = getattr(image, "n_frames", 1) if image.format in MULTI_PAGE_IMAGE_FORMATS else 1
                for index in range(frames):
                    image.seek(index)
                    image.load()
                    yield image


def rendered_ink(pdf: Path, scratch: Path, timeout: float, first: int = 1, last: int | None = None) -> list[float]:
    """Ink of pages ``first``..``last`` of ``pdf``, from thumbnails rendered by pdftoppm (ToolError if it fails)."""
    folder = scratch / f"{pdf.stem}-{first}"
    shutil.rmtree(folder, ignore_errors=True)
    try:
        thumbs = pdftoppm.render_thumbnails(pdf, folder, long_side=THUMB, first=first, last=last, timeout=timeout)
        values = []
        for thumb in thumbs:
            with Image.open(thumb) as image:
                values.append(ink(np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0))
        return values
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _input_ink(inputs: list[Path], kind: str, pages: list[int], scratch: Path, timeout: float) -> dict[int, float]:
    """Ink of the input's ``pages`` (1-based): image frames measured here, PDF pages rendered like the output."""
    if kind == "pdf":
        first, last = min(pages), max(pages)
        try:
            values = rendered_ink(inputs[0], scratch, timeout, first=first, last=last)
        except ToolError:  # poppler cannot read the original (a broken trailer): qpdf's repaired copy
            repaired = scratch / "input-repaired.pdf"
            with pikepdf.open(inputs[0]) as pdf:
                pdf.save(repaired)
            values = rendered_ink(repaired, scratch, timeout, first=first, last=last)
        return {n: values[n - first] for n in pages if n - first < len(values)}
    wanted = set(pages)
    return {n: ink(frame_pixels(frame)) for n, frame in enumerate(_image_frames(inputs), start=1) if n in wanted}


def _page_count(pdf: Path) -> int:
    with pikepdf.open(pdf) as opened:
        return len(opened.pages)


def check_pages(inputs: list[Path], kind: str, output: Path, expected_pages: int, scratch: Path,
                timeout: float = 300.0) -> PageCheck:
    """Compare the rendition ``output`` with its inputs (page images, or one PDF); ``expected_pages`` is the
    count intake made. Raises PageMismatch with a one-line reason; returns the blank pages found otherwise."""
    count = _page_count(output)
    if count != expected_pages:
        raise PageMismatch(f"page check: the PDF/A has {count} page(s) but the input has {expected_pages}; "
                           "pages were lost or added in conversion, so it is not archived")
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        out_ink = rendered_ink(output, scratch, timeout + count)
    except ToolError as exc:
        raise OcrError(f"page check: the PDF/A cannot be rendered: {exc}") from exc
    if len(out_ink) != count:
        raise PageMismatch(f"page check: only {len(out_ink)} of the PDF/A's {count} pages could be rendered")
    blank = [n for n, value in enumerate(out_ink, start=1) if value < BLANK_INK]
    if not blank:
        return PageCheck(count, [], out_ink)
    try:
        in_ink = _input_ink(inputs, kind, blank, scratch, timeout)
    except (ToolError, OSError, ValueError, pikepdf.PdfError) as exc:
        raise OcrError(f"page check: the input pages cannot be read again: {exc}") from exc
    lost = [n for n in blank if in_ink.get(n, 0.0) >= CLEAR_INK and out_ink[n - 1] < in_ink[n] * LOST_RATIO]
    if lost:
        shown = ", ".join(map(str, lost[:10])) + (" …" if len(lost) > 10 else "")
        raise PageMismatch(f"page check: page(s) {shown} of the PDF/A are blank but the input page(s) are not; "
                           "the conversion lost their content, so it is not archived")
    return PageCheck(count, blank, out_ink)
