"""qpdf: structural check of a PDF (``qpdf --check``), the one place the pipeline runs it."""

from __future__ import annotations

from pathlib import Path

from pipeline.tools.run import run
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


def version() -> str:
    return _version("qpdf")
