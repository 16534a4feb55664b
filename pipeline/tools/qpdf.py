"""qpdf: structural check of a PDF (``qpdf --check``) and merging page PDFs into one (``--pages``)."""

from __future__ import annotations

from pathlib import Path

from pipeline.tools.run import ToolError, run
from pipeline.tools.run import version as _version

CHECK_TIMEOUT_S = 120.0
_MAX_PROBLEMS = 10


def check(path: Path, *, label: str | None = None, timeout: float = CHECK_TIMEOUT_S) -> list[str]:
    """qpdf's findings on ``path`` (warnings and errors, one line each); ``[]`` when it finds none.

    ``label`` replaces the file's path in the messages (e.g. for a temporary copy). Raises ToolError
    when qpdf is missing or times out: the caller decides whether an unchecked file is acceptable.
    """
    done = run(["qpdf", "--check", str(path)], timeout=timeout)
    if done.returncode == 0:
        return []
    name = label if label is not None else Path(path).name
    lines = [ln.strip() for ln in done.stderr.splitlines() if ln.strip()]
    lines += [ln.strip() for ln in done.stdout.splitlines() if "WARNING" in ln or "ERROR" in ln.upper()]
    problems = []
    for line in lines:
        text = line.replace(str(path), name)
        if text not in problems:
            problems.append(text)
    return problems[:_MAX_PROBLEMS] or [f"qpdf --check exited with code {done.returncode}"]


def merge(parts: list[Path], out: Path, *, timeout: float) -> Path:
    """Concatenate the pages of ``parts`` into ``out``. qpdf copies page by page from the files, so memory
    stays flat whatever the page count (measured at 200 A4 scans: 110 MB, against 592 MB for merging them in
    pikepdf, which holds every page image). Exit 3 is success with warnings. Raises ToolError otherwise."""
    done = run(["qpdf", "--empty", "--pages", *map(str, parts), "--", str(out)], timeout=timeout)
    if done.returncode not in (0, 3):
        first = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[0]
        raise ToolError(f"qpdf could not merge {len(parts)} page file(s): {first}")
    return out


def version() -> str:
    return _version("qpdf")
