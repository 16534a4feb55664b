"""Intake must survive hostile or odd batches: decompression bombs, symbolic links, vanishing files,
and read the dates Vietnamese manifests actually contain."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from pipeline.core.dates import parse_date
from pipeline.devtools.samples.pdfs import make_born_digital_pdf
from pipeline.scan import plan_batch
from pipeline.scan.images import ImageTooLarge, inspect_images
from pipeline.scan.manifest import ManifestError

TEXT = "Thông báo về việc số hóa văn bản điện tử của cơ quan."
HEADER = "path,doc_number,doc_type,title,issuer,issued_date,signer,unit,classification,language\n"


def _page(path: Path, size: tuple[int, int] = (300, 400)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", size, 255).save(path, dpi=(300, 300))
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 200-megapixel one-colour PNG of a few tens of KB (1-bit: ~25 MB in memory while written)."""
    path = tmp_path_factory.mktemp("bomb") / "page1.png"
    Image.new("1", (20000, 10000), 1).save(path)
    assert path.stat().st_size < 200_000
    return path


# --- 1a: decompression bombs -------------------------------------------------------------------------


def test_decompression_bomb_is_a_problem_and_the_batch_goes_on(tmp_path: Path, bomb: Path) -> None:
    batch = tmp_path / "b"
    (batch / "bom").mkdir(parents=True)
    (batch / "bom" / "page1.png").write_bytes(bomb.read_bytes())
    _page(batch / "ok" / "page1.png")
    make_born_digital_pdf([TEXT], batch / "ct.pdf")
    plan = plan_batch(batch)
    assert sorted(d.source_path for d in plan.documents) == ["ct.pdf", "ok"]
    (problem,) = plan.problems
    assert problem.source_path == "bom"
    assert "page image is too large: 200 megapixels (limit 150)" in problem.reason
    assert "decompression bomb" in problem.reason
    assert problem.files == [batch / "bom" / "page1.png"]


def test_pixel_limit_is_a_parameter(tmp_path: Path) -> None:
    page = _page(tmp_path / "p.png", (1000, 1000))
    assert inspect_images([page]).page_count == 1
    with pytest.raises(ImageTooLarge, match=r"1 megapixels \(limit 0.5\)"):
        inspect_images([page], max_pixels=500_000)
    batch = tmp_path / "b"
    _page(batch / "doc" / "page1.png", (1000, 1000))
    (problem,) = plan_batch(batch, max_pixels=500_000).problems
    assert "too large" in problem.reason


# --- 1b: symbolic links and vanishing files ------------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> dict[str, Path]:
    secret = tmp_path / "outside" / "secret.pdf"
    make_born_digital_pdf(["Tài liệu mật, không thuộc lô này."], secret)
    key = tmp_path / "outside" / "id_rsa.png"
    key.write_bytes(b"-----BEGIN OPENSSH PRIVATE KEY-----\n")
    folder = tmp_path / "outside" / "scans"
    _page(folder / "page1.png")
    return {"pdf": secret, "file": key, "folder": folder}


def test_links_leaving_the_batch_are_refused_and_never_read(tmp_path: Path, outside: dict[str, Path]) -> None:
    batch = tmp_path / "b"
    make_born_digital_pdf([TEXT], batch / "good.pdf")
    (batch / "linked.pdf").symlink_to(outside["pdf"])
    (batch / "scans").symlink_to(outside["folder"], target_is_directory=True)
    (batch / "gone.pdf").symlink_to(tmp_path / "nowhere.pdf")
    plan = plan_batch(batch)
    assert [d.source_path for d in plan.documents] == ["good.pdf"]
    problems = {p.source_path: p for p in plan.problems}
    assert set(problems) == {"linked.pdf", "scans", "gone.pdf"}
    assert problems["linked.pdf"].reason == "symbolic link to a file outside the batch: refused"
    assert problems["scans"].reason == "symbolic link to a folder outside the batch: refused"
    assert problems["gone.pdf"].reason == "dangling symbolic link: refused"
    assert all(p.files == [] for p in plan.problems)
    assert all(str(tmp_path / "outside") not in p.reason for p in plan.problems)


def test_links_inside_a_document_folder_refuse_the_link_and_the_folder(tmp_path: Path, outside) -> None:
    batch = tmp_path / "b"
    page1 = _page(batch / "cv" / "page1.png")
    (batch / "cv" / "page2.png").symlink_to(outside["file"])  # the secret must never be uploaded
    (batch / "cv" / "page3.png").symlink_to(tmp_path / "nowhere.png")
    _page(batch / "other" / "page1.png")
    plan = plan_batch(batch)
    assert [d.source_path for d in plan.documents] == ["other"]
    problems = {p.source_path: p for p in plan.problems}
    assert problems["cv/page2.png"].reason == "symbolic link to a file outside the batch: refused"
    assert problems["cv/page3.png"].reason == "dangling symbolic link: refused"
    assert problems["cv/page2.png"].files == problems["cv/page3.png"].files == []
    assert "page2.png, page3.png" in problems["cv"].reason
    assert problems["cv"].files == [page1]  # only the folder's own regular files are kept
    quarantined = [f for p in plan.problems for f in p.files]
    assert all(not f.is_symlink() for f in quarantined)


def test_links_inside_the_batch_are_refused_too(tmp_path: Path) -> None:
    """Chosen rule: intake follows no link at all (an in-batch link would archive the content twice)."""
    batch = tmp_path / "b"
    make_born_digital_pdf([TEXT], batch / "a.pdf")
    (batch / "b.pdf").symlink_to(batch / "a.pdf")
    plan = plan_batch(batch)
    assert [d.source_path for d in plan.documents] == ["a.pdf"]
    (problem,) = plan.problems
    assert problem.source_path == "b.pdf" and problem.files == []
    assert problem.reason.startswith("symbolic link to a file inside the batch: refused")


def test_manifest_csv_linked_from_outside_is_refused_but_a_named_manifest_is_read(tmp_path: Path) -> None:
    batch = tmp_path / "b"
    make_born_digital_pdf([TEXT], batch / "ct.pdf")
    elsewhere = tmp_path / "m.csv"
    elsewhere.write_text(HEADER + "ct.pdf,07/CT,Chỉ thị,,,20/11/2026,,,,\n", encoding="utf-8")
    (batch / "manifest.csv").symlink_to(elsewhere)
    with pytest.raises(ManifestError, match="outside the batch: refused"):
        plan_batch(batch)
    (batch / "manifest.csv").unlink()
    (doc,) = plan_batch(batch, manifest=elsewhere).documents
    assert doc.metadata.issued_date == date(2026, 11, 20)


@pytest.mark.timeout(20)  # the unfixed intake blocks forever opening the pipe
def test_special_files_are_refused(tmp_path: Path) -> None:
    batch = tmp_path / "b"
    batch.mkdir()
    os.mkfifo(batch / "pipe.pdf")  # opening it would block the whole batch
    (problem,) = plan_batch(batch).problems
    assert problem.source_path == "pipe.pdf" and "not a regular file" in problem.reason


def test_file_vanishing_during_intake_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    batch = tmp_path / "b"
    make_born_digital_pdf([TEXT], batch / "a.pdf")
    make_born_digital_pdf([TEXT, "hai"], batch / "b.pdf")
    import pipeline.scan.batch as batch_module

    real = batch_module.inspect_pdf

    def vanish(path: Path):
        if path.name == "a.pdf":
            path.unlink()  # deleted by someone else between listing and reading
        return real(path)

    monkeypatch.setattr(batch_module, "inspect_pdf", vanish)
    plan = plan_batch(batch)
    assert [d.source_path for d in plan.documents] == ["b.pdf"]
    (problem,) = plan.problems
    assert problem.source_path == "a.pdf" and "vanished" in problem.reason and problem.files == []


# --- 1c: manifest dates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026-11-20", date(2026, 11, 20)), ("20/11/2026", date(2026, 11, 20)), ("5/1/2024", date(2024, 1, 5)),
     (" 05/01/2024 ", date(2024, 1, 5))],
)
def test_parse_date_accepts_iso_and_vietnamese_forms(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["31/02/2026", "2026-13-01", "11/20/2026", "2026/11/20", "20-11-2026", "", "hôm nay"])
def test_parse_date_refuses_others_in_user_terms(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_date(text)
    assert str(info.value) == f"{text!r} is not a date (expected YYYY-MM-DD or dd/mm/yyyy)"


def test_manifest_reads_vietnamese_dates_and_reports_bad_ones(tmp_path: Path) -> None:
    batch = tmp_path / "b"
    make_born_digital_pdf([TEXT], batch / "vn.pdf")
    make_born_digital_pdf([TEXT, "hai"], batch / "us.pdf")
    (batch / "manifest.csv").write_text(
        HEADER + "vn.pdf,1/QĐ,Quyết định,,,20/11/2026,,,,\n" + "us.pdf,2/QĐ,Quyết định,,,11/20/2026,,,,\n",
        encoding="utf-8")
    plan = plan_batch(batch)
    (doc,) = plan.documents
    assert doc.source_path == "vn.pdf" and doc.metadata.issued_date == date(2026, 11, 20)
    (problem,) = plan.problems
    assert problem.source_path == "us.pdf"
    assert "issued_date '11/20/2026' is not a date (expected YYYY-MM-DD or dd/mm/yyyy)" in problem.reason


def test_manifest_refuses_issue_dates_retention_cannot_count_from(tmp_path: Path) -> None:
    """Retention counts from the issue date: a typo (1203, or next year) must not make a record due at once
    or lock it for centuries; the Circular 02/2019 columns are read with their codes."""
    from pipeline.scan.manifest import read_manifest

    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "path,issued_date,dossier_code,order_in_dossier,access_regime,reliability\n"
        "a.pdf,1203-05-01,,,,\nb.pdf,01/01/2999,,,,\nc.pdf,2020-05-01,G01.2020.07,3,01,02\n"
        "d.pdf,2020-05-01,,0,,\ne.pdf,2020-05-01,,,bí mật,\n", encoding="utf-8")
    rows = read_manifest(manifest)
    errors = dict(rows.errors)
    assert "before 1800 or in the future" in errors["a.pdf"] and "before 1800 or in the future" in errors["b.pdf"]
    assert "order_in_dossier '0'" in errors["d.pdf"] and "access_regime 'bí mật'" in errors["e.pdf"]
    meta = rows.by_path["c.pdf"]
    assert (meta.export_name(), meta.access_regime, meta.reliability) == ("G01.2020.07.3", "restricted", "copy")
