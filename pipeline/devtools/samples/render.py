"""Render Vietnamese text as degraded page images that look like office scans.

Deterministic for a given seed (all randomness comes from one ``random.Random``), so tests can compare
OCR output against the known text. Pages are A6-sized by default to keep OCR fast.
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from pipeline.core.record import nfc
from pipeline.devtools.samples.fonts import vietnamese_font

PAGE_MM = (105.0, 148.0)  # A6 portrait: small pages keep OCR around a second per page
MARGIN_MM = 9.0
FONT_PT = 10.5
_FORMATS = {"png": "PNG", "tiff": "TIFF", "tif": "TIFF", "jpeg": "JPEG", "jpg": "JPEG"}


def _px(mm: float, dpi: int) -> int:
    return round(mm / 25.4 * dpi)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy word wrap; each input line is a paragraph."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            trial = f"{current} {word}".strip()
            if current and font.getlength(trial) > width:
                lines.append(current)
                current = word
            else:
                current = trial
        lines.append(current)
    return lines


def _layout(
    text: str, font_path: Path, bold_path: Path, size: int, width: int, height: int, margin: int
) -> list[tuple[float, int, str, ImageFont.FreeTypeFont]] | None:
    """Positions of every line at this font size, or None if the text does not fit the page."""
    font = ImageFont.truetype(str(font_path), size)
    bold = ImageFont.truetype(str(bold_path), size) if bold_path.is_file() else font
    placed: list[tuple[float, int, str, ImageFont.FreeTypeFont]] = []
    y = margin
    line_height = round(size * 1.45)
    for index, paragraph in enumerate(nfc(text).split("\n")):
        face = bold if index == 0 else font  # first line is the heading, centred and bold
        for line in _wrap(paragraph, face, width - 2 * margin):
            if y + line_height > height - margin:
                return None
            x = (width - face.getlength(line)) / 2 if index == 0 else margin
            placed.append((x, y, line, face))
            y += line_height
        y += line_height // 3
    return placed


def render_page(
    text: str, *, dpi: int = 200, rotate_deg: float = 0.0, noise: float = 0.03, seed: int = 0
) -> Image.Image:
    """One greyscale page image of ``text`` (NFC), degraded like a scan.

    The font shrinks (down to 6 pt) when the text would not fit; longer texts raise ValueError.
    """
    rng = random.Random(seed)
    width, height = _px(PAGE_MM[0], dpi), _px(PAGE_MM[1], dpi)
    margin = _px(MARGIN_MM, dpi)
    font_path = vietnamese_font()
    bold_path = font_path.with_name(font_path.name.replace("Sans.ttf", "Sans-Bold.ttf"))
    points = FONT_PT
    while (placed := _layout(text, font_path, bold_path, round(points / 72 * dpi), width, height, margin)) is None:
        points -= 0.5
        if points < 6:
            raise ValueError("text does not fit on one page; split it into more pages")
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    for x, y, line, face in placed:
        draw.text((x, y), line, font=face, fill=0)
    return _degrade(page, rng, rotate_deg=rotate_deg, noise=noise)


def _degrade(page: Image.Image, rng: random.Random, *, rotate_deg: float, noise: float) -> Image.Image:
    """Skew, soften, grey the paper, add grain and speckle: what a cheap office scanner does."""
    if rotate_deg:
        page = page.rotate(rotate_deg, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
    page = page.filter(ImageFilter.GaussianBlur(0.6))
    page = page.point(lambda v: 38 + v * (226 - 38) // 255)  # ink ~38, paper ~226
    size = page.size
    grain = Image.frombytes("L", size, rng.randbytes(size[0] * size[1])).point(lambda v: v // 16)
    page = ImageChops.add(page, grain, scale=1.0, offset=-8)
    if noise > 0:
        # noise=0.03 speckles ~0.4% of the pixels: visibly dirty, still legible to Tesseract.
        cut = max(1, min(255, round(noise / 8 * 256)))
        mask = Image.frombytes("L", size, rng.randbytes(size[0] * size[1])).point(lambda v: 255 if v < cut else 0)
        speckle = Image.new("L", size, 110)
        page = Image.composite(speckle, page, mask)
    return page


def render_scanned_pages(
    texts: list[str],
    out_dir: Path,
    *,
    dpi: int = 200,
    rotate_deg: float = 0.0,
    noise: float = 0.03,
    seed: int = 0,
    fmt: str = "png",
) -> list[Path]:
    """Write ``page1.<fmt>``, ``page2.<fmt>``, … (greyscale A6 scans) into ``out_dir``, in page order.

    Odd pages are skewed by ``rotate_deg``, even pages by ``-0.8 × rotate_deg`` (a stack of scans is
    never uniformly skewed). ``noise`` is the speckle strength: 0.03 dirties about 0.4% of the pixels.
    """
    fmt = fmt.lower()
    if fmt not in _FORMATS:
        raise ValueError(f"unsupported image format {fmt!r}; use png, tiff or jpeg")
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for number, text in enumerate(texts, start=1):
        angle = rotate_deg if number % 2 else -rotate_deg * 0.8
        image = render_page(text, dpi=dpi, rotate_deg=angle, noise=noise, seed=seed * 1000 + number)
        path = out_dir / f"page{number}.{fmt}"
        options: dict[str, object] = {"dpi": (dpi, dpi)}
        if _FORMATS[fmt] == "JPEG":
            options["quality"] = 88
        elif _FORMATS[fmt] == "TIFF":
            options["compression"] = "tiff_lzw"
        image.save(path, _FORMATS[fmt], **options)
        paths.append(path)
    return paths
