"""Checks that an output file really is PDF/A, with the tools available here.

veraPDF cannot be installed on this machine, so the verdict combines: the XMP claim (pdfaid part and
conformance), an ``/OutputIntents`` entry, pikepdf's allowlist validator (``pikepdf.pdfa``, which
approves only what it recognises), ``pdffonts`` (every font embedded) and ``qpdf --check``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pikepdf

try:  # pikepdf.pdfa needs optional dependencies; without them we skip that one check, loudly.
    import pikepdf.pdfa as _pdfa
except ImportError:  # pragma: no cover - depends on installation
    _pdfa = None


def claimed_pdfa(path: Path) -> str:
    """The conformance the file claims in XMP, e.g. ``"2B"``; empty if none."""
    with pikepdf.open(path) as pdf:
        meta = pdf.open_metadata()
        return (meta.pdfa_status or "").upper()


def _qpdf_check(path: Path) -> list[str]:
    if not shutil.which("qpdf"):
        return ["qpdf is not installed (cannot run qpdf --check)"]
    done = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True, check=False)
    if done.returncode == 0:
        return []
    lines = [ln for ln in (done.stderr + done.stdout).splitlines() if ln.strip()]
    detail = "; ".join(lines[-3:])
    return [f"qpdf --check exit {done.returncode}: {detail[:300]}"]


def _fonts_not_embedded(path: Path) -> list[str]:
    if not shutil.which("pdffonts"):
        return ["pdffonts is not installed (cannot check font embedding)"]
    done = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return [f"pdffonts failed: {done.stderr.strip()[:200]}"]
    problems = []
    for line in done.stdout.splitlines()[2:]:
        # columns: name type encoding emb sub uni object-id; name/type may contain spaces,
        # so read the flags from the right: ... emb sub uni num gen
        parts = line.split()
        if len(parts) >= 5 and parts[-5] == "no":
            problems.append(f"font not embedded: {parts[0]}")
    return problems


def check_pdfa(path: Path, *, part: str = "2", allow_unchecked: bool = False) -> list[str]:
    """Problems that stop ``path`` from being PDF/A-<part>b; an empty list means it passes.

    ``allow_unchecked=True`` accepts constructs pikepdf's validator does not check (it answers
    ``not_checked`` for signed files with forms), while still failing on real violations.
    """
    expected = f"{part}B"
    problems: list[str] = []
    try:
        with pikepdf.open(path) as pdf:
            meta = pdf.open_metadata()
            part_claim = str(meta.get("pdfaid:part", "")).strip()
            conformance = str(meta.get("pdfaid:conformance", "")).strip().upper()
            if f"{part_claim}{conformance}" != expected:
                problems.append(
                    f"XMP claims PDF/A '{part_claim}{conformance}' (pdfaid part/conformance), expected {expected}"
                )
            intents = pdf.Root.get("/OutputIntents")
            if not isinstance(intents, pikepdf.Array) or len(intents) == 0:
                problems.append("no /OutputIntents in the document catalog")
    except (pikepdf.PdfError, OSError) as exc:
        return [f"cannot open PDF: {exc}"]
    if _pdfa is None:
        problems.append("pikepdf.pdfa is unavailable (install pikepdf[pdfa]); validation not run")
    else:
        report = _pdfa.validate_written(path, f"{part}b")
        findings = report.violations if allow_unchecked else report.findings
        problems.extend(f"pikepdf.pdfa: {finding}" for finding in findings[:10])
    problems.extend(_fonts_not_embedded(path))
    problems.extend(_qpdf_check(path))
    return problems
