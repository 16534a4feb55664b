"""Issue 9, finding 6: the document information dictionary (/Info) is compared by contents across
revisions, not only by reference, and bytes after the last %%EOF are a finding. The legitimate
incremental updates of the archive's own signer (DSS, document timestamps, renewal) stay valid."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from pipeline.devtools.responders import Responders
from pipeline.sign import SignPolicy, sign_pdf, verify_pdf
from pipeline.sign.revisions import trailing_bytes_problems, unsigned_info_problems
from tests.sign.helpers import info_object_number, pyhanko_sign, rewrite_object


@pytest.fixture(scope="module")
def b_lta(pki, pdfa, signer, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lta") / "b-lta.pdf"
    with Responders(pki.directory):
        sign_pdf(pdfa, out, signer, SignPolicy(level="B-LTA", tsa_url=pki.tsa_url, trust_roots=(pki.root_ca,)))
    return out


def _verify(tmp_path: Path, data: bytes, roots, name: str = "forged.pdf"):
    path = tmp_path / name
    path.write_bytes(data)
    return verify_pdf(path, roots, online=False)


def test_our_own_revisions_leave_info_alone(b_lta):
    """pyHanko writes /Info (Producer) inside the signed revision only; the DSS and timestamp
    revisions after it do not touch it, so the comparison has nothing to forgive."""
    reader = PdfFileReader(b_lta.open("rb"), strict=False)
    first_signed = min(s.signed_revision for s in reader.embedded_signatures)
    assert reader.xrefs.total_revisions > first_signed + 1  # DSS / timestamp revisions follow
    assert unsigned_info_problems(reader, first_signed) == []
    assert trailing_bytes_problems(reader, b_lta.read_bytes()) == []


def test_info_rewritten_in_place_with_a_classic_xref_section(b_lta, pki, tmp_path):
    data = b_lta.read_bytes()
    number = info_object_number(data)
    body = b"<< /Title (Quyet dinh GIA MAO) /Producer (pikepdf 10.17.0; pyHanko 0.38.0) >>"
    forged = rewrite_object(data, number, body)
    report = _verify(tmp_path, forged, [pki.root_ca])
    assert (report.valid, report.status, report.covers_whole_document) == (False, "invalid", False)
    [problem] = [p for p in report.problems if "/Info" in p]
    assert problem.startswith("the document information dictionary (/Info) changed after the last signature")
    assert "/Title" in problem and "/CreationDate" in problem  # added and dropped entries both count


def test_info_rewritten_in_place_with_pyhanko(b_lta, pki, tmp_path):
    """The same attack through a PDF library (xref stream): the /Info object keeps its number."""
    out = tmp_path / "pyhanko-info.pdf"
    with b_lta.open("rb") as fh:
        writer = IncrementalPdfFileWriter(fh, strict=False)
        ref = writer.prev.trailer_view.raw_get("/Info")
        info = ref.get_object()
        info[generic.NameObject("/Title")] = generic.TextStringObject("Quyết định GIẢ MẠO")
        writer.mark_update(ref)
        with out.open("wb") as dst:
            writer.write(dst)
    assert info_object_number(out.read_bytes()) == ref.idnum
    report = verify_pdf(out, [pki.root_ca], online=False)
    assert not report.valid and report.status == "invalid"
    assert any("(/Info) changed after the last signature: /Title" in p for p in report.problems), report.problems


def test_indirect_info_value_rewritten_in_place(pki, pdfa, tmp_path):
    """/Title held in an object of its own: the dictionary is unchanged, the string it points to is not."""
    titled = tmp_path / "titled.pdf"
    with pdfa.open("rb") as fh:
        writer = IncrementalPdfFileWriter(fh, strict=False)
        title_ref = writer.add_object(generic.TextStringObject("Original title"))
        ref = writer.prev.trailer_view.raw_get("/Info")
        info = ref.get_object()
        info[generic.NameObject("/Title")] = title_ref
        writer.mark_update(ref)
        with titled.open("wb") as dst:
            writer.write(dst)
    signed = pyhanko_sign(titled, tmp_path / "signed.pdf", pki.agency_p12, pki.password)
    forged = rewrite_object(signed.read_bytes(), title_ref.idnum, b"(Forged title)")
    report = _verify(tmp_path, forged, [pki.root_ca])
    assert report.status == "invalid"
    assert any("(/Info) changed after the last signature: /Title" in p for p in report.problems), report.problems


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"<script>forged</script>", "bytes were appended after the last %%EOF"),
        (b"\n%% hidden note\n", "bytes were appended after the last %%EOF"),
        (b"\n% hidden\n%%EOF\n", "startxref not found"),
    ],
)
def test_bytes_after_the_last_eof_are_invalid(b_lta, signed_bb, pki, tmp_path, payload, reason):
    for source in (b_lta, signed_bb[0]):
        report = _verify(tmp_path, source.read_bytes() + payload, [pki.root_ca])
        assert not report.valid and report.status == "invalid"
        assert any(reason in p for p in report.problems), report.problems


def test_a_repeated_end_of_file_marker_does_not_hide_appended_bytes(b_lta, pki, tmp_path):
    data = b_lta.read_bytes()
    tail = data[data.rindex(b"startxref") :]  # "startxref N %%EOF" of the real last revision, repeated
    report = _verify(tmp_path, data + b"% hidden payload\n" + tail, [pki.root_ca])
    assert not report.valid
    assert any("appended after the last %%EOF" in p for p in report.problems), report.problems


def test_trailing_end_of_line_whitespace_is_fine(b_lta, pki, tmp_path):
    report = _verify(tmp_path, b_lta.read_bytes() + b"\r\n \n\x00", [pki.root_ca])
    assert report.valid and report.status == "valid", report.problems


def _info_at(path: Path, revision: int) -> dict:
    reader = PdfFileReader(path.open("rb"), strict=False)
    resolver = reader.get_historical_resolver(revision)
    return dict(resolver(resolver.trailer_view.raw_get("/Info").reference))


def test_renewal_that_bumps_moddate_stays_valid(pki, signer, tmp_path):
    """A born-digital file has /ModDate: pyHanko rewrites it (same /Info object) in every later revision it
    writes. That is the one change allowed, so a renewed B-LTA file stays valid."""
    import time

    from pipeline.devtools.samples.pdfs import make_born_digital_pdf
    from pipeline.sign import add_document_timestamp

    source = make_born_digital_pdf(["Công văn về số hóa tài liệu."], tmp_path / "cv.pdf", title="Công văn")
    signed, renewed = tmp_path / "signed.pdf", tmp_path / "renewed.pdf"
    with Responders(pki.directory):
        sign_pdf(source, signed, signer, SignPolicy(level="B-LTA", tsa_url=pki.tsa_url, trust_roots=(pki.root_ca,)))
        time.sleep(1.1)  # /ModDate has one-second resolution
        add_document_timestamp(signed, renewed, pki.tsa_url, [pki.root_ca])
    reader = PdfFileReader(renewed.open("rb"), strict=False)
    last_sig = max(s.signed_revision for s in reader.embedded_signatures if s.sig_object_type == "/Sig")
    final = reader.xrefs.total_revisions - 1
    before, after = _info_at(renewed, last_sig), _info_at(renewed, final)
    assert before["/ModDate"] != after["/ModDate"] and before["/Title"] == after["/Title"]  # the case at hand
    report = verify_pdf(renewed, [pki.root_ca], online=False)
    assert report.valid and report.document_timestamps == 2, report.problems


@pytest.mark.parametrize(
    ("producer", "title", "flagged"),
    [
        ("{old}; pyHanko 0.40.0", None, []),  # what a newer pyHanko writes
        ("Forged Producer", None, ["/Producer"]),
        ("{old}; pyHanko 0.40.0", "Forged", ["/Title"]),
    ],
)
def test_only_moddate_and_a_pyhanko_producer_suffix_may_change(b_lta, tmp_path, producer, title, flagged):
    out = tmp_path / "updated.pdf"
    with b_lta.open("rb") as fh:
        writer = IncrementalPdfFileWriter(fh, strict=False)
        ref = writer.prev.trailer_view.raw_get("/Info")
        info = ref.get_object()
        info[generic.NameObject("/Producer")] = generic.TextStringObject(producer.format(old=info["/Producer"]))
        info[generic.NameObject("/ModDate")] = generic.TextStringObject("D:20300101000000Z")
        if title is not None:
            info[generic.NameObject("/Title")] = generic.TextStringObject(title)
        writer.mark_update(ref)
        with out.open("wb") as dst:
            writer.write(dst)
    reader = PdfFileReader(out.open("rb"), strict=False)
    last_signed = max(s.signed_revision for s in reader.embedded_signatures)
    expected = "the document information dictionary (/Info) changed after the last signature: "
    assert unsigned_info_problems(reader, last_signed) == [expected + key for key in flagged]
