"""Issue 14, quarantine list and retry through the real CLI (and the REST API) on the real S3 server: a batch
with a good PDF, a broken one, a broken Mật one and one whose manifest row is wrong (its bytes archived under
another name) is ingested; `archive quarantine list` shows what each archivist may see with its reason, the
last one resolved by its content; `retry` without a fix stays quarantined (exit 3, the new reason appended,
no second copy of the bytes); `retry --file` with a corrected PDF archives it, resolves the entry, updates the
batch journal and is audited; a reader is refused. Tests run in file order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.archive.layout import QUARANTINE
from pipeline.core.settings import Settings
from pipeline.core.vocabulary import Classification, DocState, Role
from tests.app.conftest import HEADER, Home, build_home

BROKEN = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n% the scanner stopped here\n"


@pytest.fixture(scope="module")
def home(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with build_home(s3_server, tmp_path_factory.mktemp("quarantine-home"), "quarantine") as made:
        made.env["COLUMNS"] = "240"  # the tables unfolded
        yield made


@pytest.fixture(scope="module")
def world(home: Home, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The batch ingested through the CLI; an archivist cleared for internal documents, a reader."""
    from pipeline.app.users import add_user, operator
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    folder = tmp_path_factory.mktemp("quarantine-batch") / "lo-cach-ly"
    make_born_digital_pdf(["Công văn số 12 về lưu trữ điện tử."], folder / "tot.pdf", title="Công văn tốt")
    (folder / "hong.pdf").write_bytes(BROKEN)
    (folder / "mat-hong.pdf").write_bytes(BROKEN + b"% mat\n")
    make_born_digital_pdf(["Tờ trình số 5 về kho lưu trữ."], folder / "ngay-sai.pdf")  # its row is wrong …
    (folder / "ban-sao.pdf").write_bytes((folder / "ngay-sai.pdf").read_bytes())  # … the same bytes, no row
    (folder / "manifest.csv").write_text(
        HEADER + "tot.pdf,12/CV-VP,Công văn,Công văn tốt,Văn phòng,2026-11-02,,Văn phòng,public,\n"
        + "mat-hong.pdf,07/KH-CY,Kế hoạch,Kế hoạch cơ yếu,Ban Cơ yếu,2026-11-03,,Phòng Cơ yếu,Mật,\n"
        + "ngay-sai.pdf,05/TTr-VP,Tờ trình,Tờ trình kho,Văn phòng,31/02/2026,,Văn phòng,public,\n",
        encoding="utf-8")
    with home.context() as ctx:
        ctx.store.ensure_bucket()
        admin = operator(ctx)
        add_user(ctx, admin, "lan", frozenset({Role.ARCHIVIST}), Classification.INTERNAL)
        add_user(ctx, admin, "hoa", frozenset({Role.STAFF}), Classification.TUYET_MAT)
    done = home.run("ingest", "--local", "--json", str(folder))
    assert done.returncode == 3, done.stderr
    report = json.loads(done.stdout)
    return {"folder": folder, "report": report, "by_source": {d["source"]: d for d in report["documents"]}}


def _list(home: Home, *args: str, user: str | None = None) -> list[dict[str, Any]]:
    done = home.run("quarantine", "list", "--json", *args, user=user)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _entries(home: Home, user: str | None = None, batch: str | None = None) -> list[dict[str, Any]]:
    """The same listing in-process (a CLI start costs seconds on a busy machine)."""
    from pipeline.app.quarantine import entries
    from pipeline.app.users import resolve_actor

    with home.context() as ctx:
        return [e.to_dict() for e in entries(ctx, resolve_actor(ctx, user), batch)]


def _kept_versions(home: Home) -> list[tuple[str, str]]:
    with home.context() as ctx:
        return sorted((o.object_name or "", o.version_id or "") for o in ctx.store.client.list_objects(
            ctx.store.bucket, prefix=f"{QUARANTINE}/", recursive=True, include_version=True))


def test_list_shows_the_broken_input_with_its_reason(home: Home, world: dict[str, Any]) -> None:
    assert world["by_source"]["tot.pdf"]["status"] == "archived"
    assert world["by_source"]["hong.pdf"]["status"] == "quarantined"
    found = _list(home, user="lan")
    assert [e["source"] for e in found] == ["hong.pdf"]  # the Mật one is above her clearance
    entry = found[0]
    assert entry["batch"] == "lo-cach-ly" and entry["batch_id"] == world["report"]["batch_id"]
    assert entry["stage"] == "intake" and entry["reason"] in world["by_source"]["hong.pdf"]["reason"]
    assert entry["size"] == len(BROKEN) and entry["stored"] and not entry["resolved"]
    assert entry["classification"] == "public" and len(entry["id"]) == 12
    assert _entries(home, "lan", world["report"]["batch_id"]) == _entries(home, "lan", "lo-cach-ly") == found
    assert _entries(home, "lan", "lo-khac") == []
    table = home.run("quarantine", "list", user="lan")
    assert table.returncode == 0 and entry["id"] in table.stdout and "hong.pdf" in table.stdout
    assert "mat-hong" not in table.stdout
    everything = {e["source"]: e for e in _entries(home)}  # the operator: the highest clearance
    assert set(everything) == {"hong.pdf", "mat-hong.pdf", "ngay-sai.pdf"}
    assert everything["mat-hong.pdf"]["classification"] == "mat" and not everything["mat-hong.pdf"]["resolved"]
    wrong_row = everything["ngay-sai.pdf"]  # unknown classification (its row is wrong): the highest clearance only
    assert wrong_row["classification"] == "" and "issued_date" in wrong_row["reason"]
    assert wrong_row["resolved"] and wrong_row["resolution"] == "the same content is archived"
    assert wrong_row["doc_id"] == world["by_source"]["ban-sao.pdf"]["id"]


def test_a_reader_is_refused(home: Home, world: dict[str, Any]) -> None:
    from pipeline.app.quarantine_retry import retry
    from pipeline.app.users import resolve_actor
    from pipeline.core.actor import AccessDenied

    done = home.run("quarantine", "list", user="hoa")
    assert done.returncode == 1 and "may not" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    with home.context() as ctx, pytest.raises(AccessDenied):
        retry(ctx, resolve_actor(ctx, "hoa"), _entries(home)[0]["id"])


def test_a_secret_entry_is_not_found_below_its_clearance(home: Home, world: dict[str, Any]) -> None:
    secret = next(e for e in _entries(home) if e["source"] == "mat-hong.pdf")
    done = home.run("quarantine", "retry", secret["id"], user="lan")
    assert done.returncode == 1 and "no quarantine entry" in done.stderr and "mat-hong" not in done.stderr
    from pipeline.app.errors import Invalid
    from pipeline.app.quarantine import find
    from pipeline.app.users import resolve_actor

    with home.context() as ctx, pytest.raises(Invalid, match="not a quarantine entry id"):
        find(ctx, resolve_actor(ctx, "lan"), "not-an-id")


def test_retry_without_a_fix_stays_quarantined(home: Home, world: dict[str, Any]) -> None:
    entry = _entries(home, "lan")[0]
    before = _kept_versions(home)
    done = home.run("quarantine", "retry", entry["id"], user="lan")
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert "still quarantined" in done.stdout and len(done.stderr.strip().splitlines()) == 1
    assert _kept_versions(home) == before  # no second copy of the same bytes, the reason never rewritten
    again = _entries(home, "lan")[0]
    assert not again["resolved"] and len(again["reasons"]) == 2 and len(again["attempts"]) == 1
    assert again["attempts"][0]["outcome"] == "quarantined" and again["attempts"][0]["actor"] == "lan"
    with home.context() as ctx:
        item = next(i for i in ctx.catalog.batch_items(entry["batch_id"]) if i.source_path == "hong.pdf")
        events = [e for e in ctx.catalog.query_audit() if e["action"] == "quarantine.retry"]
    assert item.state is DocState.QUARANTINED
    assert events[-1]["outcome"] == "quarantined" and events[-1]["detail"]["entry"] == entry["id"]
    assert not list(home.settings.work_dir.glob("quarantine-retry-*"))  # the private copy is gone


def test_retry_with_a_corrected_file_archives_and_resolves(home: Home, world: dict[str, Any],
                                                           tmp_path: Path) -> None:
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    entry = _entries(home, "lan")[0]
    fixed = make_born_digital_pdf(["Công văn số 13, quét lại bản đầy đủ."], tmp_path / "hong-quet-lai.pdf")
    done = home.run("quarantine", "retry", entry["id"], "--file", str(fixed), "--json", user="lan")
    assert done.returncode == 0, (done.stdout, done.stderr)
    result = json.loads(done.stdout)
    assert result["status"] == "archived" and len(result["doc_id"]) == 64
    assert result["replacement"]["name"] == "hong-quet-lai.pdf" and result["batch_id"] == entry["batch_id"]
    resolved = _list(home, user="lan")[0]
    assert resolved["resolved"] and resolved["doc_id"] == result["doc_id"] and "lan" in resolved["resolution"]
    assert resolved["attempts"][-1]["replacement"]["sha256"] == result["doc_id"]  # the link, kept in storage
    with home.context() as ctx:
        item = next(i for i in ctx.catalog.batch_items(entry["batch_id"]) if i.source_path == "hong.pdf")
        events = [e for e in ctx.catalog.query_audit() if e["action"] == "quarantine.retry"]
        record = ctx.store.get_record(result["doc_id"])
    assert item.state is DocState.ARCHIVED and item.doc_id == result["doc_id"]
    assert events[-1]["outcome"] == "archived" and events[-1]["detail"]["doc_id"] == result["doc_id"]
    assert (record.source.batch, record.source.path) == ("lo-cach-ly", "hong.pdf")
    assert any(entry["id"] in w for e in record.events for w in e.detail.get("warnings", []))
    again = home.run("quarantine", "retry", entry["id"], user="lan")
    assert again.returncode == 1 and "resolved already" in again.stderr


def test_the_api_lists_and_retries(home: Home, world: dict[str, Any]) -> None:
    from fastapi.testclient import TestClient

    from pipeline.app.auth_tokens import issue_token
    from pipeline.app.users import operator
    from pipeline.entry.api import create_app

    with home.context() as ctx:
        tokens = {name: issue_token(ctx, operator(ctx), name, "tests").token for name in ("lan", "hoa")}
    with TestClient(create_app(home.settings), base_url="https://testserver") as client:
        lan = {"Authorization": f"Bearer {tokens['lan']}"}
        page = client.get("/api/v1/quarantine", headers=lan).json()
        assert [e["source"] for e in page["items"]] == ["hong.pdf"] and page["items"][0]["resolved"]
        refused = client.get("/api/v1/quarantine", headers={"Authorization": f"Bearer {tokens['hoa']}"})
        assert refused.status_code == 403
        secret = next(e for e in _entries(home) if e["source"] == "mat-hong.pdf")
        assert client.post(f"/api/v1/quarantine/{secret['id']}/retry", headers=lan).status_code == 404
