"""Scanned page streams as a sheet-fed scanner writes them: separator sheets printed by `archive separator` and
rasterized by poppler, Vietnamese text pages, blank backs of single-sided sheets, all degraded like scans. Written
as one image-only PDF, one multi-page TIFF or a folder of page images. Shared by intake and ingest tests."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import img2pdf
import numpy as np
from PIL import Image

from pipeline.core.vocabulary import Classification
from pipeline.devtools.samples.render import render_page
from pipeline.scan.separator import SeparatorMeta
from pipeline.scan.separator_sheet import render_sheet

META = {
    "A": SeparatorMeta(doc_number="45/2020/QĐ-UBND", title="Quyết định ban hành quy chế lưu trữ điện tử",
                       doc_type="Quyết định", classification=Classification.MAT, dossier_code="G01.2020.05",
                       order_in_dossier=3),
    "B": SeparatorMeta(doc_number="12/TB-VP", title="Thông báo kết luận cuộc họp giao ban", doc_type="Thông báo"),
    "C": SeparatorMeta(doc_number="7/BC-SNV", title="Báo cáo tình hình số hóa tài liệu năm 2024",
                       doc_type="Báo cáo"),
}
TEXTS = [
    "ỦY BAN NHÂN DÂN TỈNH\nCăn cứ Luật Lưu trữ ngày 21 tháng 6 năm 2024; xét đề nghị của Giám đốc Sở Nội vụ.",
    "Điều 1. Ban hành kèm theo Quyết định này Quy chế lưu trữ tài liệu điện tử của cơ quan.",
    "Điều 2. Văn phòng chủ trì, phối hợp với các phòng chuyên môn tổ chức thực hiện.",
    "Thông báo kết luận của Chủ tịch tại cuộc họp giao ban tuần thứ nhất tháng Mười Một.",
    "Báo cáo tình hình số hóa tài liệu lưu trữ: đã số hóa 12.500 trang, đạt 85% kế hoạch năm.",
    "Phụ lục: danh mục hồ sơ đã số hóa và chuyển vào kho lưu trữ điện tử của tỉnh.",
]


def degrade(image: Image.Image, angle: float, seed: int, noise: float = 12.0) -> Image.Image:
    page = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    values = np.asarray(page.convert("L"), dtype=np.float32) * (200 / 255) + 30  # ink ~30, paper ~230
    values += np.random.default_rng(seed).normal(0, noise, values.shape)
    return Image.fromarray(np.clip(values, 0, 255).astype(np.uint8))


def sheet_image(name: str, folder: Path, dpi: int = 200, meta: SeparatorMeta | None = None) -> Image.Image:
    source = folder / f"sheet-{name}.pdf"
    source.write_bytes(render_sheet(meta or META[name]).pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "-singlefile", str(source),
                    str(folder / f"sheet-{name}")], check=True, timeout=60)
    with Image.open(folder / f"sheet-{name}.png") as image:
        return image.convert("L")


def blank_page(seed: int, dpi: int = 200) -> Image.Image:
    """The back of a single-sided sheet: paper grain and a few specks of dust, nothing written."""
    width, height = round(105 / 25.4 * dpi), round(148 / 25.4 * dpi)
    values = np.random.default_rng(seed).normal(230, 10, (height, width))
    for y, x in np.random.default_rng(seed + 1).integers(0, min(width, height) - 3, (20, 2)):
        values[y:y + 2, x:x + 2] = 40
    return Image.fromarray(np.clip(values, 0, 255).astype(np.uint8))


def stream_pages(layout: str, folder: Path, dpi: int = 200) -> list[Image.Image]:
    """One page per letter: A/B/C a separator sheet (A4), p the next text page (A6), _ a blank page."""
    folder.mkdir(parents=True, exist_ok=True)
    pages, text = [], 0
    for number, kind in enumerate(layout):
        if kind == "p":
            pages.append(degrade(render_page(TEXTS[text % len(TEXTS)], dpi=dpi), 0.6, number))
            text += 1
        elif kind == "_":
            pages.append(blank_page(number, dpi))
        else:
            pages.append(degrade(sheet_image(kind, folder), 1.5 if number % 2 else -1.5, number))
    return pages


def write_stream(layout: str, out: Path, form: str, dpi: int = 200) -> Path:
    """The stream as ``form``: "pdf" (img2pdf, one page image per page), "tiff" (one multi-page TIFF) or
    "folder" (page01.png …). Returns the file or folder written."""
    work = Path(tempfile.mkdtemp(prefix="stream-"))  # never inside the batch: intake would read it
    pages = stream_pages(layout, work, dpi)
    if form == "tiff":
        pages[0].save(out, format="TIFF", save_all=True, append_images=pages[1:], compression="tiff_deflate",
                      dpi=(dpi, dpi))
        return out
    if form == "folder":
        out.mkdir(parents=True)
        for number, page in enumerate(pages, start=1):
            page.save(out / f"page{number:02d}.png", dpi=(dpi, dpi))
        return out
    files = []
    for number, page in enumerate(pages, start=1):
        files.append(work / f"p{number}.png")
        page.save(files[-1], dpi=(dpi, dpi))
    out.write_bytes(img2pdf.convert([str(f) for f in files]))
    return out
