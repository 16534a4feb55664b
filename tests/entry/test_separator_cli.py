"""`archive separator`: the printed sheet, rasterized like a scan, decodes back to what was typed; refusals are
one line; printing needs the archivist role and the clearance; a classified sheet is an audit event."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from PIL import Image

from pipeline.app.context import Context
from pipeline.app.errors import Invalid
from pipeline.app.separators import SheetRequest, print_sheet
from pipeline.app.users import operator
from pipeline.core.actor import AccessDenied, Actor
from pipeline.core.settings import Settings, load_settings, write_settings
from pipeline.core.vocabulary import Classification, Role
from pipeline.scan.separator import SeparatorMeta, find_separator

ARCHIVE = str(Path(sys.executable).parent / "archive")
TITLE = "Quyết định về việc phê duyệt danh mục hồ sơ, tài liệu số hóa năm 2025"


def _env(home: Path) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")} | {"ARCHIVE_HOME": str(home)}


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ARCHIVE, "separator", *args], env=env, capture_output=True, text=True, timeout=120)


def _scan(pdf: Path, dpi: int = 200) -> Image.Image:
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "-singlefile", str(pdf), str(pdf.with_suffix(""))],
                   check=True, timeout=60)
    with Image.open(pdf.with_suffix(".png")) as image:
        return image.convert("L").rotate(1.5, expand=True, fillcolor=255)


def test_the_printed_sheet_decodes_back_to_the_given_metadata(tmp_path: Path) -> None:
    sheet = tmp_path / "in" / "tờ phân cách.pdf"
    proc = _run(_env(tmp_path / "home"), "--doc-number", "45/2025/QĐ-UBND", "--title", TITLE, "--type", "Quyết định",
                "--unit", "Văn phòng Ủy ban nhân dân tỉnh", "--classification", "Nội bộ", "--dossier", "G01.2025.07",
                "--order", "4", "--output", str(sheet), "--json")
    assert proc.returncode == 0, proc.stderr
    written = json.loads(proc.stdout)
    expected = SeparatorMeta(doc_number="45/2025/QĐ-UBND", title=TITLE, doc_type="Quyết định",
                             unit="Văn phòng Ủy ban nhân dân tỉnh", classification=Classification.INTERNAL,
                             dossier_code="G01.2025.07", order_in_dossier=4)
    assert written["metadata"] == expected.to_dict() and written["ec_level"] == "H" and not written["audited"]
    hit = find_separator(_scan(sheet))
    assert hit is not None and hit.meta == expected
    text = subprocess.run(["pdftotext", str(sheet), "-"], capture_output=True, text=True, check=True).stdout
    assert "TỜ PHÂN CÁCH — SEPARATOR" in text and "Văn phòng Ủy ban nhân dân tỉnh" in text and "Nội bộ" in text
    assert [p.name for p in sheet.parent.iterdir()] == [sheet.name, sheet.with_suffix(".png").name]  # no leftovers


@pytest.mark.parametrize(("args", "reason"), [
    (["--classification", "secret"], "unknown classification or clearance 'secret'"),
    (["--order", "2"], "--dossier CODE --order K"),
    (["--title", "=HYPERLINK(\"http://x\")"], "--title '=HYPERLINK"),
])
def test_a_refusal_is_one_line_and_writes_nothing(tmp_path: Path, args: list[str], reason: str) -> None:
    sheet = tmp_path / "sheet.pdf"
    proc = _run(_env(tmp_path / "home"), "--doc-number", "12/TB-VP", *args, "--output", str(sheet))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("archive: error: ") and reason in lines[0], proc.stderr
    assert not sheet.exists() and list(tmp_path.glob("*.partial")) == []


@pytest.mark.parametrize(("request_", "reason"), [
    (SheetRequest(dossier_code="G01.2025.07"), "--dossier CODE --order K"),
    (SheetRequest(dossier_code="hồ sơ 7", order_in_dossier=1), "--dossier: 'hồ sơ 7' is not a dossier code"),
    (SheetRequest(dossier_code="G01.2025.07", order_in_dossier=0), "--order 0 is not a whole number"),
    (SheetRequest(title="Tờ trình " * 40), "--title is 359 characters long (at most 300)"),
    (SheetRequest(title="Ữ" * 290, unit="ữ" * 120), "shorten the title"),
    (SheetRequest(unit="Phòng\u202eHành chính"), "--unit holds control or invisible characters"),
    (SheetRequest(classification="Mật lắm"), "unknown classification"),
])
def test_the_use_case_names_what_the_person_typed(tmp_path: Path, request_: SheetRequest, reason: str) -> None:
    with Context(load_settings(tmp_path / "home", environ={})) as ctx, pytest.raises(Invalid) as caught:
        print_sheet(ctx, operator(ctx), request_, tmp_path / "s.pdf")
    assert reason in str(caught.value) and "\n" not in str(caught.value)
    assert list(tmp_path.glob("*.pdf")) == []


def test_the_output_must_be_a_pdf_file(tmp_path: Path) -> None:
    proc = _run(_env(tmp_path / "home"), "--doc-number", "1", "--output", str(tmp_path / "sheet.png"))
    assert proc.returncode == 1 and "expected a file name ending in .pdf" in proc.stderr
    assert _run(_env(tmp_path / "home"), "--output", str(tmp_path / "s.pdf")).returncode == 2  # --doc-number: required


def test_printing_needs_the_archivist_role_and_the_clearance(tmp_path: Path) -> None:
    ctx = Context(load_settings(tmp_path / "home", environ={}))
    request = SheetRequest(doc_number="7/BC-SNV", classification="mat")
    staff = Actor("lan", frozenset({Role.STAFF}), Classification.TUYET_MAT)
    with pytest.raises(AccessDenied, match="needs the archivist role"):
        print_sheet(ctx, staff, request, tmp_path / "a.pdf")
    archivist = Actor("minh", frozenset({Role.ARCHIVIST}), Classification.INTERNAL)
    with pytest.raises(AccessDenied, match="classified Mật"):
        print_sheet(ctx, archivist, request, tmp_path / "b.pdf")
    written = print_sheet(ctx, archivist, SheetRequest(doc_number="7/BC-SNV", classification="internal"),
                          tmp_path / "c.pdf")
    assert not written["audited"] and (tmp_path / "c.pdf").read_bytes().startswith(b"%PDF-")
    assert not (tmp_path / "a.pdf").exists() and not (tmp_path / "b.pdf").exists()
    ctx.close()


def test_a_classified_sheet_is_an_audit_event_naming_no_title(s3_server: Settings, tmp_path: Path) -> None:
    settings = load_settings(tmp_path, environ={})
    settings.s3 = s3_server.s3.model_copy(update={"bucket": f"separator-{uuid.uuid4().hex[:10]}"})
    settings.s3.manage_local = False
    write_settings(settings)
    with Context(load_settings(tmp_path, environ={})) as ctx:
        ctx.store.ensure_bucket()
    env = _env(tmp_path)
    sheet = tmp_path / "mat.pdf"
    proc = _run(env, "--doc-number", "3/KH-CA", "--title", "Kế hoạch bảo vệ bí mật nhà nước", "--classification",
                "Tối mật", "--output", str(sheet), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["audited"] is True
    listed = subprocess.run([ARCHIVE, "audit", "list", "--json"], env=env, capture_output=True, text=True,
                            timeout=120)
    events = [e for e in json.loads(listed.stdout) if e["action"] == "separator.print"]
    assert len(events) == 1 and events[0]["object"] == str(sheet.resolve())
    assert events[0]["detail"]["classification"] == "toi-mat" and "bí mật" not in json.dumps(events[0],
                                                                                             ensure_ascii=False)
