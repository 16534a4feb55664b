"""Point a configuration at the TEST PKI explicitly: its key, trust anchor, TSA and a generated TEST seal,
and mark the configuration as TEST so that the signer accepts TEST material."""

from __future__ import annotations

from typing import Any

from pipeline.core.settings import Settings
from pipeline.devtools.seal import make_test_seal
from pipeline.sign.model import TestPki

SEAL_NAME = "seal-TEST.png"


def test_pki_changes(pki: TestPki) -> dict[str, Any]:
    """The settings (``section.key`` → value) that select the TEST PKI; the password is a secret."""
    seal = pki.directory / SEAL_NAME
    if not seal.is_file():
        make_test_seal(seal)
    return {
        "sign.pkcs12_path": str(pki.agency_p12),
        "sign.pkcs12_password": pki.password,
        "sign.trust_roots": [str(pki.root_ca)],
        "sign.tsa_url": pki.tsa_url,
        "sign.seal_png": str(seal),
        "sign.test_material": True,
    }


def use_test_pki(settings: Settings, pki: TestPki) -> Settings:
    for name, value in test_pki_changes(pki).items():
        setattr(settings.sign, name.split(".", 1)[1], value)
    return settings
