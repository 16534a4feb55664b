"""Issue 12 on the real S3 server: a known mix across two units, three types and three months, receipt times set
through the manifest's received_at column, ingested in-process; every figure of `archive stats` is checked.

The mix (operator's view, Vietnam time):

    doc  unit             type        origin        pages  received                          month
    A    Văn phòng        Công văn    born-digital  1      2026-09-02 10:00 (National Day)   2026-09
    B    Văn phòng        Quyết định  born-digital  1      2026-10-15 09:00, issuer-signed   2026-10
    C    Văn phòng        Công văn    scanned (OCR) 1      20/10/2026 14:00                  2026-10
    G    Phòng Tài chính  Báo cáo     born-digital  1      2026-09-30T18:00Z = 1/10 01:00    2026-10
    D    Phòng Tài chính  Công văn    mixed         2      2026-11-01T05:00+07:00 (31/10 UTC) 2026-11
    E    Phòng Tài chính  Quyết định  born-digital  1      10/11/2026 08:15 (+ a duplicate)  2026-11
    F    Phòng Tài chính  Báo cáo     born-digital  1      2026-11-12 09:00, Mật             2026-11

plus a corrupt PDF and a row whose received_at is in the future (both quarantined: the backlog). Processing times
run to the real archiving instant, so they are checked against the catalog's timestamps under the calendar (whose
exact arithmetic tests/app/test_statistics_calendar.py checks by hand).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from pipeline.core.dates import VIETNAM
from pipeline.core.settings import Settings
from tests.app.conftest import HEADER, Home, build_home

VP, TC = "Văn phòng", "Phòng Tài chính"
FUTURE = (date.today() + timedelta(days=400)).isoformat()  # always in the future, whatever the day
ROWS = {  # file → (unit, type, classification, received_at)
    "a-cong-van.pdf": (VP, "Công văn", "public", "2026-09-02T10:00"),
    "b-quyet-dinh-ky-so.pdf": (VP, "Quyết định", "public", "2026-10-15 09:00"),
    "c-cong-van-quet.pdf": (VP, "Công văn", "public", "20/10/2026 14:00"),
    "d-cong-van-hon-hop.pdf": (TC, "Công văn", "public", "2026-11-01T05:00+07:00"),
    "e-quyet-dinh.pdf": (TC, "Quyết định", "public", "10/11/2026 08:15"),
    "ee-ban-sao-quyet-dinh.pdf": (TC, "Quyết định", "public", "10/11/2026 08:15"),  # same bytes as e-quyet-dinh.pdf
    "f-bao-cao-mat.pdf": (TC, "Báo cáo", "Mật", "2026-11-12T09:00"),
    "g-bao-cao.pdf": (TC, "Báo cáo", "public", "2026-09-30T18:00Z"),
    "h-ngay-sai.pdf": (TC, "Báo cáo", "public", FUTURE),  # received in the future: refused
    "i-hong.pdf": (TC, "Báo cáo", "public", "2026-11-02"),  # not a readable PDF: quarantined
}


@pytest.fixture(scope="module")
def home(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with build_home(s3_server, tmp_path_factory.mktemp("stats-home"), "stats") as made:
        yield made


@pytest.fixture(scope="module")
def ingested(home: Home, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from pipeline.app.batches import ingest_batch
    from pipeline.app.users import add_user, resolve_actor
    from pipeline.core.vocabulary import Classification, Role
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf, make_corrupt_pdf, make_mixed_pdf, make_scanned_pdf
    from pipeline.devtools.samples.render import render_scanned_pages
    from tests.sign.helpers import pyhanko_sign

    batch = tmp_path_factory.mktemp("stats-batch") / "lo-thong-ke"
    work = tmp_path_factory.mktemp("stats-work")
    (page,) = render_scanned_pages(["CÔNG VĂN\nVề việc số hóa tài liệu lưu trữ."], work / "pages", dpi=150)
    for name in ROWS:
        if name in ("b-quyet-dinh-ky-so.pdf", "c-cong-van-quet.pdf", "d-cong-van-hon-hop.pdf",
                    "ee-ban-sao-quyet-dinh.pdf", "i-hong.pdf"):
            continue
        make_born_digital_pdf([f"Văn bản {name[:-4]} của cơ quan."], batch / name, title=name[:-4])
    (batch / "ee-ban-sao-quyet-dinh.pdf").write_bytes((batch / "e-quyet-dinh.pdf").read_bytes())
    plain = make_born_digital_pdf(["Quyết định ban hành quy chế, ký số bởi cơ quan ban hành."], work / "b.pdf")
    pyhanko_sign(plain, batch / "b-quyet-dinh-ky-so.pdf", home.settings.pkcs12_path,
                 home.settings.sign.pkcs12_password)
    make_scanned_pdf([page], batch / "c-cong-van-quet.pdf")
    make_mixed_pdf(["Công văn gửi kèm phụ lục bản quét."], page, batch / "d-cong-van-hon-hop.pdf")
    make_corrupt_pdf(batch / "i-hong.pdf")
    lines = [HEADER.strip() + ",received_at"]
    for n, (name, (unit, doc_type, level, received)) in enumerate(ROWS.items(), start=1):
        lines.append(f"{name},{n}/VB,{doc_type},Văn bản {n},{unit},2026-09-01,,{unit},{level},vie,{received}")
    (batch / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with home.context() as ctx:
        operator = resolve_actor(ctx, None)
        report = ingest_batch(ctx, operator, batch, executor="local")
        add_user(ctx, operator, "reader", frozenset({Role.STAFF}), Classification.PUBLIC)
        rows = {r.source_path: r for r in ctx.catalog.list_documents(Classification.TUYET_MAT.rank)}
    outcomes = {d.source: d for d in report.documents}
    return {"outcomes": outcomes, "rows": rows}


def _stats(home: Home, user: str | None = None, **query: Any) -> dict[str, Any]:
    from pipeline.app.statistics import StatsQuery, electronic_statistics
    from pipeline.app.users import resolve_actor

    with home.context() as ctx:
        return electronic_statistics(ctx, resolve_actor(ctx, user), StatsQuery(**query))


def _docs(scanned: int, born: int, mixed: int) -> dict[str, int]:
    return {"scanned": scanned, "born_digital": born, "mixed": mixed, "total": scanned + born + mixed}


def _targets(fig: dict[str, Any]) -> dict[str, tuple[Any, bool | None]]:
    return {name: (t["value"], t["met"]) for name, t in fig["targets"].items()}


def test_the_batch_went_in_as_planned(ingested: dict[str, Any]) -> None:
    outcomes = ingested["outcomes"]
    states = {name: o.status for name, o in outcomes.items()}
    assert states == {**dict.fromkeys(ROWS, "archived"), "ee-ban-sao-quyet-dinh.pdf": "duplicate",
                      "h-ngay-sai.pdf": "quarantined", "i-hong.pdf": "quarantined"}, outcomes
    assert f"received_at '{FUTURE}' is before 1800 or in the future" in outcomes["h-ngay-sai.pdf"].reason
    rows = ingested["rows"]
    assert {r.source_path: r.origin.value for r in rows.values()} == {
        "a-cong-van.pdf": "born_digital", "b-quyet-dinh-ky-so.pdf": "born_digital",
        "c-cong-van-quet.pdf": "scanned", "d-cong-van-hon-hop.pdf": "mixed", "e-quyet-dinh.pdf": "born_digital",
        "f-bao-cao-mat.pdf": "born_digital", "g-bao-cao.pdf": "born_digital"}
    assert rows["d-cong-van-hon-hop.pdf"].received_at == datetime(2026, 11, 1, 5, 0, tzinfo=VIETNAM)


def test_every_figure_of_the_whole_archive(home: Home, ingested: dict[str, Any]) -> None:
    data = _stats(home)
    assert data["documents"] == _docs(1, 5, 1) and data["pages"] == _docs(1, 5, 2)
    assert data["disposed"] == 0
    assert data["signed"] == {"count": 7, "share": 1.0}  # every archival copy carries a signature
    assert data["issuer_signed"] == {"count": 1, "share": 0.1429}  # only B arrived signed
    assert data["units"] == {"count": 2, "signing": 1, "share": 0.5}
    assert data["electronic"] == {"count": 4, "of": 6, "share": 0.6667}  # F (Mật) is out of exchange figures
    assert data["electronic_only_on_paper"] == {"count": 2, "by_type": {"Công văn": 2}}  # C scanned, D mixed
    assert _targets(data) == {"scanned_share": (0.1429, True), "signed_share": (0.1429, False),
                              "electronic_share": (0.6667, False), "on_time_share": (0.0, False),
                              "electronic_only_on_paper": (2, False)}
    assert data["by_unit"] == {TC: {"total": 4, "scanned": 0, "born_digital": 3, "mixed": 1, "signed": 4},
                               VP: {"total": 3, "scanned": 1, "born_digital": 2, "mixed": 0, "signed": 3}}
    assert data["backlog"] == {"quarantined": 2, "failed": 0, "pending": 0, "total": 2, "batches": [
        {"id": data["backlog"]["batches"][0]["id"], "name": "lo-thong-ke", "quarantined": 2, "failed": 0,
         "pending": 0}], "scope": "all batches, current state: not filtered by period or unit"}
    assert data["config"]["targets"] == {"scanned_share_max": 0.5, "signed_share_min": 0.95,
                                         "electronic_exchange_min": 0.95, "on_time_share_min": 1.0,
                                         "deadline_hours": 2.0}


def test_processing_time_is_working_time_from_receipt_to_archived(home: Home, ingested: dict[str, Any]) -> None:
    from pipeline.app.statistics import WorkCalendar
    from pipeline.app.statistics.figures import nearest_rank

    calendar = WorkCalendar()
    rows = ingested["rows"]
    took = {name: calendar.working_seconds(r.received_at, r.archived_at) for name, r in rows.items()}
    # National Day: the working time of A starts at 07:30 on Thursday 3 September.
    holiday = rows["a-cong-van.pdf"]
    assert took["a-cong-van.pdf"] == calendar.working_seconds(datetime(2026, 9, 3, 7, 30, tzinfo=VIETNAM),
                                                              holiday.archived_at)
    assert calendar.working_seconds(holiday.received_at, datetime(2026, 9, 3, 7, 30, tzinfo=VIETNAM)) == 0
    times = sorted(took.values())
    data = _stats(home)
    assert data["processing"] == {"count": 7, "median_s": round(times[3], 1),
                                  "p90_s": round(nearest_rank(times, 0.9) or 0, 1),  # the 7th of 7
                                  "within_deadline": 0, "share": 0.0}
    assert data["processing"]["p90_s"] == round(took["a-cong-van.pdf"], 1)  # the oldest receipt took longest


def test_groups_by_unit_and_month_in_vietnam_time(home: Home, ingested: dict[str, Any]) -> None:
    data = _stats(home, by=("unit", "month"))
    got = {(g["key"]["unit"], g["key"]["month"]): g for g in data["groups"]}
    assert list(got) == [(TC, "2026-10"), (TC, "2026-11"), (VP, "2026-09"), (VP, "2026-10")]
    assert {k: g["documents"] for k, g in got.items()} == {
        (TC, "2026-10"): _docs(0, 1, 0),  # G: 18:00 UTC on 30 September is October in Hà Nội
        (TC, "2026-11"): _docs(0, 2, 1),  # D: 22:00 UTC on 31 October is November; E once, F
        (VP, "2026-09"): _docs(0, 1, 0), (VP, "2026-10"): _docs(1, 1, 0)}
    assert got[(TC, "2026-11")]["pages"] == _docs(0, 2, 2)
    assert _targets(got[(TC, "2026-11")]) == {
        "scanned_share": (0.0, True), "signed_share": (0.0, False), "electronic_share": (0.5, False),
        "on_time_share": (0.0, False), "electronic_only_on_paper": (1, False)}
    assert _targets(got[(VP, "2026-10")]) == {
        "scanned_share": (0.5, False), "signed_share": (0.5, False), "electronic_share": (0.5, False),
        "on_time_share": (0.0, False), "electronic_only_on_paper": (1, False)}
    assert got[(VP, "2026-10")]["units"] == {"count": 1, "signing": 1, "share": 1.0}
    assert got[(TC, "2026-11")]["electronic"] == {"count": 1, "of": 2, "share": 0.5}
    assert sum(g["documents"]["total"] for g in data["groups"]) == data["documents"]["total"] == 7
    assert sum(g["pages"]["total"] for g in data["groups"]) == data["pages"]["total"] == 8
    assert sum(g["processing"]["count"] for g in data["groups"]) == 7


def test_groups_by_type_quarter_and_year(home: Home, ingested: dict[str, Any]) -> None:
    types = {g["key"]["type"]: g for g in _stats(home, by=("type",))["groups"]}
    assert {t: g["documents"] for t, g in types.items()} == {
        "Báo cáo": _docs(0, 2, 0), "Công văn": _docs(1, 1, 1), "Quyết định": _docs(0, 2, 0)}
    assert types["Công văn"]["pages"]["total"] == 4
    assert types["Quyết định"]["issuer_signed"] == {"count": 1, "share": 0.5}
    assert types["Báo cáo"]["electronic"] == {"count": 1, "of": 1, "share": 1.0}
    quarters = {g["key"]["quarter"]: g["documents"]["total"] for g in _stats(home, by=("quarter",))["groups"]}
    assert quarters == {"2026-Q3": 1, "2026-Q4": 6}
    years = _stats(home, by=("year",))["groups"]
    assert [(g["key"], g["documents"]["total"]) for g in years] == [({"year": "2026"}, 7)]


def test_periods_ranges_and_units_select_by_receipt(home: Home, ingested: dict[str, Any]) -> None:
    november = _stats(home, period="2026-11")
    assert november["documents"] == _docs(0, 2, 1) and november["scope"]["from"] == "2026-11-01"
    october = _stats(home, date_from=datetime(2026, 10, 1).date(), date_to=datetime(2026, 10, 31).date())
    assert october["documents"] == _docs(1, 2, 0)  # B, C and G
    office = _stats(home, unit="van phong")  # diacritics and case ignored
    assert office["documents"] == _docs(1, 2, 0) and list(office["by_unit"]) == [VP]
    assert _stats(home, unit="Phòng Không Có")["documents"]["total"] == 0


def test_a_public_user_never_counts_the_secret_document(home: Home, ingested: dict[str, Any]) -> None:
    data = _stats(home, user="reader", by=("unit", "type"))
    assert data["documents"] == _docs(1, 4, 1) and data["pages"] == _docs(1, 4, 2)
    assert data["electronic"] == {"count": 4, "of": 6, "share": 0.6667}
    assert _targets(data)["scanned_share"] == (0.1667, True)
    groups = {(g["key"]["unit"], g["key"]["type"]): g["documents"]["total"] for g in data["groups"]}
    assert groups == {(TC, "Báo cáo"): 1, (TC, "Công văn"): 1, (TC, "Quyết định"): 1, (VP, "Công văn"): 2,
                      (VP, "Quyết định"): 1}
    assert data["backlog"] is None  # quarantined inputs have no classification: not shown to readers
    assert data["processing"]["count"] == 6 and data["scope"]["clearance"] == "public"
    assert home.run("user", "add", "nhapkho", "--role", "archivist", "--clearance", "public").returncode == 0
    intake = _stats(home, user="nhapkho")["backlog"]  # an archivist, but public: unreadable inputs are unknown
    assert (intake["total"], intake["batches"]) == (0, [])  # … so only the highest clearance counts them


def test_json_and_csv_give_the_same_numbers(home: Home, ingested: dict[str, Any]) -> None:
    from pipeline.app.statistics import flat

    proc = home.run("stats", "--json", "--by", "unit", "--by", "month")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    proc = home.run("stats", "--csv", "--by", "unit", "--by", "month")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [(r["row"], r["unit"], r["month"]) for r in rows] == [
        ("total", "", ""), ("group", TC, "2026-10"), ("group", TC, "2026-11"), ("group", VP, "2026-09"),
        ("group", VP, "2026-10")]
    for row, fig in zip(rows, [data, *data["groups"]], strict=True):
        expected = {k: "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
                    for k, v in flat(fig).items()}
        assert {k: row[k] for k in expected} == expected
    assert (rows[0]["backlog_quarantined"], rows[0]["backlog_total"], rows[1]["backlog_total"]) == ("2", "2", "")
    assert rows[0]["scanned_share"] == "0.1429" and rows[0]["scanned_share_met"] == "true"


def test_the_terminal_table_and_one_line_errors(home: Home, ingested: dict[str, Any]) -> None:
    proc = home.run("stats", "--by", "unit", "--period", "2026-Q4")
    assert proc.returncode == 0, proc.stderr
    assert VP in proc.stdout and TC in proc.stdout and "total" in proc.stdout
    assert "Backlog: 2 quarantined, 0 failed, 0 pending" in proc.stdout
    public = home.run("stats", user="reader")
    assert public.returncode == 0 and "Backlog" not in public.stdout
    for args, reason in [(["--period", "2026-Q4", "--from", "2026-10-01"], "give a period or a from/to range"),
                         (["--from", "31/02/2026"], "--from: '31/02/2026' is not a date"),
                         (["--json", "--csv"], "give --json or --csv, not both")]:
        proc = home.run("stats", *args)
        assert proc.returncode == 1 and proc.stderr.startswith("archive: error: ") and reason in proc.stderr, args
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert home.run("stats", "--by", "week").returncode == 2  # a usage error, like any unknown choice
