"""Uploads through the REST API against the real app: a real S3 server, a SQLite catalog, the search index and
the real in-process ingest (born-digital PDFs: no OCR). Two PDFs and a manifest by token and by session (CSRF
required), a zipped batch, then every kind of hostile upload (zip-slip, links, bombs, lying headers, too many
files, oversize bodies, bad names) refused with 4xx and nothing left in the intake folder; roles; a batch is
404 for another archivist, 403 for staff."""

from __future__ import annotations

import io
import struct
import time
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pipeline.app.auth import set_password
from pipeline.app.auth_tokens import issue_token
from pipeline.app.users import add_user, operator
from pipeline.core.settings import Settings
from pipeline.core.settings_sections import ApiSettings
from pipeline.core.vocabulary import Classification, Role
from pipeline.devtools.samples.pdfs import make_born_digital_pdf
from pipeline.entry.api import create_app
from tests.app.conftest import HEADER, Home, build_home

PASSWORD = "Mật khẩu đủ dài 2026"
USERS = {"an": (Role.ARCHIVIST, Classification.MAT), "binh": (Role.ARCHIVIST, Classification.PUBLIC),
         "lan": (Role.STAFF, Classification.PUBLIC), "quan": (Role.ADMIN, Classification.TUYET_MAT)}
URL = "https://testserver"
LIMITS = ApiSettings(max_upload_mb=1, max_files=6, max_unpacked_mb=2, max_zip_ratio=50, batch_workers=1)


@pytest.fixture(scope="module")
def home(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with build_home(s3_server, tmp_path_factory.mktemp("upload-home"), "upl") as made:
        made.settings.api = LIMITS
        yield made


@pytest.fixture(scope="module")
def tokens(home: Home) -> dict[str, str]:
    with home.context() as ctx:
        ctx.store.ensure_bucket()
        admin = operator(ctx)
        found = {}
        for name, (role, level) in USERS.items():
            add_user(ctx, admin, name, frozenset({role}), level)
            set_password(ctx, admin, name, PASSWORD)
            found[name] = issue_token(ctx, admin, name, "tests").token
    return found


@pytest.fixture(scope="module")
def app(home: Home, tokens: dict[str, str]) -> Iterator[Any]:
    made = create_app(home.settings)
    with TestClient(made, base_url=URL):
        yield made


def client(app: Any, token: str | None = None) -> TestClient:
    made = TestClient(app, base_url=URL, raise_server_exceptions=False)
    if token:
        made.headers["Authorization"] = f"Bearer {token}"
    return made


def pdf(tmp: Path, name: str, text: str) -> bytes:
    return make_born_digital_pdf([text], tmp / name, title=text[:40]).read_bytes()


def manifest(*rows: tuple[str, str, str]) -> bytes:
    return (HEADER + "".join(f"{path},{number},Công văn,{title},Văn phòng,2026-11-02,,Văn phòng,public,\n"
                             for path, number, title in rows)).encode()


def uploads(home: Home) -> set[str]:
    folder = home.settings.intake_roots[0] / "uploads"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def wait_done(web: TestClient, batch_id: str, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        shown = web.get(f"/api/v1/batches/{batch_id}")
        assert shown.status_code == 200, shown.text
        body = shown.json()
        if body["state"] in ("done", "incomplete") or time.monotonic() > deadline:
            return body
        time.sleep(0.3)


def refused(response: Any, status: int, *words: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["request_id"] == response.headers["x-request-id"] and "\n" not in error["message"]
    for word in words:
        assert word in error["message"], error
    return str(error["message"])


def test_two_pdfs_and_a_manifest_by_token(app: Any, home: Home, tokens: dict[str, str], tmp_path: Path) -> None:
    archivist = client(app, tokens["an"])
    files = [("files", ("cong-van-1.pdf", pdf(tmp_path, "1.pdf", "Công văn về số hoá hồ sơ lưu trữ điện tử"))),
             ("files", ("cong-van-2.pdf", pdf(tmp_path, "2.pdf", "Công văn về bảo quản tài liệu giấy kho B"))),
             ("manifest", ("lo.csv", manifest(("cong-van-1.pdf", "11/CV-VP", "Số hoá hồ sơ"),
                                              ("cong-van-2.pdf", "12/CV-VP", "Bảo quản tài liệu"))))]
    sent = archivist.post("/api/v1/batches", files=files, data={"name": "Lô tháng 11"})
    assert sent.status_code == 202, sent.text
    answer = sent.json()
    assert answer["name"] == "Lô tháng 11" and answer["status_url"] == f"/api/v1/batches/{answer['batch_id']}"
    status = wait_done(archivist, answer["batch_id"])
    assert status["state"] == "done" and status["kept_at"] is None, status
    assert status["summary"] == {"archived": 2, "duplicate": 0, "quarantined": 0, "skipped": 0, "failed": 0,
                                 "pending": 0}
    assert status["total"] == status["finished"] == 2 and status["manifest_errors"] == []
    assert {d["source"] for d in status["documents"]} == {"cong-van-1.pdf", "cong-van-2.pdf"}
    assert all(d["state"] == "archived" and len(d["doc_id"]) == 64 for d in status["documents"])
    assert answer["batch_id"] not in uploads(home)  # archived: the staging folder is gone
    hits = archivist.get("/api/v1/search", params={"q": "bảo quản tài liệu giấy"}).json()["hits"]
    assert hits and hits[0]["id"] in {d["doc_id"] for d in status["documents"]}
    assert archivist.get("/api/v1/search", params={"q": "12/CV-VP"}).json()["total"] == 1  # the manifest applied
    listed = archivist.get("/api/v1/batches").json()
    assert listed["items"][0]["batch_id"] == answer["batch_id"] and listed["items"][0]["state"] == "done"
    events = client(app, tokens["quan"]).get("/api/v1/audit", params={"object": answer["batch_id"]}).json()["items"]
    upload = next(e for e in events if e["action"] == "batch.upload")
    assert upload["actor"] == "an" and upload["outcome"] == "ok"
    assert [f["name"] for f in upload["detail"]["files"]] == ["cong-van-1.pdf", "cong-van-2.pdf", "lo.csv"]
    assert all(f["size"] > 0 for f in upload["detail"]["files"])


def test_a_session_upload_needs_the_csrf_header(app: Any, home: Home, tokens: dict[str, str], tmp_path: Path) -> None:
    browser = client(app)
    csrf = browser.post("/api/v1/session", json={"name": "an", "password": PASSWORD}).json()["csrf_token"]
    files = [("files", ("phien.pdf", pdf(tmp_path, "p.pdf", "Biên bản phiên họp hội đồng xác định giá trị")))]
    before = uploads(home)
    refused(browser.post("/api/v1/batches", files=files), 403, "X-CSRF-Token")
    assert uploads(home) == before
    sent = browser.post("/api/v1/batches", files=files, headers={"X-CSRF-Token": csrf})
    assert sent.status_code == 202, sent.text
    status = wait_done(browser, sent.json()["batch_id"])
    assert status["state"] == "done" and status["summary"]["archived"] == 1 and sent.json()["name"] == "upload"
    assert browser.get("/api/v1/search", params={"q": "hội đồng xác định giá trị"}).json()["total"] == 1


def test_a_zipped_batch_with_its_manifest_and_leftovers(app: Any, home: Home, tokens: dict[str, str],
                                                        tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as made:
        made.writestr("lo-zip/", b"")
        made.writestr("lo-zip/quyet-dinh.pdf", pdf(tmp_path, "q.pdf", "Quyết định thành lập phòng lưu trữ số"))
        made.writestr("lo-zip/hong.pdf", b"%PDF-1.7 not really a PDF")
        made.writestr("lo-zip/Thumbs.db", b"\0" * 64)
        made.writestr("lo-zip/manifest.csv", manifest(("quyet-dinh.pdf", "05/QĐ-VP", "Thành lập phòng lưu trữ")))
        made.writestr("__MACOSX/lo-zip/._quyet-dinh.pdf", b"\0\x05\x16\x07" + b"\0" * 60)
    archivist = client(app, tokens["an"])
    sent = archivist.post("/api/v1/batches", files=[("files", ("lo-zip.zip", buffer.getvalue()))])
    assert sent.status_code == 202, sent.text
    assert sent.json()["name"] == "lo-zip"  # the zip's one folder is the batch
    status = wait_done(archivist, sent.json()["batch_id"])
    by_source = {d["source"]: d for d in status["documents"]}
    assert by_source["quyet-dinh.pdf"]["state"] == "archived"
    assert by_source["hong.pdf"]["state"] == "quarantined" and by_source["hong.pdf"]["reason"]
    assert by_source["Thumbs.db"]["state"] == "skipped" and by_source["__MACOSX"]["state"] == "skipped"
    assert status["state"] == "done" and status["kept_at"] is None  # quarantined bytes are kept in storage
    assert sent.json()["batch_id"] not in uploads(home)
    assert archivist.get("/api/v1/search", params={"q": "05/QĐ-VP"}).json()["total"] == 1


def _zip(*members: tuple[zipfile.ZipInfo | str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as made:
        for info, data in members:
            made.writestr(info, data)
    return buffer.getvalue()


def _link(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.create_system, info.external_attr = 3, (0o120777 << 16)
    return info, target.encode()


def _encrypted(name: str) -> bytes:
    """A member flagged as encrypted in both headers (zipfile cannot write encrypted members itself)."""
    data = bytearray(_zip((name, b"%PDF-1.7")))
    data[data.index(b"PK\x03\x04") + 6] |= 0x1
    data[data.index(b"PK\x01\x02") + 8] |= 0x1
    return bytes(data)


def _lying(name: str, real: int, claimed: int) -> bytes:
    """A member of ``real`` zero bytes whose local and central headers both claim ``claimed`` bytes."""
    data = bytearray(_zip((name, b"\0" * real)))
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, local + 22, claimed)
    struct.pack_into("<I", data, central + 24, claimed)
    return bytes(data)


def _code_page_name() -> bytes:
    """A member named in cp437 without the UTF-8 flag, as old zip tools write: "Quyết định" would be garbled."""
    data = bytearray(_zip(("Qu~t.pdf", b"%PDF-1.7")))
    for at in (i for i in range(len(data)) if data.startswith(b"Qu~t.pdf", i)):
        data[at + 2] = 0x82  # é in cp437, in both headers
    return bytes(data)


BOMB = 1 << 20  # one MiB of zeros packs into about 1 KiB: far above the test's ratio of 50
HOSTILE = {
    "zip-slip": ([("files", ("lo.zip", _zip(("../x.pdf", b"%PDF-1.7"))))], "'../x.pdf'"),
    "absolute": ([("files", ("lo.zip", _zip(("/etc/x", b"root"))))], "'/etc/x'"),
    "backslash": ([("files", ("lo.zip", _zip(("a\\..\\b", b"x"))))], "backslash"),
    "drive": ([("files", ("lo.zip", _zip(("C:/x.pdf", b"x"))))], "absolute"),
    "symlink": ([("files", ("lo.zip", _zip(_link("passwd.pdf", "/etc/passwd"))))], "symbolic link"),
    "encrypted": ([("files", ("lo.zip", _encrypted("mat.pdf")))], "encrypted"),
    "bomb": ([("files", ("lo.zip", _zip(("bom.pdf", b"\0" * BOMB))))], "zip bomb"),
    "lying-header": ([("files", ("lo.zip", _lying("noi-doi.pdf", BOMB, 20_000)))], "noi-doi.pdf"),
    "too-many-members": ([("files", ("lo.zip", _zip(*[(f"{i}.pdf", b"x") for i in range(7)])))], "more than 6"),
    "too-many-files": ([("files", (f"{i}.pdf", b"%PDF-1.7")) for i in range(7)], "more than 6"),
    "too-deep": ([("files", ("lo.zip", _zip(("lo/ho-so/phu/1.png", b"x"), ("khac.pdf", b"x"))))], "too deep"),
    "two-zips": ([("files", ("a.zip", _zip(("a.pdf", b"x")))), ("files", ("b.zip", _zip(("b.pdf", b"x"))))],
                 "more than one zip"),
    "code-page-name": ([("files", ("lo.zip", _code_page_name()))], "not marked as UTF-8"),
    "not-a-zip": ([("files", ("lo.zip", b"PK but nothing else"))], "not a readable zip"),
    "path-in-name": ([("files", ("../../etc/cron.pdf", b"%PDF-1.7"))], "path"),
    "nfc-collision": ([("files", ("Hà.pdf", b"%PDF-1.7")), ("files", ("Ha\u0300.pdf", b"%PDF-1.7"))], "NFC"),
    "control-char": ([("files", ("a\u202egpj.pdf", b"%PDF-1.7"))], "control characters"),
    "not-a-document": ([("files", ("virus.exe", b"MZ"))], "not a PDF"),
    "two-manifests": ([("files", ("lo.zip", _zip(("manifest.csv", HEADER.encode())))),
                       ("manifest", ("m.csv", HEADER.encode()))], "two manifests"),
    "bad-manifest": ([("files", ("a.pdf", b"%PDF-1.7")), ("manifest", ("m.csv", b"ten,ngay\nx,y\n"))],
                     "no 'path' column"),
    "no-files": ([("manifest", ("m.csv", HEADER.encode()))], "no files"),
    "unknown-field": ([("files", ("a.pdf", b"%PDF-1.7")), ("khac", ("b.pdf", b"%PDF-1.7"))], "unknown"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_uploads_are_refused_and_leave_nothing(app: Any, home: Home, tokens: dict[str, str],
                                                       case: str) -> None:
    files, words = HOSTILE[case]
    before = uploads(home)
    message = refused(client(app, tokens["an"]).post("/api/v1/batches", files=files), 422, words)
    assert len(message) <= 500
    assert uploads(home) == before


def test_oversize_bodies_are_413_by_length_and_while_reading(app: Any, home: Home, tokens: dict[str, str]) -> None:
    archivist, before = client(app, tokens["an"]), uploads(home)
    big = [("files", ("lon.pdf", b"%PDF-1.7\n" + b"x" * (3 << 19)))]
    refused(archivist.post("/api/v1/batches", files=big), 413)

    def chunked() -> Iterator[bytes]:  # no Content-Length: counted while it streams
        yield b"--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"lon.pdf\"\r\n\r\n"
        for _ in range(40):
            yield b"y" * (64 << 10)
        yield b"\r\n--b--\r\n"

    response = archivist.post("/api/v1/batches", content=chunked(),
                              headers={"Content-Type": "multipart/form-data; boundary=b"})
    refused(response, 413)
    refused(archivist.post("/api/v1/batches", content=b"files=a", headers={"Content-Type": "text/plain"}), 422)
    refused(archivist.post("/api/v1/batches", content=b"--b\r\nnonsense",
                           headers={"Content-Type": "multipart/form-data; boundary=b"}), 422)
    assert uploads(home) == before


def test_roles_and_who_sees_a_batch(app: Any, home: Home, tokens: dict[str, str], tmp_path: Path) -> None:
    files = [("files", ("ho-so.pdf", pdf(tmp_path, "h.pdf", "Hồ sơ nhân sự phòng tổ chức cán bộ")))]
    before = uploads(home)
    refused(client(app).post("/api/v1/batches", files=files), 401)
    refused(client(app, tokens["lan"]).post("/api/v1/batches", files=files), 403, "archivist")
    assert uploads(home) == before
    sent = client(app, tokens["an"]).post("/api/v1/batches", files=files)
    assert sent.status_code == 202, sent.text
    path = sent.json()["status_url"]
    refused(client(app, tokens["binh"]).get(path), 404)
    refused(client(app, tokens["lan"]).get(path), 403, "archivist")  # staff do not follow batches at all
    refused(client(app, tokens["an"]).get("/api/v1/batches/20260101T000000Z-deadbeef"), 404)
    refused(client(app, tokens["an"]).get("/api/v1/batches/bad_id!"), 422)
    assert wait_done(client(app, tokens["quan"]), sent.json()["batch_id"])["state"] == "done"  # admins see all
    assert client(app, tokens["binh"]).get("/api/v1/batches").json()["total"] == 0
    mine = client(app, tokens["an"]).get("/api/v1/batches", params={"page_size": 1}).json()
    assert mine["total"] >= 2 and len(mine["items"]) == 1 and mine["items"][0]["batch_id"] == sent.json()["batch_id"]


def test_a_page_image_becomes_a_one_page_document_folder(home: Home, tokens: dict[str, str]) -> None:
    """Staged by the application layer directly (no ingest: page images would need OCR)."""
    from pipeline.app.uploads import Staging
    from pipeline.app.users import resolve_actor

    with home.context() as ctx:
        staging = Staging(ctx, resolve_actor(ctx, "an"))
        for name, data in (("Trang bìa.png", b"\x89PNG not decoded here"), ("to-trinh.pdf", b"%PDF-1.7")):
            staging.begin("files", unicodedata.normalize("NFD", name))
            staging.write(data)
        staged = staging.finish("  Lô ảnh  ")
        try:
            assert staged.name == "Lô ảnh" and staged.batch_dir == staged.root / "Lô ảnh"
            assert (staged.batch_dir / "Trang bìa.png" / "Trang bìa.png").read_bytes().startswith(b"\x89PNG")
            assert (staged.batch_dir / "to-trinh.pdf").is_file()
            assert sorted(p.name for p in staged.root.iterdir()) == ["Lô ảnh"]  # the raw parts are gone
            assert staged.root.stat().st_mode & 0o777 == 0o700
            assert [f["name"] for f in staged.files] == ["Trang bìa.png", "to-trinh.pdf"]  # NFC
        finally:
            staging.discard()
        assert not staged.root.exists()


def test_a_huge_manifest_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """Read whole into memory by the ingest: a 21 MB one (bigger than any real batch needs) never is."""
    from pipeline.app.uploads import MAX_MANIFEST_BYTES, UploadRefused, _check_manifest

    huge = tmp_path / "manifest.csv"
    with huge.open("wb") as out:
        out.write(HEADER.encode())
        out.truncate(MAX_MANIFEST_BYTES + 1)
    with pytest.raises(UploadRefused, match="larger than 20 MB"):
        _check_manifest(huge)


def test_a_duplicate_of_an_unseen_document_names_nothing(app: Any, tokens: dict[str, str], tmp_path: Path) -> None:
    """The same bytes as a Mật document, uploaded by an archivist cleared for public documents only: the item
    is a duplicate (nothing is archived twice) but neither the Mật document's id nor its fate is shown."""
    data = pdf(tmp_path, "mat.pdf", "Phương án phòng thủ khu lưu trữ mật 2026")
    manifest = (HEADER + "mat.pdf,12/PA-BV,Phương án,Phương án phòng thủ,Ban Bảo vệ,2026-11-20,,Phòng Bảo vệ,"
                "Mật,\n").encode()
    first = client(app, tokens["an"]).post("/api/v1/batches", files=[("files", ("mat.pdf", data)),
                                                                     ("manifest", ("m.csv", manifest))])
    assert first.status_code == 202, first.text
    (kept,) = wait_done(client(app, tokens["an"]), first.json()["batch_id"])["documents"]
    assert kept["state"] == "archived" and kept["doc_id"]
    second = client(app, tokens["binh"]).post("/api/v1/batches", files=[("files", ("ban-sao.pdf", data))])
    assert second.status_code == 202, second.text
    (twin,) = wait_done(client(app, tokens["binh"]), second.json()["batch_id"])["documents"]
    assert twin["state"] == "duplicate" and twin["doc_id"] is None
    assert kept["doc_id"] not in str(twin) and "already in the archive" in twin["reason"]
