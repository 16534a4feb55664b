"""Formula injection (issue 14): manifest values a spreadsheet would run (``=cmd|' /C calc'!A0``, ``+1+1``,
``-2+3``, ``@SUM(A1)``) are archived verbatim in the record, and every CSV export reads back with no cell that
starts with a formula character unescaped: the value prefixed with ``'`` and quoted (pipeline.core.csv_safe)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest

from pipeline.core.csv_safe import FORMULA_START
from pipeline.core.settings import Settings
from tests.app.conftest import Home, build_home

VALUES = {"doc_number": "-2+3", "doc_type": "@SUM(A1)", "title": "+1+1", "issuer": "=HYPERLINK(\"http://x\")",
          "unit": "=cmd|' /C calc'!A0"}


@pytest.fixture(scope="module")
def home(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with build_home(s3_server, tmp_path_factory.mktemp("csv-home"), "csv") as made:
        yield made


@pytest.fixture(scope="module")
def doc_id(home: Home, tmp_path_factory: pytest.TempPathFactory) -> str:
    from pipeline.app.batches import ingest_batch
    from pipeline.app.users import operator
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    batch = tmp_path_factory.mktemp("csv-batch") / "lo-cong-thuc"
    make_born_digital_pdf(["Công văn có bảng kê lạ."], batch / "cong-thuc.pdf")
    with (batch / "manifest.csv").open("w", encoding="utf-8", newline="") as fh:
        made = csv.writer(fh)
        made.writerow(["path", *VALUES, "issued_date", "classification"])
        made.writerow(["cong-thuc.pdf", *VALUES.values(), "2026-11-02", "public"])
    with home.context() as ctx:
        report = ingest_batch(ctx, operator(ctx), batch, executor="local")
    assert report.ok, report.to_dict()
    return report.documents[0].id


def _cells(text: str) -> list[str]:
    return [value for row in csv.reader(io.StringIO(text)) for value in row]


def _number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def test_the_record_keeps_the_values_verbatim(home: Home, doc_id: str) -> None:
    from pipeline.app import documents
    from pipeline.app.users import operator

    with home.context() as ctx:
        meta = documents.show(ctx, operator(ctx), doc_id).record.metadata
    assert {k: getattr(meta, k) for k in VALUES} == VALUES


def test_every_csv_export_neutralises_them(home: Home, doc_id: str) -> None:
    exports: dict[str, Any] = {}
    for by in (("--by", "unit"), ("--by", "type"), ("--by", "unit", "--by", "type", "--by", "month")):
        done = home.run("stats", "--csv", *by)
        assert done.returncode == 0, done.stderr
        exports[" ".join(by)] = done.stdout
    for name, text in exports.items():
        cells = _cells(text)
        hostile = [c for c in cells if c.startswith(FORMULA_START) and not _number(c)]
        assert hostile == [], (name, hostile)
    by_unit = _cells(exports["--by unit"])
    assert "'" + VALUES["unit"] in by_unit and "\"'=cmd|' /C calc'!A0\"" in exports["--by unit"]
    assert "'" + VALUES["doc_type"] in _cells(exports["--by type"])
