"""Issue 9, finding 4: revocation is never soft. Signing needs an OCSP/CRL answer at every level; a
verification that cannot establish the signer's revocation status (no answer, nothing embedded) is
"indeterminate", not "valid". Real TEST PKI, real responders (certomancer on loopback), real pyHanko."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyhanko.keys import load_cert_from_pemder
from pyhanko.sign import fields
from pyhanko_certvalidator import ValidationContext

from pipeline.devtools.responders import Responders
from pipeline.sign import SignerConfig, SigningError, SignPolicy, sign_pdf, verify_pdf
from tests.sign.helpers import pyhanko_sign

UNREACHABLE = "cannot check whether the agency certificate is revoked"


@pytest.fixture(scope="module")
def revoked_signature(pki, pdfa, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("revoked") / "revoked-b-b.pdf"
    return pyhanko_sign(pdfa, out, pki.revoked_p12, pki.password, subfilter=fields.SigSeedSubFilter.PADES)


@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LTA"])
def test_signing_is_refused_when_the_responders_do_not_answer(pki, pdfa, signer, tmp_path, level):
    policy = SignPolicy(level=level, tsa_url=pki.tsa_url, trust_roots=(pki.root_ca,))
    with pytest.raises(SigningError) as err:
        sign_pdf(pdfa, tmp_path / "x.pdf", signer, policy)  # the responders are not running
    message = str(err.value)
    assert message.startswith(UNREACHABLE) and message.endswith("(OCSP/CRL unreachable); not signing"), message
    assert pki.crl_url in message  # names the source the operator must make reachable
    assert "\n" not in message and list(tmp_path.iterdir()) == []


def test_soft_fail_cannot_be_configured(pki, pdfa, signer, tmp_path):
    with pytest.raises(SigningError, match="revocation mode 'soft-fail' is not allowed"):
        sign_pdf(pdfa, tmp_path / "x.pdf", signer, SignPolicy(trust_roots=(pki.root_ca,), revocation_mode="soft-fail"))
    assert SignPolicy().revocation_mode == "hard-fail"


def test_revoked_certificate_is_refused_and_require_mode_signs(pki, pdfa, signer, tmp_path):
    with Responders(pki.directory):
        for mode in ("hard-fail", "require"):
            policy = SignPolicy(trust_roots=(pki.root_ca,), revocation_mode=mode)
            with pytest.raises(SigningError, match="the agency certificate is revoked, not signing") as err:
                sign_pdf(pdfa, tmp_path / "r.pdf", SignerConfig(pki.revoked_p12, pki.password), policy)
            assert UNREACHABLE not in str(err.value)
            assert sign_pdf(pdfa, tmp_path / f"{mode}.pdf", signer, policy).level == "B-B"
    assert not (tmp_path / "r.pdf").exists()


def test_local_problems_are_reported_before_the_responders_are_asked(pki, pdfa, signer, signed_bb, tmp_path):
    """No responders running: the input and the seal are checked first, with their own reasons."""
    with pytest.raises(SigningError, match="already has a signature"):
        sign_pdf(signed_bb[0], tmp_path / "x.pdf", signer, SignPolicy(trust_roots=(pki.root_ca,)))
    with pytest.raises(SigningError, match="no agency seal configured"):
        sign_pdf(pdfa, tmp_path / "x.pdf", signer, SignPolicy(visible=True, trust_roots=(pki.root_ca,)))
    (tmp_path / "not.pdf").write_bytes(b"not a pdf")
    with pytest.raises(SigningError, match=r"cannot read not\.pdf as PDF"):
        sign_pdf(tmp_path / "not.pdf", tmp_path / "x.pdf", signer, SignPolicy(trust_roots=(pki.root_ca,)))


def test_revoked_signature_offline_is_indeterminate_not_valid(revoked_signature, pki):
    report = verify_pdf(revoked_signature, [pki.root_ca], online=False)
    assert (report.valid, report.status) == (False, "indeterminate")
    assert report.intact and report.trusted and report.covers_whole_document  # nothing else is wrong
    assert report.revocation.startswith("unknown: could not be checked")
    assert len(report.problems) == 1 and "revocation could not be checked" in report.problems[0]
    assert report.summary().startswith("INDETERMINATE  PAdES B-B")
    assert report.to_dict()["status"] == "indeterminate"


def test_revoked_signature_online_is_invalid(revoked_signature, pki):
    with Responders(pki.directory):
        report = verify_pdf(revoked_signature, [pki.root_ca])
    assert (report.valid, report.status, report.revocation) == (False, "invalid", "revoked")
    assert any("the signer certificate is revoked" in p for p in report.problems), report.problems


def test_indeterminate_gives_way_to_any_other_finding(revoked_signature, pki, tmp_path):
    """Unknown revocation plus a real defect is invalid: indeterminate means 'nothing else is wrong'."""
    report = verify_pdf(revoked_signature, [pki.root_ca], online=False, expected_sha256="0" * 64)
    assert (report.valid, report.status) == (False, "invalid")
    appended = tmp_path / "appended.pdf"
    appended.write_bytes(revoked_signature.read_bytes() + b"appended")
    assert verify_pdf(appended, [pki.root_ca], online=False).status == "invalid"


def test_revocation_data_inside_the_signature_counts_offline(pki, pdfa, tmp_path):
    """A CMS signature carrying its own CRL (Adobe revocation-info attribute) is checked from it offline."""
    roots = [load_cert_from_pemder(str(pki.root_ca))]
    out = tmp_path / "adobe-revinfo.pdf"
    with Responders(pki.directory):
        context = ValidationContext(trust_roots=roots, allow_fetching=True, revocation_mode="hard-fail")
        pyhanko_sign(
            pdfa,
            out,
            pki.agency_p12,
            pki.password,
            subfilter=fields.SigSeedSubFilter.ADOBE_PKCS7_DETACHED,
            embed_validation_info=True,
            validation_context=context,
        )
    report = verify_pdf(out, [pki.root_ca], online=False)
    assert report.valid and report.status == "valid", report.problems
    assert report.revocation.startswith("good (revocation data embedded in the file")


def test_long_term_signature_stays_valid_offline(signed_lt, pki):
    report = verify_pdf(signed_lt, [pki.root_ca], online=False)
    assert report.valid and report.status == "valid" and report.revocation == "good (embedded revocation data)"


@pytest.fixture(scope="module")
def signed_lt(pki, pdfa, signer, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lt") / "b-lt.pdf"
    with Responders(pki.directory):
        sign_pdf(pdfa, out, signer, SignPolicy(level="B-LT", tsa_url=pki.tsa_url, trust_roots=(pki.root_ca,)))
    return out
