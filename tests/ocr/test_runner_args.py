"""`[ocr] jobs` reaches OCRmyPDF (it was read nowhere: every document OCR'd its pages one at a time)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from pipeline.core.settings_sections import OcrSettings
from pipeline.ocr.runner import RunSpec, build_args


def _spec(jobs: int) -> RunSpec:
    return RunSpec(input_pdf=Path("in.pdf"), output_pdf=Path("out.pdf"), language="vie", ocr=True, deskew=False,
                   rotate_pages=False, pdfa_part="2", has_text=False, timeout_s=60, jobs=jobs)


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_configured_jobs_reach_ocrmypdf(jobs: int) -> None:
    args = build_args(_spec(jobs))
    assert args[args.index("--jobs") + 1] == str(jobs)


def test_jobs_below_one_are_refused() -> None:
    with pytest.raises(ValidationError):
        OcrSettings(jobs=0)
