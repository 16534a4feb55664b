"""A signer certificate that names no OCSP responder and no CRL cannot have its revocation status
established: verification says so and is indeterminate, never "good"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pipeline.sign import SignerConfig, SigningError, SignPolicy, sign_pdf, verify_pdf
from tests.sign.helpers import pyhanko_sign


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Không có nguồn thu hồi")])


def _ca_and_p12(folder: Path, password: str) -> tuple[Path, Path]:
    now = datetime.now(UTC)
    ca_key, key = rsa.generate_private_key(65537, 2048), rsa.generate_private_key(65537, 2048)
    ca = (x509.CertificateBuilder().subject_name(_name("CA")).issuer_name(_name("CA"))
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now - timedelta(days=1))
          .not_valid_after(now + timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(_name("Signer")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(2).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))  # no CRL distribution point, no OCSP URL
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    root = folder / "ca.pem"
    root.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    p12 = folder / "signer.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"signer", key, leaf, [ca], serialization.BestAvailableEncryption(password.encode())))
    return root, p12


def test_a_signer_without_revocation_source_is_indeterminate(pdfa: Path, tmp_path: Path) -> None:
    root, p12 = _ca_and_p12(tmp_path, "pw")
    signed = pyhanko_sign(pdfa, tmp_path / "signed.pdf", p12, "pw")
    report = verify_pdf(signed, [root])
    assert report.trusted and report.intact and report.covers_whole_document
    assert report.valid is False and report.status == "indeterminate"
    assert report.revocation == "not checkable: the signer certificate names no OCSP responder and no CRL"
    assert any("names no OCSP responder and no CRL" in p for p in report.problems), report.problems


def test_signing_with_a_certificate_without_revocation_source_is_refused(pdfa: Path, tmp_path: Path) -> None:
    root, p12 = _ca_and_p12(tmp_path, "pw")
    with pytest.raises(SigningError) as caught:
        sign_pdf(pdfa, tmp_path / "out.pdf", SignerConfig(pkcs12_path=p12, pkcs12_password="pw"),
                 SignPolicy(trust_roots=(root,)))
    assert str(caught.value).startswith("the agency certificate names no OCSP responder and no CRL")
    assert not (tmp_path / "out.pdf").exists()
