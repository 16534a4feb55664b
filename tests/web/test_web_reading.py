"""The reading pages in real headless Chromium against the app served by uvicorn: sign-in (a wrong password is
refused), search without diacritics finds the 3-page guide at page 2, the document opens at that page (image
rendered on the server and loaded, text of page 2, verify now), the statistics dashboard (chart image and
table), the language switch, and a public-clearance staff user who sees no trace of the Mật document. Every
page carries the CSP and raises no console or page error; screenshots go to $TEST_ARTIFACTS."""

from __future__ import annotations

from typing import Any

from pipeline.entry.web.headers import CSP
from pipeline.entry.web.messages import MESSAGES
from tests.web.conftest import SECRET, SECRET_UNIT, Tab, shot, signed_in

VI, EN = MESSAGES["vi"], MESSAGES["en"]


def loaded(tab: Tab, selector: str) -> int:
    """The natural width of the image ``selector`` once it has loaded (0: broken)."""
    handle = tab.page.wait_for_selector(selector)
    tab.page.wait_for_function("(img) => img.complete", arg=handle)
    return int(handle.evaluate("(img) => img.naturalWidth"))


def fetched(tab: Tab, path: str) -> list[Any]:
    """[status, first five characters] of ``path`` fetched by the page (with its cookies)."""
    return list(tab.page.evaluate(
        "async (p) => { const r = await fetch(p); const t = await r.text(); return [r.status, t.slice(0, 5)]; }",
        path))


def test_sign_in_refuses_a_wrong_password_and_accepts_the_right_one(tab: Tab) -> None:
    answer = tab.goto("/stats")
    assert tab.page.url.endswith("/login?next=/stats") and answer.headers["content-security-policy"] == CSP
    tab.page.fill("#login-name", "lan")
    tab.page.fill("#login-password", "không phải mật khẩu")
    tab.page.click("#login-submit")
    assert tab.page.inner_text("#login-message") == VI["login_failed"]
    assert tab.page.query_selector("#nav-signout") is None
    shot(tab, "login-refused")
    tab.errors.clear()  # the refusal is a 401: Chromium logs the status of the page itself
    signed_in(tab, "lan")
    assert tab.page.url == tab.base + "/"  # no next: the search page
    assert tab.page.query_selector("#nav-upload") is None and tab.page.query_selector("#nav-users") is None
    assert tab.errors == []


def test_search_without_diacritics_opens_the_document_at_the_matching_page(tab: Tab, world: dict[str, Any]) -> None:
    signed_in(tab, "hoa")
    tab.page.fill("#search-q", "chinh ly tai lieu")
    tab.page.click("#search-submit")
    hit = tab.page.wait_for_selector(f'.hit[data-id="{world["guide"]}"]')
    snippet = hit.query_selector(".snippet")
    assert snippet is not None and "chỉnh lý tài liệu" in snippet.inner_text().lower()
    assert hit.query_selector(".snippet b") is not None  # highlighted words
    link = hit.query_selector(".hit-page")
    assert link is not None and link.get_attribute("data-page") == "2"
    assert tab.page.query_selector('[data-facet="unit"] [data-value="Phòng Lưu trữ"]') is not None
    shot(tab, "search")
    link.click()
    tab.page.wait_for_url(f"**/documents/{world['guide']}?page=2")
    assert loaded(tab, "#page-image") > 0
    assert tab.page.get_attribute(".viewer", "data-page") == "2"
    assert "chỉnh lý tài liệu" in tab.page.inner_text("#page-text")
    assert tab.page.get_attribute("#download-pdf", "href") == f"/api/v1/documents/{world['guide']}/pdf"
    shot(tab, "document-page-2")
    tab.page.click("#page-next")
    tab.page.wait_for_url("**?page=3")
    assert loaded(tab, "#page-image") > 0 and "Tổ chức thực hiện" in tab.page.inner_text("#page-text")
    tab.page.click("#verify-now")
    verdict = tab.page.wait_for_selector("#verdict")
    assert verdict.get_attribute("data-status") in ("valid", "indeterminate"), verdict.inner_text()
    assert tab.page.get_attribute(".viewer", "data-page") == "3"
    shot(tab, "document-verified")
    # Fetched by the page itself (Playwright's own request client would not send a Secure cookie over http):
    # the session cookie works for the download link.
    head = fetched(tab, f"/api/v1/documents/{world['guide']}/pdf")
    assert head == [200, "%PDF-"], head
    assert tab.errors == []


def test_statistics_show_the_chart_and_the_table(tab: Tab) -> None:
    signed_in(tab, "hoa")
    answer = tab.goto("/stats?by=unit")
    assert answer.headers["content-security-policy"] == CSP
    assert loaded(tab, "#chart-units") > 0 and loaded(tab, "#chart-trend") > 0
    assert tab.page.get_attribute("#stats-total [data-total]", "data-total") == "4"  # hoa (Mật) sees all four
    assert tab.page.locator("#stats-table .group-row").count() == 3  # Phòng Lưu trữ, Văn phòng, Phòng Cơ yếu
    shot(tab, "stats")
    assert fetched(tab, str(tab.page.get_attribute("#report-pdf", "href"))) == [200, "%PDF-"]  # the signed report
    assert tab.errors == []


def test_the_language_switch_changes_the_nav(tab: Tab) -> None:
    signed_in(tab, "quan")
    for key in ("search", "upload", "stats", "records", "users"):  # an administrator has every entry
        assert tab.page.inner_text(f"#nav-{key}") == VI[f"nav_{key}"]
    tab.page.click("#nav-lang")
    tab.page.wait_for_selector(f"#nav-search:text-is('{EN['nav_search']}')")
    for key in ("search", "upload", "stats", "records", "users", "signout"):
        assert tab.page.inner_text(f"#nav-{key}") == EN[f"nav_{key}"]
    assert tab.page.get_attribute("html", "lang") == "en"
    shot(tab, "english")
    tab.page.click("#nav-lang")
    tab.page.wait_for_selector(f"#nav-search:text-is('{VI['nav_search']}')")
    assert tab.errors == []


def test_a_public_staff_user_sees_no_trace_of_the_secret_document(tab: Tab, world: dict[str, Any]) -> None:
    signed_in(tab, "lan")
    tab.goto("/search?q=phuong+an+bao+ve")
    assert tab.page.get_attribute("#result-count", "data-total") == "0"
    assert SECRET not in tab.page.content()
    tab.goto("/search?q=ho+so")  # words the secret document shares with the guide (hồ sơ)
    assert tab.page.query_selector(f'.hit[data-id="{world["guide"]}"]') is not None
    assert tab.page.query_selector(f'.hit[data-id="{world["secret"]}"]') is None
    assert tab.page.get_attribute("#result-count", "data-total") == "1"
    assert tab.page.query_selector(f'[data-value="{SECRET_UNIT}"]') is None and SECRET_UNIT not in tab.page.content()
    tab.goto("/stats?by=unit")
    assert tab.page.get_attribute("#stats-total [data-total]", "data-total") == "3"
    assert SECRET_UNIT not in tab.page.content()
    assert tab.errors == []
    for path in (f"/documents/{world['secret']}", f"/documents/{world['secret']}?page=1",
                 f"/documents/{world['secret']}/pages/1.png", f"/documents/{world['secret'][:8]}"):
        answer = tab.goto(path)
        assert answer.status == 404, path
        assert tab.page.inner_text("h1") == VI["e404_title"] and SECRET not in tab.page.content()
    shot(tab, "secret-404")
    assert fetched(tab, f"/api/v1/documents/{world['secret']}/pdf")[0] == 404
