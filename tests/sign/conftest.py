"""Fixtures of the signature-stage tests: one TEST PKI and one PDF/A input per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.devtools import init_test_pki
from pipeline.devtools.responders import Responders
from pipeline.sign import SignerConfig, SignPolicy, TestPki, sign_pdf
from tests.sign.helpers import free_port, make_pdfa


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    # The responder URL (baked into the certificates) gets a free port so a test can serve it.
    return init_test_pki(tmp_path_factory.mktemp("pki"), port=free_port())


@pytest.fixture(scope="session")
def pdfa(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pdfa(tmp_path_factory.mktemp("input") / "thong-bao.pdf")


@pytest.fixture(scope="session")
def signer(pki: TestPki) -> SignerConfig:
    return SignerConfig(pkcs12_path=pki.agency_p12, pkcs12_password=pki.password)


@pytest.fixture(scope="session")
def signed_bb(tmp_path_factory: pytest.TempPathFactory, pki: TestPki, pdfa: Path, signer: SignerConfig):
    out = tmp_path_factory.mktemp("signed") / "b-b.pdf"
    policy = SignPolicy(
        reason="Số hóa từ bản giấy", location="Hà Nội", agency_name="Cơ quan Thử nghiệm", trust_roots=(pki.root_ca,)
    )
    with Responders(pki.directory):  # signing needs a revocation answer, at B-B too
        info = sign_pdf(pdfa, out, signer, policy)
    return out, info
