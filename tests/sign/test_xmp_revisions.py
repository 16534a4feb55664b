"""Sign and verify agree on the project's own files, with or without XMP metadata.

Regression: a born-digital sample PDF (not PDF/A, so no /Metadata in its catalog) signed at B-LT or
B-LTA was reported INVALID ("XMP metadata after the last signature cannot be read: KeyError").
Real post-signature XMP changes (added, removed, edited) must still be reported.
"""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from pipeline.devtools.responders import Responders
from pipeline.devtools.samples.pdfs import make_born_digital_pdf
from pipeline.sign import SignPolicy, sign_pdf, verify_pdf

TEXT = "Thông báo về việc số hóa văn bản điện tử của cơ quan."
XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/" pdfaid:part="2" '
    b'pdfaid:conformance="B"/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)


@pytest.fixture(scope="module")
def born_digital(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = make_born_digital_pdf([TEXT], tmp_path_factory.mktemp("bd") / "chi-thi.pdf", title="Chỉ thị")
    with pikepdf.open(path) as pdf:
        assert "/Metadata" not in pdf.Root  # the point of the test: a file without XMP
    return path


@pytest.fixture(scope="module")
def signed_no_xmp(pki, signer, born_digital, tmp_path_factory) -> dict[str, Path]:
    out_dir = tmp_path_factory.mktemp("signed-no-xmp")
    files = {}
    with Responders(pki.directory):
        for level in ("B-B", "B-LT", "B-LTA"):
            out = out_dir / f"{level}.pdf"
            policy = SignPolicy(level=level, tsa_url=pki.tsa_url, trust_roots=(pki.root_ca,))
            assert sign_pdf(born_digital, out, signer, policy).level == level
            files[level] = out
    return files


@pytest.mark.parametrize("level", ["B-B", "B-LT", "B-LTA"])
def test_born_digital_without_xmp_signs_and_verifies(signed_no_xmp, pki, level):
    report = verify_pdf(signed_no_xmp[level], [pki.root_ca], online=False)
    if level == "B-B":  # no revocation data in the file and offline: indeterminate, and nothing else wrong
        assert report.status == "indeterminate" and not report.valid
        assert all("revocation could not be checked" in p for p in report.problems), report.problems
    else:
        assert report.valid, report.problems
    assert report.level == level
    assert report.pdfa == ""


def _append_revision(src: Path, dst: Path, *, xmp: bytes | None) -> Path:
    """An unsigned incremental update that sets (``xmp`` bytes) or removes (None) the catalog's XMP."""
    with src.open("rb") as fh:
        writer = IncrementalPdfFileWriter(fh, strict=False)
        if xmp is None:
            del writer.root["/Metadata"]
        else:
            stream = generic.StreamObject(
                {generic.NameObject("/Type"): generic.NameObject("/Metadata"),
                 generic.NameObject("/Subtype"): generic.NameObject("/XML")},
                stream_data=xmp,
            )
            writer.root[generic.NameObject("/Metadata")] = writer.add_object(stream)
        writer.update_root()
        with dst.open("wb") as out:
            writer.write(out)
    return dst


def test_xmp_added_after_signing_is_reported(signed_no_xmp, pki, tmp_path):
    forged = _append_revision(signed_no_xmp["B-LTA"], tmp_path / "added.pdf", xmp=XMP)
    report = verify_pdf(forged, [pki.root_ca], online=False)
    assert not report.valid
    assert any("XMP metadata was added after the last signature" in p for p in report.problems), report.problems


def test_xmp_removed_after_signing_is_reported(signed_bb, pki, tmp_path):
    """``signed_bb`` is a signed PDF/A (with XMP): dropping its XMP afterwards is tampering."""
    forged = _append_revision(signed_bb[0], tmp_path / "removed.pdf", xmp=None)
    report = verify_pdf(forged, [pki.root_ca], online=False)
    assert not report.valid
    assert any("XMP metadata was removed after the last signature" in p for p in report.problems), report.problems
