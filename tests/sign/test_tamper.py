"""Any altered byte is reported: also in the parts no signature covers by itself (the CMS padding,
its unsigned header fields and embedded certificates, a B-LT file's DSS) and against the checksum."""

from __future__ import annotations

import re

import pytest
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives.serialization import Encoding

from pipeline.devtools.responders import Responders
from pipeline.sign import SignPolicy, sign_pdf, verify_pdf


def _contents_span(data: bytes) -> tuple[int, int]:
    match = re.search(rb"/Contents <([0-9a-fA-F]+)>", data)
    assert match
    return match.start(1), match.end(1)


def _flip_hex(data: bytes, position: int) -> bytes:
    out = bytearray(data)
    out[position] = ord("1") if out[position] == ord("0") else ord("0")
    return bytes(out)


def _check(tmp_path, data: bytes, roots) -> list[str]:
    path = tmp_path / "tampered.pdf"
    path.write_bytes(data)
    report = verify_pdf(path, roots, online=False)
    assert not report.valid, "an altered byte went unnoticed"
    assert report.problems
    return report.problems


@pytest.mark.parametrize("where", ["padding", "digest-algorithm-list", "cms-version", "embedded-root-cert"])
def test_unsigned_cms_bytes_are_checked(signed_bb, pki, tmp_path, where):
    data = signed_bb[0].read_bytes()
    start, end = _contents_span(data)
    der_hex = data[start:end]
    root_der = pyca_x509.load_pem_x509_certificate(pki.root_ca.read_bytes()).public_bytes(Encoding.DER)
    positions = {
        "padding": end - 7,
        "digest-algorithm-list": start + 69,  # inside SignedData.digestAlgorithms (sha-256 OID)
        "cms-version": start + der_hex[:80].lower().index(b"020101") + 5,  # SignedData version 1 -> 0
        "embedded-root-cert": start + der_hex.lower().index(root_der.hex().encode()) + len(root_der),
    }
    problems = _check(tmp_path, _flip_hex(data, positions[where]), [pki.root_ca])
    assert any("altered" in p or "damaged" in p for p in problems), problems


@pytest.fixture(scope="module")
def b_lt_file(pki, pdfa, signer, tmp_path_factory):
    out = tmp_path_factory.mktemp("blt") / "b-lt.pdf"
    with Responders(pki.directory):
        sign_pdf(pdfa, out, signer, SignPolicy(level="B-LT", tsa_url=pki.tsa_url, trust_roots=(pki.root_ca,)))
    return out


@pytest.mark.parametrize("target", ["xmp-packet", "dss-stream"])
def test_damaged_unsigned_revision_is_reported(b_lt_file, pki, tmp_path, target):
    data = b_lt_file.read_bytes()
    byte_range = [int(v) for v in re.search(rb"/ByteRange \[\s*(\d+) (\d+) (\d+) (\d+)", data).groups()]
    signed_end = byte_range[2] + byte_range[3]  # the unsigned DSS revision starts here
    xmp = data.index(b"stream", signed_end)
    assert b"<?xpacket" in data[xmp : xmp + 20]
    position = xmp + 30 if target == "xmp-packet" else data.index(b"stream", data.index(b"endstream", xmp)) + 30
    out = bytearray(data)
    out[position] ^= 0x01
    problems = _check(tmp_path, bytes(out), [pki.root_ca])
    assert any("security store" in p or "long-term" in p or "XMP" in p for p in problems), problems


def test_changed_pdfa_claim_after_signing_is_reported(b_lt_file, pki, tmp_path):
    """The DSS revision of a B-LT file is unsigned and rewrites the XMP: editing the claim there
    must not pass as a routine metadata update."""
    data = b_lt_file.read_bytes()
    last = data.rindex(b'pdfaid:part="2"')
    forged = data[:last] + b'pdfaid:part="3"' + data[last + len(b'pdfaid:part="2"') :]
    problems = _check(tmp_path, forged, [pki.root_ca])
    assert any("XMP metadata changed after the last signature: part" in p for p in problems), problems


def test_stored_checksum_is_compared(signed_bb, pki):
    with Responders(pki.directory):
        good = verify_pdf(signed_bb[0], [pki.root_ca], expected_sha256=None)
        assert good.checksum_ok is None
        same = verify_pdf(signed_bb[0], [pki.root_ca], expected_sha256=good.sha256.upper())
        assert same.valid and same.checksum_ok is True
    other = verify_pdf(signed_bb[0], [pki.root_ca], expected_sha256="0" * 64)  # offline and altered: invalid
    assert not other.valid and other.checksum_ok is False and other.status == "invalid"
    assert "SHA-256 differs from the stored checksum" in other.problems


def test_summary_fits_one_screen(signed_bb, pki):
    with Responders(pki.directory):
        text = verify_pdf(signed_bb[0], [pki.root_ca]).summary()
    lines = text.splitlines()
    assert lines[0].startswith("VALID  PAdES B-B  PDF/A 2B") and len(lines) <= 24
    assert "+07:00" in text and "TEST" in text


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("catalog-extension", "document catalog changed"),
        ("vri-key", "VRI key altered"),
        ("trailer-key", "trailer gained entries"),
        ("permanent-id", "permanent document ID"),
    ],
)
def test_unsigned_dss_revision_structure_is_checked(b_lt_file, pki, tmp_path, target, expected):
    """pyHanko accepts these edits in the unsigned DSS revision of a B-LT file; verify_pdf does not."""
    data = b_lt_file.read_bytes()
    position = {
        "catalog-extension": data.rindex(b"/DeveloperExtensions") + 3,
        "vri-key": data.rindex(b"/VRI <<") + 12,
        "trailer-key": data.rindex(b"/Info ") + 3,
        "permanent-id": data.rindex(b"/ID [ <") + 10,
    }[target]
    out = bytearray(data)
    char = out[position]
    out[position] = (ord("1") if char == ord("0") else ord("0")) if chr(char) in "0123456789ABCDEFabcdef" else char ^ 1
    problems = _check(tmp_path, bytes(out), [pki.root_ca])
    assert any(expected in p for p in problems), problems
