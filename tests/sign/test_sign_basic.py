"""Skeleton signing (issue 3): PAdES B-B with a PKCS#12 key, checked by pyHanko and by poppler's pdfsig."""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import timedelta

import pikepdf.pdfa
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from pipeline.devtools import pdfsig_check
from pipeline.devtools.responders import Responders
from pipeline.sign import (
    SignerConfig,
    SigningError,
    SignPolicy,
    pdfa_claim,
    sign_pdf,
    verify_pdf,
)
from tests.sign.helpers import free_port


def test_b_b_signature_validates_with_pyhanko_and_pdfsig(signed_bb, pki, tmp_path):
    out, info = signed_bb
    with Responders(pki.directory):  # a B-B signature carries no revocation data: the responders answer
        report = verify_pdf(out, [pki.root_ca])
    assert report.valid and report.status == "valid", report.problems
    assert report.revocation == "good (checked now)"
    assert (report.intact, report.trusted, report.covers_whole_document) == (True, True, True)
    assert report.level == "B-B" and report.ltv is False
    assert "TEST" in report.signer and report.signer == info.signer_subject
    assert report.problems == []
    result = pdfsig_check(out, [pki.root_ca], tmp_path / "nss")
    assert result.valid and result.trusted, result.output
    [sig] = result.signatures
    assert sig.field_name == "AgencySignature" and sig.total_document_signed
    assert sig.signature_type == "ETSI.CAdES.detached"  # PAdES subfilter


def test_signature_info_describes_the_signer(signed_bb, pki):
    _out, info = signed_bb
    _key, cert, _chain = pkcs12.load_key_and_certificates(pki.agency_p12.read_bytes(), pki.password.encode())
    assert info.signer_cert_sha256 == hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()
    assert info.signer_subject == cert.subject.rfc4514_string()
    assert info.level == "B-B" and info.field_name == "AgencySignature"
    assert info.signed_at.utcoffset() == timedelta(hours=7)
    assert info.tools["pyhanko"] == "0.38.0"


def test_untrusted_root_is_reported(signed_bb, tmp_path):
    other = tmp_path / "other-root.pem"
    from pipeline.devtools import init_test_pki

    other_pki = init_test_pki(tmp_path / "other")
    other.write_bytes(other_pki.root_ca.read_bytes())
    report = verify_pdf(signed_bb[0], [other])
    assert report.intact and not report.trusted and not report.valid
    assert any("not trusted" in p for p in report.problems)
    assert not pdfsig_check(signed_bb[0], [other], tmp_path / "nss").trusted


def test_incremental_update_keeps_pdfa(signed_bb, pdfa):
    out, _info = signed_bb
    original = pdfa.read_bytes()
    signed = out.read_bytes()
    assert signed.startswith(original), "signing must append, never rewrite"
    assert pikepdf.pdfa.validate_written(pdfa, "2b").passed  # the input really was PDF/A-2b
    assert pdfa_claim(out) == "2B"
    check = subprocess.run(["qpdf", "--check", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def _first_stream_offset(data: bytes) -> int:
    return data.index(b"stream", data.index(b"/Length")) + 20


@pytest.mark.parametrize("where", ["header-comment", "content-stream", "end-of-first-range"])
def test_flipped_byte_breaks_both_validators(signed_bb, pki, tmp_path, where):
    data = bytearray(signed_bb[0].read_bytes())
    contents = data.index(b"/Contents <")
    position = {"header-comment": 12, "content-stream": _first_stream_offset(data), "end-of-first-range": contents - 3}[
        where
    ]
    data[position] ^= 0x01
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(bytes(data))
    report = verify_pdf(tampered, [pki.root_ca])
    assert not report.valid and report.problems
    result = pdfsig_check(tampered, [pki.root_ca], tmp_path / "nss")
    assert result.returncode == 0  # pdfsig's exit code says nothing: its output is what counts
    assert not result.valid, result.output


def test_unsigned_update_changing_a_page_fails(signed_bb, pki, tmp_path):
    changed = tmp_path / "changed.pdf"
    with signed_bb[0].open("rb") as inf:
        writer = IncrementalPdfFileWriter(inf, strict=False)
        page = writer.root["/Pages"]["/Kids"][0].get_object()
        extra = generic.StreamObject(stream_data=b"BT /F1 24 Tf 100 100 Td (FORGED) Tj ET")
        page["/Contents"] = generic.ArrayObject([page.raw_get("/Contents"), writer.add_object(extra)])
        writer.update_container(page)
        with changed.open("wb") as out:
            writer.write(out)
    report = verify_pdf(changed, [pki.root_ca])
    assert report.intact  # the signed revision itself is untouched ...
    assert not report.covers_whole_document and not report.valid  # ... but the file is not what was signed
    assert any("changed after signing" in p for p in report.problems), report.problems


def test_expired_signer_is_refused(pki, pdfa, tmp_path):
    with pytest.raises(SigningError, match="expired"):
        sign_pdf(pdfa, tmp_path / "x.pdf", SignerConfig(pki.expired_p12, pki.password), SignPolicy())
    assert not (tmp_path / "x.pdf").exists()


def test_bad_key_material_gives_one_line_reason(pki, pdfa, tmp_path):
    with pytest.raises(SigningError, match="wrong password") as err:
        sign_pdf(pdfa, tmp_path / "x.pdf", SignerConfig(pki.agency_p12, "not-the-password"), SignPolicy())
    assert "\n" not in str(err.value) and "not-the-password" not in str(err.value)
    with pytest.raises(SigningError, match="not found"):
        sign_pdf(pdfa, tmp_path / "x.pdf", SignerConfig(tmp_path / "missing.p12", "x"), SignPolicy())
    with pytest.raises(SigningError, match="needs a time-stamping authority"):
        sign_pdf(pdfa, tmp_path / "x.pdf", SignerConfig(pki.agency_p12, pki.password), SignPolicy(level="B-T"))
    with pytest.raises(SigningError, match="unknown PAdES level"):
        sign_pdf(pdfa, tmp_path / "x.pdf", SignerConfig(pki.agency_p12, pki.password), SignPolicy(level="B-X"))


def test_signing_twice_into_the_same_field_is_refused(signed_bb, signer, tmp_path):
    with pytest.raises(SigningError, match="already has a signature"):
        sign_pdf(signed_bb[0], tmp_path / "again.pdf", signer, SignPolicy())


def test_report_is_json_ready(signed_bb, pki):
    data = json.loads(json.dumps(verify_pdf(signed_bb[0], [pki.root_ca]).to_dict()))
    assert {"valid", "level", "ltv", "signer", "signed_at", "pdfa"} <= data.keys()
    assert data["signed_at"].endswith("+07:00") and data["pdfa"] == "2B"


def test_unsigned_file_is_not_valid(pdfa, pki, tmp_path):
    report = verify_pdf(pdfa, [pki.root_ca])
    assert not report.valid and report.problems == ["the document has no signature"]
    result = pdfsig_check(pdfa, [pki.root_ca], tmp_path / "nss")
    assert result.signatures == [] and not result.valid


def test_secrets_stay_out_of_repr(pki):
    config = SignerConfig(pki.agency_p12, pki.password, pkcs11_pin="1234")
    assert pki.password not in repr(config) and "1234" not in repr(config)
    assert pki.password not in repr(pki)


def test_test_pki_is_clearly_test_material(pki):
    from cryptography import x509

    root = x509.load_pem_x509_certificate(pki.root_ca.read_bytes())
    assert "TEST" in root.subject.rfc4514_string()
    _k, agency, _c = pkcs12.load_key_and_certificates(pki.agency_p12.read_bytes(), pki.password.encode())
    assert "TEST" in agency.subject.rfc4514_string()
    assert (pki.agency_p12.stat().st_mode & 0o077) == 0  # key material is private to its owner


def test_init_test_pki_reopens_an_existing_pki(pki):
    from pipeline.devtools import init_test_pki

    again = init_test_pki(pki.directory)
    assert again.root_ca.read_bytes() == pki.root_ca.read_bytes()
    assert again.agency_p12 == pki.agency_p12


def test_failed_signing_leaves_no_file(pki, pdfa, tmp_path):
    out_dir = tmp_path / "out"
    policy = SignPolicy(level="B-T", tsa_url=f"http://127.0.0.1:{free_port()}/tsa", trust_roots=(pki.root_ca,))
    with Responders(pki.directory), pytest.raises(SigningError, match="time-stamping authority failed"):
        sign_pdf(pdfa, out_dir / "x.pdf", SignerConfig(pki.agency_p12, pki.password), policy)
    assert list(out_dir.iterdir()) == []  # neither the output nor a temporary file


def test_defaults_sign_at_b_lta_when_a_tsa_is_configured(pki):
    from pipeline.sign import resolve_level, visible_for

    tsa = pki.tsa_url
    assert resolve_level("", tsa) == "B-LTA" and resolve_level("", "") == "B-B"
    assert resolve_level("b-t", tsa) == "B-T"
    with pytest.raises(SigningError):
        resolve_level("B-Z", tsa)
    assert visible_for("scanned") and visible_for("mixed") and not visible_for("born_digital")
    assert visible_for("born_digital", visible_born_digital=True)


def test_test_material_signs_only_in_a_test_configuration(pdfa, signer, tmp_path):
    # Regression: production configurations silently signed with TEST material (seal, TSA) before.
    with pytest.raises(SigningError, match="TEST material"):
        sign_pdf(pdfa, tmp_path / "x.pdf", signer, SignPolicy(allow_test_material=False))
    assert not (tmp_path / "x.pdf").exists()
