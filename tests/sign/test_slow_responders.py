"""A revoked certificate stays refused when the OCSP answer is late or missing while the CRL answers.

The TEST PKI's CRLs are issued on a 7-day schedule, so the current one predates the revocation of the
``revoked`` certificate (an hour before the PKI was made) and does not list it: only OCSP says "revoked", as
with a real CA between two CRLs. pyHanko used to drop an OCSP answer dated more than a second after its
validation context was made ("too recent") and to fall back to that CRL: on a loaded machine the archive then
signed with the revoked certificate (CI: "DID NOT RAISE SigningError"). Real responders with real faults.
"""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from asn1crypto import crl
from pyhanko.sign import fields

from pipeline.devtools.responders import Responders
from pipeline.sign import SignerConfig, SigningError, SignPolicy, TestPki, sign_pdf, verify_pdf
from pipeline.sign.keys import open_signer
from tests.sign.helpers import pyhanko_sign

LATE = 1.5  # seconds per answer: the OCSP answer comes about 3 s after the check began (CRL of the chain first)
REVOKED = "the agency certificate is revoked, not signing"


def _serial(p12: Path, password: str) -> int:
    with open_signer(SignerConfig(p12, password)) as key:
        return key.signing_cert.serial_number


def test_the_current_crl_does_not_list_the_recent_revocation(pki: TestPki) -> None:
    """The premise of the tests below: only the OCSP responder knows the certificate is revoked."""
    with Responders(pki.directory):
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        data = opener.open(pki.crl_url, timeout=30).read()
    revoked = crl.CertificateList.load(data)["tbs_cert_list"]["revoked_certificates"]
    listed = {entry["user_certificate"].native for entry in revoked} if revoked.native else set()
    assert _serial(pki.revoked_p12, pki.password) not in listed


def test_a_late_ocsp_answer_still_refuses_the_revoked_certificate(pki: TestPki, pdfa: Path, tmp_path: Path) -> None:
    with Responders(pki.directory, delay_s=LATE):
        for mode in ("hard-fail", "require"):
            policy = SignPolicy(trust_roots=(pki.root_ca,), revocation_mode=mode)
            with pytest.raises(SigningError, match=REVOKED):
                sign_pdf(pdfa, tmp_path / "r.pdf", SignerConfig(pki.revoked_p12, pki.password), policy)
            # a slow responder is still an answer: the good OCSP certificate signs
            ocsp_signer = SignerConfig(pki.agency_ocsp_p12, pki.password)
            assert sign_pdf(pdfa, tmp_path / f"{mode}.pdf", ocsp_signer, policy).level == "B-B"
    assert not (tmp_path / "r.pdf").exists()


def test_ocsp_down_with_the_crl_up_refuses_a_certificate_that_names_ocsp(
    pki: TestPki, pdfa: Path, signer: SignerConfig, tmp_path: Path
) -> None:
    """The CRL alone would call the revoked certificate good: a certificate naming OCSP needs its answer."""
    policy = SignPolicy(trust_roots=(pki.root_ca,))
    with Responders(pki.directory, ocsp_down=True):
        for p12 in (pki.revoked_p12, pki.agency_ocsp_p12):
            with pytest.raises(SigningError) as err:
                sign_pdf(pdfa, tmp_path / "x.pdf", SignerConfig(p12, pki.password), policy)
            message = str(err.value)
            assert "its OCSP responder must answer" in message and pki.ocsp_url in message, message
            assert "\n" not in message
        assert sign_pdf(pdfa, tmp_path / "crl-only.pdf", signer, policy).level == "B-B"  # its CRL is its source
    assert not (tmp_path / "x.pdf").exists()


def test_a_late_ocsp_answer_still_makes_a_revoked_signature_invalid(
    pki: TestPki, pdfa: Path, tmp_path: Path
) -> None:
    signed = pyhanko_sign(
        pdfa, tmp_path / "revoked.pdf", pki.revoked_p12, pki.password, subfilter=fields.SigSeedSubFilter.PADES
    )
    with Responders(pki.directory, delay_s=LATE):
        report = verify_pdf(signed, [pki.root_ca])
    assert (report.valid, report.status, report.revocation) == (False, "invalid", "revoked"), report.problems
