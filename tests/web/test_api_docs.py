"""/docs in real headless Chromium: Swagger UI served from the swagger-ui-bundle package (no CDN), after
sign-in only, renders the OpenAPI document's operations under its own CSP without a console error."""

from __future__ import annotations

from tests.web.conftest import Tab, shot, signed_in


def test_docs_need_sign_in_and_render_from_the_package(tab: Tab) -> None:
    anonymous = tab.goto("/docs")
    assert anonymous.status == 401
    signed_in(tab, "lan")
    tab.errors.clear()  # the anonymous 401 (and Chromium's /favicon.ico after it) are expected
    answer = tab.goto("/docs")
    assert answer.status == 200 and "script-src 'self';" in answer.headers["content-security-policy"]
    tab.page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    paths = tab.page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/search" in p for p in paths) and any("/api/v1/batches" in p for p in paths)
    requested: list[str] = []
    tab.page.on("request", lambda r: requested.append(r.url))
    tab.page.reload()
    tab.page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    assert requested and all(u.startswith(tab.base) for u in requested), requested  # nothing from elsewhere
    shot(tab, "api-docs")
    assert not tab.errors, tab.errors
