"""The pages without a browser (Starlette's TestClient on the real app): sign-in through the form with its
double-submit token, redirects to /login with a safe ``next``, CSRF refusals, security headers, escaping of
untrusted metadata, error pages in the user's language."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pipeline.entry.web.auth import safe_next
from pipeline.entry.web.headers import CSP
from pipeline.entry.web.messages import MESSAGES
from tests.web.conftest import MARKUP_TITLE, PASSWORD

BASE = "http://127.0.0.1"


def browser(app: Any) -> TestClient:
    return TestClient(app, base_url=BASE, raise_server_exceptions=False, follow_redirects=False)


def login_token(client: TestClient) -> str:
    form = client.get("/login")
    assert form.status_code == 200
    found = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert found and client.cookies.get("archive_login_csrf") == found[1]
    return found[1]


def sign_in(app: Any, name: str) -> tuple[TestClient, str]:
    """A client signed in through the form, and its session's CSRF token (from a page's hidden field)."""
    client = browser(app)
    done = client.post("/login", data={"name": name, "password": PASSWORD, "login_token": login_token(client),
                                       "next": "/stats"})
    assert done.status_code == 303 and done.headers["location"] == "/stats", done.text
    page = client.get("/stats")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return client, found[1]


def test_messages_have_the_same_keys_in_both_languages() -> None:
    assert set(MESSAGES["vi"]) == set(MESSAGES["en"])


@pytest.mark.parametrize("value,expected", [
    ("/search?q=a", "/search?q=a"), ("//evil.example/x", "/"), ("/\\evil.example", "/"), ("https://evil/", "/"),
    ("javascript:alert(1)", "/"), ("/login?next=/x", "/"), ("/a\r\nSet-Cookie: x", "/"), ("", "/"), (None, "/")])
def test_next_is_a_same_site_relative_path_only(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected


@pytest.mark.parametrize("path", ["/", "/search?q=chinh+ly", "/stats", "/documents/abcdef12?page=2"])
def test_pages_without_a_session_redirect_to_login(web_app: Any, path: str) -> None:
    answer = browser(web_app).get(path)
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith("/login")
    if path != "/":
        assert safe_next(re.sub(r"^/login\?next=", "", location).replace("%3F", "?").replace("%3D", "=")
                         .replace("%2B", "+").replace("%26", "&")) == path


def test_the_sign_in_form_refuses_wrong_passwords_and_forged_posts(web_app: Any) -> None:
    client = browser(web_app)
    wrong = client.post("/login", data={"name": "lan", "password": "sai", "login_token": login_token(client)})
    assert wrong.status_code == 401 and MESSAGES["vi"]["login_failed"] in wrong.text
    assert "archive_session" not in wrong.headers.get("set-cookie", "").split("=")[0]
    forged = browser(web_app).post("/login", data={"name": "lan", "password": PASSWORD, "login_token": "x"})
    assert forged.status_code == 403 and "archive_session=" not in forged.headers.get("set-cookie", "")
    client2 = browser(web_app)
    token = login_token(client2)
    client2.cookies.clear()
    client2.cookies.set("archive_login_csrf", "other")
    refused = client2.post("/login", data={"name": "lan", "password": PASSWORD, "login_token": token})
    assert refused.status_code == 403


def test_sign_in_sets_the_session_cookie_and_logout_needs_the_csrf_token(web_app: Any) -> None:
    client, csrf = sign_in(web_app, "hoa")
    assert client.get("/stats").status_code == 200
    assert client.post("/logout").status_code == 403  # no token
    assert client.post("/logout", data={"csrf_token": "wrong"}).status_code == 403
    assert client.get("/stats").status_code == 200  # still signed in
    out = client.post("/logout", data={"csrf_token": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert client.get("/stats").status_code == 303


def test_every_page_has_the_security_headers_and_the_api_keeps_its_own(web_app: Any) -> None:
    client, _ = sign_in(web_app, "lan")
    for path in ("/login", "/stats", "/static/app.css", "/documents/abcdef12"):
        answer = client.get(path)
        assert answer.headers["content-security-policy"] == CSP, path
        assert answer.headers["x-frame-options"] == "DENY" and answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin"
    assert "content-security-policy" not in client.get("/healthz").headers
    assert "unsafe-inline" not in CSP and "script-src 'self';" in CSP


def test_untrusted_metadata_is_escaped(web_app: Any, world: dict[str, Any]) -> None:
    client, _ = sign_in(web_app, "lan")
    for path in (f"/documents/{world['markup']}", "/search?q=bao+cao"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "<b>đậm</b>" not in page.text
    assert MARKUP_TITLE  # the title really holds markup (see conftest)


def test_error_pages_speak_the_users_language(web_app: Any, world: dict[str, Any]) -> None:
    client, _ = sign_in(web_app, "lan")
    secret = client.get(f"/documents/{world['secret']}")
    assert secret.status_code == 404 and MESSAGES["vi"]["e404_text"] in secret.text
    client.get("/lang?to=en&next=/")
    english = client.get(f"/documents/{world['secret']}")
    assert english.status_code == 404 and MESSAGES["en"]["e404_text"] in english.text
    assert client.get("/lang?to=en&next=//evil.example").headers["location"] == "/"


def test_snippets_are_marked_safe_only_when_they_are_escaped_text_and_bold() -> None:
    from pipeline.entry.web.search_pages import snippet_markup

    good = "Hướng dẫn <b>chỉnh</b> lý &lt;x&gt; &amp; &quot;"
    assert str(snippet_markup(good)) == good
    for bad in ('<b onclick="x">a</b>', "<script>alert(1)</script>", "a & b", "<i>x</i>", "&#106;avascript"):
        assert "<" not in str(snippet_markup(bad)).replace("&lt;", "")


def test_search_facets_filter_and_the_page_links(web_app: Any, world: dict[str, Any]) -> None:
    client, _ = sign_in(web_app, "hoa")
    page = client.get("/search", params={"q": "ho so"})
    assert page.status_code == 200
    units = re.findall(r'<ul data-facet="unit">(.*?)</ul>', page.text, re.S)[0]
    assert "Phòng Cơ yếu" in units  # hoa (Mật) sees the secret document's unit
    assert "Phòng Lưu trữ" in units and world["secret"] in page.text
    filtered = client.get("/search", params={"q": "ho so", "unit": "Phòng Lưu trữ"})
    ids = set(re.findall(r'class="hit" data-id="([0-9a-f]+)"', filtered.text))
    assert ids == {world["guide"]}
    guide = client.get("/search", params={"q": "chinh ly tai lieu"})
    assert f'href="/documents/{world["guide"]}?page=2"' in guide.text
    assert client.get("/search", params={"q": "x", "page": "0"}).status_code == 400  # the 400 page, not JSON
    assert "<html" in client.get("/search", params={"q": "x", "page": "0"}).text


def test_document_pages_images_and_verify(web_app: Any, world: dict[str, Any]) -> None:
    client, csrf = sign_in(web_app, "lan")
    doc = f"/documents/{world['guide']}"
    assert 'data-page="2"' in client.get(doc, params={"page": 2}).text
    assert client.get(doc, params={"page": 4}).status_code == 404
    image = client.get(f"{doc}/pages/2.png")
    assert image.status_code == 200 and image.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert image.headers["content-type"] == "image/png" and "no-store" in image.headers["cache-control"]
    assert client.get(f"{doc}/pages/4.png").status_code == 404
    assert client.post(f"{doc}/verify").status_code == 403  # no CSRF token
    verified = client.post(f"{doc}/verify", data={"csrf_token": csrf})
    assert verified.status_code == 200 and 'id="verdict"' in verified.text


def test_the_chart_is_an_svg_image_with_its_own_policy(web_app: Any) -> None:
    from pipeline.entry.web.stats_pages import SVG_CSP

    client, _ = sign_in(web_app, "lan")
    chart = client.get("/stats/chart.svg", params={"name": "units"})
    assert chart.status_code == 200 and chart.headers["content-type"].startswith("image/svg+xml")
    assert chart.headers["content-security-policy"] == SVG_CSP and "<script" not in chart.text
    assert "Phòng Cơ yếu" not in chart.text  # lan (public) does not see the secret document's unit
    assert client.get("/stats/chart.svg", params={"name": "nope"}).status_code == 400
    assert client.get("/stats", params={"period": "2026-13"}).status_code == 400
