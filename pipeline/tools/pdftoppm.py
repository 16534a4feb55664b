"""Poppler's ``pdftoppm``: one page of a PDF as a PNG image, for the web pages' page view (the browser shows an
image the server rendered, so no PDF reader or script runs in the page)."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.tools.run import ToolError, first_line, run

PDFTOPPM_TIMEOUT_S = 60.0
DEFAULT_DPI = 110  # a readable A4 page on a screen (about 910 × 1290 pixels)
MAX_PIXELS = 2000  # the longer side at most (-scale-to): a page with a huge MediaBox cannot take gigabytes


def capped_dpi(pdf: Path, page: int, dpi: int) -> int:
    """``dpi``, lowered so that the page's longer side stays within :data:`MAX_PIXELS` (pdfinfo reads the size;
    an unreadable size keeps ``dpi`` and lets pdftoppm report the problem)."""
    done = run(["pdfinfo", "-f", str(page), "-l", str(page), str(pdf)], timeout=PDFTOPPM_TIMEOUT_S)
    found = re.search(r"^Page\s+\d+\s+size:\s+([\d.]+)\s+x\s+([\d.]+)\s+pts", done.stdout, re.MULTILINE)
    if done.returncode != 0 or found is None:
        return dpi
    longest = max(float(found.group(1)), float(found.group(2)))
    return max(18, min(dpi, int(MAX_PIXELS * 72 / longest))) if longest > 0 else dpi


def render_page_png(pdf: Path, page: int, out_dir: Path, *, dpi: int = DEFAULT_DPI,
                    timeout: float = PDFTOPPM_TIMEOUT_S) -> Path:
    """Render page ``page`` (1-based) of ``pdf`` at ``dpi`` into ``out_dir``; the PNG's path. Raises ToolError
    when pdftoppm is missing, fails (e.g. no such page), times out or writes nothing."""
    if page < 1 or not 18 <= dpi <= 600:
        raise ToolError(f"pdftoppm: page {page} at {dpi} dpi is out of range")
    prefix = Path(out_dir) / "page"
    resolution = capped_dpi(pdf, page, dpi)
    done = run(["pdftoppm", "-f", str(page), "-l", str(page), "-r", str(resolution), "-png", "-singlefile", str(pdf),
                str(prefix)], timeout=timeout)
    out = prefix.with_suffix(".png")
    if done.returncode != 0 or not out.is_file():
        raise ToolError(f"pdftoppm failed on page {page} of {Path(pdf).name}: {first_line(done.stderr)}")
    return out


def render_thumbnails(pdf: Path, out_dir: Path, *, long_side: int = 400, first: int = 1, last: int | None = None,
                      timeout: float = PDFTOPPM_TIMEOUT_S) -> list[Path]:
    """Pages ``first``..``last`` (1-based, inclusive; ``last`` None: to the end) of ``pdf`` as PPM images whose
    longer side is ``long_side`` pixels, in page order; one pdftoppm run for all of them, so a thousand-page
    document costs one process. Raises ToolError when pdftoppm fails or times out."""
    if first < 1 or (last is not None and last < first) or not 8 <= long_side <= 4000:
        raise ToolError(f"pdftoppm: pages {first}..{last} at {long_side} px are out of range")
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = Path(out_dir) / "thumb"
    pages = ["-f", str(first)] + (["-l", str(last)] if last is not None else [])
    done = run(["pdftoppm", *pages, "-scale-to", str(long_side), str(pdf), str(prefix)], timeout=timeout)
    if done.returncode != 0:
        raise ToolError(f"pdftoppm failed on {Path(pdf).name}: {first_line(done.stderr)}")
    found = sorted(out_dir.glob("thumb-*.ppm"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    return found
