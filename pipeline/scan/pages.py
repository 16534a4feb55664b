"""The pages of a scanned input one at a time: looked at (separator codes, blank pages, resolution) and picked out
(the pages one document of a stream is made of, without its blank pages).

A page is an index into the pages of an input's files in order: every frame of a TIFF, the first of any other
image, every page of a PDF. Only one page is held at a time, so a stream of thousands of pages costs the memory
of one page. PDF pages are rendered at :data:`LOOK_DPI` (the separator sheet's QR modules are ≥ 0.8 mm, 3 pixels
there); page images are looked at as scanned.

Blank pages are measured with :func:`pipeline.core.pixels.ink` (the OCR stage's page check uses it too) on the
page reduced to :data:`BLANK_DPI`, a fixed physical resolution: dust (a 0.25 mm speck) averages out there, a pen
stroke (0.4 mm) does not, whatever the page's size. Measured (share of ink): blank pages with paper grain and dust
0-0.00002 (A6 and A4, 200 and 300 dpi); a lone page number 0.00005 (A4) to 0.0002 (A6); one 4 cm pen stroke
0.0003 (A4) to 0.0012 (A6); one short line of text 0.0005 (A4) to 0.002 (A6).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from pipeline.core.pdfium_lock import PDFIUM
from pipeline.core.pixels import image_frames, ink, to_eight_bit

LOOK_DPI = 100
MAX_LOOK_SIDE = 5000  # pixels: an A0 page at 100 dpi; a larger page is rendered smaller (never gigapixels)
BLANK_DPI = 50
ASSUMED_DPI = 200  # a page image that does not say its resolution (the archival minimum)


@dataclass
class PageView:
    index: int  # 0-based, over every page of the input's files
    image: Image.Image  # valid until the next page is asked for
    density: int  # the pixels per inch of ``image``: a PDF page as rendered, a page image's own (or ASSUMED_DPI)


def page_map(files: list[Path], kind: str) -> list[tuple[int, int]]:
    """(file index, frame or page index) of every page of the input, in order."""
    if kind == "pdf":
        with pikepdf.open(files[0]) as pdf:
            return [(0, n) for n in range(len(pdf.pages))]
    number = {path: f for f, path in enumerate(files)}
    return [(number[frame.path], frame.index) for frame in image_frames(files, load=False)]


def _image_dpi(image: Image.Image) -> int | None:
    info = image.info.get("dpi")
    return round(min(float(v) for v in info[:2])) if info and all(info[:2]) else None


def _pdf_page_dpi(page: pdfium.PdfPage) -> int | None:
    """The resolution of the page's largest image as placed on the page (None: no image)."""
    best: tuple[int, int | None] = (0, None)
    for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=3):
        meta = obj.get_metadata()
        pixels = int(meta.width) * int(meta.height)
        if pixels > best[0] and meta.horizontal_dpi > 0 and meta.vertical_dpi > 0:
            best = (pixels, round(min(meta.horizontal_dpi, meta.vertical_dpi)))
    return best[1]


def iter_pages(files: list[Path], kind: str) -> Iterator[PageView]:
    """Every page of the input, one at a time."""
    if kind == "pdf":
        with PDFIUM:  # held while the pages are looked at (pipeline.core.pdfium_lock)
            yield from _pdf_pages(files[0])
        return
    for index, frame in enumerate(image_frames(files)):
        yield PageView(index, frame.image, _image_dpi(frame.image) or ASSUMED_DPI)


def _pdf_pages(path: Path) -> Iterator[PageView]:
    pdf = pdfium.PdfDocument(path)
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                width, height = page.get_size()  # points; a hostile page may be metres wide
                scale = min(LOOK_DPI / 72, MAX_LOOK_SIDE / max(width, height, 1.0))
                image = page.render(scale=scale, grayscale=True).to_pil()
                yield PageView(index, image, round(scale * 72))
            finally:
                page.close()
    finally:
        pdf.close()


def blank_ink(view: PageView) -> float:
    """The page's ink at :data:`BLANK_DPI` (see the module's measurements)."""
    eight, _ = to_eight_bit(view.image)
    if eight.mode == "1":
        eight = eight.convert("L")
    scale = min(1.0, BLANK_DPI / max(view.density, 1))
    size = max(1, round(eight.width * scale)), max(1, round(eight.height * scale))
    return ink(np.asarray(eight.resize(size, Image.Resampling.BOX), dtype=np.float64) / 255.0)


def low_resolution(files: list[Path], kind: str, min_dpi: int) -> list[tuple[str, int]]:
    """(page, dpi) of every page scanned below ``min_dpi``, the page named as the archivist finds it ("page 3" of a
    PDF, the image's file name, "scan.tif page 3"); pages that do not say their resolution are not counted."""
    if min_dpi <= 0:
        return []
    found = []
    if kind == "pdf":
        with PDFIUM:
            pdf = pdfium.PdfDocument(files[0])
            try:
                for index in range(len(pdf)):
                    page = pdf[index]
                    dpi = _pdf_page_dpi(page)
                    page.close()
                    if dpi is not None and dpi < min_dpi:
                        found.append((f"page {index + 1}", dpi))
            finally:
                pdf.close()
        return found
    for frame in image_frames(files, load=False):
        dpi = _image_dpi(frame.image)
        if dpi is not None and dpi < min_dpi:
            found.append((frame.path.name if frame.count == 1 else f"{frame.path.name} page {frame.index + 1}", dpi))
    return found


# ---- picking pages out -------------------------------------------------------------------------------
def selection_id(whole_id: str, selection: list[int]) -> str:
    """The id of a document made of ``selection`` (0-based pages) of an input whose content id is ``whole_id``."""
    listed = ",".join(map(str, selection))
    return hashlib.sha256(f"archive-part-v1\n{whole_id}\n{listed}\n".encode()).hexdigest()


def select_pages(files: list[Path], kind: str, pages: list[int], folder: Path, name: str = "") -> list[Path]:
    """The input's ``pages`` (0-based, in order) as files of their own in ``folder``: a PDF of those pages (their
    objects copied as they are, nothing re-encoded), or the page images (whole single-page files as they are,
    frames of a multi-page TIFF written as lossless TIFFs of their own). ``name``: the PDF's file name."""
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "pdf":
        out = folder / (name or files[0].name)
        with pikepdf.open(files[0]) as source, pikepdf.new() as picked:
            for index in pages:
                picked.pages.append(source.pages[index])
            picked.save(out)
        return [out]
    where = page_map(files, kind)
    frames = {f: sum(1 for g, _ in where if g == f) for f in range(len(files))}
    chosen: list[Path] = []
    for index in pages:
        f, frame = where[index]
        if frames[f] == 1:
            chosen.append(files[f])
            continue
        out = folder / f"{files[f].stem}-p{frame + 1}.tif"
        with Image.open(files[f]) as image:
            image.seek(frame)
            image.load()
            compression = "group4" if image.mode == "1" else "tiff_deflate"
            image.save(out, format="TIFF", compression=compression, dpi=image.info.get("dpi", (200, 200)))
        chosen.append(out)
    return chosen
