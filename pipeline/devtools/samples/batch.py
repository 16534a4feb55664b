"""A small sample batch for the README demo and end-to-end tests (6 pages, about 10 s of OCR).

Layout (paths relative to the batch folder, same keys as ``manifest.csv``):
  thong-bao-15/page1.png             scanned notice, 1 page (PNG)
  giay-moi-88/page1.tiff, page2.tiff scanned invitation, 2 pages (TIFF)
  chi-thi-07-ban-quet.pdf            scanned directive: a PDF of images, no text layer
  cong-van-1234.pdf                  born-digital official letter
  ke-hoach-45.pdf                    born-digital plan with a JavaScript /OpenAction (PDF/A forbids it)
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

from pipeline.devtools.samples.pdfs import make_born_digital_pdf, make_scanned_pdf
from pipeline.devtools.samples.render import render_scanned_pages
from pipeline.devtools.samples.texts import CHI_THI, CONG_VAN, GIAY_MOI, KE_HOACH, THONG_BAO, SampleDocument

MANIFEST_COLUMNS = (
    "path",
    "doc_number",
    "doc_type",
    "title",
    "issuer",
    "issued_date",
    "signer",
    "unit",
    "classification",
    "language",
)


def split_title(doc: SampleDocument) -> tuple[str, list[str]]:
    """First line of the first page is the heading; the rest are paragraphs (all pages)."""
    first, *rest = doc.pages[0].split("\n")
    paragraphs = rest + [line for page in doc.pages[1:] for line in page.split("\n")]
    return first, paragraphs


def born_digital_sample(doc: SampleDocument, out: Path, *, with_open_action: bool = False) -> Path:
    title, paragraphs = split_title(doc)
    return make_born_digital_pdf(paragraphs, out, title=title, with_open_action=with_open_action)


def write_manifest(out: Path, rows: list[dict[str, str]]) -> Path:
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return out


def make_sample_batch(out_dir: Path, seed: int = 0) -> Path:
    """Write the sample batch into ``out_dir`` (created if needed) and return ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, str]] = []

    render_scanned_pages(list(THONG_BAO.pages), out_dir / "thong-bao-15", rotate_deg=1.5, seed=seed)
    rows.append(THONG_BAO.manifest_row("thong-bao-15"))

    render_scanned_pages(list(GIAY_MOI.pages), out_dir / "giay-moi-88", rotate_deg=2.0, seed=seed + 1, fmt="tiff")
    rows.append(GIAY_MOI.manifest_row("giay-moi-88"))

    with tempfile.TemporaryDirectory() as tmp:  # page images must not land in the batch itself
        images = render_scanned_pages(list(CHI_THI.pages), Path(tmp), rotate_deg=-1.5, seed=seed + 2)
        make_scanned_pdf(images, out_dir / "chi-thi-07-ban-quet.pdf")
    rows.append(CHI_THI.manifest_row("chi-thi-07-ban-quet.pdf"))

    born_digital_sample(CONG_VAN, out_dir / "cong-van-1234.pdf")
    rows.append(CONG_VAN.manifest_row("cong-van-1234.pdf"))

    born_digital_sample(KE_HOACH, out_dir / "ke-hoach-45.pdf", with_open_action=True)
    rows.append(KE_HOACH.manifest_row("ke-hoach-45.pdf"))

    write_manifest(out_dir / "manifest.csv", rows)
    return out_dir
