"""Issue 9, finding 6: the document information dictionary (/Info) is compared by contents across
revisions, not only by reference, and bytes after the last %%EOF are a finding, and so are bytes
between revisions or inside an update that belong to none of its objects, and objects of an update
that nothing in the document uses. The legitimate incremental updates of the archive's own signer
(DSS, document timestamps, renewal) stay valid."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from pipeline.devtools.responders import Responders
from pipeline.sign import SignPolicy, sign_pdf, verify_pdf
from pipeline.sign.byte_coverage import orphan_objects, uncovered_gaps, unsigned_bytes_problems
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


# Bytes between revisions (security review, probe gap_bytes.py): the signed %%EOF, then bytes, then an
# update that the checks above see as harmless (nothing changed), so pyHanko said "covers whole document".

Part = bytes | tuple[int, bytes]  # raw bytes, or (object number, body) of an object the update's xref references


def append_update(data: bytes, parts: list[Part]) -> bytes:
    """``data`` plus an incremental update made of ``parts`` in order, closed by a classic xref section
    that references the ``(number, body)`` objects only (with no object at all: the reviewer's empty
    update, one free entry), a trailer repeating the last one's /Root, /Info and /ID, startxref, %%EOF."""
    root = re.findall(rb"/Root (\d+ \d+) R", data)[-1]
    info = re.findall(rb"/Info (\d+ \d+) R", data)[-1]
    size = max(int(s) for s in re.findall(rb"/Size (\d+)", data))
    ids = re.findall(rb"/ID\s*\[\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*\]", data)[-1]
    prev = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    out = data if data.endswith(b"\n") else data + b"\n"
    offsets = {}
    for part in parts:
        if isinstance(part, tuple):
            offsets[part[0]] = len(out)
            out += b"%d 0 obj\n%s\nendobj\n" % part
        else:
            out += part
    xref_at = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n"
    out += b"".join(b"%d 1\n%010d 00000 n \n" % (number, offset) for number, offset in sorted(offsets.items()))
    size = max([size, *(number + 1 for number in offsets)])
    out += b"trailer\n<< /Size %d /Root %s R /Info %s R /ID [<%s><%s>] /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        size,
        root,
        info,
        ids[0],
        ids[1],
        prev,
        xref_at,
    )
    return out


def same_info(data: bytes) -> tuple[int, bytes]:
    """The /Info object, rewritten with the same contents: an update object every check accepts."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    ref = reader.trailer_view.raw_get("/Info")
    body = io.BytesIO()
    ref.get_object().write_to_stream(body)
    return ref.idnum, body.getvalue()


def new_number(data: bytes) -> int:
    return max(int(s) for s in re.findall(rb"/Size (\d+)", data))


def _problems(data: bytes) -> list[str]:
    return unsigned_bytes_problems(PdfFileReader(io.BytesIO(data), strict=False), data)


PAYLOAD = b"HIDDEN PAYLOAD TUYET MAT " * 400  # 10 000 bytes, as in the review


@pytest.fixture(scope="module")
def b_lt(pki, pdfa, signer, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lt") / "b-lt.pdf"
    with Responders(pki.directory):
        sign_pdf(pdfa, out, signer, SignPolicy(level="B-LT", tsa_url=pki.tsa_url, trust_roots=(pki.root_ca,)))
    return out


def test_our_own_updates_account_for_every_byte(b_lt, b_lta, signed_bb):
    """pyHanko's DSS (B-LT) and DSS-after-timestamp (B-LTA) revisions: xref streams, object streams, no gap."""
    for path, later in ((b_lt, 1), (b_lta, 1), (signed_bb[0], 0)):
        data = path.read_bytes()
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        last_signed = max(s.signed_revision for s in reader.embedded_signatures)
        assert reader.xrefs.total_revisions - 1 - last_signed == later  # unsigned revisions to account for
        assert uncovered_gaps(reader, data) == [] and orphan_objects(reader) == []
        assert unsigned_bytes_problems(reader, data) == []


def test_a_harmless_classic_update_is_fine(b_lta, signed_bb):
    """The accounting itself: an update whose every byte is an object, the xref table, the trailer, startxref."""
    for source in (b_lta, signed_bb[0]):
        data = source.read_bytes()
        assert _problems(append_update(data, [])) == []
        assert _problems(append_update(data, [same_info(data), b"\r\n \n"])) == []  # whitespace is no payload


def test_the_reviewers_attack_bytes_then_an_empty_update(b_lta, signed_bb, pki, tmp_path):
    for source in (b_lta, signed_bb[0]):
        data = source.read_bytes()
        forged = append_update(data, [PAYLOAD + b"\n"])
        start = len(data)  # the signed file ends with its %%EOF line
        expected = (
            f"{len(PAYLOAD.rstrip())} bytes between revisions (offset {start}–{start + len(PAYLOAD.rstrip()) - 1}) "
            "are not part of any object of the update: no signature covers them"
        )
        assert _problems(forged) == [expected]
        report = _verify(tmp_path, forged, [pki.root_ca])
        assert (report.valid, report.status, report.covers_whole_document) == (False, "invalid", False)
        assert expected in report.problems


@pytest.mark.parametrize(
    ("parts", "uncovered"),
    [
        (lambda d: [b"% TUYET MAT: a comment line is a payload too\n"], b"% TUYET MAT"),
        (lambda d: [same_info(d), b"%d 0 obj\n(%s)\nendobj\n" % (new_number(d) + 7, PAYLOAD)], b"obj\n(HIDDEN"),
        (lambda d: [same_info(d), PAYLOAD, (new_number(d), b"<< >>")], PAYLOAD.strip()),
        (lambda d: [(same_info(d)[0], same_info(d)[1] + b" " + PAYLOAD)], b"obj\n<<"),  # junk before endobj
    ],
    ids=["comment-lines", "unreferenced-object", "between-two-objects", "junk-inside-an-object"],
)
def test_bytes_inside_an_update_outside_its_objects_are_invalid(b_lta, pki, tmp_path, parts, uncovered):
    data = b_lta.read_bytes()
    forged = append_update(data, parts(data))
    [problem, *_] = _problems(forged)
    numbers = re.search(r"^(\d+) bytes between revisions \(offsets? (\d+)–(\d+)", problem)
    assert numbers, problem
    first = int(numbers[2])
    assert uncovered in forged[first : int(numbers[3]) + 1]
    report = _verify(tmp_path, forged, [pki.root_ca])
    assert (report.valid, report.status, report.covers_whole_document) == (False, "invalid", False)
    assert problem in report.problems


def test_an_object_the_xref_references_but_nothing_uses_is_invalid(b_lta, pki, tmp_path):
    """Referenced by the xref, so its bytes are accounted for; but pyHanko's difference analysis accepts an
    orphan whatever it holds, so it is the same hiding place."""
    data = b_lta.read_bytes()
    number = new_number(data)
    forged = append_update(data, [same_info(data), (number, b"(%s)" % PAYLOAD)])
    expected = f"1 object ({number}) written after the last signature is used by nothing in the document"
    assert [p.split(":")[0] for p in _problems(forged)] == [expected]
    report = _verify(tmp_path, forged, [pki.root_ca])
    assert (report.valid, report.status, report.covers_whole_document) == (False, "invalid", False)
    assert any(p.startswith(expected) for p in report.problems), report.problems


def test_an_orphan_added_by_a_pdf_library_is_invalid(b_lta):
    """The same through pyHanko's writer (xref stream): an object added and used by nothing."""
    out = io.BytesIO()
    with b_lta.open("rb") as fh:
        writer = IncrementalPdfFileWriter(fh, strict=False)
        ref = writer.add_object(generic.TextStringObject("TUYỆT MẬT " * 100))
        writer.write(out)
    data = out.getvalue()
    assert orphan_objects(PdfFileReader(io.BytesIO(data), strict=False)) == [ref.idnum]
    assert uncovered_gaps(PdfFileReader(io.BytesIO(data), strict=False), data) == []


def _object_stream_update(source: Path, orphan: bool) -> bytes:
    """pyHanko's writer, /Info rewritten (same contents) inside an object stream of the update; with
    ``orphan``, a second object in that stream that nothing uses."""
    out = io.BytesIO()
    with source.open("rb") as fh:
        writer = IncrementalPdfFileWriter(fh, strict=False)
        objects = writer.prepare_object_stream()
        ref = writer.prev.trailer_view.raw_get("/Info")
        objects.add_object(ref.idnum, generic.DictionaryObject(ref.get_object()))  # same number, new place
        if orphan:
            writer.add_object(generic.TextStringObject("TUYỆT MẬT " * 100), obj_stream=objects)
        objects.ref = writer.add_object(objects.as_pdf_object())  # the stream object, registered once filled
        writer.write(out)
    return out.getvalue()


def test_objects_in_an_object_stream_of_an_update_are_accounted_for(b_lta):
    data = _object_stream_update(b_lta, orphan=False)
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    final = reader.xrefs.get_xref_data(reader.xrefs.total_revisions - 1)
    assert final.xrefs_in_objstm and final.obj_streams_used  # the case at hand: /Info inside an object stream
    assert unsigned_bytes_problems(reader, data) == []
    forged = _object_stream_update(b_lta, orphan=True)
    [problem] = _problems(forged)
    assert "written after the last signature is used by nothing in the document" in problem


def test_an_object_stream_update_that_changes_nothing_stays_valid(b_lta, pki, tmp_path):
    report = _verify(tmp_path, _object_stream_update(b_lta, orphan=False), [pki.root_ca])
    assert report.valid and report.status == "valid" and report.covers_whole_document, report.problems


def _stuffed_object_stream_update(source: Path) -> bytes:
    """/Info rewritten (same contents) inside an object stream that carries a payload after its object."""
    out = io.BytesIO()
    with source.open("rb") as fh:
        writer = IncrementalPdfFileWriter(fh, strict=False)
        objects = writer.prepare_object_stream(compress=False)
        ref = writer.prev.trailer_view.raw_get("/Info")
        objects.add_object(ref.idnum, generic.DictionaryObject(ref.get_object()))
        stream = objects.as_pdf_object()
        stuffed = generic.StreamObject(
            {k: stream[k] for k in ("/Type", "/N", "/First")}, stream_data=stream.data + b"\n" + PAYLOAD
        )
        stuffed.compress()
        objects.ref = writer.add_object(stuffed)
        writer.write(out)
    return out.getvalue()


def _stuffed_xref_stream(data: bytes, payload: bytes) -> bytes:
    """The last revision's xref stream (pyHanko's, Flate, no predictor) with a payload after its entries."""
    import zlib

    head = data.rindex(b" 0 obj", 0, data.rindex(b"/Type /XRef"))
    match = re.compile(rb"/Length (\d+)(.*?)stream\n", re.S).search(data, head)
    start = match.end()
    body = zlib.compress(zlib.decompress(data[start : start + int(match[1])]) + payload)
    stuffed = data[: match.start()] + b"/Length %d" % len(body) + match[2] + b"stream\n" + body
    return stuffed + data[start + int(match[1]) :]  # the xref stream is last: no offset moves


def test_payload_inside_an_object_stream_of_an_update_is_invalid(b_lta, pki, tmp_path):
    forged = _stuffed_object_stream_update(b_lta)
    assert PAYLOAD not in forged  # compressed: invisible in the file's bytes
    expected = "bytes that are part of no object of the update: no signature covers them"
    [problem] = _problems(forged)
    assert problem.startswith("the object stream ") and problem.endswith(expected)
    assert f"holds {len(PAYLOAD.strip())} bytes" in problem
    report = _verify(tmp_path, forged, [pki.root_ca])
    assert (report.valid, report.status, report.covers_whole_document) == (False, "invalid", False)


def test_payload_inside_the_xref_stream_of_an_update_is_invalid(b_lt, pki, tmp_path):
    """pyHanko reads up to 4 KB of decoded data beyond the entries of an xref stream (its decode slack)."""
    data = b_lt.read_bytes()
    forged = _stuffed_xref_stream(data, PAYLOAD[:4000])
    assert len(forged) != len(data) and _problems(data) == []
    [problem] = _problems(forged)
    assert problem.startswith("the cross-reference stream ") and "holds 4000 bytes that are no entry" in problem
    report = _verify(tmp_path, forged, [pki.root_ca])
    assert (report.valid, report.status, report.covers_whole_document) == (False, "invalid", False)
