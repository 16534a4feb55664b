"""Issue 5: PAdES B-T/B-LT/B-LTA against the TEST PKI's real responders (certomancer on loopback),
PKCS#12 and SoftHSM2 keys, offline validation, refusal of revoked/expired signers, renewal."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import DocumentSecurityStore

from pipeline.devtools import find_test_pki, make_test_seal, pdfsig_check
from pipeline.devtools.responders import Responders, responder_urls
from pipeline.devtools.softhsm import provision_test_token
from pipeline.sign import (
    SignerConfig,
    SigningError,
    SignPolicy,
    sign_pdf,
    verify_pdf,
)
from pipeline.sign.pdfa import signed_pdfa_problems
from pipeline.sign.renewal import add_document_timestamp, needs_renewal, timestamp_expiry

LEVELS = ["B-B", "B-T", "B-LT", "B-LTA"]
KEYS = ["pkcs12", "softhsm"]


@pytest.fixture(scope="module")
def token(pki, tmp_path_factory) -> SignerConfig:
    config, env = provision_test_token(pki, tmp_path_factory.mktemp("softhsm"))
    os.environ.update(env)  # SoftHSM2 reads SOFTHSM2_CONF when its module is first loaded
    return config


@pytest.fixture(scope="module")
def signed(pki, pdfa, signer, token, tmp_path_factory) -> dict[tuple[str, str], Path]:
    """Every level with both key kinds, signed while the responders run; they are stopped after,
    so every check below validates offline from what the files carry."""
    out_dir = tmp_path_factory.mktemp("levels")
    files = {}
    with Responders(pki.directory):
        for key, config in (("pkcs12", signer), ("softhsm", token)):
            for level in LEVELS:
                out = out_dir / f"{key}-{level}.pdf"
                policy = SignPolicy(
                    level=level,
                    tsa_url=pki.tsa_url,
                    trust_roots=(pki.root_ca,),
                    agency_name="Cơ quan Thử nghiệm",
                    reason="Số hóa từ bản giấy",
                )
                info = sign_pdf(pdfa, out, config, policy)
                assert info.level == level
                files[(key, level)] = out
    return files


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("level", LEVELS)
def test_each_level_validates_offline_with_pyhanko_and_pdfsig(signed, pki, key, level, tmp_path):
    path = signed[(key, level)]
    report = verify_pdf(path, [pki.root_ca], online=False)  # responders are stopped
    if level in ("B-LT", "B-LTA"):  # the revocation data is in the file
        assert report.valid and report.status == "valid", report.problems
    else:  # nothing in the file says the signer was not revoked: not valid, but not proven invalid either
        assert not report.valid and report.status == "indeterminate"
        assert [p for p in report.problems if "revocation could not be checked" not in p] == []
        assert report.intact and report.trusted and report.covers_whole_document
    assert report.level == level
    assert report.ltv is (level in ("B-LT", "B-LTA"))
    assert report.timestamp_valid is (None if level == "B-B" else True)
    assert report.document_timestamps == (1 if level == "B-LTA" else 0)
    if level in ("B-LT", "B-LTA"):
        assert report.revocation == "good (embedded revocation data)"
    result = pdfsig_check(path, [pki.root_ca], tmp_path / "nss")
    assert result.valid and result.trusted, result.output


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("level", LEVELS)
def test_pdfa_survives_every_level(signed, pdfa, key, level):
    path = signed[(key, level)]
    assert path.read_bytes().startswith(pdfa.read_bytes())
    assert signed_pdfa_problems(path) == []
    check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout


def test_b_lt_embeds_revocation_data(signed):
    with signed[("pkcs12", "B-LT")].open("rb") as fh:
        dss = DocumentSecurityStore.read_dss(PdfFileReader(fh, strict=False))
        assert dss.crls, "the CRL-only agency certificate needs CRLs in the DSS"
        assert len(list(dss.load_certs())) >= 3  # signer chain + TSA


def test_ocsp_certificate_gets_ocsp_responses_embedded(pki, pdfa, tmp_path):
    out = tmp_path / "ocsp.pdf"
    with Responders(pki.directory):
        sign_pdf(
            pdfa,
            out,
            SignerConfig(pki.agency_ocsp_p12, pki.password),
            SignPolicy(level="B-LT", tsa_url=pki.tsa_url, trust_roots=(pki.root_ca,)),
        )
    with out.open("rb") as fh:
        assert DocumentSecurityStore.read_dss(PdfFileReader(fh, strict=False)).ocsps
    report = verify_pdf(out, [pki.root_ca], online=False)
    assert report.valid and report.ltv, report.problems


@pytest.mark.parametrize("level", ["B-LT", "B-LTA"])
def test_tampering_long_term_files_is_detected(signed, pki, level, tmp_path):
    data = bytearray(signed[("pkcs12", level)].read_bytes())
    position = data.index(b"stream", data.index(b"/Length")) + 20
    data[position] ^= 0x01
    tampered = tmp_path / "t.pdf"
    tampered.write_bytes(bytes(data))
    report = verify_pdf(tampered, [pki.root_ca], online=False)
    assert not report.valid and not report.intact
    assert any("altered" in p for p in report.problems), report.problems
    assert not pdfsig_check(tampered, [pki.root_ca], tmp_path / "nss").valid


def test_revoked_and_expired_signers_are_refused(pki, pdfa, tmp_path):
    with Responders(pki.directory):
        for level in ("B-B", "B-LTA"):
            policy = SignPolicy(level=level, tsa_url=pki.tsa_url, trust_roots=(pki.root_ca,))
            with pytest.raises(SigningError, match="revoked"):
                sign_pdf(pdfa, tmp_path / "r.pdf", SignerConfig(pki.revoked_p12, pki.password), policy)
            with pytest.raises(SigningError, match="expired"):
                sign_pdf(pdfa, tmp_path / "e.pdf", SignerConfig(pki.expired_p12, pki.password), policy)
    assert not list(tmp_path.glob("*.pdf"))


def test_long_term_levels_fail_clearly_without_responders(pki, pdfa, signer, tmp_path):
    policy = SignPolicy(level="B-LT", tsa_url=pki.tsa_url, trust_roots=(pki.root_ca,))
    with pytest.raises(SigningError) as err:
        sign_pdf(pdfa, tmp_path / "x.pdf", signer, policy)
    assert "\n" not in str(err.value)


def test_renewal_adds_a_document_timestamp(signed, pki, tmp_path):
    source = signed[("pkcs12", "B-LTA")]
    assert timestamp_expiry(source) is not None
    renewed = tmp_path / "renewed.pdf"
    with Responders(pki.directory):
        add_document_timestamp(source, renewed, pki.tsa_url, [pki.root_ca])
    assert renewed.read_bytes().startswith(source.read_bytes())
    report = verify_pdf(renewed, [pki.root_ca], online=False)
    assert report.valid and report.level == "B-LTA" and report.document_timestamps == 2, report.problems
    with pytest.raises(SigningError, match="no document timestamp"):
        add_document_timestamp(signed[("pkcs12", "B-T")], tmp_path / "x.pdf", pki.tsa_url, [pki.root_ca])


def test_visible_stamp_at_b_lta_with_a_token(pki, pdfa, token, tmp_path):
    out = tmp_path / "visible-lta.pdf"
    policy = SignPolicy(
        level="B-LTA",
        tsa_url=pki.tsa_url,
        trust_roots=(pki.root_ca,),
        visible=True,
        agency_name="Sở Nội vụ Tỉnh Thử Nghiệm",
        seal_png=make_test_seal(tmp_path / "seal.png"),
    )
    with Responders(pki.directory):
        info = sign_pdf(pdfa, out, token, policy)
    assert info.visible and info.level == "B-LTA"
    report = verify_pdf(out, [pki.root_ca], online=False)
    assert report.valid and report.level == "B-LTA" and report.ltv, report.problems
    assert signed_pdfa_problems(out) == []
    assert pdfsig_check(out, [pki.root_ca], tmp_path / "nss").all_valid_and_trusted


def test_renewal_is_due_when_the_tsa_certificate_nears_expiry(signed):
    path = signed[("pkcs12", "B-LTA")]
    expiry = timestamp_expiry(path)
    days_left = (expiry - datetime.now(UTC)).days
    assert 3000 < days_left < 3700  # the TEST TSA certificate lives 10 years
    assert not needs_renewal(path, within_days=365)
    assert needs_renewal(path, within_days=days_left + 1)
    assert timestamp_expiry(signed[("pkcs12", "B-T")]) == expiry  # signature timestamp, same TSA
    assert timestamp_expiry(signed[("pkcs12", "B-B")]) is None


def test_find_test_pki_recognises_test_material_only(pki, tmp_path):
    assert find_test_pki(pki.agency_p12) == pki
    (tmp_path / "real.p12").write_bytes(b"x")
    assert find_test_pki(tmp_path / "real.p12") is None
    assert find_test_pki(None) is None


def test_wrong_pin_is_refused_without_echoing_it(token, pdfa, tmp_path):
    bad = SignerConfig(
        pkcs11_module=token.pkcs11_module,
        pkcs11_token_label=token.pkcs11_token_label,
        pkcs11_key_label=token.pkcs11_key_label,
        pkcs11_pin="987654",
        chain=token.chain,
    )
    with pytest.raises(SigningError, match="PIN") as err:
        sign_pdf(pdfa, tmp_path / "x.pdf", bad, SignPolicy())
    assert "987654" not in str(err.value)


def test_responders_refuse_a_port_the_certificates_do_not_name(pki):
    urls = responder_urls(pki.directory)
    assert urls["tsa"] == pki.tsa_url and urls["tsa"].startswith("http://127.0.0.1:")
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.devtools.responders", "--pki-dir", str(pki.directory), "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "expects its responders on port" in proc.stderr


def test_unsigned_page_change_after_b_lta_fails(signed, pki, tmp_path):
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    changed = tmp_path / "changed.pdf"
    with signed[("pkcs12", "B-LTA")].open("rb") as inf:
        writer = IncrementalPdfFileWriter(inf, strict=False)
        page = writer.root["/Pages"]["/Kids"][1].get_object()
        extra = writer.add_object(generic.StreamObject(stream_data=b"BT /F1 30 Tf 50 50 Td (VOID) Tj ET"))
        page["/Contents"] = generic.ArrayObject([page.raw_get("/Contents"), extra])
        writer.update_container(page)
        with changed.open("wb") as out:
            writer.write(out)
    report = verify_pdf(changed, [pki.root_ca], online=False)
    assert not report.valid and not report.covers_whole_document
    assert any("changed after signing" in p for p in report.problems), report.problems
