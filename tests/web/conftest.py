"""Web-page fixtures: a home on the real S3 server with a small born-digital batch ingested in-process (a
3-page document whose words of interest are on page 2, a public one, a Mật one, one whose title is markup),
users of each role with passwords, the app served by uvicorn on a free loopback port (plain-HTTP session
cookie) and Debian's Chromium driven by Playwright (never a downloaded browser). ``signed_in`` signs a page in
through the form; ``shot`` saves a screenshot under ``$TEST_ARTIFACTS`` (default ``test-artifacts/web``)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pipeline.core.settings import Settings
from pipeline.core.vocabulary import Classification, Role
from tests.app.conftest import HEADER, Home, build_home

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Mật khẩu đủ dài 2026"
SECRET = "Phương án bảo vệ kho lưu trữ cơ yếu"
SECRET_UNIT = "Phòng Cơ yếu"
MARKUP_TITLE = "<script>alert(1)</script> Báo cáo <b>đậm</b>"
PAGES = ["Quy định chung về công tác văn thư của cơ quan.",
         "Hướng dẫn chỉnh lý tài liệu lưu trữ: phân loại, xác định giá trị và lập hồ sơ.",
         "Tổ chức thực hiện và trách nhiệm của các đơn vị."]
USERS = {"lan": (Role.STAFF, Classification.PUBLIC), "an": (Role.ARCHIVIST, Classification.MAT),
         "hoa": (Role.RECORDS_OFFICER, Classification.MAT), "quan": (Role.ADMIN, Classification.TUYET_MAT)}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def web_home(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with build_home(s3_server, tmp_path_factory.mktemp("web-home"), "web") as made:
        yield made


def _three_pages(out: Path) -> Path:
    """One born-digital PDF of three pages (one sample page each, merged), the second about chỉnh lý tài liệu."""
    import pikepdf

    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    parts = [make_born_digital_pdf([text], out.with_name(f"part-{i}.pdf"), title="Hướng dẫn công tác lưu trữ"
                                   if i == 1 else "") for i, text in enumerate(PAGES, 1)]
    with pikepdf.new() as merged:
        for part in parts:
            with pikepdf.open(part) as pdf:
                merged.pages.extend(pdf.pages)
        merged.docinfo["/Title"] = "Hướng dẫn công tác lưu trữ"
        merged.save(out, deterministic_id=True)
    for part in parts:
        part.unlink()
    return out


@pytest.fixture(scope="module")
def world(web_home: Home, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Ingest the batch and add the users: ``ids`` by role of document (guide, public, secret, markup)."""
    from pipeline.app.auth import set_password
    from pipeline.app.batches import ingest_batch
    from pipeline.app.users import add_user, operator
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    batch = tmp_path_factory.mktemp("web-batch") / "lo-web"
    batch.mkdir(parents=True, exist_ok=True)
    _three_pages(batch / "huong-dan.pdf")
    make_born_digital_pdf(["Chỉ thị về văn bản điện tử công khai cho mọi người."], batch / "cong-khai.pdf",
                          title="Chỉ thị công khai")
    make_born_digital_pdf([f"{SECRET}. Sơ đồ hầm chứa hồ sơ."], batch / "mat.pdf", title=SECRET)
    make_born_digital_pdf(["Báo cáo tổng kết năm có tiêu đề lạ."], batch / "markup.pdf", title="Báo cáo")
    (batch / "manifest.csv").write_text(
        HEADER
        + "huong-dan.pdf,12/HD-LT,Hướng dẫn,Hướng dẫn công tác lưu trữ,Cục Văn thư,2025-06-10,,Phòng Lưu trữ,public,\n"
        + "cong-khai.pdf,01/CT-VP,Chỉ thị,Văn bản điện tử công khai,Văn phòng,2026-11-02,,Văn phòng,public,\n"
        + f"mat.pdf,07/PA-CY,Phương án,{SECRET},Ban Cơ yếu,2026-11-20,,{SECRET_UNIT},Mật,\n"
        + f"markup.pdf,03/BC-VP,Báo cáo,{MARKUP_TITLE},Văn phòng,2026-10-01,,Văn phòng,public,\n",
        encoding="utf-8")
    with web_home.context() as ctx:
        admin = operator(ctx)
        report = ingest_batch(ctx, admin, batch, executor="local")
        assert report.ok, report.to_dict()
        for name, (role, level) in USERS.items():
            add_user(ctx, admin, name, frozenset({role}), level)
            set_password(ctx, admin, name, PASSWORD)
    ids = {d.source: d.id for d in report.documents}
    return {"guide": ids["huong-dan.pdf"], "public": ids["cong-khai.pdf"], "secret": ids["mat.pdf"],
            "markup": ids["markup.pdf"]}


@pytest.fixture(scope="module")
def web_app(web_home: Home, world: dict[str, Any]) -> Iterator[Any]:
    """The app as `archive serve` on loopback builds it (plain-HTTP cookie), lifespan running."""
    from fastapi.testclient import TestClient

    from pipeline.entry.api import create_app

    made = create_app(web_home.settings, cookie_secure=False)
    with TestClient(made, base_url="http://127.0.0.1"):
        yield made


@pytest.fixture(scope="module")
def server(web_home: Home, world: dict[str, Any]) -> Iterator[str]:
    """The app served by uvicorn in a background thread on a free loopback port; its base URL."""
    import uvicorn

    from pipeline.entry.api import create_app
    from tests.sign.helpers import free_port

    port = free_port()
    # Secure cookies, as `archive serve` sets them by default: browsers keep them on http://127.0.0.1 (loopback
    # is a secure context), so the pages are tested the way the README tells people to open them.
    config = uvicorn.Config(create_app(web_home.settings, cookie_secure=True), host="127.0.0.1", port=port,
                            log_level="warning", lifespan="on")
    serving = uvicorn.Server(config)
    thread = threading.Thread(target=serving.run, name="web-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not serving.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        serving.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    """Chromium, started after the batch is ingested: Playwright's sync API keeps an event loop running in this
    thread, where the pipeline's own ``asyncio.run`` (signing) would then refuse to start."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Tab:
    """A browser page on the server, with the console errors and page errors it has seen."""

    page: Any
    base: str
    errors: list[str] = field(default_factory=list)

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base + path)


@pytest.fixture
def tab(browser: Any, server: str) -> Iterator[Tab]:
    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    made = Tab(page, server)
    page.on("console", lambda msg: made.errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: made.errors.append(f"pageerror: {exc}"))
    try:
        yield made
    finally:
        context.close()


def signed_in(tab: Tab, name: str, password: str = PASSWORD) -> Tab:
    """Sign ``name`` in through the form; the tab is then on the search page."""
    tab.goto("/login")
    tab.page.fill("#login-name", name)
    tab.page.fill("#login-password", password)
    tab.page.click("#login-submit")
    tab.page.wait_for_selector("#nav-signout")
    return tab


def artefacts_dir() -> Path:
    where = Path(os.environ.get("TEST_ARTIFACTS") or ROOT / "test-artifacts" / "web")
    where.mkdir(parents=True, exist_ok=True)
    return where


def shot(tab: Tab, name: str) -> Path:
    """A full-page screenshot, ``$TEST_ARTIFACTS/<name>.png``."""
    path = artefacts_dir() / f"{name}.png"
    tab.page.screenshot(path=str(path), full_page=True)
    return path
