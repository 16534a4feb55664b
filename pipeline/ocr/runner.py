"""Run OCRmyPDF in a child process (it is not thread-safe) and collect its per-page hOCR.

Why a child process: OCRmyPDF mutates process-global state (logging, plugin manager) and starts
Tesseract subprocesses; isolating it lets Celery prefork workers and threads call us safely, and lets
us kill the whole process group on timeout. ``OMP_THREAD_LIMIT=1`` (measured: 1.9 CPU s/page instead
of 9.1). ``-k`` keeps the work folder, placed under our workdir via TMPDIR, so we read Tesseract's
hOCR for word confidences instead of running Tesseract a second time.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.ocr.types import OcrError
from pipeline.tools import tesseract
from pipeline.tools.run import ToolError, minimal_env

# ocrmypdf.ExitCode values → reason prefix
_EXIT_REASONS = {
    1: "OCRmyPDF rejected its arguments",
    2: "input file is not a usable PDF",
    3: "a required OCR tool or language pack is missing",
    4: "OCRmyPDF produced an invalid PDF",
    5: "file access error",
    6: "the PDF already has text",
    7: "a helper program (Tesseract/Ghostscript) failed",
    8: "the PDF is encrypted",
    9: "invalid OCR configuration",
    10: "PDF/A conversion failed",
    15: "OCRmyPDF failed",
    130: "OCR was interrupted",
}


# Tesseract OSD confidence needed before OCRmyPDF turns a page. Its default (14) never fires on
# Vietnamese pages: measured on the sample pages at 0/90/180/270°, OSD was right 24/24 times with
# confidence 4.0-11.1. A false turn only happens when OSD is both wrong and above this value.
ROTATE_THRESHOLD = 3.0


@dataclass
class RunOutcome:
    hocr: dict[int, Path] = field(default_factory=dict)  # 1-based page → hOCR file of that page
    work_dir: Path | None = None
    log: str = ""


@dataclass(frozen=True)
class RunSpec:
    input_pdf: Path
    output_pdf: Path
    language: str
    ocr: bool  # False: no OCR engine at all (born-digital)
    deskew: bool
    rotate_pages: bool
    pdfa_part: str
    # The PDF already has text on some page: OCR only the other pages (--mode skip) and use the
    # internal PDF/A backend, since OCRmyPDF refuses Ghostscript 10.0.0 for PDFs with text (even
    # with --mode skip on an image-only PDF, so image-only input keeps the default mode).
    has_text: bool
    timeout_s: int
    # Text only (a signed original is never re-written): a plain PDF output that is thrown away, read for
    # its text; OCRmyPDF needs leave to "invalidate" the signature of the copy it writes.
    text_only: bool = False
    jobs: int = 1


def build_args(spec: RunSpec) -> list[str]:
    args = [
        sys.executable,
        "-m",
        "ocrmypdf",
        "--output-type",
        "pdf" if spec.text_only else f"pdfa-{spec.pdfa_part}",
        "--pdfa-backend",
        "internal" if spec.has_text else "auto",
        "--jobs",
        str(max(1, spec.jobs)),
        "--keep-temporary-files",
        "--optimize",
        "1",  # lossless only: keep the scan's resolution
        "--no-progress-bar",
    ]
    if spec.has_text:
        args += ["--mode", "skip"]
    if spec.text_only:
        args.append("--invalidate-digital-signatures")
    if spec.ocr:
        args += ["--language", spec.language, "--pdf-renderer", "fpdf2"]  # fpdf2 renderer ⇒ hOCR files
        if spec.deskew:
            args.append("--deskew")
        if spec.rotate_pages:
            args += ["--rotate-pages", "--rotate-pages-threshold", str(ROTATE_THRESHOLD)]
    else:
        args += ["--ocr-engine", "none"]
    return [*args, str(spec.input_pdf), str(spec.output_pdf)]


def _reason(code: int, stderr: str) -> str:
    """One line: OCRmyPDF's exception line if there is one, else its first message lines."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if re.search(r"\w+Error\b|\berror:", ln)]
    messages = [ln for ln in lines if not re.match(r"\d+ ", ln)]  # drop per-page log lines
    detail = errors[0] if errors else " ".join(messages[:2])
    findings = [ln for ln in lines if ln.startswith(("[violation]", "[unsupported]"))]
    if findings:  # pikepdf.pdfa says which construct failed: that is the useful part
        detail = f"{detail.split(':')[0]}: {findings[0]}"
    prefix = _EXIT_REASONS.get(code, f"OCRmyPDF exited with code {code}")
    return f"{prefix}: {detail[:300]}" if detail else prefix


def missing_languages(language: str) -> list[str]:
    """Requested Tesseract languages that are not installed (checked before starting OCRmyPDF)."""
    wanted = [part for part in language.split("+") if part]
    return [lang for lang in wanted if lang not in _installed_languages()]


def require_languages(language: str) -> None:
    """Raise OcrError naming the requested languages that are not installed, and those that are."""
    if missing := missing_languages(language):
        installed = ", ".join(sorted(_installed_languages())) or "none"
        raise OcrError(f"Tesseract language data not installed: {'+'.join(missing)} (installed: {installed})")


def _installed_languages() -> frozenset[str]:
    try:
        return tesseract.languages()
    except ToolError as exc:
        raise OcrError(str(exc)) from None


def _kill(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()


def run_ocrmypdf(spec: RunSpec, tmp_root: Path) -> RunOutcome:
    """Run one OCRmyPDF job; raises OcrError (with a one-line reason) on failure or timeout."""
    if spec.ocr:
        require_languages(spec.language)
    tmp_root.mkdir(parents=True, exist_ok=True)
    # Minimal environment (no ARCHIVE_* secrets); the child finds ocrmypdf through sys.executable.
    env = minimal_env({"OMP_THREAD_LIMIT": "1", "TMPDIR": str(tmp_root), "PYTHONUNBUFFERED": "1"})
    proc = subprocess.Popen(
        build_args(spec),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # own process group: a timeout kills Tesseract too
    )
    try:
        _, stderr = proc.communicate(timeout=spec.timeout_s)
    except subprocess.TimeoutExpired as exc:
        _kill(proc)
        raise OcrError(f"OCR timed out after {spec.timeout_s} s") from exc
    except BaseException:  # e.g. the worker is shutting down: do not leave Tesseract running
        _kill(proc)
        raise
    if proc.returncode != 0:
        raise OcrError(_reason(proc.returncode, stderr))
    work_dirs = sorted(tmp_root.glob("ocrmypdf.io.*"))
    outcome = RunOutcome(log=stderr, work_dir=work_dirs[-1] if work_dirs else None)
    if outcome.work_dir is not None:
        for hocr in outcome.work_dir.glob("*_ocr_hocr.hocr"):
            outcome.hocr[int(hocr.name.split("_", 1)[0])] = hocr
    return outcome
