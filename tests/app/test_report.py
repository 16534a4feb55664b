"""Issue 12, `archive report`, on the real S3 server and TEST PKI: a small known mix is ingested in-process, then
the reports are written by the command itself and read back: the HTML's inline SVG charts carry the numbers that
`archive stats --json` gives (their labels are text, each with an id), the PDF's text carries the same figures,
the PDF is PDF/A-2b and its signature verifies, --lang en gives English labels, and a public user's report does
not count the Mật document.

The mix (Vietnam time):

    doc  unit             type        origin        received             class
    A    Văn phòng        Công văn    born-digital  2026-10-05 09:00     public
    B    Văn phòng        Quyết định  born-digital  2026-10-20 10:00     public, signed by its issuer
    C    Văn phòng        Công văn    scanned (OCR) 2026-11-03 14:00     public
    D    Phòng Tài chính  Báo cáo     born-digital  2026-11-10 08:15     public
    E    Phòng Tài chính  Báo cáo     born-digital  2026-11-12 09:00     Mật
    F    Phòng Tài chính  Công văn    born-digital  2026-09-15 09:00     public  (Q3: outside 2026-Q4)
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.core.settings import Settings
from tests.app.conftest import HEADER, Home, build_home

VP, TC = "Văn phòng", "Phòng Tài chính"
ROWS = {  # file → (unit, type, classification, received_at)
    "a-cong-van.pdf": (VP, "Công văn", "public", "2026-10-05T09:00"),
    "b-quyet-dinh-ky-so.pdf": (VP, "Quyết định", "public", "2026-10-20 10:00"),
    "c-cong-van-quet.pdf": (VP, "Công văn", "public", "03/11/2026 14:00"),
    "d-bao-cao.pdf": (TC, "Báo cáo", "public", "2026-11-10T08:15+07:00"),
    "e-bao-cao-mat.pdf": (TC, "Báo cáo", "Mật", "2026-11-12T09:00"),
    "f-cong-van-q3.pdf": (TC, "Công văn", "public", "2026-09-15T09:00"),
}
SVG = "{http://www.w3.org/2000/svg}"
PERIOD = "2026-Q4"


@pytest.fixture(scope="module")
def home(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with build_home(s3_server, tmp_path_factory.mktemp("report-home"), "report") as made:
        yield made


@pytest.fixture(scope="module")
def ingested(home: Home, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from pipeline.app.batches import ingest_batch
    from pipeline.app.users import add_user, resolve_actor
    from pipeline.core.vocabulary import Classification, Role
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf, make_scanned_pdf
    from pipeline.devtools.samples.render import render_scanned_pages
    from tests.sign.helpers import pyhanko_sign

    batch = tmp_path_factory.mktemp("report-batch") / "lo-bao-cao"
    work = tmp_path_factory.mktemp("report-work")
    for name in ("a-cong-van.pdf", "d-bao-cao.pdf", "e-bao-cao-mat.pdf", "f-cong-van-q3.pdf"):
        make_born_digital_pdf([f"Văn bản {name[:-4]} của cơ quan."], batch / name, title=name[:-4])
    plain = make_born_digital_pdf(["Quyết định ban hành quy chế, ký số bởi cơ quan ban hành."], work / "b.pdf")
    pyhanko_sign(plain, batch / "b-quyet-dinh-ky-so.pdf", home.settings.pkcs12_path,
                 home.settings.sign.pkcs12_password)
    (page,) = render_scanned_pages(["CÔNG VĂN\nVề việc báo cáo số liệu."], work / "pages", dpi=150)
    make_scanned_pdf([page], batch / "c-cong-van-quet.pdf")
    lines = [HEADER.strip() + ",received_at"]
    for n, (name, (unit, doc_type, level, received)) in enumerate(ROWS.items(), start=1):
        lines.append(f"{name},{n}/BC,{doc_type},Văn bản {n},{unit},2026-09-01,,{unit},{level},vie,{received}")
    (batch / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with home.context() as ctx:
        operator = resolve_actor(ctx, None)
        report = ingest_batch(ctx, operator, batch, executor="local")
        add_user(ctx, operator, "reader", frozenset({Role.STAFF}), Classification.PUBLIC)
    assert {d.source: d.status for d in report.documents} == dict.fromkeys(ROWS, "archived"), report.to_dict()
    return {d.source: d.id for d in report.documents}


def _json(home: Home, *args: str, user: str | None = None) -> dict[str, Any]:
    proc = home.run("stats", "--json", *args, user=user)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _report(home: Home, output: Path, *args: str, user: str | None = None) -> Path:
    proc = home.run("report", "--output", str(output), *args, user=user)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Report written: "), proc.stdout
    return output


def _pct(value: float | None, lang: str = "vi") -> str:
    if value is None:
        return "–"
    text = f"{value * 100:.2f}%"
    return text.replace(".", ",") if lang == "vi" else text


def _hours(seconds: float | None, lang: str = "vi") -> str:
    if seconds is None:
        return "–"
    text = f"{seconds / 3600:.1f}"
    return text.replace(".", ",") if lang == "vi" else text


def _charts(html: str) -> dict[str, ET.Element]:
    """Each inline chart of the page, parsed as SVG."""
    found = re.findall(r'<figure id="chart-(\w+)">.*?(<svg\b.*?</svg>)', html, re.DOTALL)
    return {name: ET.fromstring(svg) for name, svg in found}


def _labels(svg: ET.Element) -> dict[str, str]:
    """The chart's value labels: group id → its text."""
    return {g.get("id", ""): "".join(t.text or "" for t in g.iter(f"{SVG}text"))
            for g in svg.iter(f"{SVG}g") if re.fullmatch(r"[a-z][a-z0-9]*(-[a-z_]+)?-\d+", g.get("id", ""))}


def _texts(svg: ET.Element) -> list[str]:
    return [t.text or "" for t in svg.iter(f"{SVG}text")]


def _expected_labels(months: dict[str, Any], units: dict[str, Any], lang: str = "vi") -> dict[str, dict[str, str]]:
    """What each chart's labels must say, from `archive stats --json --by month` and `--by unit`."""
    trend, ontime, units_, signed = {}, {}, {}, {}
    for i, group in enumerate(months["groups"]):
        docs = group["documents"]
        trend[f"trend-scanned-{i}"] = _pct(group["targets"]["scanned_share"]["value"], lang)
        trend[f"trend-born_digital-{i}"] = _pct(round(docs["born_digital"] / docs["total"], 4), lang)
        ontime[f"ontime-{i}"] = _pct(group["targets"]["on_time_share"]["value"], lang)
        ontime[f"median-{i}"] = _hours(group["processing"]["median_s"], lang)
        ontime[f"p90-{i}"] = _hours(group["processing"]["p90_s"], lang)
    for i, group in enumerate(units["groups"]):
        for origin in ("scanned", "born_digital", "mixed"):
            units_[f"units-{origin}-{i}"] = str(group["documents"][origin])
        signed[f"signed-{i}"] = _pct(group["targets"]["signed_share"]["value"], lang)
    return {"trend": trend, "units": units_, "signed": signed, "time": ontime}


@pytest.fixture(scope="module")
def operator_html(home: Home, ingested: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> str:
    return _report(home, tmp_path_factory.mktemp("reports") / "bao-cao.html", "--period", PERIOD).read_text("utf-8")


def test_the_html_charts_carry_the_numbers_of_stats_json(home: Home, operator_html: str) -> None:
    months, units = _json(home, "--by", "month", "--period", PERIOD), _json(home, "--by", "unit", "--period", PERIOD)
    # The mix as planned: F (September) is outside the quarter; E (Mật) counts for the operator.
    assert [g["key"]["month"] for g in months["groups"]] == ["2026-10", "2026-11"]
    assert [g["key"]["unit"] for g in units["groups"]] == [TC, VP]
    assert months["documents"] == {"scanned": 1, "born_digital": 4, "mixed": 0, "total": 5}
    charts = _charts(operator_html)
    assert list(charts) == ["trend", "units", "signed", "time"]
    expected = _expected_labels(months, units)
    for name, svg in charts.items():
        assert _labels(svg) == expected[name], name
    # Spelled out for this mix: October A, B born digital; November C scanned, D and E born digital.
    assert _labels(charts["trend"]) == {"trend-scanned-0": "0,00%", "trend-scanned-1": "33,33%",
                                        "trend-born_digital-0": "100,00%", "trend-born_digital-1": "66,67%"}
    assert _labels(charts["units"]) == {"units-scanned-0": "0", "units-born_digital-0": "2", "units-mixed-0": "0",
                                        "units-scanned-1": "1", "units-born_digital-1": "2", "units-mixed-1": "0"}
    assert _labels(charts["signed"]) == {"signed-0": "0,00%", "signed-1": "33,33%"}  # B of A, B, C
    # Vietnamese labels (with their diacritics) as text: axis, ticks, the 50% target line from the configuration.
    trend = _texts(charts["trend"])
    assert {"10/2026", "11/2026", "Tỷ lệ quét", "Tỷ lệ số gốc", "Mục tiêu: quét < 50,00%"} <= set(trend), trend
    assert {TC, VP} <= set(_texts(charts["units"]))
    assert "Mục tiêu: ≥ 95,00%" in _texts(charts["signed"])
    assert "Tỷ lệ xử lý trong hạn 2 giờ" in _texts(charts["time"])


def test_the_html_page_has_the_tables_the_targets_and_the_scope(home: Home, operator_html: str) -> None:
    page = operator_html
    assert page.startswith("<!DOCTYPE html>") and '<html lang="vi">' in page
    assert "BÁO CÁO THỐNG KÊ SỬ DỤNG VĂN BẢN ĐIỆN TỬ" in page
    assert "<script" not in page and "src=" not in page and "href=" not in page.replace("xlink:href=\"#", "")
    assert "<th>Kỳ báo cáo</th><td>2026-Q4 (2026-10-01 – 2026-12-31)</td>" in page
    assert "<th>Người lập báo cáo</th><td>admin</td>" in page  # the local operator
    assert "<th>Độ mật được xem</th><td>Tuyệt mật</td>" in page
    assert "chỉ gồm các văn bản mà người lập báo cáo được phép xem" in page
    cells = r"</t[dh]><t[dh][^>]*>"
    assert re.search(rf"<th>Tỷ lệ văn bản quét{cells}20,00%{cells}&lt; 50,00%{cells}Đạt</td>", page)
    assert re.search(rf"<th>Tỷ lệ văn bản ký số \(bởi cơ quan ban hành\){cells}20,00%{cells}≥ 95,00%{cells}"
                     r"Không đạt</td>", page)
    assert re.search(rf"<th>10/2026{cells}0{cells}2{cells}0{cells}2{cells}0,00%{cells}100,00%{cells}50,00%", page)
    assert re.search(rf"<th>{VP}{cells}1{cells}2{cells}0{cells}3{cells}3{cells}33,33%{cells}33,33%", page)


def test_the_pdf_report_is_pdfa_2b_signed_and_carries_the_figures(home: Home, ingested: dict[str, Any],
                                                                    tmp_path: Path) -> None:
    import pikepdf
    import pypdfium2 as pdfium

    from pipeline.app.verification import verify_file

    output = _report(home, tmp_path / "bao-cao.pdf", "--period", PERIOD)
    with pikepdf.open(output) as pdf, pdf.open_metadata() as meta:
        assert (meta.get("pdfaid:part"), meta.get("pdfaid:conformance")) == ("2", "B")
    report = verify_file(home.settings, output)
    assert report["status"] == "valid", report
    proc = home.run("verify", str(output))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = pdfium.PdfDocument(output)
    try:
        text = "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()
    lines = {" ".join(line.split()) for line in text.splitlines()}
    months, units = _json(home, "--by", "month", "--period", PERIOD), _json(home, "--by", "unit", "--period", PERIOD)
    for group in months["groups"]:
        docs, targets, processing = group["documents"], group["targets"], group["processing"]
        month = group["key"]["month"]
        row = [f"{month[5:]}/{month[:4]}", *(str(docs[o]) for o in ("scanned", "born_digital", "mixed", "total")),
               _pct(targets["scanned_share"]["value"]), _pct(round(docs["born_digital"] / docs["total"], 4)),
               _pct(targets["signed_share"]["value"]), _pct(targets["on_time_share"]["value"]),
               _hours(processing["median_s"]), _hours(processing["p90_s"])]
        assert " ".join(row) in lines, (row, text)
    for group in units["groups"]:
        docs, targets = group["documents"], group["targets"]
        row = [group["key"]["unit"], *(str(docs[o]) for o in ("scanned", "born_digital", "mixed", "total")),
               str(group["pages"]["total"]), _pct(targets["scanned_share"]["value"]),
               _pct(targets["signed_share"]["value"]), _pct(targets["on_time_share"]["value"])]
        assert " ".join(row) in lines, (row, text)
    assert f"Văn bản: Tổng {months['documents']['total']}" in lines
    assert f"Tỷ lệ văn bản quét {_pct(months['targets']['scanned_share']['value'])} < 50,00% Đạt" in lines
    assert "Kỳ báo cáo 2026-Q4 (2026-10-01 – 2026-12-31)" in lines
    with home.context() as ctx:
        events = [e for e in ctx.catalog.query_audit(object_id=str(output.resolve())) if e["action"] == "report"]
    assert len(events) == 1 and events[0]["outcome"] == "ok"
    assert events[0]["detail"]["format"] == "pdf" and events[0]["detail"]["documents"] == 5


def test_english_labels(home: Home, ingested: dict[str, Any], tmp_path: Path) -> None:
    page = _report(home, tmp_path / "report.html", "--period", PERIOD, "--lang", "en").read_text("utf-8")
    months, units = _json(home, "--by", "month", "--period", PERIOD), _json(home, "--by", "unit", "--period", PERIOD)
    charts = _charts(page)
    expected = _expected_labels(months, units, "en")
    assert {name: _labels(svg) for name, svg in charts.items()} == expected
    assert _labels(charts["trend"])["trend-scanned-1"] == "33.33%"
    assert {"2026-10", "2026-11", "Scanned share", "Born-digital share", "Target: scanned < 50.00%"} <= set(
        _texts(charts["trend"]))
    assert "Documents" in _texts(charts["units"]) and "Target: ≥ 95.00%" in _texts(charts["signed"])
    assert '<html lang="en">' in page and "ELECTRONIC-DOCUMENT STATISTICS REPORT" in page
    assert "The figures only cover the documents the requester may see" in page
    assert "Tỷ lệ" not in page and "Mục tiêu" not in page


def test_a_public_users_report_does_not_count_the_secret_document(home: Home, ingested: dict[str, Any],
                                                                    tmp_path: Path) -> None:
    page = _report(home, tmp_path / "cong-khai.html", "--period", PERIOD, user="reader").read_text("utf-8")
    months = _json(home, "--by", "month", "--period", PERIOD, user="reader")
    units = _json(home, "--by", "unit", "--period", PERIOD, user="reader")
    assert months["documents"]["total"] == 4 and months["scope"]["clearance"] == "public"  # E (Mật) is not there
    charts = _charts(page)
    assert {name: _labels(svg) for name, svg in charts.items()} == _expected_labels(months, units)
    assert _labels(charts["units"])["units-born_digital-0"] == "1"  # TC: D only, not E
    assert _labels(charts["trend"])["trend-scanned-1"] == "50,00%"  # November: C of C, D
    assert "<th>Người lập báo cáo</th><td>reader</td>" in page
    assert "<th>Độ mật được xem</th><td>Công khai</td>" in page and "«Công khai»" in page
    assert "Tồn đọng" not in page  # the backlog is for those who run intake


def test_a_period_without_documents_still_renders(home: Home, ingested: dict[str, Any], tmp_path: Path) -> None:
    from pipeline.app.report import ReportQuery, write_report
    from pipeline.app.users import resolve_actor

    with home.context() as ctx:
        written = write_report(ctx, resolve_actor(ctx, None), ReportQuery(period="2025"), tmp_path / "2025.html")
    assert written["documents"] == 0 and written["format"] == "html"
    page = (tmp_path / "2025.html").read_text("utf-8")
    charts = _charts(page)
    assert list(charts) == ["trend", "units", "signed", "time"]
    assert all(_labels(svg) == {} and "Không có dữ liệu" in _texts(svg) for svg in charts.values())
    assert "<th>Tỷ lệ văn bản quét</th><td class=\"num\">–</td>" in page and "Không có dữ liệu" in page


def test_one_line_errors(home: Home, ingested: dict[str, Any], tmp_path: Path) -> None:
    for args, reason in [(["--output", str(tmp_path / "r.txt")], "expected a file name ending in .pdf or .html"),
                         (["--output", str(tmp_path / "r.html"), "--period", PERIOD, "--from", "2026-10-01"],
                          "give a period or a from/to range"),
                         (["--output", str(tmp_path / "r.html"), "--period", "Q5/2026"], "is not a period")]:
        proc = home.run("report", *args)
        assert proc.returncode == 1 and proc.stderr.startswith("archive: error: ") and reason in proc.stderr, args
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "r.txt").exists()
    assert home.run("report", "--output", str(tmp_path / "r.html"), "--lang", "fr").returncode == 2
    assert home.run("report").returncode == 2  # --output is required
