"""CSV exports neutralise text a spreadsheet would run as a formula (OWASP), and keep numbers numbers."""

from __future__ import annotations

import csv
import io

from pipeline.core.csv_safe import FORMULA_START, cell, dict_writer, writer

HOSTILE = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1", '=HYPERLINK("http://x","y")']


def test_every_formula_start_is_prefixed_and_quoted() -> None:
    out = io.StringIO()
    made = writer(out, lineterminator="\n")
    made.writerow([*HOSTILE, "Văn phòng", "", None, True, -5, -2.5, 0])
    text = out.getvalue()
    row = next(csv.reader(io.StringIO(text)))
    assert row[: len(HOSTILE)] == ["'" + v for v in HOSTILE]
    assert row[len(HOSTILE):] == ["Văn phòng", "", "", "true", "-5", "-2.5", "0"]
    assert text.startswith("\"'=cmd|' /C calc'!A0\",")  # text quoted …
    assert text.rstrip("\n").endswith(",-5,-2.5,0")  # … negative numbers written as numbers, unquoted
    for value in row:
        assert not value.startswith(FORMULA_START) or value.lstrip("-").replace(".", "", 1).isdigit()


def test_dict_writer_neutralises_the_header_and_refuses_unknown_fields() -> None:
    out = io.StringIO()
    made = dict_writer(out, ["unit", "=count"], lineterminator="\n")
    made.writeheader()
    made.writerow({"unit": "@SUM(A1)", "=count": 3})
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [["unit", "'=count"], ["'@SUM(A1)", "3"]]
    try:
        made.writerow({"other": 1})
    except ValueError as exc:
        assert "other" in str(exc)
    else:
        raise AssertionError("an unknown field was written")
    assert cell("Kế hoạch") == "Kế hoạch" and cell(None) == ""
