"""Ghostscript (``gs``): version probe, and a direct PDF/A-2b rewrite for born-digital PDFs the pikepdf path
cannot make PDF/A (unembedded fonts, CMYK images).

OCRmyPDF refuses Ghostscript 10.0.0 for PDFs with text because that release can damage text extraction; we
call it directly only as a fallback and the caller compares the rewrite's text with the original's, rejecting
any rewrite that lost words (:mod:`pipeline.ocr.textcheck`). Fonts are embedded from the URW base-35 set
Debian ships with Ghostscript (the standard-14 substitutes); colour is converted to sRGB with the sRGB
output intent, so a CMYK image becomes RGB in the rendition (the original keeps its CMYK).
"""

from __future__ import annotations

from pathlib import Path

from pipeline.tools.run import ToolError, run
from pipeline.tools.run import version as _version

# The sRGB profile Debian's libgs-common ships; PDFA_def.ps below points the output intent at it.
SRGB_PROFILES = (Path("/usr/share/color/icc/ghostscript/srgb.icc"), Path("/usr/share/color/icc/sRGB.icc"))

_PDFA_DEF = """%!
[ /Title ({title}) /DOCINFO pdfmark
/ICCProfile ({icc}) def
[/_objdef {{icc_PDFA}} /type /stream /OBJ pdfmark
[{{icc_PDFA}} << /N 3 >> /PUT pdfmark
[{{icc_PDFA}} ICCProfile (r) file /PUT pdfmark
[/_objdef {{OutputIntent_PDFA}} /type /dict /OBJ pdfmark
[{{OutputIntent_PDFA}} <<
  /Type /OutputIntent /S /GTS_PDFA1 /DestOutputProfile {{icc_PDFA}}
  /OutputConditionIdentifier (sRGB)
>> /PUT pdfmark
[{{Catalog}} << /OutputIntents [ {{OutputIntent_PDFA}} ] >> /PUT pdfmark
"""


def version() -> str:
    return _version("gs")


def srgb_profile() -> Path:
    for path in SRGB_PROFILES:
        if path.is_file():
            return path
    raise ToolError("no sRGB ICC profile found (apt-get install libgs-common)")


def _ps_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdfa_rewrite(src: Path, dst: Path, workdir: Path, *, part: str = "2", timeout: float = 300.0) -> None:
    """Rewrite ``src`` as PDF/A-<part>b into ``dst`` with fonts embedded and colour in sRGB.

    Raises ToolError with one line when Ghostscript fails or writes nothing. The result still has to be
    validated and its text compared by the caller.
    """
    icc = srgb_profile()
    definition = workdir / "PDFA_def.ps"
    definition.write_text(_PDFA_DEF.format(title=_ps_string(src.stem[:100]), icc=_ps_string(str(icc))))
    dst.unlink(missing_ok=True)
    args = [
        "gs", "-q", "-dBATCH", "-dNOPAUSE", "-dSAFER", f"--permit-file-read={icc}",
        "-sDEVICE=pdfwrite", f"-dPDFA={part}", "-dPDFACompatibilityPolicy=1",
        "-sColorConversionStrategy=RGB", "-sProcessColorModel=DeviceRGB",
        "-dEmbedAllFonts=true", "-dSubsetFonts=true", "-dAutoRotatePages=/None",
        f"-sOutputFile={dst}", str(definition), str(src),
    ]
    done = run(args, timeout=timeout, cwd=workdir)
    if done.returncode != 0 or not dst.is_file() or dst.stat().st_size == 0:
        lines = [ln.strip() for ln in (done.stderr + "\n" + done.stdout).splitlines() if ln.strip()]
        detail = "; ".join(lines[:2])[:300] or f"exit {done.returncode}"
        raise ToolError(f"Ghostscript could not rewrite the PDF as PDF/A: {detail}")
