"""The records office and user administration pages in real headless Chromium against uvicorn, the real S3
server and the real ingest: a records officer places and releases a legal hold, proposes due documents for
disposal, approves with an exclusion, executes, and the destroyed document's page says so; staff get the 403
page and no nav links; an administrator adds a user, sets the password (typed twice) and the user signs in.
Documents issued in 2010 (Giấy mời: 5 years) are due now; ``retention.safety_days`` is 0 in this module's home
(as in tests/app/test_disposal.py), so nothing past its retention is still locked in storage."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.core.settings import Settings
from tests.app.conftest import HEADER, Home, unlocked_home
from tests.web.conftest import Tab, shot, signed_in
from tests.web.test_web_pages import sign_in

DUE = {  # file → (number, type, issued, title, classification)
    "moi-hop-2010.pdf": ("21/GM-VP", "Giấy mời", "2010-01-05", "Mời họp giao ban quý một năm 2010", "public"),
    "moi-le-2010.pdf": ("22/GM-VP", "Giấy mời", "2010-04-30", "Mời dự lễ kỷ niệm ngày thành lập", "public"),
    "moi-mat-2010.pdf": ("23/GM-VP", "Giấy mời", "2010-03-01", "Mời họp bàn phương án tối mật", "toi-mat"),
}
DECISION = "Quyết định số 07/QĐ-VP ngày 20/11/2026 về việc hủy tài liệu hết giá trị"
COUNCIL = "Nguyễn Văn An (Chủ tịch); Trần Thị Bình; Lê Văn Cường"
MARKUP = "<b>Thanh tra</b> số 5"


@pytest.fixture(scope="module")
def web_home(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    """This module's home: the shared one, but documents past their retention are not locked (tests only)."""
    with unlocked_home(s3_server, tmp_path_factory.mktemp("web-records-home"), "webrec") as made:
        yield made


@pytest.fixture(scope="module")
def world(world: dict[str, Any], web_home: Home, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The shared batch and users, plus three invitations of 2010 (due now; one Tối mật, above the records
    officer's Mật clearance), ingested before the server starts."""
    from pipeline.app.batches import ingest_batch
    from pipeline.app.users import operator
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    root = tmp_path_factory.mktemp("web-due") / "lo-het-han"
    root.mkdir(parents=True, exist_ok=True)
    lines = [HEADER.strip()]
    for name, (number, doc_type, issued, title, level) in DUE.items():
        make_born_digital_pdf([f"{doc_type} số {number}: {title}."], root / name, title=title)
        lines.append(f"{name},{number},{doc_type},{title},Văn phòng,{issued},,Văn phòng,{level},")
    (root / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with web_home.context() as ctx:
        report = ingest_batch(ctx, operator(ctx), root, executor="local")
    assert report.ok, report.to_dict()
    return {**world, **{d.source: d.id for d in report.documents}}


def accept_dialogs(tab: Tab) -> None:
    """The destructive forms ask ``confirm()`` (static/app.js): say yes."""
    tab.page.on("dialog", lambda dialog: dialog.accept())


def due_ids(tab: Tab) -> set[str]:
    tab.goto("/records")
    return set(tab.page.locator("#due-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.id)"))


def test_records_officer_places_and_releases_a_hold(tab: Tab, world: dict[str, Any]) -> None:
    accept_dialogs(tab)
    signed_in(tab, "hoa")
    tab.page.click("#nav-records")
    tab.page.wait_for_selector("#due-table")
    held = world["moi-le-2010.pdf"]
    assert held in due_ids(tab) and world["moi-mat-2010.pdf"] not in due_ids(tab)  # Tối mật: above Mật
    tab.page.click("#tab-holds")
    tab.page.fill("#hold-documents", held[:12])
    tab.page.fill("#hold-reason", MARKUP)
    tab.page.fill("#hold-case", "TT-2026/05")
    tab.page.click("#hold-submit")
    note = tab.page.text_content("#records-done") or ""
    hold_id = re.search(r"H-\d{8}-[0-9a-f]{8}", note)
    assert hold_id and "Đã đặt lệnh lưu giữ" in note, note
    row = tab.page.locator(f'tr[data-hold="{hold_id[0]}"]')
    assert MARKUP in row.inner_text() and row.locator("b").count() == 0  # the reason is text, never markup
    shot(tab, "records-hold-placed")
    assert held not in due_ids(tab)  # a held document is never due
    tab.page.click("#tab-holds")
    row = tab.page.locator(f'tr[data-hold="{hold_id[0]}"]')
    row.locator('input[name="reason"]').fill("Thanh tra đã kết thúc")
    row.locator("button").click()
    tab.page.wait_for_selector("#records-done")
    assert "Đã gỡ lệnh lưu giữ" in (tab.page.text_content("#records-done") or "")
    assert tab.page.locator(f'tr[data-hold="{hold_id[0]}"]').count() == 0  # only holds in force by default
    tab.page.click("#holds-all")
    assert "Thanh tra đã kết thúc" in tab.page.locator(f'tr[data-hold="{hold_id[0]}"]').inner_text()
    assert held in due_ids(tab)
    assert not tab.errors, tab.errors


def test_a_refused_hold_is_shown_on_its_form_with_the_reason(web_app: Any) -> None:
    client, csrf = sign_in(web_app, "hoa")
    answer = client.post("/records/holds", data={"csrf_token": csrf, "documents": "abcdef0000",
                                                 "reason": "Kiểm tra <i>lại</i>", "case": "KT-1"})
    assert answer.status_code == 400 and 'id="records-error"' in answer.text
    assert "no archived document with an id starting abcdef0000" in answer.text
    assert 'value="Kiểm tra &lt;i&gt;lại&lt;/i&gt;"' in answer.text  # kept in the form, escaped


def test_records_officer_proposes_approves_and_executes_a_disposal(tab: Tab, world: dict[str, Any]) -> None:
    accept_dialogs(tab)
    signed_in(tab, "hoa")
    destroyed, kept = world["moi-hop-2010.pdf"], world["moi-le-2010.pdf"]
    tab.goto("/records")
    tab.page.check(f"#due-{destroyed[:12]}")
    tab.page.check(f"#due-{kept[:12]}")
    tab.page.fill("#propose-note", "Rà soát năm 2026")
    tab.page.click("#propose-selected")
    tab.page.wait_for_selector("#proposal-items")
    assert tab.page.get_attribute("#proposal-state", "data-state") == "pending"
    proposal = tab.page.get_attribute("#proposal-id", "data-id") or ""
    assert re.fullmatch(r"P-\d{8}-[0-9a-f]{8}", proposal)
    tab.page.check(f"#exclude-{kept[:12]}")  # the council keeps this one
    tab.page.fill("#approve-decision", DECISION)
    tab.page.fill("#approve-council", COUNCIL)
    tab.page.click("#approve-submit")
    tab.page.wait_for_selector("#records-done")
    assert tab.page.get_attribute("#proposal-state", "data-state") == "approved"
    assert tab.page.text_content("#proposal-decision") == DECISION
    assert tab.page.get_attribute(f'#proposal-items tr[data-id="{kept}"]', "data-outcome") == "skipped"
    shot(tab, "records-disposal-approved")
    tab.page.click("#execute-submit")
    tab.page.wait_for_selector("#records-done", timeout=120_000)
    assert tab.page.get_attribute("#proposal-state", "data-state") == "executed"
    note = tab.page.text_content("#records-done") or ""
    assert "1 văn bản đã hủy" in note and "1 giữ lại" in note, note
    assert tab.page.get_attribute(f'#proposal-items tr[data-id="{destroyed}"]', "data-outcome") == "destroyed"
    record = tab.page.get_attribute("a.disposal-record", "data-id") or ""
    assert re.fullmatch(r"[0-9a-f]{64}", record)
    shot(tab, "records-disposal-executed")
    tab.page.click("a.disposal-record")
    tab.page.wait_for_selector("#doc-title")
    assert tab.page.url.endswith(f"/documents/{record}")
    assert "Biên bản hủy" in tab.page.inner_text("main")
    tab.goto(f"/documents/{destroyed}")
    assert "Văn bản đã bị hủy" in tab.page.inner_text("main")
    shot(tab, "records-document-destroyed")
    tab.goto("/records/disposals")
    assert tab.page.get_attribute(f'tr[data-proposal="{proposal}"] .proposal-state', "data-state") == "executed"
    assert not tab.errors, tab.errors


def test_a_proposal_is_rejected_with_its_reason_in_english(web_app: Any, world: dict[str, Any]) -> None:
    client, csrf = sign_in(web_app, "hoa")
    client.cookies.set("lang", "en")
    made = client.post("/records/disposals", data={"csrf_token": csrf, "doc": world["moi-le-2010.pdf"],
                                                   "mode": "selected", "note": "Đợt 2"})
    assert made.status_code == 303, made.text[:300]
    page = made.headers["location"].split("?")[0]
    assert "Proposal" in client.get(made.headers["location"]).text
    refused = client.post(f"{page}/reject", data={"csrf_token": csrf, "reason": " "})
    assert refused.status_code == 400 and "a rejection needs its reason" in refused.text
    done = client.post(f"{page}/reject", data={"csrf_token": csrf, "reason": "Hội đồng <em>giữ lại</em>"})
    assert done.status_code == 303 and done.headers["location"].endswith("?done=rejected")
    shown = client.get(done.headers["location"]).text
    assert 'data-state="rejected"' in shown and "Rejected" in shown and "nothing was destroyed" in shown
    assert "Hội đồng &lt;em&gt;giữ lại&lt;/em&gt;" in shown and "<em>" not in shown
    again = client.post(f"{page}/approve", data={"csrf_token": csrf, "decision": DECISION, "council": COUNCIL})
    assert again.status_code == 400 and "only a pending proposal can be approved" in again.text


@pytest.mark.parametrize("path", ["/records", "/records/holds", "/records/disposals", "/users", "/users/quan",
                                  "/upload"])
def test_staff_get_the_403_page(web_app: Any, path: str) -> None:
    client, _ = sign_in(web_app, "lan")
    answer = client.get(path)
    assert answer.status_code == 403 and 'data-status="403"' in answer.text, answer.text[:500]


def test_staff_see_no_nav_links_to_these_pages_and_cannot_post(tab: Tab, web_app: Any) -> None:
    signed_in(tab, "lan")
    for link in ("#nav-records", "#nav-users", "#nav-upload"):
        assert tab.page.locator(link).count() == 0, link
    answer = tab.goto("/records")
    assert answer.status == 403 and tab.page.locator("[data-status='403']").count() == 1
    shot(tab, "records-403-staff")
    client, csrf = sign_in(web_app, "lan")
    refused = client.post("/records/holds", data={"csrf_token": csrf, "documents": "abcdef", "reason": "x",
                                                  "case": "y"})
    assert refused.status_code == 403
    assert client.post("/users", data={"csrf_token": csrf, "name": "mallory", "role": "admin"}).status_code == 403


def test_forms_without_the_csrf_token_are_refused(web_app: Any, world: dict[str, Any]) -> None:
    client, _ = sign_in(web_app, "hoa")
    answer = client.post("/records/holds", data={"documents": world["moi-le-2010.pdf"], "reason": "r", "case": "c"})
    assert answer.status_code == 403
    admin, _ = sign_in(web_app, "quan")
    assert admin.post("/users", data={"name": "mallory", "role": "admin"}).status_code == 403


def test_an_upload_the_api_refuses_is_shown_in_the_upload_page(tab: Tab, tmp_path: Path) -> None:
    odd = tmp_path / "ghi <b>chú.txt"
    odd.write_text("không phải văn bản", encoding="utf-8")
    signed_in(tab, "an")
    tab.page.click("#nav-upload")
    tab.page.set_input_files("#upload-files", [str(odd)])
    tab.page.click("#upload-submit")
    tab.page.wait_for_selector("#upload-error:not([hidden])")
    error = tab.page.locator("#upload-error")
    assert "not a PDF" in error.inner_text() and error.locator("b").count() == 0  # file names are text
    assert tab.page.is_hidden("#upload-status")
    shot(tab, "upload-refused")


def test_a_proposal_above_the_callers_clearance_is_404(web_app: Any, web_home: Home,
                                                        world: dict[str, Any]) -> None:
    from pipeline.app import disposal
    from pipeline.app.users import resolve_actor

    with web_home.context() as ctx:
        made = disposal.propose(ctx, resolve_actor(ctx, "quan"), [world["moi-mat-2010.pdf"]], note="Tối mật")
    officer, _ = sign_in(web_app, "hoa")
    assert officer.get(f"/records/disposals/{made.id}").status_code == 404
    assert made.id not in officer.get("/records/disposals").text
    admin, _ = sign_in(web_app, "quan")
    assert admin.get(f"/records/disposals/{made.id}").status_code == 200


def test_admin_adds_a_user_sets_the_password_and_the_user_signs_in(tab: Tab, browser: Any, server: str,
                                                                   web_home: Home) -> None:
    accept_dialogs(tab)
    signed_in(tab, "quan")
    tab.page.click("#nav-users")
    tab.page.fill("#user-name", "thu")
    tab.page.check("#add-role-staff")
    tab.page.select_option("#user-clearance", "internal")
    tab.page.click("#user-add-submit")
    tab.page.wait_for_selector("#users-done")
    assert tab.page.get_attribute("#user-title", "data-user") == "thu"
    tab.page.fill("#password-new", "Mật khẩu mới của Thư 2026")
    tab.page.fill("#password-again", "Mật khẩu khác hẳn 2026")
    tab.page.click("#password-submit")
    assert "không giống nhau" in (tab.page.text_content("#users-error") or "")
    tab.errors.clear()  # the refusal is a 400 page, which Chromium logs as a failed load
    tab.page.fill("#password-new", "Mật khẩu mới của Thư 2026")
    tab.page.fill("#password-again", "Mật khẩu mới của Thư 2026")
    tab.page.click("#password-submit")
    assert "Đã đặt mật khẩu" in (tab.page.text_content("#users-done") or "")
    tab.page.check("#role-records-officer")
    tab.page.click("#user-save")
    tab.page.wait_for_selector("#users-done")
    tab.page.click("#users-back")
    roles = tab.page.inner_text('tr[data-user="thu"] .user-roles')
    assert "Cán bộ" in roles and "Văn thư lưu trữ" in roles
    assert tab.page.get_attribute('tr[data-user="thu"] .user-clearance', "data-level") == "internal"
    shot(tab, "users-list")
    _revoke_a_token(tab, web_home)
    other = Tab(browser.new_context(locale="vi-VN").new_page(), server)
    try:
        signed_in(other, "thu", "Mật khẩu mới của Thư 2026")
        assert other.page.locator("#nav-records").count() == 1 and other.page.locator("#nav-users").count() == 0
    finally:
        other.page.context.close()
    assert not tab.errors, tab.errors


def _revoke_a_token(tab: Tab, web_home: Home) -> None:
    from pipeline.app.auth_tokens import issue_token
    from pipeline.app.users import resolve_actor

    with web_home.context() as ctx:
        issued = issue_token(ctx, resolve_actor(ctx, "quan"), "thu", "máy quét tầng 2")
    tab.goto("/users/thu")
    row = tab.page.locator(f'tr[data-token="{issued.id}"]')
    assert row.locator(".token-state").get_attribute("data-state") == "active"
    row.locator("button.revoke").click()
    tab.page.wait_for_selector("#users-done")
    assert tab.page.get_attribute(f'tr[data-token="{issued.id}"] .token-state', "data-state") == "revoked"
    assert issued.token not in tab.page.content()


def test_the_pages_words_exist_in_both_languages() -> None:
    from pipeline.entry.web.messages import MESSAGES

    mine = [k for k in MESSAGES["vi"] if k.startswith(("records_", "users_", "upload_", "role_"))]
    assert len(mine) > 100 and all(k in MESSAGES["en"] for k in mine)
