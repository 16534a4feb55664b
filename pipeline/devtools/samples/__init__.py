"""Generated Vietnamese test documents: degraded page scans, born-digital/scanned/mixed/corrupt PDFs
and a small sample batch with a manifest. Deterministic for a given seed; used by tests and the demo.
"""

from pipeline.devtools.samples.batch import MANIFEST_COLUMNS, born_digital_sample, make_sample_batch, split_title
from pipeline.devtools.samples.fonts import vietnamese_font
from pipeline.devtools.samples.pdfs import make_born_digital_pdf, make_corrupt_pdf, make_mixed_pdf, make_scanned_pdf
from pipeline.devtools.samples.render import render_page, render_scanned_pages
from pipeline.devtools.samples.texts import SAMPLE_DOCUMENTS, SampleDocument

__all__ = [
    "MANIFEST_COLUMNS",
    "SAMPLE_DOCUMENTS",
    "SampleDocument",
    "born_digital_sample",
    "make_born_digital_pdf",
    "make_corrupt_pdf",
    "make_mixed_pdf",
    "make_sample_batch",
    "make_scanned_pdf",
    "render_page",
    "render_scanned_pages",
    "split_title",
    "vietnamese_font",
]
