"""Issue 11, retention on the real S3 server: every document gets its record class and retain-until date from
the schedule at ingest, storage locks it that long (COMPLIANCE: not even the app's keys can delete it), a
permanent record is locked for the rolling horizon and never due, and `archive retention due` lists what has
passed its retention. Old issue dates (2010) make documents due now; the storage clock is never mocked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from minio.commonconfig import COMPLIANCE
from minio.error import S3Error

from pipeline.core.settings import Settings, load_settings, update_config
from tests.app.conftest import HEADER, Home, build_home

ROWS = {  # file → (doc_type, issued, title)
    "giay-moi-2010.pdf": ("Giấy mời", "2010-01-05", "Mời họp giao ban"),  # 5 years: due since 2015
    "quyet-dinh-2010.pdf": ("Quyết định", "2010-03-01", "Ban hành quy chế lưu trữ"),  # permanent
    "cong-van-2025.pdf": ("Công văn", "2025-01-01", "Hướng dẫn lập hồ sơ"),  # 10 years: until 2035
}


@pytest.fixture(scope="module")
def home(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with build_home(s3_server, tmp_path_factory.mktemp("retention-home"), "retention") as made:
        update_config(made.settings.home, {"retention.safety_days": 1})  # past-due at ingest: locked one day
        made.settings = load_settings(made.settings.home, environ={})
        yield made


@pytest.fixture(scope="module")
def ingested(home: Home, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from pipeline.app.batches import ingest_batch
    from pipeline.app.users import resolve_actor
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    batch = tmp_path_factory.mktemp("retention-batch") / "lo-thoi-han"
    lines = [HEADER.strip() + ",dossier_code,order_in_dossier,reliability"]
    for n, (name, (doc_type, issued, title)) in enumerate(ROWS.items(), start=1):
        make_born_digital_pdf([f"{doc_type}: {title}."], batch / name, title=title)
        lines.append(f"{name},{n}/VP,{doc_type},{title},Văn phòng,{issued},,Văn phòng,public,,G01.2010.05,{n},01")
    (batch / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with home.context() as ctx:
        report = ingest_batch(ctx, resolve_actor(ctx, None), batch, executor="local")
    assert report.ok, report.to_dict()
    return {d.source: d.id for d in report.documents}


def _lock(home: Home, doc_id: str, role: str = "archive.pdf") -> tuple[str, datetime | None]:
    with home.context() as ctx:
        record = ctx.store.get_record(doc_id)
        art = record.artefacts[role]
        try:
            found = ctx.store.client.get_object_retention(ctx.store.bucket, art.key, version_id=art.version_id or None)
        except S3Error as exc:
            if exc.code in ("NoSuchObjectLockConfiguration", "ObjectLockConfigurationNotFoundError"):
                return "", None
            raise
    return found.mode, found.retain_until_date


def test_every_document_gets_its_class_and_end_of_retention(home: Home, ingested: dict[str, str]) -> None:
    with home.context() as ctx:
        records = {name: ctx.store.get_record(doc_id) for name, doc_id in ingested.items()}
    invite, decision, letter = (records[n] for n in ROWS)
    assert (invite.retention.class_code, invite.retain_until, invite.retention.action) == ("1.7", date(2015, 1, 5),
                                                                                           "destroy")
    assert decision.retention.permanent and decision.retain_until is None and decision.retention.action == "transfer"
    assert letter.retain_until == date(2035, 1, 1) and letter.retention.trigger_date == date(2025, 1, 1)
    assert letter.metadata.export_name() == "G01.2010.05.3" and letter.metadata.reliability == "original"


def test_storage_locks_each_document_for_its_own_retention(home: Home, ingested: dict[str, str]) -> None:
    mode, until = _lock(home, ingested["cong-van-2025.pdf"])
    assert mode == COMPLIANCE and until is not None and until.date() == date(2035, 1, 2)  # through 1 January 2035
    mode, until = _lock(home, ingested["quyet-dinh-2010.pdf"], "original/quyet-dinh-2010.pdf")
    assert mode == COMPLIANCE and until is not None
    assert abs(until - (datetime.now(UTC) + timedelta(days=3653))) < timedelta(days=2)  # the rolling horizon
    mode, until = _lock(home, ingested["giay-moi-2010.pdf"])  # past its retention at ingest: the safety lock
    assert mode == COMPLIANCE and until is not None
    assert abs(until - (datetime.now(UTC) + timedelta(days=1))) < timedelta(hours=1)


def test_a_document_under_retention_cannot_be_deleted_with_the_apps_keys(home: Home,
                                                                         ingested: dict[str, str]) -> None:
    with home.context() as ctx:
        art = ctx.store.get_record(ingested["cong-van-2025.pdf"]).artefacts["original/cong-van-2025.pdf"]
        version = ctx.store.client.stat_object(ctx.store.bucket, art.key).version_id
        assert version
        with pytest.raises(S3Error) as info:
            ctx.store.client.remove_object(ctx.store.bucket, art.key, version_id=version)
        assert info.value.code == "AccessDenied"
        assert ctx.store.client.stat_object(ctx.store.bucket, art.key, version_id=version).size == art.size


def test_due_lists_what_passed_its_retention_never_a_permanent_record(home: Home,
                                                                     ingested: dict[str, str]) -> None:
    due = home.run("retention", "due", "--json")
    assert due.returncode == 0, due.stderr
    assert [d["id"] for d in json.loads(due.stdout)] == [ingested["giay-moi-2010.pdf"]]
    later = json.loads(home.run("retention", "due", "--json", "--on", "2035-01-02").stdout)
    assert {d["id"] for d in later} == {ingested["giay-moi-2010.pdf"], ingested["cong-van-2025.pdf"]}
    assert ingested["quyet-dinh-2010.pdf"] not in {d["id"] for d in json.loads(
        home.run("retention", "due", "--json", "--on", "2999-01-01").stdout)}


def test_only_the_records_office_reads_retention(home: Home, ingested: dict[str, str]) -> None:
    assert home.run("user", "add", "nhanvien", "--role", "staff", "--clearance", "public").returncode == 0
    refused = home.run("retention", "due", user="nhanvien")
    assert refused.returncode == 1 and "records-officer" in refused.stderr and "Traceback" not in refused.stderr


def test_a_bad_schedule_stops_the_ingest_before_any_write(home: Home, tmp_path: Path) -> None:
    bad = tmp_path / "lich.toml"
    bad.write_text("[default]\ncode='0'\nname='x'\nperiod='mãi mãi'\n", encoding="utf-8")
    env = {**home.env, "ARCHIVE_RETENTION__SCHEDULE_FILE": str(bad)}
    batch = tmp_path / "lo"
    batch.mkdir()
    (batch / "a.pdf").write_bytes(b"%PDF-1.4\n")
    import subprocess

    from tests.app.conftest import ARCHIVE

    done = subprocess.run([ARCHIVE, "ingest", str(batch), "--local"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1 and "period must be 'permanent'" in done.stderr, done.stderr
    shown = subprocess.run([ARCHIVE, "retention", "schedule"], env=env, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 1 and str(bad) in shown.stderr


def _held_flags(home: Home, doc_id: str) -> set[bool]:
    with home.context() as ctx:
        flags = set()
        for obj in ctx.store.client.list_objects(ctx.store.bucket, prefix=f"documents/{doc_id}/", recursive=True,
                                                 include_version=True):
            flags.add(ctx.store.client.is_object_legal_hold_enabled(ctx.store.bucket, obj.object_name,
                                                                    obj.version_id))
    return flags


def test_a_held_document_is_never_due_and_storage_refuses_its_deletion(home: Home,
                                                                        ingested: dict[str, str]) -> None:
    invite = ingested["giay-moi-2010.pdf"]  # due (its safety lock ends tomorrow)
    placed = home.run("hold", "add", invite[:12], "--reason", "Thanh tra yêu cầu giữ nguyên hồ sơ",
                      "--case", "Quyết định thanh tra số 12/QĐ-TTr", "--json")
    assert placed.returncode == 0, placed.stderr
    hold = json.loads(placed.stdout)
    assert hold["documents"] == [invite] and hold["created_by"] == "admin"
    assert _held_flags(home, invite) == {True}  # every version of every object
    assert json.loads(home.run("retention", "due", "--json").stdout) == []
    with home.context() as ctx:
        key = ctx.store.get_record(invite).artefacts["archive.pdf"].key
        version = ctx.store.client.stat_object(ctx.store.bucket, key).version_id
        with pytest.raises(S3Error) as info:
            ctx.store.client.remove_object(ctx.store.bucket, key, version_id=version)
        assert info.value.code == "AccessDenied"
    # a second hold on the same document: releasing the first keeps the flag
    second = json.loads(home.run("hold", "add", invite[:12], "--reason", "Khiếu nại", "--case", "KN-7",
                                 "--json").stdout)
    released = home.run("hold", "release", hold["id"], "--reason", "Thanh tra kết thúc")
    assert released.returncode == 0, released.stderr
    assert _held_flags(home, invite) == {True}
    assert json.loads(home.run("retention", "due", "--json").stdout) == []
    assert home.run("hold", "release", second["id"], "--reason", "Đã giải quyết").returncode == 0
    assert _held_flags(home, invite) == {False}
    assert [d["id"] for d in json.loads(home.run("retention", "due", "--json").stdout)] == [invite]
    again = home.run("hold", "release", second["id"], "--reason", "lần nữa")
    assert again.returncode == 1 and "already released" in again.stderr
    listed = json.loads(home.run("hold", "list", "--all", "--json").stdout)
    assert {h["id"] for h in listed} >= {hold["id"], second["id"]}
    assert json.loads(home.run("hold", "list", "--json").stdout) == []
    with home.context() as ctx:
        trail = [e["action"] for h in (hold["id"], second["id"]) for e in ctx.catalog.query_audit(object_id=h)]
        stored = {h.id: h for h in ctx.store.read_holds()}
    assert stored[hold["id"]].release_reason == "Thanh tra kết thúc"  # the hold is a record in storage too
    assert sorted(trail) == ["hold.add", "hold.add", "hold.release", "hold.release"]


def test_a_hold_needs_a_reason_a_case_and_the_role(home: Home, ingested: dict[str, str]) -> None:
    letter = ingested["cong-van-2025.pdf"][:12]
    missing = home.run("hold", "add", letter, "--case", "X")
    assert missing.returncode == 1 and "needs a reason" in missing.stderr
    home.run("user", "add", "luutru", "--role", "archivist", "--clearance", "public")
    refused = home.run("hold", "add", letter, "--reason", "r", "--case", "c", user="luutru")
    assert refused.returncode == 1 and "records-officer" in refused.stderr


def test_holds_come_back_when_the_catalog_is_rebuilt_from_storage(home: Home, ingested: dict[str, str]) -> None:
    placed = json.loads(home.run("hold", "add", ingested["cong-van-2025.pdf"][:12], "--reason", "Lưu giữ",
                                 "--case", "VB-99", "--json").stdout)
    rebuilt = home.run("reindex")
    assert rebuilt.returncode == 0, rebuilt.stderr
    listed = {h["id"]: h for h in json.loads(home.run("hold", "list", "--json").stdout)}
    assert listed[placed["id"]]["documents"] == [ingested["cong-van-2025.pdf"]]
    retained = json.loads(home.run("retention", "due", "--json", "--on", "2035-01-02").stdout)
    assert ingested["cong-van-2025.pdf"] not in {d["id"] for d in retained}  # held, even after its retention


def test_a_hold_on_documents_above_your_clearance_is_not_yours(home: Home, tmp_path: Path) -> None:
    from pipeline.app.batches import ingest_batch
    from pipeline.app.users import resolve_actor
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    batch = tmp_path / "lo-mat"
    make_born_digital_pdf(["Kế hoạch bảo vệ kho lưu trữ."], batch / "mat.pdf", title="Kế hoạch mật")
    (batch / "manifest.csv").write_text(HEADER + "mat.pdf,5/KH,Kế hoạch,Bảo vệ kho,Văn phòng,2024-02-01,,"
                                        "Văn phòng,Mật,\n", encoding="utf-8")
    with home.context() as ctx:
        report = ingest_batch(ctx, resolve_actor(ctx, None), batch, executor="local")
    (doc,) = report.documents
    hold = json.loads(home.run("hold", "add", doc.id[:12], "--reason", "Điều tra", "--case", "ĐT-1",
                               "--json").stdout)
    home.run("user", "add", "vanthu", "--role", "records-officer", "--clearance", "public")
    assert hold["id"] not in {h["id"] for h in json.loads(home.run("hold", "list", "--json", user="vanthu").stdout)}
    refused = home.run("hold", "release", hold["id"], "--reason", "x", user="vanthu")
    assert refused.returncode == 1 and f"no hold {hold['id']}" in refused.stderr
    assert _held_flags(home, doc.id) == {True}


def test_extend_relocks_permanent_records_and_never_shortens(home: Home, ingested: dict[str, str]) -> None:
    import subprocess

    from tests.app.conftest import ARCHIVE

    decision = ingested["quyet-dinh-2010.pdf"]
    _, before = _lock(home, decision, "original/quyet-dinh-2010.pdf")
    env = {**home.env, "ARCHIVE_RETENTION__PERMANENT_LOCK_YEARS": "20"}
    done = subprocess.run([ARCHIVE, "retention", "extend", "--json"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)
    assert counts["documents"] >= 1 and counts["versions_extended"] >= 1
    mode, after = _lock(home, decision, "original/quyet-dinh-2010.pdf")
    assert mode == COMPLIANCE and before is not None and after is not None
    assert abs(after - (datetime.now(UTC) + timedelta(days=round(365.25 * 20)))) < timedelta(days=2)
    again = json.loads(home.run("retention", "extend", "--json").stdout)  # the 10-year default: nothing shorter
    assert again["versions_extended"] == 0
    assert _lock(home, decision, "original/quyet-dinh-2010.pdf")[1] == after
    _, letter = _lock(home, ingested["cong-van-2025.pdf"])
    assert letter is not None and letter.date() == date(2035, 1, 2)  # not permanent: untouched


def test_a_hold_by_search_and_flags_reapplied_after_a_half_done_hold(home: Home, ingested: dict[str, str]) -> None:
    decision = ingested["quyet-dinh-2010.pdf"]
    other_type = home.run("hold", "add", "--query", "quy chế lưu trữ", "--type", "Công văn", "--reason", "r",
                          "--case", "c")
    assert other_type.returncode == 1 and "no document to hold" in other_type.stderr  # the filter applies
    no_words = home.run("hold", "add", "--type", "Quyết định", "--reason", "r", "--case", "c")
    assert no_words.returncode == 1 and "filters need the search words" in no_words.stderr
    placed = json.loads(home.run("hold", "add", "--query", "quy chế lưu trữ", "--type", "Quyết định",
                                 "--from", "2010-01-01", "--reason", "Thanh tra", "--case", "TT-3", "--json").stdout)
    assert placed["documents"] == [decision] and _held_flags(home, decision) == {True}
    nothing = home.run("hold", "add", "--query", "xyzzy", "--reason", "r", "--case", "c")
    assert nothing.returncode == 1 and ("no document to hold" in nothing.stderr or "no exact match" in nothing.stderr)
    with home.context() as ctx:  # the storage went down half-way through a hold: its flags were not all set
        ctx.store.set_legal_hold(decision, False)
    assert _held_flags(home, decision) == {False}
    counts = json.loads(home.run("hold", "reapply", "--json").stdout)
    assert _held_flags(home, decision) == {True} and counts["held"] >= 1 and counts["versions"] > 0
    with home.context() as ctx:
        assert [e["action"] for e in ctx.catalog.query_audit(object_id="holds")] == ["hold.reapply"]
