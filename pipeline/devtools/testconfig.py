"""Point a configuration at the TEST PKI explicitly: its key, trust anchor, TSA and a generated TEST seal,
and mark the configuration as TEST so that the signer accepts TEST material."""

from __future__ import annotations

from pipeline.core.settings import Settings
from pipeline.devtools.seal import make_test_seal
from pipeline.sign.model import TestPki

SEAL_NAME = "seal-TEST.png"


def use_test_pki(settings: Settings, pki: TestPki) -> Settings:
    seal = pki.directory / SEAL_NAME
    if not seal.is_file():
        make_test_seal(seal)
    settings.sign.pkcs12_path = str(pki.agency_p12)
    settings.sign.pkcs12_password = pki.password
    settings.sign.trust_roots = [str(pki.root_ca)]
    settings.sign.tsa_url = pki.tsa_url
    settings.sign.seal_png = str(seal)
    settings.sign.test_material = True
    return settings
