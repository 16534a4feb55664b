"""Test helpers: a small PDF/A-2b input made here (fpdf2 + pikepdf, not the OCR stage), free ports."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pikepdf.pdfa
from fpdf import FPDF

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
)
TEXT = (
    "ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM\n"
    "THÔNG BÁO\n"
    "Về việc số hóa văn bản lưu trữ và ký số bản sao điện tử.\n"
    "Các đơn vị gửi văn bản điện tử có chữ ký số của cơ quan trước ngày 30/6."
)


def free_port() -> int:
    """A free loopback port of this test process's band (tests.conftest.free_port)."""
    from tests.conftest import free_port as banded

    return banded()


def font_path() -> Path:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    raise FileNotFoundError("install fonts-dejavu-core")


def make_pdfa(path: Path, pages: int = 2) -> Path:
    """Write a born-digital Vietnamese PDF/A-2b (validated by pikepdf) to ``path``."""
    doc = FPDF(format="A4")
    doc.add_font("DejaVu", fname=str(font_path()))
    for number in range(1, pages + 1):
        doc.add_page()
        doc.set_font("DejaVu", size=13)
        doc.multi_cell(0, 8, TEXT + f"\nTrang {number}/{pages}")
    raw = path.with_suffix(".raw.pdf")
    doc.output(str(raw))
    with pikepdf.open(raw) as pdf:
        if "/OpenAction" in pdf.Root:  # fpdf2 adds one; PDF/A validation rejects it
            del pdf.Root.OpenAction
        report = pikepdf.pdfa.save(pdf, path, "2b")
    raw.unlink()
    assert report.passed, report
    return path


def rewrite_object(data: bytes, number: int, body: bytes) -> bytes:
    """Append an unsigned incremental update that rewrites object ``number`` in place (same number, new
    contents), the way a hex editor or a few lines of script would: a classic xref section whose trailer
    repeats the last one's /Root, /Info and /ID and points back with /Prev."""
    import re

    root = re.findall(rb"/Root (\d+ \d+) R", data)[-1]  # the last trailer's entries are the last ones
    info = re.findall(rb"/Info (\d+ \d+) R", data)[-1]
    size = max(int(s) for s in re.findall(rb"/Size (\d+)", data))
    ids = re.findall(rb"/ID\s*\[\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*\]", data)[-1]
    prev = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    head = data if data.endswith(b"\n") else data + b"\n"
    obj = b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(head) + len(obj)
    xref = b"xref\n0 1\n0000000000 65535 f \n%d 1\n%010d 00000 n \n" % (number, len(head))
    trailer = b"trailer\n<< /Size %d /Root %s R /Info %s R /ID [<%s><%s>] /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        size,
        root,
        info,
        ids[0],
        ids[1],
        prev,
        xref_at,
    )
    return head + obj + xref + trailer


def info_object_number(data: bytes) -> int:
    """The object number the last trailer gives for /Info."""
    import re

    return int(re.findall(rb"/Info (\d+) \d+ R", data)[-1])


def pyhanko_sign(src: Path, dst: Path, p12: Path, password: str, **meta) -> Path:
    """Sign with pyHanko alone, without the archive's pre-checks: what any other tool could produce."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    key = signers.SimpleSigner.load_pkcs12(str(p12), passphrase=password.encode())
    with src.open("rb") as fh:
        writer = IncrementalPdfFileWriter(fh, strict=False)
        signature = signers.PdfSignatureMetadata(field_name="AgencySignature", md_algorithm="sha256", **meta)
        dst.write_bytes(signers.PdfSigner(signature, key).sign_pdf(writer).getvalue())
    return dst
