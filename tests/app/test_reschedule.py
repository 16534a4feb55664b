"""Issue 11, a schedule change recomputes retention, on the real S3 server: where a document's class or
retain-until date changes, a new sealed metadata.json version (so `archive verify` still accepts it), storage
locks lengthened (never shortened: a shorter period is recorded but the lock stays), the catalog row, one audit
event per document and a summary event. The storage clock is never mocked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from minio.commonconfig import COMPLIANCE

from pipeline.core.settings import Settings, load_settings, update_config
from tests.app.conftest import HEADER, Home, build_home

SCHEDULE = """
version = "{version}"
[default]
code = "0"
name = "Chưa phân loại"
period = 10

[[class]]
code = "CV"
name = "Công văn trao đổi"
doc_types = ["Công văn"]
period = {letters}
action = "destroy"

[[class]]
code = "TB"
name = "Thông báo"
doc_types = ["Thông báo"]
period = {notices}
action = "destroy"
"""
ROWS = {  # file → (doc_type, issued, classification)
    "cong-van.pdf": ("Công văn", "2020-01-01", "public"),  # 10 years → 20: until 2040
    "thong-bao.pdf": ("Thông báo", "2022-06-01", "public"),  # 20 years → 5: until 2027, the lock stays 2042
    "cong-van-mat.pdf": ("Công văn", "2021-03-01", "Mật"),  # changes too, unseen by a public officer
}


def _schedule(home: Home, version: str, letters: int = 10, notices: int = 20) -> None:
    (home.settings.home / "lich.toml").write_text(SCHEDULE.format(version=version, letters=letters, notices=notices),
                                                  encoding="utf-8")


@pytest.fixture(scope="module")
def home(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with build_home(s3_server, tmp_path_factory.mktemp("reschedule-home"), "reschedule") as made:
        update_config(made.settings.home, {"retention.safety_days": 1, "retention.schedule_file": "lich.toml"})
        made.settings = load_settings(made.settings.home, environ={})
        _schedule(made, "agency-1")
        yield made


@pytest.fixture(scope="module")
def ingested(home: Home, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from pipeline.app.batches import ingest_batch
    from pipeline.app.users import resolve_actor
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    batch = tmp_path_factory.mktemp("reschedule-batch") / "lo-lich"
    lines = [HEADER.strip()]
    for n, (name, (doc_type, issued, level)) in enumerate(ROWS.items(), start=1):
        make_born_digital_pdf([f"{doc_type} số {n} về công tác văn thư."], batch / name, title=f"{doc_type} {n}")
        lines.append(f"{name},{n}/VP,{doc_type},{doc_type} {n},Văn phòng,{issued},,Văn phòng,{level},")
    (batch / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with home.context() as ctx:
        report = ingest_batch(ctx, resolve_actor(ctx, None), batch, executor="local")
    assert report.ok, report.to_dict()
    return {d.source: d.id for d in report.documents}


def _locks(home: Home, doc_id: str) -> dict[str, datetime]:
    """The lock end of the current version of every object of the document."""
    with home.context() as ctx:
        record = ctx.store.get_record(doc_id)
        client, bucket = ctx.store.client, ctx.store.bucket
        found = {}
        for role, art in [*record.artefacts.items(), ("metadata.json", None)]:
            key = art.key if art else f"documents/{doc_id}/metadata.json"
            retention = client.get_object_retention(bucket, key)
            assert retention.mode == COMPLIANCE
            found[role] = retention.retain_until_date
    return found


def _verify(home: Home, doc_id: str) -> dict[str, object]:
    from pipeline.app.users import resolve_actor
    from pipeline.app.verification import verify_archived, with_verdict

    with home.context() as ctx:
        return with_verdict(verify_archived(ctx, resolve_actor(ctx, None), doc_id))


def _metadata_versions(home: Home, doc_id: str) -> int:
    with home.context() as ctx:
        return len(ctx.store.object_versions(f"documents/{doc_id}/metadata.json"))


def test_ingest_used_the_agency_schedule(home: Home, ingested: dict[str, str]) -> None:
    with home.context() as ctx:
        letter = ctx.store.get_record(ingested["cong-van.pdf"])
    assert (letter.retention.class_code, letter.retention.schedule, letter.retain_until) == ("CV", "agency-1",
                                                                                             date(2030, 1, 1))
    assert {t.date() for t in _locks(home, ingested["cong-van.pdf"]).values()} == {date(2030, 1, 2)}


def test_nothing_changed_nothing_written(home: Home, ingested: dict[str, str]) -> None:
    done = home.run("retention", "recompute", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["checked"], report["changed"], report["failed"]) == (3, 0, {})
    assert _metadata_versions(home, ingested["cong-van.pdf"]) == 1


def test_a_longer_period_lengthens_retention_and_locks_and_stays_verifiable(home: Home,
                                                                             ingested: dict[str, str]) -> None:
    letter = ingested["cong-van.pdf"]
    _schedule(home, "agency-2", letters=20)
    dry = home.run("retention", "recompute", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    planned = json.loads(dry.stdout)
    assert planned["dry_run"] and {c["id"] for c in planned["changes"]} == {letter, ingested["cong-van-mat.pdf"]}
    assert _metadata_versions(home, letter) == 1  # a dry run writes nothing
    with home.context() as ctx:
        assert not [e for e in ctx.catalog.query_audit(object_id=letter) if e["action"] == "retention.change"]

    done = home.run("retention", "recompute", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    change = next(c for c in report["changes"] if c["id"] == letter)
    assert (change["old_retain_until"], change["new_retain_until"], change["storage_lock"]) == (
        "2030-01-01", "2040-01-01", "extended")
    assert {t.date() for t in _locks(home, letter).values()} == {date(2040, 1, 2)}
    with home.context() as ctx:
        stored = ctx.store.get_record(letter)
        row = next(r for r in ctx.catalog.list_documents(4) if r.id == letter)
        events = [e for e in ctx.catalog.query_audit(object_id=letter) if e["action"] == "retention.change"]
        summary = [e for e in ctx.catalog.query_audit() if e["action"] == "retention.recompute"]
        client, bucket = ctx.store.client, ctx.store.bucket
        old_version = ctx.store.object_versions(f"documents/{letter}/metadata.json")[-1]["version_id"]
        old_lock = client.get_object_retention(bucket, f"documents/{letter}/metadata.json", old_version)
    assert (stored.retain_until, stored.retention.schedule, row.retain_until) == (date(2040, 1, 1), "agency-2",
                                                                                 date(2040, 1, 1))
    assert stored.events[-1].stage == "retention" and stored.events[-1].detail["old_retain_until"] == "2030-01-01"
    assert old_lock.retain_until_date.date() == date(2040, 1, 2)  # the first version is locked longer too
    (event,) = events
    assert (event["outcome"], event["detail"]["schedule"], event["detail"]["old_class"],
            event["detail"]["new_class"]) == ("ok", "agency-2", "CV", "CV")
    assert event["detail"]["new_retain_until"] == "2040-01-01" and event["detail"]["previous_metadata_sha256"]
    assert summary[-1]["detail"]["changed"] == 2 and summary[-1]["detail"]["schedule"] == "agency-2"
    verified = _verify(home, letter)
    assert (verified["status"], verified["seal"]) == ("valid", "match"), verified.get("problems")
    assert verified["seal_event"]["action"] == "retention.change"


def test_a_shorter_period_is_recorded_but_the_storage_lock_stays(home: Home, ingested: dict[str, str]) -> None:
    notice = ingested["thong-bao.pdf"]
    before = _locks(home, notice)
    assert {t.date() for t in before.values()} == {date(2042, 6, 2)}
    _schedule(home, "agency-3", letters=20, notices=5)
    done = home.run("retention", "recompute", "--json")
    assert done.returncode == 0, done.stderr
    (change,) = json.loads(done.stdout)["changes"]
    assert (change["id"], change["new_retain_until"], change["storage_lock"]) == (notice, "2027-06-01", "kept")
    assert change["lock_until"].startswith("2042-06-02")
    assert _locks(home, notice) == before  # the new metadata version too: never shorter than the one it follows
    with home.context() as ctx:
        assert ctx.store.get_record(notice).retain_until == date(2027, 6, 1)
        (event,) = [e for e in ctx.catalog.query_audit(object_id=notice) if e["action"] == "retention.change"]
        assert ctx.catalog.due_documents(4, date(2027, 6, 2)) == [notice]
    assert event["detail"]["storage_lock"] == "kept" and event["detail"]["lock_until"].startswith("2042-06-02")
    assert _verify(home, notice)["seal"] == "match"


def test_a_public_officer_sees_only_what_they_may(home: Home, ingested: dict[str, str]) -> None:
    home.run("user", "add", "vanthu", "--role", "records-officer", "--clearance", "public")
    _schedule(home, "agency-4", letters=30, notices=5)
    done = home.run("retention", "recompute", "--dry-run", "--json", user="vanthu")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["checked"] == 2 and [c["id"] for c in report["changes"]] == [ingested["cong-van.pdf"]]
    assert ingested["cong-van-mat.pdf"] not in done.stdout
    table = home.run("retention", "recompute", "--dry-run", user="vanthu")
    assert table.returncode == 0 and "1 would change" in table.stdout and "CV → CV" in table.stdout, table.stderr


def test_only_the_records_office_recomputes(home: Home, ingested: dict[str, str]) -> None:
    home.run("user", "add", "luutru", "--role", "archivist", "--clearance", "tuyet-mat")
    refused = home.run("retention", "recompute", user="luutru")
    assert refused.returncode == 1 and "records-officer" in refused.stderr and "Traceback" not in refused.stderr
    assert _metadata_versions(home, ingested["cong-van.pdf"]) == 2  # untouched


def test_a_tampered_record_is_never_resealed(home: Home, ingested: dict[str, str]) -> None:
    """metadata.json rewritten with the app's keys (not through the archive): recompute refuses to seal it, and
    the other documents are still recomputed."""
    import io

    from pipeline.archive.store import metadata_bytes

    secret = ingested["cong-van-mat.pdf"]
    with home.context() as ctx:
        forged = ctx.store.get_record(secret)
        forged.metadata.title = "Tiêu đề đã bị sửa"
        data = metadata_bytes(forged)
        ctx.store.client.put_object(ctx.store.bucket, f"documents/{secret}/metadata.json", io.BytesIO(data),
                                    len(data), retention=ctx.store.retention.retention_for(forged, "metadata.json"))
    _schedule(home, "agency-5", letters=50, notices=5)
    done = home.run("retention", "recompute", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [c["id"] for c in report["changes"]] == [ingested["cong-van.pdf"]]
    assert "does not match its seal" in report["failed"][secret]
    with home.context() as ctx:
        assert ctx.store.get_record(secret).metadata.title == "Tiêu đề đã bị sửa"  # nothing written over it
        failed = [e for e in ctx.catalog.query_audit(object_id=secret) if e["action"] == "retention.change"]
    assert failed[-1]["outcome"] == "failed"
    assert _verify(home, secret)["seal"] == "MISMATCH"
    assert _verify(home, ingested["cong-van.pdf"])["status"] == "valid"
    lock = _locks(home, ingested["cong-van.pdf"])["archive.pdf"]
    assert abs(lock - datetime(2070, 1, 2, tzinfo=UTC)) < timedelta(days=1)


def test_a_bad_schedule_is_one_line(home: Home, tmp_path: Path) -> None:
    (home.settings.home / "lich.toml").write_text("[default]\ncode='0'\nname='x'\nperiod=0\n", encoding="utf-8")
    try:
        done = home.run("retention", "recompute")
        assert done.returncode == 1 and "period must be" in done.stderr and "Traceback" not in done.stderr
    finally:
        _schedule(home, "agency-5", letters=50, notices=5)
