"""The REST API against the real app: a real S3 server, a SQLite catalog, the search index and a small batch
ingested in-process (one public document, one Mật). Sign-in by password (session cookie + CSRF) and by token;
one error shape; a public staff user sees no trace of the Mật document; roles; streamed downloads; request ids;
then schemathesis over the OpenAPI document finds no server error."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from pipeline.app.auth import set_password
from pipeline.app.auth_tokens import issue_token
from pipeline.app.batches import ingest_batch
from pipeline.app.users import add_user, operator
from pipeline.core.settings import Settings
from pipeline.core.vocabulary import Classification, Role
from pipeline.entry.api import create_app
from tests.app.conftest import HEADER, Home, build_home

PASSWORD = "Mật khẩu đủ dài 2026"
SECRET = "Phương án bảo vệ kho lưu trữ cơ yếu"
USERS = {"lan": (Role.STAFF, Classification.PUBLIC), "hoa": (Role.RECORDS_OFFICER, Classification.MAT),
         "quan": (Role.ADMIN, Classification.TUYET_MAT)}
URL = "https://testserver"  # the session cookie is Secure (__Host-): the client must speak "https"


@pytest.fixture(scope="module")
def home(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with build_home(s3_server, tmp_path_factory.mktemp("api-home"), "api") as made:
        yield made


@pytest.fixture(scope="module")
def world(home: Home, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Ingest the batch, add the users with passwords and tokens: ids and tokens by name."""
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    batch = tmp_path_factory.mktemp("api-batch") / "lo-api"
    make_born_digital_pdf(["Chỉ thị về văn bản điện tử công khai cho mọi người."], batch / "cong-khai.pdf",
                          title="Chỉ thị công khai")
    make_born_digital_pdf([f"{SECRET}. Sơ đồ hầm chứa hồ sơ."], batch / "mat.pdf", title=SECRET)
    (batch / "manifest.csv").write_text(
        HEADER + "cong-khai.pdf,01/CT-VP,Chỉ thị,Văn bản điện tử công khai,Văn phòng,2026-11-02,,Văn phòng,public,\n"
        + f"mat.pdf,07/PA-CY,Phương án,{SECRET},Ban Cơ yếu,2026-11-20,,Phòng Cơ yếu,Mật,\n", encoding="utf-8")
    with home.context() as ctx:
        admin = operator(ctx)
        report = ingest_batch(ctx, admin, batch, executor="local")
        assert report.ok, report.to_dict()
        tokens = {}
        for name, (role, level) in USERS.items():
            add_user(ctx, admin, name, frozenset({role}), level)
            set_password(ctx, admin, name, PASSWORD)
            tokens[name] = issue_token(ctx, admin, name, "tests").token
    ids = {d.source: d.id for d in report.documents}
    return {"public": ids["cong-khai.pdf"], "secret": ids["mat.pdf"], "tokens": tokens}


@pytest.fixture(scope="module")
def app(home: Home, world: dict[str, Any]) -> Iterator[Any]:
    made = create_app(home.settings)
    with TestClient(made, base_url=URL):  # runs the lifespan: the Context is closed at the end
        yield made


def client(app: Any, token: str | None = None) -> TestClient:
    made = TestClient(app, base_url=URL, raise_server_exceptions=False)
    if token:
        made.headers["Authorization"] = f"Bearer {token}"
    return made


def as_user(app: Any, world: dict[str, Any], name: str) -> TestClient:
    return client(app, world["tokens"][name])


def error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and {"code", "message", "request_id"} <= set(body["error"]), body
    assert body["error"]["request_id"] == response.headers["x-request-id"]
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


@pytest.mark.parametrize("method,path", [
    ("GET", "/api/v1/search?q=chi+thi"), ("GET", "/api/v1/documents/abcdef12"), ("GET", "/api/v1/stats"),
    ("GET", "/api/v1/audit"), ("POST", "/api/v1/holds"), ("GET", "/metrics"), ("GET", "/openapi.json"),
    ("GET", "/docs"), ("GET", "/api/v1/session"), ("POST", "/api/v1/disposals/P-1/execute")])
def test_everything_but_healthz_needs_sign_in(app: Any, method: str, path: str) -> None:
    response = client(app).request(method, path)
    error(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"
    error(client(app, "arc_not-a-real-token").request(method, path), 401, "unauthenticated")


def test_health_and_readiness_say_nothing_to_strangers(app: Any, world: dict[str, Any]) -> None:
    assert client(app).get("/healthz").json() == {"status": "ok"}
    admin = as_user(app, world, "quan").get("/readyz")
    checks = admin.json()["checks"]
    assert set(checks) == {"storage", "broker", "catalog", "index"}
    assert checks["storage"]["ok"] and checks["catalog"]["ok"] and checks["index"]["ok"], checks
    stranger = client(app).get("/readyz")
    assert stranger.status_code == admin.status_code == (200 if all(c["ok"] for c in checks.values()) else 503)
    assert "checks" not in stranger.text and "redis" not in stranger.text.lower()
    staff = as_user(app, world, "lan").get("/readyz")
    assert staff.status_code == admin.status_code and "checks" not in staff.text


def test_password_sign_in_makes_a_strict_session_cookie_and_csrf_guards_changes(app: Any, world: dict) -> None:
    browser = client(app)
    signed = browser.post("/api/v1/session", json={"name": "hoa", "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    cookie = signed.headers["set-cookie"]
    assert cookie.startswith("__Host-archive_session=") and "Path=/" in cookie
    assert all(flag in cookie.lower() for flag in ("httponly", "secure", "samesite=strict"))
    csrf = signed.json()["csrf_token"]
    assert signed.json()["roles"] == ["records-officer"] and signed.json()["via"] == "session"
    assert browser.get("/api/v1/search", params={"q": "chỉ thị"}).status_code == 200  # reads need no CSRF
    hold = {"documents": [world["public"]], "reason": "Thanh tra", "case": "TT-01/2026"}
    error(browser.post("/api/v1/holds", json=hold), 403, "csrf")
    error(browser.post("/api/v1/holds", json=hold, headers={"X-CSRF-Token": "wrong"}), 403, "csrf")
    placed = browser.post("/api/v1/holds", json=hold, headers={"X-CSRF-Token": csrf})
    assert placed.status_code == 201, placed.text
    release = f"/api/v1/holds/{placed.json()['id']}/release"
    assert browser.post(release, json={"reason": "xong"}, headers={"X-CSRF-Token": csrf}).status_code == 200
    error(browser.post(release, json={"reason": "xong"}, headers={"X-CSRF-Token": csrf}), 409, "conflict")
    error(browser.delete("/api/v1/session"), 403, "csrf")
    assert browser.delete("/api/v1/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    error(browser.get("/api/v1/session"), 401, "unauthenticated")


def test_wrong_passwords_are_401_then_429_with_retry_after(app: Any) -> None:
    browser = client(app)
    for _ in range(5):
        error(browser.post("/api/v1/session", json={"name": "ke-gian", "password": "sai mật khẩu"}), 401,
              "signin_failed")
    limited = browser.post("/api/v1/session", json={"name": "ke-gian", "password": "sai mật khẩu"})
    error(limited, 429, "rate_limited")
    assert int(limited.headers["retry-after"]) > 0
    error(browser.post("/api/v1/session", json={"name": "lan"}), 422, "validation")
    form = json.dumps({"name": "lan", "password": PASSWORD})  # a cross-site form cannot send JSON
    error(browser.post("/api/v1/session", content=form, headers={"Content-Type": "text/plain"}), 422, "validation")
    huge = {"name": "lan", "password": "x" * (2 << 20)}  # bodies are capped before anything reads them
    error(browser.post("/api/v1/session", json=huge), 413, "too_large")


def test_an_unexpected_failure_is_a_500_without_internals(app: Any, world: dict[str, Any],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.app import searching

    def broken(*_: Any) -> None:
        raise RuntimeError("connection to /srv/secret-internals refused")

    monkeypatch.setattr(searching, "search", broken)
    failed = error(as_user(app, world, "lan").get("/api/v1/search", params={"q": "x"}), 500, "internal")
    assert "secret-internals" not in json.dumps(failed)


def test_token_requests_need_no_csrf(app: Any, world: dict[str, Any]) -> None:
    officer = as_user(app, world, "hoa")
    assert officer.get("/api/v1/session").json()["via"] == "token"
    placed = officer.post("/api/v1/holds", json={"documents": [world["public"][:10]], "reason": "Kiểm tra",
                                                 "case": "KT-02"})
    assert placed.status_code == 201, placed.text
    held = officer.get("/api/v1/holds").json()
    assert placed.json()["id"] in [h["id"] for h in held["items"]] and held["page"] == 1
    assert officer.post(f"/api/v1/holds/{placed.json()['id']}/release", json={"reason": "xong"}).status_code == 200


def test_public_staff_gets_404_for_the_secret_document_everywhere(app: Any, world: dict[str, Any]) -> None:
    staff, secret = as_user(app, world, "lan"), world["secret"]
    base = f"/api/v1/documents/{secret}"
    for method, path in [("GET", base), ("GET", f"/api/v1/documents/{secret[:8]}"), ("GET", f"{base}/pages/1/text"),
                         ("GET", f"{base}/pdf"), ("GET", f"{base}/pdf?representation=original"),
                         ("POST", f"{base}/verify")]:
        response = staff.request(method, path)
        error(response, 404, "not_found")
        assert "Cơ yếu" not in response.text and "07/PA-CY" not in response.text
    for q in ("bảo vệ kho lưu trữ", "bao ve kho luu tru", "07/PA-CY", "cơ yếu"):
        found = staff.get("/api/v1/search", params={"q": q}).json()
        assert found["total"] == 0 and found["hits"] == [], found
    everything = staff.get("/api/v1/search", params={"q": "chỉ thị phương án văn bản"}).json()
    assert secret not in json.dumps(everything) and "Cơ yếu" not in json.dumps(everything, ensure_ascii=False)
    stats = json.dumps(staff.get("/api/v1/stats", params={"by": "unit"}).json(), ensure_ascii=False)
    assert "Cơ yếu" not in stats and secret not in stats and '"total": 1' in stats
    cleared = as_user(app, world, "hoa").get("/api/v1/search", params={"q": "bao ve kho luu tru"}).json()
    assert [h["id"] for h in cleared["hits"]] == [secret] and cleared["hits"][0]["page"] == 1
    assert "Phòng Cơ yếu" in json.dumps(cleared["facets"], ensure_ascii=False)


def test_public_document_reads_text_and_verifies(app: Any, world: dict[str, Any]) -> None:
    staff, public = as_user(app, world, "lan"), world["public"]
    shown = staff.get(f"/api/v1/documents/{public[:12]}").json()
    assert shown["id"] == public and shown["metadata"]["doc_number"] == "01/CT-VP" and "page_texts" not in shown
    text = staff.get(f"/api/v1/documents/{public}/pages/1/text").json()
    assert "văn bản điện tử công khai" in text["text"] and text["page_count"] == shown["page_count"]
    error(staff.get(f"/api/v1/documents/{public}/pages/99/text"), 404, "not_found")
    error(staff.get("/api/v1/documents/not-hex!"), 422, "validation")
    report = staff.post(f"/api/v1/documents/{public}/verify").json()
    assert report["status"] == "valid" and report["checksum"] == "match", report


def test_download_streams_the_exact_bytes(app: Any, home: Home, world: dict[str, Any]) -> None:
    staff, public = as_user(app, world, "lan"), world["public"]
    artefacts = staff.get(f"/api/v1/documents/{public}").json()["artefacts"]
    got = staff.get(f"/api/v1/documents/{public}/pdf")
    assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(got.content).hexdigest() == artefacts["archive.pdf"]["sha256"]
    original = staff.get(f"/api/v1/documents/{public}/pdf", params={"representation": "original"})
    assert hashlib.sha256(original.content).hexdigest() == artefacts["original/cong-khai.pdf"]["sha256"]
    assert 'filename="cong-khai.pdf"' in original.headers["content-disposition"]
    ranged = staff.get(f"/api/v1/documents/{public}/pdf", headers={"Range": "bytes=0-4"})
    assert ranged.status_code == 206 and ranged.content == b"%PDF-"
    assert ranged.headers["x-content-type-options"] == "nosniff"
    beyond = staff.get(f"/api/v1/documents/{public}/pdf", headers={"Range": "bytes=999999999-"})
    assert beyond.status_code == 416  # answered without background tasks: the copy must still go
    assert not list(home.settings.work_dir.glob("api-download-*"))  # the temporary copies are gone
    hits = staff.get("/api/v1/search", params={"q": "công khai"}).json()["hits"]
    assert hits and all("score" not in h for h in hits)  # raw scores depend on documents above clearance
    deep = staff.get("/api/v1/search", params={"q": "công khai", "page": 101, "page_size": 100})
    assert deep.status_code == 422 and deep.json()["error"]["code"] in ("invalid", "validation")
    edge = as_user(app, world, "quan").get("/api/v1/audit", params={"to": "9999-12-31"})
    assert edge.status_code == 422  # the calendar's edge is a bad date, not a server error


def test_roles_are_checked_by_the_application_layer(app: Any, world: dict[str, Any]) -> None:
    staff, officer, admin = (as_user(app, world, n) for n in ("lan", "hoa", "quan"))
    for method, path in [("GET", "/api/v1/audit"), ("GET", "/api/v1/holds"), ("GET", "/api/v1/retention/due"),
                         ("GET", "/api/v1/disposals"), ("GET", "/metrics")]:
        error(staff.request(method, path), 403, "forbidden")
    error(staff.post("/api/v1/holds", json={"documents": [world["public"]], "reason": "r", "case": "c"}), 403)
    error(officer.get("/api/v1/holds", params={"page_size": 1000}), 422, "validation")
    audit = admin.get("/api/v1/audit", params={"page_size": 3}).json()
    assert len(audit["items"]) == 3 and audit["total"] > 3 and audit["items"][0]["seq"] > audit["items"][1]["seq"]
    # below the highest clearance, only events about documents one may see (batch events count them all)
    seen = officer.get("/api/v1/audit", params={"page_size": 200}).json()["items"]
    assert seen and all(e["object"] in (world["public"], world["secret"]) or e["object"][:2] in ("H-", "P-")
                        for e in seen)
    assert not {"batch.start", "batch.finish"} & {e["action"] for e in seen}
    assert officer.get("/api/v1/retention/due").json()["total"] == 0
    error(officer.post("/api/v1/disposals", json={"documents": [world["public"]]}), 422, "invalid")
    error(officer.post("/api/v1/disposals/P-20260101-deadbeef/approve", json={"decision": "QĐ 1", "council": "A"}),
          404, "not_found")
    error(officer.get("/metrics"), 403, "forbidden")
    metrics = admin.get("/metrics")
    assert metrics.status_code == 200 and "archive_documents_total" in metrics.text


def test_request_ids_come_back_and_reach_the_log(app: Any, home: Home, world: dict[str, Any]) -> None:
    staff = as_user(app, world, "lan")
    assert staff.get("/healthz", headers={"X-Request-ID": "kiem-tra-42"}).headers["x-request-id"] == "kiem-tra-42"
    made = staff.get("/healthz", headers={"X-Request-ID": "x" * 200 + "\t"}).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    error(staff.get(f"/api/v1/documents/{world['secret']}", headers={"X-Request-ID": "tim-mat-1"}), 404)
    lines = [json.loads(line) for line in (home.settings.log_dir / "archive.jsonl").read_text().splitlines()]
    assert any(r.get("request_id") == "tim-mat-1" and r.get("actor") == "lan" for r in lines)


def test_openapi_lists_the_endpoints(app: Any, world: dict[str, Any]) -> None:
    staff = as_user(app, world, "lan")
    paths = staff.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/search", "/api/v1/documents/{doc_id}", "/api/v1/documents/{doc_id}/pages/{n}/text",
                 "/api/v1/documents/{doc_id}/pdf", "/api/v1/documents/{doc_id}/verify", "/api/v1/stats",
                 "/api/v1/audit", "/api/v1/holds", "/api/v1/holds/{hold_id}/release", "/api/v1/retention/due",
                 "/api/v1/disposals", "/api/v1/disposals/{proposal_id}/approve", "/api/v1/session", "/metrics",
                 "/healthz", "/readyz"):
        assert path in paths, path
    assert "swagger" in staff.get("/docs").text.lower()


def test_reports_count_only_what_the_caller_may_see(app: Any, home: Home, world: dict[str, Any]) -> None:
    admin, staff = client(app, world["tokens"]["quan"]), client(app, world["tokens"]["lan"])
    pdf = admin.get("/api/v1/reports", params={"period": "2026"})
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-", pdf.text[:300]
    assert pdf.headers["content-disposition"].startswith("attachment") and b"/ByteRange" in pdf.content  # signed
    html = staff.get("/api/v1/reports", params={"format": "html", "period": "2026", "lang": "en"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "Phòng Cơ yếu" not in html.text and "default-src 'none'" in html.headers["content-security-policy"]
    assert "Phòng Cơ yếu" in admin.get("/api/v1/reports", params={"format": "html"}).text
    bad = staff.get("/api/v1/reports", params={"period": "2026-13"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid"
    assert not list(home.settings.work_dir.glob("api-report-*"))  # the temporary files are gone


OPERATIONS = [("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"), ("GET", "/api/v1/session"),
              ("POST", "/api/v1/session"), ("DELETE", "/api/v1/session"), ("GET", "/api/v1/search"),
              ("GET", "/api/v1/documents/{doc_id}"), ("PATCH", "/api/v1/documents/{doc_id}"),
              ("GET", "/api/v1/documents/{doc_id}/pages/{n}/text"),
              ("GET", "/api/v1/documents/{doc_id}/pdf"), ("POST", "/api/v1/documents/{doc_id}/verify"),
              ("GET", "/api/v1/stats"), ("GET", "/api/v1/reports"), ("GET", "/api/v1/audit"),
              ("GET", "/api/v1/holds"), ("POST", "/api/v1/holds"),
              ("POST", "/api/v1/holds/{hold_id}/release"), ("GET", "/api/v1/retention/due"),
              ("GET", "/api/v1/disposals"), ("POST", "/api/v1/disposals"), ("GET", "/api/v1/disposals/{proposal_id}"),
              ("POST", "/api/v1/disposals/{proposal_id}/approve"), ("POST", "/api/v1/disposals/{proposal_id}/reject"),
              ("POST", "/api/v1/disposals/{proposal_id}/execute"),
              ("GET", "/api/v1/batches"), ("POST", "/api/v1/batches"), ("GET", "/api/v1/batches/{batch_id}"),
              ("GET", "/api/v1/quarantine"), ("POST", "/api/v1/quarantine/{entry_id}/retry")]


# Fewer examples where each valid one is costly: a report is a signed PDF/A made per request (2.6 s each: 25
# examples took 66 s, a fifth of this file).
EXAMPLES = {("GET", "/api/v1/reports"): 10}


@pytest.fixture(scope="module")
def api_schema(app: Any, world: dict[str, Any]) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", app, headers=auth(world))


def auth(world: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {world['tokens']['quan']}"}


def test_the_fuzzed_operations_are_all_of_them(api_schema: Any) -> None:
    found = {(r.ok().method.upper(), r.ok().path) for r in api_schema.get_all_operations()}
    assert found == set(OPERATIONS)


@pytest.mark.parametrize("method,path", OPERATIONS)
def test_schemathesis_finds_no_server_error(api_schema: Any, world: dict[str, Any], method: str, path: str) -> None:
    """Valid and invalid requests generated from the OpenAPI document for each operation, sent as the admin
    (every role, the top clearance) to the app in-process: never a 5xx, always the error shape."""
    operation = api_schema[path][method]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=cases, real=st.sampled_from(["", "public", "secret"]))
    @settings(max_examples=EXAMPLES.get((method, path), 25), deadline=None,
              suppress_health_check=list(HealthCheck), database=None)
    def run(case: Any, real: str) -> None:
        if real and "doc_id" in (case.path_parameters or {}):  # random ids find nothing: also ask for real ones
            case.path_parameters["doc_id"] = world[real]
        response = case.call(headers=auth(world))
        if path == "/readyz" and response.status_code == 503:
            return  # not a failure: no broker runs for these tests, so the service is (rightly) not ready
        assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
        if response.status_code >= 400:
            assert {"code", "message", "request_id"} <= set(response.json()["error"]), response.text

    run()
