"""The OCR and signature stages load their names on first use (pipeline.core.lazy): every CLI command used to
pay 2.5 s of imports (OCRmyPDF, pyHanko) at start-up, `archive --help` included."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("ocrmypdf", "pyhanko", "pipeline.ocr.convert", "pipeline.sign.signer")


def test_the_cli_starts_without_ocrmypdf_or_pyhanko() -> None:
    code = f"import sys, pipeline.entry.cli; print([m for m in {HEAVY!r} if m in sys.modules])"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_a_stage_name_loads_on_first_use_and_a_wrong_one_is_refused() -> None:
    from pipeline import sign
    from pipeline.sign.signer import sign_pdf

    assert sign.sign_pdf is sign_pdf and "sign_pdf" in dir(sign)
    with pytest.raises(AttributeError, match="no attribute 'sign_nothing'"):
        _ = sign.sign_nothing  # type: ignore[attr-defined]
