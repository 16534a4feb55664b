"""Issue 11, dossiers (hồ sơ) on the real S3 server: registered as records in storage and the catalog, codes
that only documents name listed as unregistered, a document of a class counted from the dossier's closing never
due while the dossier is open, and closing it (with a 2010 date) gives those documents their retain-until date,
longer storage locks where it reaches beyond them, and a new sealed record that `archive verify` accepts.
Listings count only what the reader's clearance allows; `archive reindex` restores dossiers from storage."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest
from minio.commonconfig import COMPLIANCE

from pipeline.core.settings import Settings, load_settings, update_config
from tests.app.conftest import HEADER, Home, build_home

SCHEDULE = """
version = "ho-so-1"
[default]
code = "0"
name = "Chưa phân loại"
period = 10

[[class]]
code = "DA"
name = "Báo cáo của hồ sơ dự án"
doc_types = ["Báo cáo"]
period = 10
trigger = "dossier-closed"
action = "destroy"

[[class]]
code = "NS"
name = "Hồ sơ nhân sự"
doc_types = ["Lý lịch"]
period = 70
trigger = "dossier-closed"
action = "review"
"""
PROJECT = "G01.2010.05"
ROWS = {  # file → (doc_type, issued, classification, dossier, order)
    "bao-cao-1.pdf": ("Báo cáo", "2009-03-01", "public", PROJECT, 1),
    "bao-cao-2.pdf": ("Báo cáo", "2009-11-20", "Mật", PROJECT, 2),
    "ly-lich.pdf": ("Lý lịch", "2010-05-05", "public", PROJECT, 3),
    "cong-van.pdf": ("Công văn", "2010-02-01", "public", "G01.2010.07", 1),  # a dossier nobody registers
    "ke-hoach.pdf": ("Kế hoạch", "2011-04-01", "Tuyệt mật", "G01.2011.01", 1),  # all above a public reader
}


@pytest.fixture(scope="module")
def home(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with build_home(s3_server, tmp_path_factory.mktemp("dossier-home"), "dossier") as made:
        (made.settings.home / "lich.toml").write_text(SCHEDULE, encoding="utf-8")
        update_config(made.settings.home, {"retention.safety_days": 1, "retention.schedule_file": "lich.toml"})
        made.settings = load_settings(made.settings.home, environ={})
        yield made


@pytest.fixture(scope="module")
def ingested(home: Home, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from pipeline.app.batches import ingest_batch
    from pipeline.app.users import resolve_actor
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    batch = tmp_path_factory.mktemp("dossier-batch") / "lo-ho-so"
    lines = [HEADER.strip() + ",dossier_code,order_in_dossier"]
    for n, (name, (doc_type, issued, level, dossier, order)) in enumerate(ROWS.items(), start=1):
        make_born_digital_pdf([f"{doc_type} số {n} của hồ sơ {dossier}."], batch / name, title=f"{doc_type} {n}")
        lines.append(f"{name},{n}/DA,{doc_type},{doc_type} {n},Ban Quản lý dự án,{issued},,Ban dự án,{level},,"
                     f"{dossier},{order}")
    (batch / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with home.context() as ctx:
        report = ingest_batch(ctx, resolve_actor(ctx, None), batch, executor="local")
    assert report.ok, report.to_dict()
    for name, role, level in (("vanthu", "records-officer", "public"), ("nhanvien", "staff", "tuyet-mat"),
                              ("luutru", "archivist", "tuyet-mat")):  # once the bucket (and its trail) exists
        assert home.run("user", "add", name, "--role", role, "--clearance", level).returncode == 0
    return {d.source: d.id for d in report.documents}


def _json(home: Home, *args: str, user: str | None = None) -> object:
    done = home.run(*args, "--json", user=user)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _due(home: Home, on: date) -> list[str]:
    with home.context() as ctx:
        return ctx.catalog.due_documents(4, on)


def test_a_document_of_an_open_dossier_is_never_due(home: Home, ingested: dict[str, str]) -> None:
    with home.context() as ctx:
        report = ctx.store.get_record(ingested["bao-cao-1.pdf"])
    assert (report.retention.class_code, report.retention.trigger, report.retain_until) == ("DA", "dossier-closed",
                                                                                           None)
    far = _due(home, date(2999, 1, 1))
    assert ingested["bao-cao-1.pdf"] not in far and ingested["ly-lich.pdf"] not in far
    assert ingested["cong-van.pdf"] in far  # counted from its issue date: due since 2020


def test_codes_documents_name_are_listed_unregistered(home: Home, ingested: dict[str, str]) -> None:
    listed = {d["code"]: d for d in _json(home, "dossier", "list")}
    assert set(listed) == {PROJECT, "G01.2010.07", "G01.2011.01"}
    project = listed[PROJECT]
    assert (project["registered"], project["state"], project["documents"], project["pages"]) == (False, "open", 3, 3)
    assert (project["start_date"], project["end_date"]) == ("2009-03-01", "2010-05-05")
    assert project["retention"] == {"class": "NS", "name": "Hồ sơ nhân sự", "period": "70 years",
                                    "source": "derived"}  # the longest class of its documents
    refused = home.run("dossier", "close", "G01.2010.07", "--on", "2011-01-01")
    assert refused.returncode == 1 and "not registered" in refused.stderr


def test_register_a_dossier(home: Home, ingested: dict[str, str]) -> None:
    added = _json(home, "dossier", "add", PROJECT, "--title", "Hồ sơ dự án số hóa tài liệu năm 2010",
                  "--access", "unrestricted", "--start", "01/01/2009")
    assert (added["registered"], added["title"], added["access"], added["start_date"], added["documents"]) == (
        True, "Hồ sơ dự án số hóa tài liệu năm 2010", "unrestricted", "2009-01-01", 3)
    assert _json(home, "dossier", "add", "G01.2011.01", "--title", "Kế hoạch bảo vệ")["documents"] == 1
    again = home.run("dossier", "add", PROJECT, "--title", "x")
    assert again.returncode == 1 and "already registered" in again.stderr
    bad = home.run("dossier", "add", "G01/2010", "--title", "x")
    assert bad.returncode == 1 and "not a dossier code" in bad.stderr and "Traceback" not in bad.stderr
    unknown = home.run("dossier", "add", "G01.2012.01", "--title", "x", "--retention", "9.9")
    assert unknown.returncode == 1 and "no record class '9.9'" in unknown.stderr
    with home.context() as ctx:
        stored = {d.code: d for d in ctx.store.read_dossiers()}
        trail = [e["action"] for e in ctx.catalog.query_audit(object_id=PROJECT)]
    assert stored[PROJECT].title == "Hồ sơ dự án số hóa tài liệu năm 2010" and stored[PROJECT].created_by == "admin"
    assert trail == ["dossier.add"]


def test_listings_count_only_what_the_clearance_allows(home: Home, ingested: dict[str, str]) -> None:
    mine = _json(home, "dossier", "show", PROJECT, user="vanthu")
    assert (mine["documents"], mine["pages"]) == (2, 2)
    assert [i["id"] for i in mine["items"]] == [ingested["bao-cao-1.pdf"], ingested["ly-lich.pdf"]]
    assert [i["name"] for i in mine["items"]] == [f"{PROJECT}.1", f"{PROJECT}.3"]
    assert _json(home, "dossier", "show", PROJECT)["documents"] == 3  # the operator (Tuyệt mật)
    listed = {d["code"]: d for d in _json(home, "dossier", "list", user="vanthu")}
    assert set(listed) == {PROJECT, "G01.2010.07"}  # G01.2011.01 holds only a Tuyệt mật document
    assert listed[PROJECT]["documents"] == 2
    hidden = home.run("dossier", "show", "G01.2011.01", user="vanthu")
    assert hidden.returncode == 1 and "no dossier G01.2011.01" in hidden.stderr
    refused = home.run("dossier", "close", "G01.2011.01", user="vanthu")
    assert refused.returncode == 1 and "no dossier G01.2011.01" in refused.stderr
    for args, says in ((("dossier", "list"), "2 dossier(s)"), (("dossier", "show", PROJECT), f"Dossier {PROJECT}")):
        shown = home.run(*args, user="vanthu")  # the tables for people
        assert shown.returncode == 0 and says in shown.stdout and "2011" not in shown.stdout, shown.stderr


def test_only_the_records_office_acts_on_dossiers(home: Home, ingested: dict[str, str]) -> None:
    for user, args in (("nhanvien", ("dossier", "list")), ("luutru", ("dossier", "add", "G01.2012.02", "--title", "x")),
                       ("luutru", ("dossier", "close", PROJECT))):
        refused = home.run(*args, user=user)
        assert refused.returncode == 1 and "records-officer" in refused.stderr, (user, args, refused.stderr)


def test_a_closing_date_must_make_sense(home: Home, ingested: dict[str, str]) -> None:
    early = home.run("dossier", "close", PROJECT, "--on", "2010-01-01")
    assert early.returncode == 1 and "before the issue date 2010-05-05" in early.stderr
    future = home.run("dossier", "close", PROJECT, "--on", "2999-01-01")
    assert future.returncode == 1 and "in the future" in future.stderr
    assert _json(home, "dossier", "show", PROJECT)["state"] == "open"


def test_closing_the_dossier_starts_retention(home: Home, ingested: dict[str, str]) -> None:
    from pipeline.app.users import resolve_actor
    from pipeline.app.verification import verify_archived, with_verdict

    closed = _json(home, "dossier", "close", PROJECT, "--on", "31/12/2010")
    assert (closed["state"], closed["closed_at"]) == ("closed", "2010-12-31")
    changes = {c["id"]: c for c in closed["retention"]["changes"]}
    assert set(changes) == {ingested[n] for n in ("bao-cao-1.pdf", "bao-cao-2.pdf", "ly-lich.pdf")}
    reports, staff = ingested["bao-cao-1.pdf"], ingested["ly-lich.pdf"]
    assert changes[reports]["new_retain_until"] == "2020-12-31"
    assert changes[reports]["storage_lock"] == "kept"  # the floor lock of an open dossier's document is longer
    assert (changes[staff]["new_retain_until"], changes[staff]["storage_lock"]) == ("2080-12-31", "extended")
    assert set(_due(home, date.today())) >= {reports, ingested["bao-cao-2.pdf"]}
    assert staff not in _due(home, date(2080, 12, 31)) and staff in _due(home, date(2081, 1, 1))
    with home.context() as ctx:
        record = ctx.store.get_record(staff)
        client, bucket = ctx.store.client, ctx.store.bucket
        for art in record.artefacts.values():
            lock = client.get_object_retention(bucket, art.key)
            assert lock.mode == COMPLIANCE and lock.retain_until_date.date() == date(2081, 1, 1)
        trail = [e["action"] for e in ctx.catalog.query_audit(object_id=PROJECT)]
        for doc_id in changes:
            report = with_verdict(verify_archived(ctx, resolve_actor(ctx, None), doc_id))
            assert (report["status"], report["seal"]) == ("valid", "match"), report.get("problems")
    assert record.retention.trigger_date == date(2010, 12, 31) and record.events[-1].stage == "retention"
    assert trail == ["dossier.add", "dossier.close"]
    again = home.run("dossier", "close", PROJECT)
    assert again.returncode == 1 and "already closed on 2010-12-31" in again.stderr
    # nothing is left for a recomputation to do
    assert _json(home, "retention", "recompute", "--dry-run")["changed"] == 0


def test_dossiers_come_back_when_the_catalog_is_rebuilt(home: Home, ingested: dict[str, str]) -> None:
    with home.context() as ctx, ctx.catalog.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM dossiers")
    assert {d["code"]: d["registered"] for d in _json(home, "dossier", "list")}[PROJECT] is False
    rebuilt = home.run("reindex")
    assert rebuilt.returncode == 0, rebuilt.stderr
    listed = {d["code"]: d for d in _json(home, "dossier", "list")}
    assert listed[PROJECT]["registered"] and listed[PROJECT]["closed_at"] == "2010-12-31"
    assert listed["G01.2011.01"]["registered"] and not listed["G01.2010.07"]["registered"]
    with home.context() as ctx:
        assert ctx.catalog.dossier_closings() == {PROJECT: date(2010, 12, 31)}


def test_a_document_joining_a_closed_dossier_counts_from_its_closing(home: Home, ingested: dict[str, str],
                                                                      tmp_path_factory: pytest.TempPathFactory
                                                                      ) -> None:
    from pipeline.app.batches import ingest_batch
    from pipeline.app.users import resolve_actor
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    assert _json(home, "dossier", "show", PROJECT)["closed_at"] == "2010-12-31"
    batch = tmp_path_factory.mktemp("late") / "lo-bo-sung"
    make_born_digital_pdf(["Báo cáo bổ sung của hồ sơ dự án, nộp muộn."], batch / "bo-sung.pdf", title="Bổ sung")
    (batch / "manifest.csv").write_text(
        HEADER.strip() + ",dossier_code,order_in_dossier\n"
        f"bo-sung.pdf,9/DA,Báo cáo,Báo cáo bổ sung,Ban Quản lý dự án,2010-06-01,,Ban dự án,public,,{PROJECT},4\n",
        encoding="utf-8")
    with home.context() as ctx:
        report = ingest_batch(ctx, resolve_actor(ctx, None), batch, executor="local")
        (doc,) = report.documents
        record = ctx.store.get_record(doc.id)
    assert (record.retention.class_code, record.retention.trigger_date, record.retain_until) == (
        "DA", date(2010, 12, 31), date(2020, 12, 31))
