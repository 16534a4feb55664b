"""Issue 13's acceptance journey in one test, in real headless Chromium against uvicorn, the real S3 server and
the real in-process ingest: an archivist uploads three born-digital PDFs and a manifest through the upload page
and watches the batch finish there (progress bar, one row per document, summary); searches without diacritics
and opens the hit at the page the words are on (page 2 of 2); views the statistics chart; then a records officer
proposes the uploaded invitation of 2010 (due now) for disposal, approves it with the decision and the council,
executes it, and its page says it was destroyed. A screenshot is saved at each step (``$TEST_ARTIFACTS``).
``retention.safety_days`` is 0 in this module's home (as in tests/app/test_disposal.py): a document past its
retention is not locked in storage, so it can be destroyed today."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.core.settings import Settings
from tests.app.conftest import HEADER, Home, unlocked_home
from tests.web.conftest import Tab, shot, signed_in

BATCH_TIMEOUT_MS = 240_000
INVITATION = ("giay-moi-2010.pdf", "31/GM-VP", "Giấy mời", "Mời họp tổng kết công tác lưu trữ năm 2009", "2010-02-10")
PLAN = ("ke-hoach-khu-trung.pdf", "32/KH-LT", "Kế hoạch", "Kế hoạch bảo quản tài liệu năm 2026", "2026-10-15")
LETTER = ("cong-van-2026.pdf", "33/VP", "Công văn", "Hướng dẫn nộp lưu hồ sơ điện tử", "2026-11-02")
PLAN_PAGES = ["Kế hoạch bảo quản tài liệu lưu trữ của cơ quan năm 2026.",
              "Khử trùng kho lưu trữ bằng phương pháp xông hơi định kỳ hằng quý."]
DECISION = "Quyết định số 09/QĐ-VP ngày 25/11/2026 về việc hủy tài liệu hết giá trị"
COUNCIL = "Phạm Thị Dung (Chủ tịch); Hoàng Văn Em; Vũ Thị Giang"


@pytest.fixture(scope="module")
def web_home(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    """This module's home: the shared one, but documents past their retention are not locked (tests only)."""
    with unlocked_home(s3_server, tmp_path_factory.mktemp("web-journey-home"), "webjny") as made:
        yield made


def _two_pages(out: Path) -> Path:
    """A born-digital PDF of two pages; the words searched for are on page 2 only."""
    import pikepdf

    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    parts = [make_born_digital_pdf([text], out.with_name(f"part-{i}.pdf"), title=PLAN[3] if i == 1 else "")
             for i, text in enumerate(PLAN_PAGES, 1)]
    with pikepdf.new() as merged:
        for part in parts:
            with pikepdf.open(part) as pdf:
                merged.pages.extend(pdf.pages)
        merged.docinfo["/Title"] = PLAN[3]
        merged.save(out, deterministic_id=True)
    for part in parts:
        part.unlink()
    return out


@pytest.fixture(scope="module")
def upload_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The files an archivist picks: three PDFs and the manifest describing them."""
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    root = tmp_path_factory.mktemp("journey-upload")
    pdfs = [make_born_digital_pdf([f"{INVITATION[2]} số {INVITATION[1]}: {INVITATION[3]}."], root / INVITATION[0],
                                  title=INVITATION[3]),
            _two_pages(root / PLAN[0]),
            make_born_digital_pdf([f"{LETTER[2]} số {LETTER[1]}: {LETTER[3]}."], root / LETTER[0], title=LETTER[3])]
    rows = "".join(f"{name},{number},{kind},{title},Văn phòng,{issued},,Phòng Lưu trữ,public,\n"
                   for name, number, kind, title, issued in (INVITATION, PLAN, LETTER))
    manifest = root / "manifest.csv"
    manifest.write_text(HEADER + rows, encoding="utf-8")
    return {"pdfs": [str(p) for p in pdfs], "manifest": str(manifest)}


def _accept_dialogs(tab: Tab) -> None:
    tab.page.on("dialog", lambda dialog: dialog.accept())


def _doc_id(tab: Tab, source: str) -> str:
    href = tab.page.get_attribute(f'#upload-documents tr[data-source="{source}"] a.doc-link', "href") or ""
    assert href.startswith("/documents/"), href
    return href.removeprefix("/documents/")


def _upload(tab: Tab, files: dict[str, Any]) -> dict[str, str]:
    """Step 1-2: the archivist uploads the batch and watches it finish in the page."""
    signed_in(tab, "an")
    tab.page.click("#nav-upload")
    tab.page.set_input_files("#upload-files", files["pdfs"])
    tab.page.set_input_files("#upload-manifest", files["manifest"])
    tab.page.fill("#upload-name", "Lô nghiệm thu tháng 11")
    shot(tab, "journey-01-upload-form")
    tab.page.click("#upload-submit")
    tab.page.wait_for_selector("#upload-status:not([hidden])")
    assert "/upload?batch=" in tab.page.url
    tab.page.wait_for_selector('#upload-state[data-state="done"]', timeout=BATCH_TIMEOUT_MS)
    progress = tab.page.eval_on_selector("#upload-progress", "p => [p.value, p.max]")
    assert progress == [3, 3], progress
    assert tab.page.text_content("#upload-count") == "3/3"
    states = tab.page.locator("#upload-documents tbody tr").evaluate_all("rows => rows.map(r => r.dataset.state)")
    assert states == ["archived"] * 3, states
    summary = tab.page.get_attribute('#upload-summary-list li[data-key="archived"]', "data-count")
    assert summary == "3"
    shot(tab, "journey-02-upload-done")
    ids = {name: _doc_id(tab, name) for name in (INVITATION[0], PLAN[0], LETTER[0])}
    batch = tab.page.url.split("batch=")[1]
    tab.page.reload()  # /upload?batch=… shows the batch again, and it is among the archivist's recent ones
    tab.page.wait_for_selector('#upload-state[data-state="done"]')
    assert tab.page.locator(f'#upload-recent tr[data-batch="{batch}"]').count() == 1
    return ids


def _search_and_open(tab: Tab, plan_id: str) -> None:
    """Step 3: a search without diacritics finds the plan; its hit opens the document at page 2."""
    tab.page.click("#nav-search")
    tab.page.fill("#search-q", "khu trung kho luu tru")
    tab.page.click("#search-submit")
    hit = tab.page.locator(f'li.hit[data-id="{plan_id}"]')
    hit.wait_for()
    assert hit.locator(".hit-page").get_attribute("data-page") == "2"
    shot(tab, "journey-03-search")
    hit.locator("a.hit-title").click()
    tab.page.wait_for_selector("#page-text")
    assert tab.page.url.endswith(f"/documents/{plan_id}?page=2")
    assert tab.page.get_attribute("section.viewer", "data-page") == "2"
    assert (tab.page.text_content("#page-label") or "").strip() == "Trang 2/2"
    assert "Khử trùng kho lưu trữ" in (tab.page.text_content("#page-text") or "")
    tab.page.wait_for_function("() => { const i = document.getElementById('page-image');"
                               " return i && i.complete && i.naturalWidth > 0; }")
    shot(tab, "journey-04-document-page-2")


def _stats(tab: Tab) -> None:
    """Step 4: the statistics page and its chart image, loaded."""
    tab.page.click("#nav-stats")
    tab.page.wait_for_selector("img.chart")
    tab.page.wait_for_function("() => [...document.querySelectorAll('img.chart')].every("
                               "i => i.complete && i.naturalWidth > 0)")
    assert tab.page.locator("img.chart").count() >= 1
    shot(tab, "journey-05-stats")


def _dispose(officer: Tab, invitation_id: str) -> None:
    """Step 5: the records officer proposes the due invitation, approves, executes; its page says destroyed."""
    _accept_dialogs(officer)
    signed_in(officer, "hoa")
    officer.page.click("#nav-records")
    officer.page.check(f"#due-{invitation_id[:12]}")
    shot(officer, "journey-06-due-list")
    officer.page.click("#propose-selected")
    officer.page.wait_for_selector("#approve-form")
    assert officer.page.locator("#proposal-items tbody tr").count() == 1
    officer.page.fill("#approve-decision", DECISION)
    officer.page.fill("#approve-council", COUNCIL)
    officer.page.click("#approve-submit")
    officer.page.wait_for_selector('#proposal-state[data-state="approved"]')
    shot(officer, "journey-07-approved")
    officer.page.click("#execute-submit")
    officer.page.wait_for_selector('#proposal-state[data-state="executed"]', timeout=120_000)
    assert officer.page.locator("a.disposal-record").count() == 1
    shot(officer, "journey-08-executed")
    officer.goto(f"/documents/{invitation_id}")
    assert "Văn bản đã bị hủy" in officer.page.inner_text("main")
    shot(officer, "journey-09-destroyed")


def test_the_acceptance_journey(tab: Tab, browser: Any, server: str, upload_files: dict[str, Any]) -> None:
    ids = _upload(tab, upload_files)
    _search_and_open(tab, ids[PLAN[0]])
    _stats(tab)
    assert not tab.errors, tab.errors
    officer = Tab(browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900}).new_page(), server)
    officer.page.on("console", lambda m: officer.errors.append(m.text) if m.type == "error" else None)
    try:
        _dispose(officer, ids[INVITATION[0]])
        assert not officer.errors, officer.errors
    finally:
        officer.page.context.close()
