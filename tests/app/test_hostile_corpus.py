"""Issue 14, hostile and broken input: a corpus of generated cases (and real-world PDFs from
``tests/corpus/realworld``, licences in its SOURCES.md) in ONE batch, ingested once through the application layer
with the local executor. Every case ends archived, duplicate, skipped or quarantined with its expected reason; the
batch goes on; nothing is lost (every input file archived, kept in quarantine byte for byte, skipped with a reason,
or a duplicate in the batch); no partial document; every archived rendition has its input's pages, none blank
where the input page is not (a 16-bit TIFF was archived as a blank page, a 3-frame one as one page).

Cost: 24 conversions (16 born-digital PDFs, 8 tiny scans; deskew and page rotation off): the file took 105 s on 2
cores at a load average of 2 (83 s of ingest), 380 s at a load average of 8. The 1,000-page PDF is refused here by a
small configured ``intake.max_pages``; under the default limit it archives (measured 138 s: see the README). A
manifest in Windows-1258 stops a batch before anything is written, so it is checked on a batch of its own."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from pipeline.core.settings import Settings
from pipeline.devtools.samples.hostile import FORMULAS, NFD_NAME, VIETNAMESE_NAME
from tests.app.conftest import Home, build_home

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
log = logging.getLogger(__name__)
REALWORLD = Path(__file__).parents[1] / "corpus" / "realworld"
REAL = ("invalid.pdf", "aes-256-userpw.pdf", "fuzz-378014596.pdf", "certified-docmdp.pdf")
MAX_PAGES = 500  # intake.max_pages of this home: the 1,000-page PDF is over it
A, Q = "archived", "quarantined"

# source → (status, text the outcome's reason, warnings or the record's notes must contain)
EXPECTED: dict[str, tuple[str, str]] = {
    "rong.pdf": (Q, "intake: rong.pdf: empty file (0 bytes)"),
    "cat-cut.pdf": (Q, "corrupt or unreadable PDF"),
    "xref-hong-sua-duoc.pdf": (A, ""),
    "xref-hong-nat.pdf": (Q, "corrupt or unreadable PDF"),
    "mat-khau-mo.pdf": (Q, "PDF is encrypted with a password"),
    "mat-khau-chu.pdf": (A, "removed the owner-password restrictions"),
    "javascript.pdf": (A, "removed document JavaScript"),
    "open-action.pdf": (A, "removed /OpenAction (JavaScript)"),
    "launch.pdf": (A, "action(s) PDF/A forbids"),
    "dinh-kem.pdf": (A, "attachment(s) out of the PDF"),
    "bieu-mau.pdf": (A, "flattened the form"),
    "phong-chua-nhung.pdf": (A, ""),
    "khong-trang.pdf": (Q, "khong-trang.pdf: PDF has no pages"),
    "trang-1pt.pdf": (A, "padded to the 3-unit minimum"),
    "trang-200-inch.pdf": (A, ""),
    "ti-le-cuc-doan.pdf": (A, ""),
    "nghin-trang.pdf": (Q, f"intake: 1000 pages, more than the limit of {MAX_PAGES} pages per document"),
    "van-ban.docx": (Q, "not a document: expected a PDF file, a TIFF file or a folder of page images"),
    "Thumbs.db": ("skipped", "operating-system file (Thumbs.db): skipped"),
    "da-ky.pdf": (A, "signed-original"),
    "certified-docmdp.pdf": (A, "signed-original"),
    "pdfa-san.pdf": (A, ""),
    VIETNAMESE_NAME: (A, ""),
    unicodedata.normalize("NFC", NFD_NAME): (A, ""),
    "--help.pdf": (A, ""),
    "..\\..\\thoat-ra.pdf": (A, ""),
    "trung-lap.pdf": ("duplicate", "same content as javascript.pdf in this batch"),
    "lien-ket-trong.pdf": (Q, "symbolic link to a file inside the batch: refused"),
    "lien-ket-ngoai.pdf": (Q, "symbolic link to a file outside the batch: refused"),
    "lien-ket-hong.pdf": (Q, "dangling symbolic link: refused"),
    "ngay-sai.pdf": (Q, "manifest.csv row 3 (ngay-sai.pdf): issued_date '31/02/2024' is not a date"),
    "anh-16bit": (A, "page 1: I;16 image (16-bit values) converted to 8-bit L"),
    "anh-16bit-3-trang": (A, "page 3: I;16 image (16-bit values) converted to 8-bit L"),
    "anh-cmyk": (A, "CMYK image converted to 8-bit RGB"),
    "anh-g4-2-trang": (A, ""),
    "anh-exif-xoay": (A, "page 1: EXIF orientation 6 applied"),
    "anh-150dpi": (A, "page1.png: 150 dpi is below the 200 dpi minimum"),
    "anh-trang-trang": (A, "1 blank page(s) dropped: 2"),  # dropped at intake (scan.blank_ink_share)
    "anh-ti-le": (A, "signed without the visible stamp: page 1 (1440 × 17 pt) is too small for the visible stamp"),
    "anh-gia": (Q, "page1.png: unreadable image (cannot identify image file 'page1.png')"),
    "anh-la-pdf": (Q, "page1.jpg: unreadable image"),
    "anh-rong": (Q, "page1.png: empty file (0 bytes)"),
    "anh-bom": (Q, "page image is too large: 200 megapixels (limit 150): possible decompression bomb"),
    "anh-cut": (Q, "page1.png: unreadable image"),
    "anh-jpeg-cut": (Q, "page1.jpg: unreadable image (image file is truncated"),
    "thu-muc-rong": (Q, "document folder is empty"),
    "anh-lan-tep": (Q, "document folder holds files that are not page images: ghi-chu.txt"),
    "invalid.pdf": (Q, "corrupt or unreadable PDF"),
    "aes-256-userpw.pdf": (Q, "PDF is encrypted with a password"),
    "fuzz-378014596.pdf": (Q, "corrupt PDF page"),
}
PAGES = {"anh-16bit-3-trang": 3, "anh-g4-2-trang": 2}  # archived: 1 page unless named
MANIFEST_ERRORS = ["manifest.csv row 5: path '../ngoai-lo.pdf' leaves the batch folder: ignored",
                   "manifest.csv row 4: 'khong-co-tep.pdf' names no file or folder in the batch"]


@dataclass
class Ingested:
    batch: Path
    report: Any
    outcomes: dict[str, Any]
    records: dict[str, Any]
    quarantine: list[dict[str, Any]]
    objects: list[str]
    renditions: dict[str, Path]
    seconds: float


class Clock:
    """How long each document took, logged: the file's runtime is watched (a conversion costs seconds)."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.seconds: dict[str, float] = {}

    def planned(self, plan: object) -> None:
        self.last = time.monotonic()

    def stage(self, source: str, stage: str) -> None:
        pass

    def done(self, outcome: Any) -> None:
        now = time.monotonic()
        self.seconds[outcome.source], self.last = now - self.last, now


@pytest.fixture(scope="module")
def home(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    from pipeline.core.settings import load_settings, update_config

    with build_home(s3_server, tmp_path_factory.mktemp("hostile-home"), "hostile") as made:
        # Deskew and page rotation are orthogonal to hostile input and cost a Tesseract run a page: off here.
        update_config(made.settings.home, {"intake.max_pages": MAX_PAGES, "ocr.deskew": False,
                                           "ocr.rotate_pages": False})
        made.settings = load_settings(made.settings.home, environ={})
        yield made


def _extra_pdfs(home: Home, batch: Path, scratch: Path) -> None:
    """A PDF signed by its sender (the TEST agency key) and an already valid PDF/A (made by the OCR stage)."""
    from pyhanko.sign import fields

    from pipeline import ocr
    from pipeline.devtools.samples.hostile import born_digital
    from tests.sign.helpers import pyhanko_sign

    plain = born_digital(scratch / "plain.pdf", "Công văn số 321/UBND-VP về chữ ký số chuyên dùng.")
    pyhanko_sign(plain, batch / "da-ky.pdf", home.settings.pkcs12_path, home.settings.sign.pkcs12_password,
                 subfilter=fields.SigSeedSubFilter.PADES)
    source = born_digital(scratch / "pdfa-source.pdf", "Báo cáo đã ở định dạng PDF/A-2b.")
    made = ocr.make_pdfa(ocr.OcrRequest(inputs=[source], kind="pdf", needs_ocr=False), scratch / "pdfa")
    assert ocr.check_pdfa(made.pdf_path) == []
    shutil.copyfile(made.pdf_path, batch / "pdfa-san.pdf")
    for name in REAL:
        shutil.copyfile(REALWORLD / name, batch / name)


@pytest.fixture(scope="module")
def ingested(home: Home, tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    from pipeline.app.batches import ingest_batch
    from pipeline.app.users import resolve_actor
    from pipeline.devtools.samples.hostile import build_batch

    root = tmp_path_factory.mktemp("hostile")
    batch = build_batch(root / "lo-hiem-hoc", root / "ngoai")
    _extra_pdfs(home, batch, root / "scratch")
    started, clock = time.monotonic(), Clock()
    with home.context() as ctx:
        report = ingest_batch(ctx, resolve_actor(ctx, None), batch, executor="local", observer=clock)
        seconds = time.monotonic() - started
        outcomes = {d.source: d for d in report.documents}
        records = {s: ctx.store.get_record(d.id) for s, d in outcomes.items() if d.status == A}
        renditions = {s: ctx.store.download(r.artefacts["archive.pdf"].key, root / "out" / f"{r.id}.pdf")
                      for s, r in records.items()}
        quarantine = ctx.store.list_quarantine()
        objects = [o.object_name for o in ctx.store.client.list_objects(ctx.store.bucket, prefix="documents/",
                                                                         recursive=True)]
    slowest = sorted(clock.seconds.items(), key=lambda kv: -kv[1])[:8]
    log.warning("hostile corpus: %d inputs ingested in %.0f s: %s; slowest: %s", len(outcomes), seconds,
                report.to_dict()["summary"], ", ".join(f"{s} {t:.1f} s" for s, t in slowest))
    return Ingested(batch, report, outcomes, records, quarantine, objects, renditions, seconds)


def _evidence(ing: Ingested, source: str) -> str:
    """Everything a person reads about the outcome: reason, warnings, representation, notes, the stages' fixes."""
    outcome = ing.outcomes[source]
    parts = [outcome.reason, *outcome.warnings]
    record = ing.records.get(source)
    if record is not None:
        parts += [record.representation, record.representation_note.en, *record.representation_note.changes]
        parts += [str(fix) for event in record.events for fix in event.detail.get("fixes", [])]
    return " | ".join(parts)


def test_the_corpus_covers_every_case(ingested: Ingested) -> None:
    assert len(EXPECTED) >= 40
    assert set(ingested.outcomes) == set(EXPECTED), set(ingested.outcomes) ^ set(EXPECTED)
    assert ingested.report.unfinished == 0  # no document failed or left pending: the batch went on


@pytest.mark.parametrize("source", sorted(EXPECTED))
def test_each_case_ends_with_its_status_and_reason(ingested: Ingested, source: str) -> None:
    status, text = EXPECTED[source]
    outcome = ingested.outcomes[source]
    assert outcome.status == status, (source, outcome)
    assert text in _evidence(ingested, source), _evidence(ingested, source)
    assert "\n" not in outcome.reason and "Traceback" not in outcome.reason
    assert str(ingested.batch) not in _evidence(ingested, source)  # no server path in what people read


def test_nothing_is_lost(ingested: Ingested) -> None:
    """Every file under the batch folder (links included) has a row; a quarantined input is kept byte for byte,
    an archived one is its original byte for byte, a duplicate names the document archived."""
    from pipeline.archive.layout import original_role

    sha = {}
    for folder, dirs, files in os.walk(ingested.batch):
        for name in files + [d for d in dirs if (Path(folder) / d).is_symlink()]:
            path = Path(folder) / name
            rel = unicodedata.normalize("NFC", path.relative_to(ingested.batch).as_posix())
            if rel != "manifest.csv":
                sha[rel] = "" if path.is_symlink() else hashlib.sha256(path.read_bytes()).hexdigest()
    kept = {(e["name"], e.get("sha256", "")) for e in ingested.quarantine}
    for rel, digest in sha.items():
        source = rel if rel in ingested.outcomes else rel.rsplit("/", 1)[0]
        outcome = ingested.outcomes[source]
        if outcome.status == Q:
            assert (rel, digest) in kept or (source, digest) in kept, (rel, outcome.reason)
        elif outcome.status == A:
            record = ingested.records[source]
            assert record.artefacts[original_role(Path(rel).name)].sha256 == digest, rel
        elif outcome.status == "duplicate":
            assert outcome.id in {r.id for r in ingested.records.values()}
        else:
            assert outcome.status == "skipped" and outcome.reason
    reasons = {e["name"]: e["reason"] for e in ingested.quarantine}
    for source, outcome in ingested.outcomes.items():  # every quarantined row has its reason in storage
        if outcome.status == Q:
            assert any(n == source or n.startswith(source + "/") for n in reasons), source


def test_no_partial_documents(ingested: Ingested) -> None:
    by_doc: dict[str, set[str]] = {}
    for key in ingested.objects:
        _, doc_id, role = key.split("/", 2)
        by_doc.setdefault(doc_id, set()).add(role)
    assert set(by_doc) == {r.id for r in ingested.records.values()}
    assert all({"metadata.json", "archive.pdf"} <= roles for roles in by_doc.values())


def test_archived_pages_match_their_inputs(ingested: Ingested) -> None:
    from pipeline.ocr.pagecheck import BLANK_INK, rendered_ink

    for source, record in ingested.records.items():
        expected = PAGES.get(source, 1)
        with pikepdf.open(ingested.renditions[source]) as pdf:
            assert len(pdf.pages) == record.page_count == expected, source
        if record.representation == "pdfa" and ingested.outcomes[source].origin == "scanned":
            ink = rendered_ink(ingested.renditions[source], ingested.batch.parent / "ink", 120)
            blank = [n for n, value in enumerate(ink, start=1) if value < BLANK_INK]
            assert blank == [], (source, ink)  # intake dropped the blank page of anh-trang-trang


def test_low_resolution_and_blank_pages_are_flagged_on_the_record(ingested: Ingested) -> None:
    low = ingested.records["anh-150dpi"]
    intake = next(e for e in low.events if e.stage == "intake")
    assert intake.detail["warnings"] == ["page1.png: 150 dpi is below the 200 dpi minimum"]
    blank = ingested.records["anh-trang-trang"]
    assert (blank.source.blank_pages, blank.source.pages, blank.page_count) == ([2], [1], 1)
    assert next(e for e in blank.events if e.stage == "intake").detail["blank_pages"] == [2]
    assert next(e for e in blank.events if e.stage == "ocr").detail["blank_pages"] == []
    originals = sorted(r for r in blank.artefacts if r.startswith("original/"))  # the blank scan is kept there
    assert originals == ["original/page1.png", "original/page2.png"]
    assert all(not ingested.outcomes[s].warnings for s in ("anh-16bit", "--help.pdf"))


def test_manifest_errors_name_their_rows(ingested: Ingested) -> None:
    assert sorted(ingested.report.manifest_errors) == sorted(MANIFEST_ERRORS)


def test_formulas_in_the_manifest_are_kept_as_text(ingested: Ingested) -> None:
    meta = ingested.records[VIETNAMESE_NAME].metadata
    assert (meta.doc_number, meta.title, meta.issuer, meta.signer, meta.notes) == (
        FORMULAS["doc_number"], FORMULAS["title"], FORMULAS["issuer"], FORMULAS["signer"], FORMULAS["notes"])


def test_signed_original_is_archived_as_is_and_its_signature_recorded(ingested: Ingested, home: Home) -> None:
    from pipeline.sign import verify_pdf

    record = ingested.records["da-ky.pdf"]
    assert record.representation == "signed-original" and not record.ocr_applied
    assert ingested.renditions["da-ky.pdf"].read_bytes() == (ingested.batch / "da-ky.pdf").read_bytes()
    (incoming,) = record.incoming_signatures
    assert incoming.status == "valid" and "TEST" in incoming.signer_subject
    roots = [p for p in home.settings.trust_roots if p.is_file()]
    assert verify_pdf(ingested.renditions["da-ky.pdf"], roots).valid


def test_valid_pdfa_and_exif_rotation(ingested: Ingested) -> None:
    assert ingested.records["pdfa-san.pdf"].pdfa == "2B"
    with pikepdf.open(ingested.renditions["anh-exif-xoay"]) as pdf:  # stored turned, archived upright
        page = pdf.pages[0]
        box = page.mediabox
        width, height = float(box[2] - box[0]), float(box[3] - box[1])
        if int(page.obj.get("/Rotate", 0)) % 180:
            width, height = height, width
    assert width > height


def test_a_windows_1258_manifest_is_named_as_such(tmp_path: Path) -> None:
    from pipeline.devtools.samples.hostile import MANIFEST_HEADER, born_digital, to_cp1258
    from pipeline.scan import ManifestError, plan_batch

    batch = tmp_path / "lo-1258"
    born_digital(batch / "a.pdf", "Quyết định số 1.")
    row = "a.pdf,01/QĐ-UBND,Quyết định,Về việc lưu trữ,Ủy ban nhân dân,2024-05-06,,Văn phòng,public,\n"
    (batch / "manifest.csv").write_bytes(to_cp1258(MANIFEST_HEADER + row))
    with pytest.raises(ManifestError) as info:
        plan_batch(batch)
    message = str(info.value)
    assert "\n" not in message and message.startswith("manifest.csv is not UTF-8 text: it looks like Windows-1258")
    assert "'01/QĐ-UBND'" in message and "Save it as 'CSV UTF-8'" in message


def test_ingest_took_reasonable_time(ingested: Ingested) -> None:
    assert ingested.seconds < 900, ingested.seconds  # never a hang; one OCR timeout would already show here
