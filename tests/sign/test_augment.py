"""Signed originals (issue 10): inspect a sender's signatures and preserve them by B-LTA augmentation.

Real parts only: pyHanko signs the "sender" PDF with the TEST PKI, the TEST responders (OCSP, CRL,
TSA) answer, ``verify_pdf`` and poppler's ``pdfsig`` check the result.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyhanko.sign import fields

from pipeline.devtools import pdfsig_check
from pipeline.devtools.responders import Responders
from pipeline.sign import SigningError, augment_to_lta, inspect_incoming, verify_pdf
from tests.sign.helpers import free_port, pyhanko_sign

PADES = {"subfilter": fields.SigSeedSubFilter.PADES}


@pytest.fixture(scope="module")
def responders(pki):
    with Responders(pki.directory):
        yield


@pytest.fixture(scope="module")
def sender(pki, pdfa, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sender") / "sender.pdf"
    return pyhanko_sign(pdfa, out, pki.agency_p12, pki.password, **PADES)


def _prefix_kept(src: Path, dst: Path) -> bool:
    original, result = src.read_bytes(), dst.read_bytes()
    return result.startswith(original) and len(result) > len(original)


def test_inspect_reports_the_sender(pki, sender, responders):
    found = inspect_incoming(sender, pki.trust_roots)
    assert found.signed and found.status == "valid", found
    (sig,) = found.signatures
    assert sig.field_name == "AgencySignature"
    assert "TEST" in sig.signer_subject and sig.signed_at is not None
    assert sig.status == "valid" and sig.level == "B-B" and sig.covers_whole_document
    assert found.document_timestamps == 0


def test_augment_keeps_the_original_bytes_and_reaches_lta(pki, sender, responders, tmp_path):
    dst = tmp_path / "archived.pdf"
    info = augment_to_lta(sender, dst, pki.trust_roots, pki.tsa_url)
    assert _prefix_kept(sender, dst)
    assert info.src_size == sender.stat().st_size and info.missing == []
    assert info.timestamp_valid and info.timestamped_at is not None
    assert info.level == "B-LTA" and info.status == "valid", info

    report = verify_pdf(dst, pki.trust_roots)
    assert report.valid and report.status == "valid", report.summary()
    assert report.document_timestamps == 2 and report.covers_whole_document

    found = inspect_incoming(dst, pki.trust_roots, online=False)  # offline: the DSS alone suffices
    (sig,) = found.signatures
    assert sig.status == "valid" and sig.level == "B-LTA" and sig.ltv, sig
    assert sig.covers_signed_revision and not sig.covers_whole_document

    poppler = pdfsig_check(dst, [pki.root_ca], tmp_path / "nss")
    assert poppler.all_valid_and_trusted, poppler.output
    assert len(poppler.signer_signatures) == 1
    assert sum(s.is_document_timestamp for s in poppler.signatures) == 2, poppler.output


def test_revoked_sender_is_reported_but_kept_byte_for_byte(pki, pdfa, responders, tmp_path):
    revoked = pyhanko_sign(pdfa, tmp_path / "revoked.pdf", pki.revoked_p12, pki.password, **PADES)
    found = inspect_incoming(revoked, pki.trust_roots)
    (sig,) = found.signatures
    assert found.status == "invalid" and sig.status == "invalid"
    assert any("revoked" in p for p in sig.problems), sig.problems

    dst = tmp_path / "revoked-archived.pdf"
    info = augment_to_lta(revoked, dst, pki.trust_roots, pki.tsa_url)
    assert _prefix_kept(revoked, dst)
    assert info.timestamp_valid
    assert any("revoked" in m for m in info.missing), info.missing  # the record says so
    (after,) = info.signatures
    assert after.status == "invalid" and after.intact and after.covers_signed_revision


def test_two_signatures_both_stay_valid(pki, sender, responders, tmp_path):
    second = tmp_path / "two.pdf"
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    key = signers.SimpleSigner.load_pkcs12(str(pki.agency_ocsp_p12), passphrase=pki.password.encode())
    with sender.open("rb") as fh:
        writer = IncrementalPdfFileWriter(fh, strict=False)
        meta = signers.PdfSignatureMetadata(field_name="CoSignature", md_algorithm="sha256", **PADES)
        second.write_bytes(signers.PdfSigner(meta, key).sign_pdf(writer).getvalue())

    found = inspect_incoming(second, pki.trust_roots)
    assert [s.field_name for s in found.signatures] == ["AgencySignature", "CoSignature"]
    assert all(s.status == "valid" for s in found.signatures), found

    dst = tmp_path / "two-archived.pdf"
    info = augment_to_lta(second, dst, pki.trust_roots, pki.tsa_url)
    assert _prefix_kept(second, dst)
    assert [s.status for s in info.signatures] == ["valid", "valid"], info
    assert all(s.level == "B-LTA" for s in info.signatures)
    poppler = pdfsig_check(dst, [pki.root_ca], tmp_path / "nss")
    assert len(poppler.signer_signatures) == 2 and poppler.valid, poppler.output


def test_offline_revocation_is_reported_not_raised(pki, sender, responders, tmp_path):
    """No OCSP/CRL fetching allowed: the document timestamp is still added, the gap recorded."""
    dst = tmp_path / "offline.pdf"
    info = augment_to_lta(sender, dst, pki.trust_roots, pki.tsa_url, online=False)
    assert _prefix_kept(sender, dst) and info.timestamp_valid
    assert any("AgencySignature" in m and "revocation" in m for m in info.missing), info.missing


def test_tsa_failure_raises_one_line(pki, sender, tmp_path):
    dead = f"http://127.0.0.1:{free_port()}/tsa"
    with pytest.raises(SigningError) as err:
        augment_to_lta(sender, tmp_path / "x.pdf", pki.trust_roots, dead, online=False)
    assert "\n" not in str(err.value) and "time-stamping authority" in str(err.value), err.value
    assert not (tmp_path / "x.pdf").exists()


def test_unsigned_input_is_refused(pki, pdfa, tmp_path):
    assert not inspect_incoming(pdfa, pki.trust_roots, online=False).signed
    with pytest.raises(SigningError, match="no signature"):
        augment_to_lta(pdfa, tmp_path / "x.pdf", pki.trust_roots, "http://127.0.0.1:1/tsa", online=False)
