"""Poppler's ``pdftoppm``: one page of a PDF as a PNG image, for the web pages' page view (the browser shows an
image the server rendered, so no PDF reader or script runs in the page)."""

from __future__ import annotations

from pathlib import Path

from pipeline.tools.run import ToolError, first_line, run

PDFTOPPM_TIMEOUT_S = 60.0
DEFAULT_DPI = 110  # a readable A4 page on a screen (about 910 × 1290 pixels)


def render_page_png(pdf: Path, page: int, out_dir: Path, *, dpi: int = DEFAULT_DPI,
                    timeout: float = PDFTOPPM_TIMEOUT_S) -> Path:
    """Render page ``page`` (1-based) of ``pdf`` at ``dpi`` into ``out_dir``; the PNG's path. Raises ToolError
    when pdftoppm is missing, fails (e.g. no such page), times out or writes nothing."""
    if page < 1 or not 18 <= dpi <= 600:
        raise ToolError(f"pdftoppm: page {page} at {dpi} dpi is out of range")
    prefix = Path(out_dir) / "page"
    done = run(["pdftoppm", "-f", str(page), "-l", str(page), "-r", str(dpi), "-png", "-singlefile", str(pdf),
                str(prefix)], timeout=timeout)
    out = prefix.with_suffix(".png")
    if done.returncode != 0 or not out.is_file():
        raise ToolError(f"pdftoppm failed on page {page} of {Path(pdf).name}: {first_line(done.stderr)}")
    return out
