"""Documents that cannot be archived fail with one readable line (it becomes quarantine reason.json)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pikepdf
import pytest

from pipeline.devtools.samples import SAMPLE_DOCUMENTS, make_born_digital_pdf, make_corrupt_pdf, render_page
from pipeline.ocr import OcrError, OcrRequest, make_pdfa


def _fails(request: OcrRequest, workdir: Path) -> str:
    with pytest.raises(OcrError) as info:
        make_pdfa(request, workdir)
    message = str(info.value)
    assert message and "\n" not in message
    assert "Traceback" not in message
    return message


def test_corrupt_pdf(tmp_path: Path) -> None:
    bad = make_corrupt_pdf(tmp_path / "hong.pdf")
    message = _fails(OcrRequest(inputs=[bad], kind="pdf", needs_ocr=True), tmp_path / "w")
    assert "hong.pdf" in message
    assert "not a readable PDF" in message
    assert str(tmp_path) not in message  # no absolute paths in the user-facing reason


def test_encrypted_pdf(tmp_path: Path) -> None:
    plain = make_born_digital_pdf(["Tài liệu mật."], tmp_path / "plain.pdf")
    locked = tmp_path / "khoa.pdf"
    with pikepdf.open(plain) as pdf:
        pdf.save(locked, encryption=pikepdf.Encryption(owner="chủ", user="mật-khẩu"))
    message = _fails(OcrRequest(inputs=[locked], kind="pdf", needs_ocr=False), tmp_path / "w")
    assert "khoa.pdf" in message and "password" in message


def test_owner_password_only_pdf_gets_an_unencrypted_rendition(tmp_path: Path) -> None:
    """It opens without a password (only permission flags are locked): readable, so it is archived; the
    rendition is unencrypted (PDF/A forbids encryption) and says so; the original keeps its encryption."""
    plain = make_born_digital_pdf(["Tài liệu có hạn chế quyền."], tmp_path / "plain.pdf")
    restricted = tmp_path / "han-che.pdf"
    with pikepdf.open(plain) as pdf:
        pdf.save(restricted, encryption=pikepdf.Encryption(owner="chủ", user=""))
    result = make_pdfa(OcrRequest(inputs=[restricted], kind="pdf", needs_ocr=False), tmp_path / "w")
    assert any("owner-password" in fix for fix in result.fixes)
    with pikepdf.open(result.pdf_path) as pdf:
        assert not pdf.is_encrypted
    with pikepdf.open(restricted) as original:
        assert original.is_encrypted
    assert "hạn chế quyền" in result.pages[0].text


def test_zero_page_pdf(tmp_path: Path) -> None:
    empty = tmp_path / "rong.pdf"
    pikepdf.new().save(empty)
    message = _fails(OcrRequest(inputs=[empty], kind="pdf", needs_ocr=True), tmp_path / "w")
    assert "no pages" in message


def test_unreadable_image(tmp_path: Path) -> None:
    page = tmp_path / "page1.png"
    page.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10)
    message = _fails(OcrRequest(inputs=[page], kind="images", needs_ocr=True), tmp_path / "w")
    assert "page1.png" in message and "unreadable" in message


def test_missing_input(tmp_path: Path) -> None:
    message = _fails(OcrRequest(inputs=[tmp_path / "khong-co.pdf"], kind="pdf", needs_ocr=True), tmp_path)
    assert "khong-co.pdf" in message


def test_unknown_language_is_reported(invitation_pages: list[Path], tmp_path: Path) -> None:
    request = OcrRequest(inputs=invitation_pages[:1], kind="images", needs_ocr=True, language="xyz")
    message = _fails(request, tmp_path / "w")
    assert "xyz" in message


def test_timeout_kills_the_ocr_process(tmp_path: Path) -> None:
    """Three pages of 2480 × 3500 pixels take Tesseract seconds each: a 1 s limit stops the document, and no
    Tesseract of it is left running."""
    pages = []
    for n in range(1, 4):
        pages.append(tmp_path / f"page{n}.png")
        render_page(SAMPLE_DOCUMENTS["chi-thi"].pages[0], dpi=600, seed=n).save(pages[-1], dpi=(300, 300))
    request = OcrRequest(inputs=pages, kind="images", needs_ocr=True, timeout_s=1)
    message = _fails(request, tmp_path / "w")
    assert "timed out after 1 s" in message
    assert not (tmp_path / "w" / "pdfa.pdf").exists()
    running = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    assert [line for line in running.splitlines() if "tesseract" in line and str(tmp_path) in line] == []


def test_malformed_requests_are_programming_errors(tmp_path: Path) -> None:
    pdf = make_born_digital_pdf(["Một trang."], tmp_path / "a.pdf")
    with pytest.raises(ValueError, match="exactly one"):
        make_pdfa(OcrRequest(inputs=[pdf, pdf], kind="pdf", needs_ocr=False), tmp_path / "w")
    with pytest.raises(ValueError, match="PDF/A part"):
        make_pdfa(OcrRequest(inputs=[pdf], kind="pdf", needs_ocr=False, pdfa_part="4"), tmp_path / "w")
