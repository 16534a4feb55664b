"""Every page of a rendition checked against its input before it is archived: the same number of pages, and no
page blank where its input page is not.

Why: a conversion can fail silently. A 16-bit TIFF flattened by a naive mode conversion became a white page, and
a 3-frame TIFF one white page, both archived as valid PDF/A (the validators check structure, not content). So the
rendition's pages are rendered as small thumbnails (one ``pdftoppm`` run) and measured for ink; any blank one is
compared with its input page (the image frame read here with its own depth-aware scaling, or the original PDF's
page rendered the same way, from a qpdf-repaired copy if poppler cannot read the original). Cheap: a thumbnail is
400 pixels on its longer side.

Ink is measured by :func:`pipeline.core.pixels.ink` (the same measure intake uses to drop blank pages).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pikepdf
from PIL import Image

from pipeline.core.pixels import THUMB, frame_pixels, image_frames, ink
from pipeline.ocr.types import OcrError
from pipeline.tools import pdftoppm
from pipeline.tools.run import ToolError

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
    return {n: ink(frame_pixels(frame.image)) for n, frame in enumerate(image_frames(inputs), start=1) if n in wanted}


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
