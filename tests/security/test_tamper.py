"""Issue 9, finding 6 — one post-signature change went unseen: an unsigned incremental update that
rewrites the /Info title object in place verified VALID, B-LTA, "covers whole document"; bytes
appended after the last %%EOF passed too. The security review then hid 10 KB between the signed
%%EOF and an empty incremental update (probe gap_bytes.py): valid again, until every byte after the
last signature had to belong to an object, xref section or trailer of an update, and every object
of an update had to be used by the document.

The attacks run for real against a B-LTA file signed by `archive sign` (TEST PKI, real responders):
the forged title is what poppler shows afterwards, and `archive verify` must refuse the file and say
why. Verification runs offline (network namespace): a B-LTA file carries its own revocation data.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from pipeline.devtools.responders import Responders
from tests.security.pki_home import Home, make_home
from tests.sign.helpers import info_object_number, make_pdfa, rewrite_object
from tests.sign.test_info_and_eof import PAYLOAD, append_update, new_number, same_info

FORGED_TITLE = "Quyet dinh GIA MAO"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    return make_home(tmp_path_factory.mktemp("tamper-home"))


@pytest.fixture(scope="module")
def b_lta(home: Home, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("signed")
    pdfa = make_pdfa(folder / "quyet-dinh.pdf")
    out = folder / "quyet-dinh-signed.pdf"
    with Responders(home.pki.directory):
        proc = home.run("sign", str(pdfa), "--output", str(out), "--level", "B-LTA")
    assert proc.returncode == 0, proc.stderr
    return out


def _verify_offline(home: Home, path: Path) -> tuple[int, dict]:
    proc = home.run("verify", str(path), "--json", offline=True)
    return proc.returncode, json.loads(proc.stdout)


def _pdf_title(path: Path) -> str:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("Title:")), "")


def test_the_untouched_file_verifies_valid_offline(home: Home, b_lta: Path) -> None:
    code, report = _verify_offline(home, b_lta)
    assert (code, report["valid"], report["status"], report["level"]) == (0, True, "valid", "B-LTA"), report


def _raw_update(source: Path, out: Path) -> None:
    """A few lines of script: a classic xref section that gives /Info's object number new contents."""
    data = source.read_bytes()
    body = b"<< /Title (%s) /Producer (pikepdf 10.17.0; pyHanko 0.38.0) >>" % FORGED_TITLE.encode()
    out.write_bytes(rewrite_object(data, info_object_number(data), body))


def _library_update(source: Path, out: Path) -> None:
    """The same with a PDF library (pyHanko's incremental writer, an xref stream)."""
    with source.open("rb") as fh:
        writer = IncrementalPdfFileWriter(fh, strict=False)
        ref = writer.prev.trailer_view.raw_get("/Info")
        ref.get_object()[generic.NameObject("/Title")] = generic.TextStringObject(FORGED_TITLE)
        writer.mark_update(ref)
        with out.open("wb") as dst:
            writer.write(dst)


@pytest.mark.parametrize("update", [_raw_update, _library_update], ids=["raw-bytes", "pdf-library"])
def test_info_title_rewritten_in_place_is_invalid(home: Home, b_lta: Path, tmp_path: Path, update) -> None:
    forged = tmp_path / "forged.pdf"
    update(b_lta, forged)
    assert forged.read_bytes().startswith(b_lta.read_bytes())  # an incremental update: signed bytes untouched
    assert info_object_number(forged.read_bytes()) == info_object_number(b_lta.read_bytes())  # same object
    assert _pdf_title(forged) == FORGED_TITLE  # readers do show the forged title
    code, report = _verify_offline(home, forged)
    assert code == 1, report
    assert (report["valid"], report["status"], report["covers_whole_document"]) == (False, "invalid", False)
    assert any(
        p.startswith("the document information dictionary (/Info) changed after the last signature") and "/Title" in p
        for p in report["problems"]
    ), report["problems"]


@pytest.mark.parametrize(
    "payload",
    [b"<script>app.alert('forged')</script>\n", b"\n% a note no signature covers\n", b"\x89PNG\r\n\x1a\n" + bytes(64)],
    ids=["script", "comment", "binary"],
)
def test_bytes_appended_after_the_last_eof_are_invalid(home: Home, b_lta: Path, tmp_path: Path, payload) -> None:
    appended = tmp_path / "appended.pdf"
    appended.write_bytes(b_lta.read_bytes() + payload)
    assert subprocess.run(["pdfinfo", str(appended)], capture_output=True).returncode == 0  # still opens
    code, report = _verify_offline(home, appended)
    assert code == 1, report
    assert (report["valid"], report["status"]) == (False, "invalid")
    assert any("bytes were appended after the last %%EOF" in p for p in report["problems"]), report["problems"]


def test_a_line_end_after_eof_is_not_tampering(home: Home, b_lta: Path, tmp_path: Path) -> None:
    padded = tmp_path / "padded.pdf"
    padded.write_bytes(b_lta.read_bytes() + b"\r\n")
    code, report = _verify_offline(home, padded)
    assert (code, report["status"]) == (0, "valid"), report["problems"]


GAP = re.compile(
    r"(\d+) bytes between revisions \(offset (\d+)–(\d+)\) are not part of any object of the update: "
    r"no signature covers them"
)
ORPHAN = re.compile(r"1 object \((\d+)\) written after the last signature is used by nothing in the document: .*")


@pytest.mark.parametrize(
    ("parts", "reason"),
    [
        (lambda d: [PAYLOAD + b"\n"], GAP),  # the review's attack: bytes, then an empty update
        (lambda d: [same_info(d), b"%d 0 obj\n(%s)\nendobj\n" % (new_number(d) + 7, PAYLOAD)], GAP),
        (lambda d: [same_info(d), PAYLOAD + b"\n", (new_number(d), b"(x)")], GAP),
        (lambda d: [same_info(d), (new_number(d), b"(%s)" % PAYLOAD)], ORPHAN),
    ],
    ids=["between-revisions", "unreferenced-object", "between-two-objects", "object-nothing-uses"],
)
def test_bytes_no_signature_covers_hidden_in_an_update_are_invalid(
    home: Home, b_lta: Path, tmp_path: Path, parts, reason: re.Pattern
) -> None:
    data = b_lta.read_bytes()
    forged = tmp_path / "hidden.pdf"
    forged.write_bytes(append_update(data, parts(data)))
    assert forged.read_bytes().startswith(data) and PAYLOAD in forged.read_bytes()
    assert _pdf_title(forged) == _pdf_title(b_lta)  # readers show the signed document, nothing else changed
    assert subprocess.run(["qpdf", "--check", str(forged)], capture_output=True).returncode == 0  # well-formed
    code, report = _verify_offline(home, forged)
    assert code == 1, report
    assert (report["valid"], report["status"], report["covers_whole_document"]) == (False, "invalid", False)
    [problem] = [p for p in report["problems"] if reason.fullmatch(p)]
    if reason is GAP:  # the range named is where the payload lies
        start, end = (int(n) for n in GAP.fullmatch(problem).groups()[1:])
        assert PAYLOAD.strip() in forged.read_bytes()[start : end + 1]
